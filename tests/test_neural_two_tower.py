"""The two-tower retriever: it learns, the logQ correction has the right sign, new users and items work."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone

from recsys_lessons.evaluation import evaluate
from recsys_lessons.hybrid import LinearBlend
from recsys_lessons.metrics import ndcg_at_k
from recsys_lessons.models import Popularity
from recsys_lessons.neural import TwoTower, in_batch_softmax_loss, item_content
from recsys_lessons.retrieval import ExactIndex

N_USERS, N_ITEMS, N_GROUPS = 240, 60, 4


@pytest.fixture(scope="module")
def problem(taste_groups):
    train, _, features, _ = taste_groups
    assert train.shape == (N_USERS, N_ITEMS) and features.shape[1] == N_GROUPS + 3
    return taste_groups


@pytest.fixture(scope="module")
def fitted(problem):
    train, _, features, _ = problem
    model = TwoTower(factors=16, iterations=5, batch_size=256, item_features=features, seed=3)
    return model.fit(train)


def ndcg(model, test, k=10):
    users = np.flatnonzero(test.getnnz(axis=1))
    items, _ = model.recommend(users, k=k)
    return ndcg_at_k(items, test[users], k)


def test_learning_beats_popularity(problem, fitted):
    train, test, _, _ = problem
    assert ndcg(fitted, test) > ndcg(Popularity().fit(train), test) + 0.05


def test_vectors_are_unit_and_scores_are_their_cosines(fitted):
    assert np.allclose(np.linalg.norm(fitted.item_factors_, axis=1), 1.0, atol=1e-5)
    assert np.allclose(np.linalg.norm(fitted.user_factors_, axis=1), 1.0, atol=1e-5)
    assert np.allclose(fitted.score([0, 5]), fitted.user_factors_[[0, 5]] @ fitted.item_factors_.T)


def test_fold_in_of_a_training_history_equals_its_scores(problem, fitted):
    train = problem[0]
    users = np.array([0, 7, 100])
    assert np.array_equal(fitted.fold_in(train[users]), fitted.score(users))
    assert np.array_equal(fitted.fold_in(train[users] * 5.0), fitted.score(users))  # values ignored


def test_fold_in_of_an_empty_history_scores_zero(fitted):
    assert np.array_equal(fitted.fold_in(sp.csr_matrix((1, N_ITEMS))), np.zeros((1, N_ITEMS)))


def test_exact_retrieval_on_the_vectors_gives_the_recommendations(fitted):
    index = ExactIndex(metric="dot").build(fitted.item_factors_)
    ids, _ = index.query(fitted.user_factors_[:5], k=5)
    items, _ = fitted.recommend(np.arange(5), k=5, exclude_seen=False)
    assert np.array_equal(ids, items)


def test_same_seed_same_scores_and_clone_refits_identically(problem, fitted):
    train = problem[0]
    again = clone(fitted).fit(train)
    assert np.array_equal(again.score(), fitted.score())
    other = clone(fitted).set_params(seed=4).fit(train)
    assert not np.allclose(other.score(), fitted.score())


def popularity_of_recommendations(model, train, k=5):
    counts = np.asarray(train.sum(axis=0)).ravel()
    items, _ = model.recommend(k=k)
    return counts[items].mean()


def test_logq_correction_recommends_more_popular_items(problem, fitted):
    # Without the correction popular items, the most frequent in-batch negatives, are
    # over-penalised; subtracting log q during training gives their popularity back.
    train, test = problem[0], problem[1]
    uncorrected = clone(fitted).set_params(logq_correction=False).fit(train)
    assert popularity_of_recommendations(fitted, train) > 1.2 * popularity_of_recommendations(
        uncorrected, train
    )
    assert ndcg(fitted, test) > ndcg(uncorrected, test)


def test_loss_is_the_softmax_cross_entropy_of_the_corrected_logits():
    rng = np.random.default_rng(0)
    user, item = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    items, log_q = np.array([3, 1, 4, 2]), np.log([0.5, 0.1, 0.3, 0.1])
    logits = user @ item.T / 0.5 - log_q[None, :]
    expected = np.mean(np.log(np.exp(logits).sum(axis=1)) - np.diag(logits))
    got = in_batch_softmax_loss(jnp.array(user), jnp.array(item), jnp.array(items), 0.5, log_q)
    assert float(got) == pytest.approx(expected, rel=1e-5)


def test_correction_pushes_a_popular_negative_down_less_than_a_rare_one():
    # Row 0's positive is item 0; items 1 (popular) and 2 (rare) are negatives at the same
    # cosine. The gradient that lowers a negative's logit is its softmax probability: with
    # the correction (logit - log q) the popular negative gets the smaller push.
    user = jnp.array([[1.0, 0.0]] * 3)
    item = jnp.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    log_q = jnp.log(jnp.array([0.1, 0.8, 0.1]))

    def first_row_loss(logit_shift):
        return in_batch_softmax_loss(user, item + logit_shift, jnp.arange(3), 1.0, log_q)

    grads = jax.grad(first_row_loss)(jnp.zeros((3, 2)))
    push = grads[:, 0]  # d loss / d (user . item_j) for row 0 is along the first axis
    assert push[1] < push[2]
    uncorrected = jax.grad(
        lambda shift: in_batch_softmax_loss(user, item + shift, jnp.arange(3), 1.0)
    )(jnp.zeros((3, 2)))
    assert uncorrected[1, 0] == pytest.approx(uncorrected[2, 0])


def test_other_pairs_with_the_same_item_are_not_negatives():
    # Rows 0 and 1 hold the same item 5: neither is a negative of the other (but both are
    # negatives of row 2, whose item is 6).
    rng = np.random.default_rng(1)
    user, item = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    logits = user @ item.T
    logits[0, 1] = logits[1, 0] = -np.inf
    expected = np.mean(np.log(np.exp(logits).sum(axis=1)) - np.diag(logits))
    got = in_batch_softmax_loss(jnp.array(user), jnp.array(item), jnp.array([5, 5, 6]), 1.0)
    assert float(got) == pytest.approx(expected, rel=1e-5)


def test_cold_items_are_scored_by_their_content_alone(problem):
    train, test, features, group = problem
    cold = np.arange(N_ITEMS - 8, N_ITEMS)
    warm_train = sp.csr_matrix(train.multiply(np.isin(np.arange(N_ITEMS), cold, invert=True)))
    warm_train.eliminate_zeros()
    model = TwoTower(
        factors=16, iterations=10, batch_size=256, item_features=features, id_dropout=0.5, seed=1
    ).fit(warm_train)
    assert np.allclose(model.item_vectors(features[cold]), model.item_factors_[cold], atol=1e-6)
    scores = model.score_items(np.arange(N_USERS), features[cold])
    assert np.allclose(scores, model.score()[:, cold], atol=1e-5)
    user_group = np.arange(N_USERS) % N_GROUPS
    best = cold[np.argmax(scores, axis=1)]
    assert np.mean(group[best] == user_group) > 0.6  # content finds the user's group (chance: 0.25)


@pytest.fixture(scope="module")
def ids_only(problem):
    return TwoTower(factors=8, iterations=2, batch_size=256).fit(problem[0])


def test_ids_only_and_content_only_towers_fit(problem, ids_only):
    train, _, features, _ = problem
    assert "content" not in ids_only.params_
    assert np.all(np.isfinite(ids_only.score([0])))
    content_only = TwoTower(factors=8, iterations=2, batch_size=256, use_item_ids=False)
    assert "item" not in content_only.fit(train, item_features=features).params_


def test_features_given_to_fit_win_and_the_constructor_keeps_its_own(problem):
    train, _, features, _ = problem
    model = TwoTower(factors=8, iterations=1, batch_size=256, item_features=features[:, :4])
    model.fit(train, item_features=features)
    assert model.params_["content"].shape[0] == features.shape[1]
    assert model.item_features.shape[1] == 4


@pytest.mark.parametrize(
    "params, message",
    [
        ({"temperature": 0.0}, "temperature"),
        ({"id_dropout": 1.0}, "id_dropout"),
        ({"factors": 2.0}, "factors"),
        ({"batch_size": 0}, "batch_size"),
        ({"use_item_ids": False}, "item_features"),
        ({"item_features": np.ones((N_ITEMS - 1, 2))}, "one row per item"),
        ({"item_features": np.full((N_ITEMS, 2), np.nan)}, "NaN"),
    ],
)
def test_bad_settings_are_refused(problem, params, message):
    with pytest.raises(ValueError, match=message):
        TwoTower(iterations=1, **params).fit(problem[0])


def test_new_items_need_the_fitted_feature_columns(problem, fitted, ids_only):
    with pytest.raises(ValueError, match="columns"):
        fitted.item_vectors(np.ones((2, 3)))
    with pytest.raises(ValueError, match="content tower"):
        ids_only.item_vectors(problem[2])


def test_item_content_holds_words_genres_tags_and_date_bands():
    items = pd.DataFrame(
        {
            "title": ["Space War (1990)", "Space Love (1995)", "Love Story (2001)", "War (2001)"],
            "genres": [["Sci-Fi"], ["Romance", "Sci-Fi"], ["Romance"], ["War"]],
            "tags": [["epic"], ["epic"], [], ["grim"]],
            "year": [1990, 1995, 2001, 2001],
            "release_date": pd.to_datetime(
                ["1990-01-01", "1995-01-01", "2001-01-01", "2001-06-01"]
            ),
        }
    )
    features = item_content(items, year_bands=2, now="2001-07-01")
    assert set(features.blocks) == {"title", "genres", "tags", "year", "released"}
    assert {"space", "war", "love"} <= set(features.names[features.blocks == "title"])
    assert "grim" not in features.names  # held by one item only
    assert features.matrix.shape[0] == 4
    no_dates = item_content(items, year_bands=0)
    assert not {"year", "released"} & set(no_dates.blocks)


def test_the_harness_and_the_hybrid_blend_take_a_two_tower(problem, fitted):
    """The model protocol is what lets lessons 01 and 06 use it: evaluate() and LinearBlend."""
    train, test, features, _ = problem
    model = TwoTower(factors=16, iterations=5, batch_size=256, item_features=features, seed=3)
    table = evaluate({"two tower": model}, train, test, k=10)
    assert table.loc["two tower", "ndcg@10"] == pytest.approx(ndcg(fitted, test))
    alone = LinearBlend({"two tower": model, "popularity": Popularity()}, {"two tower": 1.0})
    users = np.flatnonzero(test.getnnz(axis=1))
    blended, _ = alone.fit(train).recommend(users, k=10)
    assert np.array_equal(blended, fitted.recommend(users, k=10)[0])
