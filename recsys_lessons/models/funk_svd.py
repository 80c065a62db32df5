"""Biased matrix factorization for explicit ratings ("FunkSVD"), trained by mini-batch SGD.

Lesson 04 (``notebooks/04_matrix_factorization.ipynb``) derives the update rule, plots the
train/validation learning curves stored in ``history_`` and asks for one SGD step as an
exercise.

Hyperparameters use the course's vocabulary (``factors``, ``iterations``, ``learning_rate``,
``regularization``); the Surprise library's names are accepted as aliases (see
:attr:`FunkSVD.ALIASES`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys_lessons.models.base import Recommender, as_interaction_csr
from recsys_lessons.validation import check_number, check_positive_int

__all__ = ["FunkSVD"]


class FunkSVD(Recommender):
    """Biased matrix factorization of a ratings matrix (Funk 2006; Koren, Bell & Volinsky 2009).

    Predicted rating::

        r_hat(u, i) = mu + b_u + b_i + p_u . q_i

    with ``mu`` the global mean rating of the training data, ``b_u`` / ``b_i`` user and
    item biases and ``p_u`` / ``q_i`` vectors of ``factors`` latent factors. Only the
    observed ratings (the stored entries of ``X``) are fitted; an empty cell means
    "not rated", never "rated zero". The loss is::

        sum over observed (u, i) of (r_ui - r_hat(u, i))^2
            + bias_regularization * (b_u^2 + b_i^2) + regularization * (|p_u|^2 + |q_i|^2)

    minimised by stochastic gradient descent. With ``e = r_ui - r_hat(u, i)``, ``lr`` the
    ``learning_rate``, ``reg`` the ``regularization`` and ``reg_bias`` the
    ``bias_regularization``, one step on one rating is::

        b_u <- b_u + lr * (e - reg_bias * b_u)        b_i <- b_i + lr * (e - reg_bias * b_i)
        p_u <- p_u + lr * (e * q_i - reg * p_u)       q_i <- q_i + lr * (e * p_u - reg * q_i)

    Each epoch (one of the ``iterations``) shuffles the ratings and applies these steps
    ``batch_size`` ratings at a time in vectorized numpy: the steps of one mini-batch are
    computed from the same parameter values and *summed* (not averaged) into the
    parameters, so ``learning_rate`` and ``regularization`` mean the same as in per-rating
    SGD (Funk 2006, the Surprise library) and ``batch_size`` only trades speed against
    slightly staler gradients.

    Parameters
    ----------
    factors : int
        Length of each user and item vector (alias ``n_factors``).
    iterations : int
        Epochs: passes over the training ratings (alias ``n_epochs``).
    learning_rate : float
        SGD step size per rating (alias ``lr``).
    regularization : float
        L2 penalty on the factor vectors ``p_u`` and ``q_i`` (alias ``reg``).
    bias_regularization : float
        L2 penalty on the biases ``b_u`` and ``b_i`` (alias ``reg_bias``).
    batch_size : int
        Ratings per vectorized SGD step.
    init_std : float
        Standard deviation of the normal distribution the factors start from (biases start at 0).
    seed : int
        Seeds the initial factors and the order of the ratings in every epoch.

    Attributes
    ----------
    global_mean_ : float
        ``mu``, the mean training rating.
    user_bias_, item_bias_ : ndarray of shape (n_users,) and (n_items,)
    user_factors_, item_factors_ : ndarray of shape (n_users, factors) and (n_items, factors)
    rating_range_ : tuple of float
        Lowest and highest training rating; :meth:`predict` clips to it.
    X_val_ : scipy.sparse.csr_matrix or None
        The validation ratings given to :meth:`fit`, if any.
    history_ : pandas.DataFrame
        One row per epoch: ``epoch``, ``train_rmse`` and ``val_rmse`` (NaN without
        validation data), both measured after the epoch with :meth:`rmse`.

    Notes
    -----
    **Aliases.** The Surprise library's names are accepted by the constructor and by
    :meth:`set_params`: ``n_factors``, ``n_epochs``, ``lr``, ``reg`` and ``reg_bias`` (see
    ``FunkSVD.ALIASES``). They are translated once: ``FunkSVD(lr=0.05).learning_rate`` is
    0.05, ``get_params`` and ``repr`` show ``learning_rate``, and ``sklearn.base.clone``
    round-trips the model. Passing a name and its alias together is refused.

    The defaults are the best 100-factor configuration of the grid search in
    ``benchmarks/funk_svd_folds.py`` (MovieLens 100K, validation split carved out of
    ``u1.base`` only); the overall winner, with 200 factors, validates only 0.002 RMSE
    better at twice the cost. Small initial factors (``init_std=0.02``) and strong
    ``regularization`` matter most: Surprise's defaults (``init_std=0.1``, ``reg=0.02``,
    20 epochs) overfit the factors and land near 0.94.
    """

    #: Surprise's spellings, accepted by the constructor and ``set_params``.
    ALIASES = {
        "n_factors": "factors",
        "n_epochs": "iterations",
        "lr": "learning_rate",
        "reg": "regularization",
        "reg_bias": "bias_regularization",
    }

    def __init__(
        self,
        factors: int = 100,
        iterations: int = 45,
        learning_rate: float = 0.01,
        regularization: float = 0.08,
        bias_regularization: float = 0.02,
        batch_size: int = 256,
        init_std: float = 0.02,
        seed: int = 42,
        **aliases,
    ):
        self.factors = factors
        self.iterations = iterations
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.bias_regularization = bias_regularization
        self.batch_size = batch_size
        self.init_std = init_std
        self.seed = seed
        self._set_aliases(aliases)

    def fit(self, X, X_val=None) -> FunkSVD:
        """Learn biases and factors from the stored ratings of ``X``.

        Parameters
        ----------
        X : sparse matrix, dense array or InteractionMatrix, shape (n_users, n_items)
            Training ratings; the stored entries are the observed ratings.
        X_val : same kinds, optional
            Held-out ratings of the same shape, used only to record ``val_rmse`` in
            ``history_`` after every epoch (never to train).
        """
        self.X_val_ = None if X_val is None else as_interaction_csr(X_val, "X_val")
        return super().fit(X)

    def _fit(self, X: sp.csr_matrix) -> None:
        self._check_hyperparameters()
        if self.X_val_ is not None and self.X_val_.shape != X.shape:
            raise ValueError(
                f"X_val has shape {self.X_val_.shape} but X has shape {X.shape}; build both with "
                "the same user and item ids (InteractionMatrix.like)."
            )
        users, items, ratings = _observed(X)
        rng = np.random.default_rng(self.seed)
        self.global_mean_ = float(ratings.mean())
        self.rating_range_ = (float(ratings.min()), float(ratings.max()))
        self.user_bias_ = np.zeros(X.shape[0])
        self.item_bias_ = np.zeros(X.shape[1])
        self.user_factors_ = rng.normal(0.0, self.init_std, (X.shape[0], self.factors))
        self.item_factors_ = rng.normal(0.0, self.init_std, (X.shape[1], self.factors))
        history = []
        for epoch in range(1, self.iterations + 1):
            order = rng.permutation(len(ratings))
            with np.errstate(over="ignore", invalid="ignore"):
                for start in range(0, len(order), self.batch_size):
                    batch = order[start : start + self.batch_size]
                    self._sgd_step(users[batch], items[batch], ratings[batch])
            if not all(
                np.isfinite(values).all()
                for values in (
                    self.user_factors_,
                    self.item_factors_,
                    self.user_bias_,
                    self.item_bias_,
                )
            ):
                raise ValueError(
                    f"training diverged in epoch {epoch} (the parameters overflowed): "
                    f"{self._divergence_cause()}"
                )
            val_rmse = np.nan if self.X_val_ is None else self.rmse(self.X_val_)
            history.append((epoch, self.rmse(X), val_rmse))
        self.history_ = pd.DataFrame(history, columns=["epoch", "train_rmse", "val_rmse"])

    def _sgd_step(self, users: np.ndarray, items: np.ndarray, ratings: np.ndarray) -> None:
        """One vectorized SGD step on a mini-batch; repeated users/items add up."""
        p, q = self.user_factors_[users], self.item_factors_[items]
        b_u, b_i = self.user_bias_[users], self.item_bias_[items]
        lr, reg, reg_bias = self.learning_rate, self.regularization, self.bias_regularization
        error = ratings - (self.global_mean_ + b_u + b_i + np.einsum("ij,ij->i", p, q))
        np.add.at(self.user_bias_, users, lr * (error - reg_bias * b_u))
        np.add.at(self.item_bias_, items, lr * (error - reg_bias * b_i))
        _add_rows(self.user_factors_, users, lr * (error[:, None] * q - reg * p))
        _add_rows(self.item_factors_, items, lr * (error[:, None] * p - reg * q))

    def predict(self, users, items) -> np.ndarray:
        """Predicted ratings of (user, item) pairs, clipped to the training rating scale.

        ``r_hat(u, i) = mu + b_u + b_i + p_u . q_i``, clipped to ``rating_range_`` (a
        prediction of 5.3 on a 1..5 scale becomes 5.0, which can only lower the error).

        Parameters
        ----------
        users, items : array-like of int, same length
            0-based row and column indices; ``predict(users, items)[j]`` is the rating of
            ``items[j]`` by ``users[j]``.
        """
        users = self._check_users(users)
        items = np.atleast_1d(np.asarray(items)).ravel()
        if len(items) != len(users):
            raise ValueError(
                f"users and items must pair up one to one; got {len(users)} users and "
                f"{len(items)} items."
            )
        if (
            not np.issubdtype(items.dtype, np.integer)
            or items.min() < 0
            or items.max() >= self.n_items_
        ):
            raise ValueError(
                f"items must be integer column indices in 0..{self.n_items_ - 1}; map raw ids "
                "with InteractionMatrix.item_index first."
            )
        raw = (
            self.global_mean_
            + self.user_bias_[users]
            + self.item_bias_[items]
            + np.einsum("ij,ij->i", self.user_factors_[users], self.item_factors_[items])
        )
        return np.clip(raw, *self.rating_range_)

    def rmse(self, X) -> float:
        """Root mean squared error of :meth:`predict` on the stored ratings of ``X``.

        ``sqrt(mean over stored (u, i) of (r_ui - r_hat(u, i))^2)``; ``X`` must have the
        training matrix's shape.
        """
        X = as_interaction_csr(X)
        if X.shape != (self.n_users_, self.n_items_):
            raise ValueError(
                f"X has shape {X.shape} but the model was fitted on {(self.n_users_, self.n_items_)}; "
                "build it with the training matrix's ids (InteractionMatrix.like)."
            )
        users, items, ratings = _observed(X)
        return float(np.sqrt(np.mean((ratings - self.predict(users, items)) ** 2)))

    def _score(self, users: np.ndarray) -> np.ndarray:
        """Unclipped predicted ratings of every item, so the top of the scale is not a tie."""
        return (
            self.global_mean_
            + self.user_bias_[users, None]
            + self.item_bias_[None, :]
            + self.user_factors_[users] @ self.item_factors_.T
        )

    def _divergence_cause(self) -> str:
        """Name the hyperparameter(s) outside their usual range that made the steps too large."""
        causes = []
        lr = self.learning_rate
        if lr > 0.1:
            causes.append(f"learning_rate is {lr!r}; lower it (0.005 to 0.05 is usual)")
        for name in ("regularization", "bias_regularization"):
            value = getattr(self, name)
            if value > 1.0 and lr * value >= 0.5:
                causes.append(
                    f"{name} is {value!r}, so learning_rate * {name} = {lr * value:g}: each step "
                    f"scales a parameter by 1 - learning_rate * {name}, which must stay near 1; "
                    f"lower {name} (0.001 to 0.1 is usual)"
                )
        if self.init_std > 1.0:
            causes.append(
                f"init_std is {self.init_std!r}: factors that large make huge first "
                "predictions and errors; start them small (0.01 to 0.1)"
            )
        if not causes:
            causes.append(
                f"the steps are too large for these ratings; lower learning_rate (now {lr!r}), "
                f"regularization (now {self.regularization!r}) or bias_regularization (now "
                f"{self.bias_regularization!r}): learning_rate times either penalty must stay "
                "well below 1"
            )
        return "; ".join(causes) + "."

    def _check_hyperparameters(self) -> None:
        check_positive_int(self.factors, "factors", "the length of each vector")
        check_positive_int(self.iterations, "iterations", "passes over the ratings")
        check_positive_int(self.batch_size, "batch_size", "ratings per SGD step")
        check_number(self.learning_rate, "learning_rate", low=0, low_open=True)
        for name in ("regularization", "bias_regularization", "init_std"):
            check_number(getattr(self, name), name, low=0)


def _observed(X: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row indices, column indices and values of the stored entries of a CSR matrix."""
    users = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    return users, X.indices.astype(np.int64), X.data.astype(np.float64)


def _add_rows(matrix: np.ndarray, rows: np.ndarray, updates: np.ndarray) -> None:
    """``matrix[rows] += updates`` where a repeated row receives the sum of its updates.

    Same result as ``np.add.at(matrix, rows, updates)``, written on the flattened matrix
    because numpy's one-dimensional ``add.at`` is several times faster.
    """
    n_columns = matrix.shape[1]
    flat_positions = rows[:, None] * n_columns + np.arange(n_columns)
    np.add.at(np.reshape(matrix, -1, copy=False), flat_positions.ravel(), updates.ravel())
