"""The simulated streaming catalogue and shop: determinism, data contract, and the properties
the lessons rely on (long tail, metadata signal, collaborative signal, minority taste,
release dates, click model). Co-occurrence, popularity and content scoring are written out
here in a few lines of numpy so that the test does not depend on the models under test."""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.special import expit

from recsys_lessons.data import (
    GENRES,
    INTERACTION_COLUMNS,
    ITEM_COLUMNS,
    SHOP_IMPULSE,
    SHOP_MISSIONS,
    CatalogueConfig,
    Dataset,
    SimulatedWorld,
    generate_catalogue,
    generate_shop,
    interaction_matrix,
)


@pytest.fixture(scope="module")
def catalogue() -> Dataset:
    return generate_catalogue()


@pytest.fixture(scope="module")
def watched(catalogue) -> sp.csr_matrix:
    """Implicit user x item matrix aligned with the world's indices."""
    world = catalogue.world
    return interaction_matrix(
        catalogue.interactions, user_ids=world.user_ids, item_ids=world.item_ids, value=None
    ).X


@pytest.fixture(scope="module")
def shop() -> Dataset:
    return generate_shop()


def multi_hot(lists: pd.Series, vocabulary) -> np.ndarray:
    position = {name: j for j, name in enumerate(vocabulary)}
    matrix = np.zeros((len(lists), len(vocabulary)))
    rows = np.repeat(np.arange(len(lists)), lists.str.len())
    matrix[rows, [position[name] for name in lists.explode().dropna()]] = 1.0
    return matrix


def metadata_matrix(items: pd.DataFrame) -> np.ndarray:
    """Intercept, genre one-hots, tag one-hots and the provider flag of every item."""
    tags = sorted(set(items["tags"].explode()))
    return np.column_stack(
        [
            np.ones(len(items)),
            multi_hot(items["genres"], GENRES),
            multi_hot(items["tags"], tags),
            items["provider"].eq("independent").to_numpy(float),
        ]
    )


def r_squared(features: np.ndarray, targets: np.ndarray) -> float:
    coefficients, *_ = np.linalg.lstsq(features, targets, rcond=None)
    residual = targets - features @ coefficients
    return 1.0 - (residual**2).sum() / ((targets - targets.mean(axis=0)) ** 2).sum()


# ------------------------------------------------------------------ determinism and contract


def test_same_seed_gives_identical_data(catalogue):
    again = generate_catalogue(seed=42)
    pd.testing.assert_frame_equal(catalogue.interactions, again.interactions)
    pd.testing.assert_frame_equal(catalogue.items, again.items)
    pd.testing.assert_frame_equal(catalogue.users, again.users)
    np.testing.assert_array_equal(catalogue.world.item_factors, again.world.item_factors)
    np.testing.assert_array_equal(catalogue.world.user_factors, again.world.user_factors)


def test_another_seed_gives_another_world(catalogue):
    other = generate_catalogue(seed=43)
    assert not catalogue.interactions.equals(other.interactions)
    assert (catalogue.items["title"] != other.items["title"]).mean() > 0.9
    assert not np.allclose(catalogue.world.item_factors, other.world.item_factors)


def test_frames_follow_the_movielens_data_contract(catalogue):
    interactions, items, users = catalogue.interactions, catalogue.items, catalogue.users
    assert catalogue.name == "synthetic"
    assert tuple(interactions.columns) == INTERACTION_COLUMNS
    assert [interactions[c].dtype.kind for c in INTERACTION_COLUMNS] == ["i", "i", "f", "M"]
    assert interactions["timestamp"].is_monotonic_increasing
    assert interactions.index.equals(pd.RangeIndex(len(interactions)))
    assert set(interactions["rating"].unique()) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    assert not interactions.duplicated(["user_id", "item_id"]).any()

    assert items.index.name == "item_id" and users.index.name == "user_id"
    assert list(items.index) == list(range(1, 1701)) and list(users.index) == list(range(1, 1001))
    assert set(ITEM_COLUMNS) | {"tags", "description", "release_date", "provider"} <= set(items)
    assert items["year"].dtype == "Int64"
    assert items["genres"].map(lambda g: isinstance(g, list) and 1 <= len(g) <= 3).all()
    assert set(items["genres"].explode()) <= set(GENRES)
    assert items["tags"].map(lambda t: isinstance(t, list) and 2 <= len(t) <= 4).all()
    assert items["title"].is_unique and items["title"].str.len().gt(3).all()
    assert items["description"].str.match(r"^An? [a-z -]+ about .+\.$").all()
    assert set(items["provider"]) == {"studio", "independent"}
    assert (items["year"] == items["release_date"].dt.year).all()
    assert {"age_group", "region", "segment"} <= set(users)


def test_schema_matches_real_movielens_100k(catalogue, ml100k_dir):
    from recsys_lessons.data import read_ml100k

    real = read_ml100k(ml100k_dir)
    assert list(catalogue.interactions.columns) == list(real.interactions.columns)
    for column in INTERACTION_COLUMNS:
        assert catalogue.interactions[column].dtype.kind == real.interactions[column].dtype.kind
    for column in ITEM_COLUMNS:
        assert catalogue.items[column].dtype == real.items[column].dtype, column
    assert type(catalogue.items["genres"].iloc[0]) is type(real.items["genres"].iloc[0])


def test_sizes_are_as_requested():
    for n_users, n_items, n_interactions in [(1000, 1700, 100_000), (150, 400, 6000)]:
        data = generate_catalogue(
            seed=7, n_users=n_users, n_items=n_items, n_interactions=n_interactions
        )
        assert len(data.users) == n_users and len(data.items) == n_items
        assert abs(len(data.interactions) - n_interactions) <= 0.05 * n_interactions
        assert data.n_users == n_users  # every user watched something
        assert data.n_items >= 0.9 * n_items  # only a few tail titles are never watched


def test_matrix_helper_lines_up_with_the_world(catalogue, watched):
    world = catalogue.world
    ratings = interaction_matrix(
        catalogue.interactions, user_ids=world.user_ids, item_ids=world.item_ids
    )
    assert ratings.shape == (world.n_users, world.n_items) == watched.shape
    assert ratings.X.nnz == len(catalogue.interactions)
    row = catalogue.interactions.iloc[1234]
    u, i = ratings.user_index(row["user_id"])[0], ratings.item_index(row["item_id"])[0]
    assert (u, i) == (row["user_id"] - 1, row["item_id"] - 1)  # index = id - 1
    assert ratings.X[u, i] == row["rating"]
    default = interaction_matrix(catalogue.interactions)  # only items someone watched
    assert default.shape == (catalogue.n_users, catalogue.n_items)


def test_keywords_and_config_build_the_same_catalogue():
    sizes = {"n_users": 150, "n_items": 400, "n_interactions": 6000}
    by_keywords = generate_catalogue(seed=7, **sizes)
    by_config = generate_catalogue(seed=7, config=CatalogueConfig(**sizes))
    overridden = generate_catalogue(7, CatalogueConfig(**{**sizes, "n_items": 999}), n_items=400)
    for other in (by_config, overridden):
        pd.testing.assert_frame_equal(by_keywords.interactions, other.interactions)
        pd.testing.assert_frame_equal(by_keywords.items, other.items)
        pd.testing.assert_frame_equal(by_keywords.users, other.users)


def test_config_keeps_canonical_types_and_is_frozen():
    config = CatalogueConfig(n_users=np.int64(200), n_interactions=20_000, content_share=1)
    assert type(config.n_users) is int and type(config.content_share) is float
    assert config == CatalogueConfig(n_users=200, n_interactions=20_000, content_share=1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.n_users = 300


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"n_interactions": 900}, "n_interactions"),
        ({"n_users": 100, "n_items": 100, "n_interactions": 5000}, "quarter"),
        ({"n_users": 5}, "at least 10 users"),
        ({"minority_share": 0.0}, "minority_share"),
        ({"content_share": 1.5}, "content_share"),
        ({"rating_noise": 0.0}, "rating_noise"),
        ({"n_days": 20}, "n_days"),
        ({"n_factors": 8}, "n_factors must be at least 15"),
        ({"n_users": 100.0}, "n_users must be a positive integer"),
        ({"selectivity": True}, "selectivity must be a finite number"),
        ({"popularity_exponent": float("nan")}, "popularity_exponent must be a finite number"),
        ({"new_item_share": 1.0}, "new_item_share must lie in \\[0, 1\\)"),
        ({"start": "not a date"}, "start must be a date"),
        ({"n_user": 100}, "unknown catalogue knob\\(s\\) \\['n_user'\\]"),
        ({"config": {"n_users": 100}}, "config must be a CatalogueConfig"),
        ({"seed": -1}, "seed must be a whole number >= 0"),
    ],
)
def test_bad_arguments_are_explained(arguments, message):
    with pytest.raises(ValueError, match=message):
        generate_catalogue(**arguments)
    knobs = {k: v for k, v in arguments.items() if k not in ("n_user", "config", "seed")}
    if knobs:  # the config refuses the same values on its own
        with pytest.raises(ValueError, match=message):
            CatalogueConfig(**knobs)


# ------------------------------------------------------------------ the properties lessons use


def test_long_tail_top_fifth_of_items_hold_most_interactions(watched):
    counts = np.sort(np.asarray(watched.sum(axis=0)).ravel())[::-1]
    top_fifth = counts[: len(counts) // 5].sum() / counts.sum()
    assert top_fifth >= 0.5  # MovieLens 100K: 0.65


def test_independent_titles_are_under_exposed(catalogue):
    """Exposure bias: a third of the catalogue, far less of the attention."""
    provider = catalogue.items["provider"]
    watched_provider = provider.loc[catalogue.interactions["item_id"]]
    share_of_catalogue = provider.eq("independent").mean()
    assert watched_provider.eq("independent").mean() < 0.75 * share_of_catalogue


def test_metadata_explains_part_but_not_all_of_item_taste(catalogue):
    """R^2 of regressing the true item factors on genre, tag and provider one-hots.

    With ``content_share=0.5`` half of each item vector comes from metadata, so a linear
    model should recover a clear part of it (above 0.25) but far from all (below 0.75,
    the rest is what only collaborative filtering can learn). The same regression on
    shuffled metadata shows the chance level for 56 regressors and 1,700 items (about 0.03).
    """
    features = metadata_matrix(catalogue.items)
    factors = catalogue.world.item_factors
    explained = r_squared(features, factors)
    shuffled = r_squared(features[np.random.default_rng(0).permutation(len(features))], factors)
    assert 0.25 < explained < 0.75
    assert shuffled < 0.1


def test_content_share_controls_how_much_metadata_explains():
    explained = [
        r_squared(metadata_matrix(data.items), data.world.item_factors)
        for data in (
            generate_catalogue(seed=5, n_users=100, n_interactions=5000, content_share=share)
            for share in (0.1, 0.5, 0.9)
        )
    ]
    assert explained[0] < explained[1] < explained[2]


def test_genre_profile_of_a_history_predicts_true_affinity(catalogue, watched):
    """Content-based signal visible in the data: the cosine between a user's genre profile
    (genre counts of the watched titles) and an item's genres correlates with the user's
    true affinity for that item. Unrelated metadata would give a mean correlation near 0
    (each user's correlation over 1,700 items has a standard error of about 0.025)."""
    genres = multi_hot(catalogue.items["genres"], GENRES)
    profile = watched @ genres
    score = (profile / np.linalg.norm(profile, axis=1, keepdims=True)) @ (
        genres / np.linalg.norm(genres, axis=1, keepdims=True)
    ).T
    affinity = catalogue.world.true_affinity()
    score -= score.mean(axis=1, keepdims=True)
    affinity -= affinity.mean(axis=1, keepdims=True)
    per_user = (score * affinity).sum(1) / np.sqrt((score**2).sum(1) * (affinity**2).sum(1))
    assert per_user.mean() > 0.2
    assert (per_user > 0).mean() > 0.9


def test_co_occurrence_beats_popularity_on_held_out_items(watched):
    """Collaborative signal: hold out one random title per user; score the rest by
    popularity (how many users watched each item) and by item co-occurrence
    (``score(u) = sum over watched j of C[j, :]``, ``C = X^T X`` without its diagonal).
    Co-occurrence must hit the held-out title in the top 10 for more users, and the gain
    must be significant: users only co-occurrence hits (b) against users only popularity
    hits (c), sign test ``(b - c) / sqrt(b + c) > 2``."""
    rng = np.random.default_rng(0)
    X = watched.tocsr()
    held_out = X.indices[X.indptr[:-1] + (rng.random(X.shape[0]) * np.diff(X.indptr)).astype(int)]
    train = X.tolil()
    train[np.arange(X.shape[0]), held_out] = 0
    train = sp.csr_matrix(train)
    train.eliminate_zeros()

    def hits(scores: np.ndarray) -> np.ndarray:
        scores = np.array(scores, dtype=float)
        scores[train.nonzero()] = -np.inf
        top = np.argpartition(-scores, 10, axis=1)[:, :10]
        return (top == held_out[:, None]).any(axis=1)

    popularity = np.asarray(train.sum(axis=0)).ravel()
    co_occurrence = (train.T @ train).toarray()
    np.fill_diagonal(co_occurrence, 0)
    by_popularity = hits(np.broadcast_to(popularity, X.shape))
    by_co_occurrence = hits(train @ co_occurrence)
    only_co, only_pop = (
        (by_co_occurrence & ~by_popularity).sum(),
        (by_popularity & ~by_co_occurrence).sum(),
    )
    assert by_co_occurrence.mean() > by_popularity.mean() > 0.05
    assert (only_co - only_pop) / np.sqrt(only_co + only_pop) > 2


def test_minority_segment_has_distinct_taste(catalogue, watched):
    """The indie segment's genre mix differs from everybody else's: its total variation
    distance to the rest is above 0.1 and at least twice the largest distance of ten random
    same-size groups of majority users to the other majority users (sampling noise alone,
    about 0.04 +- 0.006, so twice its maximum is more than ten of its standard deviations).
    It over-represents its favourite genres and independent titles."""
    segment = catalogue.users["segment"].to_numpy()
    minority = segment == "indie"
    assert 0.09 < minority.mean() < 0.15
    genre_counts = watched @ multi_hot(catalogue.items["genres"], GENRES)

    def distance(group: np.ndarray, rest: np.ndarray) -> float:
        a, b = genre_counts[group].sum(0), genre_counts[rest].sum(0)
        return 0.5 * np.abs(a / a.sum() - b / b.sum()).sum()

    majority = np.flatnonzero(~minority)
    rng = np.random.default_rng(0)
    chance = []
    for _ in range(10):
        group = np.zeros(len(segment), bool)
        group[rng.choice(majority, minority.sum(), replace=False)] = True
        chance.append(distance(group, ~minority & ~group))
    assert distance(minority, ~minority) > max(0.1, 2 * max(chance))
    over_represented = (genre_counts[minority].sum(0) / genre_counts[minority].sum()) / (
        genre_counts[~minority].sum(0) / genre_counts[~minority].sum()
    )
    assert GENRES[over_represented.argmax()] in ("Documentary", "Horror")
    independent = watched @ catalogue.items["provider"].eq("independent").to_numpy(float)
    share = independent / np.asarray(watched.sum(axis=1)).ravel()
    assert share[minority].mean() > 2 * share[~minority].mean()


def test_no_interaction_before_its_item_is_released(catalogue):
    released = catalogue.items["release_date"].loc[catalogue.interactions["item_id"]].to_numpy()
    assert (catalogue.interactions["timestamp"].to_numpy() >= released).all()
    start = catalogue.interactions["timestamp"].min()
    new_items = catalogue.items.index[catalogue.items["release_date"] > start]
    assert len(new_items) > 0.2 * len(catalogue.items)  # new titles keep arriving
    assert catalogue.interactions["item_id"].isin(new_items).mean() > 0.05


def test_users_come_back_in_sessions(catalogue):
    events = catalogue.interactions.sort_values(["user_id", "timestamp"], kind="stable")
    gaps = events.groupby("user_id")["timestamp"].diff().dropna().dt.total_seconds() / 3600
    assert (gaps < 4).mean() > 0.4  # next title in the same evening
    assert (gaps > 24).mean() > 0.1  # coming back on another day
    first_event = events.groupby("user_id")["timestamp"].min()
    assert (catalogue.users["signup_date"] <= first_event).all()


# ------------------------------------------------------------------ the world object


def test_true_affinity_is_the_documented_formula(catalogue):
    world = catalogue.world
    users, items = np.array([0, 5, 999]), np.array([3, 1699])
    expected = np.array(
        [
            [
                world.global_mean
                + world.user_bias[u]
                + world.item_bias[i]
                + world.user_factors[u] @ world.item_factors[i]
                for i in items
            ]
            for u in users
        ]
    )
    np.testing.assert_allclose(world.true_affinity(users, items), expected)
    assert world.true_affinity().shape == (1000, 1700)


def test_expected_rating_matches_simulated_ratings(catalogue):
    world = catalogue.world
    users, items = np.array([0, 1, 2]), np.array([10, 20, 30, 40])
    affinity = world.true_affinity(users, items)
    noise = np.random.default_rng(0).normal(0, world.rating_noise, (200_000, *affinity.shape))
    simulated = np.clip(np.rint(affinity + noise), 1, 5).mean(axis=0)
    np.testing.assert_allclose(world.expected_rating(users, items), simulated, atol=0.01)


def test_simulated_ratings_average_to_the_expected_rating(catalogue):
    world = catalogue.world
    users = np.repeat([0, 1, 2], 50_000)
    shown = np.tile([10, 20, 30, 40], (len(users), 1))
    ratings = world.simulate_ratings(users, shown, seed=3)
    assert set(np.unique(ratings)) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    mean = ratings.reshape(3, 50_000, 4).mean(axis=1)
    expected = world.expected_rating([0, 1, 2], [10, 20, 30, 40])
    np.testing.assert_allclose(mean, expected, atol=0.02)
    np.testing.assert_array_equal(ratings, world.simulate_ratings(users, shown, seed=3))


def test_ideal_top_k_is_sorted_true_affinity_without_excluded_items(catalogue, watched):
    world = catalogue.world
    items, affinity = world.ideal_top_k([0, 1], k=5)
    full = world.true_affinity([0, 1])
    np.testing.assert_array_equal(items, np.argsort(-full, axis=1)[:, :5])
    np.testing.assert_allclose(affinity, np.take_along_axis(full, items, axis=1))
    unseen, _ = world.ideal_top_k(k=10, exclude=watched)
    assert watched[np.arange(1000)[:, None], unseen].nnz == 0
    with pytest.raises(ValueError, match="world.item_ids"):
        world.ideal_top_k(k=10, exclude=watched[:, :100])


def test_click_probability_is_position_times_attraction(catalogue):
    world = catalogue.world
    users, shown = np.array([3, 4]), np.array([[7, 8, 9], [9, 8, 7]])
    attraction = expit(
        (world.true_affinity(users, [7, 8, 9]) - world.CLICK_THRESHOLD) / world.CLICK_TEMPERATURE
    )
    expected = attraction / np.array([1.0, 2.0, 3.0])
    expected[1] = attraction[1, ::-1] / np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(world.click_probability(users, shown), expected)
    np.testing.assert_allclose(world.attraction_probability(users, [7, 8, 9]), attraction)


def test_simulated_clicks_show_position_bias_and_follow_taste(catalogue, watched):
    world = catalogue.world
    users = np.repeat(np.arange(world.n_users), 20)
    ideal = np.repeat(world.ideal_top_k(k=10)[0], 20, axis=0)
    clicks = world.simulate_clicks(users, ideal, seed=1)
    by_rank = clicks.mean(axis=0)
    assert by_rank[0] > 2 * by_rank[9]  # better items at the top, and examined more
    reversed_clicks = world.simulate_clicks(users, ideal[:, ::-1], seed=1).mean(axis=0)
    assert reversed_clicks[0] > by_rank[9] and by_rank[0] > reversed_clicks[9]  # position bias
    np.testing.assert_allclose(  # the empirical click rate matches the model
        by_rank, world.click_probability(users[::20], ideal[::20]).mean(axis=0), atol=0.02
    )
    random_lists = np.random.default_rng(0).integers(0, world.n_items, ideal.shape)
    assert world.simulate_clicks(users, random_lists, seed=1).mean() < 0.5 * clicks.mean()
    np.testing.assert_array_equal(clicks, world.simulate_clicks(users, ideal, seed=1))


def test_watch_time_is_zero_without_a_click_and_at_most_the_runtime(catalogue):
    world = catalogue.world
    users = np.arange(200)
    shown, _ = world.ideal_top_k(users, k=8)
    minutes = world.simulate_watch_time(users, shown, seed=4)
    np.testing.assert_array_equal(minutes > 0, world.simulate_clicks(users, shown, seed=4))
    assert (minutes <= world.runtime[shown]).all()
    assert minutes.sum() > 0


@pytest.mark.parametrize(
    "users, shown, message",
    [
        ([1000], [[1, 2]], "user indices must lie in 0..999"),
        ([0], [[1, 1700]], "item indices must lie in 0..1699"),
        ([0.5], [[1, 2]], "integer user indices"),
        ([0, 1], [1, 2], "must be 2-D \\(one ranked list"),
        ([0, 1], [[1, 2]], "one ranked list per user \\(2 rows\\)"),
    ],
)
def test_world_rejects_bad_indices_with_a_hint(catalogue, users, shown, message):
    with pytest.raises(ValueError, match=message):
        catalogue.world.simulate_clicks(users, shown)


def test_world_is_exposed_on_the_dataset(catalogue):
    world = catalogue.world
    assert isinstance(world, SimulatedWorld)
    assert world.user_ids.equals(pd.Index(sorted(catalogue.users.index)))
    assert world.item_ids.equals(pd.Index(sorted(catalogue.items.index)))
    assert np.isclose(world.exposure.sum(), 1.0)
    np.testing.assert_array_equal(world.runtime, catalogue.items["runtime"].to_numpy())


# ------------------------------------------------------------------ the outdoor shop


def test_shop_output_is_unchanged(shop):
    """Digests taken from the generator before the data modules were reorganised."""
    digest = hashlib.sha256()
    for frame in (shop.interactions, shop.items, shop.users):
        digest.update(frame.astype(str).to_csv().encode())
    assert digest.hexdigest() == "9421fefcef1f35204fe88605de8a99aa4c14148328fad6942e68de308523d4ac"


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"n_customers": 0}, "n_customers must be a positive integer"),
        ({"n_baskets": 2.5}, "n_baskets must be a positive integer"),
        ({"products_per_category": 1000}, "products_per_category must lie in 1.."),
        ({"n_days": True}, "n_days must be a positive integer"),
        ({"seed": "x"}, "seed must be a whole number"),
    ],
)
def test_shop_bad_arguments_are_explained(arguments, message):
    with pytest.raises(ValueError, match=message):
        generate_shop(**arguments)


def test_shop_is_deterministic_and_follows_the_contract(shop):
    pd.testing.assert_frame_equal(shop.interactions, generate_shop(seed=42).interactions)
    assert not shop.interactions.equals(generate_shop(seed=1).interactions)
    frame = shop.interactions
    assert tuple(frame.columns[:4]) == INTERACTION_COLUMNS and "basket_id" in frame
    assert frame["timestamp"].is_monotonic_increasing and (frame["rating"] == 1.0).all()
    assert not frame.duplicated(["basket_id", "item_id"]).any()
    per_basket = frame.groupby("basket_id")[["user_id", "timestamp"]].nunique()
    assert (per_basket == 1).all().all()  # one customer, one moment per basket
    assert frame["basket_id"].max() == 20_000 and frame["basket_id"].is_monotonic_increasing
    assert set(ITEM_COLUMNS) | {"category", "brand", "price"} <= set(shop.items)
    assert shop.items["title"].is_unique
    released = shop.items["release_date"].loc[frame["item_id"]].to_numpy()
    assert (frame["timestamp"].to_numpy() >= released).all()


def category_pairs(shop: Dataset) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Baskets x categories co-occurrence counts and lift ``P(a, b) / (P(a) P(b))``."""
    category = shop.items["category"].loc[shop.interactions["item_id"]].to_numpy()
    baskets = pd.crosstab(shop.interactions["basket_id"].to_numpy(), category).clip(upper=1)
    counts = baskets.T @ baskets
    support = np.diag(counts)
    lift = counts * len(baskets) / np.outer(support, support)
    return counts, lift


def test_shop_bought_together_lists_recover_the_missions(shop):
    counts, lift = category_pairs(shop)
    boots = lift["hiking boots"].drop("hiking boots")
    top_three = boots[counts["hiking boots"].drop("hiking boots") >= 30].nlargest(3).index
    assert set(top_three) <= set(SHOP_MISSIONS["hiking"])
    assert {"hiking socks", "gaiters", "daypack"} & set(top_three)


def test_shop_impulse_buys_fool_raw_counts_but_not_lift(shop):
    counts, lift = category_pairs(shop)
    raw = counts["yoga mat"].drop("yoga mat").nlargest(3).index
    assert set(raw) & set(SHOP_IMPULSE)  # the water bottle sells with everything
    yoga = [c for c in SHOP_MISSIONS["yoga"] if c != "yoga mat"]
    for impulse in SHOP_IMPULSE:
        assert lift.loc[impulse, "yoga mat"] < 1.5 < lift.loc[yoga, "yoga mat"].min()
