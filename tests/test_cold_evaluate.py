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
