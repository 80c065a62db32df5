"""Intervals: coverage by simulation, pairing, closed forms, and clear errors."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats as scipy_stats

from recsys_lessons.evaluation import (
    bootstrap_interval,
    estimator_interval,
    paired_bootstrap_interval,
    seed_interval,
    unpaired_bootstrap_interval,
)
from recsys_lessons.evaluation.stats import RESAMPLE_BATCH


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


def test_same_seed_same_interval():
    values = np.random.default_rng(4).random(1000)
    first = bootstrap_interval(values, n_resamples=200, seed=7)
    assert first == bootstrap_interval(values, n_resamples=200, seed=7)
    assert first != bootstrap_interval(values, n_resamples=200, seed=8)
    assert first.low < values.mean() < first.high


def test_memory_stays_bounded_by_the_resample_batch_for_large_inputs():
    values = np.random.default_rng(4).random(300_000)
    # all 200 resamples at once would hold 200 x 300,000 indices and values: 960 MB
    unbatched = 2 * 200 * values.size * 8
    tracemalloc.start()
    try:
        interval = bootstrap_interval(values, n_resamples=200, seed=7)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    batched = 2 * RESAMPLE_BATCH * 8  # one batch of indices and of the values they pick
    assert peak < 1.5 * batched < unbatched / 5
    assert interval.low < values.mean() < interval.high


finite_values = arrays(
    np.float64,
    st.integers(1, 40),
    elements=st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=60, deadline=None)
@given(finite_values, st.integers(0, 2**32 - 1))
def test_the_interval_contains_its_estimate(values, seed):
    interval = bootstrap_interval(values, n_resamples=200, seed=seed)
    tolerance = 1e-9 * (1 + np.abs(values).max())  # rounding of a mean of equal values
    assert interval.estimate == pytest.approx(values.mean())
    assert interval.low - tolerance <= interval.estimate <= interval.high + tolerance


@settings(max_examples=60, deadline=None)
@given(st.data(), st.integers(0, 2**32 - 1))
def test_the_paired_interval_is_the_bootstrap_of_the_differences(data, seed):
    a = data.draw(finite_values)
    b = data.draw(arrays(np.float64, a.size, elements=st.floats(-1e3, 1e3)))
    paired = paired_bootstrap_interval(a, b, n_resamples=200, seed=seed)
    assert paired == bootstrap_interval(a - b, n_resamples=200, seed=seed)


def test_unpaired_interval_resamples_each_group_on_its_own():
    rng = np.random.default_rng(5)
    a, b = rng.normal(0.5, 1.0, size=400), rng.normal(0.3, 1.0, size=100)
    interval = unpaired_bootstrap_interval(a, b, n_resamples=4000)
    assert interval.estimate == pytest.approx(a.mean() - b.mean())
    # the standard error of a difference of independent means adds the two variances
    error = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    assert interval.high - interval.low == pytest.approx(2 * 1.96 * error, rel=0.1)
    same = unpaired_bootstrap_interval(a, a, n_resamples=200, seed=1)
    assert same.estimate == 0 and same.low < 0 < same.high  # two draws of one group still vary


def test_estimator_interval_of_the_mean_is_the_bootstrap_interval():
    values = np.random.default_rng(6).random(500)  # an even count: the same random draws
    interval = estimator_interval(np.mean, values, n_resamples=300, seed=2)
    assert interval == bootstrap_interval(values, n_resamples=300, seed=2)


def test_estimator_interval_resamples_rows_of_every_array_together():
    x = np.arange(100.0)
    interval = estimator_interval(lambda u, v: float(np.mean(u - v)), x, x, n_resamples=100)
    assert (interval.estimate, interval.low, interval.high) == (0.0, 0.0, 0.0)


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
        (lambda: bootstrap_interval([1.0, 2.0], seed=-1), "seed must be"),
        (lambda: bootstrap_interval([1.0, 2.0], n_resamples=200.0), "positive integer"),
        (lambda: unpaired_bootstrap_interval([1.0], [np.inf]), "NaN or infinite"),
        (lambda: estimator_interval(np.mean), "pass the estimator's arrays"),
        (lambda: estimator_interval(np.mean, [1.0], [1.0, 2.0]), "equal lengths"),
        (lambda: estimator_interval("mean", [1.0]), "must be a function"),
    ],
)
def test_bad_input_says_what_to_do(call, message):
    with pytest.raises(ValueError, match=message):
        call()
