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
    regularization = 2.0
    weights = EASE(regularization=regularization).fit(sp.csr_matrix(TINY)).weights_
    precision = np.linalg.inv(TINY.T @ TINY + regularization * np.eye(5))
    expected = np.empty((5, 5))
    for i in range(5):
        for j in range(5):
            expected[i, j] = 0.0 if i == j else -precision[i, j] / precision[j, j]
    np.testing.assert_allclose(weights, expected, atol=1e-12)


def test_each_column_is_the_ridge_regression_of_that_item_on_the_others():
    """The constrained problem itself: column j regresses item j on every other item."""
    regularization = 3.0
    weights = EASE(regularization=regularization).fit(TINY).weights_
    for j in range(5):
        others = [i for i in range(5) if i != j]
        features = TINY[:, others]
        ridge = np.linalg.solve(
            features.T @ features + regularization * np.eye(4), features.T @ TINY[:, j]
        )
        np.testing.assert_allclose(weights[others, j], ridge, atol=1e-10)


def test_diagonal_is_zero():
    weights = EASE(regularization=0.5).fit(TINY).weights_
    np.testing.assert_array_equal(np.diag(weights), np.zeros(5))
    assert np.abs(weights).sum() > 0


def test_scores_are_the_user_row_times_b_and_recommend_excludes_seen():
    model = EASE(regularization=1.0).fit(TINY)
    np.testing.assert_allclose(model.score([0, 4]), TINY[[0, 4]] @ model.weights_)
    items, scores = model.recommend(k=2)
    seen = np.take_along_axis(TINY, items, axis=1)
    assert (seen == 0).all()
    assert (scores[:, 0] >= scores[:, 1]).all()


def test_larger_regularization_shrinks_the_weights():
    small, large = (
        EASE(regularization=1.0).fit(TINY).weights_,
        EASE(regularization=100.0).fit(TINY).weights_,
    )
    assert np.abs(large).sum() < np.abs(small).sum()


@pytest.mark.parametrize("regularization", [0, -1.0, "big", True, float("inf")])
def test_regularization_must_be_a_positive_finite_number(regularization):
    with pytest.raises(ValueError, match="regularization must (lie in|be a finite number)"):
        EASE(regularization=regularization).fit(TINY)


def test_a_singular_gram_matrix_says_increase_regularization():
    # two identical columns: X^T X is singular, and regularization=1e-20 is lost next to counts of 1..4
    X = np.array([[1, 1, 0], [1, 1, 1], [0, 0, 1], [1, 1, 0]], dtype=np.float32)
    with pytest.raises(ValueError, match="Increase it"):
        EASE(regularization=1e-20).fit(X)


def test_fold_in_of_a_training_users_row_is_their_score():
    model = EASE(regularization=1.0).fit(TINY)
    np.testing.assert_allclose(model.fold_in(TINY[[0, 2]]), model.score([0, 2]))
    with pytest.raises(ValueError, match="item columns"):
        model.fold_in(TINY[:, :3])
    with pytest.raises(ValueError, match="not fitted"):
        EASE().fold_in(TINY)
