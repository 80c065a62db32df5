"""Lesson 07's evaluation traps (issue 21): sampled metrics, the leak of leave-last-out, a time cut."""

import numpy as np
import pandas as pd
import pytest

from recsys_lessons.sequences import (
    build_sequences,
    evaluate_next_item,
    evaluate_sampled_next_item,
    global_time_split,
    next_item_split,
    share_of_history_after_target,
)
from recsys_lessons.sequences.models import SequentialRecommender

T0 = pd.Timestamp("2024-01-01 20:00")


def _frame(rows):
    """rows: (user, item, minutes after T0)."""
    users, items, minutes = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "user_id": users,
            "item_id": items,
            "timestamp": [T0 + pd.Timedelta(minutes=m) for m in minutes],
        }
    )


# user 1: items 10, 11 at minutes 0, 10 (target 11 at minute 10)
# user 2: items 12, 13, 14 at minutes 5, 20, 30 (target 14 at minute 30)
# user 3: a single event, never evaluated
EVENTS = _frame([(1, 10, 0), (1, 11, 10), (2, 12, 5), (2, 13, 20), (2, 14, 30), (3, 10, 40)])


class FixedScores(SequentialRecommender):
    """Every history gets the same item scores (a test double)."""

    def __init__(self, item_scores=None):
        self.item_scores = item_scores

    def _fit(self, sequences):
        self.scores_ = np.asarray(self.item_scores, dtype=np.float64)

    def _score(self, histories, rows):
        return np.tile(self.scores_, (len(rows), 1))


def test_share_of_history_after_target_counts_other_users_later_events():
    seqs = build_sequences(EVENTS, session_gap="1h")
    share = share_of_history_after_target(seqs)
    # history: u1@0, u2@5, u2@20, u3@40 (u3 is not evaluated, so its event stays in)
    # u1's target at 10: u2@20 and u3@40 are later -> 2 / 4; u2's target at 30: u3@40 -> 1 / 4
    assert share[:2].tolist() == [0.5, 0.25]
    assert np.isnan(share[2])


def test_share_of_history_after_target_is_zero_when_everybody_stops_together():
    seqs = build_sequences(_frame([(1, 10, 0), (1, 11, 50), (2, 12, 5), (2, 13, 50)]))
    assert share_of_history_after_target(seqs).tolist() == [0.0, 0.0]


def test_global_time_split_tests_the_first_event_after_the_cut():
    seqs = build_sequences(EVENTS, session_gap="1h")
    history, targets, continues = global_time_split(seqs, T0 + pd.Timedelta(minutes=15))
    # before the cut: u1@0, u1@10, u2@5; u3 has nothing before the cut and drops out
    assert history.users.tolist() == [0, 1]
    assert history.timestamps.max() < (T0 + pd.Timedelta(minutes=15)).value // 10**9
    assert targets.tolist() == [-1, 3]  # u1 has no later event; u2's next is item 13
    assert continues.tolist() == [False, True]  # 15 minutes after u2's last event, gap 1h
    # the same cut in seconds, and a history too short for min_history=2
    seconds = int((T0 + pd.Timedelta(minutes=15)).timestamp())
    assert global_time_split(seqs, seconds)[1].tolist() == [-1, 3]
    assert global_time_split(seqs, seconds, min_history=2)[1].tolist() == [-1, -1]


def test_global_time_split_never_trains_on_an_event_after_a_target():
    seqs = build_sequences(EVENTS, session_gap="1h")
    history, targets, _ = global_time_split(seqs, "2024-01-01 20:15")
    target_time = seqs.timestamps[seqs.indptr[1] + 1]  # u2's first event after the cut
    assert targets[1] == seqs.items[seqs.indptr[1] + 1]
    assert history.timestamps.max() < target_time


@pytest.mark.parametrize("cutoff", ["2020-01-01", "2030-01-01", True, "not a time"])
def test_global_time_split_refuses_a_cut_outside_the_data_or_not_a_time(cutoff):
    seqs = build_sequences(EVENTS)
    with pytest.raises(ValueError, match="cut"):
        global_time_split(seqs, cutoff)


def _many_users(n_users=400, n_items=40, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(n_users):
        for step, item in enumerate(rng.choice(n_items, 3, replace=False)):
            rows.append((user, int(item), step))
    return build_sequences(_frame(rows))


def test_sampled_hit_rate_with_every_unseen_item_is_the_full_ranking():
    seqs = _many_users(n_users=50, n_items=12)
    history, targets, _ = next_item_split(seqs)
    model = FixedScores(np.arange(12.0)[::-1]).fit(history)  # no ties
    exact = evaluate_next_item(model, history, targets, k=3)["hit_rate@3"]
    sampled = evaluate_sampled_next_item(model, history, targets, n_negatives=9, k=3, seed=1)
    assert sampled["hit_rate@3"].tolist() == exact.tolist()
    assert sampled["user"].tolist() == history.users[targets >= 0].tolist()


def test_sampled_hit_rate_inflates_a_popularity_ranking():
    """Items ranked by index: a target in mid-list misses the top 1 but often beats 5 random items."""
    seqs = _many_users()
    history, targets, _ = next_item_split(seqs)
    model = FixedScores(-np.arange(40.0)).fit(history)
    exact = evaluate_next_item(model, history, targets, k=1)["hit_rate@1"].mean()
    sampled = evaluate_sampled_next_item(model, history, targets, n_negatives=5, k=1, seed=0)
    # beating 5 random items happens about 1 time in 6, far more often than being the best
    # of the ~37 unseen items
    assert sampled["hit_rate@1"].mean() > 3 * exact


def test_sampled_hit_rate_breaks_ties_at_random():
    """A model that scores everything alike must not win every comparison (strict '>' would)."""
    seqs = _many_users()
    history, targets, _ = next_item_split(seqs)
    model = FixedScores(np.zeros(40)).fit(history)
    hits = evaluate_sampled_next_item(model, history, targets, n_negatives=19, k=1, seed=0)
    # the target's place among 20 tied items is uniform: a hit 1 time in 20
    assert abs(hits["hit_rate@1"].mean() - 1 / 20) < 0.04
    again = evaluate_sampled_next_item(model, history, targets, n_negatives=19, k=1, seed=0)
    assert again.equals(hits)


def test_sampled_negatives_are_never_seen_items_or_the_target():
    seqs = _many_users(n_users=60, n_items=10)
    history, targets, _ = next_item_split(seqs)
    # seen items and the target score highest; without exclusion they would beat the target
    rows = np.flatnonzero(targets >= 0)

    class SeenFirst(FixedScores):
        def _score(self, histories, rows):
            scores = np.zeros((len(rows), 10))
            scores += histories.history_matrix()[rows].toarray() * 10.0
            return scores + 1.0 * (np.arange(10)[None, :] == targets[rows, None])

    model = SeenFirst(np.zeros(10)).fit(history)
    hits = evaluate_sampled_next_item(model, history, targets, n_negatives=7, k=1, seed=0)
    assert len(hits) == len(rows) and (hits["hit_rate@1"] == 1.0).all()


def test_sampled_hit_rate_refuses_more_negatives_than_unseen_items():
    seqs = _many_users(n_users=20, n_items=10)
    history, targets, _ = next_item_split(seqs)
    model = FixedScores(np.zeros(10)).fit(history)
    with pytest.raises(ValueError, match="unseen items"):
        evaluate_sampled_next_item(model, history, targets, n_negatives=8, k=1)
    with pytest.raises(ValueError, match="n_negatives"):
        evaluate_sampled_next_item(model, history, targets, n_negatives=0, k=1)
