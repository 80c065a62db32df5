"""Cold-start evaluation: the new-title shelf, new users, and the warm-up curve."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys_lessons import metrics
from recsys_lessons.evaluation import evaluate_cold_items, evaluate_cold_users, warm_up_curve

# 3 users x 5 items; items 1, 3 and 4 are new.
TEST = sp.csr_matrix(
    np.array(
        [
            [1, 0, 0, 1, 0],  # user 0 liked new item 3 (and warm item 0, ignored on the shelf)
            [0, 1, 0, 0, 1],  # user 1 liked new items 1 and 4
            [1, 0, 1, 0, 0],  # user 2 liked no new item: left out
        ],
        dtype=np.float32,
    )
)
COLD = np.array([1, 3, 4])
SCORES = np.array(
    [
        [9.0, 1.0, 8.0, 3.0, 2.0],  # shelf: 3, 4  -> hit at rank 1
        [9.0, 1.0, 8.0, 3.0, 2.0],  # shelf: 3, 4  -> hit at rank 2
        [0.0, 0.0, 0.0, 0.0, 0.0],
    ]
)


def test_cold_items_ranked_among_cold_items_only_hand_computed():
    table = evaluate_cold_items({"m": SCORES}, TEST, COLD, k=2, metrics=("ndcg", "hit_rate"))
    # user 0: relevant {3}, shelf [3, 4] -> ndcg 1. user 1: relevant {1, 4}, shelf [3, 4]
    # -> dcg 1/log2(3), idcg 1 + 1/log2(3).
    expected_user_1 = (1 / np.log2(3)) / (1 + 1 / np.log2(3))
    assert table.loc["m", "ndcg@2"] == pytest.approx((1.0 + expected_user_1) / 2)
    assert table.loc["m", "hit_rate@2"] == 1.0
    assert table.loc["m", "users"] == 2
    assert table.loc["m", "ranked_among"] == "3 cold items only"


def test_cold_items_never_recommend_warm_items():
    # warm items get the best scores but must not take a place on the shelf
    perfect = np.zeros((3, 5))
    perfect[0, 3] = perfect[1, [1, 4]] = 1.0
    perfect[:, [0, 2]] = 100.0
    table = evaluate_cold_items({"perfect": perfect}, TEST, COLD, k=2, metrics=("ndcg",))
    assert table.loc["perfect", "ndcg@2"] == 1.0


def test_cold_users_exclude_the_known_items_and_match_metrics():
    known = sp.csr_matrix(np.array([[0, 0, 0, 0, 1], [1, 0, 0, 0, 0], [0, 0, 0, 0, 0]]))
    scores = {"m": np.array([[1.0, 2, 3, 4, 5], [5, 4, 3, 2, 1], [5, 4, 3, 2, 1]])}
    table = evaluate_cold_users(scores, TEST, known=known, k=2, metrics=("ndcg", "recall"))
    # lists after removing known items: u0 [3, 2], u1 [1, 2], u2 [0, 1]
    recommended = np.array([[3, 2], [1, 2], [0, 1]])
    assert table.loc["m", "ndcg@2"] == pytest.approx(metrics.ndcg_at_k(recommended, TEST, k=2))
    assert table.loc["m", "recall@2"] == pytest.approx((1 / 2 + 1 / 2 + 1 / 2) / 3)
    assert table.loc["m", "ranked_among"] == "all 5 items minus the user's known ones"


def test_cold_evaluation_rejects_bad_input():
    with pytest.raises(ValueError, match="must lie in 0..4"):
        evaluate_cold_items({"m": SCORES}, TEST, np.array([1, 2, 7]))
    with pytest.raises(ValueError, match="duplicates"):
        evaluate_cold_items({"m": SCORES}, TEST, np.array([1, 1]))
    with pytest.raises(ValueError, match="shape"):
        evaluate_cold_items({"m": SCORES[:2]}, TEST, COLD)
    with pytest.raises(ValueError, match="empty"):
        evaluate_cold_users({}, TEST)
    with pytest.raises(ValueError, match="sparse"):
        evaluate_cold_users({"m": SCORES}, TEST.toarray())
    with pytest.raises(ValueError, match="unknown metric"):
        evaluate_cold_users({"m": SCORES}, TEST, metrics=("coverage",))


def events_frame():
    # user 1: items 10, 11, 12, 13 in time order; user 2: items 12, 10, 13, 11
    return pd.DataFrame(
        {
            "user_id": [1, 2, 1, 2, 1, 2, 1, 2],
            "item_id": [10, 12, 11, 10, 12, 13, 13, 11],
            "timestamp": [1, 1, 2, 2, 3, 3, 4, 4],
        }
    ).sample(frac=1.0, random_state=0)


def test_warm_up_curve_history_and_fixed_test_hand_computed():
    seen = {}

    def next_in_catalogue(history, user_ids):
        # a toy "sequel" model: the item after the last known one; item 14 when nothing is known
        seen[history.nnz // len(user_ids)] = history.toarray()
        scores = np.zeros(history.shape)
        last = np.array([row.indices.max() if row.nnz else 3 for row in history])
        scores[np.arange(len(last)), last + 1] = 1.0
        return scores

    def constant(history, user_ids):
        return np.tile([4.0, 3.0, 2.0, 1.0, 0.0], (len(user_ids), 1))

    curve = warm_up_curve(
        {"next": next_in_catalogue, "constant": constant},
        events_frame(),
        item_ids=[10, 11, 12, 13, 14],
        n_known=(2, 0),
        k=1,
        metric="hit_rate",
    )
    # histories at n=2: user 1 knows {10, 11}, user 2 knows {12, 10}
    np.testing.assert_array_equal(seen[2], [[1, 1, 0, 0, 0], [1, 0, 1, 0, 0]])
    np.testing.assert_array_equal(seen[0], np.zeros((2, 5)))
    # the test is fixed (from position 2 on): user 1 {12, 13}, user 2 {13, 11}, and each user's
    # first two items are removed from the ranking at every n.
    table = curve.set_index(["n_known", "model"])["hit_rate@1"]
    assert list(curve["n_known"].unique()) == [0, 2]
    # constant: user 1 -> 12 (hit), user 2 -> 11 (hit), whatever is known
    assert table[(0, "constant")] == 1.0 and table[(2, "constant")] == 1.0
    # next: n=0 both get item 14 (miss); n=2 user 1 -> 12 (hit), user 2 -> 13 (hit)
    assert table[(0, "next")] == 0.0
    assert table[(2, "next")] == 1.0
    assert set(curve["users"]) == {2}


def test_warm_up_curve_needs_enough_events_per_user():
    with pytest.raises(ValueError, match="more than 4 events"):
        warm_up_curve(
            {"c": lambda h, u: np.zeros(h.shape)}, events_frame(), [10, 11, 12, 13], (0, 4)
        )
    with pytest.raises(ValueError, match="not in item_ids"):
        warm_up_curve({"c": lambda h, u: np.zeros(h.shape)}, events_frame(), [10, 11, 12], (0, 1))
    with pytest.raises(ValueError, match="shape"):
        warm_up_curve({"c": lambda h, u: np.zeros((1, 1))}, events_frame(), [10, 11, 12, 13], (1,))


# ------------------------------------------------- ties: a seeded random order, never item ids


def popular_first_world(n_users=200, n_items=100, seed=0):
    """Test events concentrated on the low item ids, as in MovieLens (well-known films first)."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, n_items + 1)
    rows = [
        rng.choice(n_items, size=5, replace=False, p=weights / weights.sum())
        for _ in range(n_users)
    ]
    dense = np.zeros((n_users, n_items), dtype=np.float32)
    dense[np.repeat(np.arange(n_users), 5), np.concatenate(rows)] = 1.0
    return sp.csr_matrix(dense)


def random_lists_ndcg(test, columns, k, n_lists=20):
    """Mean nDCG@k of uniformly random lists over ``columns`` (several draws)."""
    relevant = test[:, columns]
    users = np.flatnonzero(np.diff(relevant.indptr))
    values = []
    for seed in range(n_lists):
        scores = np.random.default_rng(100 + seed).random((len(users), len(columns)))
        values.append(metrics.ndcg_at_k(np.argsort(-scores, axis=1)[:, :k], relevant[users], k=k))
    return np.mean(values), np.std(values)


def assert_like_random(tied_by_seed, random_mean):
    """Over tie seeds, a tied model's mean score is a random list's (within 4 standard errors)."""
    tied_by_seed = np.asarray(tied_by_seed)
    standard_error = tied_by_seed.std(ddof=1) / np.sqrt(len(tied_by_seed))
    assert abs(tied_by_seed.mean() - random_mean) < 4 * standard_error + 0.005


def test_a_model_that_ties_everything_scores_like_random_on_new_users():
    test = popular_first_world()
    tied = {"no information": np.zeros(test.shape)}
    by_seed = [
        evaluate_cold_users(tied, test, k=10, metrics=("ndcg",), seed=seed).iloc[0]["ndcg@10"]
        for seed in range(30)
    ]
    random_mean, random_sd = random_lists_ndcg(test, np.arange(test.shape[1]), 10)
    id_order = metrics.ndcg_at_k(np.tile(np.arange(10), (test.shape[0], 1)), test, k=10)
    assert id_order > random_mean + 10 * random_sd  # the trap: id order looks like a model
    assert_like_random(by_seed, random_mean)
    assert max(by_seed) < id_order


def test_a_model_that_ties_everything_scores_like_random_on_the_shelf():
    test = popular_first_world()
    cold = np.arange(60)
    by_seed = [
        evaluate_cold_items(
            {"tied": np.ones(test.shape)}, test, cold, k=5, metrics=("ndcg",), seed=seed
        ).iloc[0]["ndcg@5"]
        for seed in range(30)
    ]
    assert_like_random(by_seed, random_lists_ndcg(test, cold, 5)[0])


def test_tie_order_is_the_documented_seeded_permutation():
    test = popular_first_world(n_users=3, n_items=30)
    for seed in (0, 7):
        table = evaluate_cold_users(
            {"tied": np.zeros(test.shape)}, test, k=4, metrics=("ndcg",), seed=seed
        )
        permutation = np.random.default_rng(seed).permutation(30)
        lists = np.tile(np.argsort(permutation)[:4], (3, 1))
        assert table.loc["tied", "ndcg@4"] == pytest.approx(metrics.ndcg_at_k(lists, test, k=4))


def test_warm_up_curve_with_nothing_known_scores_like_random():
    rng = np.random.default_rng(3)
    n_users, n_items = 150, 80
    weights = 1.0 / np.arange(1, n_items + 1)
    items = np.concatenate(
        [
            rng.choice(n_items, size=12, replace=False, p=weights / weights.sum())
            for _ in range(n_users)
        ]
    )
    events = pd.DataFrame(
        {
            "user_id": np.repeat(np.arange(n_users), 12),
            "item_id": items,
            "timestamp": np.tile(np.arange(12), n_users),
        }
    )
    by_seed = [
        warm_up_curve(
            {"zeros": lambda h, users: np.zeros(h.shape)},
            events,
            np.arange(n_items),
            n_known=(0, 2),
            seed=seed,
        )
        .query("n_known == 0")["ndcg@10"]
        .iloc[0]
        for seed in range(30)
    ]
    ordered = np.argsort(events["timestamp"].to_numpy(), kind="stable")
    later = events.iloc[ordered].groupby("user_id").cumcount().to_numpy() >= 2
    test = sp.csr_matrix(
        (
            np.ones(int(later.sum())),
            (events["user_id"].iloc[ordered][later], events["item_id"].iloc[ordered][later]),
        ),
        shape=(n_users, n_items),
    )
    test.data[:] = 1.0
    # random lists over the items not removed (each user's first two)
    history = sp.csr_matrix(
        (
            np.ones(int((~later).sum())),
            (events["user_id"].iloc[ordered][~later], events["item_id"].iloc[ordered][~later]),
        ),
        shape=(n_users, n_items),
    )
    random_values = []
    for seed in range(20):
        scores = np.random.default_rng(200 + seed).random((n_users, n_items))
        scores[history.nonzero()] = -np.inf
        random_values.append(metrics.ndcg_at_k(np.argsort(-scores, axis=1)[:, :10], test, k=10))
    assert_like_random(by_seed, np.mean(random_values))


def test_cold_evaluation_refuses_a_bad_seed():
    with pytest.raises(ValueError, match="seed"):
        evaluate_cold_users({"m": SCORES}, TEST, seed=-1)
