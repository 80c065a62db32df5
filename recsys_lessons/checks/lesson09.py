"""Checks for lesson 09 (exercises/09_online_experiments.ipynb): Welch's interval and team draft.

- q1, ``welch_interval(control, treatment, alpha=0.05)``: per-user metric values of two arms
  (1-D arrays, at least 2 users each). Return ``(difference, low, high)`` with
  ``difference = mean(treatment) - mean(control)``, ``se = sqrt(s_c^2 / n_c + s_t^2 / n_t)``
  (sample variances, ``ddof=1``), Welch-Satterthwaite degrees of freedom
  ``df = se^4 / ((s_c^2 / n_c)^2 / (n_c - 1) + (s_t^2 / n_t)^2 / (n_t - 1))`` and the
  two-sided interval ``difference -+ t_{1 - alpha/2, df} * se`` (``scipy.stats.t.ppf``).
  This is :func:`recsys_lessons.online.experiment.ab_test` (lesson 09,
  notebooks/09_online_experiments.ipynb).
- q2, ``team_draft(ranking_a, ranking_b, k, coins)``: team-draft interleaving (Radlinski,
  Kurup, Joachims 2008) with the coin flips given: ``coins[r]`` is True when ranker A picks
  first in round ``r`` (rounds of two picks; an odd ``k`` ends with a one-pick round). Each
  pick adds the picker's highest-ranked item not already in the list. Return ``(items,
  teams)``: two lists of length ``k``, ``teams[j]`` being ``"A"`` or ``"B"``. This is
  :func:`recsys_lessons.online.experiment.team_draft_interleave` with its coins made explicit.

The cases of q1 have unequal arm sizes and variances, so pooled-variance, z-based and
one-sided intervals all differ from Welch's; the cases of q2 include coins that put B first,
odd ``k``, and rankings that share items at different ranks.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from recsys_lessons.checks import FunctionQuestion, Mistake, case

__all__ = ["q1", "q2"]


# --------------------------------------------------------------------------------------
# q1: difference and Welch interval
# --------------------------------------------------------------------------------------


def _arms(control, treatment):
    return np.asarray(control, dtype=float), np.asarray(treatment, dtype=float)


def _welch_parts(control, treatment, ddof=1):
    c, t = _arms(control, treatment)
    vc, vt = c.var(ddof=ddof) / len(c), t.var(ddof=ddof) / len(t)
    df = (vc + vt) ** 2 / (vc**2 / (len(c) - 1) + vt**2 / (len(t) - 1))
    return t.mean() - c.mean(), np.sqrt(vc + vt), df


def _interval(difference, half):
    return (float(difference), float(difference - half), float(difference + half))


def _welch_interval(control, treatment, alpha=0.05):
    difference, se, df = _welch_parts(control, treatment)
    return _interval(difference, stats.t.ppf(1 - alpha / 2, df) * se)


def _pooled_interval(control, treatment, alpha=0.05):
    c, t = _arms(control, treatment)
    pooled = ((len(c) - 1) * c.var(ddof=1) + (len(t) - 1) * t.var(ddof=1)) / (len(c) + len(t) - 2)
    se = np.sqrt(pooled * (1 / len(c) + 1 / len(t)))
    return _interval(t.mean() - c.mean(), stats.t.ppf(1 - alpha / 2, len(c) + len(t) - 2) * se)


def _pooled_welch_df(control, treatment, alpha=0.05):
    c, t = _arms(control, treatment)
    pooled = ((len(c) - 1) * c.var(ddof=1) + (len(t) - 1) * t.var(ddof=1)) / (len(c) + len(t) - 2)
    se = np.sqrt(pooled * (1 / len(c) + 1 / len(t)))
    _, _, df = _welch_parts(control, treatment)
    return _interval(t.mean() - c.mean(), stats.t.ppf(1 - alpha / 2, df) * se)


def _one_sided(control, treatment, alpha=0.05):
    difference, se, df = _welch_parts(control, treatment)
    return _interval(difference, stats.t.ppf(1 - alpha, df) * se)


def _normal_quantile(control, treatment, alpha=0.05):
    difference, se, _ = _welch_parts(control, treatment)
    return _interval(difference, stats.norm.ppf(1 - alpha / 2) * se)


def _hard_coded_196(control, treatment, alpha=0.05):
    difference, se, _ = _welch_parts(control, treatment)
    return _interval(difference, 1.96 * se)


def _t_ignores_alpha(control, treatment, alpha=0.05):
    difference, se, df = _welch_parts(control, treatment)
    return _interval(difference, stats.t.ppf(0.975, df) * se)


def _student_df(control, treatment, alpha=0.05):
    c, t = _arms(control, treatment)
    difference, se, _ = _welch_parts(control, treatment)
    return _interval(difference, stats.t.ppf(1 - alpha / 2, len(c) + len(t) - 2) * se)


def _population_variance(control, treatment, alpha=0.05):
    difference, se, df = _welch_parts(control, treatment, ddof=0)
    return _interval(difference, stats.t.ppf(1 - alpha / 2, df) * se)


def _reversed_difference(control, treatment, alpha=0.05):
    return _welch_interval(treatment, control, alpha)


def _standard_deviations_over_n(control, treatment, alpha=0.05):
    c, t = _arms(control, treatment)
    difference, _, df = _welch_parts(control, treatment)
    se = c.std(ddof=1) / len(c) + t.std(ddof=1) / len(t)
    return _interval(difference, stats.t.ppf(1 - alpha / 2, df) * se)


def _no_square_root(control, treatment, alpha=0.05):
    difference, se, df = _welch_parts(control, treatment)
    return _interval(difference, stats.t.ppf(1 - alpha / 2, df) * se**2)


_SMALL_CONTROL = [12.0, 0.0, 30.0, 7.0, 0.0, 18.0, 25.0, 3.0]
_WIDE_TREATMENT = [40.0, 0.0, 95.0, 0.0, 12.0]
_rng = np.random.default_rng(8)
_WATCH_CONTROL = np.round((_rng.random(40) < 0.4) * _rng.lognormal(3.5, 1.0, 40), 1)
_WATCH_TREATMENT = np.round((_rng.random(25) < 0.5) * _rng.lognormal(3.6, 1.3, 25), 1)

q1 = FunctionQuestion(
    label="q1",
    name="welch_interval",
    reference=_welch_interval,
    cases=[
        case(_SMALL_CONTROL, _WIDE_TREATMENT, note="8 vs 5 users, the small arm far more spread"),
        case(_WIDE_TREATMENT, _SMALL_CONTROL, note="the same arms swapped (a negative difference)"),
        case(_WATCH_CONTROL, _WATCH_TREATMENT, note="40 vs 25 users of simulated watch minutes"),
        case(_WATCH_CONTROL, _WATCH_TREATMENT, alpha=0.1, note="a 90% interval"),
    ],
    mistakes=[
        Mistake(
            "You pooled the two variances (Student's t-test). That assumes both arms have the "
            "same spread, which a treatment often changes; with unequal arm sizes the interval "
            "is then wrong. Welch keeps each arm's own variance: "
            "se = sqrt(s_c**2 / n_c + s_t**2 / n_t), with Welch-Satterthwaite degrees of freedom.",
            _pooled_interval,
            _pooled_welch_df,
        ),
        Mistake(
            "Your interval is one-sided: you used t.ppf(1 - alpha, df). A two-sided 95% interval "
            "leaves alpha/2 = 2.5% in EACH tail: half-width = t.ppf(1 - alpha / 2, df) * se.",
            _one_sided,
        ),
        Mistake(
            "You used the normal quantile (1.96) instead of Student's t with the Welch degrees of "
            "freedom. With few users per arm the t quantile is larger: stats.t.ppf(1 - alpha / 2, "
            "df), df = (vc + vt)**2 / (vc**2 / (n_c - 1) + vt**2 / (n_t - 1)), vc = s_c**2 / n_c.",
            _normal_quantile,
        ),
        Mistake(
            "You hard-coded 1.96. That number is the normal quantile of a 95% interval only: it "
            "ignores `alpha` (the 90% case needs a smaller multiplier) and the small-sample t "
            "distribution. Compute the quantile from alpha and the Welch degrees of freedom: "
            "stats.t.ppf(1 - alpha / 2, df).",
            _hard_coded_196,
        ),
        Mistake(
            "Your interval ignores `alpha`: you fixed the quantile at t.ppf(0.975, df), the 95% "
            "one, so a 90% interval (alpha=0.1) comes out too wide. Use 1 - alpha / 2.",
            _t_ignores_alpha,
        ),
        Mistake(
            "Your degrees of freedom are n_c + n_t - 2 (Student's). Welch's test uses the "
            "Welch-Satterthwaite formula: df = (vc + vt)**2 / (vc**2 / (n_c - 1) + vt**2 / "
            "(n_t - 1)), with vc = s_c**2 / n_c and vt = s_t**2 / n_t.",
            _student_df,
        ),
        Mistake(
            "You used the population variance (np.var's default, ddof=0). A sample variance "
            "divides by n - 1: np.var(x, ddof=1).",
            _population_variance,
        ),
        Mistake(
            "Your difference has the wrong sign: it is treatment minus control, "
            "mean(treatment) - mean(control), so that a positive difference means B is better.",
            _reversed_difference,
        ),
        Mistake(
            "The standard error adds VARIANCES of the means, then takes the square root: "
            "se = sqrt(s_c**2 / n_c + s_t**2 / n_t). Adding standard deviations, or forgetting "
            "the square root, gives a wrong width.",
            _standard_deviations_over_n,
            _no_square_root,
        ),
    ],
    hint=[
        "Two-sided: alpha / 2 in each tail. Each arm keeps its own variance (no pooling), and "
        "the quantile comes from Student's t, not from the normal distribution.",
        "Compute four numbers: the difference of the means (treatment minus control); the "
        "variance of each arm's mean (its sample variance, ddof=1, divided by its size); the "
        "standard error, the square root of their sum; and the Welch-Satterthwaite degrees of "
        "freedom. The half-width is the t quantile at 1 - alpha / 2 with those degrees of "
        "freedom, times the standard error.",
    ],
    solution="""
        import numpy as np
        from scipy import stats

        def welch_interval(control, treatment, alpha=0.05):
            control, treatment = np.asarray(control, float), np.asarray(treatment, float)
            vc = control.var(ddof=1) / len(control)       # variance of each arm's mean
            vt = treatment.var(ddof=1) / len(treatment)
            difference = treatment.mean() - control.mean()
            se = np.sqrt(vc + vt)
            df = (vc + vt) ** 2 / (vc**2 / (len(control) - 1) + vt**2 / (len(treatment) - 1))
            half = stats.t.ppf(1 - alpha / 2, df) * se    # two-sided: alpha / 2 per tail
            return difference, difference - half, difference + half
    """,
    why=(
        "Every A/B decision rests on this interval: pooling the variances or using a one-sided "
        "quantile quietly changes how often you ship a change that does nothing."
    ),
)


# --------------------------------------------------------------------------------------
# q2: team-draft interleaving
# --------------------------------------------------------------------------------------


def _team_draft(ranking_a, ranking_b, k, coins):
    items, teams = [], []
    for position in range(k):
        a_turn = coins[position // 2] if position % 2 == 0 else not coins[position // 2]
        ranking = ranking_a if a_turn else ranking_b
        items.append(next(item for item in ranking if item not in items))
        teams.append("A" if a_turn else "B")
    return items, teams


def _ignores_coins(ranking_a, ranking_b, k, coins):
    return _team_draft(ranking_a, ranking_b, k, [True] * len(coins))


def _coins_reversed(ranking_a, ranking_b, k, coins):
    return _team_draft(ranking_a, ranking_b, k, [not coin for coin in coins])


def _allows_duplicates(ranking_a, ranking_b, k, coins):
    items, teams, taken = [], [], {"A": 0, "B": 0}
    for position in range(k):
        a_turn = coins[position // 2] if position % 2 == 0 else not coins[position // 2]
        team = "A" if a_turn else "B"
        ranking = ranking_a if a_turn else ranking_b
        items.append(ranking[taken[team]])  # its next own item, even if already in the list
        taken[team] += 1
        teams.append(team)
    return items, teams


def _coin_every_pick(ranking_a, ranking_b, k, coins):
    # One coin per pick (cycling through the coins given): the teams drift apart.
    items, teams = [], []
    for position in range(k):
        a_turn = coins[position % len(coins)]
        ranking = ranking_a if a_turn else ranking_b
        items.append(next(item for item in ranking if item not in items))
        teams.append("A" if a_turn else "B")
    return items, teams


def _both_pick_in_last_round(ranking_a, ranking_b, k, coins):
    return _team_draft(ranking_a, ranking_b, k + k % 2, coins)


_A = [1, 2, 3, 4, 5, 6, 7, 8]
_B = [3, 1, 9, 2, 10, 11, 12, 13]

q2 = FunctionQuestion(
    label="q2",
    name="team_draft",
    reference=_team_draft,
    cases=[
        case(_A, _B, 6, [True, True, True], note="A first in every round"),
        case(_A, _B, 6, [False, True, False], note="B first in rounds 1 and 3"),
        case(_A, _B, 5, [False, False, True], note="odd k: the last round has one pick"),
        case(_A, list(_A), 4, [False, True], note="identical rankings"),
        case([5, 4, 3, 2, 1, 0], [0, 1, 2, 3, 4, 5], 6, [True, False, False], note="reversed"),
    ],
    mistakes=[
        Mistake(
            "Ranker A always picks first: the team assignment is not randomized when the teams "
            "are tied. Then A always owns the top slot, which gets the most clicks (position "
            "bias), and A wins for a reason that has nothing to do with its quality. At the start "
            "of each round use the coin: A first if coins[round] else B first.",
            _ignores_coins,
        ),
        Mistake(
            "Your coins are the wrong way round: coins[r] is True when ranker A picks FIRST in "
            "round r.",
            _coins_reversed,
        ),
        Mistake(
            "Your list repeats an item. Each pick adds the picker's highest-ranked item that is "
            "NOT ALREADY in the list: scan its ranking from the top and skip what is taken.",
            _allows_duplicates,
        ),
        Mistake(
            "You flipped a coin for every pick, so one team can pick several times in a row "
            "and the teams are unbalanced. Team draft works in rounds: one coin per round "
            "decides who picks first, then the other team picks.",
            _coin_every_pick,
        ),
        Mistake(
            "Your list is longer than k: with an odd k the last round has only one pick (stop "
            "as soon as the list holds k items).",
            _both_pick_in_last_round,
        ),
    ],
    hint=[
        "Picks go in rounds of two: the round's coin decides who picks first, the other ranker "
        "picks second, and a ranker never adds an item that is already in the list.",
        "Loop over the k positions; position // 2 is the round and position % 2 says whether "
        "this is the round's first or second pick; the picker scans its own ranking from the "
        "top, adds the first item not yet in the list, and you record its team ('A' or 'B').",
    ],
    solution="""
        def team_draft(ranking_a, ranking_b, k, coins):
            items, teams = [], []
            for position in range(k):
                first_of_round = position % 2 == 0
                a_picks = coins[position // 2] if first_of_round else not coins[position // 2]
                ranking = ranking_a if a_picks else ranking_b
                items.append(next(item for item in ranking if item not in items))
                teams.append("A" if a_picks else "B")
            return items, teams
    """,
    why=(
        "Interleaving lets each user compare two rankers in one list, which Netflix found needs "
        "over 100x fewer users than an A/B test; the coin is what makes the comparison fair."
    ),
)
