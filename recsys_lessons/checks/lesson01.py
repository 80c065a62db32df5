"""Checks for lesson 01 (exercises/01_baselines_and_evaluation.ipynb): precision@k and NDCG@k.

The learner implements the metrics for ONE user: ``recommended`` is that user's ranked list
of item indices (best first) and ``relevant`` the set of items the user actually liked in the
test data (never empty). Definitions follow design doc 4.1 and
:mod:`recsys_lessons.metrics`, which computes the same numbers for all users at once:

- precision@k = (relevant items among the first k recommended) / k. A list shorter than k
  still divides by k: an empty slot on the shelf is a wasted slot.
- NDCG@k = DCG@k / IDCG@k with binary gain, DCG@k = sum over ranks r = 1..k of
  rel_r / log2(r + 1), and IDCG@k the DCG of a perfect list: min(|relevant|, k) hits at the
  top.

Each question lists the mistakes learners make most often, as buggy implementations, so a
check can name the exact bug. (The checker runs every implementation with NumPy floating-point
warnings silenced, so the NumPy variants below need no ``np.errstate``.)
"""

from __future__ import annotations

import math

import numpy as np

from recsys_lessons.checks import FunctionQuestion, Mistake, case

__all__ = ["q1", "q2"]


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
    ],
    hint=(
        "Take the first k recommended items, count how many are in `relevant` "
        "(`item in relevant` is fast on a set), and divide that count by k."
    ),
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


q2 = FunctionQuestion(
    label="q2",
    name="ndcg_at_k",
    reference=_ndcg_at_k,
    cases=[
        case([7, 2, 9, 4, 1], {2, 4, 8}, k=5, note="hits at ranks 2 and 4"),
        case([3, 5, 1], {3, 5}, k=3, note="a perfect list"),
        case([5, 6, 0, 8], {5, 8, 9, 10, 11}, k=2, note="more relevant items than k"),
        case([1, 2, 3, 4, 5, 6], {2, 6}, k=3, note="a hit beyond rank k"),
        case([0, 1, 2], {7}, k=3, note="no hits"),
        case([4, 2], {2, 3}, k=5, note="list shorter than k"),
        case([9, 3], {9, 3}, k=1, note="k = 1"),
    ],
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
        "DCG adds 1 / log2(rank + 1) for every hit among the first k items (ranks start at 1). "
        "The ideal DCG is the same sum for a perfect list: min(len(relevant), k) hits at the "
        "top. NDCG is their ratio.",
        "for rank, item in enumerate(recommended[:k], start=1): if item in relevant, add "
        "1 / math.log2(rank + 1). Then the ideal: sum 1 / math.log2(rank + 1) for rank in "
        "range(1, min(len(relevant), k) + 1).",
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
