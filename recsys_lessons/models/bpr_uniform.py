"""BPR with uniform negative sampling, as in the paper and in Cornac, written in numpy.

:class:`~recsys_lessons.models.BPR` wraps ``implicit``, whose sampler draws the negative item
of each triple as the item of a random stored interaction: in proportion to popularity.
The BPR paper (Rendle et al. 2009) and Cornac draw it uniformly among the items the user
has not seen. Lesson 04 compares the two on MovieLens 100K.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recsys_lessons.models.base import Recommender
from recsys_lessons.validation import check_number, check_positive_int, check_seed

__all__ = ["UniformBPR", "bpr_gradients", "sample_unseen"]


class UniformBPR(Recommender):
    """Bayesian Personalized Ranking with negatives drawn uniformly from the unseen items.

    Every stored entry of ``X`` is a positive ``(u, i)`` (its value is ignored). Each epoch
    visits every positive once in a random order, in mini-batches of ``batch_size``; each
    positive gets one negative ``j`` drawn uniformly from the items ``u`` has not seen
    (:func:`sample_unseen`). A step ascends, summed over the batch::

        ln sigmoid(x_uij) - regularization / 2 * (|w_u|^2 + |h_i|^2 + |h_j|^2 + b_i^2 + b_j^2)

        x_uij = score(u, i) - score(u, j),   score(u, i) = w_u . h_i + b_i

    with gradients from :func:`bpr_gradients`, i.e. the per-triple updates of the paper and of
    Cornac (``w_u += learning_rate * (sigmoid(-x_uij) * (h_i - h_j) - regularization * w_u)``
    and alike), applied together for the batch. Vectors start ``N(0, 0.01^2)``, biases 0.
    Same ``seed``, same model.

    Parameters
    ----------
    factors : int
        Length of the user and item vectors (without the bias).
    learning_rate : float > 0
        SGD step size.
    regularization : float >= 0
        L2 penalty (Cornac's ``lambda_reg``).
    iterations : int
        Epochs.
    batch_size : int
        Triples per update (1 is the paper's plain SGD; larger batches are faster in numpy).
    seed : int
        Seeds the initial vectors, the order of the positives and the negatives.

    Attributes
    ----------
    user_factors_ : ndarray of shape (n_users, factors)
    item_factors_ : ndarray of shape (n_items, factors)
    item_bias_ : ndarray of shape (n_items,)

    References
    ----------
    S. Rendle, C. Freudenthaler, Z. Gantner and L. Schmidt-Thieme, "BPR: Bayesian
    Personalized Ranking from Implicit Feedback", UAI 2009.
    A. Salah, Q.-T. Truong and H. W. Lauw, "Cornac: A Comparative Framework for Multimodal
    Recommender Systems", JMLR 21, 2020 (``cornac.models.BPR``).

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from recsys_lessons.models import UniformBPR
    >>> X = sp.random(30, 20, density=0.2, format="csr", random_state=0)
    >>> model = UniformBPR(factors=4, iterations=3, batch_size=8).fit(X)
    >>> model.user_factors_.shape, model.item_factors_.shape, model.item_bias_.shape
    ((30, 4), (20, 4), (20,))
    """

    def __init__(
        self,
        factors: int = 64,
        learning_rate: float = 0.05,
        regularization: float = 0.001,
        iterations: int = 100,
        batch_size: int = 64,
        seed: int = 42,
    ):
        self.factors = factors
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.iterations = iterations
        self.batch_size = batch_size
        self.seed = seed

    def _fit(self, X: sp.csr_matrix) -> None:
        factors = check_positive_int(self.factors, "factors", "the length of the vectors")
        iterations = check_positive_int(self.iterations, "iterations", "epochs")
        batch_size = check_positive_int(self.batch_size, "batch_size", "triples per update")
        learning_rate = check_number(self.learning_rate, "learning_rate", low=0, low_open=True)
        regularization = check_number(self.regularization, "regularization", low=0)
        if (np.diff(X.indptr) == X.shape[1]).any():
            raise ValueError(
                "a user has interacted with every item, so BPR has no negative to sample; "
                "drop such users before fitting."
            )
        rng = np.random.default_rng(check_seed(self.seed))
        users = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
        positives = X.indices.astype(np.int64)
        W = rng.normal(0.0, 0.01, (X.shape[0], factors))
        H = rng.normal(0.0, 0.01, (X.shape[1], factors))
        bias = np.zeros(X.shape[1])
        for _ in range(iterations):
            order = rng.permutation(len(users))
            negatives = sample_unseen(X, users[order], rng)
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                u, i = users[rows], positives[rows]
                j = negatives[start : start + batch_size]
                grad_w, grad_i, grad_j, grad_bi, grad_bj = bpr_gradients(
                    W[u], H[i], H[j], bias[i], bias[j], regularization
                )
                items = np.concatenate([i, j])
                np.add.at(W, u, learning_rate * grad_w)
                np.add.at(H, items, learning_rate * np.concatenate([grad_i, grad_j]))
                np.add.at(bias, items, learning_rate * np.concatenate([grad_bi, grad_bj]))
        if not (np.isfinite(W).all() and np.isfinite(H).all()):
            raise ValueError(
                f"UniformBPR diverged (NaN or infinite vectors): lower learning_rate (now "
                f"{self.learning_rate!r}) or batch_size (now {self.batch_size!r})."
            )
        self.user_factors_, self.item_factors_, self.item_bias_ = W, H, bias

    def _score(self, users: np.ndarray) -> np.ndarray:
        return self.user_factors_[users] @ self.item_factors_.T + self.item_bias_


def bpr_gradients(w_u, h_i, h_j, b_i, b_j, regularization):
    """Gradients of ``ln sigmoid(x_uij) - regularization / 2 * |theta|^2`` for each triple.

    ``x_uij = w_u . (h_i - h_j) + b_i - b_j``. Row ``n`` of each array is the gradient of
    triple ``n``'s objective (see :class:`UniformBPR`) with respect to its own ``w_u``,
    ``h_i``, ``h_j``, ``b_i`` and ``b_j``::

        d/dw_u = s * (h_i - h_j) - regularization * w_u,   s = sigmoid(-x_uij)
        d/dh_i = s * w_u - regularization * h_i
        d/dh_j = -s * w_u - regularization * h_j
        d/db_i = s - regularization * b_i,   d/db_j = -s - regularization * b_j

    Returns
    -------
    tuple of ndarray
        ``(grad_w_u, grad_h_i, grad_h_j, grad_b_i, grad_b_j)``, shaped like the inputs.
    """
    x = np.einsum("nf,nf->n", w_u, h_i - h_j) + b_i - b_j
    s = 0.5 * (1.0 - np.tanh(0.5 * x))  # sigmoid(-x), without overflow
    return (
        s[:, None] * (h_i - h_j) - regularization * w_u,
        s[:, None] * w_u - regularization * h_i,
        -s[:, None] * w_u - regularization * h_j,
        s - regularization * b_i,
        -s - regularization * b_j,
    )


def sample_unseen(X: sp.csr_matrix, users: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One item per entry of ``users``, uniform over the items that user has not seen in ``X``.

    Draws uniformly from the catalogue and redraws the draws that hit a seen item (rejection
    sampling, as Cornac skips them): each accepted item is uniform over the unseen ones.
    Every user must have at least one unseen item.
    """
    X = sp.csr_matrix(X, copy=True)
    X.sort_indices()
    seen = X.indices.astype(np.int64) + X.shape[1] * np.repeat(
        np.arange(X.shape[0], dtype=np.int64), np.diff(X.indptr)
    )  # sorted: rows in order, column indices sorted within a row
    items = rng.integers(0, X.shape[1], len(users))
    redraw = np.arange(len(users))
    while len(redraw):
        keys = users[redraw].astype(np.int64) * X.shape[1] + items[redraw]
        position = np.minimum(np.searchsorted(seen, keys), len(seen) - 1)
        redraw = redraw[seen[position] == keys]
        items[redraw] = rng.integers(0, X.shape[1], len(redraw))
    return items
