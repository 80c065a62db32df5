"""Matrix factorization for implicit feedback: thin wrappers over the ``implicit`` library.

``ALS`` (Hu, Koren & Volinsky 2008) and ``BPR`` (Rendle et al. 2009) learn a vector per user
and per item from clicks, plays or purchases (no ratings); both score by a dot product,
``score(u, i) = user_factors_[u] . item_factors_[i]``, so the inherited ``recommend``
ranks by ``U V^T`` and removes seen items. The CPU implementations are always used and run
single-threaded by default, with OpenBLAS's own thread pool limited to one thread during
fitting (``implicit`` is much slower otherwise and warns about it).

Lesson 04 (``notebooks/04_matrix_factorization.ipynb``) explains both losses; lesson 05
folds new users into ALS without retraining (:meth:`ALS.fold_in`, :func:`als_fold_in`).

``alpha`` in this module is ALS's confidence per unit of interaction strength
(``c_ui = 1 + alpha * X[u, i]``), nothing else.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from implicit.cpu.bpr import BayesianPersonalizedRanking
from implicit.recommender_base import ModelFitError
from threadpoolctl import threadpool_limits

from recsys_lessons.models.base import Recommender, as_history_csr
from recsys_lessons.validation import (
    check_finite_array,
    check_non_negative_int,
    check_number,
    check_positive_int,
)

__all__ = ["ALS", "BPR", "FOLD_IN_BATCH_FLOATS", "als_fold_in"]

#: Bound on ``interactions_in_batch * factors**2`` floats held at once by :func:`als_fold_in`.
FOLD_IN_BATCH_FLOATS = 2**23


class _ImplicitFactorization(Recommender):
    """Shared plumbing: fit an ``implicit`` model on one BLAS thread, keep its factors."""

    def _fit(self, X: sp.csr_matrix) -> None:
        if (X.data < 0).any():
            raise ValueError(
                f"{type(self).__name__} needs non-negative interaction strengths (clicks, plays, "
                "1.0 per event); X holds negative values."
            )
        # implicit checks the BLAS thread count when a model is *constructed*, so both the
        # construction and the fit run inside the limit.
        with threadpool_limits(1, "blas"):
            model = self._implicit_model()
            training = self._training_matrix(X)
            try:
                with np.errstate(over="ignore", invalid="ignore"):
                    model.fit(training, show_progress=False)
            except ModelFitError as error:
                raise ValueError(self._diverged(f"implicit says: {error}")) from None
        self.user_factors_ = np.asarray(model.user_factors)
        self.item_factors_ = np.asarray(model.item_factors)
        if not (np.isfinite(self.user_factors_).all() and np.isfinite(self.item_factors_).all()):
            raise ValueError(self._diverged("the factors hold NaN or infinite values"))

    def _diverged(self, what: str) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def _score(self, users: np.ndarray) -> np.ndarray:
        return self.user_factors_[users] @ self.item_factors_.T

    def _check_common(self) -> None:
        check_positive_int(self.factors, "factors", "the length of the user and item vectors")
        check_positive_int(self.iterations, "iterations", "passes over the data")
        check_number(self.regularization, "regularization", low=0)
        check_non_negative_int(self.num_threads, "num_threads", "0 means all cores")

    def _implicit_model(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _training_matrix(self, X: sp.csr_matrix) -> sp.csr_matrix:  # pragma: no cover - abstract
        raise NotImplementedError


class ALS(_ImplicitFactorization):
    """Implicit-feedback ALS (Hu, Koren & Volinsky 2008) via ``implicit.cpu.als``.

    Every cell of the user x item matrix is fitted, observed or not, with a confidence
    weight::

        minimise  sum over all (u, i) of c_ui * (p_ui - x_u . y_i)^2
                  + regularization * (sum_u |x_u|^2 + sum_i |y_i|^2)

        p_ui = 1 if X[u, i] > 0 else 0          (preference)
        c_ui = 1 + alpha * X[u, i]              (confidence; 1 for an empty cell)

    The wrapper passes the confidence matrix ``C = 1 + alpha * X`` (on the stored entries)
    to ``implicit`` with its own ``alpha`` set to 1: ``implicit`` weights a stored entry by
    its value and an empty cell by 1, so this is exactly the paper's weighting. (Calling
    ``implicit`` directly with ``alpha=a`` gives c_ui = a * X[u, i] instead.) For binary
    data every observed pair gets weight ``1 + alpha``; with counts, more plays mean more
    confidence. Training alternates closed-form least-squares solves for all users (items
    fixed) and all items (users fixed), using ``implicit``'s conjugate-gradient solver.

    Parameters
    ----------
    factors : int
        Length of the user and item vectors.
    regularization : float
        L2 penalty on the vectors.
    alpha : float
        Extra confidence per unit of interaction strength.
    iterations : int
        Alternating passes (users, then items).
    seed : int
        Seeds the random initial factors.
    num_threads : int
        Threads ``implicit`` uses to fit (0 = all cores).

    Attributes
    ----------
    user_factors_ : ndarray of shape (n_users, factors)
    item_factors_ : ndarray of shape (n_items, factors)
    item_gram_ : ndarray of shape (factors, factors)
        ``Y^T Y`` in float64, shared by every fold-in.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from recsys_lessons.models import ALS
    >>> X = sp.random(30, 20, density=0.2, format="csr", random_state=0)
    >>> X.data[:] = 1.0
    >>> model = ALS(factors=4, iterations=3).fit(X)
    >>> model.user_factors_.shape, model.item_factors_.shape
    ((30, 4), (20, 4))
    >>> items, scores = model.recommend([0, 1], k=5)
    >>> items.shape
    (2, 5)
    >>> bool(X[0, items[0]].nnz)  # the items user 0 has seen are never recommended
    False
    >>> model.fold_in(X[:2]).shape  # two new users with the histories of users 0 and 1
    (2, 20)

    Notes
    -----
    The defaults won a grid search on MovieLens 100K (binary feedback, validation split
    carved from the training part of the Microsoft Recommenders 75/25 split, nDCG@10).
    ``regularization`` is not scaled by the number of interactions, which is why its best
    value is large; it grows with the size of the data.
    """

    def __init__(
        self,
        factors: int = 32,
        regularization: float = 30.0,
        alpha: float = 2.0,
        iterations: int = 15,
        seed: int = 42,
        num_threads: int = 1,
    ):
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.seed = seed
        self.num_threads = num_threads

    def _implicit_model(self) -> AlternatingLeastSquares:
        self._check_common()
        check_number(self.alpha, "alpha", low=0)
        return AlternatingLeastSquares(
            factors=self.factors,
            regularization=self.regularization,
            alpha=1.0,
            iterations=self.iterations,
            random_state=self.seed,
            num_threads=self.num_threads,
        )

    def _training_matrix(self, X: sp.csr_matrix) -> sp.csr_matrix:
        confidence = X.copy()
        with np.errstate(over="ignore"):
            confidence.data = (1.0 + self.alpha * X.data).astype(np.float32)
        if not np.isfinite(confidence.data).all():
            raise ValueError(
                f"alpha={self.alpha!r} times the largest value in X ({X.data.max():g}) overflows "
                "the confidence weights 1 + alpha * X (float32). Lower alpha (values of 1 to "
                "100 are usual) or scale X down."
            )
        return confidence

    def _fit(self, X: sp.csr_matrix) -> None:
        super()._fit(X)
        item_factors = self.item_factors_.astype(np.float64)
        self.item_gram_ = item_factors.T @ item_factors

    def fold_in_factors(self, history) -> np.ndarray:
        """The user vectors of new users known only by ``history``, items fixed.

        :func:`als_fold_in` with the model's item factors, ``regularization`` and ``alpha``:
        the exact vector the next ALS pass would give each history, one batched solve.

        Parameters
        ----------
        history : sparse matrix or array, shape (n_new_users, n_items)
            Interaction strengths (1.0 per event for binary data).

        Returns
        -------
        ndarray, shape (n_new_users, factors)
        """
        self._require_fitted()
        return als_fold_in(
            self.item_factors_,
            as_history_csr(history, self.n_items_),
            self.regularization,
            self.alpha,
            gram=self.item_gram_,
        )

    def fold_in(self, history) -> np.ndarray:
        """Scores of every item for new users known only by ``history``, without retraining.

        ``score(u, i) = x_u . y_i`` with ``x_u`` from :meth:`fold_in_factors`. Lesson 05.

        Returns
        -------
        ndarray, shape (n_new_users, n_items)
        """
        vectors = self.fold_in_factors(history)
        return vectors @ np.asarray(self.item_factors_, dtype=np.float64).T

    def _diverged(self, what: str) -> str:
        return (
            f"ALS training diverged ({what}). Lower alpha (now {self.alpha!r}; confidence "
            f"1 + alpha * X must stay moderate) or change regularization (now "
            f"{self.regularization!r}); very large values of X need scaling down too."
        )


class BPR(_ImplicitFactorization):
    """Bayesian Personalized Ranking (Rendle et al. 2009) via ``implicit.cpu.bpr``.

    Learns to rank a user's observed items above unobserved ones. Each SGD step samples a
    user ``u``, an item ``i`` they interacted with and an item ``j`` they did not, and
    ascends::

        ln sigmoid(score(u, i) - score(u, j)) - regularization * (|x_u|^2 + |y_i|^2 + |y_j|^2)

    with ``score(u, i) = x_u . y_i + b_i``. Every stored entry of ``X`` counts as one
    positive; its value is ignored.

    Parameters
    ----------
    factors : int
        Length of the user and item vectors (without the bias).
    learning_rate : float
        SGD step size.
    regularization : float
        L2 penalty on the vectors.
    iterations : int
        Epochs: each samples as many (u, i, j) triples as ``X`` has stored entries.
    seed : int
        Seeds the initial factors and the sampling.
    num_threads : int
        Threads ``implicit`` uses to fit. With more than one, the threads update shared
        factors without locks (Hogwild), so results are no longer exactly reproducible.

    Attributes
    ----------
    user_factors_ : ndarray of shape (n_users, factors + 1)
        Last column is constant 1.
    item_factors_ : ndarray of shape (n_items, factors + 1)
        Last column is the item bias ``b_i``, so ``user_factors_ @ item_factors_.T`` is the
        score above.

    Notes
    -----
    The defaults are close to the best of a grid search on MovieLens 100K (binary feedback,
    validation split carved from the training part of the Microsoft Recommenders 75/25
    split, nDCG@10): more epochs or a larger step size overfit there.
    """

    def __init__(
        self,
        factors: int = 64,
        learning_rate: float = 0.01,
        regularization: float = 0.001,
        iterations: int = 50,
        seed: int = 42,
        num_threads: int = 1,
    ):
        self.factors = factors
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.iterations = iterations
        self.seed = seed
        self.num_threads = num_threads

    def _implicit_model(self) -> BayesianPersonalizedRanking:
        self._check_common()
        check_number(self.learning_rate, "learning_rate", low=0, low_open=True)
        return BayesianPersonalizedRanking(
            factors=self.factors,
            learning_rate=self.learning_rate,
            regularization=self.regularization,
            iterations=self.iterations,
            random_state=self.seed,
            num_threads=self.num_threads,
        )

    def _training_matrix(self, X: sp.csr_matrix) -> sp.csr_matrix:
        return X

    def _diverged(self, what: str) -> str:
        return (
            f"BPR training diverged ({what}): the SGD steps are too large. Lower "
            f"learning_rate (now {self.learning_rate!r}; 0.01 to 0.1 is usual), or "
            f"regularization (now {self.regularization!r})."
        )


def als_fold_in(
    item_factors, history, regularization: float, alpha: float, gram=None
) -> np.ndarray:
    """The ALS user vectors of new users, from their history alone (items stay fixed).

    For each user, the exact minimiser of ALS's loss with ``Y = item_factors`` fixed::

        x_u = (Y^T C_u Y + regularization * I)^-1  Y^T C_u p_u
        Y^T C_u Y = Y^T Y + sum over history items i of alpha * r_ui * y_i y_i^T
        Y^T C_u p_u = sum over history items i of (1 + alpha * r_ui) * y_i

    with ``c_ui = 1 + alpha * r_ui`` as in :class:`ALS`. Only the user's own items enter the
    sums; ``Y^T Y`` is shared by everybody. This is what ``implicit``'s ``recalculate_user``
    computes (given the confidences ``1 + alpha * r``). Users with an empty history get the
    zero vector. All users are solved in batches of at most :data:`FOLD_IN_BATCH_FLOATS`
    floats, without a Python loop over users. Lesson 05.

    Parameters
    ----------
    item_factors : ndarray, shape (n_items, factors)
    history : scipy.sparse matrix, shape (n_users, n_items)
        Interaction strengths ``r_ui`` (1.0 per event for binary data).
    regularization, alpha : float
        The values the ALS model was trained with.
    gram : ndarray, shape (factors, factors), optional
        ``Y^T Y`` if already computed (``ALS.item_gram_``), so a single request does not
        recompute it.

    Returns
    -------
    ndarray, shape (n_users, factors)

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> Y = np.eye(3)  # three items, each on its own axis
    >>> history = sp.csr_matrix([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])  # the 2nd user has none
    >>> np.round(als_fold_in(Y, history, regularization=1.0, alpha=1.0), 4).tolist()
    [[0.6667, 0.0, 0.0], [0.0, 0.0, 0.0]]

    Raises
    ------
    ValueError
        If ``history`` (or ``gram``, or ``item_factors`` when no ``gram`` is given) holds NaN
        or infinite values, the shapes disagree, or ``regularization`` / ``alpha`` is not a
        finite number >= 0. (With ``gram``, as from a fitted ALS, the item factors are the
        model's own and are not scanned again on every request.)
    """
    Y = np.asarray(item_factors, dtype=np.float64)
    if gram is None:
        check_finite_array(Y, "item_factors")
    else:
        gram = check_finite_array(gram, "gram", meaning="Y^T Y of the item factors")
    history = sp.csr_matrix(history, dtype=np.float64)
    check_finite_array(history.data, "history", meaning="interaction strengths")
    history.eliminate_zeros()
    if Y.ndim != 2 or history.shape[1] != Y.shape[0]:
        raise ValueError(
            f"history has {history.shape[1]} item columns but item_factors has shape {Y.shape}; "
            "build the history on the model's item columns."
        )
    regularization = check_number(regularization, "regularization", low=0)
    alpha = check_number(alpha, "alpha", low=0)
    n_users, k = history.shape[0], Y.shape[1]
    base = (Y.T @ Y if gram is None else gram) + regularization * np.eye(k)
    vectors = np.zeros((n_users, k))
    counts = np.diff(history.indptr)
    batch_size = max(1, FOLD_IN_BATCH_FLOATS // (k * k))
    start = 0
    while start < n_users:
        # users whose interactions fit in one batch (at least one user)
        limit = history.indptr[start] + batch_size
        stop = max(start + 1, int(np.searchsorted(history.indptr, limit, side="right")) - 1)
        stop = min(stop, n_users)
        users = np.arange(start, stop)
        active = users[counts[users] > 0]
        if len(active):
            block = history[active]
            starts = block.indptr[:-1]
            y = Y[block.indices]
            outer = (alpha * block.data)[:, None, None] * y[:, :, None] * y[:, None, :]
            A = base + np.add.reduceat(outer, starts, axis=0)
            b = np.add.reduceat((1.0 + alpha * block.data)[:, None] * y, starts, axis=0)
            vectors[active] = np.linalg.solve(A, b[:, :, None])[:, :, 0]
        start = stop
    return vectors
