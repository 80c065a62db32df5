"""Checks for lesson 11 (exercises/11_responsible_personalization.ipynb): auditing and calibrating.

The learner writes the core of :mod:`recsys_lessons.responsible.audit` and of Steck's re-ranking in
:mod:`recsys_lessons.responsible.mitigate` (lesson 11, notebooks/11_responsible_personalization.ipynb):

- q1, ``aplt(recommended, head, k)``: mean over users of the share of long-tail items
  (``~head``) among the first ``k`` of each list.
- q2, ``gini(recommended, n_items, k)``: Gini index of exposure counts over the whole
  catalogue (items never shown count 0), ascending order, ``sum (2i - n - 1) e_(i) / (n sum e)``.
- q3, ``group_intervals(values, groups, seed)``: for each group label, ``(mean, low, high)``
  from ``recsys_lessons.evaluation.stats.bootstrap_interval`` on the group's non-NaN values with
  ``n_resamples=1000`` and that seed; a dict label -> tuple.
- q4, ``exposure_shares(recommended, item_groups, k)``: share of position-discounted attention
  ``1 / log2(rank + 1)`` going to each item group; a dict label -> share.
- q5, ``calibration_kl(p, q, alpha)``: ``sum over p > 0 of p ln(p / q~)`` with
  ``q~ = (1 - alpha) q + alpha p``.
- q6, ``calibrated_rerank(scores, p, genre_rows, lambda_, k, alpha)``: Steck's greedy for one user;
  ``scores`` are the candidates' relevance, ``genre_rows[i]`` is ``p(g | i)``; each step adds
  the candidate maximising ``(1 - lambda_) * (sum of chosen scores + s_i) - lambda_ * KL(p || q~)``
  with ``q`` the mean of the chosen items' genre rows; returns the chosen candidate indices.

Each question lists the common mistakes as buggy implementations, so a check can name the bug
(the issue asks for hints on the log base, smoothing with the wrong distribution, and exposure
without the position discount). The test cases have no ties that decide an answer.
"""

from __future__ import annotations

import math

import numpy as np

from recsys_lessons.checks import FunctionQuestion, Mistake, case
from recsys_lessons.evaluation.stats import bootstrap_interval

__all__ = ["q1", "q2", "q3", "q4", "q5", "q6"]


# --------------------------------------------------------------------------------------
# q1: APLT
# --------------------------------------------------------------------------------------


def _aplt(recommended, head, k):
    top = np.asarray(recommended)[:, :k]
    return float((~np.asarray(head)[top]).mean())


def _aplt_head_share(recommended, head, k):
    return float(np.asarray(head)[np.asarray(recommended)[:, :k]].mean())


def _aplt_whole_list(recommended, head, k):
    return float((~np.asarray(head)[np.asarray(recommended)]).mean())


def _aplt_catalogue_share(recommended, head, k):
    shown = np.unique(np.asarray(recommended)[:, :k])
    return float((~np.asarray(head)[shown]).mean())


_HEAD = np.array([True, True, False, False, False, False])
_LISTS = np.array([[0, 2, 3, 1], [1, 0, 4, 5], [0, 1, 2, 3]])

q1 = FunctionQuestion(
    label="q1",
    name="aplt",
    reference=_aplt,
    cases=[
        case(_LISTS, _HEAD, 2, note="lists longer than k"),
        case(_LISTS, _HEAD, 3),
        case(np.array([[2, 3], [4, 5]]), _HEAD, 2, note="only long-tail items"),
    ],
    mistakes=[
        Mistake(
            "You measured the share of HEAD items. APLT counts the long tail: the items where "
            "head is False, i.e. (~head)[top].",
            _aplt_head_share,
        ),
        Mistake(
            "You read the whole list; only its first k items count: recommended[:, :k].",
            _aplt_whole_list,
        ),
        Mistake(
            "You took the share of long-tail items among the DISTINCT items shown. APLT is per "
            "list: the mean over users of (long-tail items in the top-k) / k, so an item shown "
            "to many users counts many times.",
            _aplt_catalogue_share,
        ),
    ],
    hint=[
        "APLT asks, list by list, what share of the first k slots goes to the long tail; "
        "`head` is a boolean array you can index with a whole array of item ids.",
        "Keep only the first k columns of `recommended`, look every item up in `head` at once, "
        "negate (long tail = not head) and average: with equal-length lists the mean over all "
        "slots equals the mean over users of each list's tail share.",
    ],
    solution="def aplt(recommended, head, k):\n"
    "    top = np.asarray(recommended)[:, :k]\n"
    "    return float((~head[top]).mean())",
    why="APLT is the simplest number that says whether a model ever leaves the hits.",
)


# --------------------------------------------------------------------------------------
# q2: Gini of exposure
# --------------------------------------------------------------------------------------


def _gini_of(exposure):
    exposure = np.sort(np.asarray(exposure, dtype=float))
    n = exposure.size
    return float((2 * np.arange(1, n + 1) - n - 1) @ exposure / (n * exposure.sum()))


def _gini(recommended, n_items, k):
    return _gini_of(np.bincount(np.asarray(recommended)[:, :k].ravel(), minlength=n_items))


def _gini_shown_only(recommended, n_items, k):
    counts = np.bincount(np.asarray(recommended)[:, :k].ravel(), minlength=n_items)
    return _gini_of(counts[counts > 0])


def _gini_descending(recommended, n_items, k):
    exposure = -np.sort(-np.bincount(np.asarray(recommended)[:, :k].ravel(), minlength=n_items))
    n = exposure.size
    return float((2 * np.arange(1, n + 1) - n - 1) @ exposure / (n * exposure.sum()))


def _gini_whole_list(recommended, n_items, k):
    return _gini_of(np.bincount(np.asarray(recommended).ravel(), minlength=n_items))


def _gini_unsorted(recommended, n_items, k):
    exposure = np.bincount(np.asarray(recommended)[:, :k].ravel(), minlength=n_items)
    n = exposure.size
    return float((2 * np.arange(1, n + 1) - n - 1) @ exposure / (n * exposure.sum()))


def _gini_zero_based_ranks(recommended, n_items, k):
    exposure = np.sort(np.bincount(np.asarray(recommended)[:, :k].ravel(), minlength=n_items))
    n = exposure.size
    return float((2 * np.arange(n) - n - 1) @ exposure / (n * exposure.sum()))


q2 = FunctionQuestion(
    label="q2",
    name="gini",
    reference=_gini,
    cases=[
        case(_LISTS, 6, 2, note="two items never shown in the top 2"),
        case(_LISTS, 8, 3, note="catalogue larger than the items shown"),
        case(np.array([[0, 1], [1, 0]]), 2, 2, note="perfectly equal exposure"),
        case(
            np.array([[5, 3, 1], [5, 3, 0], [5, 2, 4]]),
            7,
            2,
            note="the most shown item has the largest id (item order is not exposure order)",
        ),
    ],
    mistakes=[
        Mistake(
            "You left out the items nobody was shown. They are the heart of the inequality: "
            "count exposure over the WHOLE catalogue with np.bincount(..., minlength=n_items).",
            _gini_shown_only,
        ),
        Mistake(
            "Sort the exposures in ASCENDING order (np.sort): the formula weights the i-th "
            "smallest value by (2i - n - 1). Descending order flips the sign.",
            _gini_descending,
        ),
        Mistake(
            "Only the first k items of each list are exposed: use recommended[:, :k].",
            _gini_whole_list,
        ),
        Mistake(
            "You did not sort the exposures. np.bincount gives them in item-id order, but the "
            "formula needs e_(i), the i-th SMALLEST exposure: sort them in ascending order "
            "(np.sort) before weighting.",
            _gini_unsorted,
        ),
        Mistake(
            "Your ranks run 0..n-1. In the formula i runs from 1 to n (the smallest exposure has "
            "i = 1): use np.arange(1, n + 1), otherwise every weight 2i - n - 1 is off by 2.",
            _gini_zero_based_ranks,
        ),
    ],
    hint=[
        "First count how often each item of the catalogue is shown in a top-k, including the "
        "items that are never shown; then the Gini formula needs those counts in order.",
        "Count with np.bincount over the first k columns (minlength = n_items so unseen items "
        "count 0), sort the counts in ascending order, weight the i-th smallest by 2i - n - 1 "
        "with i starting at 1, and divide the sum by n times the total exposure.",
    ],
    solution="def gini(recommended, n_items, k):\n"
    "    e = np.sort(np.bincount(np.asarray(recommended)[:, :k].ravel(), minlength=n_items))\n"
    "    n = e.size\n"
    "    return float((2 * np.arange(1, n + 1) - n - 1) @ e / (n * e.sum()))",
    why="Gini of exposure summarises how concentrated the catalogue's attention is in one number.",
)


# --------------------------------------------------------------------------------------
# q3: group means with bootstrap intervals
# --------------------------------------------------------------------------------------


def _group_intervals(values, groups, seed):
    values, groups = np.asarray(values, dtype=float), np.asarray(groups)
    answer = {}
    for group in np.unique(groups):
        mine = values[(groups == group) & ~np.isnan(values)]
        interval = bootstrap_interval(mine, n_resamples=1000, seed=seed)
        answer[str(group)] = (interval.estimate, interval.low, interval.high)
    return answer


def _group_intervals_keep_nan(values, groups, seed):
    values, groups = np.asarray(values, dtype=float), np.asarray(groups)
    answer = {}
    for group in np.unique(groups):
        interval = bootstrap_interval(values[groups == group], n_resamples=1000, seed=seed)
        answer[str(group)] = (interval.estimate, interval.low, interval.high)
    return answer


def _group_intervals_seed_per_group(values, groups, seed):
    values, groups = np.asarray(values, dtype=float), np.asarray(groups)
    answer = {}
    for index, group in enumerate(np.unique(groups)):
        mine = values[(groups == group) & ~np.isnan(values)]
        interval = bootstrap_interval(mine, n_resamples=1000, seed=seed + index)
        answer[str(group)] = (interval.estimate, interval.low, interval.high)
    return answer


def _group_intervals_everybody(values, groups, seed):
    values, groups = np.asarray(values, dtype=float), np.asarray(groups)
    everybody = bootstrap_interval(values[~np.isnan(values)], n_resamples=1000, seed=seed)
    answer = {}
    for group in np.unique(groups):
        mine = values[(groups == group) & ~np.isnan(values)]
        answer[str(group)] = (float(mine.mean()), everybody.low, everybody.high)
    return answer


def _group_intervals_of_values(values, groups, seed):
    values, groups = np.asarray(values, dtype=float), np.asarray(groups)
    answer = {}
    for group in np.unique(groups):
        mine = values[(groups == group) & ~np.isnan(values)]
        spread = 1.96 * mine.std()
        answer[str(group)] = (float(mine.mean()), mine.mean() - spread, mine.mean() + spread)
    return answer


_VALUES = np.array([0.1, 0.5, np.nan, 0.3, 0.9, 0.7, 0.8, np.nan, 0.6, 0.2, 1.0, 0.0])
_GROUPS = np.array(["a", "a", "a", "a", "b", "b", "b", "b", "b", "c", "c", "c"])
# Groups of 20-30 users with spread-out values: with a handful of users the bootstrap
# percentiles are the same whatever the seed, so only large groups tell seeds apart.
_MANY_VALUES = np.round(np.random.default_rng(10).random(75), 3)
_MANY_VALUES[[3, 40, 41, 70]] = np.nan
_MANY_GROUPS = np.repeat(np.array(["niche", "diverse", "blockbuster"]), [25, 30, 20])

q3 = FunctionQuestion(
    label="q3",
    name="group_intervals",
    reference=_group_intervals,
    cases=[
        case(_VALUES, _GROUPS, 0, note="users without a relevant item (NaN) in two groups"),
        case(_VALUES[[0, 1, 3, 4, 5, 6]], _GROUPS[[0, 1, 3, 4, 5, 6]], 7, note="no NaN"),
        case(_MANY_VALUES, _MANY_GROUPS, 3, note="three groups of 20-30 users"),
    ],
    mistakes=[
        Mistake(
            "Drop the users whose value is NaN (no relevant test item) before bootstrapping: "
            "values[(groups == g) & ~np.isnan(values)]. bootstrap_interval refuses NaN.",
            _group_intervals_keep_nan,
        ),
        Mistake(
            "You gave each group its own seed (seed + group number). Every group is resampled "
            "with the SAME `seed`, as the library's audit.group_gap does: pass seed=seed to "
            "every bootstrap_interval call, otherwise your intervals differ from the library's.",
            _group_intervals_seed_per_group,
        ),
        Mistake(
            "Each group needs its OWN interval: bootstrap only that group's users, not "
            "everybody's values.",
            _group_intervals_everybody,
        ),
        Mistake(
            "mean +- 1.96 * std is the spread of the users' values, not the uncertainty of the "
            "mean. Use recsys_lessons.evaluation.stats.bootstrap_interval(values_of_group, "
            "n_resamples=1000, seed=seed).",
            _group_intervals_of_values,
        ),
    ],
    hint=[
        "One bootstrap per group, on that group's users only; users with a NaN value had no "
        "relevant test item and are left out.",
        "Loop over the distinct labels, select the group's non-NaN values, call "
        "bootstrap_interval on them with 1000 resamples and the same `seed` for every group, "
        "and store the interval's estimate, low and high under the label as a string.",
    ],
    solution="def group_intervals(values, groups, seed):\n"
    "    values, groups = np.asarray(values, dtype=float), np.asarray(groups)\n"
    "    answer = {}\n"
    "    for group in np.unique(groups):\n"
    "        mine = values[(groups == group) & ~np.isnan(values)]\n"
    "        interval = bootstrap_interval(mine, n_resamples=1000, seed=seed)\n"
    "        answer[str(group)] = (interval.estimate, interval.low, interval.high)\n"
    "    return answer",
    why="A gap between two group means is only a finding when it is larger than the noise.",
)


# --------------------------------------------------------------------------------------
# q4: position-discounted exposure of item groups
# --------------------------------------------------------------------------------------


def _shares(recommended, item_groups, k, discount):
    top = np.asarray(recommended)[:, :k]
    labels = np.asarray(item_groups)[top]
    weights = np.broadcast_to(discount(np.arange(1, k + 1)), top.shape)
    return {
        str(g): float(weights[labels == g].sum() / weights.sum()) for g in np.unique(item_groups)
    }


def _exposure_shares(recommended, item_groups, k):
    return _shares(recommended, item_groups, k, lambda rank: 1 / np.log2(rank + 1))


def _exposure_no_discount(recommended, item_groups, k):
    return _shares(recommended, item_groups, k, lambda rank: np.ones(rank.shape))


def _exposure_reciprocal_rank(recommended, item_groups, k):
    return _shares(recommended, item_groups, k, lambda rank: 1 / rank)


def _exposure_log_rank(recommended, item_groups, k):
    return _shares(recommended, item_groups, k, lambda rank: 1 / np.log2(rank))


def _exposure_log_rank_python(recommended, item_groups, k):
    # 0-based ranks in plain Python: 1 / math.log2(0 + 1) raises ZeroDivisionError
    totals, all_slots = {}, 0.0
    for row in np.asarray(recommended)[:, :k]:
        for rank, item in enumerate(row):
            weight = 1 / math.log2(rank + 1)
            group = str(item_groups[item])
            totals[group] = totals.get(group, 0.0) + weight
            all_slots += weight
    return {str(g): totals.get(str(g), 0.0) / all_slots for g in np.unique(item_groups)}


def _exposure_log_rank_plus_two(recommended, item_groups, k):
    return _shares(recommended, item_groups, k, lambda rank: 1 / np.log2(rank + 2))


def _exposure_shown_groups_only(recommended, item_groups, k):
    top = np.asarray(recommended)[:, :k]
    labels = np.asarray(item_groups)[top]
    weights = np.broadcast_to(1 / np.log2(np.arange(2, k + 2)), top.shape)
    return {str(g): float(weights[labels == g].sum() / weights.sum()) for g in np.unique(labels)}


_PROVIDERS = np.array(["studio", "studio", "indie", "indie", "studio", "indie"])
_PROVIDERS_WITH_ARCHIVE = np.array(
    ["studio", "studio", "indie", "indie", "studio", "indie", "archive", "archive"]
)

q4 = FunctionQuestion(
    label="q4",
    name="exposure_shares",
    reference=_exposure_shares,
    cases=[
        case(_LISTS, _PROVIDERS, 3),
        case(_LISTS, _PROVIDERS, 4, note="indie items only at the bottom for one user"),
        case(np.array([[2, 0, 1, 3]]), _PROVIDERS, 4, note="one list"),
        case(
            _LISTS,
            _PROVIDERS_WITH_ARCHIVE,
            3,
            note="the 'archive' group is never recommended: its share is 0",
        ),
    ],
    mistakes=[
        Mistake(
            "You counted slots without the position discount. Users look at rank 1 far more "
            "than at rank k: weight each slot by 1 / log2(rank + 1), ranks starting at 1.",
            _exposure_no_discount,
        ),
        Mistake(
            "The attention model of the lesson is the nDCG discount 1 / log2(rank + 1), not "
            "1 / rank.",
            _exposure_reciprocal_rank,
        ),
        Mistake(
            "Off by one: your top slot has rank 0, and 1 / log2(0 + 1) = 1 / 0 is infinite. "
            "The discount is 1 / log2(rank + 1) with rank = 1 for the top slot; with 0-based "
            "positions (enumerate, np.arange(k)) that is 1 / log2(position + 2).",
            _exposure_log_rank,
            _exposure_log_rank_python,
        ),
        Mistake(
            "Off by one the other way: your top slot gets 1 / log2(3). The discount is "
            "1 / log2(rank + 1) with rank = 1 for the top slot, so the top slot weighs "
            "1 / log2(2) = 1. You added 2 to a rank that already starts at 1.",
            _exposure_log_rank_plus_two,
        ),
        Mistake(
            "A group that is never recommended is missing from your answer. An audit must "
            "report every group of `item_groups` (loop over np.unique(item_groups), not over "
            "the groups found in the lists): a share of 0 is exactly what it is looking for.",
            _exposure_shown_groups_only,
        ),
    ],
    hint=[
        "Each slot of each list carries attention that falls with its rank, as in nDCG's "
        "discount; a group's share is the attention landing on its items over all the "
        "attention.",
        "Weight ranks 1..k by 1 / log2(rank + 1) (the top slot weighs 1), look up the group of "
        "every item in the first k columns, sum the weights per group and divide by the sum "
        "over all slots. Report every group of `item_groups`, also those never shown.",
    ],
    solution="def exposure_shares(recommended, item_groups, k):\n"
    "    top = np.asarray(recommended)[:, :k]\n"
    "    labels = np.asarray(item_groups)[top]\n"
    "    weights = np.broadcast_to(1 / np.log2(np.arange(2, k + 2)), top.shape)\n"
    "    return {str(g): float(weights[labels == g].sum() / weights.sum())\n"
    "            for g in np.unique(item_groups)}",
    why="Provider fairness is about attention, and attention falls steeply down a list.",
)


# --------------------------------------------------------------------------------------
# q5: Steck's calibration KL
# --------------------------------------------------------------------------------------


def _kl(p, q_smooth, log):
    p = np.asarray(p, dtype=float)
    present = p > 0
    return float((p[present] * log(p[present] / q_smooth[present])).sum())


def _calibration_kl(p, q, alpha=0.01):
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    return _kl(p, (1 - alpha) * q + alpha * p, np.log)


def _calibration_kl_log2(p, q, alpha=0.01):
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    return _kl(p, (1 - alpha) * q + alpha * p, np.log2)


def _calibration_kl_log10(p, q, alpha=0.01):
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    return _kl(p, (1 - alpha) * q + alpha * p, np.log10)


def _calibration_kl_uniform(p, q, alpha=0.01):
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    return _kl(p, (1 - alpha) * q + alpha / p.size, np.log)


def _calibration_kl_smooth_p(p, q, alpha=0.01):
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    return _kl((1 - alpha) * p + alpha * q, q, np.log)


def _calibration_kl_unsmoothed(p, q, alpha=0.01):
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    return _kl(p, q, np.log)


def _calibration_kl_reversed(p, q, alpha=0.01):
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    smoothed = (1 - alpha) * q + alpha * p
    return _kl(smoothed, p, np.log)


q5 = FunctionQuestion(
    label="q5",
    name="calibration_kl",
    reference=_calibration_kl,
    cases=[
        case(
            np.array([0.75, 0.25, 0.0]),
            np.array([0.0, 0.5, 0.5]),
            0.01,
            note="a genre missing from the list",
        ),
        case(np.array([0.5, 0.3, 0.2]), np.array([0.4, 0.4, 0.2]), 0.01),
        case(
            np.array([0.6, 0.4, 0.0, 0.0]), np.array([0.6, 0.2, 0.1, 0.1]), 0.1, note="alpha = 0.1"
        ),
    ],
    mistakes=[
        Mistake(
            "Steck's KL uses the natural log (np.log); you used log base 2 (bits). The two "
            "differ by a factor ln 2, so numbers would not compare with the paper or the helper.",
            _calibration_kl_log2,
        ),
        Mistake(
            "Steck's KL uses the natural log (np.log); you used log base 10 (np.log10). The two "
            "differ by a factor ln 10, so numbers would not compare with the paper or the helper.",
            _calibration_kl_log10,
        ),
        Mistake(
            "Smoothing with the wrong distribution: mix q with the user's OWN history "
            "distribution p, q~ = (1 - alpha) * q + alpha * p, not with a uniform one.",
            _calibration_kl_uniform,
        ),
        Mistake(
            "You smoothed p. It is the list's distribution q that can miss a genre (and make "
            "the KL infinite), so smooth q: q~ = (1 - alpha) * q + alpha * p, then KL(p || q~).",
            _calibration_kl_smooth_p,
        ),
        Mistake(
            "Smooth q before dividing: q~ = (1 - alpha) * q + alpha * p. Without it a genre the "
            "user watches but the list lacks gives p / 0 = infinity.",
            _calibration_kl_unsmoothed,
        ),
        Mistake(
            "The KL goes from the history to the list: KL(p || q~) = sum over p > 0 of "
            "p * ln(p / q~). You swapped the two distributions.",
            _calibration_kl_reversed,
        ),
    ],
    hint=[
        "The list's distribution q can miss a genre the user likes, and dividing by 0 makes the "
        "KL infinite: Steck first mixes a little of the user's own distribution p into q.",
        "Smooth q with weight alpha on p (not on a uniform distribution), then sum "
        "p * ln(p / q_smooth) over the genres where p > 0, with the natural logarithm (0 * log 0 "
        "counts as 0).",
    ],
    solution="def calibration_kl(p, q, alpha=0.01):\n"
    "    q_smooth = (1 - alpha) * q + alpha * p\n"
    "    present = p > 0\n"
    "    return float((p[present] * np.log(p[present] / q_smooth[present])).sum())",
    why="Calibration asks whether a list keeps the proportions of a user's interests.",
)


# --------------------------------------------------------------------------------------
# q6: Steck's greedy calibrated re-ranking for one user
# --------------------------------------------------------------------------------------


def _greedy(
    scores,
    p,
    genre_rows,
    lambda_,
    k,
    alpha,
    smooth_with,
    value_of,
    mean=True,
    repeat=False,
    log=np.log,
):
    scores, p = np.asarray(scores, dtype=float), np.asarray(p, dtype=float)
    genre_rows = np.asarray(genre_rows, dtype=float)
    chosen = []
    for _ in range(k):
        best, best_value = None, -np.inf
        for i in range(len(scores)):
            if i in chosen and not repeat:
                continue
            members = chosen + [i]
            mass = genre_rows[members].sum(axis=0)
            q = mass / len(members) if mean else mass
            value = value_of(
                scores[members].sum(),
                _kl(p, (1 - alpha) * q + alpha * smooth_with(p), log),
                lambda_,
            )
            if value > best_value:
                best, best_value = i, value
        chosen.append(best)
    return chosen


def _steck(relevance, kl, lambda_):
    return (1 - lambda_) * relevance - lambda_ * kl


def _calibrated_rerank(scores, p, genre_rows, lambda_, k, alpha=0.01):
    return _greedy(scores, p, genre_rows, lambda_, k, alpha, lambda p: p, _steck)


def _rerank_lambda_swapped(scores, p, genre_rows, lambda_, k, alpha=0.01):
    return _greedy(
        scores,
        p,
        genre_rows,
        lambda_,
        k,
        alpha,
        lambda p: p,
        lambda r, kl, lambda_: lambda_ * r - (1 - lambda_) * kl,
    )


def _rerank_uniform_smoothing(scores, p, genre_rows, lambda_, k, alpha=0.01):
    return _greedy(
        scores, p, genre_rows, lambda_, k, alpha, lambda p: np.full(p.size, 1 / p.size), _steck
    )


def _rerank_sum_not_mean(scores, p, genre_rows, lambda_, k, alpha=0.01):
    return _greedy(scores, p, genre_rows, lambda_, k, alpha, lambda p: p, _steck, mean=False)


def _rerank_log2(scores, p, genre_rows, lambda_, k, alpha=0.01):
    return _greedy(scores, p, genre_rows, lambda_, k, alpha, lambda p: p, _steck, log=np.log2)


def _rerank_repeats(scores, p, genre_rows, lambda_, k, alpha=0.01):
    return _greedy(scores, p, genre_rows, lambda_, k, alpha, lambda p: p, _steck, repeat=True)


_GENRE_ROWS = np.array(
    [
        [1.0, 0.0, 0.0],
        [1.0, 0.0, 0.0],
        [0.5, 0.5, 0.0],
        [0.0, 1.0, 0.0],
        [0.0, 0.0, 1.0],
        [0.0, 0.5, 0.5],
    ]
)
_SCORES = np.array([1.0, 0.93, 0.55, 0.4, 0.3, 0.12])

q6 = FunctionQuestion(
    label="q6",
    name="calibrated_rerank",
    reference=_calibrated_rerank,
    cases=[
        case(_SCORES, np.array([0.6, 0.3, 0.1]), _GENRE_ROWS, 0.5, 3, 0.01),
        case(_SCORES, np.array([0.2, 0.2, 0.6]), _GENRE_ROWS, 0.8, 3, 0.01, note="mostly genre 3"),
        case(
            _SCORES,
            np.array([0.6, 0.3, 0.1]),
            _GENRE_ROWS,
            0.0,
            4,
            0.01,
            note="lambda = 0: the model's order",
        ),
        case(_SCORES, np.array([0.35, 0.35, 0.3]), _GENRE_ROWS, 0.9, 4, 0.05),
        case(
            _SCORES,
            np.array([0.4, 0.6, 0.0]),
            _GENRE_ROWS,
            0.5,
            3,
            0.3,
            note="alpha = 0.3: smoothing matters",
        ),
        case(
            _SCORES,
            np.array([0.1, 0.8, 0.1]),
            _GENRE_ROWS,
            0.6,
            3,
            0.05,
            note="the size of the KL decides the third pick",
        ),
    ],
    mistakes=[
        Mistake(
            "lambda weighs CALIBRATION: maximise (1 - lambda_) * relevance - lambda_ * KL. With lambda_ = 0 "
            "the list must be the model's own ranking.",
            _rerank_lambda_swapped,
        ),
        Mistake(
            "Smoothing with the wrong distribution: q~ = (1 - alpha) * q + alpha * p mixes in "
            "the user's history p, not a uniform distribution.",
            _rerank_uniform_smoothing,
        ),
        Mistake(
            "q must be a distribution: the MEAN of the chosen items' genre rows (divide the sum "
            "by the number of items in the candidate list).",
            _rerank_sum_not_mean,
        ),
        Mistake(
            "Your KL inside the greedy uses log base 2. Steck's KL (your calibration_kl of q5) "
            "uses the natural log; log2 makes every KL 1.44 times larger, as if lambda_ were "
            "larger, and changes which candidate wins.",
            _rerank_log2,
        ),
        Mistake("Skip candidates already chosen: a list holds each item once.", _rerank_repeats),
    ],
    hint=[
        "Build the list one item at a time: at each of the k steps, try every candidate not yet "
        "chosen as the next item and keep the one that gives the best list so far.",
        "A trial list is the chosen items plus the candidate: its relevance is the sum of their "
        "scores, its genre distribution q the mean of their genre rows; smooth q with p as in "
        "q5, and score the list (1 - lambda_) * relevance - lambda_ * KL(p || q_smooth) with the "
        "natural log.",
    ],
    solution="def calibrated_rerank(scores, p, genre_rows, lambda_, k, alpha=0.01):\n"
    "    chosen = []\n"
    "    for _ in range(k):\n"
    "        best, best_value = None, -np.inf\n"
    "        for i in range(len(scores)):\n"
    "            if i in chosen:\n"
    "                continue\n"
    "            members = chosen + [i]\n"
    "            q = genre_rows[members].mean(axis=0)\n"
    "            q_smooth = (1 - alpha) * q + alpha * p\n"
    "            present = p > 0\n"
    "            kl = (p[present] * np.log(p[present] / q_smooth[present])).sum()\n"
    "            value = (1 - lambda_) * scores[members].sum() - lambda_ * kl\n"
    "            if value > best_value:\n"
    "                best, best_value = i, value\n"
    "        chosen.append(best)\n"
    "    return chosen",
    why="Calibrated re-ranking gives back a user's minority interests at a measurable cost.",
)
