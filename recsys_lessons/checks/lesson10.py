"""Checks for lesson 10 (exercises/10_exploration.ipynb): Thompson sampling and IPS/SNIPS.

- q1, ``thompson_update(alpha, beta, items, clicks)``: the Beta-Bernoulli posterior update.
  ``alpha`` and ``beta`` hold one Beta parameter per item; ``items`` are the items shown
  (an item may appear several times) and ``clicks`` 0/1 for each. Return new arrays
  ``alpha + clicks per item`` and ``beta + non-clicks per item``.
- q2, ``thompson_slate(alpha, beta, k, seed)``: one draw per item with
  ``np.random.default_rng(seed).beta(alpha, beta)``, and the ``k`` items with the largest
  draws, best first.
- q3, ``ips(rewards, logging_propensities, target_propensities)``: ``mean(r * q / p)`` over
  every logged impression.
- q4, ``snips(rewards, logging_propensities, target_propensities)``: ``sum(r * w) / sum(w)``
  with ``w = q / p``.

These are :class:`recsys_lessons.explore.ThompsonSampling` and
:func:`recsys_lessons.explore.ips_estimate` / :func:`~recsys_lessons.explore.snips_estimate`
(lesson 10, notebooks/10_exploration.ipynb). The cases repeat items in ``items`` (so that
fancy-index ``+=`` loses updates), include rounds the target would never show (``q = 0``, so
that averaging over matched rounds only differs from IPS), weights that do not average 1
(so that IPS and SNIPS differ) and weights above 10 (so that clipping them is caught). q2 has
slates of 200 and 300 out of 1,000 items, where ``np.argpartition`` without a final sort
returns the right items in the wrong order, and posterior means without ties.
"""

from __future__ import annotations

import numpy as np

from recsys_lessons.checks import FunctionQuestion, Mistake, case

__all__ = ["q1", "q2", "q3", "q4"]


# --------------------------------------------------------------------------------------
# q1: the Beta-Bernoulli posterior update
# --------------------------------------------------------------------------------------


def _counts(alpha, items, clicks):
    n = len(alpha)
    clicks = np.asarray(clicks, dtype=float)
    shows = np.bincount(items, minlength=n).astype(float)
    return np.bincount(items, weights=clicks, minlength=n), shows


def _thompson_update(alpha, beta, items, clicks):
    clicked, shows = _counts(alpha, items, clicks)
    return np.asarray(alpha, float) + clicked, np.asarray(beta, float) + shows - clicked


def _update_swapped(alpha, beta, items, clicks):
    clicked, shows = _counts(alpha, items, clicks)
    return np.asarray(alpha, float) + shows - clicked, np.asarray(beta, float) + clicked


def _update_beta_with_shows(alpha, beta, items, clicks):
    clicked, shows = _counts(alpha, items, clicks)
    return np.asarray(alpha, float) + clicked, np.asarray(beta, float) + shows


def _update_fancy_index(alpha, beta, items, clicks):
    alpha, beta = np.array(alpha, float), np.array(beta, float)
    clicks = np.asarray(clicks, float)
    alpha[items] += clicks  # repeated items: only the last one counts
    beta[items] += 1 - clicks
    return alpha, beta


def _update_from_scratch(alpha, beta, items, clicks):
    clicked, shows = _counts(alpha, items, clicks)
    return 1.0 + clicked, 1.0 + shows - clicked


_ITEMS = np.array([0, 2, 2, 3, 2, 0])
_CLICKS = np.array([1, 0, 1, 0, 0, 1])

q1 = FunctionQuestion(
    label="q1",
    name="thompson_update",
    reference=_thompson_update,
    cases=[
        case(np.ones(4), np.ones(4), _ITEMS, _CLICKS, note="uniform prior, items shown repeatedly"),
        case(
            np.array([2.0, 1.0, 3.0, 1.0]),
            np.array([5.0, 1.0, 1.0, 9.0]),
            _ITEMS,
            _CLICKS,
            note="a posterior that already holds data",
        ),
        case(np.ones(3), np.full(3, 20.0), np.array([1]), np.array([1]), note="one click"),
    ],
    mistakes=[
        Mistake(
            "alpha and beta are swapped: alpha counts the successes (clicks), beta the failures "
            "(shows without a click). The posterior mean alpha / (alpha + beta) must go UP after "
            "a click.",
            _update_swapped,
        ),
        Mistake(
            "beta grew by the number of shows, but it counts failures only: add shows - clicks "
            "(the impressions that were NOT clicked), or a click would count as half a failure.",
            _update_beta_with_shows,
        ),
        Mistake(
            "An item shown several times got only one update: with fancy indexing, "
            "alpha[items] += clicks keeps only the last write for a repeated index. Count per "
            "item with np.bincount(items, weights=clicks, minlength=len(alpha)) (or np.add.at).",
            _update_fancy_index,
        ),
        Mistake(
            "You started from the uniform prior Beta(1, 1) instead of the alpha and beta you were "
            "given: the update ADDS this batch's counts to the current posterior.",
            _update_from_scratch,
        ),
    ],
    hint=[
        "alpha counts successes and beta failures. This batch adds, per item, its clicks to "
        "alpha and its shows without a click to beta; an item can appear several times in "
        "`items`, and every appearance counts. Return NEW arrays: the caller keeps using the "
        "old ones.",
        "Two per-item totals, each one call of np.bincount over `items` with "
        "minlength=len(alpha) (so that items never shown get 0): the clicks (pass the clicks "
        "as `weights`) and the shows (no weights). Add the clicks to alpha, and the shows minus "
        "the clicks to beta, without writing into the arrays you were given (no +=, no "
        "np.add.at on them). q1.solution() shows the code.",
    ],
    solution="""
        import numpy as np

        def thompson_update(alpha, beta, items, clicks):
            clicked = np.bincount(items, weights=clicks, minlength=len(alpha))
            shows = np.bincount(items, minlength=len(alpha))
            return alpha + clicked, beta + shows - clicked
    """,
    why=(
        "A Beta prior and Bernoulli clicks make the posterior two counters per item, so a "
        "bandit over millions of titles updates in one vectorised pass per batch of logs."
    ),
)


# --------------------------------------------------------------------------------------
# q2: the slate from one posterior draw
# --------------------------------------------------------------------------------------


def _draws(alpha, beta, seed):
    return np.random.default_rng(seed).beta(alpha, beta)


def _thompson_slate(alpha, beta, k, seed):
    return np.argsort(-_draws(alpha, beta, seed), kind="stable")[:k]


def _slate_by_mean(alpha, beta, k, seed):
    mean = np.asarray(alpha, float) / (np.asarray(alpha, float) + np.asarray(beta, float))
    return np.argsort(-mean, kind="stable")[:k]


def _slate_worst_first(alpha, beta, k, seed):
    return np.argsort(_draws(alpha, beta, seed), kind="stable")[:k]


def _slate_swapped_parameters(alpha, beta, k, seed):
    return np.argsort(-_draws(beta, alpha, seed), kind="stable")[:k]


def _slate_by_mean_default_sort(alpha, beta, k, seed):
    mean = np.asarray(alpha, float) / (np.asarray(alpha, float) + np.asarray(beta, float))
    return np.argsort(mean)[::-1][:k]


def _slate_partition_unsorted(alpha, beta, k, seed):
    return np.argpartition(-_draws(alpha, beta, seed), k - 1)[:k]  # in no particular order


def _slate_partition_unsorted_kth_k(alpha, beta, k, seed):
    return np.argpartition(-_draws(alpha, beta, seed), k)[:k]


def _slate_draw_values(alpha, beta, k, seed):
    return -np.sort(-_draws(alpha, beta, seed))[:k]


# No two posterior means tie, so ranking by the mean gives one list whatever the sort.
_ALPHA = np.array([2.0, 30.0, 1.0, 5.0, 1.0, 12.0, 3.0])
_BETA = np.array([40.0, 270.0, 1.0, 40.0, 11.0, 100.0, 4.0])
# 1,000 items and slates of 200 and 300: long enough that np.argpartition does not hand the k
# best back in sorted order (on 7 items it may look sorted by luck).
_rng = np.random.default_rng(9)
_ALPHA_LARGE = _rng.uniform(1.0, 30.0, size=1000)
_BETA_LARGE = _rng.uniform(1.0, 300.0, size=1000)

q2 = FunctionQuestion(
    label="q2",
    name="thompson_slate",
    reference=_thompson_slate,
    cases=[
        case(_ALPHA, _BETA, 3, 0, note="seven items, k = 3, seed 0"),
        case(_ALPHA, _BETA, 3, 1, note="seven items, k = 3, seed 1"),
        case(_ALPHA, _BETA, 1, 7, note="k = 1"),
        case(_ALPHA, _BETA, 7, 3, note="the whole catalogue in order"),
        case(_ALPHA_LARGE, _BETA_LARGE, 200, 4, note="1,000 items, k = 200"),
        case(_ALPHA_LARGE, _BETA_LARGE, 300, 5, note="1,000 items, k = 300"),
    ],
    mistakes=[
        Mistake(
            "You ranked by the posterior MEAN alpha / (alpha + beta): that is greedy, it never "
            "explores. Thompson sampling ranks by one random DRAW per item, "
            "np.random.default_rng(seed).beta(alpha, beta), so uncertain items sometimes win.",
            _slate_by_mean,
            _slate_by_mean_default_sort,
        ),
        Mistake(
            "Your slate starts with the SMALLEST draws. Sort by decreasing draw: "
            "np.argsort(-draws)[:k].",
            _slate_worst_first,
        ),
        Mistake(
            "The draw must come from Beta(alpha, beta), in that order: rng.beta(alpha, beta). "
            "Swapping them draws the chance of NOT clicking.",
            _slate_swapped_parameters,
        ),
        Mistake(
            "You returned the draws themselves. Return the item INDICES of the k largest draws "
            "(np.argsort gives indices, np.sort gives values).",
            _slate_draw_values,
        ),
        Mistake(
            "You have the right k items, but not best first: np.argpartition only promises that "
            "the k largest draws come before the rest, in no particular order (on 7 items it "
            "may look sorted by luck; on 1,000 items it is not). Sort those k by their draws "
            "afterwards: top = np.argpartition(-draws, k - 1)[:k]; top[np.argsort(-draws[top])].",
            _slate_partition_unsorted,
            _slate_partition_unsorted_kth_k,
        ),
    ],
    hint=[
        "Thompson sampling does not rank by what it believes on average: it draws ONE "
        "plausible click rate per item from that item's Beta posterior and ranks by the draws, "
        "so an uncertain item sometimes wins. The check reproduces your draws only if they come "
        "from the generator seeded with `seed`, in one call.",
        "Two steps: (1) make a generator with np.random.default_rng(seed) and call its beta "
        "method once with the whole alpha and beta arrays, in that order (one draw per item); "
        "(2) return the indices of the k largest draws, largest first: np.argsort of the "
        "negated draws, first k (np.argpartition alone does not order them). "
        "q2.solution() shows the code.",
    ],
    solution="""
        import numpy as np

        def thompson_slate(alpha, beta, k, seed):
            draws = np.random.default_rng(seed).beta(alpha, beta)  # one plausible rate per item
            return np.argsort(-draws)[:k]                          # best draws first
    """,
    why=(
        "An item is shown about as often as it is likely to be among the best: no tuning of "
        "an exploration rate, and exploration fades by itself as the posteriors narrow."
    ),
)


# --------------------------------------------------------------------------------------
# q3 and q4: IPS and SNIPS
# --------------------------------------------------------------------------------------


def _arrays(rewards, logging, target):
    return (np.asarray(x, dtype=float) for x in (rewards, logging, target))


def _ips(rewards, logging_propensities, target_propensities):
    r, p, q = _arrays(rewards, logging_propensities, target_propensities)
    return float(np.mean(r * q / p))


def _ips_divides_by_target(rewards, logging_propensities, target_propensities):
    r, p, q = _arrays(rewards, logging_propensities, target_propensities)
    return float(np.mean(r * p / q))


def _ips_matched_only(rewards, logging_propensities, target_propensities):
    r, p, q = _arrays(rewards, logging_propensities, target_propensities)
    matched = q > 0
    return float(np.mean(r[matched] * q[matched] / p[matched]))


def _ips_unweighted(rewards, logging_propensities, target_propensities):
    r, _, _ = _arrays(rewards, logging_propensities, target_propensities)
    return float(np.mean(r))


def _ips_clipped(rewards, logging_propensities, target_propensities):
    r, p, q = _arrays(rewards, logging_propensities, target_propensities)
    return float(np.mean(r * np.minimum(q / p, 10.0)))


def _ips_sum(rewards, logging_propensities, target_propensities):
    r, p, q = _arrays(rewards, logging_propensities, target_propensities)
    return float(np.sum(r * q / p))


def _snips(rewards, logging_propensities, target_propensities):
    r, p, q = _arrays(rewards, logging_propensities, target_propensities)
    w = q / p
    return float(np.sum(r * w) / np.sum(w))


def _snips_divides_by_target(rewards, logging_propensities, target_propensities):
    r, p, q = _arrays(rewards, logging_propensities, target_propensities)
    w = p / q
    return float(np.sum(r * w) / np.sum(w))


def _snips_clipped(rewards, logging_propensities, target_propensities):
    r, p, q = _arrays(rewards, logging_propensities, target_propensities)
    w = np.minimum(q / p, 10.0)
    return float(np.sum(r * w) / np.sum(w))


def _snips_by_matched_count(rewards, logging_propensities, target_propensities):
    r, p, q = _arrays(rewards, logging_propensities, target_propensities)
    return float(np.sum(r * q / p) / np.count_nonzero(q))


# Weights q / p: 2, 0, 0.5, 4, 0, 1 (mean 1.25, two rounds the target never shows).
_R = np.array([1.0, 1.0, 0.0, 1.0, 0.0, 0.0])
_P = np.array([0.25, 0.5, 0.8, 0.1, 0.2, 0.5])
_Q = np.array([0.5, 0.0, 0.4, 0.4, 0.0, 0.5])
# A log whose weights average exactly 1 (there IPS = SNIPS) and one with watch-time rewards.
_R2, _P2, _Q2 = (
    np.array([1.0, 0.0, 1.0, 0.0]),
    np.array([0.5, 0.5, 0.25, 0.25]),
    np.array([1.0, 0.0, 0.25, 0.25]),
)
_R3 = np.array([5400.0, 0.0, 1200.0, 3000.0, 0.0, 60.0])
# Weights 25, 1, 0.5, 15: a rarely logged item the target favours (weight above 10, so that
# clipping the weights at 10, the habit lesson 10 teaches for the variance, changes the answer).
_R4, _P4, _Q4 = (
    np.array([1.0, 0.0, 1.0, 1.0]),
    np.array([0.02, 0.5, 0.5, 0.04]),
    np.array([0.5, 0.5, 0.25, 0.6]),
)

_IPS_CASES = [
    case(_R, _P, _Q, note="clicks; the target never shows two of the logged items"),
    case(_R3, _P, _Q, note="watch seconds as the reward"),
    case(_R2, _P2, _Q2, note="weights that average exactly 1"),
    case(
        np.array([1.0, 0.0]),
        np.array([0.5, 0.5]),
        np.array([0.5, 0.5]),
        note="target = logging policy: the plain mean",
    ),
    case(_R4, _P4, _Q4, note="weights 25 and 15: rare in the log, frequent for the target"),
]

q3 = FunctionQuestion(
    label="q3",
    name="ips",
    reference=_ips,
    cases=_IPS_CASES,
    mistakes=[
        Mistake(
            "You divided by the TARGET propensity. The weight is target / logging, q / p: a "
            "round the logging policy rarely showed (small p) stands for many rounds the target "
            "would have had, so it counts more.",
            _ips_divides_by_target,
        ),
        Mistake(
            "You averaged over the matched rounds only (those with q > 0). IPS averages over "
            "EVERY logged round: rounds the target would never show contribute 0, and that 0 "
            "belongs in the mean. Divide the sum by the number of all logged rounds.",
            _ips_matched_only,
        ),
        Mistake(
            "You returned the plain mean reward: that is the LOGGING policy's value. Weight each "
            "reward by q / p.",
            _ips_unweighted,
        ),
        Mistake(
            "You returned the sum; IPS is the MEAN of r * q / p over the logged rounds.", _ips_sum
        ),
        Mistake(
            "You clipped the weights at 10. That is clipped IPS, a different estimator: it "
            "trades a bias (the rounds with large weights are undercounted) for less variance, "
            "as lesson 10 showed. Plain IPS, asked for here, keeps every weight q / p as it is, "
            "however large: it is the unbiased one.",
            _ips_clipped,
        ),
    ],
    hint=[
        "Weight each logged reward by how much more (or less) likely the target is to show that "
        "item than the logging policy was, then average over all logged rounds.",
        "Two steps: (1) the weight of every round is the target propensity divided by the "
        "logging propensity, as it is (no clipping: large weights are the point); (2) multiply "
        "the rewards by the weights and take the mean over ALL rounds, including those with "
        "weight 0. q3.solution() shows the code.",
    ],
    solution="""
        import numpy as np

        def ips(rewards, logging_propensities, target_propensities):
            weights = target_propensities / logging_propensities
            return np.mean(rewards * weights)
    """,
    why=(
        "Reweighting turns logs of one policy into an unbiased estimate for another, as long as "
        "the logging policy gave a chance to everything the target shows."
    ),
)

q4 = FunctionQuestion(
    label="q4",
    name="snips",
    reference=_snips,
    cases=_IPS_CASES,
    mistakes=[
        Mistake(
            "You forgot the self-normalization: that is plain IPS (dividing by the number of "
            "rounds). SNIPS divides the weighted sum by the SUM OF THE WEIGHTS: "
            "sum(r * w) / sum(w).",
            _ips,
        ),
        Mistake(
            "You divided by the number of matched rounds (q > 0). SNIPS divides by the sum of "
            "the weights w = q / p, which is what makes it a weighted average of rewards.",
            _snips_by_matched_count,
        ),
        Mistake(
            "Your weights are p / q; they must be q / p (target over logging).",
            _snips_divides_by_target,
        ),
        Mistake(
            "You clipped the weights at 10. SNIPS already tames large weights by dividing by "
            "their sum; clipping them as well is a different estimator. Keep every weight "
            "q / p as it is.",
            _snips_clipped,
        ),
    ],
    hint=[
        "Compute the weights w = q / p; SNIPS is the weighted average of the rewards with those "
        "weights.",
        "Two steps: (1) the weight of every round is the target propensity over the logging "
        "propensity, unclipped; (2) divide the sum of reward times weight by the sum of the "
        "weights (not by the number of rounds: that would be IPS). q4.solution() shows the "
        "code.",
    ],
    solution="""
        import numpy as np

        def snips(rewards, logging_propensities, target_propensities):
            weights = target_propensities / logging_propensities
            return np.sum(rewards * weights) / np.sum(weights)
    """,
    why=(
        "The weights average 1 only in expectation; dividing by their actual sum removes most "
        "of IPS's variance for a small bias, which is why SNIPS is the default in practice."
    ),
)
