"""Lesson 07's opt-in extras of the simulated catalogue: session focus and clickbait.

Both draw from their own generators, so the default output of every seed is unchanged; the
digests below were taken from the generator before the extras existed."""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from recsys_lessons.data import GENRES, CatalogueConfig, generate_catalogue

SMALL = {"n_users": 200, "n_items": 300, "n_interactions": 8000}


def frames_digest(dataset) -> str:
    digest = hashlib.sha256()
    for frame in (dataset.interactions, dataset.items, dataset.users):
        digest.update(frame.astype(str).to_csv().encode())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def default():
    return generate_catalogue()


@pytest.fixture(scope="module")
def with_clickbait():
    return generate_catalogue(clickbait_share=0.2)


@pytest.mark.parametrize(
    "seed, sizes, expected",
    [
        (42, {}, "e676304d9d054ecabf7f766e11d59b52eeda93de777a538bccda271ad52f7934"),
        (7, SMALL, "8fae56e87f7415a07c5c3455d5e30a4221c8be1f2d2689db1caad27a5c0ba5ee"),
    ],
)
def test_default_output_is_unchanged(seed, sizes, expected, default):
    dataset = default if seed == 42 else generate_catalogue(seed=seed, **sizes)
    assert frames_digest(dataset) == expected
    assert dataset.world.clickbait is None and "clickbait" not in dataset.items.columns


def test_every_knob_reaches_the_generator():
    """Every field of CatalogueConfig set away from its default; the digest was taken from
    the generator before its knobs moved into CatalogueConfig."""
    config = CatalogueConfig(
        n_users=120, n_items=250, n_interactions=5000, n_factors=18, content_share=0.3,
        popularity_exponent=1.1, selectivity=3.0, rating_noise=0.6, minority_share=0.2,
        new_item_share=0.4, start="2020-03-15", n_days=400, position_bias=0.8,
        session_focus=0.5, clickbait_share=0.15,
    )  # fmt: skip
    defaults = CatalogueConfig()
    assert all(
        getattr(config, f.name) != getattr(defaults, f.name) for f in dataclasses.fields(config)
    )
    dataset = generate_catalogue(seed=11, config=config)
    expected = "de285729e5e19f425ec26a4899e415578040833a27840965c4c2eb18a9928e2a"
    assert frames_digest(dataset) == expected
    world = dataset.world
    assert (world.rating_noise, world.position_bias) == (0.6, 0.8)
    assert world.item_factors.shape == (250, 18)


def test_clickbait_leaves_the_history_alone(default, with_clickbait):
    pd.testing.assert_frame_equal(default.interactions, with_clickbait.interactions)
    pd.testing.assert_frame_equal(default.items, with_clickbait.items.drop(columns="clickbait"))
    flags = with_clickbait.world.clickbait
    assert flags.dtype == bool and 0.15 < flags.mean() < 0.25
    np.testing.assert_array_equal(with_clickbait.items["clickbait"].to_numpy(), flags)


def test_clickbait_attracts_clicks_by_the_documented_formula(default, with_clickbait):
    world, plain = with_clickbait.world, default.world
    users = np.arange(50)
    shown = np.tile(np.arange(10), (50, 1))
    affinity = world.true_affinity(users, np.arange(10))
    pull = world.CLICKBAIT_PULL * world.clickbait[:10]
    expected = expit((affinity + pull - world.CLICK_THRESHOLD) / world.CLICK_TEMPERATURE)
    np.testing.assert_allclose(
        world.click_probability(users, shown), expected * world.examination_probability(10)
    )
    more = world.click_probability(users, shown) > plain.click_probability(users, shown)
    np.testing.assert_array_equal(more.any(axis=0), world.clickbait[:10])


def old_attraction(world, users, items):
    """How lesson 10 and benchmarks.exploration computed click chances before the world's
    attraction_probability: from the class constants, blind to clickbait."""
    affinity = world.true_affinity(users, items)
    return expit((affinity - world.CLICK_THRESHOLD) / world.CLICK_TEMPERATURE)


def test_attraction_probability_matches_simulated_clicks_with_clickbait(with_clickbait):
    """Show each (user, item) pair alone in the top slot (always examined) 3,000 times: the
    click frequency must match attraction_probability (clickbait included) within 4.5
    standard errors for all 400 pairs, and be far from the constants-only recomputation on
    the clickbait titles (which agrees with the world on the honest ones)."""
    world = with_clickbait.world
    bait = np.flatnonzero(world.clickbait)[:10]
    honest = np.flatnonzero(~world.clickbait)[:10]
    items = np.r_[bait, honest]
    users = np.arange(20)
    repeats = 3000
    shown_users = np.repeat(np.repeat(users, len(items)), repeats)
    shown_items = np.repeat(np.tile(items, len(users)), repeats)[:, None]
    clicks = world.simulate_clicks(shown_users, shown_items, seed=5)
    frequency = clicks.reshape(len(users), len(items), repeats).mean(axis=2)

    truth = world.attraction_probability(users, items)
    standard_error = np.sqrt(truth * (1 - truth) / repeats)
    assert (np.abs(frequency - truth) < 4.5 * standard_error + 1e-3).all()

    old = old_attraction(world, users, items)
    np.testing.assert_allclose(old[:, 10:], truth[:, 10:])  # honest titles: same numbers
    old_error = np.sqrt(old * (1 - old) / repeats)
    off = np.abs(frequency - old)[:, :10] / np.maximum(old_error, 1e-3)[:, :10]
    assert np.median(off) > 10  # the recomputation misses clickbait's pull


def test_click_probability_is_examination_times_attraction(with_clickbait):
    world = with_clickbait.world
    users = np.array([0, 1, 2])
    shown = np.array([[5, 9, 1, 7], [7, 1, 9, 5], [1, 5, 7, 9]])
    attraction = world.attraction_probability(users, [1, 5, 7, 9])
    column = {1: 0, 5: 1, 7: 2, 9: 3}
    expected = (
        world.examination_probability(4)
        * attraction[np.arange(3)[:, None], np.vectorize(column.get)(shown)]
    )
    np.testing.assert_allclose(world.click_probability(users, shown), expected)
    assert world.attraction_probability().shape == (world.n_users, world.n_items)


def test_expected_watch_time_matches_simulation_and_punishes_clickbait(with_clickbait):
    world = with_clickbait.world
    bait = np.flatnonzero(world.clickbait)[:5]
    honest = np.flatnonzero(~world.clickbait)[:5]
    users = np.repeat(np.arange(300), 40)
    shown = np.tile(np.r_[bait, honest], (len(users), 1))
    simulated = world.simulate_watch_time(users, shown, seed=2)
    expected = world.expected_watch_time(users[::40], shown[::40])
    per_impression = simulated.reshape(300, 40, 10).transpose(0, 2, 1).reshape(-1, 40)
    difference = per_impression.mean(axis=1) - expected.ravel()
    standard_error = simulated.std() / np.sqrt(simulated.size)
    assert abs(difference.mean()) < 4 * standard_error  # Monte Carlo agrees with the formula
    minutes_per_click = simulated.sum(0) / np.maximum((simulated > 0).sum(0), 1)
    assert minutes_per_click[:5].mean() < 0.5 * minutes_per_click[5:].mean()


def test_plain_world_expected_watch_time_is_the_documented_mean(default):
    world = default.world
    users, shown = np.array([1, 2]), np.array([[3, 4], [5, 6]])
    completion = np.clip(expit((world.true_affinity([1, 2], [3, 4, 5, 6]) - 3.0) / 0.7), 0.01, 0.99)
    completion = np.array([completion[0, :2], completion[1, 2:]])
    expected = world.click_probability(users, shown) * world.runtime[shown] * completion
    np.testing.assert_allclose(world.expected_watch_time(users, shown), expected)


def same_genre_share(dataset, gap_hours=4) -> float:
    """Share of consecutive events inside one session whose primary genres match."""
    events = dataset.interactions.sort_values(["user_id", "timestamp", "item_id"])
    genre = dataset.items["genres"].str[0].loc[events["item_id"]].to_numpy()
    same_user = events["user_id"].to_numpy()[1:] == events["user_id"].to_numpy()[:-1]
    gap = np.diff(events["timestamp"].to_numpy()) / np.timedelta64(1, "h")
    in_session = same_user & (gap < gap_hours)
    return (genre[1:] == genre[:-1])[in_session].mean()


def test_session_focus_groups_a_genre_into_sessions_and_keeps_the_rest(default):
    focused = generate_catalogue(session_focus=1.0)
    columns = ["user_id", "item_id", "rating"]
    pd.testing.assert_frame_equal(  # same titles and ratings, only the times move
        default.interactions[columns].sort_values(columns, ignore_index=True),
        focused.interactions[columns].sort_values(columns, ignore_index=True),
    )
    assert same_genre_share(focused) > 2 * same_genre_share(default)
    released = focused.items["release_date"].loc[focused.interactions["item_id"]].to_numpy()
    assert (focused.interactions["timestamp"].to_numpy() >= released).all()
    assert set(focused.items["genres"].str[0]) <= set(GENRES)


@pytest.mark.parametrize("arguments", [{"clickbait_share": 1.5}, {"session_focus": -0.1}])
def test_bad_shares_are_explained(arguments):
    with pytest.raises(ValueError, match="must lie in \\[0, 1\\]"):
        generate_catalogue(**SMALL, **arguments)
