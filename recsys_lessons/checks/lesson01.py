"""Checks for lesson 01 (exercises/01_baselines_and_evaluation.ipynb): precision@k, NDCG@k, AP@k.

The learner implements the metrics for ONE user: ``recommended`` is that user's ranked list
of item indices (best first) and ``relevant`` the set of items the user actually liked in the
test data (never empty). Definitions follow design doc 4.1 and
:mod:`recsys_lessons.metrics`, which computes the same numbers for all users at once:

- precision@k = (relevant items among the first k recommended) / k. A list shorter than k
  still divides by k: an empty slot on the shelf is a wasted slot.
- NDCG@k = DCG@k / IDCG@k with binary gain, DCG@k = sum over ranks r = 1..k of
  rel_r / log2(r + 1), and IDCG@k the DCG of a perfect list: min(|relevant|, k) hits at the
  top.
- AP@k = (sum of precision@r over the ranks r <= k that hold a relevant item) /
  min(|relevant|, k); its mean over users is MAP@k.

Each question lists the mistakes learners make most often, as buggy implementations, so a
check can name the exact bug. (The checker runs every implementation with NumPy floating-point
warnings silenced, so the NumPy variants below need no ``np.errstate``.)
"""

from __future__ import annotations

import math

import numpy as np

from recsys_lessons.checks import FunctionQuestion, Mistake, case

__all__ = ["q1", "q2", "q3"]


# --------------------------------------------------------------------------------------
# q1: precision@k
# --------------------------------------------------------------------------------------


def _hits(recommended, relevant, k):
    return sum(1 for item in list(recommended)[:k] if item in relevant)


def _precision_at_k(recommended, relevant, k):
    return _hits(recommended, relevant, k) / k


def _precision_over_relevant(recommended, relevant, k):
    return _hits(recommended, relevant, k) / len(relevant)


def _precision_not_truncated(recommended, relevant, k):
    return _hits(recommended, relevant, len(recommended)) / k


def _precision_over_list_length(recommended, relevant, k):
    return _hits(recommended, relevant, k) / len(list(recommended)[:k])


def _precision_hit_count(recommended, relevant, k):
    return _hits(recommended, relevant, k)


def _precision_floor_division(recommended, relevant, k):
    return _hits(recommended, relevant, k) // k


def _precision_truncated_to_int(recommended, relevant, k):
    return int(_hits(recommended, relevant, k) / k)


q1 = FunctionQuestion(
    label="q1",
    name="precision_at_k",
    reference=_precision_at_k,
    cases=[
        case([7, 2, 9, 4, 1], {2, 4, 8}, k=5, note="two hits in a list of five"),
        case([7, 2, 9, 4, 1], {7, 1}, k=3, note="k smaller than the list"),
        case([5, 6, 7, 8], {5, 6, 7, 8, 9, 10}, k=2, note="more relevant items than k"),
        case([0, 1, 2], {9}, k=3, note="no hits"),
        case([4, 2], {2, 3}, k=5, note="list shorter than k"),
        case([3, 1, 2], {1, 2}, k=1, note="k = 1"),
    ],
    mistakes=[
        Mistake(
            "You divided by the number of relevant items: that is recall@k. Precision asks "
            "what share of the k recommended slots were hits, so divide by k.",
            _precision_over_relevant,
        ),
        Mistake(
            "You counted hits in the whole list. Only the first k items are shown to the user: "
            "look at recommended[:k] only.",
            _precision_not_truncated,
        ),
        Mistake(
            "You divided by the length of the list. When the list is shorter than k, still "
            "divide by k: an empty slot on the shelf is a wasted slot.",
            _precision_over_list_length,
        ),
        Mistake(
            "You returned the number of hits. Precision is a share between 0 and 1: divide the "
            "hits by k.",
            _precision_hit_count,
        ),
        Mistake(
            "You used integer division (hits // k) or int(): 2 // 5 is 0, not 0.4, so every "
            "list with fewer than k hits scores 0. Use true division, hits / k.",
            _precision_floor_division,
            _precision_truncated_to_int,
        ),
    ],
    hint=[
        "Precision asks: of the k slots the user sees, what share holds a relevant item? "
        "Only the first k items of the list count, and the share is out of k.",
        "Two steps: count the hits among recommended[:k] (`item in relevant` is fast on a "
        "set), then divide that count by k with true division (/), even when the list is "
        "shorter than k. Still stuck? q1.solution() shows one answer.",
    ],
    solution="""
        def precision_at_k(recommended, relevant, k):
            top_k = recommended[:k]
            hits = sum(1 for item in top_k if item in relevant)
            return hits / k
    """,
    why=(
        "precision@k measures how much of the shelf a user actually sees is worth seeing. It "
        "is the metric a product team feels: every slot on the home page costs attention."
    ),
)


# --------------------------------------------------------------------------------------
# q2: NDCG@k
# --------------------------------------------------------------------------------------


def _dcg(recommended, relevant, k):
    return sum(
        1 / math.log2(rank + 1)
        for rank, item in enumerate(list(recommended)[:k], start=1)
        if item in relevant
    )


def _ideal_dcg(n_hits):
    return sum(1 / math.log2(rank + 1) for rank in range(1, n_hits + 1))


def _ndcg_at_k(recommended, relevant, k):
    return _dcg(recommended, relevant, k) / _ideal_dcg(min(len(relevant), k))


def _ndcg_log2_rank(recommended, relevant, k):
    # Pure Python: 1 / log2(1) raises ZeroDivisionError at rank 1.
    dcg = sum(
        1 / math.log2(rank)
        for rank, item in enumerate(list(recommended)[:k], start=1)
        if item in relevant
    )
    idcg = sum(1 / math.log2(rank) for rank in range(1, min(len(relevant), k) + 1))
    return dcg / idcg


def _ndcg_log2_rank_numpy_loop(recommended, relevant, k):
    # NumPy scalars: 1 / log2(1) = inf, so IDCG is inf and the ratio is nan or 0.
    dcg = sum(
        1 / np.log2(rank)
        for rank, item in enumerate(list(recommended)[:k], start=1)
        if item in relevant
    )
    idcg = sum(1 / np.log2(rank) for rank in range(1, min(len(relevant), k) + 1))
    return float(np.float64(dcg) / idcg)


def _ndcg_log2_rank_numpy_vector(recommended, relevant, k):
    # Vectorized: gains / log2(ranks) is 0/0 = nan or 1/0 = inf at rank 1, so DCG is nan/inf.
    top_k = list(recommended)[:k]
    gains = np.array([item in relevant for item in top_k], dtype=float)
    ideal = np.ones(min(len(relevant), k))
    dcg = np.sum(gains / np.log2(np.arange(1, len(gains) + 1)))
    idcg = np.sum(ideal / np.log2(np.arange(1, len(ideal) + 1)))
    return float(dcg / idcg)


def _ndcg_log2_rank_plus_two(recommended, relevant, k):
    # Ranks start at 1 AND the discount adds 2: rank 1 is discounted by log2(3).
    dcg = sum(
        1 / math.log2(rank + 2)
        for rank, item in enumerate(list(recommended)[:k], start=1)
        if item in relevant
    )
    idcg = sum(1 / math.log2(rank + 2) for rank in range(1, min(len(relevant), k) + 1))
    return dcg / idcg


def _ndcg_log2_rank_plus_two_in_dcg_only(recommended, relevant, k):
    dcg = sum(
        1 / math.log2(rank + 2)
        for rank, item in enumerate(list(recommended)[:k], start=1)
        if item in relevant
    )
    return dcg / _ideal_dcg(min(len(relevant), k))


def _ndcg_ideal_over_all_relevant(recommended, relevant, k):
    return _dcg(recommended, relevant, k) / _ideal_dcg(len(relevant))


def _ndcg_dcg_not_truncated(recommended, relevant, k):
    return _dcg(recommended, relevant, len(recommended)) / _ideal_dcg(min(len(relevant), k))


def _ndcg_ignores_k(recommended, relevant, k):
    return _dcg(recommended, relevant, len(recommended)) / _ideal_dcg(len(relevant))


def _ndcg_ideal_from_own_hits(recommended, relevant, k):
    # Pure Python: a list without hits gives 0 / 0 and raises ZeroDivisionError.
    return _dcg(recommended, relevant, k) / _ideal_dcg(_hits(recommended, relevant, k))


def _ndcg_ideal_from_own_hits_numpy(recommended, relevant, k):
    # NumPy: a list without hits gives 0 / 0 = nan.
    dcg = np.float64(_dcg(recommended, relevant, k))
    return float(dcg / np.float64(_ideal_dcg(_hits(recommended, relevant, k))))


def _ndcg_not_normalized(recommended, relevant, k):
    return _dcg(recommended, relevant, k)


#: Cases where the order inside the list matters, shared by NDCG@k (q2) and AP@k (q3).
_RANKED_CASES = [
    case([7, 2, 9, 4, 1], {2, 4, 8}, k=5, note="hits at ranks 2 and 4"),
    case([3, 5, 1], {3, 5}, k=3, note="a perfect list"),
    case([5, 6, 0, 8], {5, 8, 9, 10, 11}, k=2, note="more relevant items than k"),
    case([1, 2, 3, 4, 5, 6], {2, 6}, k=3, note="a hit beyond rank k"),
    case([0, 1, 2], {7}, k=3, note="no hits"),
    case([4, 2], {2, 3}, k=5, note="list shorter than k"),
]


q2 = FunctionQuestion(
    label="q2",
    name="ndcg_at_k",
    reference=_ndcg_at_k,
    cases=[*_RANKED_CASES, case([9, 3], {9, 3}, k=1, note="k = 1")],
    mistakes=[
        Mistake(
            "The discount at rank 1 must be log2(1 + 1) = 1, but yours divides by log2(1) = 0. "
            "With ranks starting at 1 use log2(rank + 1); with enumerate() starting at 0, "
            "use log2(i + 2).",
            _ndcg_log2_rank,
            _ndcg_log2_rank_numpy_loop,
            _ndcg_log2_rank_numpy_vector,
        ),
        Mistake(
            "Your discount is one rank too deep: the first slot must count 1 / log2(1 + 1) = "
            "1, but yours counts 1 / log2(3). With ranks starting at 1 use log2(rank + 1); "
            "log2(i + 2) is only right when i counts from 0 (plain enumerate()).",
            _ndcg_log2_rank_plus_two,
            _ndcg_log2_rank_plus_two_in_dcg_only,
        ),
        Mistake(
            "Your ideal DCG puts ALL relevant items at the top, but a list of k items can hold "
            "at most k hits: the ideal list has min(len(relevant), k) ones. Otherwise a user "
            "with many relevant items can never reach 1.",
            _ndcg_ideal_over_all_relevant,
        ),
        Mistake(
            "Your DCG counts hits below rank k. Only the first k items count: sum over "
            "recommended[:k].",
            _ndcg_dcg_not_truncated,
        ),
        Mistake(
            "Your function ignores k: the DCG must sum over recommended[:k] only, and the ideal "
            "DCG uses min(len(relevant), k) hits.",
            _ndcg_ignores_k,
        ),
        Mistake(
            "Your ideal DCG only moves the hits YOUR list found to the top. The ideal list is "
            "the best possible one: min(len(relevant), k) relevant items at ranks 1, 2, ..., "
            "including the ones your list missed.",
            _ndcg_ideal_from_own_hits,
            _ndcg_ideal_from_own_hits_numpy,
        ),
        Mistake(
            "You returned the DCG. Divide it by the ideal DCG (the DCG of a perfect list) so "
            "that a perfect ranking scores exactly 1.",
            _ndcg_not_normalized,
        ),
    ],
    hint=[
        "NDCG is a ratio of two sums: the DCG of YOUR list, and the DCG of the best list the "
        "user could have been shown. A hit at rank r is worth 1 / log2(r + 1), so the first "
        "slot counts 1 and later ones less.",
        "Walk down recommended[:k] with ranks starting at 1 (enumerate(..., start=1)) and add "
        "1 / math.log2(rank + 1) at every hit: that is the DCG. The ideal list has "
        "min(len(relevant), k) hits in the first slots: add the same discount for ranks 1 to "
        "that number. Return DCG / ideal DCG. Still stuck? q2.solution() shows one answer.",
    ],
    solution="""
        import math

        def ndcg_at_k(recommended, relevant, k):
            dcg = sum(
                1 / math.log2(rank + 1)
                for rank, item in enumerate(recommended[:k], start=1)
                if item in relevant
            )
            n_ideal_hits = min(len(relevant), k)
            ideal_dcg = sum(1 / math.log2(rank + 1) for rank in range(1, n_ideal_hits + 1))
            return dcg / ideal_dcg
    """,
    why=(
        "NDCG rewards putting hits at the TOP of the list, where users look, and its "
        "normalization makes users with few and many relevant items comparable. It is the "
        "headline metric of most recommender benchmarks, including this course's."
    ),
)


# --------------------------------------------------------------------------------------
# q3: average precision@k (AP@k; its mean over users is MAP@k)
# --------------------------------------------------------------------------------------


def _precisions_at_hits(recommended, relevant, k):
    """precision@r at every rank r <= k that holds a relevant item."""
    precisions, hits = [], 0
    for rank, item in enumerate(list(recommended)[:k], start=1):
        if item in relevant:
            hits += 1
            precisions.append(hits / rank)
    return precisions


def _average_precision_at_k(recommended, relevant, k):
    return sum(_precisions_at_hits(recommended, relevant, k)) / min(len(relevant), k)


def _ap_over_all_relevant(recommended, relevant, k):
    return sum(_precisions_at_hits(recommended, relevant, k)) / len(relevant)


def _ap_over_hits(recommended, relevant, k):
    # Pure Python: a list without hits gives 0 / 0 and raises ZeroDivisionError.
    precisions = _precisions_at_hits(recommended, relevant, k)
    return sum(precisions) / len(precisions)


def _ap_over_hits_numpy(recommended, relevant, k):
    # NumPy: a list without hits gives 0.0 / 0 = nan.
    precisions = np.array(_precisions_at_hits(recommended, relevant, k), dtype=float)
    return float(precisions.sum() / np.float64(precisions.size))


def _ap_over_hits_guarded(recommended, relevant, k):
    # The same bug with a guard for lists without hits.
    precisions = _precisions_at_hits(recommended, relevant, k)
    return sum(precisions) / len(precisions) if precisions else 0.0


def _ap_over_k(recommended, relevant, k):
    return sum(_precisions_at_hits(recommended, relevant, k)) / k


def _ap_not_normalized(recommended, relevant, k):
    return sum(_precisions_at_hits(recommended, relevant, k))


def _ap_every_rank(recommended, relevant, k):
    top_k = list(recommended)[:k]
    precisions = [_hits(top_k, relevant, rank) / rank for rank in range(1, len(top_k) + 1)]
    return sum(precisions) / min(len(relevant), k)


def _ap_every_rank_mean(recommended, relevant, k):
    top_k = list(recommended)[:k]
    return sum(_hits(top_k, relevant, rank) / rank for rank in range(1, len(top_k) + 1)) / k


def _ap_precision_of_whole_list(recommended, relevant, k):
    n_hits = _hits(recommended, relevant, k)
    return n_hits * (n_hits / k) / min(len(relevant), k)


def _ap_not_truncated(recommended, relevant, k):
    precisions = _precisions_at_hits(recommended, relevant, len(recommended))
    return sum(precisions) / min(len(relevant), k)


def _ap_ranks_from_zero(recommended, relevant, k):
    # Pure Python: enumerate() from 0 divides by 0 when the first item is a hit.
    total, hits = 0.0, 0
    for rank, item in enumerate(list(recommended)[:k]):
        if item in relevant:
            hits += 1
            total += hits / rank
    return total / min(len(relevant), k)


def _ap_ranks_from_zero_numpy(recommended, relevant, k):
    # NumPy: the same bug gives inf when the first item is a hit.
    top_k = list(recommended)[:k]
    hits = np.array([item in relevant for item in top_k], dtype=float)
    precision_at_rank = np.cumsum(hits) / np.arange(len(top_k))
    return float((precision_at_rank * hits).sum() / min(len(relevant), k))


q3 = FunctionQuestion(
    label="q3",
    name="average_precision_at_k",
    reference=_average_precision_at_k,
    cases=[
        *_RANKED_CASES,
        case(
            [12, 7, 3, 25, 9, 41, 5, 18, 30, 2],
            {7, 9, 30, 44},
            k=10,
            note="the worked example of lesson 01",
        ),
    ],
    mistakes=[
        Mistake(
            "You divided by len(relevant). Then a user with more relevant items than k cannot "
            "reach 1, even with a perfect list. Divide by min(len(relevant), k), the most hits "
            "a list of k items can hold. (Some libraries, e.g. the MAP of the Microsoft "
            "Recommenders benchmark, do divide by len(relevant): a different definition, so "
            "their MAP numbers are not comparable with ours.)",
            _ap_over_all_relevant,
        ),
        Mistake(
            "You divided by the number of hits your list found. Then a list that finds ONE "
            "relevant item at rank 1 and misses all the others scores a perfect 1. Divide by "
            "min(len(relevant), k), which also makes a list without hits score 0.",
            _ap_over_hits,
            _ap_over_hits_numpy,
            _ap_over_hits_guarded,
        ),
        Mistake(
            "You divided by k. A user with only 2 relevant items, found at ranks 1 and 2, "
            "should score 1; divide by min(len(relevant), k) instead.",
            _ap_over_k,
        ),
        Mistake(
            "You returned the sum of the precisions. Divide it by min(len(relevant), k) so that "
            "a perfect list scores exactly 1.",
            _ap_not_normalized,
        ),
        Mistake(
            "You added precision@r at EVERY rank. AP adds it only at the ranks r that hold a "
            "relevant item (a miss adds nothing), then divides by min(len(relevant), k).",
            _ap_every_rank,
            _ap_every_rank_mean,
        ),
        Mistake(
            "At each hit you used the precision of the whole top-k list. Use the precision of "
            "the list down to that hit: (hits so far, this one included) / rank.",
            _ap_precision_of_whole_list,
        ),
        Mistake(
            "You counted hits below rank k. Only the first k items count: loop over "
            "recommended[:k].",
            _ap_not_truncated,
        ),
        Mistake(
            "Your ranks start at 0, so a hit in the first slot divides by 0. The first item "
            "has rank 1: use enumerate(recommended[:k], start=1).",
            _ap_ranks_from_zero,
            _ap_ranks_from_zero_numpy,
        ),
    ],
    hint=[
        "AP looks at the list only where it found something: at each hit, how precise was "
        "the list down to that hit? Average those precisions, over the most hits a list of k "
        "items could hold.",
        "Walk down recommended[:k] with ranks starting at 1, keeping a count of the hits so "
        "far. At a hit, add precision@rank (hits so far, this one included, divided by the "
        "rank); add nothing at a miss. Divide the total by min(len(relevant), k). Still "
        "stuck? q3.solution() shows one answer.",
    ],
    solution="""
        def average_precision_at_k(recommended, relevant, k):
            hits, total = 0, 0.0
            for rank, item in enumerate(recommended[:k], start=1):
                if item in relevant:
                    hits += 1
                    total += hits / rank  # precision@rank, added at the hits only
            return total / min(len(relevant), k)
    """,
    why=(
        "AP rewards a list for being precise at every hit, so early hits count most; its mean "
        "over users is MAP, a headline number of many leaderboards. Libraries disagree on its "
        "denominator (min(|relevant|, k), |relevant| or the number of hits), so check it before "
        "you compare MAP numbers."
    ),
)
