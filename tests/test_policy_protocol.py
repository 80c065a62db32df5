"""Every online policy of the package keeps the one protocol of recsys_lessons.online.policy.

A conformance suite in the spirit of scikit-learn's ``parametrize_with_checks``: each policy
class answers ``recommend`` with a Slate of the right shape (distinct items, propensities in
(0, 1] or none), is deterministic for a seed, has callable hooks, runs in a small
OnlineEnvironment and refuses a bad ``k``. A test fails when a new Policy subclass is added
to the package without a factory here. Hypothesis checks the properties of team-draft
interleaving and of epsilon-greedy slates.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import recsys_lessons.explore
import recsys_lessons.online
import recsys_lessons.responsible
from recsys_lessons.data import generate_catalogue
from recsys_lessons.explore import (
    UCB1,
    EpsilonGreedy,
    ExploringPolicy,
    LinUCB,
    ThompsonSampling,
    epsilon_slates,
)
from recsys_lessons.hybrid import IndexRetriever
from recsys_lessons.models import ALS, EASE, ItemKNN
from recsys_lessons.online import (
    DayContext,
    FunctionPolicy,
    InterleavingPolicy,
    ModelPolicy,
    OnlineEnvironment,
    Policy,
    PopularityPolicy,
    RandomPolicy,
    RankingPolicy,
    ShadowPolicy,
    Slate,
    as_policy,
)
from recsys_lessons.online.experiment import TEAM_A, TEAM_B, team_draft_interleave
from recsys_lessons.responsible import CalibratedPolicy
from recsys_lessons.retrieval import ExactIndex

K = 5


class Setup:
    """A small world, its history, and the inputs some policies need."""

    def __init__(self):
        data = generate_catalogue(seed=5, n_users=60, n_items=50, n_interactions=700)
        self.data, self.world = data, data.world
        self.environment = lambda seed=0: OnlineEnvironment(
            self.world, seed=seed, k=K, history=data.interactions, return_rate=0.5
        )
        env = self.environment()
        self.context = DayContext(0, env.date(0), env.available_items(0), env.history_matrix())
        names = sorted({g for genres in data.items["genres"] for g in genres})
        self.genres = np.array(
            [[g in gs for g in names] for gs in data.items["genres"].reindex(self.world.item_ids)],
            dtype=float,
        )
        rng = np.random.default_rng(0)
        self.user_features = np.column_stack([np.ones(self.world.n_users), rng.random((60, 2))])
        self.item_features = np.column_stack([np.ones(self.world.n_items), rng.random((50, 2))])
        als = ALS(factors=4, iterations=2, seed=0).fit(self.context.history)
        self.retriever = IndexRetriever(als, ExactIndex(metric="dot"))
        counts = np.asarray(self.context.history.sum(axis=0)).ravel()
        self.popular = np.argsort(-counts, kind="stable")


def _first_popular(setup):
    def most_watched(users, k):
        return np.tile(setup.popular[:k], (len(users), 1))

    return most_watched


#: One factory per concrete policy class of the package: a fresh, seeded policy.
FACTORIES = {
    "RandomPolicy": lambda s: RandomPolicy(seed=1),
    "PopularityPolicy": lambda s: PopularityPolicy(),
    "ModelPolicy": lambda s: ModelPolicy(EASE(regularization=20.0)),
    "FunctionPolicy": lambda s: FunctionPolicy(_first_popular(s)),
    "RankingPolicy": lambda s: RankingPolicy(s.retriever),
    "ShadowPolicy": lambda s: ShadowPolicy(PopularityPolicy(), EASE(regularization=20.0)),
    "InterleavingPolicy": lambda s: InterleavingPolicy(PopularityPolicy(), RandomPolicy(2), seed=3),
    "EpsilonGreedy": lambda s: EpsilonGreedy(s.world.n_items, epsilon=0.3, seed=4),
    "UCB1": lambda s: UCB1(s.world.n_items, seed=5),
    "ThompsonSampling": lambda s: ThompsonSampling(s.world.n_items, n_propensity_draws=20, seed=6),
    "LinUCB": lambda s: LinUCB(s.user_features, s.item_features, alpha=0.5),
    "ExploringPolicy": lambda s: ExploringPolicy(
        ModelPolicy(ItemKNN(neighbors=10)), s.world.n_items, epsilon=0.4, seed=7
    ),
    "CalibratedPolicy": lambda s: CalibratedPolicy(
        ItemKNN(neighbors=10), s.genres, lambda_=0.5, n_candidates=20
    ),
}


@pytest.fixture(scope="module")
def setup():
    return Setup()


def _concrete_policy_classes():
    """Every Policy subclass defined in the package that implements make_slate."""
    assert recsys_lessons.online and recsys_lessons.explore and recsys_lessons.responsible
    found, stack = set(), [Policy]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            stack.append(sub)
            if (
                sub.__module__.startswith("recsys_lessons")
                and sub.make_slate is not Policy.make_slate
            ):
                found.add(sub.__name__)
    return found


def test_the_suite_covers_every_policy_class_of_the_package():
    assert _concrete_policy_classes() == set(FACTORIES)


#: Policies that cannot tell the probability of what they show (a function may draw at
#: random; team draft flips coins): their slates say so with propensities=None.
REPORT_NO_PROPENSITIES = {"FunctionPolicy", "InterleavingPolicy"}


@pytest.fixture(params=sorted(FACTORIES), ids=str)
def make(request, setup):
    def fresh():
        return FACTORIES[request.param](setup)

    fresh.name = request.param
    return fresh


def _slate(policy, setup, users, k=K):
    policy.begin_day(setup.context)
    return policy.recommend(users, k)


def test_recommend_answers_a_slate_of_distinct_items(make, setup):
    users = np.array([0, 3, 7, 59])
    slate = _slate(make(), setup, users)
    assert isinstance(slate, Slate) and not isinstance(slate, tuple)
    with pytest.raises(TypeError):
        items, scores = slate  # cannot be unpacked like a model's (items, scores)
    assert slate.items.shape == (len(users), K) and slate.items.dtype == np.int64
    assert ((slate.items >= 0) & (slate.items < setup.world.n_items)).all()
    assert all(len(set(row)) == K for row in slate.items.tolist())
    assert setup.context.available[slate.items].all()
    assert (slate.propensities is None) == (make.name in REPORT_NO_PROPENSITIES)
    if slate.propensities is not None:
        assert slate.propensities.shape == slate.items.shape
        assert ((slate.propensities > 0) & (slate.propensities <= 1)).all()
    assert not slate.items.flags.writeable  # a slate is read-only


def test_a_seed_makes_the_policy_deterministic(make, setup):
    users = np.arange(20)
    first, second = _slate(make(), setup, users), _slate(make(), setup, users)
    np.testing.assert_array_equal(first.items, second.items)
    np.testing.assert_array_equal(first.logged_propensities(), second.logged_propensities())


def test_hooks_are_callable_and_the_policy_runs_in_an_environment(make, setup):
    policy = make()
    assert as_policy(policy) is policy
    env = setup.environment(seed=1)
    log = env.run(policy, n_days=3)
    assert policy.update(log, 2) is None  # the hook takes a log and a day
    assert set(log["day"]) == {0, 1, 2} and (log.groupby(["day", "user"]).size() == K).all()
    logged = log["propensity"]
    assert logged.isna().all() or ((logged > 0) & (logged <= 1)).all()
    again = setup.environment(seed=1).run(make(), n_days=3)
    np.testing.assert_array_equal(log["item"], again["item"])


@pytest.mark.parametrize("k", [0, -1, 2.0, True, "3", None, 51])
def test_a_bad_k_is_refused(make, setup, k):
    policy = make()
    policy.begin_day(setup.context)
    with pytest.raises(ValueError, match="k"):
        policy.recommend(np.arange(3), k)


@pytest.mark.parametrize("users", [np.array([0.5]), np.array([[0, 1]]), np.array([-1])])
def test_bad_users_are_refused(make, setup, users):
    policy = make()
    policy.begin_day(setup.context)
    with pytest.raises(ValueError, match="users must be"):
        policy.recommend(users, K)


def test_a_policy_must_answer_a_slate():
    class AnswersScores(Policy):
        def make_slate(self, users, k):
            return np.tile(np.arange(k), (len(users), 1)), np.full((len(users), k), 0.03)

    with pytest.raises(ValueError, match="must return a Slate"):
        AnswersScores().recommend([0, 1], 2)


# --------------------------------------------------------------------------------------
# Properties (hypothesis)
# --------------------------------------------------------------------------------------


@st.composite
def ranking_pairs(draw):
    """Two rankings without repeats over a small catalogue, a list length and a seed."""
    n_items = draw(st.integers(1, 15))
    m = draw(st.integers(1, n_items))
    k = draw(st.integers(1, m))
    a = draw(st.permutations(range(n_items)))[:m]
    b = draw(st.permutations(range(n_items)))[:m]
    return np.array(a), np.array(b), k, draw(st.integers(0, 2**32 - 1))


@settings(max_examples=300, deadline=None)
@given(ranking_pairs())
def test_team_draft_keeps_each_teams_order_and_balances_the_teams(pair):
    a, b, k, seed = pair
    items, teams = team_draft_interleave(a, b, k, seed=seed)
    assert items.shape == teams.shape == (k,)
    assert len(set(items.tolist())) == k  # no duplicates
    assert abs(int((teams == TEAM_A).sum()) - int((teams == TEAM_B).sum())) <= 1
    for team, ranking in ((TEAM_A, a), (TEAM_B, b)):
        picked = items[teams == team]
        rank = {item: r for r, item in enumerate(ranking.tolist())}
        assert all(item in rank for item in picked.tolist())  # a team only adds its own items
        assert np.all(np.diff([rank[item] for item in picked.tolist()]) > 0)  # in its order
    for position in range(k):  # each pick is the team's best item not yet in the list
        ranking = a if teams[position] == TEAM_A else b
        unused = [item for item in ranking.tolist() if item not in items[:position].tolist()]
        assert items[position] == unused[0]


@st.composite
def greedy_slates(draw):
    n_items = draw(st.integers(2, 25))
    k = draw(st.integers(1, n_items - 1))
    n_users = draw(st.integers(1, 5))
    greedy = np.array([draw(st.permutations(range(n_items)))[:k] for _ in range(n_users)])
    pool = np.array(draw(st.lists(st.booleans(), min_size=n_items, max_size=n_items)))
    epsilon = draw(st.sampled_from([0.0, 1.0]) | st.floats(0.0, 1.0))
    return greedy, pool, epsilon, draw(st.integers(0, 2**32 - 1))


@settings(max_examples=300, deadline=None)
@given(greedy_slates())
def test_epsilon_slates_report_the_probability_of_what_they_show(case):
    greedy, pool, epsilon, seed = case
    n, k = greedy.shape
    pool_size = np.array([np.sum(pool & ~np.isin(np.arange(len(pool)), row)) for row in greedy])
    rng = np.random.default_rng(seed)
    if epsilon > 0 and (pool_size < k).any():
        with pytest.raises(ValueError, match="pool"):
            epsilon_slates(rng, greedy, pool, epsilon)
        return
    items, propensities, explored = epsilon_slates(rng, greedy, pool, epsilon)
    assert items.shape == propensities.shape == explored.shape == (n, k)
    assert all(len(set(row)) == k for row in items.tolist())
    # kept slots: the greedy item, with probability 1 - epsilon
    np.testing.assert_array_equal(items[~explored], greedy[~explored])
    np.testing.assert_allclose(propensities[~explored], 1 - epsilon)
    # explored slots: a pool item outside the user's greedy slate, each with epsilon / |pool_u|
    rows = np.nonzero(explored)[0]
    assert pool[items[explored]].all()
    assert not (items[explored][:, None] == greedy[rows]).any()
    np.testing.assert_allclose(propensities[explored], epsilon / pool_size[rows])
    assert ((propensities > 0) & (propensities <= 1)).all()  # what is shown is possible
    if epsilon in (0.0, 1.0):  # the two ends: never or always explore
        assert (explored == (epsilon == 1.0)).all()
