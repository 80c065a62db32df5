"""Reading a difference against its noise: bootstrap and split-seed intervals.

One offline split is one draw. Whether model A "beats" model B depends on which users
happened to land in the test set, so every comparison in the course comes with an interval:

- :func:`bootstrap_interval`: resample the users of one split (the per-user metric values)
  with replacement; the spread of the resampled means is the noise of the mean.
- :func:`paired_bootstrap_interval`: the same for the *difference* between two models scored
  on the same users. Pairing removes the user-to-user variation both models share, so it
  is much tighter than comparing two separate intervals.
- :func:`seed_interval`: a Student-t interval over a few repeated splits (split seeds),
  which also captures the noise of the split itself.

Lesson 01 (``notebooks/01_baselines_and_evaluation.ipynb``) introduces the idea; the
benchmarks report every comparison this way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["Interval", "bootstrap_interval", "paired_bootstrap_interval", "seed_interval"]

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
    """
    values = _as_values(values, "values")
    _check_options(n_resamples, confidence)
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
    """
    a = _as_values(values_a, "values_a")
    b = _as_values(values_b, "values_b")
    if a.shape != b.shape:
        raise ValueError(
            f"values_a has {a.size} values and values_b {b.size}: a paired comparison needs "
            "one value per user from each model, in the same user order."
        )
    _check_options(n_resamples, confidence)
    differences = a - b
    means = _resampled_means(differences[None, :], n_resamples, seed)[0]
    return _percentile_interval(float(differences.mean()), means, confidence)


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


def _resampled_means(rows: np.ndarray, n_resamples: int, seed: int) -> np.ndarray:
    """Means of bootstrap resamples of each row, shape ``(n_rows, n_resamples)``.

    Resamples are drawn in batches of about ``RESAMPLE_BATCH`` indices, so memory stays
    bounded for a million impressions as for a thousand users.
    """
    n = rows.shape[1]
    rng = np.random.default_rng(seed)
    batch = max(1, RESAMPLE_BATCH // n)
    means = np.empty((rows.shape[0], n_resamples))
    for start in range(0, n_resamples, batch):
        stop = min(start + batch, n_resamples)
        indices = rng.integers(0, n, size=(stop - start, n))
        means[:, start:stop] = rows[:, indices].mean(axis=2)
    return means


def _percentile_interval(estimate: float, means: np.ndarray, confidence: float) -> Interval:
    tail = (1 - confidence) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return Interval(estimate, float(low), float(high), confidence)


def _as_values(values, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of numbers (one per user or run).")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values; drop or fix them first.")
    return array


def _check_options(n_resamples, confidence) -> None:
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)):
        raise ValueError(f"n_resamples must be a whole number >= 100, not {n_resamples!r}.")
    if n_resamples < 100:
        raise ValueError(
            f"n_resamples must be at least 100 for a stable interval, not {n_resamples}."
        )
    if not isinstance(confidence, (int, float)) or not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.95), not {confidence!r}.")
