"""RP3beta, DLAE / EDLAE, iALS and uniform BPR against direct computations of their definitions."""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.sparse as sp

from recsys_lessons.models import DLAE, EASE, EDLAE, IALS, RP3beta, UniformBPR
from recsys_lessons.models.bpr_uniform import bpr_gradients, sample_unseen
from recsys_lessons.models.ials import ials_objective

#: 4 users x 5 items; item 4 has a single user, item 1 three.
GRAPH = np.array(
    [
        [1, 1, 0, 0, 0],
        [1, 1, 1, 0, 0],
        [0, 1, 1, 1, 0],
        [0, 0, 1, 1, 1],
    ],
    dtype=float,
)

TINY = np.array(
    [
        [1, 1, 0, 0, 1],
        [1, 0, 1, 0, 0],
        [0, 1, 1, 1, 0],
        [1, 1, 1, 0, 0],
        [0, 0, 1, 1, 1],
        [1, 0, 0, 1, 0],
    ],
    dtype=float,
)


# --- RP3beta ---------------------------------------------------------------------------------


def _rp3beta_by_hand(X, alpha, beta):
    """W[i, j] = sum_u (1/n_i)^alpha (1/n_u)^alpha / n_j^beta over users u of both, i != j."""
    n_users, n_items = X.shape
    per_user, per_item = X.sum(axis=1), X.sum(axis=0)
    W = np.zeros((n_items, n_items))
    for i, j in itertools.product(range(n_items), repeat=2):
        if i == j:
            continue
        for u in range(n_users):
            if X[u, i] and X[u, j]:
                W[i, j] += (1 / per_item[i]) ** alpha * (1 / per_user[u]) ** alpha
        W[i, j] /= per_item[j] ** beta
    return W


@pytest.mark.parametrize(("alpha", "beta"), [(1.0, 0.0), (0.7, 0.5), (1.3, 1.0)])
def test_rp3beta_weights_are_the_walk_probabilities_divided_by_popularity(alpha, beta):
    model = RP3beta(neighbors=5, alpha=alpha, beta=beta).fit(GRAPH)
    np.testing.assert_allclose(model.weights_.toarray(), _rp3beta_by_hand(GRAPH, alpha, beta))


def test_rp3beta_alpha_one_beta_zero_rows_are_the_two_step_walk_without_the_return():
    """P3: row i of the unpruned W plus the walk back to i sums to 1 (a probability)."""
    W = RP3beta(neighbors=5, alpha=1.0, beta=0.0).fit(GRAPH).weights_.toarray()
    per_user, per_item = GRAPH.sum(axis=1), GRAPH.sum(axis=0)
    back_to_self = (GRAPH / per_item).T @ (GRAPH / per_user[:, None])
    np.testing.assert_allclose(W.sum(axis=1) + np.diag(back_to_self), 1.0)


def test_rp3beta_keeps_the_largest_weights_per_row_and_scores_by_summing_rows():
    full = _rp3beta_by_hand(GRAPH, 1.0, 0.5)
    model = RP3beta(neighbors=2, alpha=1.0, beta=0.5).fit(sp.csr_matrix(GRAPH * 4.0))
    pruned = model.weights_.toarray()
    for i in range(5):
        kept = np.flatnonzero(pruned[i])
        assert len(kept) <= 2
        assert set(kept) == set(np.argsort(-full[i], kind="stable")[: len(kept)])
        np.testing.assert_allclose(pruned[i, kept], full[i, kept])
    # values are ignored: ratings of 4 give the walk of the 0/1 graph
    np.testing.assert_allclose(model.score(), GRAPH @ pruned)
    np.testing.assert_allclose(model.fold_in(GRAPH[:2] * 3.0), GRAPH[:2] @ pruned)


def test_rp3beta_refuses_bad_hyperparameters():
    with pytest.raises(ValueError, match="beta"):
        RP3beta(beta=-0.1).fit(GRAPH)
    with pytest.raises(ValueError, match="alpha"):
        RP3beta(alpha=0.0).fit(GRAPH)
    with pytest.raises(ValueError, match="neighbors"):
        RP3beta(neighbors=0).fit(GRAPH)


# --- DLAE / EDLAE ----------------------------------------------------------------------------


def _expected_dropout_moments(X, dropout):
    """E[Z^T X] and E[Z^T Z] by enumerating every dropout mask of X (kept entries / (1 - p))."""
    cells = list(zip(*np.nonzero(X), strict=True))
    cross, second = np.zeros((X.shape[1],) * 2), np.zeros((X.shape[1],) * 2)
    for mask in itertools.product([0, 1], repeat=len(cells)):
        kept = sum(mask)
        probability = (1 - dropout) ** kept * dropout ** (len(cells) - kept)
        Z = np.zeros_like(X)
        for (u, i), keep in zip(cells, mask, strict=True):
            Z[u, i] = X[u, i] * keep / (1 - dropout)
        cross += probability * Z.T @ X
        second += probability * Z.T @ Z
    return cross, second


SMALL = np.array([[1, 1, 0], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float)


def test_dlae_minimises_the_expected_dropout_loss_computed_over_every_mask():
    """argmin_B E|X - Z B|^2 + lambda |B|^2 = (E[Z^T Z] + lambda I)^-1 E[Z^T X]."""
    dropout, regularization = 0.3, 0.5
    cross, second = _expected_dropout_moments(SMALL, dropout)
    expected = np.linalg.solve(second + regularization * np.eye(3), cross)
    weights = DLAE(dropout=dropout, regularization=regularization).fit(SMALL).weights_
    np.testing.assert_allclose(weights, expected, atol=1e-10)


def test_edlae_columns_minimise_the_expected_dropout_loss_with_a_zero_diagonal():
    dropout, regularization = 0.3, 0.5
    cross, second = _expected_dropout_moments(SMALL, dropout)
    weights = EDLAE(dropout=dropout, regularization=regularization).fit(SMALL).weights_
    for j in range(3):
        others = [i for i in range(3) if i != j]
        system = second[np.ix_(others, others)] + regularization * np.eye(2)
        np.testing.assert_allclose(
            weights[others, j], np.linalg.solve(system, cross[others, j]), atol=1e-10
        )
        assert weights[j, j] == 0.0


def test_edlae_is_ease_without_dropout_and_differs_from_it_with_dropout():
    ease = EASE(regularization=2.0).fit(TINY).weights_
    np.testing.assert_allclose(EDLAE(dropout=0.0, regularization=2.0).fit(TINY).weights_, ease)
    assert not np.allclose(EDLAE(dropout=0.5, regularization=2.0).fit(TINY).weights_, ease)


def test_dlae_scores_and_fold_in_are_the_history_times_b():
    model = DLAE(dropout=0.4, regularization=1.0).fit(TINY)
    np.testing.assert_allclose(model.score(), TINY @ model.weights_)
    np.testing.assert_allclose(model.fold_in(TINY[:2]), TINY[:2] @ model.weights_)


def test_dropout_autoencoders_refuse_bad_hyperparameters():
    with pytest.raises(ValueError, match="dropout"):
        EDLAE(dropout=1.0).fit(TINY)
    with pytest.raises(ValueError, match="regularization > 0"):
        DLAE(dropout=0.5, regularization=0.0).fit(np.c_[TINY, np.zeros(6)])


# --- iALS ------------------------------------------------------------------------------------


def _ials_penalties(X, regularization, weight, exponent):
    observed = (X != 0).astype(float)
    per_user = observed.sum(axis=1) + weight * X.shape[1]
    per_item = observed.sum(axis=0) + weight * X.shape[0]
    return observed, regularization * per_user**exponent, regularization * per_item**exponent


def _ials_loss_dense(X, W, H, regularization, weight, exponent):
    observed, user_penalty, item_penalty = _ials_penalties(X, regularization, weight, exponent)
    Y = W @ H.T
    return (
        np.sum(observed * (Y - 1.0) ** 2)
        + weight * np.sum(Y**2)
        + user_penalty @ np.sum(W**2, axis=1)
        + item_penalty @ np.sum(H**2, axis=1)
    )


def _ials_item_gradient_dense(X, W, H, regularization, weight, exponent):
    observed, _, item_penalty = _ials_penalties(X, regularization, weight, exponent)
    Y = W @ H.T
    return 2 * (observed * (Y - 1.0)).T @ W + 2 * weight * Y.T @ W + 2 * item_penalty[:, None] * H


def test_ials_objective_equals_the_dense_loss():
    rng = np.random.default_rng(0)
    W, H = rng.normal(size=(6, 3)), rng.normal(size=(5, 3))
    for exponent in (0.0, 1.0):
        dense = _ials_loss_dense(TINY, W, H, 0.2, 0.3, exponent)
        assert ials_objective(TINY, W, H, 0.2, 0.3, exponent) == pytest.approx(dense)


@pytest.mark.parametrize("exponent", [0.0, 1.0])
def test_ials_item_step_zeroes_the_gradient_and_the_loss_never_increases(exponent):
    model = IALS(
        factors=3,
        regularization=0.2,
        unobserved_weight=0.3,
        frequency_exponent=exponent,
        iterations=6,
        seed=1,
    ).fit(TINY)
    # the last half-step solved the items exactly: the item gradient of the loss is zero
    gradient = _ials_item_gradient_dense(
        TINY, model.user_factors_, model.item_factors_, 0.2, 0.3, exponent
    )
    np.testing.assert_allclose(gradient, 0.0, atol=1e-9)
    assert model.losses_[-1] == pytest.approx(
        _ials_loss_dense(TINY, model.user_factors_, model.item_factors_, 0.2, 0.3, exponent)
    )
    assert (np.diff(model.losses_) <= 1e-12).all()
    np.testing.assert_allclose(model.score(), model.user_factors_ @ model.item_factors_.T)


def test_ials_frequency_scaling_changes_the_solution_and_same_seed_same_model():
    first = IALS(factors=3, regularization=0.2, iterations=3, seed=4).fit(TINY)
    again = IALS(factors=3, regularization=0.2, iterations=3, seed=4).fit(TINY)
    flat = IALS(factors=3, regularization=0.2, iterations=3, seed=4, frequency_exponent=0.0)
    np.testing.assert_array_equal(first.item_factors_, again.item_factors_)
    assert not np.allclose(first.item_factors_, flat.fit(TINY).item_factors_)


def test_ials_refuses_bad_hyperparameters():
    with pytest.raises(ValueError, match="unobserved_weight"):
        IALS(unobserved_weight=0.0).fit(TINY)
    with pytest.raises(ValueError, match="frequency_exponent"):
        IALS(frequency_exponent=-1.0).fit(TINY)


# --- uniform BPR -----------------------------------------------------------------------------


def _triple_objective(w_u, h_i, h_j, b_i, b_j, regularization):
    x = jnp.sum(w_u * (h_i - h_j), axis=1) + b_i - b_j
    penalty = (
        jnp.sum(w_u**2) + jnp.sum(h_i**2) + jnp.sum(h_j**2) + jnp.sum(b_i**2) + jnp.sum(b_j**2)
    )
    return jnp.sum(jax.nn.log_sigmoid(x)) - regularization / 2 * penalty


def test_bpr_gradients_match_jax_grad_of_the_objective():
    """JAX computes in float32 (the course does not switch on x64): compare to 1e-5."""
    rng = np.random.default_rng(3)
    arrays = tuple(rng.normal(size=shape).astype(np.float32) for shape in [(7, 4)] * 3 + [(7,)] * 2)
    expected = jax.grad(_triple_objective, argnums=(0, 1, 2, 3, 4))(*arrays, 0.05)
    for ours, theirs in zip(bpr_gradients(*arrays, 0.05), expected, strict=True):
        np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-5, atol=1e-6)


def test_bpr_gradients_stay_finite_for_huge_margins():
    ones = np.ones((2, 1))
    grads = bpr_gradients(ones * 1e3, ones, -ones, np.zeros(2), np.zeros(2), 0.0)
    assert all(np.isfinite(g).all() for g in grads)
    np.testing.assert_allclose(grads[0], 0.0, atol=1e-300)


def test_sampler_is_uniform_over_each_users_unseen_items_and_never_returns_a_seen_one():
    X = sp.csr_matrix(TINY)
    users = np.repeat(np.arange(6), 6000)
    items = sample_unseen(X, users, np.random.default_rng(0))
    assert not TINY[users, items].any()
    for user in range(6):
        unseen = np.flatnonzero(TINY[user] == 0)
        counts = np.bincount(items[users == user], minlength=5)[unseen]
        # each unseen item expected 6000 / len(unseen) times; 5 sigma of a binomial
        expected = 6000 / len(unseen)
        assert np.abs(counts - expected).max() < 5 * np.sqrt(expected)


def test_uniform_bpr_learns_to_rank_positives_first_and_is_deterministic():
    rng = np.random.default_rng(5)
    taste = rng.normal(size=(60, 2)) @ rng.normal(size=(2, 30))
    X = sp.csr_matrix((taste > 0.8).astype(float))
    model = UniformBPR(factors=8, learning_rate=0.1, iterations=40, batch_size=16, seed=0).fit(X)
    again = UniformBPR(factors=8, learning_rate=0.1, iterations=40, batch_size=16, seed=0).fit(X)
    np.testing.assert_array_equal(model.item_factors_, again.item_factors_)
    scores = model.score()
    dense = X.toarray() > 0
    # training AUC: a positive outranks an unseen item for most pairs
    auc = np.mean(
        [
            np.mean(scores[u, dense[u]][:, None] > scores[u, ~dense[u]][None, :])
            for u in range(60)
            if dense[u].any() and (~dense[u]).any()
        ]
    )
    assert auc > 0.9
    np.testing.assert_allclose(
        scores, model.user_factors_ @ model.item_factors_.T + model.item_bias_
    )


def test_uniform_bpr_refuses_a_user_with_no_item_left_to_sample():
    with pytest.raises(ValueError, match="every item"):
        UniformBPR(iterations=1).fit(np.ones((3, 4)))
