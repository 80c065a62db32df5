"""The online environment: its logs agree with the world's ground truth within sampling error,
a seed reproduces a run, policies never see the future, and every option does what it says."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from recsys_lessons.data import SimulatedWorld, generate_catalogue
from recsys_lessons.hybrid import IndexRetriever
from recsys_lessons.models import ALS, EASE, Popularity
from recsys_lessons.online import (
    LOG_COLUMNS,
    WEEKEND_PEAK,
    ModelPolicy,
    OnlineEnvironment,
    Policy,
    PopularityPolicy,
    RandomPolicy,
    RankingPolicy,
    ShadowPolicy,
    Slate,
)
from recsys_lessons.retrieval import ExactIndex


@pytest.fixture(scope="module")
def catalogue():
    return generate_catalogue(seed=3, n_users=300, n_items=400, n_interactions=12_000)


@pytest.fixture(scope="module")
def world(catalogue):
    return catalogue.world


def within_sampling_error(observed: float, expected: float, variance: float, z: float = 4.0):
    """|observed - expected| <= z standard errors (z = 4: a false alarm about once in 16,000)."""
    return abs(observed - expected) <= z * np.sqrt(variance)


def slates(log: pd.DataFrame, k: int):
    """(users, items) of each served slate, rebuilt from the one-row-per-impression log."""
    ordered = log.sort_values(["day", "user", "position"], kind="stable")
    return ordered["user"].to_numpy()[::k], ordered["item"].to_numpy().reshape(-1, k)


def test_log_has_the_contract_columns_and_one_full_slate_per_visit(world):
    env = OnlineEnvironment(world, seed=1, k=5)
    log = env.run(RandomPolicy(seed=0), n_days=3)
    assert tuple(log.columns) == LOG_COLUMNS
    assert log["day"].between(0, 2).all()
    per_visit = log.groupby(["day", "user"])
    assert (per_visit.size() == 5).all()
    assert (per_visit["item"].nunique() == 5).all()
    assert (per_visit["position"].apply(sorted).map(tuple) == (1, 2, 3, 4, 5)).all()
    assert ((log["watch_seconds"] > 0) == log["clicked"]).all()
    assert np.allclose(log["propensity"], 1 / world.n_items)
    for day in range(3):
        assert np.array_equal(np.unique(log.loc[log.day == day, "user"]), env.visitors(day))


def test_logged_ctr_matches_the_worlds_click_model(world):
    env = OnlineEnvironment(world, seed=2, k=10, return_rate=0.6)
    log = env.run(RandomPolicy(seed=1), n_days=20)
    users, items = slates(log, 10)
    expected = world.click_probability(users, items)
    ordered = log.sort_values(["day", "user", "position"], kind="stable")
    assert np.allclose(ordered["click_probability"].to_numpy().reshape(-1, 10), expected)
    clicks = ordered["clicked"].to_numpy().reshape(-1, 10)
    # overall and position by position (position bias comes from the world, not from us)
    for observed, p in [(clicks, expected)] + [(clicks[:, r], expected[:, r]) for r in range(10)]:
        assert within_sampling_error(observed.sum(), p.sum(), (p * (1 - p)).sum())
    assert clicks[:, 0].mean() > 3 * clicks[:, 9].mean()


def test_watch_time_follows_the_worlds_completion_model(world):
    env = OnlineEnvironment(world, seed=4, k=10, return_rate=0.6)
    log = env.run(RandomPolicy(seed=2), n_days=20)
    watched = log[log["clicked"]]
    affinity = world.true_affinity(watched["user"].to_numpy())[
        np.arange(len(watched)), watched["item"].to_numpy()
    ]
    m = np.clip(expit((affinity - 3.0) / 0.7), 0.01, 0.99)  # docstring of simulate_watch_time
    seconds = world.runtime[watched["item"].to_numpy()] * 60.0
    # completion ~ Beta(4m, 4(1-m)): mean m, variance m(1-m)/5
    assert within_sampling_error(
        watched["watch_seconds"].sum(), (seconds * m).sum(), (seconds**2 * m * (1 - m) / 5).sum()
    )


def test_a_seed_reproduces_the_run_and_another_seed_does_not(world):
    def run(seed):
        env = OnlineEnvironment(world, seed=seed, k=5, weekly_pattern=WEEKEND_PEAK)
        return env.run({"A": RandomPolicy(seed=0), "B": PopularityPolicy()}, n_days=4)

    pd.testing.assert_frame_equal(run(7), run(7))
    assert not run(7).equals(run(8))


def test_deterministic_policies_log_propensity_one_and_functions_log_none(world):
    popular = OnlineEnvironment(world, seed=3, k=5).run(PopularityPolicy(), n_days=2)
    assert (popular["propensity"] == 1.0).all()

    def first_items(users, k):
        return np.tile(np.arange(k), (len(users), 1))

    unknown = OnlineEnvironment(world, seed=3, k=5).run(first_items, n_days=2)
    assert unknown["propensity"].isna().all()  # a function may draw at random: not reported


def test_visitors_and_reactions_do_not_depend_on_the_policy(world):
    """Common random numbers: the same users come on the same days whatever is shown."""
    random_log = OnlineEnvironment(world, seed=5).run(RandomPolicy(seed=0), n_days=3)
    popular_log = OnlineEnvironment(world, seed=5).run(PopularityPolicy(), n_days=3)
    visits = ["day", "user"]
    pd.testing.assert_frame_equal(
        random_log[visits].drop_duplicates(), popular_log[visits].drop_duplicates()
    )


class Spy(Policy):
    """A learning policy that records what it was given, and checks it is never the future."""

    def __init__(self, env):
        self.env = env
        self.seen_days = []
        self.inner = PopularityPolicy()

    def begin_day(self, context):
        assert context.day == self.env.day + len(self.seen_days)
        logged = self.env.log
        past = logged[logged["day"] < context.day]
        assert context.history.nnz == self.pre_period + int(past["clicked"].sum()) - self.repeats(
            past
        )
        self.inner.begin_day(context)

    def repeats(self, past):
        """Clicks on items a user had already watched do not add a new history entry."""
        clicked = past[past["clicked"]]
        return len(clicked) - len(clicked.drop_duplicates(["user", "item"]))

    def make_slate(self, users, k):
        return self.inner.recommend(users, k)

    def update(self, log, day):
        assert log["day"].max() == day
        pd.testing.assert_frame_equal(log, self.env.log)
        self.seen_days.append(day)


def test_a_policy_never_sees_the_future(world):
    env = OnlineEnvironment(world, seed=6, k=5)
    spy = Spy(env)
    spy.pre_period = 0
    env.run(spy, n_days=6)
    assert spy.seen_days == list(range(6))


def test_the_first_days_do_not_depend_on_how_long_the_run_is(catalogue):
    """A learning policy's first 4 days are the same in a 4-day and an 8-day run, and running
    4 + 4 days gives the 8-day log: nothing from later days leaks into earlier ones."""

    def env():
        return OnlineEnvironment.from_dataset(catalogue, seed=9, k=5)

    short = env().run(ModelPolicy(EASE(regularization=50.0)), n_days=4)
    long = env().run(ModelPolicy(EASE(regularization=50.0)), n_days=8)
    pd.testing.assert_frame_equal(short, long[long["day"] < 4])
    twice = env()
    policy = ModelPolicy(EASE(regularization=50.0))
    first, second = twice.run(policy, n_days=4), twice.run(policy, n_days=4)
    pd.testing.assert_frame_equal(pd.concat([first, second], ignore_index=True), long)
    pd.testing.assert_frame_equal(twice.log, long)


def test_model_policy_learns_from_the_past_and_shows_only_unseen_items(catalogue):
    env = OnlineEnvironment.from_dataset(catalogue, seed=10, k=10)
    policy = ModelPolicy(EASE(regularization=50.0), retrain_every=3)
    before = env.history_matrix()
    log = env.run(policy, n_days=7)
    assert policy.n_fits == 3  # days 0, 3 and 6
    assert before[log["user"].to_numpy(), log["item"].to_numpy()].sum() == 0
    history = env.history_matrix()
    assert (
        history.nnz
        == before.nnz + log.loc[log["clicked"], ["user", "item"]].drop_duplicates().shape[0]
    )
    # a shown-and-watched item is not shown again to the same user
    watched = log[log["clicked"]]
    later = log.merge(watched[["user", "item", "day"]], on=["user", "item"], suffixes=("", "_w"))
    assert not (later["day"] > later["day_w"]).any()
    # a recommender passed directly is wrapped in a ModelPolicy
    direct = OnlineEnvironment.from_dataset(catalogue, seed=10, k=10).run(Popularity(), n_days=2)
    assert len(direct) > 0


def test_model_policy_without_history_says_what_to_do(world):
    env = OnlineEnvironment(world, seed=0)
    with pytest.raises(ValueError, match="pre-period"):
        env.run(ModelPolicy(EASE()), n_days=1)


def test_ab_arms_keep_their_users_and_split_them_by_the_allocation(world):
    env = OnlineEnvironment(world, seed=11, k=5, return_rate=0.5)
    log = env.run({"A": RandomPolicy(0), "B": RandomPolicy(1)}, n_days=5, allocation=[0.2, 0.8])
    assert list(log.columns) == [*LOG_COLUMNS, "arm"]
    assert (log.groupby("user")["arm"].nunique() == 1).all()
    assignment = env.assign(2, [0.2, 0.8])
    assert np.array_equal(
        log.groupby("user")["arm"].first().cat.codes.to_numpy(),
        assignment[np.unique(log["user"])],
    )
    n = world.n_users
    assert within_sampling_error((assignment == 1).sum(), 0.8 * n, n * 0.8 * 0.2)


def test_novelty_lifts_clicks_by_a_second_look_that_fades(world):
    env = OnlineEnvironment(
        world, seed=12, k=10, return_rate=0.9, novelty=0.8, novelty_half_life=2.0
    )
    log = env.run({"A": RandomPolicy(0), "B": RandomPolicy(1)}, n_days=12)
    users, items = slates(log, 10)
    ordered = log.sort_values(["day", "user", "position"], kind="stable")
    p = world.click_probability(users, items).ravel()
    first = log.groupby("user")["day"].min()
    age = ordered["day"].to_numpy() - first.loc[ordered["user"]].to_numpy()
    b = np.where(ordered["arm"].to_numpy() == "B", 0.8 * 0.5 ** (age / 2.0), 0.0)
    expected = p + b * p * (1 - p)
    assert np.allclose(ordered["click_probability"], expected)
    clicks = ordered["clicked"].to_numpy()
    for part in (ordered["arm"].to_numpy() == "A", b > 0.4, (b > 0) & (b < 0.1)):
        q = expected[part]
        assert within_sampling_error(clicks[part].sum(), q.sum(), (q * (1 - q)).sum())
    lift = (expected / p)[(b > 0.4)].mean() - 1
    assert lift > 0.3


def test_weekly_pattern_and_return_rates(world):
    env = OnlineEnvironment(world, seed=13, start="2024-01-01", weekly_pattern=WEEKEND_PEAK)
    assert env.date(5).day_name() == "Saturday"
    assert np.allclose(env.visit_probability(5), np.minimum(1, env.return_rates * WEEKEND_PEAK[5]))
    c, m, n = 2.0, 0.3, world.n_users
    variance_of_mean = m * (1 - m) / (c + 1) / n  # Beta(mc, (1-m)c)
    assert within_sampling_error(env.return_rates.mean(), m, variance_of_mean)
    visits = [len(env.visitors(day)) for day in range(14)]
    p = np.array([env.visit_probability(day) for day in range(14)])
    assert within_sampling_error(sum(visits), p.sum(), (p * (1 - p)).sum())


def test_only_released_items_and_signed_up_users_appear(catalogue):
    world = catalogue.world
    release = world.release_date.astype("datetime64[D]")
    start = pd.Timestamp(np.sort(release)[-30])  # 29 items still to come
    env = OnlineEnvironment.from_dataset(catalogue, seed=14, k=10, start=start, return_rate=0.5)
    log = env.run(RandomPolicy(0), n_days=20)
    dates = (start + pd.to_timedelta(log["day"], unit="D")).to_numpy().astype("datetime64[D]")
    assert (release[log["item"].to_numpy()] <= dates).all()
    arrived = release[np.unique(log["item"])] > np.datetime64(start.date())
    assert arrived.any()  # new titles did arrive and were shown
    signup = catalogue.users["signup_date"].to_numpy().astype("datetime64[D]")
    assert (signup[log["user"].to_numpy()] <= dates).all()

    def shows_the_last_release(users, k):
        newest = np.argsort(release)[::-1][:k]
        return np.tile(newest, (len(users), 1))

    with pytest.raises(ValueError, match="only released items"):
        OnlineEnvironment(world, seed=0, start=start).run(shows_the_last_release, n_days=1)


def test_arriving_users_visit_only_after_signing_up(world):
    signup = np.full(world.n_users, np.datetime64("2024-01-01"))
    signup[: world.n_users // 2] = np.datetime64("2024-01-06")
    env = OnlineEnvironment(world, seed=15, start="2024-01-01", signup_date=signup, return_rate=0.8)
    log = env.run(RandomPolicy(0), n_days=8)
    early = log["user"] < world.n_users // 2
    assert log.loc[early, "day"].min() == 5
    assert (log.loc[~early, "day"] < 5).any()


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        (lambda users, k: np.zeros((len(users), k), dtype=int), "twice"),
        (lambda users, k: np.tile(np.arange(k + 1), (len(users), 1)), "shape"),
        (lambda users, k: np.full((len(users), k), 0.5), "integer item indices"),
        (
            lambda users, k: Slate(
                np.tile(np.arange(k), (len(users), 1)), np.zeros((len(users), k))
            ),
            r"propensities .* lie in \(0, 1\]",
        ),
        (
            lambda users, k: (np.tile(np.arange(k), (len(users), 1)), np.ones((len(users), k))),
            "returned a tuple",
        ),
        (lambda users, k: np.tile(np.arange(400, 400 + k), (len(users), 1)), "outside 0..399"),
        ("not a policy", "a policy must be a Policy"),
    ],
)
def test_bad_policies_raise_a_helpful_error(world, policy, message):
    with pytest.raises(ValueError, match=message):
        OnlineEnvironment(world, seed=0, k=4).run(policy, n_days=1)


def test_bad_options_raise(world, catalogue):
    with pytest.raises(ValueError, match="return_rate"):
        OnlineEnvironment(world, return_rate=1.5)
    with pytest.raises(ValueError, match="novelty"):
        OnlineEnvironment(world, novelty=2.0)
    with pytest.raises(ValueError, match="weekly_pattern"):
        OnlineEnvironment(world, weekly_pattern=[1, 2])
    with pytest.raises(ValueError, match="SimulatedWorld"):
        OnlineEnvironment(object())
    with pytest.raises(ValueError, match="allocation"):
        OnlineEnvironment(world).run(
            {"A": RandomPolicy(0), "B": RandomPolicy(1)}, 1, allocation=[1, 1]
        )
    with pytest.raises(ValueError, match="arms"):
        OnlineEnvironment(world, novelty={"C": 0.5}).run({"A": RandomPolicy(0)}, 1)


def test_shadow_mode_serves_production_and_records_the_candidate(catalogue):
    env = OnlineEnvironment.from_dataset(catalogue, seed=16, k=10)
    shadow = ShadowPolicy(PopularityPolicy(), ModelPolicy(EASE(regularization=50.0)))
    log = env.run(shadow, n_days=3)
    plain = OnlineEnvironment.from_dataset(catalogue, seed=16, k=10).run(
        PopularityPolicy(), n_days=3
    )
    pd.testing.assert_frame_equal(log, plain)  # users saw production only
    record = shadow.shadow_log
    assert len(record) == len(log) // 10 and (record["error"] == "").all()
    assert record["overlap"].between(0, 1).all() and record["overlap"].lt(1).any()

    def broken(users, k):
        raise RuntimeError("model server timeout")

    same = ShadowPolicy(PopularityPolicy(), PopularityPolicy())
    OnlineEnvironment.from_dataset(catalogue, seed=16, k=10).run(same, n_days=2)
    assert (same.shadow_log["overlap"] == 1).all()
    failing = ShadowPolicy(PopularityPolicy(), broken)
    OnlineEnvironment.from_dataset(catalogue, seed=16, k=10).run(failing, n_days=1)
    assert failing.shadow_log["error"].str.contains("timeout").all()

    def fails_for_some(users, k):
        if (users % 3 == 0).any():
            raise IndexError("user missing from the embedding table")
        return np.tile(np.arange(k), (len(users), 1))

    partly = ShadowPolicy(PopularityPolicy(), fails_for_some)
    OnlineEnvironment.from_dataset(catalogue, seed=16, k=10).run(partly, n_days=2)
    record = partly.shadow_log
    assert np.array_equal(record["error"] != "", record["user"] % 3 == 0)
    assert (np.concatenate(partly.candidate_items)[record["user"] % 3 != 0] >= 0).all()


def test_the_worlds_own_click_model_decides_so_world_options_flow_through(world):
    """A world whose click model changes (as clickbait titles do in lesson 07) changes the log:
    the environment calls the world's methods instead of re-implementing them."""

    class AlwaysClickFirstItem(SimulatedWorld):
        def click_probability(self, users, recommended):
            probability = super().click_probability(users, recommended)
            return np.where(np.asarray(recommended) == 0, 1.0, probability)

    changed = AlwaysClickFirstItem(
        **{f.name: getattr(world, f.name) for f in dataclasses.fields(world)}
    )

    def item_zero_first(users, k):
        return np.tile(np.arange(k), (len(users), 1))

    log = OnlineEnvironment(changed, seed=17, k=5).run(item_zero_first, n_days=2)
    first = log[log["item"] == 0]
    assert first["clicked"].all() and (first["click_probability"] == 1.0).all()
    assert (first["watch_seconds"] > 0).all()
    plain = OnlineEnvironment(world, seed=17, k=5).run(item_zero_first, n_days=2)
    assert not plain.loc[plain["item"] == 0, "clicked"].all()


def test_a_retrievers_scores_are_never_logged_as_propensities(catalogue):
    """Issue 20: an IndexRetriever answers (items, scores); the environment used to log the
    ALS dot products in the propensity column (or refuse with a misleading message). It is
    refused with the way out, and served through RankingPolicy its scores are dropped."""
    env = OnlineEnvironment.from_dataset(catalogue, seed=18, k=5)
    als = ALS(factors=8, regularization=100.0, iterations=3, seed=0).fit(env.history_matrix())
    retriever = IndexRetriever(als, ExactIndex(metric="dot"))
    with pytest.raises(ValueError, match=r"RankingPolicy\(ranker\)"):
        env.run(retriever, n_days=1)
    assert env.day == 0 and env.log.empty  # nothing was served
    log = env.run(RankingPolicy(retriever), n_days=1)
    assert (log["propensity"] == 1.0).all()  # a deterministic list, not the ALS scores
    # the same lists as the model served directly (fitted on the same history)
    served = OnlineEnvironment.from_dataset(catalogue, seed=18, k=5).run(
        ModelPolicy(ALS(factors=8, regularization=100.0, iterations=3, seed=0)), n_days=1
    )
    np.testing.assert_array_equal(log["item"], served["item"])
    before = env.history_matrix()
    later = env.run(RankingPolicy(retriever), n_days=2)
    assert before[later["user"].to_numpy(), later["item"].to_numpy()].sum() == 0  # unwatched


def test_model_policy_fits_a_clone_never_the_callers_model(catalogue):
    model = EASE(regularization=50.0)
    policy = ModelPolicy(model, retrain_every=2)
    OnlineEnvironment.from_dataset(catalogue, seed=19, k=5).run(policy, n_days=3)
    assert not hasattr(model, "X_")  # the caller's model is untouched
    assert policy.model_ is not model and policy.model_.get_params() == model.get_params()
    assert policy.n_fits == 2 and hasattr(policy.model_, "X_")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"k": True}, "k must be a positive integer"),
        ({"k": 2.0}, "k must be a positive integer"),
        ({"k": 401}, "larger than the catalogue"),
        ({"seed": 1.5}, "seed"),
        ({"return_rate": True}, "return_rate"),
        ({"novelty_half_life": 0}, "novelty_half_life"),
        ({"return_concentration": -1.0}, "return_concentration"),
    ],
)
def test_options_are_checked_like_everywhere_else(world, options, message):
    with pytest.raises(ValueError, match=message):
        OnlineEnvironment(world, **options)


def test_run_refuses_a_fractional_number_of_days(world):
    with pytest.raises(ValueError, match="n_days"):
        OnlineEnvironment(world).run(RandomPolicy(0), n_days=2.0)
