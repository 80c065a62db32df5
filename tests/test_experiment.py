"""A/B tests, sample sizes, CUPED and interleaving keep their statistical promises.

Repetitions are vectorized (one row per simulated experiment), so thousands of experiments
run in well under a second. Tolerances are 4 standard errors of a proportion: a correct
implementation fails about once in 16,000 runs; a wrong variance fails every time."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from recsys_lessons.data import generate_catalogue
from recsys_lessons.online import OnlineEnvironment, RandomPolicy
from recsys_lessons.online.experiment import (
    TEAM_A,
    TEAM_B,
    InterleavingPolicy,
    _team_draft,
    ab_pick_rate,
    ab_test,
    cuped,
    interleaving_pick_rate,
    interleaving_preference,
    sample_size,
    team_draft_interleave,
    users_to_pick_winner,
)

REPETITIONS = 2000


def close_to_share(observed: float, share: float, n: int, z: float = 4.0) -> bool:
    return abs(observed - share) <= z * np.sqrt(share * (1 - share) / n)


def watch_like(rng, shape, mean=1.0):
    """Zero-inflated, skewed values like per-user watch time: 60 % zeros, log-normal else."""
    return (rng.random(shape) < 0.4) * rng.lognormal(np.log(mean), 1.0, shape)


# --- ab_test ---------------------------------------------------------------------------


def test_ab_test_matches_the_welch_formulas_and_scipy():
    control, treatment = np.array([1.0, 2, 3, 4]), np.array([2.0, 4, 6, 8, 10])
    result = ab_test(control, treatment)
    var_c, var_t = np.var(control, ddof=1) / 4, np.var(treatment, ddof=1) / 5
    df = (var_c + var_t) ** 2 / (var_c**2 / 3 + var_t**2 / 4)
    assert result.difference == pytest.approx(3.5)
    assert result.relative_lift == pytest.approx(3.5 / 2.5)
    assert result.std_error == pytest.approx(np.sqrt(var_c + var_t))
    assert result.df == pytest.approx(df)
    reference = stats.ttest_ind(treatment, control, equal_var=False)
    interval = reference.confidence_interval(0.95)
    assert result.p_value == pytest.approx(reference.pvalue)
    assert (result.ci_low, result.ci_high) == pytest.approx((interval.low, interval.high))
    text = str(result)
    assert "difference +3.5" in text and "95% CI" in text and "significant" in text


def test_aa_intervals_cover_zero_95_percent_and_p_values_are_uniform():
    rng = np.random.default_rng(0)
    control = watch_like(rng, (REPETITIONS, 300))
    treatment = watch_like(rng, (REPETITIONS, 300))
    result = ab_test(control, treatment)
    covered = (result.ci_low <= 0) & (0 <= result.ci_high)
    assert close_to_share(covered.mean(), 0.95, REPETITIONS)
    assert close_to_share(result.significant.mean(), 0.05, REPETITIONS)
    assert np.array_equal(result.significant, ~covered)  # p < alpha <=> 0 outside the CI
    assert stats.kstest(result.p_value, "uniform").pvalue > 1e-3
    deciles = np.histogram(result.p_value, bins=10, range=(0, 1))[0] / REPETITIONS
    assert all(close_to_share(share, 0.1, REPETITIONS) for share in deciles)


def test_intervals_cover_a_true_difference_with_unequal_variances_and_sizes():
    rng = np.random.default_rng(1)
    control = rng.normal(10.0, 1.0, (REPETITIONS, 40))
    treatment = rng.normal(10.5, 4.0, (REPETITIONS, 12))  # a pooled variance would be wrong
    result = ab_test(control, treatment, alpha=0.1)
    covered = (result.ci_low <= 0.5) & (0.5 <= result.ci_high)
    assert close_to_share(covered.mean(), 0.90, REPETITIONS)
    assert "2000 tests" in str(result)


@pytest.mark.parametrize(
    ("control", "treatment", "alpha", "message"),
    [
        ([1.0], [1.0, 2.0], 0.05, "at least 2 users"),
        ([1.0, np.nan], [1.0, 2.0], 0.05, "NaN"),
        ([1.0, 2.0], [1.0, 2.0], 1.5, "alpha"),
        ([1.0, 1.0], [2.0, 2.0], 0.05, "constant"),
    ],
)
def test_ab_test_rejects_bad_input(control, treatment, alpha, message):
    with pytest.raises(ValueError, match=message):
        ab_test(control, treatment, alpha=alpha)


# --- sample_size -----------------------------------------------------------------------


def test_sample_size_is_the_closed_form():
    # 2 * (1.959964 + 0.841621)^2 / 0.5^2 = 62.79 -> 63 users per arm
    assert sample_size(1.0, 0.5) == 63
    assert sample_size(2.0, 1.0) == 63  # only std / mde matters
    z = stats.norm.ppf(0.995) + stats.norm.ppf(0.9)
    assert sample_size(3.0, 0.25, alpha=0.01, power=0.9) == np.ceil(2 * z**2 * 9 / 0.0625)
    halves = sample_size(1.0, np.array([0.1, 0.05]))
    assert halves[1] == pytest.approx(4 * halves[0], abs=4)
    with pytest.raises(ValueError, match="std"):
        sample_size(0.0, 0.1)


def test_sample_size_gives_the_promised_power_in_simulation():
    n = sample_size(1.0, 0.2)  # 393 per arm
    rng = np.random.default_rng(2)
    result = ab_test(rng.normal(0, 1, (4000, n)), rng.normal(0.2, 1, (4000, n)))
    assert close_to_share(result.significant.mean(), 0.8, 4000)
    smaller = ab_test(rng.normal(0, 1, (4000, n // 4)), rng.normal(0.2, 1, (4000, n // 4)))
    assert smaller.significant.mean() < 0.4  # a quarter of the users: much less power


# --- cuped -----------------------------------------------------------------------------


def test_cuped_keeps_the_mean_and_removes_rho_squared_of_the_variance():
    rng = np.random.default_rng(3)
    pre = watch_like(rng, 5000)
    metric = 0.8 * pre + watch_like(rng, 5000, mean=0.5)
    adjusted = cuped(metric, pre)
    rho = np.corrcoef(metric, pre)[0, 1]
    assert adjusted.mean() == pytest.approx(metric.mean())
    assert adjusted.var() == pytest.approx(metric.var() * (1 - rho**2))
    assert np.corrcoef(adjusted, pre)[0, 1] == pytest.approx(0.0, abs=1e-10)


def test_cuped_intervals_still_cover_and_are_narrower():
    rng = np.random.default_rng(4)
    n = 600
    pre = watch_like(rng, (REPETITIONS, 2 * n))
    metric = pre + watch_like(rng, (REPETITIONS, 2 * n))
    adjusted = np.stack([cuped(m, x) for m, x in zip(metric, pre, strict=True)])
    plain = ab_test(metric[:, :n], metric[:, n:])
    reduced = ab_test(adjusted[:, :n], adjusted[:, n:])
    covered = (reduced.ci_low <= 0) & (0 <= reduced.ci_high)
    assert close_to_share(covered.mean(), 0.95, REPETITIONS)
    assert np.median(reduced.std_error / plain.std_error) < 0.85


def test_cuped_rejects_a_useless_covariate():
    with pytest.raises(ValueError, match="constant"):
        cuped([1.0, 2.0, 3.0], [5.0, 5.0, 5.0])
    with pytest.raises(ValueError, match="same length"):
        cuped([1.0, 2.0, 3.0], [1.0, 2.0])


# --- interleaving ----------------------------------------------------------------------


def reference_team_draft(a, b, k, a_first):
    """Radlinski et al. (2008), Algorithm 2, written as a plain loop (coins given)."""
    items, teams = [], []
    for position in range(k):
        coin = a_first[position // 2]
        a_turn = coin if position % 2 == 0 else not coin
        ranking = a if a_turn else b
        items.append(next(item for item in ranking if item not in items))
        teams.append(TEAM_A if a_turn else TEAM_B)
    return items, teams


@pytest.fixture(scope="module")
def rankings():
    rng = np.random.default_rng(5)
    n, m = 3000, 12
    a = np.argsort(rng.random((n, 20)), axis=1)[:, :m]  # overlapping lists from 20 items
    b = np.argsort(rng.random((n, 20)), axis=1)[:, :m]
    return a, b


def test_team_draft_matches_the_reference_algorithm(rankings):
    a, b = rankings[0][:200], rankings[1][:200]
    coins = np.random.default_rng(6).random((200, 5)) < 0.5
    items, teams = _team_draft(a, b, 10, coins)
    for row in range(200):
        expected = reference_team_draft(list(a[row]), list(b[row]), 10, coins[row])
        assert (list(items[row]), list(teams[row])) == expected


def test_team_draft_properties(rankings):
    a, b = rankings
    items, teams = team_draft_interleave(a, b, k=10, seed=7)
    assert items.shape == teams.shape == (len(a), 10)
    ordered = np.sort(items, axis=1)
    assert not (ordered[:, 1:] == ordered[:, :-1]).any()  # no duplicates
    assert all(np.isin(items[r], np.union1d(a[r], b[r])).all() for r in range(len(a)))
    balance = np.cumsum(np.where(teams == TEAM_A, 1, -1), axis=1)
    assert np.abs(balance).max() <= 1  # every prefix: the teams differ by at most one
    assert (balance[:, 1::2] == 0).all()
    first_a = (teams[:, 0] == TEAM_A).mean()
    assert close_to_share(first_a, 0.5, len(a))  # who picks first is a fair coin
    # each team's items appear in that team's own order
    for row in range(50):
        picked = items[row][teams[row] == TEAM_A]
        positions = np.array([np.flatnonzero(a[row] == item)[0] for item in picked])
        assert (np.diff(positions) > 0).all()


def test_team_draft_of_identical_rankings_is_that_ranking():
    ranking = np.array([4, 2, 9, 1, 7, 3])
    items, teams = team_draft_interleave(ranking, ranking, k=5, seed=1)
    assert list(items) == [4, 2, 9, 1, 7]
    seeded = team_draft_interleave(ranking, ranking[::-1].copy(), k=6, seed=1)
    again = team_draft_interleave(ranking, ranking[::-1].copy(), k=6, seed=1)
    assert np.array_equal(seeded[0], again[0]) and np.array_equal(seeded[1], again[1])
    with pytest.raises(ValueError, match="k must lie"):
        team_draft_interleave(ranking, ranking, k=7)
    with pytest.raises(ValueError, match="twice"):
        team_draft_interleave(np.array([1, 1, 2]), np.array([1, 2, 3]), k=2)


def test_interleaving_preference_counts_credited_clicks():
    teams = np.array([[0, 1, 0, 1], [1, 0, 1, 0], [0, 1, 1, 0]])
    clicks = np.array([[1, 0, 1, 0], [1, 0, 1, 0], [0, 0, 0, 0]], dtype=bool)
    assert list(interleaving_preference(teams, clicks)) == [-1, 1, 0]
    users = np.array([[5] * 4, [5] * 4, [8] * 4])  # user 5: 2 clicks for A, 2 for B
    per_user = interleaving_preference(teams, clicks, users=users)
    assert per_user.to_dict() == {5: 0, 8: 0}
    with pytest.raises(ValueError, match="TEAM_A"):
        interleaving_preference(teams + 1, clicks)


def test_interleaving_in_the_environment_prefers_the_better_ranker():
    world = generate_catalogue(seed=3, n_users=300, n_items=400, n_interactions=12_000).world
    best = world.ideal_top_k(k=10)[0]

    def ideal(users, k):
        return best[users, :k]

    env = OnlineEnvironment(world, seed=1, k=10, return_rate=0.5)
    policy = InterleavingPolicy(RandomPolicy(0), ideal, seed=2)
    log = env.run(policy, n_days=5)
    merged = log.merge(policy.teams, on=["day", "user", "position"], validate="one_to_one")
    assert len(merged) == len(log)
    preference = interleaving_preference(merged["team"], merged["clicked"], merged["user"])
    assert (preference > 0).sum() > 5 * (preference < 0).sum()
    # with two identical rankers nobody is preferred more than chance allows
    same = InterleavingPolicy(ideal, ideal, seed=3)
    log = OnlineEnvironment(world, seed=1, k=10, return_rate=0.5).run(same, n_days=5)
    merged = log.merge(same.teams, on=["day", "user", "position"])
    preference = interleaving_preference(merged["team"], merged["clicked"], merged["user"])
    decided = preference[preference != 0]
    assert stats.binomtest(int((decided > 0).sum()), len(decided)).pvalue > 1e-3


# --- users needed ----------------------------------------------------------------------


def test_users_to_pick_winner_agrees_with_simulation():
    rng = np.random.default_rng(8)
    preferences = rng.choice([-1, 0, 1], p=[0.25, 0.45, 0.30], size=5000)
    n = users_to_pick_winner(preferences.mean(), preferences.std())
    assert close_to_share(interleaving_pick_rate(preferences, n, 4000, seed=9), 0.95, 4000)
    control = watch_like(rng, 20_000, mean=1.0)
    treatment = watch_like(rng, 20_000, mean=1.1)
    difference = treatment.mean() - control.mean()
    std = np.sqrt(2 * (control.var() + treatment.var()))
    n = users_to_pick_winner(difference, std)
    assert close_to_share(ab_pick_rate(control, treatment, n, 4000, seed=10), 0.95, 4000)
    assert ab_pick_rate(control, treatment, n // 16, 4000, seed=10) < 0.8


def test_pick_rates_of_equal_rankers_are_one_half():
    rng = np.random.default_rng(11)
    symmetric = rng.choice([-1, 0, 1], size=4000)
    symmetric = np.concatenate([symmetric, -symmetric])
    assert close_to_share(interleaving_pick_rate(symmetric, 101, 4000, seed=1), 0.5, 4000)
    same = watch_like(rng, 4000)
    assert close_to_share(ab_pick_rate(same, same, 200, 4000, seed=2), 0.5, 4000)
