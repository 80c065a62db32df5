"""Exploring policies (propensities, epsilon share, Thompson posterior, UCB bounds, LinUCB
algebra) and off-policy estimators (unbiasedness by simulation, the identities that tie
SNIPS, DM and DR to IPS, and the errors)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy import stats

from recsys_lessons.evaluation import estimator_interval
from recsys_lessons.explore import (
    UCB1,
    EpsilonGreedy,
    ExploringPolicy,
    LinUCB,
    ThompsonSampling,
    direct_method_estimate,
    doubly_robust_estimate,
    epsilon_slates,
    first_unblocked,
    ips_estimate,
    replay_estimate,
    simulate_bandit,
    snips_estimate,
)
from recsys_lessons.online import DayContext, Policy, Slate


def items_and_propensities(slate):
    return slate.items, slate.propensities


def _log(day, users, items, clicked):
    n = len(items)
    return pd.DataFrame(
        {
            "day": np.full(n, day),
            "user": np.asarray(users),
            "position": np.ones(n, dtype=int),
            "item": np.asarray(items),
            "propensity": np.full(n, np.nan),
            "clicked": np.asarray(clicked, dtype=bool),
            "watch_seconds": np.zeros(n),
        }
    )


# --------------------------------------------------------------------------------------
# Epsilon-greedy slates
# --------------------------------------------------------------------------------------


def test_epsilon_slates_propensities_match_empirical_frequencies():
    rng = np.random.default_rng(0)
    n_items, k, epsilon, n = 12, 3, 0.3, 40_000
    greedy = np.tile([4, 7, 1], (n, 1))
    pool = np.ones(n_items, dtype=bool)
    items, propensities, explored = epsilon_slates(rng, greedy, pool, epsilon)
    # No item twice in a slate, kept slots hold the greedy item.
    assert all(len(set(row)) == k for row in items[:500])
    np.testing.assert_array_equal(items[~explored], greedy[~explored])
    # Reported propensities equal the frequencies of (item, slot) over many slates.
    for slot in range(k):
        frequency = np.bincount(items[:, slot], minlength=n_items) / n
        expected = np.where(np.isin(np.arange(n_items), greedy[0]), 0.0, epsilon / (n_items - k))
        expected[greedy[0, slot]] = 1 - epsilon
        np.testing.assert_allclose(frequency, expected, atol=4 * np.sqrt(0.25 / n))
        reported = propensities[np.arange(n), slot]
        np.testing.assert_allclose(reported, expected[items[:, slot]])


def test_epsilon_slates_explore_only_the_pool():
    rng = np.random.default_rng(1)
    pool = np.zeros(20, dtype=bool)
    pool[10:] = True
    greedy = np.tile([0, 1, 2], (500, 1))
    items, propensities, explored = epsilon_slates(rng, greedy, pool, 0.5)
    assert (items[explored] >= 10).all()
    np.testing.assert_allclose(propensities[explored], 0.5 / 10)
    with pytest.raises(ValueError, match="pool"):
        epsilon_slates(rng, greedy, np.eye(1, 20, 5, dtype=bool)[0], 0.5)


@pytest.mark.parametrize("epsilon", [0.0, 0.05, 0.2])
def test_epsilon_greedy_explores_an_epsilon_share_of_slots(epsilon):
    policy = EpsilonGreedy(200, epsilon=epsilon, seed=3)
    shares = []
    for _ in range(20):
        policy.recommend(np.arange(100), k=10)
        shares.append(policy.last_explored_.mean())
    n_slots = 20 * 100 * 10
    assert abs(np.mean(shares) - epsilon) <= 4 * np.sqrt(epsilon * (1 - epsilon) / n_slots) + 1e-12


def test_epsilon_greedy_exploits_the_best_observed_mean():
    policy = EpsilonGreedy(6, epsilon=0.0, seed=0)
    policy.update(_log(0, [0] * 6, [0, 0, 3, 3, 5, 5], [1, 0, 1, 1, 0, 0]), day=0)
    np.testing.assert_allclose(policy.mean_reward_, [0.5, 0, 0, 1.0, 0, 0])
    items, propensities = items_and_propensities(policy.recommend(np.array([0, 1]), k=2))
    np.testing.assert_array_equal(items, [[3, 0], [3, 0]])
    np.testing.assert_array_equal(propensities, np.ones((2, 2)))


def test_update_reads_only_the_given_day():
    policy = EpsilonGreedy(4, epsilon=0.1)
    log = pd.concat([_log(0, [0], [1], [1]), _log(1, [0, 0], [2, 2], [1, 0])])
    policy.update(log, day=1)
    np.testing.assert_array_equal(policy.impressions_, [0, 0, 2, 0])
    np.testing.assert_array_equal(policy.rewards_, [0, 0, 1, 0])
    with pytest.raises(ValueError, match="column"):
        policy.update(log.drop(columns="clicked"), day=1)


def test_policies_reject_bad_input():
    with pytest.raises(ValueError, match="epsilon"):
        EpsilonGreedy(10, epsilon=1.5)
    with pytest.raises(ValueError, match="larger than the catalogue"):
        UCB1(5).recommend(np.arange(2), k=6)
    with pytest.raises(ValueError, match="integer"):
        ThompsonSampling(5).recommend(np.array([0.5]), k=1)
    with pytest.raises(ValueError, match="0/1"):
        ThompsonSampling(5).learn([0], [1], [1], [0.5])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        # issue 20: these were accepted (k=2.0 as 2, n_items=60.0 as 60, k=True as 1)
        (lambda: EpsilonGreedy(10).recommend(np.arange(2), k=2.0), "k must be a positive integer"),
        (lambda: EpsilonGreedy(10).recommend(np.arange(2), k=True), "k must be a positive integer"),
        (lambda: EpsilonGreedy(n_items=60.0), "n_items must be a positive integer"),
        (lambda: UCB1(n_items=True), "n_items must be a positive integer"),
        (lambda: EpsilonGreedy(10, epsilon=True), "epsilon"),
        (lambda: EpsilonGreedy(10, seed=1.5), "seed"),
        (lambda: ThompsonSampling(10, n_propensity_draws=2.5), "n_propensity_draws"),
        (lambda: ThompsonSampling(10, prior=(1.0, 0.0)), "two positive numbers"),
        (lambda: UCB1(10, c=-1.0), "c must lie"),
        (lambda: LinUCB(np.ones((2, 1)), np.ones((3, 1)), ridge=0.0), "ridge"),
        (lambda: ExploringPolicy(lambda u, k: None, n_items=10.0), "n_items"),
        (lambda: ExploringPolicy(lambda u, k: None, 10, under_exposed_share=0), "under_exposed"),
        (lambda: simulate_bandit(UCB1(2), [0.1, 0.2], n_rounds=3.0), "n_rounds"),
    ],
)
def test_arguments_are_checked_like_everywhere_else(make, message):
    with pytest.raises(ValueError, match=message):
        make()


# --------------------------------------------------------------------------------------
# UCB1 and Thompson sampling
# --------------------------------------------------------------------------------------


def test_ucb1_bounds_by_hand():
    policy = UCB1(3, c=1.0)
    policy.learn([0] * 4, [0, 0, 0, 1], [1] * 4, [1, 0, 1, 1])
    t = 4
    expected = [2 / 3 + np.sqrt(2 * np.log(t) / 3), 1 + np.sqrt(2 * np.log(t) / 1), np.inf]
    np.testing.assert_allclose(policy.upper_bounds(), expected)
    items, propensities = items_and_propensities(policy.recommend(np.array([5]), k=3))
    np.testing.assert_array_equal(items, [[2, 1, 0]])  # never-shown first, then by bound
    np.testing.assert_array_equal(propensities, [[1, 1, 1]])


def test_thompson_posterior_is_the_beta_closed_form():
    policy = ThompsonSampling(3, prior=(2.0, 3.0), seed=0)
    items = np.array([0, 0, 0, 1, 1, 2])
    clicks = np.array([1, 1, 0, 0, 0, 1])
    policy.learn(np.zeros(6, int), items, np.ones(6, int), clicks)
    np.testing.assert_array_equal(policy.alpha_, [2 + 2, 2 + 0, 2 + 1])
    np.testing.assert_array_equal(policy.beta_, [3 + 1, 3 + 2, 3 + 0])
    draws = policy.sample(40_000)
    a, b = policy.alpha_, policy.beta_
    np.testing.assert_allclose(draws.mean(axis=0), a / (a + b), atol=0.005)
    np.testing.assert_allclose(draws.var(axis=0), a * b / ((a + b) ** 2 * (a + b + 1)), rtol=0.05)
    # Each item's draws follow its Beta posterior (Kolmogorov-Smirnov).
    for i in range(3):
        assert stats.kstest(draws[:5000, i], stats.beta(a[i], b[i]).cdf).pvalue > 0.001


def test_thompson_propensities_estimate_the_chance_of_being_first():
    policy = ThompsonSampling(2, n_propensity_draws=20_000, seed=1)
    policy.learn([0] * 10, [0] * 5 + [1] * 5, [1] * 10, [1, 1, 1, 0, 0, 1, 0, 0, 0, 0])
    items, propensities = items_and_propensities(policy.recommend(np.array([0]), k=1))
    # P(theta_0 > theta_1) with theta_0 ~ Beta(4, 3), theta_1 ~ Beta(2, 5), by integration.
    grid = np.linspace(0, 1, 20_001)
    p_first = np.trapezoid(stats.beta(4, 3).pdf(grid) * stats.beta(2, 5).cdf(grid), grid)
    expected = p_first if items[0, 0] == 0 else 1 - p_first
    assert propensities[0, 0] == pytest.approx(expected, abs=0.01)


def test_thompson_and_ucb_learn_the_best_arm_greedy_does_not():
    means = np.array([0.05, 0.1, 0.15, 0.3, 0.25])
    regret = {
        name: np.mean(
            [simulate_bandit(make(seed), means, 1500, seed=seed)[-1] for seed in range(5)]
        )
        for name, make in {
            "greedy": lambda s: EpsilonGreedy(5, 0.0, seed=s),
            "thompson": lambda s: ThompsonSampling(5, n_propensity_draws=0, seed=s),
            "ucb": lambda s: UCB1(5, seed=s),
        }.items()
    }
    assert regret["thompson"] < regret["ucb"] < regret["greedy"]


def test_prior_pseudo_counts_enter_the_mean_and_unseen_items_get_the_prior_mean():
    policy = EpsilonGreedy(3, epsilon=0.0, prior=(1.0, 19.0))
    policy.learn([0] * 5, [0, 0, 0, 0, 1], [1] * 5, [0, 0, 0, 0, 0])
    np.testing.assert_allclose(policy.mean_reward_, [1 / 24, 1 / 21, 1 / 20])
    # Greedy with a prior tries the unseen item (prior mean 0.05) before the two it has seen.
    items = policy.recommend(np.array([0]), k=1).items
    assert items[0, 0] == 2
    with pytest.raises(ValueError, match="pseudo-counts"):
        EpsilonGreedy(3, prior=(-1.0, 2.0))


def test_examination_counts_looks_so_the_estimate_is_the_attraction():
    exam = np.array([1.0, 0.5, 0.25])
    policy = EpsilonGreedy(2, epsilon=0.0, examination=exam)
    policy.learn([0] * 4, [0, 0, 1, 1], [1, 3, 2, 3], [1, 0, 1, 0])
    np.testing.assert_allclose(policy.impressions_, [1.25, 0.75])
    np.testing.assert_allclose(policy.mean_reward_, [1 / 1.25, 1 / 0.75])
    # By simulation: two titles of equal attraction 0.4, one always shown first and one
    # always last. Per impression the last looks 10x worse; per look they are equal.
    rng = np.random.default_rng(0)
    exam10 = 1.0 / np.arange(1, 11)
    naive = EpsilonGreedy(2, epsilon=0.0)
    aware = EpsilonGreedy(2, epsilon=0.0, examination=exam10)
    n = 20_000
    items = np.r_[np.zeros(n, int), np.ones(n, int)]
    positions = np.r_[np.ones(n, int), np.full(n, 10)]
    clicks = rng.random(2 * n) < 0.4 * exam10[positions - 1]
    for policy in (naive, aware):
        policy.learn(np.zeros(2 * n, int), items, positions, clicks)
    assert naive.mean_reward_[1] < 0.2 * naive.mean_reward_[0]
    np.testing.assert_allclose(aware.mean_reward_, [0.4, 0.4], atol=0.03)


def test_thompson_with_examination_keeps_a_valid_posterior():
    exam = np.array([1.0, 0.1])
    policy = ThompsonSampling(2, prior=(1.0, 2.0), examination=exam, seed=0)
    # Two clicks at position 2: 0.2 looks, so more clicks than looks; beta is floored at b.
    policy.learn([0, 0], [0, 0], [2, 2], [1, 1])
    np.testing.assert_allclose(policy.alpha_, [3.0, 1.0])
    np.testing.assert_allclose(policy.beta_, [2.0, 2.0])
    assert np.isfinite(policy.sample(10)).all()
    assert "examination=[1.0, 0.1]" in repr(policy)


@pytest.mark.parametrize(
    "examination, positions, message",
    [
        ([1.0, 0.0], [1], "examination must be"),
        ([[1.0, 0.5]], [1], "examination must be"),
        ([1.0, 0.5], [3], "positions must be 1-based"),
        ([1.0, 0.5], [0], "positions must be 1-based"),
    ],
)
def test_examination_errors_say_what_to_pass(examination, positions, message):
    with pytest.raises(ValueError, match=message):
        EpsilonGreedy(3, examination=examination).learn([0], [1], positions, [1.0])


def test_simulate_bandit_regret_is_zero_for_an_oracle():
    class Oracle(EpsilonGreedy):
        def make_slate(self, users, k):
            return Slate(np.full((len(users), k), 2), np.ones((len(users), k)))

    regret = simulate_bandit(Oracle(3, 0.0), [0.1, 0.2, 0.9], 50)
    np.testing.assert_array_equal(regret, np.zeros(50))
    with pytest.raises(ValueError, match="one click rate per arm"):
        simulate_bandit(Oracle(3, 0.0), [0.1, 0.2], 5)


# --------------------------------------------------------------------------------------
# LinUCB and exploration around a policy
# --------------------------------------------------------------------------------------


def test_linucb_is_ridge_regression_with_the_closed_form_width():
    rng = np.random.default_rng(0)
    X, Z = rng.normal(size=(5, 2)), rng.normal(size=(7, 3))
    policy = LinUCB(X, Z, alpha=0.7, ridge=2.0)
    users, items = rng.integers(0, 5, 40), rng.integers(0, 7, 40)
    rewards = rng.random(40)
    policy.learn(users, items, np.ones(40, int), rewards)
    phi = np.stack([np.kron(X[u], Z[i]) for u, i in zip(users, items, strict=True)])
    A = 2.0 * np.eye(6) + phi.T @ phi
    theta = np.linalg.solve(A, phi.T @ rewards)
    expected = np.array(
        [
            [
                np.kron(X[u], Z[i]) @ theta
                + 0.7 * np.sqrt(np.kron(X[u], Z[i]) @ np.linalg.solve(A, np.kron(X[u], Z[i])))
                for i in range(7)
            ]
            for u in range(5)
        ]
    )
    np.testing.assert_allclose(policy.upper_bounds(np.arange(5)), expected, rtol=1e-10)
    items_shown, propensities = items_and_propensities(policy.recommend(np.array([1, 3]), k=2))
    np.testing.assert_array_equal(items_shown, np.argsort(-expected[[1, 3]], axis=1)[:, :2])
    np.testing.assert_array_equal(propensities, np.ones((2, 2)))


def _context(available, history):
    return DayContext(0, pd.Timestamp("2023-01-01"), np.asarray(available), sp.csr_matrix(history))


def test_policies_show_only_released_unwatched_items():
    rng = np.random.default_rng(1)
    available = np.zeros(30, dtype=bool)
    available[5:] = True
    history = np.zeros((3, 30))
    history[0, 5:15] = 1  # user 0 watched items 5..14
    policies = [
        LinUCB(rng.normal(size=(3, 2)), rng.normal(size=(30, 2))),
        EpsilonGreedy(30, epsilon=0.5),
        UCB1(30),
        ThompsonSampling(30, n_propensity_draws=50),
        ExploringPolicy(lambda users, k: np.tile(np.arange(20, 20 + k), (len(users), 1)), 30),
    ]
    for policy in policies:
        policy.begin_day(_context(available, history))
        for _ in range(5):
            items, propensities = items_and_propensities(policy.recommend(np.array([0, 1, 2]), k=4))
            assert available[items].all(), policy
            assert not np.isin(items[0], np.arange(5, 15)).any(), policy
            assert all(len(set(row)) == 4 for row in items)
            assert ((propensities > 0) & (propensities <= 1)).all()


def test_exploring_policy_keeps_the_base_slate_and_reports_propensities():
    def base(users, k):
        return np.tile(np.arange(k), (len(users), 1))

    policy = ExploringPolicy(base, n_items=50, epsilon=0.2, seed=0)
    items, propensities = items_and_propensities(policy.recommend(np.arange(2000), k=5))
    kept = ~policy.last_explored_
    np.testing.assert_array_equal(items[kept], np.tile(np.arange(5), (2000, 1))[kept])
    np.testing.assert_allclose(propensities[kept], 0.8)
    np.testing.assert_allclose(propensities[~kept], 0.2 / 45)
    assert abs(policy.last_explored_.mean() - 0.2) < 4 * np.sqrt(0.16 / 10_000)


def test_under_exposed_exploration_shows_the_least_shown_items():
    class Base(Policy):
        def make_slate(self, users, k):
            return Slate(np.tile(np.arange(k), (len(users), 1)), np.ones((len(users), k)))

    policy = ExploringPolicy(
        Base(), n_items=20, epsilon=1.0, explore="under_exposed", under_exposed_share=0.5
    )
    # Items 10..19 were shown once each, items 0..9 never: the pool is items 0..9.
    policy.update(_log(0, np.zeros(10, int), np.arange(10, 20), np.zeros(10)), day=0)
    np.testing.assert_array_equal(np.flatnonzero(policy.exploration_pool()), np.arange(10))
    items, propensities = items_and_propensities(policy.recommend(np.arange(100), k=2))
    assert set(items.ravel()) <= set(range(2, 10))  # pool minus the base slate {0, 1}
    np.testing.assert_allclose(propensities, 1.0 / 8)


def test_exploring_policy_wraps_a_course_model():
    from recsys_lessons.models import Popularity
    from recsys_lessons.online import ModelPolicy

    assert isinstance(ExploringPolicy(Popularity(), n_items=10).base, ModelPolicy)
    with pytest.raises(ValueError, match="a policy must be a Policy"):
        ExploringPolicy(object(), n_items=10)

    class Ranker:
        def recommend(self, users, k):
            return np.tile(np.arange(k), (len(users), 1)), np.full((len(users), k), 3.7)

    with pytest.raises(ValueError, match="RankingPolicy"):  # its scores would be misread
        ExploringPolicy(Ranker(), n_items=10)


# --------------------------------------------------------------------------------------
# Off-policy estimators
# --------------------------------------------------------------------------------------

_TRUE_RATES = np.array([0.1, 0.3, 0.5, 0.2])
_LOGGING = np.array([0.4, 0.3, 0.2, 0.1])
_TARGET = np.array([0.1, 0.1, 0.7, 0.1])


def _bandit_log(rng, n, logging=_LOGGING):
    items = rng.choice(len(logging), size=n, p=logging)
    rewards = (rng.random(n) < _TRUE_RATES[items]).astype(float)
    return items, rewards


def test_ips_dr_and_replay_are_unbiased_by_simulation():
    rng = np.random.default_rng(0)
    truth = _TARGET @ _TRUE_RATES
    reward_model = np.array([0.2, 0.2, 0.2, 0.2])  # deliberately wrong
    ips, dr, replay, uniform = [], [], [], np.full(4, 0.25)
    for _ in range(2000):
        items, rewards = _bandit_log(rng, 200)
        ips.append(ips_estimate(rewards, _LOGGING[items], _TARGET[items]))
        dr.append(
            doubly_robust_estimate(
                rewards,
                _LOGGING[items],
                _TARGET[items],
                reward_model[items],
                np.full(200, _TARGET @ reward_model),
            )
        )
        u_items, u_rewards = _bandit_log(rng, 200, uniform)
        target_items = rng.choice(4, size=200, p=_TARGET)
        replay.append(replay_estimate(u_items, u_rewards, target_items))
    for estimates in (ips, dr, replay):
        error = np.std(estimates) / np.sqrt(len(estimates))
        assert abs(np.mean(estimates) - truth) < 4 * error
    # The direct method with the wrong model is biased: 0.2 instead of the truth.
    assert abs(direct_method_estimate(np.full(10, _TARGET @ reward_model)) - truth) > 0.1


def test_replay_is_biased_under_non_uniform_logging():
    rng = np.random.default_rng(1)
    items, rewards = _bandit_log(rng, 200_000)
    target_items = rng.choice(4, size=200_000, p=_TARGET)
    truth = _TARGET @ _TRUE_RATES
    # Matched rounds are drawn in proportion to logging * target, not target alone.
    biased = (_LOGGING * _TARGET) @ _TRUE_RATES / (_LOGGING @ _TARGET)  # 0.386
    assert truth - biased > 0.02
    assert replay_estimate(items, rewards, target_items) == pytest.approx(biased, abs=0.008)
    assert ips_estimate(rewards, _LOGGING[items], _TARGET[items]) == pytest.approx(truth, abs=0.01)


def test_snips_equals_ips_when_weights_average_one():
    rewards = np.array([1.0, 0.0, 1.0, 1.0])
    logging = np.array([0.5, 0.25, 0.5, 0.2])
    target = np.array([0.25, 0.5, 1.0, 0.1])  # weights 0.5, 2, 2, 0.5: mean 1.25
    target = target / np.mean(target / logging)  # rescale so the weights average exactly 1
    assert np.mean(target / logging) == pytest.approx(1.0)
    assert snips_estimate(rewards, logging, target) == pytest.approx(
        ips_estimate(rewards, logging, target)
    )
    # Doubling every weight doubles IPS but leaves SNIPS unchanged.
    assert snips_estimate(rewards, logging / 2, target) == pytest.approx(
        snips_estimate(rewards, logging, target)
    )


def test_dr_equals_dm_with_zero_weights_and_ips_with_zero_model():
    rng = np.random.default_rng(2)
    n = 50
    rewards, logging = rng.random(n), rng.uniform(0.05, 1, n)
    target, predicted, expected = rng.uniform(0, 1, n), rng.random(n), rng.random(n)
    assert doubly_robust_estimate(
        rewards, logging, np.zeros(n), predicted, expected
    ) == pytest.approx(direct_method_estimate(expected))
    assert doubly_robust_estimate(
        rewards, logging, target, np.zeros(n), np.zeros(n)
    ) == pytest.approx(ips_estimate(rewards, logging, target))
    # Hand-computed example.
    assert doubly_robust_estimate([1, 0], [0.5, 0.25], [1, 0.5], [0.5, 0.5], [0.4, 0.6]) == (
        pytest.approx(((0.4 + 2 * 0.5) + (0.6 + 2 * -0.5)) / 2)
    )


def test_clipping_bounds_the_weights():
    rewards = np.array([1.0, 0.0, 0.0])
    logging = np.array([0.01, 0.5, 0.5])
    target = np.array([1.0, 0.5, 0.5])
    assert ips_estimate(rewards, logging, target) == pytest.approx(100 / 3)
    assert ips_estimate(rewards, logging, target, max_weight=10) == pytest.approx(10 / 3)
    with pytest.raises(ValueError, match="max_weight"):
        ips_estimate(rewards, logging, target, max_weight=0)


@pytest.mark.parametrize(
    ("logging", "message"),
    [
        ([0.5, np.nan], "missing"),
        ([0.5, 0.0], r"\(0, 1\]"),
        ([0.5, 1.5], r"\(0, 1\]"),
        ([0.5], "equal lengths"),
    ],
)
def test_estimators_reject_bad_propensities(logging, message):
    for estimator in (ips_estimate, snips_estimate):
        with pytest.raises(ValueError, match=message):
            estimator([1.0, 0.0], logging, [0.5, 0.5])
    with pytest.raises(ValueError, match=message):
        doubly_robust_estimate([1.0, 0.0], logging, [0.5, 0.5], [0, 0], [0, 0])


def test_estimators_reject_other_bad_input():
    with pytest.raises(ValueError, match="target_propensities"):
        ips_estimate([1.0], [0.5], [1.5])
    with pytest.raises(ValueError, match="rewards"):
        ips_estimate([np.nan], [0.5], [0.5])
    with pytest.raises(ValueError, match="empty"):
        ips_estimate([], [], [])
    with pytest.raises(ValueError, match="never picks"):
        replay_estimate([0, 1], [1.0, 0.0], [2, 3])
    with pytest.raises(ValueError, match="integer"):
        replay_estimate([0.0, 1.0], [1.0, 0.0], [0, 1])
    with pytest.raises(ValueError, match="every importance weight is 0"):
        snips_estimate([1.0, 0.0], [0.5, 0.5], [0.0, 0.0])
    with pytest.raises(ValueError, match="equal lengths"):
        doubly_robust_estimate([1.0, 0.0], [0.5, 0.5], [0.5, 0.5], [0.1], [0.1, 0.1])


def test_estimator_interval_covers_the_estimate_and_narrows_with_data():
    rng = np.random.default_rng(3)
    widths = []
    for n in (200, 5000):
        items, rewards = _bandit_log(rng, n)
        args = (rewards, _LOGGING[items], _TARGET[items])
        interval = estimator_interval(ips_estimate, *args, n_resamples=300, seed=1)
        low, high = interval.low, interval.high
        assert low < ips_estimate(*args) < high
        widths.append(high - low)
    assert widths[1] < widths[0] / 3  # about sqrt(25) = 5 times narrower
    with pytest.raises(ValueError, match="equal lengths"):
        estimator_interval(ips_estimate, [1.0, 0.0], [0.5], [0.5, 0.5])


def test_thompson_propensities_with_watched_items_match_frequencies():
    policy = ThompsonSampling(6, n_propensity_draws=500, seed=2)
    policy.learn([0] * 12, [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5], [1] * 12, [1, 1, 1, 0] + [0] * 8)
    history = np.zeros((2, 6))
    history[0, [0, 3]] = 1  # user 0 watched items 0 and 3
    policy.begin_day(_context(np.ones(6, dtype=bool), history))
    users = np.array([0, 1])
    counts = {u: {} for u in users}
    n_calls = 2000
    reported = {}
    for _ in range(n_calls):
        items, propensities = items_and_propensities(policy.recommend(users, k=2))
        for row, u in enumerate(users):
            for slot in range(2):
                key = (int(items[row, slot]), slot)
                counts[u][key] = counts[u].get(key, 0) + 1
                reported.setdefault((u, key), []).append(propensities[row, slot])
    assert all(item not in (0, 3) for item, _ in counts[0])
    for (u, key), values in reported.items():
        frequency = counts[u][key] / n_calls
        if frequency > 0.05:  # 4 standard errors of the frequency (the estimates are averaged)
            assert np.mean(values) == pytest.approx(frequency, abs=4 * np.sqrt(0.25 / n_calls))


def test_first_unblocked_skips_blocked_items_in_order():
    order = np.array([4, 2, 0, 1, 3])
    blocked = np.zeros((2, 5), dtype=bool)
    blocked[1, [4, 0]] = True
    np.testing.assert_array_equal(first_unblocked(order, blocked, 3), [[4, 2, 0], [2, 1, 3]])
    with pytest.raises(ValueError, match="fewer than k"):
        first_unblocked(order, np.ones((1, 5), dtype=bool), 1)
