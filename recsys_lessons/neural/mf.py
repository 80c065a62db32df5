"""Matrix factorization as a JAX model trained by gradient descent, and the MLP that may replace its dot product.

Lesson 04 derived the gradients of matrix factorization by hand; here the model is written as
a scoring function and ``jax.value_and_grad`` derives them (:func:`~recsys_lessons.neural.training.fit_adam`).
Swapping the dot product for a learned similarity is then one line, which is what Neural
Collaborative Filtering did (He, Liao, Zhang, Nie, Hu and Chua, WWW 2017) and what Rendle,
Krichene, Zhang and Anderson ("Neural Collaborative Filtering vs. Matrix Factorization
Revisited", RecSys 2020) checked: with care, the dot product wins, and an MLP needs a lot of
capacity and data to learn even a dot product.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse as sp

from recsys_lessons.models.base import Recommender
from recsys_lessons.neural.training import epoch_batches, fit_adam, positive_pairs
from recsys_lessons.validation import (
    check_number,
    check_positive_int,
    check_seed,
)

__all__ = ["SIMILARITIES", "GradientMF", "dot_similarity", "mlp_similarity"]

#: Similarities :class:`GradientMF` can learn: ``"dot"`` (matrix factorization) or ``"mlp"`` (NCF's MLP).
SIMILARITIES = ("dot", "mlp")

#: Users scored at once by the MLP (its hidden layer holds users x items x factors floats).
MLP_SCORE_BATCH = 64


class GradientMF(Recommender):
    """Matrix factorization for implicit feedback trained with Adam and sampled negatives.

    Every stored entry of ``X`` is a positive ``(u, i)`` (its value is ignored); each positive
    is paired with ``negatives`` items drawn uniformly from the catalogue, taken as
    negatives ``j`` (one may happen to be a positive: rare, and ignored). The loss is the
    binary cross-entropy of Rendle et al. (2020), averaged over the batch::

        loss = - log sigmoid(s(u, i)) - sum over the sampled j of log(1 - sigmoid(s(u, j)))

    plus ``regularization`` times the sum of squares of every parameter. The similarity is

    - ``"dot"``: ``s(u, i) = p_u . q_i + b_i`` (matrix factorization with an item bias);
    - ``"mlp"``: ``s(u, i) = w . relu(W2 relu(W1 [p_u, q_i] + c1) + c2) + b``, NCF's MLP on
      the concatenated embeddings, hidden layers of ``factors`` and ``factors // 2`` units.

    No ``fold_in``: the user vectors ``p_u`` are free parameters, so a new user would need
    an optimisation of its own (a least-squares fit on ``q_i`` would answer ALS's objective,
    not this one); :class:`~recsys_lessons.neural.TwoTower` computes users from their history.

    Parameters
    ----------
    factors : int
        Length of the user and item embeddings.
    iterations : int
        Epochs: passes over the positives.
    learning_rate : float
        Adam's step size.
    regularization : float
        L2 penalty on every parameter (see :func:`~recsys_lessons.neural.training.fit_adam`).
    batch_size : int
        Positives per step.
    similarity : {"dot", "mlp"}
        The scoring function.
    negatives : int
        Uniform negatives per positive.
    seed : int
        Seeds the initialisation, the shuffles and the negatives: same seed, same scores.

    Attributes
    ----------
    params_ : dict of str -> ndarray
        ``user`` (n_users, factors), ``item`` (n_items, factors), and ``bias`` (dot) or the
        MLP's ``W1, c1, W2, c2, w, b``.
    user_factors_, item_factors_ : ndarray
        ``p_u`` and ``q_i`` (the embeddings the MLP reads, for ``"mlp"``).
    losses_ : ndarray
        The loss of every training step.
    """

    def __init__(
        self,
        factors: int = 64,
        iterations: int = 20,
        learning_rate: float = 0.005,
        regularization: float = 3e-5,
        batch_size: int = 1024,
        similarity: str = "dot",
        negatives: int = 4,
        seed: int = 0,
    ):
        self.factors = factors
        self.iterations = iterations
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.batch_size = batch_size
        self.similarity = similarity
        self.negatives = negatives
        self.seed = seed

    def _fit(self, X: sp.csr_matrix) -> None:
        factors = check_positive_int(self.factors, "factors", "the embedding length")
        iterations = check_positive_int(self.iterations, "iterations", "the number of epochs")
        batch_size = check_positive_int(self.batch_size, "batch_size", "positives per step")
        negatives = check_positive_int(self.negatives, "negatives", "negatives per positive")
        check_number(self.regularization, "regularization", 0)
        seed = check_seed(self.seed)
        if self.similarity not in SIMILARITIES:
            raise ValueError(f"similarity must be one of {SIMILARITIES}; got {self.similarity!r}.")
        users, items = positive_pairs(X)
        rng = np.random.default_rng(seed)
        params = init_params(self.similarity, X.shape, factors, rng)
        batches = epoch_batches(
            len(users),
            batch_size,
            iterations,
            seed,
            make=lambda rows: (
                users[rows],
                items[rows],
                rng.integers(0, X.shape[1], (len(rows), negatives), dtype=np.int32),
            ),
        )
        params, self.losses_ = fit_adam(
            LOSSES[self.similarity],
            params,
            batches,
            learning_rate=self.learning_rate,
            regularization=self.regularization,
            seed=seed,
            description=f"GradientMF ({self.similarity})",
        )
        self.params_ = {name: np.asarray(value) for name, value in params.items()}
        self.user_factors_, self.item_factors_ = self.params_["user"], self.params_["item"]

    def _score(self, users: np.ndarray) -> np.ndarray:
        if self.similarity == "dot":
            return self.user_factors_[users] @ self.item_factors_.T + self.params_["bias"]
        chunks = [
            _mlp_all_items(self.params_, users[start : start + MLP_SCORE_BATCH])
            for start in range(0, len(users), MLP_SCORE_BATCH)
        ]
        return np.concatenate(chunks) if chunks else np.zeros((0, self.n_items_))


def init_params(similarity: str, shape: tuple[int, int], factors: int, rng) -> dict:
    """Embeddings ``N(0, 0.1^2)``; MLP weights by Glorot's uniform rule (zero biases)."""
    n_users, n_items = shape
    params = {
        "user": rng.normal(0.0, 0.1, (n_users, factors)).astype(np.float32),
        "item": rng.normal(0.0, 0.1, (n_items, factors)).astype(np.float32),
    }
    if similarity == "dot":
        params["bias"] = np.zeros(n_items, dtype=np.float32)
        return params
    hidden = max(factors // 2, 1)
    params["W1"] = _glorot(rng, 2 * factors, factors)
    params["c1"] = np.zeros(factors, dtype=np.float32)
    params["W2"] = _glorot(rng, factors, hidden)
    params["c2"] = np.zeros(hidden, dtype=np.float32)
    params["w"] = _glorot(rng, hidden, 1)[:, 0]
    params["b"] = np.zeros((), dtype=np.float32)
    return params


def _glorot(rng, fan_in: int, fan_out: int) -> np.ndarray:
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32)


def dot_similarity(params, users, items):
    """``p_u . q_i + b_i`` for aligned arrays of users and items (any matching shapes)."""
    return jnp.sum(params["user"][users] * params["item"][items], axis=-1) + params["bias"][items]


def mlp_similarity(params, users, items):
    """NCF's MLP on ``[p_u, q_i]`` for aligned arrays of users and items."""
    p, q = jnp.broadcast_arrays(params["user"][users], params["item"][items])
    hidden = jax.nn.relu(jnp.concatenate([p, q], axis=-1) @ params["W1"] + params["c1"])
    hidden = jax.nn.relu(hidden @ params["W2"] + params["c2"])
    return hidden @ params["w"] + params["b"]


def _bce_loss(similar):
    def loss(params, batch, key):
        users, positives, negatives = batch
        positive = similar(params, users, positives)
        negative = similar(params, users[:, None], negatives)
        return -jnp.mean(
            jax.nn.log_sigmoid(positive) + jnp.sum(jax.nn.log_sigmoid(-negative), axis=1)
        )

    return loss


#: The training loss of each similarity (built once, so refits reuse the compiled step).
LOSSES = {"dot": _bce_loss(dot_similarity), "mlp": _bce_loss(mlp_similarity)}


@jax.jit
def _mlp_scores(params, users):
    # The first layer splits: W1 [p; q] = W1_user p + W1_item q, computed once per user and item.
    factors = params["user"].shape[1]
    from_users = params["user"][users] @ params["W1"][:factors]
    from_items = params["item"] @ params["W1"][factors:] + params["c1"]
    hidden = jax.nn.relu(from_users[:, None, :] + from_items[None, :, :])
    hidden = jax.nn.relu(hidden @ params["W2"] + params["c2"])
    return hidden @ params["w"] + params["b"]


def _mlp_all_items(params: dict, users: np.ndarray) -> np.ndarray:
    """MLP scores of every item for at most ``MLP_SCORE_BATCH`` users (padded: one compilation)."""
    padded = np.zeros(MLP_SCORE_BATCH, dtype=np.int64)
    padded[: len(users)] = users
    return np.asarray(_mlp_scores(params, jnp.asarray(padded)))[: len(users)]
