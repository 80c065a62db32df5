"""Equivalence margins and power: what a comparison could detect, and TOST."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as scipy_stats

from recsys_lessons.evaluation.stats import (
    Interval,
    bootstrap_interval,
    detectable_difference,
    equivalence_test,
    equivalence_verdict,
)


def _normal_interval(estimate, standard_error, confidence=0.95):
    half = scipy_stats.norm.ppf((1 + confidence) / 2) * standard_error
    return Interval(estimate, estimate - half, estimate + half, confidence)


def test_detectable_difference_is_2_8_standard_errors_at_95_percent_and_80_percent_power():
    interval = _normal_interval(0.01, standard_error=0.005)
    assert detectable_difference(interval) == pytest.approx(2.8016 * 0.005, rel=1e-4)


def test_at_half_power_the_detectable_difference_is_the_half_width():
    interval = _normal_interval(0.0, standard_error=0.02, confidence=0.9)
    half_width = (interval.high - interval.low) / 2
    assert detectable_difference(interval, power=0.5) == pytest.approx(half_width)


def test_a_true_difference_of_that_size_is_detected_80_percent_of_the_time():
    rng = np.random.default_rng(0)
    n, sd = 400, 1.0
    planned = detectable_difference(_normal_interval(0.0, sd / np.sqrt(n)))
    samples = rng.normal(planned, sd, size=(4000, n))
    z = samples.mean(axis=1) / (samples.std(axis=1, ddof=1) / np.sqrt(n))
    assert np.mean(z > 1.96) == pytest.approx(0.8, abs=0.03)


@pytest.mark.parametrize(
    ("low", "high", "verdict"),
    [
        (-0.01, 0.01, "equivalent"),  # includes 0, inside the margin
        (0.001, 0.014, "equivalent"),  # a real difference, too small to matter
        (0.025, 0.05, "different"),  # larger than the margin
        (-0.05, -0.021, "different"),  # ... on either side
        (0.009, 0.029, "inconclusive"),  # excludes 0, but may or may not matter
        (-0.0087, 0.0682, "inconclusive"),  # "no significant difference" and too wide
        (-0.02, 0.01, "inconclusive"),  # touching the margin is not inside it
    ],
)
def test_the_verdict_reads_the_interval_against_the_margin(low, high, verdict):
    interval = Interval((low + high) / 2, low, high, 0.9)
    assert equivalence_verdict(interval, margin=0.02) == verdict


def test_equivalence_test_reads_the_90_percent_bootstrap_interval():
    rng = np.random.default_rng(1)
    differences = rng.normal(0.004, 0.05, size=500)
    result = equivalence_test(differences, margin=0.01, seed=3)
    assert result.interval == bootstrap_interval(differences, confidence=0.9, seed=3)
    assert result.margin == 0.01
    assert result.verdict == equivalence_verdict(result.interval, 0.01)
    assert str(result).startswith(f"{result.verdict} at margin 0.01: 90% interval")


def test_tost_rarely_calls_a_difference_at_the_margin_equivalent():
    # The test's size: when the true difference is exactly m, "equivalent" is a false claim
    # and must come out in at most about alpha = 5% of the samples.
    rng = np.random.default_rng(2)
    margin = 0.02
    wins = [
        equivalence_test(rng.normal(margin, 0.1, size=300), margin, n_resamples=200, seed=s).verdict
        == "equivalent"
        for s in range(200)
    ]
    assert np.mean(wins) <= 0.09


def test_enough_users_show_equivalence_and_few_users_cannot():
    rng = np.random.default_rng(4)
    differences = rng.normal(0.0, 0.1, size=5000)
    assert equivalence_test(differences, margin=0.01).verdict == "equivalent"
    assert equivalence_test(differences[:40], margin=0.01).verdict == "inconclusive"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: equivalence_test([0.1, 0.2], margin=0), r"margin .* must lie in \(0, inf\)"),
        (lambda: equivalence_test([0.1, 0.2], margin=-0.02), "margin"),
        (lambda: equivalence_test([0.1, 0.2], margin=float("nan")), "finite number"),
        (lambda: equivalence_test([0.1, 0.2], margin="0.02"), "finite number"),
        (lambda: equivalence_test([0.1, np.nan], margin=0.02), "NaN"),
        (lambda: equivalence_test([0.1, 0.2], margin=0.02, alpha=0.5), r"alpha .* \(0, 0.5\)"),
        (lambda: equivalence_test([0.1, 0.2], margin=0.02, alpha=0), "alpha"),
        (lambda: equivalence_verdict((0.0, -0.01, 0.01), margin=0.02), "must be an Interval"),
        (lambda: detectable_difference([-0.01, 0.01]), "must be an Interval"),
        (lambda: detectable_difference(Interval(0, -1, 1, 0.95), power=1), "power"),
        (lambda: detectable_difference(Interval(0, -1, 1, 0.95), power=0), "power"),
    ],
)
def test_bad_input_says_what_to_do(call, message):
    with pytest.raises(ValueError, match=message):
        call()
