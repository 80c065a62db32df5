"""Reading a difference against its noise: bootstrap and split-seed intervals.

One offline split is one draw. Whether model A "beats" model B depends on which users
happened to land in the test set, so every comparison in the course comes with an interval:

- :func:`bootstrap_interval`: resample the users of one split (the per-user metric values)
  with replacement; the spread of the resampled means is the noise of the mean.
- :func:`paired_bootstrap_interval`: the same for the *difference* between two models scored
  on the same users. Pairing removes the user-to-user variation both models share, so it
  is much tighter than comparing two separate intervals.
- :func:`paired_ratio_interval`: the *relative* difference ``mean(a) / mean(b) - 1`` of two
  models scored on the same users (a lift of +25% over a baseline), resampled as above.
- :func:`unpaired_bootstrap_interval`: the difference between the means of two independent
  groups of users (women and men, niche and blockbuster fans): each group is resampled on
  its own, as they are different people.
- :func:`estimator_interval`: any estimate computed from rows of equal-length arrays (an
  off-policy estimate over logged impressions, lesson 10), resampling the rows together.
- :func:`seed_interval`: a Student-t interval over a few repeated splits (split seeds),
  which also captures the noise of the split itself.

An interval that includes 0 is *absence of evidence*, not evidence that two models are
equally good. Two functions read it the right way round:

- :func:`detectable_difference`: the difference a comparison of this precision would have
  detected (with 80% power), from the width of its interval.
- :func:`equivalence_test` and :func:`equivalence_verdict`: "equivalent", "different" or
  "inconclusive" against a margin ``m`` stated in advance (two one-sided tests).

Lesson 01 (``notebooks/01_baselines_and_evaluation.ipynb``) introduces the idea; the
benchmarks report every comparison this way.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

from recsys_lessons.validation import (
    check_finite_array,
    check_number,
    check_positive_int,
    check_ratio,
    check_seed,
)

__all__ = [
    "Equivalence",
    "Interval",
    "bootstrap_interval",
    "detectable_difference",
    "equivalence_test",
    "equivalence_verdict",
    "estimator_interval",
    "paired_bootstrap_interval",
    "paired_ratio_interval",
    "seed_interval",
    "unpaired_bootstrap_interval",
]

#: Indices drawn per batch of bootstrap resamples (bounds memory, about 32 MB).
RESAMPLE_BATCH = 4_000_000


@dataclass(frozen=True)
class Interval:
    """A point estimate with a two-sided confidence interval."""

    estimate: float
    low: float
    high: float
    confidence: float

    def excludes_zero(self) -> bool:
        """True when the whole interval lies on one side of 0."""
        return self.low > 0 or self.high < 0

    def __str__(self) -> str:
        return f"{self.estimate:.4f} [{self.low:.4f}, {self.high:.4f}]"


def bootstrap_interval(
    values, n_resamples: int = 2000, confidence: float = 0.95, seed: int = 0
) -> Interval:
    """Percentile bootstrap interval of the mean of ``values`` (e.g. per-user nDCG@10).

    Each resample draws ``n`` values with replacement and takes their mean; the interval is
    the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles of those means.

    Parameters
    ----------
    values : array-like of float, shape (n,)
        One value per independent unit (usually per user). No NaN.
    n_resamples : int
        Bootstrap resamples (at least 100).
    confidence : float in (0, 1)
        Coverage of the interval (default 0.95).
    seed : int
        Seed of the resampling.

    Raises
    ------
    ValueError
        When ``values`` is empty, not 1-D, or holds NaN, infinite values or text, or an
        option is out of range.

    Warns
    -----
    UserWarning
        When ``values`` holds a single value: every resample is that value, so the
        interval has zero width and says nothing about the noise.

    Examples
    --------
    >>> interval = bootstrap_interval([0.2, 0.4, 0.6, 0.8, 1.0], n_resamples=1000, seed=0)
    >>> print(interval)
    0.6000 [0.3600, 0.8400]
    >>> interval.low < interval.estimate < interval.high
    True
    """
    values = _as_values(values, "values")
    _check_options(n_resamples, confidence, seed)
    _check_resamplable(values=values)
    means = _resampled_means(values[None, :], n_resamples, seed)[0]
    return _percentile_interval(float(values.mean()), means, confidence)


def paired_bootstrap_interval(
    values_a, values_b, n_resamples: int = 2000, confidence: float = 0.95, seed: int = 0
) -> Interval:
    """Bootstrap interval of ``mean(values_a - values_b)`` over the same users.

    Resampling users (not values of each model separately) keeps the pairs together, so the
    interval measures only the noise of the *difference*. If it excludes 0, A and B differ
    on this population at that confidence.

    Parameters
    ----------
    values_a, values_b : array-like of float, shape (n,)
        The two models' per-user values, in the same user order.

    Raises
    ------
    ValueError
        As :func:`bootstrap_interval`, and when the two arrays differ in length.

    Warns
    -----
    UserWarning
        When there is a single user (a zero-width interval).

    Examples
    --------
    >>> model_a = [0.5, 0.6, 0.7, 0.8, 0.9]  # per-user nDCG, the same five users
    >>> model_b = [0.4, 0.6, 0.5, 0.7, 0.7]
    >>> gap = paired_bootstrap_interval(model_a, model_b, n_resamples=1000, seed=0)
    >>> print(gap)
    0.1200 [0.0600, 0.1800]
    >>> gap.excludes_zero()
    True
    """
    a = _as_values(values_a, "values_a")
    b = _as_values(values_b, "values_b")
    if a.shape != b.shape:
        raise ValueError(
            f"values_a has {a.size} values and values_b {b.size}: a paired comparison needs "
            "one value per user from each model, in the same user order."
        )
    _check_options(n_resamples, confidence, seed)
    _check_resamplable(values_a=a)
    differences = a - b
    means = _resampled_means(differences[None, :], n_resamples, seed)[0]
    return _percentile_interval(float(differences.mean()), means, confidence)


def paired_ratio_interval(
    values_a, values_b, n_resamples: int = 2000, confidence: float = 0.95, seed: int = 0
) -> Interval:
    """Bootstrap interval of the relative difference ``mean(values_a) / mean(values_b) - 1``.

    The lift of A over B relative to B (``0.25``: A's mean is a quarter higher), for two
    non-negative per-user metrics (nDCG, hit rate) of the same users. Each resample draws
    ``n`` users with replacement, keeping each user's two values together as
    :func:`paired_bootstrap_interval` does, and computes ``r* = mean*(a) / mean*(b) - 1``; the
    interval is the percentile interval of the ``r*`` (Efron and Tibshirani, *An
    Introduction to the Bootstrap*, 1993, ch. 13). All resamples are drawn in one vectorized
    pass, like :func:`paired_bootstrap_interval` (:func:`estimator_interval` computes the
    same with one Python call per resample).

    A resample whose ``mean*(b)`` is 0 has no finite ratio: ``+inf`` when ``mean*(a) > 0``,
    0 when both are 0 (no difference). A bound reached by such resamples is ``+inf``: the
    data do not bound the lift from above.

    Parameters
    ----------
    values_a, values_b : array-like of float >= 0, shape (n,)
        The two models' per-user values, in the same user order.

    Raises
    ------
    ValueError
        As :func:`paired_bootstrap_interval`, when a value is negative, or when
        ``mean(values_b)`` is 0 (the relative difference is undefined).

    Examples
    --------
    >>> gap = paired_ratio_interval([0.5, 0.6, 0.7, 0.8], [0.4, 0.5, 0.5, 0.6], seed=0)
    >>> round(gap.estimate, 4)
    0.3
    >>> gap.low > 0
    True
    """
    a = check_finite_array(values_a, "values_a", low=0, meaning="non-negative, one per user")
    b = check_finite_array(values_b, "values_b", low=0, meaning="non-negative, one per user")
    a, b = _as_values(a, "values_a"), _as_values(b, "values_b")
    if a.shape != b.shape:
        raise ValueError(
            f"values_a has {a.size} values and values_b {b.size}: a paired comparison needs "
            "one value per user from each model, in the same user order."
        )
    if b.mean() == 0:
        raise ValueError(
            "mean(values_b) is 0, so the relative difference mean(a) / mean(b) - 1 is "
            "undefined; report the absolute difference (paired_bootstrap_interval) instead."
        )
    _check_options(n_resamples, confidence, seed)
    _check_resamplable(values_a=a)
    means_a, means_b = _resampled_means(np.vstack([a, b]), n_resamples, seed)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(means_b > 0, means_a / means_b - 1, np.where(means_a > 0, np.inf, 0.0))
        tail = (1 - confidence) / 2
        low, high = np.quantile(ratios, [tail, 1 - tail])  # inf - inf gives NaN: unbounded
    low, high = (np.inf if np.isnan(bound) else float(bound) for bound in (low, high))
    return Interval(float(a.mean() / b.mean() - 1), low, high, confidence)


def unpaired_bootstrap_interval(
    values_a, values_b, n_resamples: int = 2000, confidence: float = 0.95, seed: int = 0
) -> Interval:
    """Bootstrap interval of ``mean(values_a) - mean(values_b)`` for two independent groups.

    A stratified bootstrap: each resample draws ``n_a`` values of ``a`` and ``n_b`` values of
    ``b`` with replacement, each group on its own (the groups are different users, so there
    are no pairs to keep), and takes the difference of the two means. Use
    :func:`paired_bootstrap_interval` instead when both values come from the same users.

    Parameters
    ----------
    values_a, values_b : array-like of float, shapes (n_a,) and (n_b,)
        One value per user of each group.

    Raises
    ------
    ValueError
        As :func:`bootstrap_interval`, for each group.

    Warns
    -----
    UserWarning
        When a group holds a single value (its resamples do not vary).
    """
    a = _as_values(values_a, "values_a")
    b = _as_values(values_b, "values_b")
    _check_options(n_resamples, confidence, seed)
    _check_resamplable(values_a=a, values_b=b)
    rng = np.random.default_rng(seed)
    means_a = _resampled_means(a[None, :], n_resamples, rng)[0]
    means_b = _resampled_means(b[None, :], n_resamples, rng)[0]
    return _percentile_interval(float(a.mean() - b.mean()), means_a - means_b, confidence)


def estimator_interval(
    estimator: Callable[..., float],
    *arrays,
    n_resamples: int = 500,
    confidence: float = 0.95,
    seed: int = 0,
    **options,
) -> Interval:
    """Percentile bootstrap interval of ``estimator(*arrays, **options)`` over rows.

    Resamples the rows (the same rows of every array) ``n_resamples`` times with
    replacement, recomputes the estimate on each resample, and returns the estimate on all
    rows with the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles of the
    recomputed ones. With ``estimator = numpy.mean`` and one array it is the interval of
    :func:`bootstrap_interval`; lesson 10 uses it for off-policy estimates, one row per
    logged impression::

        interval = estimator_interval(ips_estimate, rewards, p_log, p_target)

    Rows are treated as independent; the rows of one slate are not (resample per slate if
    that matters).

    Parameters
    ----------
    estimator : callable
        Takes the arrays (and ``options``) and returns a float, e.g.
        :func:`recsys_lessons.explore.offpolicy.ips_estimate`.
    *arrays : array-like, each of length n
        The estimator's row-aligned inputs.
    n_resamples : int
        Bootstrap resamples (at least 100).

    Raises
    ------
    ValueError
        When ``estimator`` is not callable, no arrays are given, or they are not non-empty
        arrays of one equal length.

    Warns
    -----
    UserWarning
        When the arrays hold a single row (a zero-width interval).
    """
    if not callable(estimator):
        raise ValueError("estimator must be a function such as ips_estimate.")
    if not arrays:
        raise ValueError("pass the estimator's arrays after it, e.g. (ips_estimate, r, p, q).")
    _check_options(n_resamples, confidence, seed)
    columns = [np.asarray(a) for a in arrays]
    if any(c.ndim == 0 for c in columns):
        raise ValueError(
            "the estimator's inputs must be arrays with one entry per row; got a single "
            "number. Pass e.g. (ips_estimate, rewards, p_log, p_target)."
        )
    lengths = {len(c) for c in columns}
    if len(lengths) > 1 or 0 in lengths:
        raise ValueError(
            f"the arrays must be non-empty with one entry per row (equal lengths); got lengths "
            f"{[len(c) for c in columns]}."
        )
    _check_resamplable(rows=columns[0])
    rng = np.random.default_rng(seed)
    n = len(columns[0])
    estimates = np.empty(n_resamples)
    for b in range(n_resamples):  # one call of a Python estimator per resample
        rows = rng.integers(0, n, size=n)
        estimates[b] = estimator(*(c[rows] for c in columns), **options)
    return _percentile_interval(float(estimator(*columns, **options)), estimates, confidence)


def seed_interval(values, confidence: float = 0.95) -> Interval:
    """Student-t interval of the mean over repeated runs (e.g. one metric per split seed).

    ``mean +- t_{(1 + confidence) / 2, n - 1} * sd / sqrt(n)`` with the sample standard
    deviation ``sd`` (ddof = 1). With 5 seeds ``t = 2.776``: a handful of splits gives a wide
    interval, which is the honest answer.

    Parameters
    ----------
    values : array-like of float, shape (n,), n >= 2
        One value per run.
    """
    values = _as_values(values, "values")
    if values.size < 2:
        raise ValueError("seed_interval needs at least 2 runs (e.g. 5 split seeds).")
    _check_options(100, confidence)
    mean = float(values.mean())
    half = stats.t.ppf((1 + confidence) / 2, values.size - 1) * values.std(ddof=1)
    half = float(half / np.sqrt(values.size))
    return Interval(mean, mean - half, mean + half, confidence)


@dataclass(frozen=True)
class Equivalence:
    """The verdict of an equivalence test, the interval it read and the margin."""

    verdict: str  # "equivalent", "different" or "inconclusive"
    interval: Interval
    margin: float

    def __str__(self) -> str:
        return (
            f"{self.verdict} at margin {self.margin:g}: {self.interval.confidence:.0%} interval "
            f"{self.interval}"
        )


def detectable_difference(interval: Interval, power: float = 0.8) -> float:
    """The smallest true difference this comparison detects with probability ``power``.

    Reads the standard error off the interval's width, ``se = (high - low) / (2 z)`` with
    ``z = z_{(1 + confidence) / 2}`` (1.96 for a 95% interval; exact for a normal interval,
    approximate for a bootstrap one), and returns the minimum detectable difference

    ``mdd = (z + z_power) * se``,

    the true difference whose interval excludes 0 with probability ``power`` (Cohen 1988,
    ch. 2). For a 95% interval and 80% power it is ``(1.96 + 0.84) se = 2.8 se``, about 1.4
    half-widths; with ``power=0.5`` it is the half-width itself. A comparison that "finds no
    difference" says nothing about differences smaller than this: it could not have seen them.

    Parameters
    ----------
    interval : Interval
        A two-sided interval of a difference, e.g. from :func:`paired_bootstrap_interval`.
    power : float in (0, 1)
        Probability of detecting the difference (default 0.8, the usual planning value).

    References
    ----------
    J. Cohen, *Statistical Power Analysis for the Behavioral Sciences*, 2nd ed., Lawrence
    Erlbaum, 1988.

    Examples
    --------
    >>> round(detectable_difference(Interval(0.01, -0.0096, 0.0296, 0.95)), 4)
    0.028
    """
    if not isinstance(interval, Interval):
        raise ValueError(
            "interval must be an Interval, e.g. paired_bootstrap_interval(a, b); got "
            f"{type(interval).__name__}."
        )
    check_ratio(power, "power (e.g. 0.8)")
    z = stats.norm.ppf((1 + interval.confidence) / 2)
    standard_error = (interval.high - interval.low) / (2 * z)
    return float((z + stats.norm.ppf(power)) * standard_error)


def equivalence_verdict(interval: Interval, margin: float) -> str:
    """Read an interval of a difference against an equivalence margin ``m``.

    - ``"equivalent"``: the interval lies inside ``(-m, m)``. With a ``1 - 2 alpha`` (90%)
      interval this is Schuirmann's two one-sided tests (TOST) at level ``alpha`` (5%):
      the difference is shown to be above ``-m`` and below ``m``. It may still exclude 0:
      a real difference too small to matter.
    - ``"different"``: the interval lies entirely beyond ``m`` or beyond ``-m``: the
      difference is shown to be larger than the margin (the mirror image of TOST, a
      minimal-effect test).
    - ``"inconclusive"``: the interval reaches across ``m`` or ``-m``: the data cannot tell
      whether the difference matters. An interval that includes 0 and is wider than the
      margin is this case: "no significant difference" is not "equivalent".

    Parameters
    ----------
    interval : Interval
        An interval of the difference (a 90% one for TOST at 5%; a 95% one gives a stricter
        test at 2.5% per side).
    margin : float > 0
        The smallest difference that matters, fixed before looking at the data.

    References
    ----------
    D. J. Schuirmann, "A comparison of the two one-sided tests procedure and the power
    approach for assessing the equivalence of average bioavailability", *Journal of
    Pharmacokinetics and Biopharmaceutics* 15(6), 1987. D. Lakens, "Equivalence tests: a
    practical primer for t tests, correlations, and meta-analyses", *Social Psychological
    and Personality Science* 8(4), 2017.

    Examples
    --------
    >>> equivalence_verdict(Interval(0.0295, -0.0087, 0.0682, 0.95), margin=0.02)
    'inconclusive'
    >>> equivalence_verdict(Interval(0.0075, 0.0010, 0.0140, 0.95), margin=0.02)
    'equivalent'
    """
    if not isinstance(interval, Interval):
        raise ValueError(
            "interval must be an Interval, e.g. paired_bootstrap_interval(a, b); got "
            f"{type(interval).__name__}."
        )
    margin = check_number(
        margin, "margin (the smallest difference that matters)", low=0, low_open=True
    )
    if -margin < interval.low and interval.high < margin:
        return "equivalent"
    if interval.low > margin or interval.high < -margin:
        return "different"
    return "inconclusive"


def equivalence_test(
    differences, margin: float, alpha: float = 0.05, n_resamples: int = 2000, seed: int = 0
) -> Equivalence:
    """Two one-sided tests (TOST) of ``mean(differences)`` against the margin ``[-m, m]``.

    Takes paired per-user differences (model A minus model B on the same users), draws the
    percentile bootstrap interval of their mean at confidence ``1 - 2 alpha`` (90% for the
    usual ``alpha = 0.05``) and reads it with :func:`equivalence_verdict`. Equivalent at
    margin ``m`` means both one-sided nulls, ``mean <= -m`` and ``mean >= m``, are rejected
    at level ``alpha``, which is the same as the ``1 - 2 alpha`` interval lying inside
    ``(-m, m)`` (Schuirmann 1987).

    Parameters
    ----------
    differences : array-like of float, shape (n,)
        One paired difference per user, e.g. ``ndcg_a - ndcg_b``.
    margin : float > 0
        The smallest difference that matters, stated before the test.
    alpha : float in (0, 0.5)
        Level of each one-sided test (default 0.05).
    n_resamples, seed
        As in :func:`bootstrap_interval`.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> same = rng.normal(0.001, 0.05, size=2000)  # two models within 0.01 of each other
    >>> equivalence_test(same, margin=0.01).verdict
    'equivalent'
    >>> equivalence_test(same[:50], margin=0.01).verdict  # too few users to tell
    'inconclusive'
    """
    values = _as_values(differences, "differences")
    alpha = check_number(alpha, "alpha (e.g. 0.05)", low=0, high=0.5, low_open=True, high_open=True)
    interval = bootstrap_interval(values, n_resamples, 1 - 2 * alpha, seed)
    return Equivalence(equivalence_verdict(interval, margin), interval, float(margin))


def _resampled_means(rows: np.ndarray, n_resamples: int, seed) -> np.ndarray:
    """Means of bootstrap resamples of each row, shape ``(n_rows, n_resamples)``.

    Resamples are drawn in batches of about ``RESAMPLE_BATCH`` indices, so memory stays
    bounded for a million impressions as for a thousand users. ``seed`` is a seed or a
    ``numpy.random.Generator`` to continue drawing from.
    """
    n = rows.shape[1]
    rng = np.random.default_rng(seed)
    batch = max(1, RESAMPLE_BATCH // n)
    means = np.empty((rows.shape[0], n_resamples))
    for start in range(0, n_resamples, batch):
        stop = min(start + batch, n_resamples)
        indices = rng.integers(0, n, size=(stop - start, n))
        for row, values in enumerate(rows):  # one 1-D gather per row: rows[:, indices] is slower
            means[row, start:stop] = values[indices].mean(axis=1)
    return means


def _percentile_interval(estimate: float, means: np.ndarray, confidence: float) -> Interval:
    tail = (1 - confidence) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return Interval(estimate, float(low), float(high), confidence)


def _as_values(values, name: str) -> np.ndarray:
    array = check_finite_array(values, name, meaning="one per user or run")
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of numbers (one per user or run).")
    return array


def _check_resamplable(**arrays) -> None:
    """Warn about a bootstrap of a single value: every resample is that value, a zero-width
    interval that says nothing about the noise."""
    single = [name for name, array in arrays.items() if len(array) < 2]
    if single:
        warnings.warn(
            f"{' and '.join(single)} {'holds' if len(single) == 1 else 'hold'} a single value, "
            "so every resample is that value and the interval has zero width: it says nothing "
            "about the noise. Evaluate at least 2 users (many more for a useful interval).",
            UserWarning,
            stacklevel=3,
        )


def _check_options(n_resamples, confidence, seed=0) -> None:
    n_resamples = check_positive_int(n_resamples, "n_resamples", "bootstrap resamples")
    if n_resamples < 100:
        raise ValueError(
            f"n_resamples must be at least 100 for a stable interval, not {n_resamples}."
        )
    check_ratio(confidence, "confidence (e.g. 0.95)")
    check_seed(seed)
