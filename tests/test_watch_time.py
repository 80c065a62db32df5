"""Click model vs weighted-logistic watch-time model (lesson 07)."""

import numpy as np
import pandas as pd
import pytest

from recsys_lessons.data import generate_catalogue
from recsys_lessons.sequences.watch_time import (
    fit_click_model,
    fit_watch_time_model,
    impression_features,
    log_impressions,
    outcome_of_lists,
    predicted_watch_time,
    watch_time_weights,
)


@pytest.fixture(scope="module")
def catalogue():
    return generate_catalogue(
        seed=3, n_users=200, n_items=300, n_interactions=8000, clickbait_share=0.2
    )


def test_weights_are_minutes_for_clicks_and_one_otherwise():
    weights = watch_time_weights([True, False, True], [30.0, 0.0, 5.5])
    np.testing.assert_array_equal(weights, [30.0, 1.0, 5.5])
    with pytest.raises(ValueError, match="0 wherever there was no click"):
        watch_time_weights([False], [3.0])


def test_weighted_odds_equal_watch_time_per_unclicked_impression():
    # Two groups (a one-hot feature = a saturated model): the weighted fit's odds are
    # sum of minutes over clicks / number of non-clicks in each group (closed form).
    group = np.r_[np.zeros(40, int), np.ones(60, int)]
    clicked = np.r_[np.arange(40) < 4, np.arange(60) < 30]
    minutes = np.where(clicked, np.r_[np.full(40, 50.0), np.full(60, 2.0)], 0.0)
    features = np.column_stack([group == 0, group == 1]).astype(float)
    watch = fit_watch_time_model(features, clicked, minutes, C=1e6)
    odds = predicted_watch_time(watch, features[[0, 40]])
    np.testing.assert_allclose(odds, [4 * 50 / 36, 30 * 2 / 30], rtol=1e-3)
    click = fit_click_model(features, clicked, C=1e6)
    np.testing.assert_allclose(click.predict_proba(features[[0, 40]])[:, 1], [0.1, 0.5], rtol=1e-3)
    # the click model prefers group 1 (50 % clicks), the watch-time model group 0 (5.6 min)
    assert odds[0] > odds[1]


def test_log_impressions_records_the_worlds_reactions(catalogue):
    world = catalogue.world
    users, slates = np.arange(5), np.arange(20).reshape(5, 4)
    log = log_impressions(world, users, slates, seed=1)
    assert list(log.columns) == ["user", "item", "position", "clicked", "minutes"]
    assert log["position"].tolist()[:4] == [1, 2, 3, 4] and log["item"].tolist() == list(range(20))
    np.testing.assert_array_equal(
        log["minutes"].to_numpy(), world.simulate_watch_time(users, slates, seed=1).ravel()
    )
    assert (log["clicked"] == (log["minutes"] > 0)).all()


def test_features_and_their_errors(catalogue):
    items = np.array([0, 1, 2])
    features = impression_features([0.5, 1.0, 2.0], items, [1, 2, 3], catalogue.items, 3)
    assert features.shape == (3, 5)
    np.testing.assert_array_equal(features[:, 3:], [[0, 0], [1, 0], [0, 1]])
    np.testing.assert_allclose(features[:, 2], np.log(catalogue.items["runtime"].iloc[:3]))
    np.testing.assert_array_equal(features[:, 1], catalogue.world.clickbait[:3])
    with pytest.raises(ValueError, match="clickbait_share"):
        impression_features([1.0], [0], 1, catalogue.items.drop(columns="clickbait"))
    with pytest.raises(ValueError, match="positions"):
        impression_features([1.0], [0], 11, catalogue.items)


def test_outcome_of_lists_is_the_worlds_expectation(catalogue):
    world = catalogue.world
    users, lists = np.arange(10), np.tile(np.arange(5), (10, 1))
    outcome = outcome_of_lists(world, users, lists)
    assert outcome["ctr"] == pytest.approx(world.click_probability(users, lists).mean())
    assert outcome["watch_minutes"] == pytest.approx(
        world.expected_watch_time(users, lists).sum() / 10
    )
    assert outcome["clickbait_share"] == pytest.approx(world.clickbait[:5].mean())


def test_watch_time_ranking_shows_less_clickbait_and_more_minutes(catalogue):
    # Log random slates of 10 among each user's 50 best titles (true affinity as relevance),
    # then rank those 50 by each model and serve the top 10 back to the world.
    world = catalogue.world
    candidates, affinity = world.ideal_top_k(k=50)
    rng = np.random.default_rng(0)
    users = np.repeat(np.arange(world.n_users), 20)
    pick = np.argsort(rng.random((len(users), 50)), axis=1)[:, :10]
    slates = np.take_along_axis(candidates[users], pick, axis=1)
    log = log_impressions(world, users, slates, seed=2)
    relevance = np.take_along_axis(affinity[users], pick, axis=1).ravel()
    features = impression_features(relevance, log["item"], log["position"], catalogue.items)
    click = fit_click_model(features, log["clicked"])
    watch = fit_watch_time_model(features, log["clicked"], log["minutes"])
    names = ["relevance", "clickbait", "log_runtime"]
    assert pd.Series(click.coef_[0][:3], names)["clickbait"] > 0
    assert pd.Series(watch.coef_[0][:3], names)["clickbait"] < 0

    every = impression_features(affinity.ravel(), candidates.ravel(), 1, catalogue.items)
    lists = {}
    for name, scores in (
        ("click", click.decision_function(every)),
        ("watch", watch.decision_function(every)),
    ):
        order = np.argsort(-scores.reshape(candidates.shape), axis=1, kind="stable")[:, :10]
        lists[name] = np.take_along_axis(candidates, order, axis=1)
    all_users = np.arange(world.n_users)
    clicks = outcome_of_lists(world, all_users, lists["click"])
    watches = outcome_of_lists(world, all_users, lists["watch"])
    assert watches["clickbait_share"] < 0.5 * clicks["clickbait_share"]
    assert watches["watch_minutes"] > clicks["watch_minutes"]
    assert watches["ctr"] < clicks["ctr"]
