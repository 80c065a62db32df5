"""Intervals: coverage by simulation, pairing, closed forms, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as scipy_stats

from recsys_lessons.evaluation import bootstrap_interval, paired_bootstrap_interval, seed_interval


def test_bootstrap_interval_covers_the_true_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(1)
    covered = 0
    runs = 400
    for run in range(runs):
        sample = rng.exponential(1.0, size=200)  # skewed, true mean 1
        interval = bootstrap_interval(sample, n_resamples=500, seed=run)
        covered += interval.low <= 1.0 <= interval.high
    # 95% nominal; the percentile bootstrap undercovers slightly on skewed data.
    assert 0.90 <= covered / runs <= 0.98


def test_bootstrap_interval_width_matches_the_standard_error():
    values = np.random.default_rng(2).normal(0.3, 1.0, size=2000)
    interval = bootstrap_interval(values, n_resamples=4000)
    standard_error = values.std(ddof=1) / np.sqrt(values.size)
    assert interval.estimate == pytest.approx(values.mean())
    assert interval.high - interval.low == pytest.approx(2 * 1.96 * standard_error, rel=0.1)


def test_pairing_removes_the_shared_user_variation():
    rng = np.random.default_rng(3)
    user_effect = rng.normal(0.0, 1.0, size=500)
    a = user_effect + 0.05 + rng.normal(0, 0.05, size=500)
    b = user_effect + rng.normal(0, 0.05, size=500)
    paired = paired_bootstrap_interval(a, b)
    separate = bootstrap_interval(a)
    assert paired.excludes_zero() and paired.low > 0
    assert paired.high - paired.low < (separate.high - separate.low) / 5


def test_seed_interval_is_the_student_t_interval():
    values = np.array([0.40, 0.42, 0.41, 0.43, 0.39])
    interval = seed_interval(values)
    half = scipy_stats.t.ppf(0.975, 4) * values.std(ddof=1) / np.sqrt(5)
    assert interval.low == pytest.approx(values.mean() - half)
    assert interval.high == pytest.approx(values.mean() + half)
    assert all(type(x) is float for x in (interval.estimate, interval.low, interval.high))


def test_same_seed_same_interval_and_large_inputs_stay_bounded():
    values = np.random.default_rng(4).random(300_000)
    first = bootstrap_interval(values, n_resamples=200, seed=7)
    assert first == bootstrap_interval(values, n_resamples=200, seed=7)
    assert first.low < values.mean() < first.high


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: bootstrap_interval([]), "non-empty"),
        (lambda: bootstrap_interval([1.0, np.nan]), "NaN"),
        (lambda: bootstrap_interval([[1.0, 2.0]]), "1-D"),
        (lambda: bootstrap_interval([1.0, 2.0], n_resamples=10), "at least 100"),
        (lambda: bootstrap_interval([1.0, 2.0], confidence=95), "between 0 and 1"),
        (lambda: paired_bootstrap_interval([1.0, 2.0], [1.0]), "same user order"),
        (lambda: seed_interval([0.4]), "at least 2 runs"),
    ],
)
def test_bad_input_says_what_to_do(call, message):
    with pytest.raises(ValueError, match=message):
        call()
