"""Lesson 10: the claims the lesson now makes about its estimators and its sampler.

IPS is exactly unbiased while SNIPS is biased with a bias that shrinks as the log grows
(consistent), computed by enumerating every possible log of a tiny bandit; and the library's
Thompson sampler, told the toy rounds with named arrays, holds the Beta posterior derived in
section 2 of the lesson.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from recsys_lessons.explore import ThompsonSampling, ips_estimate, snips_estimate

LOGGING = np.array([0.8, 0.2])  # p: the logging policy's chance of each of two items
TARGET = np.array([0.3, 0.7])  # q: the target policy's chance of each item
CLICK = np.array([0.1, 0.5])  # mu: each item's click chance
TRUTH = float(TARGET @ CLICK)  # the target's value, 0.38


def exact_expectation(estimator, n_impressions):
    """E[estimator] over every log of ``n_impressions`` (item, click) pairs, weighted exactly."""
    outcomes = [(item, click) for item in (0, 1) for click in (0, 1)]
    expectation = 0.0
    for log in itertools.product(outcomes, repeat=n_impressions):
        items = np.array([item for item, _ in log])
        clicks = np.array([click for _, click in log], dtype=float)
        chance = np.prod(LOGGING[items] * np.where(clicks == 1, CLICK[items], 1 - CLICK[items]))
        expectation += chance * estimator(clicks, LOGGING[items], TARGET[items])
    return expectation


@pytest.mark.parametrize("n_impressions", [1, 2, 5])
def test_ips_is_exactly_unbiased(n_impressions):
    assert exact_expectation(ips_estimate, n_impressions) == pytest.approx(TRUTH, abs=1e-12)


def test_snips_is_biased_and_its_bias_shrinks_with_the_log():
    bias = {n: exact_expectation(snips_estimate, n) - TRUTH for n in (1, 3, 6)}
    # One impression: SNIPS is the logged reward itself, whose mean is the logging policy's value.
    assert bias[1] == pytest.approx(float(LOGGING @ CLICK) - TRUTH, abs=1e-12)
    assert abs(bias[6]) > 1e-3  # biased at every finite size ...
    assert abs(bias[6]) < abs(bias[3]) < abs(bias[1])  # ... but less and less (consistent)


def test_thompson_learns_named_rounds_into_the_beta_posterior():
    rng = np.random.default_rng(0)
    n_rounds, n_arms = 200, 4
    played = rng.integers(0, n_arms, n_rounds)
    rewards = (rng.random(n_rounds) < 0.3).astype(float)
    sampler = ThompsonSampling(n_arms, prior=(2.0, 3.0), n_propensity_draws=0)
    sampler.learn(
        users=np.zeros(n_rounds, dtype=int),
        items=played,
        positions=np.ones(n_rounds, dtype=int),
        rewards=rewards,
    )
    clicks = np.bincount(played, weights=rewards, minlength=n_arms)
    shows = np.bincount(played, minlength=n_arms)
    np.testing.assert_array_equal(sampler.alpha_, 2.0 + clicks)
    np.testing.assert_array_equal(sampler.beta_, 3.0 + shows - clicks)
