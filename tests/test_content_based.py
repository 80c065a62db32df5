"""Tests for recsys_lessons.models.content_based: features, profiles, scores and explanations
checked by hand, then the three real item tables (MovieLens 100K, Latest Small, synthetic)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys_lessons.data import interaction_matrix
from recsys_lessons.models.content_based import ContentBased, build_item_features

S2 = math.sqrt(2)

# Genre columns are sorted: Comedy, Drama, Mystery. Unit genre vectors:
# f0 = f3 = (0, 1/sqrt2, 1/sqrt2), f1 = (0, 1, 0), f2 = f4 = (1, 0, 0), f5 = (0, 0, 1).
GENRES = [
    ["Mystery", "Drama"],
    ["Drama"],
    ["Comedy"],
    ["Drama", "Mystery"],
    ["Comedy"],
    ["Mystery"],
]
TITLES = [
    "Night Harbor Mystery",
    "Harbor Lights",
    "Space Laughs",
    "Dark Harbor",
    "The Joke (1999)",
    "Harbor 2",
]


def catalogue() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "title": TITLES,
            "genres": GENRES,
            "year": [1990, 1991, 1992, 1993, 1999, 2001],
            "tags": [["noir", "slow burn"], ["slow burn"], ["funny", "Noir"], ["noir"], [], None],
            "description": [
                "A detective in a harbor town.",
                "A family drama in a harbor town.",
                "Astronauts tell jokes.",
                "The detective returns to the harbor.",
                "Jokes, jokes and more jokes.",
                np.nan,
            ],
        },
        index=pd.Index(range(101, 107), name="item_id"),
    )


# user 0 rated item 0 = 5 and item 2 = 1 (mean 3, weights +2 and -2 -> +0.5, -0.5);
# user 1 rated items 1 and 2 with 4 each (all equal: plain mean, weights 0.5, 0.5).
# Item 5 has no interactions at all.
RATINGS = sp.csr_matrix(
    np.array(
        [
            [5, 0, 1, 0, 0, 0],
            [0, 4, 4, 0, 0, 0],
            [0, 0, 0, 0, 3, 0],
        ],
        dtype=float,
    )
)
GENRES_ONLY = {"genres": 1.0}


# --- build_item_features -----------------------------------------------------------------------


def test_genres_are_one_hot_and_unit_length():
    features = build_item_features(catalogue(), GENRES_ONLY)
    assert features.names.tolist() == ["Comedy", "Drama", "Mystery"]
    assert set(features.blocks) == {"genres"}
    expected = np.array(
        [[0, 1 / S2, 1 / S2], [0, 1, 0], [1, 0, 0], [0, 1 / S2, 1 / S2], [1, 0, 0], [0, 0, 1]]
    )
    np.testing.assert_allclose(features.matrix.toarray(), expected)


def test_tags_are_tfidf_with_smoothed_idf():
    # 6 items; df(noir) = 3 (items 0, 2, 3, case-folded), df(slow burn) = 2, df(funny) = 1.
    # idf(t) = ln((1 + 6) / (1 + df)) + 1.
    features = build_item_features(catalogue(), {"tags": 1.0}, min_df=1)
    assert features.names.tolist() == ["funny", "noir", "slow burn"]
    idf = {t: math.log(7 / (1 + df)) + 1 for t, df in [("funny", 1), ("noir", 3), ("slow burn", 2)]}
    item2 = np.array([idf["funny"], idf["noir"], 0.0])
    item0 = np.array([0.0, idf["noir"], idf["slow burn"]])
    matrix = features.matrix.toarray()
    np.testing.assert_allclose(matrix[2], item2 / np.linalg.norm(item2))
    np.testing.assert_allclose(matrix[0], item0 / np.linalg.norm(item0))
    assert not matrix[4].any() and not matrix[5].any()  # empty list and None


def test_words_skip_stop_words_digits_and_rare_words():
    features = build_item_features(catalogue(), {"title": 1.0}, min_df=2)
    assert features.names.tolist() == ["harbor"]  # in 4 titles; "the", "1999", "2" never count
    all_words = build_item_features(catalogue(), {"title": 1.0}, min_df=1).names.tolist()
    assert "the" not in all_words and "1999" not in all_words
    assert {"night", "harbor", "mystery", "joke", "laughs"} <= set(all_words)


def test_weights_make_the_dot_product_a_weighted_sum_of_block_cosines():
    items = catalogue().iloc[:4]  # every one of these has all four blocks
    weights = {"genres": 2.0, "tags": 0.5, "title": 1.0, "description": 3.0}
    combined = build_item_features(items, weights, min_df=1).matrix
    expected = sum(
        weight * (block @ block.T).toarray()
        for name, weight in weights.items()
        for block in [build_item_features(items, {name: 1.0}, min_df=1).matrix]
    )
    np.testing.assert_allclose((combined @ combined.T).toarray(), expected)


def test_default_weights_use_the_columns_that_exist():
    items = catalogue()[["title", "genres", "year"]]
    features = build_item_features(items)
    assert set(features.blocks) == {"genres", "title"}
    assert repr(features).startswith("ItemFeatures(6 items x ")


@pytest.mark.parametrize(
    "weights, message",
    [
        ({"mood": 1.0}, "unknown feature block"),
        ({"genres": -1.0}, r"weight of 'genres' must lie in \[0, inf\)"),
        ({"genres": "high"}, "weight of 'genres' must be a finite number"),
        ({"genres": 0.0}, "every feature weight is 0"),
    ],
)
def test_bad_weights_raise(weights, message):
    with pytest.raises(ValueError, match=message):
        build_item_features(catalogue(), weights)


def test_missing_column_raises_with_a_hint():
    with pytest.raises(ValueError, match="no 'tags' column"):
        build_item_features(catalogue()[["title", "genres"]], {"genres": 1.0, "tags": 1.0})
    with pytest.raises(ValueError, match="pandas DataFrame"):
        build_item_features([["Drama"]])
    with pytest.raises(ValueError, match="min_df must be a positive integer"):
        build_item_features(catalogue(), min_df=0)
    bare = pd.DataFrame({"title": ["The 1", "A 2"], "genres": [[], []], "tags": [None, []]})
    with pytest.raises(ValueError, match="no item has any feature"):
        build_item_features(bare)


def test_blocks_without_any_feature_are_left_empty():
    items = pd.DataFrame(
        {"title": ["Dark Harbor", "Harbor"], "genres": [[], []], "tags": [[], None]}
    )
    features = build_item_features(items)
    assert features.names.tolist() == ["harbor"]
    np.testing.assert_allclose(features.matrix.toarray(), [[1.0], [1.0]])


# --- ContentBased ------------------------------------------------------------------------------


def test_centered_profile_and_cosine_scores_by_hand():
    # p_0 = 0.5 f0 - 0.5 f2 = (-0.5, 0.354, 0.354), |p_0| = sqrt(0.5).
    # score(0, 3) = (0.354 * 0.707 * 2) / 0.707 = 1/sqrt2; score(0, 1) = 0.354 / 0.707 = 1/2;
    # score(0, 4) = -0.5 / 0.707 = -1/sqrt2; score(0, 5) = 1/2 (new item, never watched).
    model = ContentBased(catalogue(), GENRES_ONLY).fit(RATINGS)
    np.testing.assert_allclose(model.profiles_[0].toarray(), [[-0.5, 0.5 / S2, 0.5 / S2]])
    scores = model.score([0])[0]
    np.testing.assert_allclose(scores[[1, 3, 4, 5]], [0.5, 1 / S2, -1 / S2, 0.5])
    items, top = model.recommend([0], k=3)
    assert items.tolist() == [[3, 1, 5]]  # seen items 0 and 2 excluded; 1 and 5 tie -> lower index
    np.testing.assert_allclose(top, [[1 / S2, 0.5, 0.5]])


def test_equal_ratings_fall_back_to_the_plain_mean():
    # user 1: ratings 4 and 4 -> weights 1/2, 1/2: p_1 = (0.5, 0.5, 0), |p_1| = 1/sqrt2.
    model = ContentBased(catalogue(), GENRES_ONLY).fit(RATINGS)
    np.testing.assert_allclose(model.profile_weights_[1].toarray(), [[0, 0.5, 0.5, 0, 0, 0]])
    scores = model.score([1])[0]
    np.testing.assert_allclose(scores[[0, 4]], [0.5, 1 / S2])
    implicit = RATINGS.copy()
    implicit.data[:] = 1.0
    implicit_model = ContentBased(catalogue(), GENRES_ONLY).fit(implicit)
    np.testing.assert_allclose(implicit_model.profile_weights_.toarray()[0], [0.5, 0, 0.5, 0, 0, 0])


def test_uncentered_profile_ignores_the_ratings():
    # center=False: p_0 = 0.5 f0 + 0.5 f2, so the disliked comedy now attracts: score(0, 4) > 0.
    model = ContentBased(catalogue(), GENRES_ONLY, center=False).fit(RATINGS)
    assert model.score([0])[0, 4] == pytest.approx(1 / S2)
    np.testing.assert_allclose(model.profile_weights_[0].toarray(), [[0.5, 0, 0.5, 0, 0, 0]])


def test_scores_are_cosines_between_profile_and_items():
    X = sp.random(30, 6, density=0.4, format="csr", random_state=np.random.default_rng(1))
    X.data = np.ceil(5 * X.data)
    model = ContentBased(catalogue(), min_df=1).fit(X)
    profiles = model.profiles_.toarray()
    vectors = model.features_.matrix.toarray()
    norms = np.linalg.norm(profiles, axis=1, keepdims=True) * np.linalg.norm(vectors, axis=1)
    expected = np.divide(profiles @ vectors.T, norms, out=np.zeros((30, 6)), where=norms > 0)
    np.testing.assert_allclose(model.score(), expected, atol=1e-12)
    assert (np.abs(model.score()) <= 1 + 1e-12).all()


def test_explain_by_hand():
    model = ContentBased(catalogue(), GENRES_ONLY).fit(RATINGS)
    why = model.explain(0, 3)
    assert why.score == pytest.approx(1 / S2)
    # by item: item 0 gives 0.5 * (f0 . f3 = 1) / |p| = 1/sqrt2; item 2 gives -0.5 * 0 = 0.
    assert why.items["item"].tolist() == [0]
    assert why.items["title"].tolist() == ["Night Harbor Mystery"]
    np.testing.assert_allclose(why.items["contribution"], [1 / S2])
    # by feature: Drama and Mystery each 0.354 * 0.707 / 0.707
    assert why.features["feature"].tolist() == ["Drama", "Mystery"]
    np.testing.assert_allclose(why.features["contribution"], [0.5 / S2, 0.5 / S2])
    assert str(why) == (
        "'Dark Harbor' (score 0.707) is recommended because you liked 'Night Harbor Mystery'; "
        "shared genres: Drama, Mystery."
    )


def test_explain_says_when_nothing_liked_is_similar():
    model = ContentBased(catalogue(), GENRES_ONLY).fit(RATINGS)
    why = model.explain(0, 4)  # a comedy, like the film user 0 rated 1 star
    assert why.score == pytest.approx(-1 / S2)
    assert why.items["contribution"].tolist() == pytest.approx([-1 / S2])
    assert "nothing you liked shares its metadata" in why.text


def test_explanations_sum_to_the_score_with_every_block():
    X = sp.random(40, 6, density=0.5, format="csr", random_state=np.random.default_rng(2))
    X.data = np.ceil(5 * X.data)
    model = ContentBased(catalogue(), min_df=1).fit(X)
    scores = model.score()
    for user in range(10):
        for item in range(6):
            why = model.explain(user, item)
            assert why.score == pytest.approx(scores[user, item])
            assert why.items["contribution"].sum() == pytest.approx(scores[user, item], abs=1e-12)
            assert why.features["contribution"].sum() == pytest.approx(
                scores[user, item], abs=1e-12
            )


def test_similar_items_uses_metadata_only():
    model = ContentBased(catalogue(), GENRES_ONLY).fit(RATINGS)
    items, scores = model.similar_items(5, n=10)  # Mystery only, never watched
    assert items.tolist() == [0, 3]
    np.testing.assert_allclose(scores, [1 / S2, 1 / S2])


def test_items_must_align_with_the_matrix():
    with pytest.raises(ValueError, match="one row per column of X"):
        ContentBased(catalogue().iloc[:5]).fit(RATINGS)
    with pytest.raises(ValueError, match="not fitted"):
        ContentBased(catalogue()).explain(0, 0)
    model = ContentBased(catalogue()).fit(RATINGS)
    with pytest.raises(ValueError, match="out of range"):
        model.explain(0, 6)


def test_get_params():
    items = catalogue()
    params = ContentBased(items, {"genres": 2.0}, min_df=3, center=False).get_params()
    assert params["items"] is items
    assert params["feature_weights"] == {"genres": 2.0}
    assert (params["min_df"], params["center"]) == (3, False)


# --- real item tables --------------------------------------------------------------------------


def fit_on(dataset, extra_row=None):
    matrix = interaction_matrix(dataset.interactions)
    X = matrix.X if extra_row is None else sp.vstack([matrix.X, extra_row], format="csr")
    items = dataset.items.reindex(matrix.item_ids)
    return ContentBased(items).fit(X), items


def test_two_mystery_dramas_on_movielens_100k(ml100k_dir):
    """The lesson's seed example: a new user who watched two mystery dramas."""
    from recsys_lessons.data import read_ml100k

    dataset = read_ml100k(ml100k_dir)
    items = dataset.items.sort_index()
    is_mystery_drama = items["genres"].map(lambda g: {"Mystery", "Drama"} <= set(g))
    liked = np.flatnonzero(is_mystery_drama.to_numpy())[:2]
    row = sp.csr_matrix((np.full(2, 5.0), ([0, 0], liked)), shape=(1, len(items)))
    model, items = fit_on(dataset, row)
    assert set(model.features_.blocks) == {"genres", "title"}
    user = model.n_users_ - 1
    recommended, _ = model.recommend([user], k=10)
    assert not set(recommended[0]) & set(liked)
    assert all({"Mystery", "Drama"} & set(g) for g in items["genres"].iloc[recommended[0]])
    why = model.explain(user, int(recommended[0, 0]))
    liked_titles = set(items["title"].iloc[liked])
    assert set(why.items["title"]) <= liked_titles
    assert any(title in why.text for title in liked_titles)
    assert "shared genres:" in why.text


def test_tags_explain_recommendations_on_movielens_latest_small(ml_latest_small_dir):
    from recsys_lessons.data import read_ml_latest_small

    model, _ = fit_on(read_ml_latest_small(ml_latest_small_dir))
    assert set(model.features_.blocks) == {"genres", "tags", "title"}
    recommended, scores = model.recommend(np.arange(50), k=5)
    tag_reasons = 0
    for user in range(50):
        why = model.explain(user, int(recommended[user, 0]))
        assert why.features["contribution"].sum() == pytest.approx(scores[user, 0], abs=1e-9)
        tag_reasons += "shared tags:" in why.text
    assert tag_reasons > 0


def test_every_block_on_the_synthetic_catalogue():
    from recsys_lessons.data import generate_catalogue

    dataset = generate_catalogue(seed=3, n_users=200, n_items=300, n_interactions=6000)
    model, _ = fit_on(dataset)
    assert set(model.features_.blocks) == {"genres", "tags", "title", "description"}
    recommended, scores = model.recommend(k=10)
    assert (scores[:, 0] > 0).all()
    why = model.explain(0, int(recommended[0, 0]))
    assert why.text.count("shared") >= 2


def test_items_without_any_metadata_column_say_which_columns_were_looked_for():
    with pytest.raises(ValueError, match="none of the metadata columns.*genres, tags, title"):
        build_item_features(pd.DataFrame({"name": ["a", "b"], "year": [1995, 1996]}))


def test_genres_written_as_one_pipe_separated_string_are_split():
    as_strings = pd.DataFrame({"genres": ["Drama|Comedy", "Comedy", "Drama"]})
    as_lists = pd.DataFrame({"genres": [["Drama", "Comedy"], ["Comedy"], ["Drama"]]})
    features = build_item_features(as_strings)
    assert features.names.tolist() == ["Comedy", "Drama"]
    np.testing.assert_array_equal(
        features.matrix.toarray(), build_item_features(as_lists).matrix.toarray()
    )
