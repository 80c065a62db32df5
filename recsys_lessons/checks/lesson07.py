"""Checks for lesson 07 (exercises/07_sequences_and_sessions.ipynb): next-item models and watch time.

- q1, ``transition_matrix(sequences, n_items, smoothing)``: ``sequences`` is a list of lists of
  item indices, each one user's events in time order. ``C[i, j]`` counts how often ``j``
  directly follows ``i`` inside one sequence, ``p_j`` is item ``j``'s share of all events, and
  the answer is the dense ``(n_items, n_items)`` array
  ``P[i, j] = (C[i, j] + smoothing * p_j) / (sum_j' C[i, j'] + smoothing)``: each ROW is a
  distribution over next items. This is :class:`recsys_lessons.sequences.models.MarkovChain`.
- q2, ``hold_out_last(sequences)``: leave-last-out. Returns ``(histories, targets)``: for each
  sequence with at least two events, its events but the last, and the last one.
- q3, ``recommend_next(P, history, n)``: the ``n`` items with the largest ``P[last item of the
  history]``, items of the history removed, best first.
- q4, ``watch_time_weights(clicked, minutes)``: Covington et al.'s sample weights, the minutes
  watched for a clicked impression and 1 for the others
  (:func:`recsys_lessons.sequences.watch_time.watch_time_weights`).

The test cases have no ties among the scores that decide q3's answers, so any correct
tie-breaking passes. q1 has a user who repeats a transition (every occurrence counts); q3 has
lists of 200 and 300 out of 1,000 items, where ``np.argpartition`` without a final sort returns
the right items in the wrong order.
"""

from __future__ import annotations

import numpy as np

from recsys_lessons.checks import FunctionQuestion, Mistake, case

__all__ = ["q1", "q2", "q3", "q4"]


# --------------------------------------------------------------------------------------
# q1: the transition matrix
# --------------------------------------------------------------------------------------


def _pair_counts(sequences, n_items):
    counts = np.zeros((n_items, n_items))
    for sequence in sequences:
        for a, b in zip(sequence[:-1], sequence[1:], strict=True):
            counts[a, b] += 1
    return counts


def _popularity(sequences, n_items):
    events = np.bincount(np.concatenate([np.asarray(s, int) for s in sequences]), minlength=n_items)
    return events / events.sum()


def _normalize_rows(counts, prior, smoothing):
    return (counts + smoothing * prior[None, :]) / (counts.sum(axis=1, keepdims=True) + smoothing)


def _transition_matrix(sequences, n_items, smoothing=1.0):
    counts = _pair_counts(sequences, n_items)
    return _normalize_rows(counts, _popularity(sequences, n_items), smoothing)


def _normalized_over_columns(sequences, n_items, smoothing=1.0):
    counts = _pair_counts(sequences, n_items)
    prior = _popularity(sequences, n_items)
    return (counts + smoothing * prior[:, None]) / (counts.sum(axis=0, keepdims=True) + smoothing)


def _transposed_counts(sequences, n_items, smoothing=1.0):
    counts = _pair_counts(sequences, n_items).T
    return _normalize_rows(counts, _popularity(sequences, n_items), smoothing)


def _pairs_across_users(sequences, n_items, smoothing=1.0):
    joined = [list(np.concatenate([np.asarray(s, int) for s in sequences]))]
    counts = _pair_counts(joined, n_items)
    return _normalize_rows(counts, _popularity(sequences, n_items), smoothing)


def _uniform_prior(sequences, n_items, smoothing=1.0):
    counts = _pair_counts(sequences, n_items)
    return _normalize_rows(counts, np.full(n_items, 1 / n_items), smoothing)


def _smoothing_only_on_top(sequences, n_items, smoothing=1.0):
    counts = _pair_counts(sequences, n_items)
    prior = _popularity(sequences, n_items)
    total = counts.sum(axis=1, keepdims=True)
    return np.divide(
        counts + smoothing * prior[None, :],
        total,
        out=np.zeros_like(counts),
        where=total > 0,
    )


def _pairs_once_per_user(sequences, n_items, smoothing=1.0):
    counts = np.zeros((n_items, n_items))
    for sequence in sequences:
        for a, b in set(zip(sequence[:-1], sequence[1:], strict=True)):
            counts[a, b] += 1
    return _normalize_rows(counts, _popularity(sequences, n_items), smoothing)


def _pairs_fancy_index_per_user(sequences, n_items, smoothing=1.0):
    counts = np.zeros((n_items, n_items))
    for sequence in sequences:
        s = np.asarray(sequence, int)
        counts[s[:-1], s[1:]] += 1  # a pair repeated in this sequence is written once
    return _normalize_rows(counts, _popularity(sequences, n_items), smoothing)


def _pairs_as_flags(sequences, n_items, smoothing=1.0):
    counts = np.zeros((n_items, n_items))
    for sequence in sequences:
        for a, b in zip(sequence[:-1], sequence[1:], strict=True):
            counts[a, b] = 1
    return _normalize_rows(counts, _popularity(sequences, n_items), smoothing)


def _no_smoothing(sequences, n_items, smoothing=1.0):
    counts = _pair_counts(sequences, n_items)
    total = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, total, out=np.zeros_like(counts), where=total > 0)


_SEQUENCES = [[0, 1, 2], [0, 1, 3], [2, 3], [1, 2, 0, 1]]
_WITH_SILENT_ITEM = [[0, 2, 1], [2, 1], [1, 0]]  # item 3 never appears
_LONG = [[4, 0, 1, 2, 3], [4, 1], [0, 4, 2, 3, 4], [3, 3, 2]]  # 3 -> 3: a rewatch
# One user watches 0 -> 1 twice and another 1 -> 2 twice: a pair repeated inside one sequence
# counts every time (counting each distinct pair once per user is a common slip).
_REWATCHES = [[0, 1, 0, 1, 2], [2, 0, 1], [1, 2, 1, 2]]

q1 = FunctionQuestion(
    label="q1",
    name="transition_matrix",
    reference=_transition_matrix,
    cases=[
        case(_SEQUENCES, 4, 1.0, note="four users, smoothing 1"),
        case(_SEQUENCES, 4, 0.5, note="four users, smoothing 0.5"),
        case(_WITH_SILENT_ITEM, 4, 2.0, note="an item that never appears (its row is the prior)"),
        case(_LONG, 5, 1.0, note="longer sequences, a rewatch 3 -> 3"),
        case(_REWATCHES, 3, 1.0, note="a user who follows 0 with 1 twice"),
    ],
    mistakes=[
        Mistake(
            "You normalized the wrong axis: your COLUMNS sum to 1. P[i, j] is the chance that "
            "j comes NEXT after i, so each ROW i is a distribution over next items: divide "
            "C[i, :] by its row total, counts.sum(axis=1, keepdims=True), and add the prior "
            "p along the row (smoothing * p[None, :]).",
            _normalized_over_columns,
        ),
        Mistake(
            "Your counts are transposed: C[i, j] must count i FOLLOWED BY j (i = the earlier "
            "item = the row). For a sequence s, count the pairs (s[t], s[t + 1]).",
            _transposed_counts,
        ),
        Mistake(
            "You counted pairs across users: the last item of one user's sequence followed by "
            "the first item of the next user's is not a transition. Count pairs inside each "
            "sequence separately.",
            _pairs_across_users,
        ),
        Mistake(
            "Your smoothing spreads the pseudo-counts uniformly. Mix each row with the "
            "POPULARITY distribution p (each item's share of all events): C[i, j] + smoothing "
            "* p[j], so an item with no transitions falls back to the popular items.",
            _uniform_prior,
        ),
        Mistake(
            "Your rows do not sum to 1: the pseudo-counts add `smoothing` to each row in total, "
            "so add `smoothing` to the denominator as well: row total + smoothing.",
            _smoothing_only_on_top,
        ),
        Mistake(
            "A pair that occurs twice inside one sequence (a user who goes 0 -> 1, later 0 -> 1 "
            "again) counted once: you counted each DISTINCT pair once per user. With fancy "
            "indexing, counts[s[:-1], s[1:]] += 1 writes a repeated (row, column) only once, "
            "and a set of pairs drops the repeats too. Add 1 for every occurrence: a loop over "
            "the consecutive pairs, or np.add.at(counts, (s[:-1], s[1:]), 1).",
            _pairs_once_per_user,
            _pairs_fancy_index_per_user,
        ),
        Mistake(
            "Your counts are 0/1 flags: setting counts[a, b] = 1 (or a fancy-index += over all "
            "the pairs at once) records THAT j followed i, not HOW OFTEN. Add 1 for every "
            "occurrence of the pair, in every sequence.",
            _pairs_as_flags,
        ),
        Mistake(
            "You ignored `smoothing`: these are raw transition frequencies, and an item never "
            "followed by anything gets a row of zeros. Use (C[i, j] + smoothing * p[j]) / "
            "(row total + smoothing).",
            _no_smoothing,
        ),
    ],
    hint=[
        "Two ingredients: how often each item directly follows each other item inside one "
        "user's sequence (every occurrence counts, and no pair crosses from one user to the "
        "next), and each item's share of all events. Each ROW of the answer is then a "
        "distribution over the next item.",
        "Four steps: (1) a zero n_items x n_items array of counts; for each sequence, add 1 at "
        "[earlier item, next item] for every consecutive pair (zip the sequence with itself "
        "shifted by one); (2) the popularity p: np.bincount of all events together, with "
        "minlength=n_items, divided by their number; (3) add smoothing times p to every row of "
        "the counts (p as a row vector); (4) divide each row by its count total plus smoothing "
        "(keepdims=True keeps the totals a column). q1.solution() shows the code.",
    ],
    solution="""
        import numpy as np

        def transition_matrix(sequences, n_items, smoothing=1.0):
            counts = np.zeros((n_items, n_items))
            for sequence in sequences:
                for a, b in zip(sequence[:-1], sequence[1:]):
                    counts[a, b] += 1                         # a followed by b
            events = np.bincount(np.concatenate(sequences), minlength=n_items)
            p = events / events.sum()                         # popularity prior
            return (counts + smoothing * p[None, :]) / (counts.sum(axis=1, keepdims=True) + smoothing)
    """,
    why=(
        "A transition matrix is the smallest 'up next' model there is: one table lookup per "
        "request, and on MovieLens it beats ALS at predicting the next film."
    ),
)


# --------------------------------------------------------------------------------------
# q2: leave-last-out without leaking the target
# --------------------------------------------------------------------------------------


def _hold_out_last(sequences):
    kept = [list(s) for s in sequences if len(s) >= 2]
    return [s[:-1] for s in kept], [s[-1] for s in kept]


def _history_with_target(sequences):
    kept = [list(s) for s in sequences if len(s) >= 2]
    return [s for s in kept], [s[-1] for s in kept]


def _first_event_held_out(sequences):
    kept = [list(s) for s in sequences if len(s) >= 2]
    return [s[1:] for s in kept], [s[0] for s in kept]


def _keeps_single_events(sequences):
    kept = [list(s) for s in sequences if len(s) >= 1]
    return [s[:-1] for s in kept], [s[-1] for s in kept]


def _two_held_out(sequences):
    kept = [list(s) for s in sequences if len(s) >= 2]
    return [s[:-2] for s in kept], [s[-1] for s in kept]


q2 = FunctionQuestion(
    label="q2",
    name="hold_out_last",
    reference=_hold_out_last,
    cases=[
        case([[3, 1, 2], [0, 4]], note="two users"),
        case([[5, 6, 7, 8], [2], [1, 0, 3]], note="a user with a single event"),
        case([[9]], note="nobody can be evaluated"),
    ],
    mistakes=[
        Mistake(
            "Your histories still contain the target: that is leakage. The model sees the "
            "answer, so every score is inflated (an 'exclude seen items' step then even removes "
            "the target from the list). The history is every event BEFORE the last: s[:-1].",
            _history_with_target,
        ),
        Mistake(
            "You held out the FIRST event. Next-item prediction holds out the most recent one: "
            "the target is s[-1] and the history s[:-1], in time order.",
            _first_event_held_out,
        ),
        Mistake(
            "A user with a single event has nothing left to predict from: their history would "
            "be empty. Keep only sequences with at least two events.",
            _keeps_single_events,
        ),
        Mistake(
            "Your histories lose the event just before the target: the history is s[:-1], "
            "every event but the last.",
            _two_held_out,
        ),
    ],
    hint=[
        "Time runs left to right inside each sequence: the target is the most recent event, "
        "and the history everything the user did BEFORE it (never the target itself). A user "
        "needs something to predict from.",
        "Keep only the sequences with at least two events; for each, slice off the last event "
        "as the target and keep all the events before it, in order, as the history. Return two "
        "lists in the input order. q2.solution() shows the code.",
    ],
    solution="""
        def hold_out_last(sequences):
            kept = [list(s) for s in sequences if len(s) >= 2]
            return [s[:-1] for s in kept], [s[-1] for s in kept]
    """,
    why=(
        "Leaking the target into the history is the most common way offline results turn out "
        "too good to be true."
    ),
)


# --------------------------------------------------------------------------------------
# q3: recommend the next items
# --------------------------------------------------------------------------------------


def _ranked(scores, n):
    return np.argsort(-scores, kind="stable")[:n]


def _recommend_next(P, history, n):
    scores = np.array(P, dtype=float)[history[-1]].copy()
    scores[list(history)] = -np.inf
    return _ranked(scores, n)


def _from_oldest_item(P, history, n):
    scores = np.array(P, dtype=float)[history[0]].copy()
    scores[list(history)] = -np.inf
    return _ranked(scores, n)


def _from_column(P, history, n):
    scores = np.array(P, dtype=float)[:, history[-1]].copy()
    scores[list(history)] = -np.inf
    return _ranked(scores, n)


def _keeps_history(P, history, n):
    return _ranked(np.array(P, dtype=float)[history[-1]], n)


def _partition_unsorted(P, history, n):
    scores = np.array(P, dtype=float)[history[-1]].copy()
    scores[list(history)] = -np.inf
    return np.argpartition(-scores, n - 1)[:n]  # the n best, in no particular order


def _partition_unsorted_kth_n(P, history, n):
    scores = np.array(P, dtype=float)[history[-1]].copy()
    scores[list(history)] = -np.inf
    return np.argpartition(-scores, n)[:n]


def _worst_first(P, history, n):
    scores = np.array(P, dtype=float)[history[-1]].copy()
    scores[list(history)] = np.inf
    return np.argsort(scores, kind="stable")[:n]


_P = np.array(  # rows sum to 1; no ties among the scores that decide an answer
    [
        [0.05, 0.40, 0.10, 0.30, 0.15],
        [0.21, 0.02, 0.50, 0.08, 0.19],
        [0.25, 0.05, 0.03, 0.55, 0.12],
        [0.60, 0.10, 0.06, 0.04, 0.20],
        [0.07, 0.33, 0.21, 0.15, 0.24],
    ]
)

# A chain over 1,000 items and lists of 200 and 300: long enough that np.argpartition does not
# hand the n best back in sorted order (on 5 items it may look sorted by luck). The rows are
# random, so no two probabilities tie.
_rng = np.random.default_rng(7)
_P_LARGE = _rng.uniform(0.0, 1.0, size=(1000, 1000))
_P_LARGE /= _P_LARGE.sum(axis=1, keepdims=True)

q3 = FunctionQuestion(
    label="q3",
    name="recommend_next",
    reference=_recommend_next,
    cases=[
        case(_P, [0, 2], 2, note="last item 2; item 0 already seen"),
        case(_P, [3, 1], 3, note="last item 1"),
        case(_P, [4], 1, note="a history of one item"),
        case(_P, [2, 4, 3], 2, note="last item 3; its best next item was seen"),
        case(_P_LARGE, [17, 503, 2], 200, note="1,000 items, the 200 best"),
        case(_P_LARGE, [998, 41], 300, note="1,000 items, the 300 best"),
    ],
    mistakes=[
        Mistake(
            "You used the OLDEST item of the history. A first-order chain predicts from the "
            "most recent one: the row P[history[-1]].",
            _from_oldest_item,
        ),
        Mistake(
            "You read a column, P[:, last]: that is 'which items lead TO the last one'. The "
            "next-item distribution is the ROW P[last, :].",
            _from_column,
        ),
        Mistake(
            "Your list contains items already in the history. Set their scores to -np.inf "
            "before ranking.",
            _keeps_history,
        ),
        Mistake(
            "Your list is sorted worst first. Rank by decreasing score: np.argsort(-scores)[:n].",
            _worst_first,
        ),
        Mistake(
            "You have the right n items, but not best first: np.argpartition only promises that "
            "the n best come before the rest, in no particular order (on 5 items it may look "
            "sorted by luck; on 1,000 items it is not). Sort those n by their scores "
            "afterwards: top = np.argpartition(-scores, n - 1)[:n]; "
            "top[np.argsort(-scores[top])].",
            _partition_unsorted,
            _partition_unsorted_kth_n,
        ),
    ],
    hint=[
        "A first-order chain only looks at the most recent item: its row of P is the "
        "distribution of what comes next. Items the user already has must never win, and the "
        "list is best first.",
        "Three steps: (1) take a COPY of the row of P of the last item of the history (a row "
        "of a NumPy array is a view: writing into it would change P itself); (2) give every "
        "item of the history the score minus infinity; (3) rank all the indices by decreasing "
        'score with np.argsort on the negated scores, kind="stable" so that ties keep the '
        "lower index first as the library does, and keep the first n (np.argpartition alone "
        "does not order them). q3.solution() shows the code.",
    ],
    solution="""
        import numpy as np

        def recommend_next(P, history, n):
            scores = np.array(P[history[-1]], dtype=float)   # row of the most recent item
            scores[list(history)] = -np.inf                  # no rewatch suggestions
            return np.argsort(-scores, kind="stable")[:n]
    """,
    why="Serving an 'up next' slot from a Markov chain is one row lookup and one partial sort.",
)


# --------------------------------------------------------------------------------------
# q4: watch-time weights
# --------------------------------------------------------------------------------------


def _watch_time_weights(clicked, minutes):
    clicked = np.asarray(clicked, dtype=bool)
    return np.where(clicked, np.asarray(minutes, dtype=float), 1.0)


def _minutes_everywhere(clicked, minutes):
    return np.asarray(minutes, dtype=float)


def _minutes_plus_one(clicked, minutes):
    return np.asarray(minutes, dtype=float) + 1.0


def _negatives_by_mean_watch_time(clicked, minutes):
    clicked = np.asarray(clicked, dtype=bool)
    minutes = np.asarray(minutes, dtype=float)
    return np.where(clicked, minutes, minutes[clicked].mean())


def _swapped(clicked, minutes):
    clicked = np.asarray(clicked, dtype=bool)
    return np.where(clicked, 1.0, np.asarray(minutes, dtype=float))


def _all_ones(clicked, minutes):
    return np.ones(len(np.asarray(clicked)))


_CLICKED = [True, False, False, True, False]
_MINUTES = [42.0, 0.0, 0.0, 3.5, 0.0]

q4 = FunctionQuestion(
    label="q4",
    name="watch_time_weights",
    reference=_watch_time_weights,
    cases=[
        case(_CLICKED, _MINUTES, note="two clicks, three impressions without a click"),
        case([True, True], [10.0, 120.0], note="only clicks"),
        case([False, True, False], [0.0, 0.5, 0.0], note="a half-minute watch"),
        case(
            np.array(_CLICKED),
            np.array(_MINUTES),
            note="NumPy arrays, like the columns of a log",
        ),
    ],
    mistakes=[
        Mistake(
            "Your negatives get weight 0 (their watch time): the model then never sees an "
            "unclicked impression and predicts a click everywhere. Weight the positives by "
            "their minutes and every negative by 1.",
            _minutes_everywhere,
        ),
        Mistake(
            "Your clicked impressions weigh minutes + 1: the 1 is the weight of the impressions "
            "WITHOUT a click only (1 + 0 minutes happens to give them the right weight). A "
            "click weighs exactly its minutes watched, so the odds estimate expected minutes, "
            "not minutes plus the click rate: choose the weight per impression from `clicked`.",
            _minutes_plus_one,
        ),
        Mistake(
            "Only the POSITIVES are weighted by watch time; the negatives keep weight 1 each. "
            "Weighting the negatives changes what the odds estimate: they are only expected "
            "minutes when a negative counts once.",
            _negatives_by_mean_watch_time,
        ),
        Mistake(
            "You swapped the weights: clicked impressions get their minutes, impressions "
            "without a click get 1.",
            _swapped,
        ),
        Mistake(
            "Every impression has weight 1: that is the click model. Weight each clicked "
            "impression by its watch time.",
            _all_ones,
        ),
    ],
    hint=[
        "Two kinds of impressions get two different weights: a clicked one counts as many "
        "times as minutes were watched, one without a click counts once. `clicked` decides "
        "which is which.",
        "Turn `clicked` into a boolean array and `minutes` into a float array, then pick, "
        "element by element, the minutes where there was a click and the constant 1 elsewhere "
        "(np.where picks between two values with a condition). q4.solution() shows the code.",
    ],
    solution="""
        import numpy as np

        def watch_time_weights(clicked, minutes):
            return np.where(np.asarray(clicked, dtype=bool), np.asarray(minutes, dtype=float), 1.0)
    """,
    why=(
        "With these weights a plain logistic regression ranks by expected watch time, which is "
        "how YouTube stopped rewarding clickbait."
    ),
)
