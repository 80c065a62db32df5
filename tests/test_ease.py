"""EASE: the closed form, its definition as per-item ridge regressions, and the protocol."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recsys_lessons.models.ease import EASE

TINY = np.array(
    [
        [1, 1, 0, 0, 1],
        [1, 0, 1, 0, 0],
        [0, 1, 1, 1, 0],
        [1, 1, 1, 0, 0],
        [0, 0, 1, 1, 1],
        [1, 0, 0, 1, 0],
    ],
    dtype=float,
)


def test_weights_match_the_closed_form_computed_directly():
    l2 = 2.0
    weights = EASE(l2=l2).fit(sp.csr_matrix(TINY)).weights_
    precision = np.linalg.inv(TINY.T @ TINY + l2 * np.eye(5))
    expected = np.empty((5, 5))
    for i in range(5):
        for j in range(5):
            expected[i, j] = 0.0 if i == j else -precision[i, j] / precision[j, j]
    np.testing.assert_allclose(weights, expected, atol=1e-12)


def test_each_column_is_the_ridge_regression_of_that_item_on_the_others():
    """The constrained problem itself: column j regresses item j on every other item."""
    l2 = 3.0
    weights = EASE(l2=l2).fit(TINY).weights_
    for j in range(5):
        others = [i for i in range(5) if i != j]
        features = TINY[:, others]
        ridge = np.linalg.solve(features.T @ features + l2 * np.eye(4), features.T @ TINY[:, j])
        np.testing.assert_allclose(weights[others, j], ridge, atol=1e-10)


def test_diagonal_is_zero():
    weights = EASE(l2=0.5).fit(TINY).weights_
    np.testing.assert_array_equal(np.diag(weights), np.zeros(5))
    assert np.abs(weights).sum() > 0


def test_scores_are_the_user_row_times_b_and_recommend_excludes_seen():
    model = EASE(l2=1.0).fit(TINY)
    np.testing.assert_allclose(model.score([0, 4]), TINY[[0, 4]] @ model.weights_)
    items, scores = model.recommend(k=2)
    seen = np.take_along_axis(TINY, items, axis=1)
    assert (seen == 0).all()
    assert (scores[:, 0] >= scores[:, 1]).all()


def test_larger_l2_shrinks_the_weights():
    small, large = EASE(l2=1.0).fit(TINY).weights_, EASE(l2=100.0).fit(TINY).weights_
    assert np.abs(large).sum() < np.abs(small).sum()


@pytest.mark.parametrize("l2", [0, -1.0, "big", True])
def test_l2_must_be_a_positive_number(l2):
    with pytest.raises(ValueError, match="l2 must be a positive, finite number"):
        EASE(l2=l2).fit(TINY)


def test_infinite_l2_is_refused_instead_of_nan_scores():
    with pytest.raises(ValueError, match="l2 must be a positive, finite number"):
        EASE(l2=float("inf")).fit(TINY)


def test_a_singular_gram_matrix_says_increase_l2():
    # two identical columns: X^T X is singular, and l2=1e-20 is lost next to counts of 1..4
    X = np.array([[1, 1, 0], [1, 1, 1], [0, 0, 1], [1, 1, 0]], dtype=np.float32)
    with pytest.raises(ValueError, match="Increase l2"):
        EASE(l2=1e-20).fit(X)
