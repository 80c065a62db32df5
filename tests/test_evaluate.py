"""The evaluation harness: one row per model, metrics that match the metrics module."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys_lessons import metrics
from recsys_lessons.data import interaction_matrix
from recsys_lessons.evaluation import evaluate
from recsys_lessons.models import Popularity, Random

TRAIN = sp.csr_matrix(
    np.array(
        [
            [1, 1, 0, 0, 0, 0],
            [1, 0, 1, 0, 0, 0],
            [1, 1, 1, 0, 0, 0],
            [0, 0, 0, 1, 0, 0],
        ],
        dtype=np.float32,
    )
)
# User 3 has no test items and must be left out of every mean.
TEST = sp.csr_matrix(
    np.array(
        [
            [0, 0, 1, 0, 0, 0],
            [0, 1, 0, 0, 1, 0],
            [0, 0, 0, 1, 0, 0],
            [0, 0, 0, 0, 0, 0],
        ],
        dtype=np.float32,
    )
)


def test_one_row_per_model_with_metrics_and_timings():
    table = evaluate({"pop": Popularity(), "rand": Random(seed=1)}, TRAIN, TEST, k=2)
    assert list(table.index) == ["pop", "rand"]
    assert list(table.columns) == [
        "precision@2",
        "recall@2",
        "ndcg@2",
        "map@2",
        "coverage",
        "fit_seconds",
        "recommend_seconds",
    ]
    assert (table[["fit_seconds", "recommend_seconds"]] >= 0).all().all()


def test_popularity_row_matches_a_hand_computation():
    # Popularity counts: items [3, 2, 2, 1, 0, 0]. Top-2 unseen lists:
    #   user 0 (saw 0, 1): [2, 3] -> hit at rank 1 (item 2): P=1/2, R=1/1
    #   user 1 (saw 0, 2): [1, 3] -> hit at rank 1 (item 1): P=1/2, R=1/2
    #   user 2 (saw 0, 1, 2): [3, 4] -> hit at rank 1 (item 3): P=1/2, R=1/1
    table = evaluate(
        {"pop": Popularity()}, TRAIN, TEST, k=2, metrics=("precision", "recall", "coverage")
    )
    assert table.loc["pop", "precision@2"] == pytest.approx(0.5)
    assert table.loc["pop", "recall@2"] == pytest.approx((1 + 0.5 + 1) / 3)
    # Items recommended: {1, 2, 3, 4} of 6.
    assert table.loc["pop", "coverage"] == pytest.approx(4 / 6)


def test_per_user_frame_agrees_with_the_metrics_module():
    table, per_user = evaluate(
        {"pop": Popularity()}, TRAIN, TEST, k=2, metrics=("ndcg", "map"), per_user=True
    )
    assert list(per_user["user"]) == [0, 1, 2]
    recommended, _ = Popularity().fit(TRAIN).recommend([0, 1, 2], k=2)
    expected = metrics.ndcg_at_k(recommended, TEST[[0, 1, 2]], k=2, per_user=True)
    np.testing.assert_allclose(per_user["ndcg@2"], expected)
    assert table.loc["pop", "map@2"] == pytest.approx(per_user["map@2"].mean())


def test_evaluate_fits_clones_and_can_return_them():
    models = {"pop": Popularity(), "rand": Random(seed=1)}
    table, per_user, fitted = evaluate(
        models, TRAIN, TEST, k=2, metrics=("ndcg",), per_user=True, return_models=True
    )
    # the old code fitted the caller's models in place
    assert not hasattr(models["pop"], "X_") and not hasattr(models["rand"], "rng_")
    assert list(fitted) == ["pop", "rand"] and fitted["pop"] is not models["pop"]
    recommended = fitted["pop"].recommend([0, 1, 2], k=2)[0]
    np.testing.assert_allclose(
        per_user.loc[per_user["model"] == "pop", "ndcg@2"],
        metrics.ndcg_at_k(recommended, TEST[[0, 1, 2]], k=2, per_user=True),
    )
    again = evaluate(models, TRAIN, TEST, k=2, metrics=("ndcg",))  # same dict, same answer
    pd.testing.assert_series_equal(again["ndcg@2"], table["ndcg@2"])


def test_dataframes_are_turned_into_aligned_matrices():
    train = pd.DataFrame({"user_id": [1, 1, 2], "item_id": [10, 20, 10], "rating": [5.0, 4.0, 3.0]})
    test = pd.DataFrame({"user_id": [2], "item_id": [20], "rating": [4.0]})
    table = evaluate({"pop": Popularity()}, train, test, k=1, metrics=("hit_rate",))
    # User 2 saw item 10, so the only unseen item, 20, is recommended: a hit.
    assert table.loc["pop", "hit_rate@1"] == 1.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"models": {}}, "models is empty"),
        ({"metrics": ("accuracy",)}, "unknown metric"),
        ({"test": sp.csr_matrix(([1.0], ([0], [0])), shape=(4, 5))}, "differ in shape"),
        ({"test": sp.csr_matrix((4, 6))}, "no interactions"),
    ],
)
def test_bad_arguments_are_refused_with_a_reason(kwargs, message):
    arguments = {"models": {"pop": Popularity()}, "train": TRAIN, "test": TEST, **kwargs}
    with pytest.raises(ValueError, match=message):
        evaluate(**arguments)


# ---------------------------------------------------------------- silent wrong answers refused


def test_test_equal_to_train_is_refused_not_scored_zero():
    with pytest.raises(ValueError, match="all of them: is test the training data"):
        evaluate({"pop": Popularity()}, TRAIN, TRAIN, k=2)


def test_test_overlapping_train_is_refused():
    overlapping = TEST.tolil()
    overlapping[0, 0] = 1.0  # user 0 already has item 0 in train
    with pytest.raises(
        ValueError, match=r"1 of the 5 test interactions are also in train \(e.g. user 0, item 0\)"
    ):
        evaluate({"pop": Popularity()}, TRAIN, overlapping.tocsr(), k=2)


def test_matrices_with_different_id_orders_are_refused():
    frame = pd.DataFrame({"user_id": [1, 2, 3], "item_id": [10, 20, 30], "rating": 1.0})
    train = interaction_matrix(frame.iloc[:2], user_ids=[1, 2, 3], item_ids=[10, 20, 30])
    test = interaction_matrix(frame.iloc[2:], user_ids=[3, 2, 1], item_ids=[10, 20, 30])
    with pytest.raises(ValueError, match="list their user ids differently.*train.like"):
        evaluate({"pop": Popularity()}, train, test, k=1)


class ItemsOnly(Popularity):
    def recommend(self, users=None, k=10, exclude_seen=True):
        return super().recommend(users, k, exclude_seen)[0]


def test_a_recommend_that_returns_only_items_is_explained():
    with pytest.raises(ValueError, match=r"recommend must return a pair \(items, scores\)"):
        evaluate({"mine": ItemsOnly()}, TRAIN, TEST, k=2)


@pytest.mark.parametrize(
    "models, message",
    [
        ([Popularity()], "models must be a dict of name -> model"),
        ({"pop": Popularity}, r"pass an instance, Popularity\(\)"),
        ({"pop": "popularity"}, "not a model with fit and recommend"),
    ],
)
def test_models_must_be_a_dict_of_models(models, message):
    with pytest.raises(ValueError, match=message):
        evaluate(models, TRAIN, TEST, k=2)


def test_a_single_metric_name_is_one_metric():
    table = evaluate({"pop": Popularity()}, TRAIN, TEST, k=2, metrics="ndcg")
    expected = evaluate({"pop": Popularity()}, TRAIN, TEST, k=2, metrics=["ndcg"])
    assert list(table.columns[:1]) == ["ndcg@2"]
    assert table["ndcg@2"].equals(expected["ndcg@2"])
