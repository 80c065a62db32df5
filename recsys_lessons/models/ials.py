"""iALS as Rendle, Krichene, Zhang and Koren (2021) tune it: frequency-scaled regularization.

"Revisiting the performance of iALS on item recommendation benchmarks" (arXiv 2110.14037,
RecSys 2022) showed that plain implicit ALS, given a large embedding, a regularization that
grows with each user's and item's number of interactions, and a proper grid, matches or
beats the newer models on MovieLens 20M and the Million Song Dataset. ``implicit``'s ALS
has a constant penalty, so this module solves the exact least squares itself, in numpy.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recsys_lessons.models.base import Recommender
from recsys_lessons.validation import (
    check_number,
    check_positive_int,
    check_seed,
)

__all__ = ["IALS", "ials_objective"]

#: Rows whose ``factors x factors`` systems are stacked into one batched solve.
SOLVE_BATCH = 128


class IALS(Recommender):
    """Implicit ALS with frequency-scaled regularization (Rendle et al. 2021).

    Every stored entry of ``X`` is an observed pair ``(u, i)`` (its value is ignored). With
    ``w_u`` and ``h_i`` the user and item vectors and ``y(u, i) = w_u . h_i``::

        L(W, H) = sum over observed (u, i) of (y(u, i) - 1)^2
                  + unobserved_weight * sum over all (u, i) of y(u, i)^2
                  + regularization * ( sum_u (|I_u| + unobserved_weight * |I|)^nu |w_u|^2
                                     + sum_i (|U_i| + unobserved_weight * |U|)^nu |h_i|^2 )

    where ``|I_u|`` counts the items of user ``u``, ``|U_i|`` the users of item ``i``, ``|I|``
    and ``|U|`` the catalogue and the user base, and ``nu = frequency_exponent``. With
    ``nu = 1`` a user's penalty grows like the number of terms of the loss their vector
    enters, so one ``regularization`` suits light and heavy users alike (``nu = 0`` is the
    constant penalty of Hu et al. 2008 and :class:`~recsys_lessons.models.ALS`). Each
    half-step solves exactly, for every user (then every item)::

        (H_u^T H_u + unobserved_weight * H^T H + lambda_u * I) w_u = H_u^T 1

    with ``H_u`` the vectors of the user's items and ``lambda_u`` their penalty above. The
    loss never increases from one iteration to the next (``losses_``). Vectors start
    ``N(0, (0.1 / sqrt(factors))^2)`` as in the paper.

    Parameters
    ----------
    factors : int
        Length of the user and item vectors (the paper's ``d``; it finds larger is better
        once regularization is tuned).
    regularization : float >= 0
        ``lambda``.
    unobserved_weight : float > 0
        ``alpha_0``, the weight of every unobserved pair (relative to 1 for an observed one).
    frequency_exponent : float >= 0
        ``nu``; 1 in the paper's tuned runs.
    iterations : int
        Alternating passes (users, then items).
    seed : int
        Seeds the initial vectors.

    Attributes
    ----------
    user_factors_ : ndarray of shape (n_users, factors)
    item_factors_ : ndarray of shape (n_items, factors)
    losses_ : ndarray of shape (iterations,)
        :func:`ials_objective` after each iteration.

    References
    ----------
    S. Rendle, W. Krichene, L. Zhang and Y. Koren, "Revisiting the Performance of iALS on
    Item Recommendation Benchmarks", RecSys 2022 (arXiv 2110.14037).
    Y. Hu, Y. Koren and C. Volinsky, "Collaborative Filtering for Implicit Feedback
    Datasets", ICDM 2008.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from recsys_lessons.models import IALS
    >>> X = sp.random(30, 20, density=0.2, format="csr", random_state=0)
    >>> model = IALS(factors=4, regularization=0.1, unobserved_weight=0.1, iterations=5).fit(X)
    >>> model.user_factors_.shape, model.item_factors_.shape
    ((30, 4), (20, 4))
    >>> bool((model.losses_[1:] <= model.losses_[:-1] + 1e-9).all())
    True
    """

    def __init__(
        self,
        factors: int = 128,
        regularization: float = 0.005,
        unobserved_weight: float = 0.1,
        frequency_exponent: float = 1.0,
        iterations: int = 16,
        seed: int = 42,
    ):
        self.factors = factors
        self.regularization = regularization
        self.unobserved_weight = unobserved_weight
        self.frequency_exponent = frequency_exponent
        self.iterations = iterations
        self.seed = seed

    def _fit(self, X: sp.csr_matrix) -> None:
        factors = check_positive_int(self.factors, "factors", "the length of the vectors")
        iterations = check_positive_int(self.iterations, "iterations", "alternating passes")
        regularization = check_number(self.regularization, "regularization", low=0)
        weight = check_number(self.unobserved_weight, "unobserved_weight", low=0, low_open=True)
        exponent = check_number(self.frequency_exponent, "frequency_exponent", low=0)
        rng = np.random.default_rng(check_seed(self.seed))
        observed = _observed(X)
        by_item = observed.T.tocsr()
        user_penalty, item_penalty = _penalties(observed, regularization, weight, exponent)
        scale = 0.1 / np.sqrt(factors)
        users = rng.normal(0.0, scale, (X.shape[0], factors))
        items = rng.normal(0.0, scale, (X.shape[1], factors))
        losses = []
        for _ in range(iterations):
            users = _solve_side(observed, items, weight, user_penalty)
            items = _solve_side(by_item, users, weight, item_penalty)
            losses.append(
                ials_objective(X, users, items, regularization, weight, exponent, observed=observed)
            )
        self.user_factors_, self.item_factors_ = users, items
        self.losses_ = np.array(losses)

    def _score(self, users: np.ndarray) -> np.ndarray:
        return self.user_factors_[users] @ self.item_factors_.T


def ials_objective(
    X,
    user_factors,
    item_factors,
    regularization,
    unobserved_weight,
    frequency_exponent,
    observed=None,
) -> float:
    """The loss ``L(W, H)`` of :class:`IALS` (formula in its docstring), without a dense matrix.

    ``sum over all (u, i) of y^2 = trace(W^T W H^T H)``, so the cost is one pass over the
    observed pairs plus two ``factors x factors`` products.
    """
    observed = _observed(X) if observed is None else observed
    W, H = np.asarray(user_factors, float), np.asarray(item_factors, float)
    rows = np.repeat(np.arange(observed.shape[0]), np.diff(observed.indptr))
    predicted = np.einsum("ij,ij->i", W[rows], H[observed.indices])
    user_penalty, item_penalty = _penalties(
        observed, regularization, unobserved_weight, frequency_exponent
    )
    return float(
        np.sum((predicted - 1.0) ** 2)
        + unobserved_weight * np.sum((W.T @ W) * (H.T @ H))
        + user_penalty @ np.sum(W**2, axis=1)
        + item_penalty @ np.sum(H**2, axis=1)
    )


def _observed(X: sp.csr_matrix) -> sp.csr_matrix:
    """1.0 for every stored entry of ``X``."""
    X = sp.csr_matrix(X)
    return sp.csr_matrix((np.ones(X.nnz), X.indices, X.indptr), shape=X.shape)


def _penalties(observed, regularization, unobserved_weight, exponent):
    """``lambda * (|I_u| + alpha_0 |I|)^nu`` per user and ``lambda * (|U_i| + alpha_0 |U|)^nu``."""
    n_users, n_items = observed.shape
    per_user = np.diff(observed.indptr)
    per_item = np.bincount(observed.indices, minlength=n_items)
    user = regularization * (per_user + unobserved_weight * n_items) ** exponent
    item = regularization * (per_item + unobserved_weight * n_users) ** exponent
    return user, item


def _solve_side(observed: sp.csr_matrix, other: np.ndarray, weight: float, penalty) -> np.ndarray:
    """Exact least-squares vectors of every row of ``observed`` with ``other`` fixed."""
    n_rows, factors = observed.shape[0], other.shape[1]
    shared = weight * (other.T @ other)
    targets = observed @ other
    diagonal = np.arange(factors)
    solved = np.empty((n_rows, factors))
    for start in range(0, n_rows, SOLVE_BATCH):
        stop = min(start + SOLVE_BATCH, n_rows)
        systems = np.empty((stop - start, factors, factors))
        for offset, row in enumerate(range(start, stop)):
            vectors = other[observed.indices[observed.indptr[row] : observed.indptr[row + 1]]]
            np.matmul(vectors.T, vectors, out=systems[offset])
        systems += shared
        systems[:, diagonal, diagonal] += penalty[start:stop, None]
        solved[start:stop] = np.linalg.solve(systems, targets[start:stop, :, None])[..., 0]
    return solved
