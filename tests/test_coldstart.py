"""Cold start helpers: attributes, the attribute-to-factor map, segment popularity,
onboarding questions, and the models' fold-in of new users (ALS checked against implicit)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from scipy.stats import entropy as scipy_entropy
from threadpoolctl import threadpool_limits

from recsys_lessons.coldstart import (
    AttributeMapping,
    PredictedPopularity,
    SegmentPopularity,
    cold_item_exposure,
    item_attributes,
    item_entropy,
    onboarding_answers,
    question_order,
    segment_labels,
)
from recsys_lessons.data import interaction_matrix, load_dataset
from recsys_lessons.evaluation import cold_item_split, evaluate_cold_items
from recsys_lessons.models import ALS, EASE, ContentBased, ItemKNN, als_fold_in, implicit_models

# ------------------------------------------------------------------ fixtures


def random_binary(n_users=60, n_items=30, density=0.2, seed=0):
    rng = np.random.default_rng(seed)
    X = (rng.random((n_users, n_items)) < density).astype(np.float32)
    X[np.arange(n_users), rng.integers(0, n_items, n_users)] = 1.0  # nobody is empty
    return sp.csr_matrix(X)


ITEMS = pd.DataFrame(
    {
        "genres": [["Drama"], ["Comedy", "Drama"], [], ["Comedy"]],
        "tags": [["dark"], ["dark", "funny"], ["funny"], None],
        "provider": ["studio", "studio", "independent", "studio"],
        "year": pd.array([1990, 1995, 1995, None], dtype="Int64"),
        "release_date": pd.to_datetime(["1990-01-01", "1995-06-01", "1997-12-01", None]),
    },
    index=pd.Index([11, 12, 13, 14], name="item_id"),
)


# ------------------------------------------------------------------ item_attributes


def test_item_attributes_hand_computed():
    attributes = item_attributes(ITEMS, now="1998-01-30", year_bands=2, min_items=2)
    assert attributes.index.equals(ITEMS.index)
    # provider=independent is held by one item only and dropped (min_items=2)
    expected_columns = [
        "genre=Comedy",
        "genre=Drama",
        "tag=dark",
        "tag=funny",
        "provider=studio",
        "year=<1995",
        "year=>=1995",
    ] + [f"released={band}" for band in ("<60d", "60-119d", "120-239d", "240-364d")]
    assert list(attributes.columns[: len(expected_columns)]) == expected_columns
    row = attributes.loc[12]
    assert row["genre=Comedy"] == row["genre=Drama"] == row["tag=funny"] == 1.0
    assert row["year=>=1995"] == 1.0 and row["year=<1995"] == 0.0
    assert row["released=730-1499d"] == 1.0  # 974 days before now
    assert attributes.loc[13, "released=60-119d"] == 1.0  # exactly 60 days
    assert attributes.loc[11, "released=1500-3649d"] == 1.0  # 2951 days
    # item 14 has no year and no release date: no band at all, not a wrong one
    assert attributes.loc[14].filter(like="year=").sum() == 0
    assert attributes.loc[14].filter(like="released=").sum() == 0
    assert set(np.unique(attributes.to_numpy())) <= {0.0, 1.0}


def test_item_attributes_without_now_has_no_release_band_and_rejects_empty_metadata():
    assert not item_attributes(ITEMS).columns.str.startswith("released=").any()
    with pytest.raises(ValueError, match="no usable metadata"):
        item_attributes(pd.DataFrame({"title": ["a", "b"]}))
    with pytest.raises(ValueError, match="year_bands"):
        item_attributes(ITEMS, year_bands=0)


# ------------------------------------------------------------------ AttributeMapping


def ridge_with_intercept(A, Y, alpha):
    """Closed form of scikit-learn's Ridge: centre, solve, add the intercept back."""
    a_mean, y_mean = A.mean(axis=0), Y.mean(axis=0)
    Ac, Yc = A - a_mean, Y - y_mean
    W = np.linalg.solve(Ac.T @ Ac + alpha * np.eye(A.shape[1]), Ac.T @ Yc)
    return lambda new: (new - a_mean) @ W + y_mean


@pytest.mark.parametrize(
    "base", [ALS(factors=4, iterations=3, regularization=1.0), EASE(regularization=5.0)]
)
def test_mapping_is_ridge_on_warm_items_and_scores_cold_items_with_mapped_vectors(base):
    X = random_binary().tolil()
    cold = [3, 17, 25]
    X[:, cold] = 0
    X = sp.csr_matrix(X)
    attributes = np.random.default_rng(1).random((X.shape[1], 5))
    model = AttributeMapping(base, attributes, alpha=2.0).fit(X)
    warm = np.setdiff1d(np.arange(X.shape[1]), cold)
    np.testing.assert_array_equal(model.warm_items_, warm)
    reference = ridge_with_intercept(attributes[warm], model.item_vectors_[warm], 2.0)
    np.testing.assert_allclose(model.mapped_vectors_, reference(attributes), atol=1e-8)
    scores = model.score()
    base_scores = model.base_.score()
    np.testing.assert_allclose(scores[:, warm], base_scores[:, warm], atol=1e-5)
    user_vectors = model.user_vectors_
    expected_cold = np.asarray(user_vectors @ model.mapped_vectors_[cold].T)
    np.testing.assert_allclose(scores[:, cold], expected_cold, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(
        model.score_mapped(), np.asarray(user_vectors @ model.mapped_vectors_.T), atol=1e-8
    )


def test_mapping_recovers_vectors_that_are_linear_in_the_attributes():
    # an EASE whose item vectors (columns of B) the attributes explain exactly up to the
    # ridge shrinkage: with a tiny alpha the map must reproduce them on cold items too
    X = random_binary(n_items=12, density=0.4)
    base = EASE(regularization=10.0).fit(X)
    attributes = base.weights_.T.copy()  # attribute = the vector itself
    model = AttributeMapping(EASE(regularization=10.0), attributes, alpha=1e-8).fit(X)
    np.testing.assert_allclose(model.mapped_vectors_, base.weights_.T, atol=1e-5)


def test_mapping_rejects_bad_input():
    X = random_binary()
    with pytest.raises(ValueError, match="ALS or EASE"):
        AttributeMapping(ItemKNN(), np.ones((30, 2))).fit(X)
    with pytest.raises(ValueError, match="one row per item"):
        AttributeMapping(EASE(), np.ones((29, 2))).fit(X)
    with pytest.raises(ValueError, match="alpha must lie in"):
        AttributeMapping(EASE(), np.ones((30, 2)), alpha=0).fit(X)
    with pytest.raises(ValueError, match="NaN"):
        AttributeMapping(EASE(), np.full((30, 2), np.nan)).fit(X)


def test_mapping_beats_content_based_on_cold_items_of_the_simulated_catalogue():
    data = load_dataset("synthetic", seed=3)
    full = interaction_matrix(data.interactions, value=None)
    items = data.items.reindex(full.item_ids)
    train, test = cold_item_split(data.interactions, 0.2, seed=0)
    train_X, test_X = full.like(train, value=None).X, full.like(test, value=None).X
    cold = full.item_index(test["item_id"].unique())
    attributes = item_attributes(items, now=train["timestamp"].max())
    scores = {
        "mapping": AttributeMapping(ALS(factors=32), attributes, alpha=10.0).fit(train_X).score(),
        "content": ContentBased(items, feature_weights={"genres": 1.0, "tags": 1.0})
        .fit(train_X)
        .score(),
        "predicted popularity": PredictedPopularity(attributes).fit(train_X).score(),
    }
    table = evaluate_cold_items(scores, test_X, cold, metrics=("ndcg",))["ndcg@10"]
    assert table["mapping"] > table["content"] > table["predicted popularity"]


# ------------------------------------------------------------------ PredictedPopularity


def test_predicted_popularity_hand_computed():
    # items 0..2 watched by 1, 3 and 7 users; item 3 is cold. One attribute = log(1 + count)
    counts = [1, 3, 7, 0]
    rows = np.concatenate([np.arange(c) for c in counts])
    cols = np.repeat(np.arange(4), counts)
    X = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(7, 4))
    attributes = np.log1p(np.array([[1.0], [3.0], [7.0], [15.0]]))
    model = PredictedPopularity(attributes, alpha=1e-9).fit(X)
    np.testing.assert_allclose(model.predicted_, np.log1p([1, 3, 7, 15]), atol=1e-6)
    np.testing.assert_allclose(
        model.score([0, 5]), np.tile(np.log1p([1, 3, 7, 15]), (2, 1)), atol=1e-6
    )


# ------------------------------------------------------------------ segments


def test_segment_labels_bands_ages_and_joins_columns():
    users = pd.DataFrame({"age": [17, 25, 34, 60, np.nan], "gender": ["F", "M", "F", "M", "F"]})
    labels = segment_labels(users, ["age", "gender"])
    assert labels.tolist() == ["<25|F", "25-34|M", "25-34|F", "55+|M", "unknown"]
    assert segment_labels(users, "gender").tolist() == ["F", "M", "F", "M", "F"]
    with pytest.raises(ValueError, match="segment columns"):
        segment_labels(users, ["occupation"])


def test_segment_popularity_hand_computed_and_unknown_segment_falls_back():
    X = sp.csr_matrix(
        np.array(
            [
                [1, 0, 0],  # segment a
                [1, 1, 0],  # segment a
                [0, 0, 1],  # segment b
                [0, 1, 1],  # segment b
                [0, 1, 1],  # segment b
            ],
            dtype=np.float32,
        )
    )
    model = SegmentPopularity(["a", "a", "b", "b", "b"]).fit(X)
    np.testing.assert_allclose(model.score([0]), [[1.0, 0.5, 0.0]], atol=1e-6)
    np.testing.assert_allclose(model.score([2]), [[0.0, 2 / 3, 1.0]], atol=1e-6)
    assert model.recommend([0], k=3, exclude_seen=False)[0].tolist() == [[0, 1, 2]]
    # unknown segment: global shares 2/5, 3/5, 3/5
    np.testing.assert_allclose(model.score_segments(["zzz"]), [[0.4, 0.6, 0.6]])
    np.testing.assert_allclose(model.score_segments(["b", "a"]), model.score([2, 0]))
    # a tie within a segment goes to the globally more popular item: segment d's one user
    # has items 0 and 2 (share 1 each); overall item 2 has 4 users, item 0 has 3
    more = sp.vstack([X, sp.csr_matrix(np.array([[1, 0, 1]], dtype=np.float32))])
    tied = SegmentPopularity(["a", "a", "b", "b", "b", "d"]).fit(more)
    assert tied.recommend([5], k=3, exclude_seen=False)[0].tolist() == [[2, 0, 1]]
    with pytest.raises(ValueError, match="one label per row"):
        SegmentPopularity(["a"]).fit(X)


# ------------------------------------------------------------------ onboarding


def test_item_entropy_hand_computed_and_against_scipy():
    R = sp.csr_matrix(
        np.array(
            [
                [5, 3, 0, 1],
                [5, 3, 0, 2],
                [1, 3, 0, 3],
                [1, 0, 0, 4],
            ],
            dtype=np.float32,
        )
    )
    # item 0: two 5s and two 1s -> 1 bit; item 1: all 3s -> 0; item 2: unrated -> 0;
    # item 3: four different values -> 2 bits. Empty cells are not ratings of 0.
    np.testing.assert_allclose(item_entropy(R), [1.0, 0.0, 0.0, 2.0])
    rng = np.random.default_rng(0)
    dense = rng.integers(1, 6, (50, 8)) * (rng.random((50, 8)) < 0.5)
    expected = [scipy_entropy(np.bincount(col[col > 0], minlength=6), base=2) for col in dense.T]
    np.testing.assert_allclose(item_entropy(sp.csr_matrix(dense.astype(np.float32))), expected)


def test_question_order_strategies_hand_computed():
    R = sp.csr_matrix(
        np.array(
            [
                [5, 3, 0, 1],
                [5, 3, 4, 2],
                [1, 3, 0, 3],
                [1, 0, 0, 4],
            ],
            dtype=np.float32,
        )
    )
    # counts 4, 3, 1, 4; entropies 1, 0, 0, 2
    assert question_order(R, "popularity").tolist() == [0, 3, 1, 2]
    assert question_order(R, "entropy").tolist() == [3, 0, 1, 2]
    # log(count) * entropy: log4 * 1, 0, 0, log4 * 2
    assert question_order(R, "popularity_entropy").tolist() == [3, 0, 1, 2]
    with pytest.raises(ValueError, match="strategy"):
        question_order(R, "random")


def test_onboarding_answers_ask_in_order_until_n_answers():
    held_out = sp.csr_matrix(
        np.array(
            [
                [0, 4, 0, 5, 1],  # knows items 1, 3, 4
                [2, 0, 0, 0, 0],  # knows item 0 only
                [0, 0, 0, 0, 0],  # knows nothing
            ],
            dtype=np.float32,
        )
    )
    order = [3, 0, 4, 1, 2]
    answers, n_asked = onboarding_answers(order, held_out, n_answers=2)
    np.testing.assert_array_equal(
        answers.toarray(), [[0, 0, 0, 5, 1], [2, 0, 0, 0, 0], [0, 0, 0, 0, 0]]
    )
    # user 0 answered at questions 1 and 3; user 1 at question 2; user 2 never
    np.testing.assert_array_equal(n_asked, [3, 2, 0])
    with pytest.raises(ValueError, match="every item index"):
        onboarding_answers([0, 1], held_out, 2)
    with pytest.raises(ValueError, match="n_answers"):
        onboarding_answers(order, held_out, 0)


# ------------------------------------------------------------------ fold-in


def fold_in_loop(Y, history, regularization, alpha):
    """The textbook formula, one user at a time."""
    Y = np.asarray(Y, dtype=np.float64)
    out = np.zeros((history.shape[0], Y.shape[1]))
    for u in range(history.shape[0]):
        row = history[u]
        if row.nnz == 0:
            continue
        c = 1.0 + alpha * row.data
        Yu = Y[row.indices]
        A = Y.T @ Y + Yu.T @ np.diag(c - 1.0) @ Yu + regularization * np.eye(Y.shape[1])
        out[u] = np.linalg.solve(A, Yu.T @ c)
    return out


def test_als_fold_in_matches_the_formula_and_implicit_recalculate_user(monkeypatch):
    X = random_binary(n_users=80, n_items=40, seed=2)
    model = ALS(factors=6, regularization=3.0, alpha=2.0, iterations=5).fit(X)
    history = random_binary(n_users=7, n_items=40, density=0.1, seed=5).tolil()
    history[3] = 0  # an empty history gets the zero vector
    history[1, 2] = 3.0  # a stronger interaction counts for more
    history = sp.csr_matrix(history)
    ours = als_fold_in(model.item_factors_, history, 3.0, 2.0)
    np.testing.assert_allclose(
        ours, fold_in_loop(model.item_factors_, history, 3.0, 2.0), rtol=1e-9
    )
    assert not ours[3].any()
    # implicit, given the confidences 1 + alpha * r as the ALS wrapper passes them
    with threadpool_limits(1, "blas"):
        reference = AlternatingLeastSquares(factors=6, regularization=3.0, alpha=1.0)
    reference.item_factors = model.item_factors_.astype(np.float32)
    reference.user_factors = model.user_factors_.astype(np.float32)
    confidence = history.copy().astype(np.float32)
    confidence.data = 1.0 + 2.0 * confidence.data
    theirs = reference.recalculate_user(np.arange(7), confidence)
    np.testing.assert_allclose(ours, theirs, rtol=1e-3, atol=1e-5)
    # batching does not change the answer
    monkeypatch.setattr(implicit_models, "FOLD_IN_BATCH_FLOATS", 40)
    np.testing.assert_allclose(als_fold_in(model.item_factors_, history, 3.0, 2.0), ours)


def test_als_fold_in_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="item columns"):
        als_fold_in(np.ones((5, 2)), sp.csr_matrix((3, 4)), 1.0, 1.0)
    with pytest.raises(ValueError, match="regularization"):
        als_fold_in(np.ones((4, 2)), sp.csr_matrix((3, 4)), -1.0, 1.0)


@pytest.mark.parametrize(
    "model", [ItemKNN(neighbors=5), ItemKNN(binarize=True), EASE(regularization=10.0)], ids=repr
)
def test_item_models_score_a_new_user_exactly_as_a_trained_one(model):
    X = random_binary(seed=3)
    X.data = np.random.default_rng(0).integers(1, 6, X.nnz).astype(np.float32)
    model.fit(X)
    users = np.array([0, 5, 9])
    np.testing.assert_allclose(model.fold_in(X[users]), model.score(users), rtol=1e-6)


def test_als_fold_in_method_is_the_fold_in_dot_product():
    X = random_binary(seed=4)
    model = ALS(factors=5, iterations=4, regularization=2.0, alpha=1.5).fit(X)
    history = X[:4]
    vectors = als_fold_in(model.item_factors_, history, 2.0, 1.5)
    np.testing.assert_allclose(model.fold_in_factors(history), vectors, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(model.fold_in(history), vectors @ model.item_factors_.T, rtol=1e-9)
    assert not hasattr(SegmentPopularity(), "fold_in")  # only models that can fold in have it
    with pytest.raises(ValueError, match="item columns"):
        model.fold_in(history[:, :5])
    with pytest.raises(ValueError, match="not fitted"):
        ALS().fold_in(history)


def test_cold_item_exposure_hand_computed():
    recommended = np.array([[0, 1, 2], [3, 1, 4]])
    assert cold_item_exposure(recommended, [1, 4], k=2) == pytest.approx(1 / 4 + 1 / 4)
    assert cold_item_exposure(recommended, [1, 4], k=3) == pytest.approx(3 / 6)
    with pytest.raises(ValueError, match="at least k"):
        cold_item_exposure(recommended, [1], k=4)


def test_lesson05_exercise_references_agree_with_the_library():
    from recsys_lessons.checks import lesson05

    for args in (c.args for c in lesson05.q1.cases):
        Y, items, regularization, alpha = args
        history = sp.csr_matrix((np.ones(len(items)), ([0] * len(items), items)), (1, len(Y)))
        np.testing.assert_allclose(
            lesson05.q1.reference(*args), als_fold_in(Y, history, regularization, alpha)[0]
        )
    for R, n in (c.args for c in lesson05.q2.cases):
        expected = question_order(sp.csr_matrix(R.astype(np.float32)), "popularity_entropy")
        np.testing.assert_array_equal(lesson05.q2.reference(R, n), expected[:n])


def test_attribute_mapping_fits_a_clone_and_leaves_the_callers_base_unfitted():
    X = random_binary()
    base = EASE(regularization=5.0)
    model = AttributeMapping(base, np.ones((30, 2))).fit(X)
    assert not hasattr(base, "weights_")  # the old code fitted (and returned) the caller's object
    assert model.base_ is not base and model.base_.get_params() == base.get_params()
    model.set_params(base__regularization=50.0)
    assert base.regularization == 50.0 and model.get_params()["base__regularization"] == 50.0


def test_side_information_can_be_given_to_fit_and_wins_over_the_constructor():
    X = random_binary()
    rng = np.random.default_rng(7)
    a, b = rng.random((30, 3)), rng.random((30, 3))
    for cls in (PredictedPopularity, lambda attributes=None: AttributeMapping(EASE(), attributes)):
        from_constructor = cls(a).fit(X).score()
        from_fit = cls().fit(X, attributes=a).score()
        np.testing.assert_allclose(from_fit, from_constructor)
        np.testing.assert_allclose(cls(b).fit(X, attributes=a).score(), from_constructor)
        with pytest.raises(ValueError, match="attributes are missing"):
            cls().fit(X)
    labels = np.array(["x", "y"] * 30)
    np.testing.assert_array_equal(
        SegmentPopularity().fit(X, segments=labels).score(),
        SegmentPopularity(labels).fit(X).score(),
    )
    np.testing.assert_array_equal(
        SegmentPopularity(["z"] * 60).fit(X, segments=labels).score(),
        SegmentPopularity(labels).fit(X).score(),
    )
    with pytest.raises(ValueError, match="segments are missing"):
        SegmentPopularity().fit(X)
