"""Stacking candidates (recsys_lessons.hybrid.stacking): values checked against hand computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys_lessons.hybrid.stacking import stacking_candidates

INF = np.inf


@pytest.fixture
def scores():
    # two users x five items; user 7 has seen item 0, user 9 has seen item 4
    a = np.array([[-INF, 4.0, 3.0, 2.0, 1.0], [5.0, 1.0, 1.0, 0.0, -INF]])
    b = np.array([[-INF, 0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 2.0, 3.0, -INF]])
    return {"a": a, "b": b}


def test_candidates_are_the_union_of_each_models_top_n(scores):
    frame = stacking_candidates(scores, users=[7, 9], n=1)
    # user 7: a's best is item 1, b's best is item 4; user 9: a's best 0, b's best 3
    assert frame[["user", "item"]].values.tolist() == [[7, 1], [7, 4], [9, 0], [9, 3]]
    assert frame["n_sources"].tolist() == [1, 1, 1, 1]


def test_every_model_scores_every_candidate_with_hand_computed_z_and_rank(scores):
    frame = stacking_candidates(scores, users=[7, 9], n=2).set_index(["user", "item"])
    # user 7, model a over unseen items 1-4: scores 4, 3, 2, 1 -> mean 2.5, std sqrt(1.25)
    assert frame.loc[(7, 1), "a_z"] == pytest.approx(1.5 / np.sqrt(1.25))
    assert frame.loc[(7, 4), "a_z"] == pytest.approx(-1.5 / np.sqrt(1.25))
    assert frame.loc[(7, 4), "a_rank"] == 4  # a ranks item 4 last, yet b proposed it
    assert frame.loc[(7, 4), "b_rank"] == 1
    # user 9, model a: 5, 1, 1, 0 -> ties (items 1 and 2) go to the lower index
    assert frame.loc[(9, 1), "a_rank"] == 2
    assert frame.loc[(9, 2), "a_rank"] == 3
    # user 9: a's top 2 = items {0, 1}, b's = {3, 2}: no overlap
    assert frame.loc[9, "n_sources"].tolist() == [1, 1, 1, 1]


def test_n_sources_counts_the_models_that_propose_an_item(scores):
    frame = stacking_candidates(scores, users=[7, 9], n=3).set_index(["user", "item"])
    # user 7: a's top 3 = items {1, 2, 3}, b's = {4, 3, 2}
    assert frame.loc[7, "n_sources"].to_dict() == {1: 1, 2: 2, 3: 2, 4: 1}


def test_seen_items_are_never_candidates(scores):
    frame = stacking_candidates(scores, users=[7, 9], n=5)
    pairs = set(zip(frame["user"], frame["item"], strict=True))
    assert (7, 0) not in pairs and (9, 4) not in pairs
    assert len(pairs) == 8


def test_z_scores_do_not_change_when_a_model_rescales(scores):
    scaled = {**scores, "a": scores["a"] * 10 + 3}
    assert np.allclose(
        stacking_candidates(scores, [7, 9], 2)["a_z"], stacking_candidates(scaled, [7, 9], 2)["a_z"]
    )


def test_different_seen_masks_are_refused(scores):
    other = scores["b"].copy()
    other[0, 0] = 1.0
    with pytest.raises(ValueError, match="other cells -inf"):
        stacking_candidates({"a": scores["a"], "b": other}, [7, 9])


def test_shape_and_n_are_checked(scores):
    with pytest.raises(ValueError, match="len\\(users\\)=3"):
        stacking_candidates(scores, [7, 9, 11])
    with pytest.raises(ValueError, match="n"):
        stacking_candidates(scores, [7, 9], n=0)
    with pytest.raises(ValueError, match="empty"):
        stacking_candidates({}, [7, 9])
    with pytest.raises(ValueError, match="NaN"):
        stacking_candidates({"a": np.where(np.isinf(scores["a"]), -INF, np.nan)}, [7, 9])


def test_ranker_scores_with_its_first_trees_as_a_smaller_ranker_would():
    from recsys_lessons.hybrid import LearnedRanker

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "user": np.repeat(np.arange(40), 15),
            "signal": rng.normal(size=600),
            "noise": rng.normal(size=600),
        }
    )
    labels = (frame["signal"] > 0.8).astype(int).to_numpy()
    big = LearnedRanker(iterations=20, min_child_samples=5).fit(frame, labels, ["signal", "noise"])
    small = LearnedRanker(iterations=7, min_child_samples=5).fit(frame, labels, ["signal", "noise"])
    np.testing.assert_allclose(big.predict(frame, iterations=7), small.predict(frame))
    assert not np.allclose(big.predict(frame, iterations=7), big.predict(frame))
    with pytest.raises(ValueError, match="at most"):
        big.predict(frame, iterations=21)
    with pytest.raises(ValueError, match="lambdarank"):
        LearnedRanker("pointwise", iterations=5).fit(frame, labels, ["signal"]).predict(frame, 3)
