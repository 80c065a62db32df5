"""Tests of recsys_lessons.responsible.feedback on a small simulated world."""

import numpy as np
import pandas as pd
import pytest

from recsys_lessons.data import load_dataset
from recsys_lessons.explore import ExploringPolicy
from recsys_lessons.metrics import gini_index
from recsys_lessons.models import ItemKNN
from recsys_lessons.online import ModelPolicy, OnlineEnvironment
from recsys_lessons.responsible import CalibratedPolicy, homogenization, loop_metrics


@pytest.fixture(scope="module")
def small():
    ds = load_dataset("synthetic", seed=3, n_users=120, n_items=150, n_interactions=3000)
    world = ds.world
    names = sorted({g for gs in ds.items.genres for g in gs})
    genres = np.array(
        [[g in gs for g in names] for gs in ds.items["genres"].reindex(world.item_ids)], float
    )
    return ds, world, genres


def _run(ds, policy, n_days=3):
    env = OnlineEnvironment(ds.world, seed=1, history=ds.interactions, return_rate=0.5)
    pre = env.history_matrix()
    return env.run(policy, n_days=n_days), pre


def test_epsilon_zero_is_the_inner_policy_and_epsilon_one_only_fresh_items(small):
    ds, world, _ = small
    plain, _ = _run(ds, ModelPolicy(ItemKNN(neighbors=10)))
    same, _ = _run(ds, ExploringPolicy(ModelPolicy(ItemKNN(neighbors=10)), world.n_items, 0.0))
    columns = plain.columns.drop("propensity")  # the exploring policy reports its own
    pd.testing.assert_frame_equal(plain[columns], same[columns])
    explored, pre = _run(
        ds, ExploringPolicy(ModelPolicy(ItemKNN(neighbors=10)), world.n_items, 1.0, seed=2)
    )
    day0 = explored[explored["day"] == 0]
    greedy = plain[plain["day"] == 0]
    np.testing.assert_array_equal(greedy["user"], day0["user"])  # same visitors, same order
    greedy_slates = greedy["item"].to_numpy().reshape(-1, 10)
    explored_slates = day0["item"].to_numpy().reshape(-1, 10)
    # every slot explored: each user's slate is disjoint from the greedy slate it replaced
    assert not (explored_slates[:, :, None] == greedy_slates[:, None, :]).any()
    watched_before = pre[day0["user"].to_numpy(), day0["item"].to_numpy()]
    assert np.asarray(watched_before).sum() == 0  # never an item the user watched
    with pytest.raises(ValueError, match="epsilon"):
        ExploringPolicy(ModelPolicy(ItemKNN()), world.n_items, 1.5)


def test_calibrated_policy_with_lambda_zero_serves_the_model_ranking(small):
    ds, world, genres = small
    plain, _ = _run(ds, ModelPolicy(ItemKNN(neighbors=10)), n_days=2)
    calibrated, _ = _run(ds, CalibratedPolicy(ItemKNN(neighbors=10), genres, lambda_=0.0), n_days=2)
    np.testing.assert_array_equal(plain["item"], calibrated["item"])
    with pytest.raises(ValueError, match="lambda_"):
        CalibratedPolicy(ItemKNN(), genres, lambda_=1.5)
    with pytest.raises(ValueError, match="n_candidates"):
        CalibratedPolicy(ItemKNN(), genres, n_candidates=50.0)


def test_calibrated_policy_fits_a_clone_and_reranks_towards_the_history(small):
    ds, world, genres = small
    model = ItemKNN(neighbors=10)
    policy = CalibratedPolicy(model, genres, lambda_=0.9, n_candidates=40)
    plain, _ = _run(ds, ModelPolicy(ItemKNN(neighbors=10)), n_days=1)
    calibrated, _ = _run(ds, policy, n_days=1)
    assert not hasattr(model, "X_")  # the caller's model is never fitted
    assert (plain["item"].to_numpy() != calibrated["item"].to_numpy()).any()
    assert (calibrated["propensity"] == 1.0).all()  # deterministic


def test_loop_metrics_agree_with_the_helpers_and_the_world(small):
    ds, world, _ = small
    log, pre = _run(ds, ModelPolicy(ItemKNN(neighbors=10)), n_days=2)
    segments = ds.users["segment"].reindex(world.user_ids).to_numpy()
    table = loop_metrics(log, world, segments, pre_period=pre)
    day0 = log[log["day"] == 0].sort_values(["user", "position"])
    slates = day0["item"].to_numpy().reshape(-1, 10)
    users = day0["user"].to_numpy()[::10]
    first = table[table["day"] == 0]
    assert first["gini"].iloc[0] == pytest.approx(gini_index(slates, world.n_items))
    assert first["homogenization"].iloc[0] == pytest.approx(homogenization(slates))
    assert first["visits"].sum() == len(users)
    expected = world.click_probability(users, slates).sum(axis=1)
    weighted = (first["expected_clicks"] * first["visits"]).sum() / first["visits"].sum()
    assert weighted == pytest.approx(expected.mean())
    assert (table["regret"] > 0).all()  # the ideal unwatched slate beats the model's
