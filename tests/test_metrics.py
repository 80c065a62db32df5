"""Tests for recsys_lessons.metrics: hand-computed fixtures, properties, reference implementations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.metrics import ndcg_score
from sklearn.metrics.pairwise import cosine_distances

from recsys_lessons.data import InteractionMatrix
from recsys_lessons.metrics import (
    average_precision_at_k,
    average_recommendation_popularity,
    catalog_coverage,
    gini_index,
    hit_rate_at_k,
    intra_list_diversity,
    map_at_k,
    mrr_at_k,
    ndcg_at_k,
    novelty,
    precision_at_k,
    recall_at_k,
)

RANKING_METRICS = [
    precision_at_k,
    recall_at_k,
    ndcg_at_k,
    average_precision_at_k,
    map_at_k,
    mrr_at_k,
    hit_rate_at_k,
]

# --------------------------------------------------------------------------------------
# Hand-computed fixture, k = 3 (the fourth column must be ignored)
#
# user 0: top-3 [1, 2, 3], relevant {2, 4, 9, 11} (4 items, more than k) -> hits [0, 1, 0]
# user 1: top-3 [5, 6, 7], relevant {5, 7}                              -> hits [1, 0, 1]
# user 2: nothing relevant                                              -> excluded (NaN)
# user 3: top-3 [3, 1, 0], relevant {8} (item 8 sits at rank 4, beyond k) -> hits [0, 0, 0]
# --------------------------------------------------------------------------------------
RECOMMENDED = [[1, 2, 3, 4], [5, 6, 7, 8], [0, 9, 5, 2], [3, 1, 0, 8]]
RELEVANT = [{2, 4, 9, 11}, {5, 7}, set(), {8}]
K = 3
D1, D2, D3 = 1 / math.log2(2), 1 / math.log2(3), 1 / math.log2(4)  # discounts of ranks 1, 2, 3

EXPECTED_PER_USER = {
    # hits / k
    precision_at_k: [1 / 3, 2 / 3, math.nan, 0.0],
    # hits / |relevant|
    recall_at_k: [1 / 4, 2 / 2, math.nan, 0.0],
    # user 0: DCG = 1/log2(3); IDCG uses min(4, 3) = 3 ones: 1 + 1/log2(3) + 1/log2(4)
    # user 1: DCG = 1 + 1/log2(4); IDCG uses min(2, 3) = 2 ones: 1 + 1/log2(3)
    ndcg_at_k: [D2 / (D1 + D2 + D3), (D1 + D3) / (D1 + D2), math.nan, 0.0],
    # user 0: P@2 * 1 / min(4, 3) = (1/2) / 3;  user 1: (P@1 + P@3) / min(2, 3) = (1 + 2/3) / 2
    average_precision_at_k: [(1 / 2) / 3, (1 + 2 / 3) / 2, math.nan, 0.0],
    map_at_k: [(1 / 2) / 3, (1 + 2 / 3) / 2, math.nan, 0.0],
    # first hit at rank 2 for user 0, rank 1 for user 1, none for user 3
    mrr_at_k: [1 / 2, 1 / 1, math.nan, 0.0],
    hit_rate_at_k: [1.0, 1.0, math.nan, 0.0],
}


@pytest.mark.parametrize("metric", RANKING_METRICS, ids=lambda f: f.__name__)
def test_ranking_metrics_match_hand_computed_values(metric):
    expected = np.array(EXPECTED_PER_USER[metric])
    per_user = metric(RECOMMENDED, RELEVANT, k=K, per_user=True)
    np.testing.assert_allclose(per_user, expected, rtol=1e-12)
    # the mean skips user 2, who has nothing relevant: (u0 + u1 + u3) / 3
    assert metric(RECOMMENDED, RELEVANT, k=K) == pytest.approx(
        (expected[0] + expected[1] + expected[3]) / 3, rel=1e-12
    )


def test_hand_computed_means_spelled_out():
    # precision (1/3 + 2/3 + 0) / 3 = 1/3; recall (1/4 + 1 + 0) / 3 = 5/12; MAP (1/6 + 5/6 + 0) / 3 = 1/3
    assert precision_at_k(RECOMMENDED, RELEVANT, k=K) == pytest.approx(1 / 3)
    assert recall_at_k(RECOMMENDED, RELEVANT, k=K) == pytest.approx(5 / 12)
    assert map_at_k(RECOMMENDED, RELEVANT, k=K) == pytest.approx(1 / 3)
    # nDCG: (0.63093/2.13093 + 1.5/1.63093 + 0) / 3 = (0.296082 + 0.919721) / 3 = 0.405268
    assert ndcg_at_k(RECOMMENDED, RELEVANT, k=K) == pytest.approx(0.4052676, abs=1e-7)


def test_default_k_is_ten_and_reads_only_the_first_k_columns():
    recommended = np.arange(24).reshape(2, 12)
    relevant = [{10, 11}, {12}]  # user 0's items sit at ranks 11 and 12; user 1's at rank 1
    # k = 10: user 0 has no hit, user 1 has one hit in ten slots -> (0 + 1/10) / 2
    assert precision_at_k(recommended, relevant) == pytest.approx(0.05)
    # k = 12: user 0 has 2 hits, user 1 has 1 -> (2/12 + 1/12) / 2
    assert precision_at_k(recommended, relevant, k=12) == pytest.approx(3 / 24)


def test_array_input_equals_list_input():
    array = np.array(RECOMMENDED, dtype=np.int32)
    for metric in RANKING_METRICS:
        assert metric(array, RELEVANT, k=K) == metric(RECOMMENDED, RELEVANT, k=K)


def test_relevant_as_lists_arrays_and_duplicates_equals_sets():
    as_lists = [[11, 9, 4, 2, 2], np.array([7, 5]), (), [8, 8]]  # repeated items count once
    for metric in RANKING_METRICS:
        np.testing.assert_array_equal(
            metric(RECOMMENDED, as_lists, k=K, per_user=True),
            metric(RECOMMENDED, RELEVANT, k=K, per_user=True),
        )


def _as_csr(relevant, n_items):
    rows = np.repeat(np.arange(len(relevant)), [len(items) for items in relevant])
    columns = np.array([item for items in relevant for item in sorted(items)], dtype=np.int64)
    return sp.csr_matrix((np.ones(len(columns)), (rows, columns)), shape=(len(relevant), n_items))


def test_csr_input_equals_list_input_including_explicit_zeros_and_unsorted_indices():
    canonical = _as_csr(RELEVANT, n_items=12)
    # the same relevance written awkwardly: an explicit zero (item 0 of user 3, not relevant),
    # a duplicated entry, and unsorted column indices within each row
    awkward = sp.csr_matrix(
        (
            np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 0.0]),
            np.array([11, 2, 9, 4, 7, 5, 8, 0]),
            np.array([0, 4, 6, 6, 8]),
        ),
        shape=(4, 12),
    )
    assert not awkward.has_canonical_format
    wrapped = InteractionMatrix(canonical, pd.Index(range(4)), pd.Index(range(12)))
    for metric in RANKING_METRICS:
        expected = metric(RECOMMENDED, RELEVANT, k=K, per_user=True)
        for relevant in (canonical, awkward, sp.csr_array(canonical), canonical.tocoo(), wrapped):
            np.testing.assert_array_equal(
                metric(RECOMMENDED, relevant, k=K, per_user=True), expected
            )
    assert awkward.nnz == 8  # the caller's matrix was not modified


def test_mean_equals_nanmean_of_per_user_values():
    for metric in RANKING_METRICS:
        assert metric(RECOMMENDED, RELEVANT, k=K) == pytest.approx(
            np.nanmean(metric(RECOMMENDED, RELEVANT, k=K, per_user=True)), rel=1e-12
        )


# --------------------------------------------------------------------------------------
# Beyond-accuracy fixtures
# --------------------------------------------------------------------------------------


def test_catalog_coverage_hand_computed():
    # top-3 lists use {1,2,3} | {5,6,7} | {0,9,5} | {3,1,0} = {0,1,2,3,5,6,7,9}: 8 of 12 items
    assert catalog_coverage(RECOMMENDED, n_items=12, k=K) == pytest.approx(8 / 12)
    # with k = 4, items 4 and 8 join: 10 of 12
    assert catalog_coverage(RECOMMENDED, n_items=12, k=4) == pytest.approx(10 / 12)


def test_gini_index_hand_computed():
    # exposure (lists containing the item) over 12 items with k = 3:
    # item: 0 1 2 3 4 5 6 7 8 9 10 11
    # e:    2 2 1 2 0 2 1 1 0 1 0  0    sorted: 0 0 0 0 1 1 1 1 2 2 2 2, sum 12
    # sum (2i - 13) e_(i) = (-3 - 1 + 1 + 3) * 1 + (5 + 7 + 9 + 11) * 2 = 64; Gini = 64 / (12 * 12)
    assert gini_index(RECOMMENDED, n_items=12, k=K) == pytest.approx(64 / 144)


def test_gini_index_extremes():
    # everyone gets item 0 with k = 1 over 5 items: all exposure on one item -> (n - 1) / n
    assert gini_index(np.zeros((7, 1), dtype=int), n_items=5, k=1) == pytest.approx(4 / 5)
    # 5 users, each shown a different item: equal exposure -> 0
    assert gini_index(np.arange(5).reshape(5, 1), n_items=5, k=1) == pytest.approx(0.0)


# popularity counts for 4 items: total 10; smoothed shares (c + 1) / (10 + 4) = 7/14, 4/14, 2/14, 1/14
POPULARITY = np.array([6, 3, 1, 0])
SMALL_RECOMMENDED = np.array([[0, 1, 2], [2, 3, 0]])


def test_novelty_hand_computed():
    # k = 2: user 0 gets items 0, 1 -> (-log2(7/14) - log2(4/14)) / 2 = (1 + log2(3.5)) / 2
    #        user 1 gets items 2, 3 -> (-log2(2/14) - log2(1/14)) / 2 = (log2(7) + log2(14)) / 2
    user0 = (1 + math.log2(3.5)) / 2
    user1 = (math.log2(7) + math.log2(14)) / 2
    np.testing.assert_allclose(
        novelty(SMALL_RECOMMENDED, POPULARITY, k=2, per_user=True), [user0, user1]
    )
    assert novelty(SMALL_RECOMMENDED, POPULARITY, k=2) == pytest.approx((user0 + user1) / 2)


def test_novelty_is_higher_for_rarer_items():
    assert (
        novelty([[3]], POPULARITY, k=1)
        > novelty([[2]], POPULARITY, k=1)
        > novelty([[0]], POPULARITY, k=1)
    )


def test_average_recommendation_popularity_hand_computed():
    # k = 2: user 0 -> (6 + 3) / 2 = 4.5; user 1 -> (1 + 0) / 2 = 0.5; mean 2.5
    np.testing.assert_allclose(
        average_recommendation_popularity(SMALL_RECOMMENDED, POPULARITY, k=2, per_user=True),
        [4.5, 0.5],
    )
    assert average_recommendation_popularity(SMALL_RECOMMENDED, POPULARITY, k=2) == pytest.approx(
        2.5
    )
    # k = 3: user 0 -> (6 + 3 + 1) / 3; user 1 -> (1 + 0 + 6) / 3; mean 17 / 6
    assert average_recommendation_popularity(SMALL_RECOMMENDED, POPULARITY, k=3) == pytest.approx(
        17 / 6
    )


# features of 4 items; item 3 has no features at all (cosine similarity 0 by convention)
FEATURES = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0], [0.0, 0.0]])


def test_intra_list_diversity_hand_computed():
    # k = 2: user 0 pairs (0, 1): 1 - cos([1,0], [1,1]) = 1 - 1/sqrt(2)
    #        user 1 pairs (2, 3): item 3 is all zeros -> similarity 0 -> distance 1
    expected = [1 - 1 / math.sqrt(2), 1.0]
    np.testing.assert_allclose(
        intra_list_diversity(SMALL_RECOMMENDED, FEATURES, k=2, per_user=True), expected
    )
    # k = 3: user 0 pairs (0,1), (0,2), (1,2): distances 1 - 1/sqrt(2), 1 - 0, 1 - 1/sqrt(2)
    #        user 1 pairs (2,3), (2,0), (3,0): distances 1, 1, 1
    user0 = (2 * (1 - 1 / math.sqrt(2)) + 1) / 3
    assert intra_list_diversity(SMALL_RECOMMENDED, FEATURES, k=3) == pytest.approx((user0 + 1) / 2)


def test_intra_list_diversity_sparse_equals_dense_and_sklearn():
    rng = np.random.default_rng(3)
    features = rng.random((30, 6)) * (rng.random((30, 6)) < 0.5)  # sparse-ish, some rows all zero
    recommended = np.array([rng.permutation(30)[:5] for _ in range(12)])
    # brute force: mean of the upper triangle of sklearn's cosine distance matrix per list
    upper = np.triu_indices(5, k=1)
    expected = [cosine_distances(features[items])[upper].mean() for items in recommended]
    dense = intra_list_diversity(recommended, features, k=5, per_user=True)
    sparse = intra_list_diversity(recommended, sp.csr_matrix(features), k=5, per_user=True)
    np.testing.assert_allclose(dense, expected, atol=1e-12)
    np.testing.assert_allclose(sparse, expected, atol=1e-12)
    assert intra_list_diversity(recommended, features, k=5) == pytest.approx(np.mean(expected))


def test_intra_list_diversity_batches_give_the_same_answer(monkeypatch):
    import recsys_lessons.metrics as metrics

    rng = np.random.default_rng(4)
    features = rng.normal(size=(20, 3))
    recommended = np.array([rng.permutation(20)[:4] for _ in range(9)])
    whole = intra_list_diversity(recommended, features, k=4, per_user=True)
    monkeypatch.setattr(metrics, "DIVERSITY_BATCH_FLOATS", 6)  # two users per batch
    np.testing.assert_allclose(
        intra_list_diversity(recommended, features, k=4, per_user=True), whole, rtol=1e-12
    )


# --------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------


@st.composite
def ranking_cases(draw):
    """Random (recommended, relevant, k, n_items) with distinct items in every list."""
    k = draw(st.integers(1, 6))
    width = draw(st.integers(k, k + 3))
    n_items = draw(st.integers(width, 16))
    n_users = draw(st.integers(1, 7))
    recommended = np.array([draw(st.permutations(range(n_items)))[:width] for _ in range(n_users)])
    relevant = [
        draw(st.sets(st.integers(0, n_items - 1), max_size=n_items)) for _ in range(n_users)
    ]
    return recommended, relevant, k, n_items


@settings(max_examples=60, deadline=None)
@given(ranking_cases())
def test_ranking_metrics_lie_in_unit_interval(case):
    recommended, relevant, k, _ = case
    assume(any(relevant))
    for metric in RANKING_METRICS:
        per_user = metric(recommended, relevant, k=k, per_user=True)
        evaluated = np.array([len(items) > 0 for items in relevant])
        assert np.isnan(per_user[~evaluated]).all()
        assert ((per_user[evaluated] >= 0) & (per_user[evaluated] <= 1 + 1e-12)).all()
        assert 0 <= metric(recommended, relevant, k=k) <= 1 + 1e-12


@settings(max_examples=60, deadline=None)
@given(ranking_cases(), st.data())
def test_perfect_ranking_scores_one(case, data):
    recommended, _, k, _ = case
    width = recommended.shape[1]
    # relevant = the first m_u items of each list: the top min(m_u, k) positions are all hits
    n_relevant = np.array(
        data.draw(
            st.lists(st.integers(1, width), min_size=len(recommended), max_size=len(recommended))
        )
    )
    relevant = [set(row[:m].tolist()) for row, m in zip(recommended, n_relevant, strict=True)]
    for metric in (ndcg_at_k, average_precision_at_k, map_at_k, mrr_at_k, hit_rate_at_k):
        np.testing.assert_allclose(
            metric(recommended, relevant, k=k, per_user=True), 1.0, rtol=1e-12
        )
    precision = precision_at_k(recommended, relevant, k=k, per_user=True)
    recall = recall_at_k(recommended, relevant, k=k, per_user=True)
    np.testing.assert_allclose(
        precision, np.minimum(n_relevant, k) / k, rtol=1e-12
    )  # 1 when m_u >= k
    np.testing.assert_allclose(
        recall, np.minimum(n_relevant, k) / n_relevant, rtol=1e-12
    )  # 1 when m_u <= k


@settings(max_examples=60, deadline=None)
@given(ranking_cases())
def test_reversing_the_order_of_users_changes_nothing(case):
    recommended, relevant, k, n_items = case
    assume(any(relevant))
    for metric in RANKING_METRICS:
        forward = metric(recommended, relevant, k=k, per_user=True)
        backward = metric(recommended[::-1], relevant[::-1], k=k, per_user=True)
        np.testing.assert_array_equal(backward, forward[::-1])
        assert metric(recommended[::-1], relevant[::-1], k=k) == pytest.approx(
            metric(recommended, relevant, k=k), rel=1e-12
        )
    for metric, argument in ((catalog_coverage, n_items), (gini_index, n_items)):
        assert metric(recommended[::-1], argument, k=k) == pytest.approx(
            metric(recommended, argument, k=k)
        )


@settings(max_examples=60, deadline=None)
@given(ranking_cases(), st.data())
def test_adding_a_hit_never_lowers_recall(case, data):
    recommended, relevant, k, _ = case
    misses = [
        (u, r)
        for u in range(len(recommended))
        for r in range(k)
        if recommended[u, r] not in relevant[u]
    ]
    assume(misses and any(relevant))
    user, rank = data.draw(st.sampled_from(misses))
    before = recall_at_k(recommended, relevant, k=k, per_user=True)
    # (a) the missed item becomes relevant: hits and |relevant| both grow by one, and
    #     (h + 1) / (n + 1) >= h / n because h <= n (equal when every relevant item was a hit)
    grown = [set(items) for items in relevant]
    grown[user].add(int(recommended[user, rank]))
    after = recall_at_k(recommended, grown, k=k, per_user=True)
    assert after[user] >= before[user] or (np.isnan(before[user]) and after[user] == 1.0)
    others = np.arange(len(recommended)) != user
    np.testing.assert_array_equal(after[others], before[others])
    # (b) the missed slot gets a relevant item from outside the top-k: only hits grow
    outside = relevant[user] - set(recommended[user, :k].tolist())
    if outside:
        swapped = recommended.copy()
        swapped[user, rank] = min(outside)
        swapped[user, k:][swapped[user, k:] == min(outside)] = recommended[
            user, rank
        ]  # keep items distinct
        assert recall_at_k(swapped, relevant, k=k, per_user=True)[user] > before[user]
        assert recall_at_k(swapped, relevant, k=k) >= recall_at_k(recommended, relevant, k=k)


@settings(max_examples=60, deadline=None)
@given(ranking_cases())
def test_csr_input_equals_list_input_property(case):
    recommended, relevant, k, n_items = case
    csr = _as_csr(relevant, n_items)
    for metric in RANKING_METRICS:
        np.testing.assert_array_equal(
            metric(recommended, csr, k=k, per_user=True),
            metric(recommended, relevant, k=k, per_user=True),
        )


@settings(max_examples=60, deadline=None)
@given(ranking_cases(), st.integers(0, 2**32 - 1))
def test_beyond_accuracy_metrics_stay_in_their_ranges(case, seed):
    recommended, _, k, n_items = case
    rng = np.random.default_rng(seed)
    assert 0 < catalog_coverage(recommended, n_items, k=k) <= 1
    assert 0 <= gini_index(recommended, n_items, k=k) <= (n_items - 1) / n_items + 1e-12
    popularity = rng.integers(0, 50, size=n_items)
    self_information = -np.log2((popularity + 1) / (popularity.sum() + n_items))
    assert (
        self_information.min() - 1e-12
        <= novelty(recommended, popularity, k=k)
        <= self_information.max() + 1e-12
    )
    assert (
        popularity.min()
        <= average_recommendation_popularity(recommended, popularity, k=k)
        <= popularity.max()
    )
    if k >= 2:
        features = rng.random((n_items, 3)) * (rng.random((n_items, 3)) < 0.7)
        diversity = intra_list_diversity(recommended, features, k=k, per_user=True)
        assert ((diversity >= 0) & (diversity <= 1)).all()


# --------------------------------------------------------------------------------------
# Agreement with scikit-learn
# --------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 8), st.integers(2, 30), st.integers(1, 12), st.integers(0, 2**32 - 1))
def test_ndcg_matches_sklearn_on_binary_relevance(n_users, n_items, k, seed):
    k = min(k, n_items)
    rng = np.random.default_rng(seed)
    # distinct scores (a random permutation per user) so there are no ties for sklearn to average
    scores = np.array([rng.permutation(n_items) for _ in range(n_users)], dtype=np.float64)
    y_true = (rng.random((n_users, n_items)) < 0.3).astype(np.float64)
    y_true[np.arange(n_users), rng.integers(0, n_items, size=n_users)] = (
        1.0  # >= 1 relevant item each
    )
    recommended = np.argsort(-scores, axis=1)[:, :k]
    relevant = [np.flatnonzero(row) for row in y_true]
    assert ndcg_at_k(recommended, relevant, k=k) == pytest.approx(
        ndcg_score(y_true, scores, k=k), rel=1e-12
    )
    per_user = ndcg_at_k(recommended, sp.csr_matrix(y_true), k=k, per_user=True)
    for user in range(n_users):
        reference = ndcg_score(y_true[user : user + 1], scores[user : user + 1], k=k)
        assert per_user[user] == pytest.approx(reference, rel=1e-12)


# --------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("recommended", "relevant", "k", "message"),
    [
        (RECOMMENDED, RELEVANT, 0, "k must be a positive integer"),
        (RECOMMENDED, RELEVANT, 2.0, "k must be a positive integer"),
        (RECOMMENDED, RELEVANT, True, "k must be a positive integer"),
        (RECOMMENDED, RELEVANT, 5, "k=5 but the recommendation lists hold only 4 items"),
        ([[1, 2, 3], [4, 5]], [{1}, {4}], 2, "ragged"),
        ([1, 2, 3], [{1}], 2, "2-D users x ranks"),
        (np.zeros((0, 3), dtype=int), [], 2, "no users"),
        ([[1, -2, 3]], [{1}], 2, "negative item index -2"),
        ([[1.0, np.nan, 3.0]], [{1}], 2, "NaN"),
        ([[1.5, 2.0]], [{1}], 2, "integer item indices"),
        ([[1, 2, 1]], [{1}], 3, "same item twice"),
        (RECOMMENDED, RELEVANT[:3], 2, "lists for 4 users but relevant describes 3"),
        (RECOMMENDED, _as_csr(RELEVANT[:3], 12), 2, "lists for 4 users but relevant has 3 rows"),
        (
            RECOMMENDED,
            _as_csr([{1}, {2}, {3}, {4}], 9),
            2,
            "item index 9, but relevant has only 9 item columns",
        ),
        (RECOMMENDED, [{1}, {2}, {np.nan}, {3}], 2, "NaN item indices"),
        (RECOMMENDED, [{1}, {2}, {-1}, {3}], 2, "negative item index -1"),
        (RECOMMENDED, [{1}, {2}, {2.5}, {3}], 2, "whole-number item indices"),
        (RECOMMENDED, [{1}, {2}, 7, {3}], 2, "one collection"),
        (RECOMMENDED, {0: {1}, 1: {2}, 2: {3}, 3: {4}}, 2, "not a dict"),
        (RECOMMENDED, np.ones((4, 12), dtype=bool), 2, "csr_matrix"),
        (RECOMMENDED, sp.csr_matrix(np.full((4, 12), np.nan)), 2, "NaN values"),
        (
            [[0, 1], [1, 0], [0, 2], [2, 0]],
            [set(), set(), set(), set()],
            2,
            "no user has a relevant item",
        ),
    ],
)
def test_ranking_metrics_reject_bad_input(recommended, relevant, k, message):
    for metric in RANKING_METRICS:
        with pytest.raises(ValueError, match=message):
            metric(recommended, relevant, k=k)


def test_all_nan_per_user_when_nothing_is_relevant():
    np.testing.assert_array_equal(precision_at_k([[0, 1]], [set()], k=2, per_user=True), [np.nan])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: catalog_coverage(RECOMMENDED, n_items=9, k=3),
            "item index 9, but the catalogue has only 9",
        ),
        (
            lambda: catalog_coverage(RECOMMENDED, n_items=0, k=3),
            "n_items must be a positive integer",
        ),
        (lambda: gini_index(RECOMMENDED, n_items=12.0, k=3), "n_items must be a positive integer"),
        (lambda: gini_index(RECOMMENDED, n_items=12, k=0), "k must be a positive integer"),
        (lambda: novelty(SMALL_RECOMMENDED, [1, 2], k=2), "catalogue has only 2 items"),
        (lambda: novelty(SMALL_RECOMMENDED, [1, np.nan, 2, 3], k=2), "NaN or infinite"),
        (lambda: novelty(SMALL_RECOMMENDED, [1, -1, 2, 3], k=2), "negative counts"),
        (lambda: novelty(SMALL_RECOMMENDED, [[1, 2, 3, 4]], k=2), "1-D array"),
        (
            lambda: average_recommendation_popularity(SMALL_RECOMMENDED, ["a"] * 4, k=2),
            "interaction counts",
        ),
        (lambda: intra_list_diversity(SMALL_RECOMMENDED, FEATURES, k=1), "k >= 2"),
        (
            lambda: intra_list_diversity(SMALL_RECOMMENDED, FEATURES[:3], k=2),
            "catalogue has only 3 items",
        ),
        (lambda: intra_list_diversity(SMALL_RECOMMENDED, np.ones(4), k=2), "2-D items x features"),
        (
            lambda: intra_list_diversity(SMALL_RECOMMENDED, np.full((4, 2), np.nan), k=2),
            "NaN or infinite",
        ),
        (
            lambda: intra_list_diversity(
                SMALL_RECOMMENDED, sp.csr_matrix(np.full((4, 2), np.inf)), k=2
            ),
            "NaN or infinite",
        ),
    ],
)
def test_beyond_accuracy_metrics_reject_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()
