"""Tests of recsys_lessons.responsible.privacy and recsys_lessons.responsible.explain."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from recsys_lessons.models import EASE, ItemKNN, Popularity
from recsys_lessons.responsible import (
    because_you_watched,
    bound_contributions,
    explanation_fidelity,
    private_item_counts,
)


def _random_matrix(seed=0, shape=(60, 40), density=0.25):
    X = sp.random(*shape, density=density, random_state=seed, format="csr")
    X.data[:] = 1.0
    return X


def test_bound_contributions_keeps_at_most_m_of_each_users_own_items():
    X = _random_matrix()
    bounded = bound_contributions(X, 3, seed=1)
    sizes = X.getnnz(axis=1)
    np.testing.assert_array_equal(bounded.getnnz(axis=1), np.minimum(sizes, 3))
    assert (bounded.multiply(X) != bounded).nnz == 0  # a subset of the original entries
    assert (bound_contributions(X, 3, seed=1) != bounded).nnz == 0  # deterministic


def test_private_counts_are_unbiased_with_laplace_scale_m_over_epsilon():
    X = _random_matrix()
    exact = np.asarray(bound_contributions(X, 5, seed=0).sum(axis=0)).ravel()
    noise = np.array([private_item_counts(X, 0.5, max_items=5, seed=0) - exact])
    # same seed: same sampling, so the difference is pure noise; scale b = 5 / 0.5 = 10
    draws = np.concatenate(
        [
            private_item_counts(X, 0.5, max_items=5, seed=s)
            - np.asarray(bound_contributions(X, 5, seed=s).sum(axis=0)).ravel()
            for s in range(200)
        ]
    )
    assert abs(draws.mean()) < 0.5
    assert np.std(draws) == pytest.approx(np.sqrt(2) * 10, rel=0.05)  # Laplace sd = sqrt(2) b
    assert noise.shape == (1, 40)
    with pytest.raises(ValueError, match="epsilon"):
        private_item_counts(X, 0.0)


@pytest.mark.parametrize("model", [ItemKNN(neighbors=10), EASE(regularization=5.0)])
def test_explanations_are_faithful(model):
    X = _random_matrix(seed=2)
    model.fit(X)
    user = 3
    scores = model.score([user])[0]
    scores[X[user].indices] = -np.inf
    item = int(np.argmax(scores))
    cited = because_you_watched(model, user, item, n=2)
    assert len(cited) >= 1 and cited["contribution"].is_monotonic_decreasing
    result = explanation_fidelity(model, user, item, cited["item"])
    assert result["actual_drop"] == pytest.approx(result["claimed_drop"], rel=1e-9, abs=1e-9)
    assert result["actual_drop"] == pytest.approx(cited["contribution"].sum())
    # all contributions together are the whole score: removing the whole history removes it
    whole = explanation_fidelity(model, user, item, X[user].indices)
    assert whole["claimed_drop"] == pytest.approx(scores[item])
    assert whole["actual_drop"] == pytest.approx(scores[item])
    # and the explanation lists exactly the positive ones, largest first
    everything = because_you_watched(model, user, item, n=X[user].nnz)
    positive = [
        contribution
        for watched in X[user].indices
        if (contribution := explanation_fidelity(model, user, item, [watched])["claimed_drop"]) > 0
    ]
    np.testing.assert_allclose(everything["contribution"], sorted(positive, reverse=True))


def test_citing_unwatched_items_changes_nothing():
    X = _random_matrix(seed=4)
    model = ItemKNN(neighbors=10).fit(X)
    unwatched = np.setdiff1d(np.arange(40), X[0].indices)[:3]
    result = explanation_fidelity(model, 0, int(unwatched[-1]), unwatched[:2])
    assert result["actual_drop"] == 0 and result["claimed_drop"] == 0


def test_explanations_refuse_models_without_item_contributions():
    model = Popularity().fit(_random_matrix())
    with pytest.raises(ValueError, match="ItemKNN or EASE"):
        because_you_watched(model, 0, 1)


def test_private_counts_draw_fresh_noise_by_default():
    X = _random_matrix()
    first, second = private_item_counts(X, 1.0), private_item_counts(X, 1.0)
    assert not np.allclose(first, second)  # seed=0 by default released the same noise twice


def test_a_fixed_seed_reproduces_the_release_for_tests_and_lessons():
    X = _random_matrix()
    release = private_item_counts(X, 1.0, max_items=5, seed=7)
    np.testing.assert_array_equal(release, private_item_counts(X, 1.0, max_items=5, seed=7))
    assert not np.array_equal(release, private_item_counts(X, 1.0, max_items=5, seed=8))


@st.composite
def interaction_matrices(draw):
    n_users, n_items = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    cells = draw(
        st.lists(st.tuples(st.integers(0, n_users - 1), st.integers(0, n_items - 1)), max_size=60)
    )
    users, items = zip(*cells, strict=True) if cells else ((), ())
    values = draw(st.lists(st.integers(1, 5), min_size=len(cells), max_size=len(cells)))
    # repeated cells are summed, as a raw log with repeats would be
    return sp.coo_matrix((values, (users, items)), shape=(n_users, n_items)).tocsr()


@settings(max_examples=100, deadline=None)
@given(interaction_matrices(), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_bound_contributions_properties(X, max_items, seed):
    bounded = bound_contributions(X, max_items, seed=seed)
    own = X.copy()
    own.sum_duplicates()
    sizes = own.getnnz(axis=1)
    assert bounded.shape == X.shape
    np.testing.assert_array_equal(bounded.getnnz(axis=1), np.minimum(sizes, max_items))
    assert set(np.unique(bounded.data)) <= {1.0}  # a 0/1 matrix
    kept = set(zip(*bounded.nonzero(), strict=True))
    assert kept <= set(zip(*own.nonzero(), strict=True))  # a subset of each user's items
    short = sizes <= max_items  # users under the bound keep everything
    assert (bounded[short] != (own[short] != 0)).nnz == 0
    assert (bound_contributions(X, max_items, seed=seed) != bounded).nnz == 0
    assert np.asarray(bounded.sum(axis=0)).sum() <= max_items * X.shape[0]


def test_bad_privacy_and_explanation_input_raises_clear_errors():
    X = _random_matrix()
    with pytest.raises(ValueError, match="max_items"):
        bound_contributions(X, 0)
    with pytest.raises(ValueError, match="epsilon"):
        private_item_counts(X, -1.0)
    model = ItemKNN(neighbors=5).fit(X)
    with pytest.raises(ValueError, match="out of range"):
        because_you_watched(model, 0, 999)
