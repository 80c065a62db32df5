"""``Popularity.recommend`` ranks over the head of one popularity order; its lists must be
those of the general path (every item scored, seen ones at ``-inf``), ties and padding included."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from recsys_lessons.models import Popularity
from recsys_lessons.models.base import Recommender


@st.composite
def logs(draw):
    """A small matrix with many tied counts, explicit zeros, and users who saw almost all."""
    n_users = draw(st.integers(1, 12))
    n_items = draw(st.integers(2, 15))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    density = draw(st.sampled_from([0.05, 0.3, 0.9]))
    dense = (rng.random((n_users, n_items)) < density).astype(np.float64)
    dense[0, rng.integers(0, n_items)] = 1.0  # a model needs one interaction
    X = sp.csr_matrix(dense)
    if X.nnz:  # a stored 0.0 still counts and is still seen
        X.data[rng.integers(0, X.nnz)] = 0.0
    users = rng.integers(0, n_users, draw(st.integers(1, 2 * n_users)))  # repeats allowed
    k = draw(st.integers(1, n_items))
    return X, users, k


@settings(max_examples=300, deadline=None)
@given(logs(), st.sampled_from([1, 2, 2048]))
def test_the_fast_lists_are_the_general_lists(case, batch):
    X, users, k = case
    model = Popularity().fit(X)
    expected = Recommender.recommend(model, users, k)
    with pytest.MonkeyPatch.context() as patch:  # small batches: many widths per call
        patch.setattr("recsys_lessons.models.baselines.RECOMMEND_BATCH", batch)
        got = model.recommend(users, k)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])


def test_a_long_tailed_log_is_ranked_over_the_head_of_the_order(monkeypatch):
    """Most users have seen little: their batches never score the whole catalogue."""
    rng = np.random.default_rng(0)
    n_users, n_items = 3000, 2000
    per_user = np.minimum(rng.zipf(2.0, n_users), 1500)
    rows = np.repeat(np.arange(n_users), per_user)
    columns = np.concatenate([rng.choice(n_items, h, replace=False) for h in per_user])
    X = sp.csr_matrix((np.ones(len(rows)), (rows, columns)), shape=(n_users, n_items))
    model = Popularity().fit(X)
    monkeypatch.setattr("recsys_lessons.models.baselines.RECOMMEND_BATCH", 100)
    widths = []
    real_tile = np.tile
    monkeypatch.setattr(
        "recsys_lessons.models.baselines.np.tile",
        lambda values, reps: widths.append(len(values)) or real_tile(values, reps),
    )
    got = model.recommend(k=10)
    assert len(widths) == 30 and max(widths) < n_items
    assert np.mean(np.array(widths) <= 10 + 10) > 0.9  # batches of users who saw <= 10 items
    np.testing.assert_array_equal(got[0], Recommender.recommend(model, None, 10)[0])
