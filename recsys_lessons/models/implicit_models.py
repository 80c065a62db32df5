"""Matrix factorization for implicit feedback: thin wrappers over the ``implicit`` library.

``ALS`` (Hu, Koren & Volinsky 2008) and ``BPR`` (Rendle et al. 2009) learn a vector per user
and per item from clicks, plays or purchases (no ratings); both score by a dot product,
``score(u, i) = user_factors_[u] . item_factors_[i]``, so the inherited ``recommend``
ranks by ``U V^T`` and removes seen items. The CPU implementations are always used and run
single-threaded by default, with OpenBLAS's own thread pool limited to one thread during
fitting (``implicit`` is much slower otherwise and warns about it).

Lesson 04 (``notebooks/04_matrix_factorization.ipynb``) explains both losses.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from implicit.cpu.bpr import BayesianPersonalizedRanking
from implicit.recommender_base import ModelFitError
from threadpoolctl import threadpool_limits

from recsys_lessons.models.base import Recommender


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

    def _check_common(self, names: tuple[str, ...]) -> None:
        for name in names:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer; got {value!r}.")
        if not _is_number(self.regularization) or not 0 <= self.regularization < np.inf:
            raise ValueError(
                f"regularization must be zero or a positive, finite number; got "
                f"{self.regularization!r}."
            )
        threads = self.num_threads
        if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 0:
            raise ValueError(
                f"num_threads must be 0 (all cores) or a positive integer; got {threads!r}."
            )

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
        self._check_common(("factors", "iterations"))
        if not _is_number(self.alpha) or not 0 <= self.alpha < np.inf:
            raise ValueError(
                f"alpha must be zero or a positive, finite number; got {self.alpha!r}."
            )
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
        self._check_common(("factors", "iterations"))
        if not _is_number(self.learning_rate) or not 0 < self.learning_rate < np.inf:
            raise ValueError(
                f"learning_rate must be a positive, finite number; got {self.learning_rate!r}."
            )
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


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
