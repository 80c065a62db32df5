"""Reading online experiments correctly: A/B tests, power, CUPED and interleaving.

Lesson 09 (``notebooks/09_online_experiments.ipynb``) runs every function here on the
simulated audience of :mod:`recsys_lessons.online.environment`, where the truth is known, so each
statistical promise (95 % coverage, 5 % false positives, 80 % power) can be checked.

- :func:`ab_test`: difference of means with Welch's interval and p-value.
- :func:`sample_size`: users per arm to detect an effect (normal approximation).
- :func:`cuped`: variance reduction with a pre-experiment covariate (Deng et al. 2013).
- :func:`team_draft_interleave`, :func:`interleaving_preference`,
  :class:`InterleavingPolicy`: compare two rankers inside one list (Radlinski et al. 2008;
  Chapelle et al. 2012).
- :func:`ab_pick_rate`, :func:`interleaving_pick_rate`, :func:`users_to_pick_winner`:
  how many users each method needs to pick the better ranker.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from recsys_lessons.online.policies import PolicyWrapper
from recsys_lessons.online.policy import Slate
from recsys_lessons.validation import (
    check_finite_array,
    check_number,
    check_positive_int,
    check_ratio,
    check_rng,
)

__all__ = [
    "ABTestResult",
    "InterleavingPolicy",
    "ab_pick_rate",
    "ab_test",
    "cuped",
    "interleaving_pick_rate",
    "interleaving_preference",
    "sample_size",
    "team_draft_interleave",
    "users_to_pick_winner",
]

#: Team labels of :func:`team_draft_interleave`.
TEAM_A, TEAM_B = 0, 1


# --------------------------------------------------------------------------------------
# A/B tests
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ABTestResult:
    """Outcome of :func:`ab_test`. Fields are floats, or arrays for batched tests.

    Attributes
    ----------
    control_mean, treatment_mean : float
    difference : float
        ``treatment_mean - control_mean``.
    relative_lift : float
        ``difference / control_mean``.
    ci_low, ci_high : float
        The ``1 - alpha`` Welch confidence interval of the difference.
    p_value : float
        Two-sided Welch t-test of "no difference".
    std_error, df : float
        ``sqrt(s_c^2 / n_c + s_t^2 / n_t)`` and the Welch-Satterthwaite degrees of freedom.
    n_control, n_treatment : int
    alpha : float
    """

    control_mean: float
    treatment_mean: float
    difference: float
    relative_lift: float
    ci_low: float
    ci_high: float
    p_value: float
    std_error: float
    df: float
    n_control: int
    n_treatment: int
    alpha: float

    @property
    def significant(self):
        """``p_value < alpha`` (equivalently: the interval excludes 0)."""
        return self.p_value < self.alpha

    def __str__(self) -> str:
        if np.ndim(self.difference):
            return (
                f"ABTestResult: {np.size(self.difference)} tests, "
                f"{np.mean(self.significant):.1%} significant at alpha = {self.alpha}"
            )
        level = f"{1 - self.alpha:.0%}"
        verdict = "significant" if self.significant else "not significant"
        return "\n".join(
            [
                f"A/B test (Welch), alpha = {self.alpha}",
                f"  control    n = {self.n_control:>7}   mean = {self.control_mean:.4g}",
                f"  treatment  n = {self.n_treatment:>7}   mean = {self.treatment_mean:.4g}",
                f"  difference {self.difference:+.4g} ({self.relative_lift:+.2%}), "
                f"{level} CI [{self.ci_low:+.4g}, {self.ci_high:+.4g}], "
                f"p = {self.p_value:.3g}: {verdict}",
            ]
        )

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython display
        printer.text(str(self))


def ab_test(control, treatment, alpha: float = 0.05) -> ABTestResult:
    """Compare a per-user metric between two arms with Welch's t-test.

    ``difference = mean_t - mean_c``, ``se = sqrt(s_c^2 / n_c + s_t^2 / n_t)`` (each arm's own
    variance: no equal-variance assumption), degrees of freedom
    ``df = se^4 / ((s_c^2 / n_c)^2 / (n_c - 1) + (s_t^2 / n_t)^2 / (n_t - 1))``, interval
    ``difference +- t_{1 - alpha/2, df} * se`` and a two-sided p-value (SciPy's
    ``ttest_ind(equal_var=False)``). Lesson 09 checks its coverage on A/A tests.

    Parameters
    ----------
    control, treatment : array-like of float, shape ``(n,)`` or ``(repetitions, n)``
        One value per user (e.g. watch seconds over the experiment). 2-D inputs run one
        test per row at once (vectorized simulations).
    alpha : float
        ``1 - alpha`` is the confidence level.

    Raises
    ------
    ValueError
        When an arm holds fewer than 2 values, NaN, infinite values or text, or both arms
        are constant.

    Warns
    -----
    UserWarning
        When the control mean is 0: the relative lift is undefined and reported as NaN
        (read ``difference`` instead).

    Examples
    --------
    >>> result = ab_test([0.0, 1.0, 2.0, 1.0], [1.0, 2.0, 3.0, 2.0])
    >>> result.difference, result.relative_lift, result.n_control
    (1.0, 1.0, 4)
    >>> round(result.std_error, 4), round(result.df, 1), result.significant
    (0.5774, 6.0, False)
    >>> round(result.ci_low, 3), round(result.ci_high, 3)
    (-0.413, 2.413)
    """
    control = _check_metric(control, "control")
    treatment = _check_metric(treatment, "treatment")
    alpha = check_ratio(alpha, "alpha")
    if control.shape[:-1] != treatment.shape[:-1]:
        raise ValueError(
            f"batched arms need the same number of rows; got {control.shape} and {treatment.shape}."
        )
    n_c, n_t = control.shape[-1], treatment.shape[-1]
    mean_c, mean_t = control.mean(axis=-1), treatment.mean(axis=-1)
    var_c = control.var(axis=-1, ddof=1) / n_c
    var_t = treatment.var(axis=-1, ddof=1) / n_t
    std_error = np.sqrt(var_c + var_t)
    if np.any(std_error == 0):
        raise ValueError(
            "both arms are constant, so there is no variance to test against; check the metric."
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        df = (var_c + var_t) ** 2 / (var_c**2 / (n_c - 1) + var_t**2 / (n_t - 1))
        p_value = stats.ttest_ind(treatment, control, axis=-1, equal_var=False).pvalue
        relative = np.where(mean_c == 0, np.nan, (mean_t - mean_c) / mean_c)
    if np.any(mean_c == 0):
        warnings.warn(
            "the control mean is 0, so the relative lift (difference / control mean) is "
            "undefined and reported as nan; read the absolute difference instead.",
            UserWarning,
            stacklevel=2,
        )
    half = stats.t.ppf(1 - alpha / 2, df) * std_error
    difference = mean_t - mean_c
    return ABTestResult(
        *(_scalar(x) for x in (mean_c, mean_t, difference, relative)),
        *(_scalar(x) for x in (difference - half, difference + half, p_value, std_error, df)),
        n_control=int(n_c),
        n_treatment=int(n_t),
        alpha=alpha,
    )


def sample_size(
    std, minimum_detectable_effect, alpha: float = 0.05, power: float = 0.8
) -> int | np.ndarray:
    """Users per arm for a two-sided test to detect a difference of means (normal approx.).

    ``n = ceil(2 * (z_{1 - alpha/2} + z_{power})^2 * std^2 / mde^2)`` per arm, where ``std``
    is the per-user standard deviation of the metric (the same in both arms) and ``mde``
    the absolute difference to detect (a relative lift ``l`` is ``mde = l * mean``).
    Lesson 09 checks it by simulation.

    Raises
    ------
    ValueError
        When ``std`` or ``minimum_detectable_effect`` is NaN, infinite, text or empty,
        ``std <= 0``, the effect is 0, or ``alpha`` / ``power`` lie outside (0, 1).
    """
    std = check_finite_array(std, "std", meaning="the per-user standard deviation")
    mde = check_finite_array(
        minimum_detectable_effect, "minimum_detectable_effect", meaning="a difference of means"
    )
    if std.size == 0 or mde.size == 0:
        raise ValueError("std and minimum_detectable_effect need at least one value each.")
    if (std <= 0).any() or (mde == 0).any():
        raise ValueError(
            f"std must be positive and minimum_detectable_effect non-zero; got std={std!r} "
            f"and minimum_detectable_effect={mde!r}."
        )
    check_ratio(alpha, "alpha")
    check_ratio(power, "power")
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    n = np.ceil(2 * z**2 * std**2 / mde**2).astype(np.int64)
    return int(n) if n.ndim == 0 else n


def cuped(metric, covariate) -> np.ndarray:
    """CUPED-adjusted metric (Deng, Xu, Kohavi, Walker, WSDM 2013).

    ``Y_cuped = Y - theta * (X - mean(X))`` with ``theta = cov(X, Y) / var(X)``, ``X`` a
    covariate measured before the experiment (so the treatment cannot move it). The mean is
    unchanged and the variance shrinks by the factor ``1 - rho^2``, ``rho = corr(X, Y)``:
    the same precision with ``1 - rho^2`` times the users. Pass all users of all arms
    together (one ``theta`` for everyone), then split the result by arm.
    """
    y = _check_metric(metric, "metric")
    x = _check_metric(covariate, "covariate")
    if y.ndim != 1 or x.shape != y.shape:
        raise ValueError(
            f"metric and covariate need one value per user, same length; got {y.shape} and {x.shape}."
        )
    centred = x - x.mean()
    if not centred.any():
        raise ValueError("the covariate is constant, so it cannot explain any variance.")
    theta = (centred * (y - y.mean())).sum() / (centred**2).sum()
    return y - theta * centred


# --------------------------------------------------------------------------------------
# Interleaving
# --------------------------------------------------------------------------------------


def team_draft_interleave(ranking_a, ranking_b, k: int, seed=0):
    """Team-draft interleaving of two rankings (Radlinski, Kurup, Joachims, CIKM 2008).

    Like picking teams in the schoolyard: in each round a coin decides which ranker picks
    first; each then adds its highest-ranked item not yet in the list, until ``k`` items.
    Every item remembers the team that picked it; a click credits that team.

    Parameters
    ----------
    ranking_a, ranking_b : array-like of int, shape ``(m,)`` or ``(n, m)``, ``m >= k``
        Ranked lists (best first) without repeats; 2-D: one pair of lists per user.
    k : int
        Length of the interleaved list.
    seed : int or numpy Generator

    Returns
    -------
    items : ndarray of int, shape ``(k,)`` or ``(n, k)``
    teams : ndarray of int, same shape
        ``TEAM_A`` (0) or ``TEAM_B`` (1): who contributed each position.
    """
    a, b, single = _check_rankings(ranking_a, ranking_b, k)
    rng = check_rng(seed)
    a_first = rng.random((len(a), (k + 1) // 2)) < 0.5
    items, teams = _team_draft(a, b, k, a_first)
    return (items[0], teams[0]) if single else (items, teams)


def _team_draft(a, b, k, a_first):
    """Team draft with given coin flips ``a_first`` (one per round and row)."""
    n = len(a)
    items = np.full((n, k), -1, dtype=np.int64)
    teams = np.empty((n, k), dtype=np.int64)
    for position in range(k):
        first_of_round = position % 2 == 0
        a_turn = a_first[:, position // 2] if first_of_round else ~a_first[:, position // 2]
        chosen = items[:, :position]
        pick_a = _first_unused(a, chosen)
        pick_b = _first_unused(b, chosen)
        items[:, position] = np.where(a_turn, pick_a, pick_b)
        teams[:, position] = np.where(a_turn, TEAM_A, TEAM_B)
    return items, teams


def _first_unused(ranking, chosen) -> np.ndarray:
    """Each row's highest-ranked item that is not among ``chosen`` (always exists: m >= k)."""
    used = (ranking[:, :, None] == chosen[:, None, :]).any(axis=2)
    return ranking[np.arange(len(ranking)), np.argmax(~used, axis=1)]


def interleaving_preference(teams, clicks, users=None):
    """Which ranker each user preferred: ``sign(clicks credited to B - clicks credited to A)``.

    +1: the user clicked more items of ranker B, -1: more of A, 0: a tie (including no
    clicks). The winner of the experiment is the ranker more users prefer (Chapelle,
    Joachims, Radlinski, Yue, TOIS 2012).

    Parameters
    ----------
    teams : array-like of int
        ``TEAM_A`` / ``TEAM_B`` per shown position (from :func:`team_draft_interleave`).
    clicks : array-like of bool, same shape
    users : array-like of int, same shape, optional
        When given, clicks are summed per user over all their impressions (a whole
        experiment's log) and a pandas Series indexed by user is returned; otherwise one
        preference per row of 2-D inputs.
    """
    teams = np.asarray(teams)
    clicks = np.asarray(clicks, dtype=bool)
    if teams.shape != clicks.shape or not np.isin(teams, (TEAM_A, TEAM_B)).all():
        raise ValueError(
            f"teams ({teams.shape}) must hold TEAM_A/TEAM_B labels with clicks of the same shape "
            f"({clicks.shape})."
        )
    credit = np.where(teams == TEAM_B, 1, -1) * clicks
    if users is None:
        if credit.ndim != 2:
            raise ValueError("without users, pass 2-D arrays: one interleaved list per row.")
        return np.sign(credit.sum(axis=1))
    users = np.asarray(users)
    if users.shape != teams.shape:
        raise ValueError(f"users must have the shape of teams {teams.shape}; got {users.shape}.")
    per_user = pd.Series(credit.ravel()).groupby(users.ravel()).sum()
    return np.sign(per_user).rename("preference").rename_axis("user")


class InterleavingPolicy(PolicyWrapper):
    """A policy for :class:`~recsys_lessons.online.environment.OnlineEnvironment` that shows the
    team-draft interleaving of two policies' slates and remembers who contributed what.

    :attr:`teams` is a frame (``day``, ``user``, ``position``, ``team``) to merge with the
    impression log on ``day, user, position``. The interleaved slate depends on random
    coin flips and reports no propensities (``None``).

    Parameters
    ----------
    policy_a, policy_b : policy, Recommender or function
        See :func:`~recsys_lessons.online.policies.as_policy`; the same object may be
        passed twice (its hooks are called once).
    seed : int
        Seeds the coin flips of the team draft.
    """

    def __init__(self, policy_a, policy_b, seed: int = 0) -> None:
        super().__init__(policy_a, policy_b)
        self.policy_a, self.policy_b = self.policies
        self._rng = check_rng(seed)
        self.seed = seed
        self._records: list[pd.DataFrame] = []

    def make_slate(self, users, k):
        lists = [policy.recommend(users, k).items for policy in (self.policy_a, self.policy_b)]
        items, teams = team_draft_interleave(lists[0], lists[1], k, seed=self._rng)
        self._records.append(
            pd.DataFrame(
                {
                    "day": 0 if self.context is None else self.context.day,
                    "user": np.repeat(users, k),
                    "position": np.tile(np.arange(1, k + 1), len(users)),
                    "team": teams.ravel(),
                }
            )
        )
        return Slate(items, propensities=None)  # random coins: not computed

    @property
    def teams(self) -> pd.DataFrame:
        if not self._records:
            return pd.DataFrame(columns=["day", "user", "position", "team"])
        return pd.concat(self._records, ignore_index=True)


# --------------------------------------------------------------------------------------
# Users needed to pick the better ranker
# --------------------------------------------------------------------------------------


def ab_pick_rate(control, treatment, n_users: int, n_repetitions: int = 2000, seed=0) -> float:
    """Share of simulated A/B tests that rank treatment above control.

    Each test draws ``n_users // 2`` users per arm with replacement from the per-user
    outcomes of a simulated population under each ranker, and picks the arm with the
    higher mean (no significance threshold: the question is "which is better?").

    Raises
    ------
    ValueError
        When an arm holds fewer than 2 values or non-finite ones, ``n_users`` or
        ``n_repetitions`` is not a positive whole number, or ``seed`` is not a seed.
    """
    control = _check_metric(control, "control")
    treatment = _check_metric(treatment, "treatment")
    n_users = check_positive_int(n_users, "n_users", "users per simulated test")
    n_repetitions = check_positive_int(n_repetitions, "n_repetitions", "simulated tests")
    rng = check_rng(seed)
    half = max(n_users // 2, 1)
    mean_c = control[rng.integers(0, len(control), (n_repetitions, half))].mean(axis=1)
    mean_t = treatment[rng.integers(0, len(treatment), (n_repetitions, half))].mean(axis=1)
    ties = mean_t == mean_c
    return float(((mean_t > mean_c) + 0.5 * ties).mean())


def interleaving_pick_rate(preferences, n_users: int, n_repetitions: int = 2000, seed=0) -> float:
    """Share of simulated interleaving experiments with ``n_users`` users (drawn with
    replacement from per-user preferences, +1 for B, -1 for A) in which more users prefer
    B than A; a tie counts one half.

    Raises
    ------
    ValueError
        When ``preferences`` is empty or holds anything but -1, 0 and +1, ``n_users`` or
        ``n_repetitions`` is not a positive whole number, or ``seed`` is not a seed.
    """
    preferences = check_finite_array(preferences, "preferences", meaning="-1, 0 or +1 per user")
    if preferences.ndim != 1 or preferences.size == 0 or not np.isin(preferences, (-1, 0, 1)).all():
        raise ValueError(
            "preferences must be a non-empty 1-D array of -1, 0 and +1 (one per user, from "
            f"interleaving_preference); got shape {preferences.shape}."
        )
    n_users = check_positive_int(n_users, "n_users", "users per simulated experiment")
    n_repetitions = check_positive_int(n_repetitions, "n_repetitions", "simulated experiments")
    rng = check_rng(seed)
    total = preferences[rng.integers(0, len(preferences), (n_repetitions, n_users))].sum(axis=1)
    return float(((total > 0) + 0.5 * (total == 0)).mean())


def users_to_pick_winner(mean, std, probability: float = 0.95) -> int:
    """Users needed for a comparison to pick the better side with the given probability.

    A statistic that is a sum of ``n`` independent per-user contributions of mean ``mean``
    and standard deviation ``std`` has the sign of ``mean`` with probability
    ``Phi(sqrt(n) * mean / std)`` (normal approximation), so
    ``n = ceil((z_probability * std / mean)^2)``.

    - Interleaving: ``mean`` and ``std`` of the per-user preference (+1 / 0 / -1).
    - A/B test with ``n`` users in total, half per arm: ``mean`` = the true difference of
      the arms' means and ``std = sqrt(2 * (s_c^2 + s_t^2))``, since
      ``Var(mean_t - mean_c) = 2 (s_c^2 + s_t^2) / n``.

    Raises
    ------
    ValueError
        When ``mean`` or ``std`` is not a finite number, ``mean`` is 0, ``std <= 0``, or
        ``probability`` lies outside (0.5, 1): a coin flip already picks the winner with
        probability 0.5, so a smaller target needs no users at all.
    """
    mean = check_number(mean, "mean")
    std = check_number(std, "std", low=0, low_open=True)
    if mean == 0:
        raise ValueError("mean must be non-zero: with no true difference there is no winner.")
    probability = check_number(
        probability,
        "probability (of picking the winner)",
        low=0.5,
        high=1,
        low_open=True,
        high_open=True,
    )
    return int(np.ceil((stats.norm.ppf(probability) * std / mean) ** 2))


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def _check_metric(values, name: str) -> np.ndarray:
    values = check_finite_array(values, name, meaning="one value per user")
    if values.ndim not in (1, 2) or values.shape[-1] < 2:
        raise ValueError(
            f"{name} needs at least 2 users (one value each, 1-D, or 2-D for batches); "
            f"got shape {values.shape}."
        )
    return values


def _check_rankings(ranking_a, ranking_b, k):
    a, b = np.asarray(ranking_a), np.asarray(ranking_b)
    single = a.ndim == 1
    a, b = np.atleast_2d(a), np.atleast_2d(b)
    if a.ndim != 2 or a.shape[0] != b.shape[0]:
        raise ValueError(
            f"rankings must be 1-D lists or 2-D (one per user); got {a.shape}, {b.shape}."
        )
    if not np.issubdtype(a.dtype, np.integer) or not np.issubdtype(b.dtype, np.integer):
        raise ValueError("rankings must hold integer item indices.")
    if (a.size and a.min() < 0) or (b.size and b.min() < 0):
        raise ValueError(
            "rankings hold negative item indices; item indices start at 0 (a -1 placeholder "
            "is not an item: drop it first)."
        )
    shortest = min(a.shape[1], b.shape[1])
    k = check_positive_int(k, "k", "the length of the interleaved list")
    if k > shortest:
        raise ValueError(
            f"k must lie in 1..{shortest} (each ranking needs at least k items); got {k}."
        )
    for ranking in (a, b):
        ordered = np.sort(ranking, axis=1)
        if (ordered[:, 1:] == ordered[:, :-1]).any():
            raise ValueError("a ranking lists an item twice; rankings must not repeat items.")
    return a, b, single


def _scalar(value):
    value = np.asarray(value, dtype=np.float64)
    return float(value) if value.ndim == 0 else value
