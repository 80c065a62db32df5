"""GradientMF: matrix factorization by autodiff, with the dot product or NCF's MLP."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.base import clone

from recsys_lessons.metrics import ndcg_at_k
from recsys_lessons.models import Popularity
from recsys_lessons.neural import GradientMF
from recsys_lessons.neural.mf import LOSSES, dot_similarity, init_params, mlp_similarity


def ndcg(model, test, k=10):
    users = np.flatnonzero(test.getnnz(axis=1))
    return ndcg_at_k(model.recommend(users, k=k)[0], test[users], k)


@pytest.fixture(scope="module")
def problem(taste_groups):
    return taste_groups


@pytest.mark.parametrize("similarity, margin", [("dot", 0.04), ("mlp", 0.02)])
def test_learning_beats_popularity(problem, similarity, margin):
    # The MLP learns more slowly than the dot product here (as Rendle et al. 2020 found).
    train, test = problem[0], problem[1]
    model = GradientMF(
        factors=8, iterations=30, learning_rate=0.02, batch_size=256, similarity=similarity
    )
    model.fit(train)
    assert ndcg(model, test) > ndcg(Popularity().fit(train), test) + margin
    again = clone(model).fit(train)
    assert np.array_equal(again.score(), model.score())


def test_dot_scores_are_the_factors_products_plus_the_item_bias(problem):
    model = GradientMF(factors=4, iterations=1, batch_size=256).fit(problem[0])
    expected = model.user_factors_[[2]] @ model.item_factors_.T + model.params_["bias"]
    assert np.allclose(model.score([2]), expected, atol=1e-6)


def test_mlp_scores_of_all_items_match_the_pairwise_similarity():
    rng = np.random.default_rng(0)
    params = init_params("mlp", (5, 7), 4, rng)
    model = GradientMF(factors=4, similarity="mlp")
    model.params_, model.n_items_ = params, 7
    users = np.array([0, 3, 4])
    pairwise = mlp_similarity(params, jnp.array(users)[:, None], jnp.arange(7)[None, :])
    assert np.allclose(model._score(users), pairwise, atol=1e-5)


def test_loss_is_the_binary_cross_entropy_with_sampled_negatives():
    params = init_params("dot", (3, 4), 2, np.random.default_rng(1))
    users, positives, negatives = np.array([0, 2]), np.array([1, 3]), np.array([[0, 2], [1, 0]])
    positive = np.asarray(dot_similarity(params, users, positives))
    negative = np.asarray(dot_similarity(params, users[:, None], negatives))
    expected = np.mean(np.log1p(np.exp(-positive)) + np.log1p(np.exp(negative)).sum(axis=1))
    got = LOSSES["dot"](params, (users, positives, negatives), None)
    assert float(got) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"similarity": "cosine"}, "similarity"),
        ({"negatives": 0}, "negatives"),
        ({"factors": 1.5}, "factors"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"regularization": -1.0}, "regularization"),
    ],
)
def test_bad_settings_are_refused(problem, params, message):
    with pytest.raises(ValueError, match=message):
        GradientMF(iterations=1, **params).fit(problem[0])
