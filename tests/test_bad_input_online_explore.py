"""Issue 23, section 2: bad input to the online, exploration, statistics and scale modules.

Each case is one of the issue's families (NaN/inf, sizes, documented ranges, degenerate
samples, text where a number is expected, seeds, out-of-range indices, unparseable dates,
a missing optional package). Every call must raise an error that names the argument (or
warn visibly where continuing is reasonable), never answer silently or with numpy's,
pandas' or Python's own message.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from recsys_lessons.data import generate_catalogue
from recsys_lessons.evaluation import stats
from recsys_lessons.explore import (
    UCB1,
    EpsilonGreedy,
    ExploringPolicy,
    LinUCB,
    ips_estimate,
    replay_estimate,
    simulate_bandit,
)
from recsys_lessons.explore.slates import epsilon_slates
from recsys_lessons.online import OnlineEnvironment, Policy, RandomPolicy, Slate
from recsys_lessons.online import experiment as ex
from recsys_lessons.scale import spark
from recsys_lessons.top_k import top_k_indices


@pytest.fixture(scope="module")
def world():
    return generate_catalogue(seed=0, n_users=50, n_items=40, n_interactions=500).world


def _environment(world, **options):
    return OnlineEnvironment(world, seed=1, k=3, **options)


def _learn(policy, users, items, rewards):
    policy.learn(np.asarray(users), np.asarray(items), np.ones(len(items), int), rewards)
    return policy


def _slates(epsilon=0.1, rng=None, greedy=((0, 1),)):
    rng = np.random.default_rng(0) if rng is None else rng
    return epsilon_slates(rng, np.array(greedy), np.ones(5, dtype=bool), epsilon)


def _first_items(users, k):
    return np.tile(np.arange(k), (len(users), 1))


def _features():
    return np.ones((3, 2)), np.ones((4, 2))


class _OutsidePolicy(Policy):
    """Built for 5 items, answers item 7."""

    n_items = 5

    def make_slate(self, users, k):
        return Slate(np.tile(np.arange(7, 7 + k), (len(users), 1)))


NAN_INF = {
    "sample_size std nan": (lambda w: ex.sample_size(np.nan, 1.0), "std"),
    "sample_size std inf": (lambda w: ex.sample_size(np.inf, 1.0), "std"),
    "sample_size mde inf": (lambda w: ex.sample_size(1.0, np.inf), "minimum_detectable_effect"),
    "sample_size mde nan in array": (
        lambda w: ex.sample_size(1.0, [0.1, np.nan]),
        "minimum_detectable_effect",
    ),
    "users_to_pick_winner mean nan": (lambda w: ex.users_to_pick_winner(np.nan, 1.0), "mean"),
    "users_to_pick_winner std inf": (lambda w: ex.users_to_pick_winner(0.1, np.inf), "std"),
    "EpsilonGreedy nan reward": (
        lambda w: _learn(EpsilonGreedy(5), [0, 0], [1, 2], [np.nan, 1.0]),
        "rewards",
    ),
    "UCB1 inf reward": (lambda w: _learn(UCB1(5), [0, 0], [1, 2], [np.inf, 1.0]), "rewards"),
    "LinUCB nan reward": (
        lambda w: _learn(LinUCB(*_features()), [0, 1], [1, 2], [np.nan, 1.0]),
        "rewards",
    ),
    "simulate_bandit nan arm mean": (
        lambda w: simulate_bandit(UCB1(3), [0.1, np.nan, 0.3], 5),
        "arm_means",
    ),
    "weekly_pattern nan": (
        lambda w: _environment(w, weekly_pattern=[np.nan] * 7),
        "weekly_pattern",
    ),
    "spark_als reg_param nan": (lambda w: spark.spark_als(None, reg_param=np.nan), "reg_param"),
    "to_spark nan rating": (
        lambda w: spark.to_spark(
            None, pd.DataFrame({"user_id": [1, 2], "item_id": [1, 2], "rating": [1.0, np.nan]})
        ),
        "rating",
    ),
    "zipf_log exponent nan": (lambda w: spark.zipf_log(1000, exponent=np.nan), "exponent"),
}

SIZES = {
    "assign n_arms 0": (lambda w: _environment(w).assign(0), "n_arms"),
    "assign n_arms -1": (lambda w: _environment(w).assign(-1), "n_arms"),
    "assign n_arms 2.0": (lambda w: _environment(w).assign(2.0), "n_arms"),
    "memory_bytes n_users -5": (lambda w: spark.memory_bytes(-5, 10, 10), "n_users"),
    "memory_bytes n_items 0": (lambda w: spark.memory_bytes(5, 0, 10), "n_items"),
    "memory_bytes nnz 2.5": (lambda w: spark.memory_bytes(5, 10, 2.5), "nnz"),
    "memory_bytes factors 0": (lambda w: spark.memory_bytes(5, 10, 10, factors=0), "factors"),
    "spark_als factors 0": (lambda w: spark.spark_als(None, factors=0), "factors"),
    "spark_als iterations 2.5": (lambda w: spark.spark_als(None, iterations=2.5), "iterations"),
    "recommend_all k 0": (lambda w: spark.recommend_all(None, None, k=0), "k must be"),
    "top_k_unseen k 0": (lambda w: spark.top_k_unseen(None, None, None, k=0), "k must be"),
    "ranking_metrics_spark k -1": (lambda w: spark.ranking_metrics_spark(None, None, -1), "k"),
    "recommendation_lists n_users 0": (
        lambda w: spark.recommendation_lists(None, 0),
        "n_users",
    ),
    "interleaving_pick_rate no preferences": (
        lambda w: ex.interleaving_pick_rate([], 10),
        "preferences",
    ),
    "estimator_interval a single number": (
        lambda w: stats.estimator_interval(np.mean, 5.0),
        "single number",
    ),
}

RANGES = {
    "epsilon_slates epsilon -0.5": (lambda w: _slates(-0.5), "epsilon"),
    "epsilon_slates epsilon 1.5": (lambda w: _slates(1.5), "epsilon"),
    "epsilon_slates epsilon nan": (lambda w: _slates(np.nan), "epsilon"),
    "users_to_pick_winner probability 0.3": (
        lambda w: ex.users_to_pick_winner(0.1, 1.0, probability=0.3),
        "probability",
    ),
    "users_to_pick_winner probability 0.5": (
        lambda w: ex.users_to_pick_winner(0.1, 1.0, probability=0.5),
        "probability",
    ),
    "assign allocation [1, 0]": (lambda w: _environment(w).assign(2, [1.0, 0.0]), "share of 0"),
    "A/B run allocation [1, 0]": (
        lambda w: _environment(w).run(
            {"A": RandomPolicy(0), "B": RandomPolicy(1)}, 1, allocation=[1.0, 0.0]
        ),
        "share of 0",
    ),
}

TEXT = {
    "sample_size std text": (lambda w: ex.sample_size("a", 1.0), "std"),
    "ab_test text": (lambda w: ex.ab_test(["a", "b"], [1.0, 2.0]), "control"),
    "cuped text": (lambda w: ex.cuped(["a", "b"], [1.0, 2.0]), "metric"),
    "users_to_pick_winner mean text": (lambda w: ex.users_to_pick_winner("a", 1.0), "mean"),
    "EpsilonGreedy text reward": (
        lambda w: _learn(EpsilonGreedy(5), [0, 0], [1, 2], ["a", "b"]),
        "rewards",
    ),
    "EpsilonGreedy fractional item": (
        lambda w: _learn(EpsilonGreedy(5), [0, 0], [1.5, 2.0], [0.0, 1.0]),
        "items",
    ),
    "LinUCB text features": (lambda w: LinUCB([["a"]], [[1.0]]), "user_features"),
    "simulate_bandit text arm means": (
        lambda w: simulate_bandit(UCB1(3), ["a", "b", "c"], 5),
        "arm_means",
    ),
    "ips max_weight text": (
        lambda w: ips_estimate([1.0], [0.5], [0.5], max_weight="a"),
        "max_weight",
    ),
    "bootstrap_interval text": (lambda w: stats.bootstrap_interval(["a", "b"]), "values"),
    "assign allocation text": (lambda w: _environment(w).assign(2, ["a", "b"]), "allocation"),
    "weekly_pattern text": (lambda w: _environment(w, weekly_pattern=["a"] * 7), "weekly_pattern"),
    "memory_bytes n_users text": (lambda w: spark.memory_bytes("5", 10, 10), "n_users"),
    "zipf_log exponent text": (lambda w: spark.zipf_log(1000, exponent="a"), "exponent"),
    "top_k_indices text scores": (lambda w: top_k_indices(np.array([["a", "b"]]), 1), "scores"),
    "environment day text": (lambda w: _environment(w).date("a"), "day"),
}

SEEDS = {
    "ab_pick_rate seed -1": (lambda w: ex.ab_pick_rate([1, 2, 3], [2, 3, 4], 10, seed=-1), "seed"),
    "ab_pick_rate seed text": (
        lambda w: ex.ab_pick_rate([1, 2, 3], [2, 3, 4], 10, seed="a"),
        "seed",
    ),
    "interleaving_pick_rate seed 1.5": (
        lambda w: ex.interleaving_pick_rate([1, -1, 0], 10, seed=1.5),
        "seed",
    ),
    "team_draft_interleave seed -1": (
        lambda w: ex.team_draft_interleave([0, 1, 2], [2, 1, 0], 2, seed=-1),
        "seed",
    ),
    "InterleavingPolicy seed -1": (
        lambda w: ex.InterleavingPolicy(_first_items, _first_items, seed=-1),
        "seed",
    ),
    "simulate_bandit seed -1": (
        lambda w: simulate_bandit(UCB1(3), [0.1, 0.2, 0.3], 5, seed=-1),
        "seed",
    ),
    "zipf_log seed -1": (lambda w: spark.zipf_log(1000, seed=-1), "seed"),
    "spark_als seed -1": (lambda w: spark.spark_als(None, seed=-1), "seed"),
    "capped_baskets seed -1": (lambda w: spark.capped_baskets(object(), seed=-1), "seed"),
    "epsilon_slates rng an int": (lambda w: _slates(rng=0), "rng"),
}

INDICES = {
    "LinUCB user beyond the features": (
        lambda w: _learn(LinUCB(*_features()), [0, 7], [1, 2], [0.0, 1.0]),
        "user",
    ),
    "LinUCB negative user": (
        lambda w: _learn(LinUCB(*_features()), [0, -1], [1, 2], [0.0, 1.0]),
        "user",
    ),
    "LinUCB item beyond the features": (
        lambda w: _learn(LinUCB(*_features()), [0, 1], [1, 9], [0.0, 1.0]),
        "item",
    ),
    "ExploringPolicy base beyond n_items": (
        lambda w: ExploringPolicy(lambda users, k: _first_items(users, k) + 10, 5).recommend(
            [0], 3
        ),
        "n_items",
    ),
    "a policy answering outside its catalogue": (
        lambda w: _OutsidePolicy().recommend([0], 2),
        "outside 0..4",
    ),
    "replay negative logged item": (
        lambda w: replay_estimate([-1, 2], [1.0, 0.0], [-1, 2]),
        "logged_items",
    ),
    "team_draft_interleave negative item": (
        lambda w: ex.team_draft_interleave([0, -1, 2], [2, 1, 0], 2),
        "negative",
    ),
    "epsilon_slates greedy outside the pool": (lambda w: _slates(greedy=((0, 9),)), "greedy"),
    "environment day -1": (lambda w: _environment(w).visitors(-1), "day"),
    "environment day 1.5": (lambda w: _environment(w).available_items(1.5), "day"),
}

DATES = {
    "to_spark timestamps as text": (
        lambda w: spark.to_spark(
            None, pd.DataFrame({"user_id": [1], "item_id": [1], "timestamp": ["garbage"]})
        ),
        "timestamp",
    ),
    "start not a date": (lambda w: _environment(w, start="not a date"), "start"),
    "signup_date not dates": (lambda w: _environment(w, signup_date=["x"] * 50), "signup_date"),
    "history timestamps as text": (
        lambda w: _environment(
            w,
            history=pd.DataFrame(
                {"user_id": [w.user_ids[0]], "item_id": [w.item_ids[0]], "timestamp": ["x"]}
            ),
        ),
        "timestamp",
    ),
}

FAMILIES = {
    "nan_inf": NAN_INF,
    "sizes": SIZES,
    "ranges": RANGES,
    "text": TEXT,
    "seeds": SEEDS,
    "indices": INDICES,
    "dates": DATES,
}
CASES = [
    pytest.param(call, message, id=f"{family}: {label}")
    for family, cases in FAMILIES.items()
    for label, (call, message) in cases.items()
]


@pytest.mark.parametrize(("call", "message"), CASES)
def test_bad_input_is_refused_naming_the_argument(world, call, message):
    with pytest.raises(ValueError, match=message):
        call(world)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(lambda: stats.bootstrap_interval([0.5]), "values", id="bootstrap"),
        pytest.param(
            lambda: stats.paired_bootstrap_interval([0.5], [0.2]), "values_a", id="paired"
        ),
        pytest.param(
            lambda: stats.unpaired_bootstrap_interval([0.5], [0.2]),
            "values_a and values_b hold",
            id="unpaired",
        ),
        pytest.param(lambda: stats.estimator_interval(np.mean, [1.0]), "rows", id="estimator"),
    ],
)
def test_a_bootstrap_of_one_value_warns_that_its_interval_has_zero_width(call, message):
    with pytest.warns(UserWarning, match=f"{message}.* a single value"):
        interval = call()
    assert interval.low == interval.high  # the result itself is unchanged


def test_a_zero_control_mean_gives_no_infinite_lift():
    with pytest.warns(UserWarning, match="control mean is 0"):
        result = ex.ab_test([0.0, 0.0, 1.0, -1.0], [1.0, 2.0, 3.0, 2.0])
    assert np.isnan(result.relative_lift)
    assert result.difference == 2.0
    with pytest.warns(UserWarning, match="control mean is 0"):
        batched = ex.ab_test(
            [[0.0, 0.0, 1.0, -1.0], [1.0, 2.0, 1.0, 2.0]], [[1.0, 2.0, 3.0, 2.0]] * 2
        )
    assert np.isnan(batched.relative_lift[0]) and np.isfinite(batched.relative_lift[1])


@pytest.mark.parametrize("function", ["to_spark", "temporal_split_spark", "spark_als"])
def test_spark_functions_without_pyspark_explain_the_install(monkeypatch, function):
    for name in ("pyspark", "pyspark.sql", "pyspark.ml", "pyspark.ml.recommendation"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(spark.SparkUnavailable, match="pyspark is not installed: run `make spark`"):
        if function == "to_spark":
            spark.to_spark(None, pd.DataFrame({"user_id": [1], "item_id": [2]}))
        elif function == "temporal_split_spark":
            spark.temporal_split_spark(None)
        else:
            spark.spark_als(None)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(lambda: UCB1(10, c=np.nan), "c must be a finite number", id="UCB1 c nan"),
        pytest.param(lambda: EpsilonGreedy("10"), "got '10'", id="n_items text is quoted"),
        pytest.param(
            lambda: ExploringPolicy(lambda users, k: _first_items(users, k)[:, :2], 5).recommend(
                [0], 3
            ),
            r"expected \(1, 3\)",
            id="ExploringPolicy short base slate",
        ),
        pytest.param(lambda: ex.ab_pick_rate([1, 2], [2, 3], 0), "n_users", id="ab n_users 0"),
        pytest.param(
            lambda: ex.interleaving_pick_rate([1, -1], 0), "n_users", id="interleaving n_users 0"
        ),
    ],
)
def test_cases_the_issue_names_that_main_already_refuses(call, message):
    """Regression guards: these issue-23 cases were fixed before this change."""
    with pytest.raises(ValueError, match=message):
        call()


def test_new_validation_helpers():
    from recsys_lessons.validation import check_date, check_rng

    generator = np.random.default_rng(3)
    assert check_rng(generator) is generator
    assert check_rng(5).random() == np.random.default_rng(5).random()
    with pytest.raises(ValueError, match="my_seed must be a whole number"):
        check_rng(-1, "my_seed")
    assert check_date("2024-01-31", "start") == pd.Timestamp("2024-01-31")
    for bad in ("garbage", 5, None, np.nan):
        with pytest.raises(ValueError, match="start"):
            check_date(bad, "start")


def test_valid_input_gives_the_same_answers(world):
    """The checks change nothing for valid input (values computed before the change)."""
    assert ex.sample_size(1.0, 0.2) == 393
    assert ex.users_to_pick_winner(0.1, 1.0, probability=0.95) == 271
    assert spark.memory_bytes(5, 10, 10)["matrix"] == 104.0
    environment = _environment(world, start="2030-01-01")
    assert environment.start == pd.Timestamp("2030-01-01")
    assert np.bincount(environment.assign(2, [0.2, 0.8])).sum() == world.n_users
    assert ex.ab_pick_rate([1.0, 2.0, 3.0], [2.0, 3.0, 4.0], 10, seed=0) == pytest.approx(
        ex.ab_pick_rate([1.0, 2.0, 3.0], [2.0, 3.0, 4.0], 10, seed=np.random.default_rng(0))
    )
