"""Sequences, sessions, the next-item protocol and the sequential models (lesson 07)."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys_lessons.evaluation import bootstrap_interval, paired_bootstrap_interval
from recsys_lessons.models import Popularity
from recsys_lessons.sequences import (
    build_sequences,
    evaluate_next_item,
    evaluate_sampled_next_item,
    global_time_split,
    next_item_split,
    share_of_history_after_target,
)
from recsys_lessons.sequences.models import (
    LastNItemKNN,
    MarkovChain,
    MatrixModel,
    SequentialRecommender,
    SessionKNN,
    ShortLongBlend,
    choose_blend_weight,
    transition_counts,
)

T0 = pd.Timestamp("2024-01-01 20:00")


def _frame(rows):
    """rows: (user, item, minutes after T0)."""
    users, items, minutes = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "user_id": users,
            "item_id": items,
            "rating": 1.0,
            "timestamp": [T0 + pd.Timedelta(minutes=m) for m in minutes],
        }
    )


# user 1: 10 -> 11 -> 12 (session 1), 3 hours later 13 (session 2)
# user 2: 11 and 10 in the same second (tie), then 12
EVENTS = _frame(
    [(1, 12, 20), (1, 10, 0), (1, 11, 10), (1, 13, 200), (2, 11, 5), (2, 10, 5), (2, 12, 30)]
)


def test_sequences_are_time_ordered_with_item_index_tie_break():
    seqs = build_sequences(EVENTS, session_gap="1h")
    assert seqs.users.tolist() == [0, 1]
    assert seqs.indptr.tolist() == [0, 4, 7]
    # items 10..13 are indices 0..3; user 2's tie at minute 5 puts item 10 (index 0) first
    assert seqs.items.tolist() == [0, 1, 2, 3, 0, 1, 2]
    assert seqs.sessions.tolist() == [0, 0, 0, 1, 2, 2, 2]
    assert seqs.session_lengths().tolist() == [3, 1, 3]


def test_sequences_do_not_depend_on_row_order():
    a = build_sequences(EVENTS)
    b = build_sequences(EVENTS.sample(frac=1.0, random_state=3))
    assert np.array_equal(a.items, b.items) and np.array_equal(a.sessions, b.sessions)


def test_session_gap_is_strict():
    seqs = build_sequences(EVENTS, session_gap="10min")  # user 1: gaps of exactly 10 min stay
    assert seqs.sessions[:4].tolist() == [0, 0, 0, 1]
    assert build_sequences(EVENTS, session_gap="9min").sessions[:3].tolist() == [0, 1, 2]


def test_last_items_and_matrices():
    seqs = build_sequences(EVENTS, session_gap="1h")
    assert seqs.last_items(5).tolist() == [[3, 2, 1, 0, -1], [2, 1, 0, -1, -1]]
    X = seqs.matrix()
    assert X.shape == (2, 4) and X.toarray().tolist() == [[1, 1, 1, 1], [1, 1, 1, 0]]
    assert seqs.session_matrix().toarray().tolist() == [
        [1, 1, 1, 0],
        [0, 0, 0, 1],
        [1, 1, 1, 0],
    ]


def test_next_item_split_holds_out_the_last_event():
    seqs = build_sequences(EVENTS, session_gap="1h")
    history, targets, continues = next_item_split(seqs)
    assert targets.tolist() == [3, 2]
    assert continues.tolist() == [False, True]  # user 1's target opens a new session
    assert history.items.tolist() == [0, 1, 2, 0, 1]
    assert history.n_sessions == 2
    # min_history=3: user 2 keeps only 2 events before the target, so is not evaluated
    _, targets, continues = next_item_split(seqs, min_history=3)
    assert targets.tolist() == [3, -1] and continues.tolist() == [False, False]


def test_bad_input_raises():
    with pytest.raises(ValueError, match="timestamp"):
        build_sequences(EVENTS.drop(columns="timestamp"))
    with pytest.raises(ValueError, match="session_gap"):
        build_sequences(EVENTS, session_gap="0s")
    with pytest.raises(ValueError, match="unknown item"):
        build_sequences(EVENTS, item_ids=[10, 11])
    with pytest.raises(ValueError, match="Sequences"):
        MarkovChain().fit(sp.csr_matrix(np.eye(3)))
    with pytest.raises(ValueError, match="smoothing"):
        MarkovChain(smoothing=-1).fit(build_sequences(EVENTS))
    with pytest.raises(ValueError, match="not fitted"):
        MarkovChain().score(build_sequences(EVENTS))


def test_markov_chain_matches_hand_computed_probabilities():
    seqs = build_sequences(EVENTS, session_gap="1h")
    counts = transition_counts(seqs).toarray()
    # transitions: 0->1, 1->2, 2->3 (user 1); 0->1, 1->2 (user 2)
    expected = np.zeros((4, 4))
    expected[0, 1], expected[1, 2], expected[2, 3] = 2, 2, 1
    assert np.array_equal(counts, expected)
    within = transition_counts(seqs, within_sessions=True).toarray()
    expected[2, 3] = 0
    assert np.array_equal(within, expected)

    model = MarkovChain(smoothing=2.0).fit(seqs)
    popularity = np.array([2, 2, 2, 1]) / 7
    # last items: user 1 -> 3 (never a predecessor: pure popularity), user 2 -> 2
    scores = model.score(seqs)
    assert np.allclose(scores[0], popularity)
    assert np.allclose(scores[1], (np.array([0, 0, 0, 1]) + 2 * popularity) / (1 + 2))
    assert np.allclose(scores.sum(axis=1), 1.0)  # rows normalized over next items


def test_last_n_item_knn_weights_recent_items_more():
    seqs = build_sequences(EVENTS, session_gap="1h")
    model = LastNItemKNN(n_last=2, decay=0.5, neighbors=None, shrink=0.0).fit(seqs)
    S = model.similarity_.toarray()
    scores = model.score(seqs)
    assert np.allclose(scores[0], S[3] + 0.5 * S[2])
    assert np.allclose(scores[1], S[2] + 0.5 * S[1])


def test_session_knn_matches_hand_computed_votes():
    # training sessions: {0,1,2}, {3}, {0,1}; query = user 2's last session {0, 1}
    frame = _frame([(1, 10, 0), (1, 11, 1), (1, 12, 2), (1, 13, 300), (2, 10, 0), (2, 11, 1)])
    seqs = build_sequences(frame, session_gap="1h")
    model = SessionKNN(neighbors=2).fit(seqs)
    scores = model.score(seqs, rows=[1])
    # sims: {0,1,2}: 2 / sqrt(2 * 3); {3}: 0; {0,1}: 2 / sqrt(2 * 2) = 1; two nearest kept
    s = 2 / np.sqrt(6)
    assert np.allclose(scores[0], [s + 1, s + 1, s, 0])
    items, _ = model.recommend(seqs, k=1, rows=[1])
    assert items.tolist() == [[2]]  # seen items 0 and 1 removed


def test_session_knn_decay_weights_the_query():
    frame = _frame([(1, 10, 0), (1, 11, 1), (2, 10, 0), (3, 11, 0)])
    seqs = build_sequences(frame, session_gap="1h")
    model = SessionKNN(neighbors=1, decay=0.5).fit(seqs)
    # user 1's session: item 11 most recent (weight 1), item 10 weight 0.5;
    # the session {11} of user 3 (cos 1 / |w|) beats {10} (0.5 / |w|), after itself.
    model2 = SessionKNN(neighbors=2, decay=0.5).fit(seqs)
    scores = model2.score(seqs, rows=[0])[0]
    w = np.sqrt(1.25)
    # neighbours: itself (1.5 / (w * sqrt 2)) and {11} (1 / w)
    assert np.allclose(scores, [1.5 / (w * np.sqrt(2)), 1.5 / (w * np.sqrt(2)) + 1 / w])
    assert model.score(seqs, rows=[0]).shape == (1, 2)


def test_blend_interpolates_between_its_parts():
    seqs = build_sequences(EVENTS, session_gap="1h")
    short = MarkovChain(smoothing=1.0)
    blend = ShortLongBlend(Popularity(), short, weight=0.0).fit(seqs)
    long_only = MatrixModel(Popularity()).fit(seqs).score(seqs)
    spread = long_only.max(1, keepdims=True) - long_only.min(1, keepdims=True)
    assert np.allclose(blend.score(seqs), (long_only - long_only.min(1, keepdims=True)) / spread)
    blend.weight = 1.0
    markov = MarkovChain(smoothing=1.0).fit(seqs).score(seqs)
    low, high = markov.min(1, keepdims=True), markov.max(1, keepdims=True)
    assert np.allclose(blend.score(seqs), (markov - low) / (high - low))


def test_wrappers_fit_clones_and_leave_the_callers_models_unfitted():
    seqs = build_sequences(EVENTS, session_gap="1h")
    long, short = Popularity(), MarkovChain(smoothing=1.0)
    blend = ShortLongBlend(long, short, weight=0.5).fit(seqs)
    wrapped = MatrixModel(long).fit(seqs)
    # the old code fitted long_model (through MatrixModel) and short_model in place
    assert not hasattr(long, "X_") and not hasattr(short, "counts_")
    assert blend.short_ is not short and wrapped.model_ is not long
    np.testing.assert_allclose(blend.long_.score(seqs), wrapped.score(seqs))


def test_evaluate_next_item_full_ranking_metrics():
    seqs = build_sequences(EVENTS, session_gap="1h")
    history, targets, _ = next_item_split(seqs)
    model = MarkovChain(smoothing=1.0).fit(history)
    # with seen items kept: user 1's last item (2) was never a predecessor in the history,
    # so popularity [2, 2, 2, 0] / 6 ranks item 0 first (lowest index) -> miss of target 3;
    # user 2's last item 1 was followed by 2 twice -> hit of target 2.
    table = evaluate_next_item(model, history, targets, k=1, exclude_seen=False)
    assert table["hit_rate@1"].tolist() == [0.0, 1.0]
    assert table["mrr@1"].tolist() == [0.0, 1.0]
    # with seen items removed only item 3 is left for user 1: a hit at rank 1
    table = evaluate_next_item(model, history, targets, k=2)
    assert table["hit_rate@2"].tolist() == [1.0, 1.0]


def test_choose_blend_weight_picks_the_best_validation_weight():
    rng = np.random.default_rng(0)
    # every user watches a chain 0 -> 1 -> ... in order: the Markov chain is perfect
    rows = [(u, 10 + i, i) for u in range(1, 30) for i in range(rng.integers(3, 8))]
    rows += [(u, 19, 0) for u in range(30, 80)]  # the most popular item is never next
    seqs = build_sequences(_frame(rows))
    history, _, _ = next_item_split(seqs)
    blend = ShortLongBlend(Popularity(), MarkovChain(smoothing=0.0))
    table = choose_blend_weight(blend, history, weights=[0.0, 0.5, 1.0], k=1, metric="hit_rate")
    assert table["hit_rate@1"].tolist()[0] == 0.0  # popularity alone always proposes item 19
    assert table["hit_rate@1"].tolist()[-1] == 1.0
    best = table["weight"][table["hit_rate@1"].idxmax()]
    assert blend.weight == best == 1.0  # the first weight reaching the best score


def test_bootstrap_intervals_cover_the_mean_and_pair_users():
    values = np.r_[np.zeros(50), np.ones(50)]
    interval = bootstrap_interval(values, seed=1)
    assert interval.estimate == 0.5 and 0.38 < interval.low < 0.5 < interval.high < 0.62
    a = np.linspace(0, 1, 200)
    interval = paired_bootstrap_interval(a + 0.01, a)
    assert np.isclose([interval.estimate, interval.low, interval.high], 0.01).all()
    with pytest.raises(ValueError, match="same user order"):
        paired_bootstrap_interval(a, a[:10])


def test_largest_per_row_keeps_the_top_values_lower_column_on_ties():
    from recsys_lessons.sequences.models import largest_per_row

    matrix = sp.csr_matrix(
        np.array([[0.5, 0.0, 0.9, 0.5], [0.0, 0.0, 0.0, 0.0], [0.1, 0.2, 0.3, 0.4]])
    )
    kept = largest_per_row(matrix, 2).toarray()
    assert kept.tolist() == [[0.5, 0.0, 0.9, 0.0], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.3, 0.4]]


# Lesson 07's evaluation traps: sampled metrics, the leak of leave-last-out, a time cut.

# user 1: items 10, 11 at minutes 0, 10 (target 11 at minute 10)
# user 2: items 12, 13, 14 at minutes 5, 20, 30 (target 14 at minute 30)
# user 3: a single event, never evaluated
LEAK_EVENTS = _frame([(1, 10, 0), (1, 11, 10), (2, 12, 5), (2, 13, 20), (2, 14, 30), (3, 10, 40)])


class FixedScores(SequentialRecommender):
    """Every history gets the same item scores (a test double)."""

    def __init__(self, item_scores=None):
        self.item_scores = item_scores

    def _fit(self, sequences):
        self.scores_ = np.asarray(self.item_scores, dtype=np.float64)

    def _score(self, histories, rows):
        return np.tile(self.scores_, (len(rows), 1))


def test_share_of_history_after_target_counts_other_users_later_events():
    seqs = build_sequences(LEAK_EVENTS, session_gap="1h")
    share = share_of_history_after_target(seqs)
    # history: u1@0, u2@5, u2@20, u3@40 (u3 is not evaluated, so its event stays in)
    # u1's target at 10: u2@20 and u3@40 are later -> 2 / 4; u2's target at 30: u3@40 -> 1 / 4
    assert share[:2].tolist() == [0.5, 0.25]
    assert np.isnan(share[2])


def test_share_of_history_after_target_is_zero_when_everybody_stops_together():
    seqs = build_sequences(_frame([(1, 10, 0), (1, 11, 50), (2, 12, 5), (2, 13, 50)]))
    assert share_of_history_after_target(seqs).tolist() == [0.0, 0.0]


def test_global_time_split_tests_the_first_event_after_the_cut():
    seqs = build_sequences(LEAK_EVENTS, session_gap="1h")
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
    seqs = build_sequences(LEAK_EVENTS, session_gap="1h")
    history, targets, _ = global_time_split(seqs, "2024-01-01 20:15")
    target_time = seqs.timestamps[seqs.indptr[1] + 1]  # u2's first event after the cut
    assert targets[1] == seqs.items[seqs.indptr[1] + 1]
    assert history.timestamps.max() < target_time


@pytest.mark.parametrize("cutoff", ["2020-01-01", "2030-01-01", True, "not a time"])
def test_global_time_split_refuses_a_cut_outside_the_data_or_not_a_time(cutoff):
    seqs = build_sequences(LEAK_EVENTS)
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
