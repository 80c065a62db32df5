"""The model protocol (models/base.py) and the two baselines (models/baselines.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from recsys_lessons.data import interaction_matrix
from recsys_lessons.models import Popularity, Random
from recsys_lessons.models.base import Recommender, as_interaction_csr
from recsys_lessons.top_k import top_k_indices

# 4 users x 5 items. Item popularity (users per item): [3, 1, 2, 0, 1].
X = sp.csr_matrix(
    np.array(
        [
            [5, 0, 3, 0, 0],
            [4, 0, 0, 0, 0],
            [1, 2, 4, 0, 0],
            [0, 0, 0, 0, 5],
        ],
        dtype=np.float32,
    )
)


class Constant(Recommender):
    """Scores every item by a fixed vector: lets a test choose the ranking exactly."""

    def __init__(self, item_scores=(0.0,)):
        self.item_scores = item_scores

    def _fit(self, X):
        self.item_scores_ = np.asarray(self.item_scores, dtype=float)

    def _score(self, users):
        return np.tile(self.item_scores_, (len(users), 1))


def test_popularity_counts_users_not_rating_values():
    model = Popularity().fit(X)
    np.testing.assert_array_equal(model.item_counts_, [3, 1, 2, 0, 1])
    np.testing.assert_array_equal(model.score([0, 3]), [[3, 1, 2, 0, 1]] * 2)


def test_recommend_ranks_by_score_and_removes_seen_items():
    items, scores = Popularity().fit(X).recommend([1, 3], k=3)
    # user 1 saw item 0 -> remaining by popularity: 2 (2), then 1 and 4 (1 each, lower index first)
    np.testing.assert_array_equal(items, [[2, 1, 4], [0, 2, 1]])
    np.testing.assert_array_equal(scores, [[2, 1, 1], [3, 2, 1]])


def test_recommend_can_keep_seen_items():
    items, _ = Popularity().fit(X).recommend([1], k=2, exclude_seen=False)
    np.testing.assert_array_equal(items, [[0, 2]])


def test_a_user_with_too_few_unseen_items_gets_visible_minus_inf_padding():
    items, scores = Popularity().fit(X).recommend([2], k=5)
    # user 2 saw items 0, 1, 2: the two unseen items come first, then the seen ones at -inf
    np.testing.assert_array_equal(items[0, :2], [4, 3])
    assert np.isneginf(scores[0, 2:]).all()
    assert set(items[0, 2:]) == {0, 1, 2}


def test_recommend_works_across_batches(monkeypatch):
    monkeypatch.setattr("recsys_lessons.models.base.RECOMMEND_BATCH", 3)
    model = Popularity().fit(X)
    batched, _ = model.recommend(k=2)
    monkeypatch.setattr("recsys_lessons.models.base.RECOMMEND_BATCH", 1000)
    whole, _ = model.recommend(k=2)
    np.testing.assert_array_equal(batched, whole)


def test_random_is_reproducible_for_a_seed_and_differs_across_seeds():
    first = Random(seed=7).fit(X).recommend(k=4)[0]
    again = Random(seed=7).fit(X).recommend(k=4)[0]
    other = Random(seed=8).fit(X).recommend(k=4)[0]
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_fit_accepts_dense_arrays_and_interaction_matrices():
    import pandas as pd

    frame = pd.DataFrame({"user_id": [10, 10, 20], "item_id": [1, 2, 2], "rating": [5.0, 3.0, 4.0]})
    matrix = interaction_matrix(frame)
    np.testing.assert_array_equal(Popularity().fit(matrix).item_counts_, [1, 2])
    np.testing.assert_array_equal(Popularity().fit(X.toarray()).item_counts_, [3, 1, 2, 0, 1])


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (sp.csr_matrix((3, 4)), "empty"),
        (np.array([[1.0, np.nan]]), "NaN"),
        (np.ones(4), "2-D"),
    ],
)
def test_bad_training_data_is_refused_with_a_reason(bad, message):
    with pytest.raises(ValueError, match=message):
        Popularity().fit(bad)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: m.recommend([0], k=0), "positive integer"),
        (lambda m: m.recommend([0], k=6), "larger than the catalogue"),
        (lambda m: m.recommend([4]), r"0\.\.3"),
        (lambda m: m.recommend([-1]), r"0\.\.3"),
        (lambda m: m.recommend([0.5]), "integer"),
        (lambda m: m.recommend([]), "empty"),
    ],
)
def test_bad_requests_are_refused_with_a_reason(call, message):
    with pytest.raises(ValueError, match=message):
        call(Popularity().fit(X))


def test_an_unfitted_model_says_to_fit_first():
    with pytest.raises(ValueError, match="not fitted"):
        Popularity().recommend([0])


def test_repr_shows_parameters_and_summarises_arrays():
    assert repr(Random(seed=3)) == "Random(seed=3)"
    assert repr(Popularity()) == "Popularity()" and Popularity().get_params() == {}
    assert repr(Constant(item_scores=np.zeros((2, 5)))) == "Constant(item_scores=<ndarray 2x5>)"


def test_as_interaction_csr_returns_sorted_float32_csr():
    converted = as_interaction_csr(sp.coo_matrix(X))
    assert converted.format == "csr" and converted.dtype == np.float32
    assert converted.has_sorted_indices


def test_top_k_breaks_ties_by_lower_index():
    scores = np.array([[1.0, 3.0, 3.0, 3.0, 0.0]])
    np.testing.assert_array_equal(top_k_indices(scores, 2), [[1, 2]])
    np.testing.assert_array_equal(top_k_indices(scores, 4), [[1, 2, 3, 0]])


def test_nan_scores_rank_last():
    scores = np.array([[np.nan, 1.0, 2.0]])
    np.testing.assert_array_equal(top_k_indices(scores, 3), [[2, 1, 0]])


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.float64, (6, 12), elements=st.sampled_from([-np.inf, 0.0, 1.0, 2.0, 2.5, 7.0])),
    st.integers(1, 11),
)
def test_top_k_equals_a_stable_full_sort_and_nests_across_k(scores, k):
    """The top-k list is a full sort by (-score, index) cut at k, so top-k is a prefix of top-(k+1)."""
    reference = np.lexsort((np.broadcast_to(np.arange(12), scores.shape), -scores), axis=1)
    np.testing.assert_array_equal(top_k_indices(scores, k), reference[:, :k])
    np.testing.assert_array_equal(top_k_indices(scores, k + 1)[:, :k], top_k_indices(scores, k))


# ---------------------------------------------------------------- one definition of "seen"


def test_a_stored_zero_rating_is_seen_by_popularity_and_recommend_alike():
    # user 1 rated item 0 with an explicit 0.0: an interaction, not an empty cell
    frame = pd.DataFrame(
        {"user_id": [1, 1, 2, 3], "item_id": [0, 1, 0, 2], "rating": [0.0, 4.0, 5.0, 3.0]}
    )
    matrix = interaction_matrix(frame)
    assert matrix.X.nnz == 4  # the 0.0 is stored
    model = Popularity().fit(matrix)
    assert model.item_counts_.tolist() == [2.0, 1.0, 1.0]  # counted by Popularity...
    items, scores = model.recommend([0], k=3)
    # ...and removed as seen: user 1's unseen item 2 first, then the seen ones as padding
    assert items[0, 0] == 2 and np.isneginf(scores[0, 1:]).all()
    assert sorted(items[0, 1:].tolist()) == [0, 1]


def test_top_k_indices_explains_1d_input():
    with pytest.raises(ValueError, match=r"2-D.*scores\[None, :\]"):
        top_k_indices(np.array([0.3, 0.1, 0.2]), 2)
