"""The one protocol every recommender in the course follows (scikit-learn style).

``fit(X) -> self`` learns from a user x item CSR matrix, ``score(users)`` returns one row of
item scores per user, and ``recommend(users, k)`` turns scores into ranked top-k lists with
the items a user has already seen removed. Lesson 01 introduces the protocol.

The scikit-learn promise, kept by :class:`Estimator` for every model of the course:

- hyperparameters are constructor arguments, stored unchanged under the same name; the
  constructor validates nothing and learns nothing (checks run in ``fit``);
- learned state ends in an underscore and is created by ``fit`` only;
- ``get_params(deep=True)`` / ``set_params(**params)`` read and change hyperparameters
  (``base__factors`` reaches the ``factors`` of a wrapped model), so
  ``sklearn.base.clone(model)`` gives an unfitted copy with the same hyperparameters;
- a model that wraps other models (a blend, an attribute mapping) fits clones of them and
  never changes the caller's objects;
- side information (item metadata, user segments) can be given to the constructor or to
  ``fit``; a value passed to ``fit`` wins for that fit.

A model that can score users it never saw, from their history alone and without retraining,
has a ``fold_in(history)`` method returning ``(n_new_users, n_items)`` scores
(:class:`~recsys_lessons.models.ALS`, :class:`~recsys_lessons.models.EASE`,
:class:`~recsys_lessons.models.ItemKNN`, ...; lesson 05).

One vocabulary for hyperparameters across the course: ``factors`` (length of the latent
vectors), ``iterations`` (passes over the data, epochs, boosting rounds), ``learning_rate``
(step size) and ``regularization`` (the L2 penalty).
"""

from __future__ import annotations

import inspect

import numpy as np
import scipy.sparse as sp

from recsys_lessons.data.matrix import InteractionMatrix
from recsys_lessons.top_k import top_k_of_long_rows
from recsys_lessons.validation import check_indices, check_is_fitted, check_k

__all__ = ["RECOMMEND_BATCH", "Estimator", "Recommender", "as_history_csr", "as_interaction_csr"]

#: Users scored at once by :meth:`Recommender.recommend`; bounds memory to
#: ``RECOMMEND_BATCH * n_items`` floats whatever the number of users.
RECOMMEND_BATCH = 2048


def as_interaction_csr(X, name: str = "X") -> sp.csr_matrix:
    """Return ``X`` as a float32 CSR matrix, or raise ``ValueError`` saying what is wrong.

    Accepts a SciPy sparse matrix or array, a dense 2-D array, or an
    :class:`~recsys_lessons.data.matrix.InteractionMatrix`.
    """
    if isinstance(X, InteractionMatrix):
        X = X.X
    if sp.issparse(X):
        X = sp.csr_matrix(X, dtype=np.float32)
    else:
        array = np.asarray(X, dtype=np.float32)
        if array.ndim != 2:
            raise ValueError(
                f"{name} must be a 2-D users x items matrix; got {array.ndim} dimension(s)."
            )
        X = sp.csr_matrix(array)
    if X.shape[0] == 0 or X.shape[1] == 0 or X.nnz == 0:
        raise ValueError(
            f"{name} is empty (shape {X.shape}, {X.nnz} interactions); a model needs data to learn from."
        )
    if not np.isfinite(X.data).all():
        raise ValueError(f"{name} holds NaN or infinite values; drop or fill them before fitting.")
    X.sort_indices()
    return X


def as_history_csr(history, n_items: int) -> sp.csr_matrix:
    """New users' histories as a float64 CSR matrix of ``n_items`` columns, for ``fold_in``.

    Accepts what :func:`as_interaction_csr` accepts; rows may be empty (a user without
    history), but the columns must be the model's item columns.
    """
    if isinstance(history, InteractionMatrix):
        history = history.X
    history = sp.csr_matrix(history, dtype=np.float64)
    if history.ndim != 2 or history.shape[1] != n_items:
        raise ValueError(
            f"history has {history.shape[1]} item columns but the model was fitted on {n_items}; "
            "build the history on the model's item columns (InteractionMatrix.like)."
        )
    if not np.isfinite(history.data).all():
        raise ValueError("history holds NaN or infinite values; drop or fill them first.")
    history.sort_indices()
    return history


class Estimator:
    """Hyperparameters as scikit-learn reads them: ``get_params``, ``set_params``, ``repr``.

    The parameters are the constructor's named arguments; each must be stored unchanged on
    an attribute of the same name, which makes ``sklearn.base.clone`` work.

    ``ALIASES`` maps other accepted spellings of a parameter to its name (FunkSVD accepts
    Surprise's ``n_factors`` for ``factors``). An alias is translated once, by the
    constructor or ``set_params``; ``get_params`` and ``repr`` only ever show the name, so
    ``clone`` round-trips whichever spelling was used.
    """

    ALIASES: dict[str, str] = {}

    @classmethod
    def _parameter_names(cls) -> list[str]:
        parameters = inspect.signature(cls.__init__).parameters.values()
        return [
            p.name
            for p in parameters
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]

    def get_params(self, deep: bool = True) -> dict:
        """Constructor arguments and their current values (as in scikit-learn).

        With ``deep=True`` the parameters of a wrapped model are included too, as
        ``<parameter>__<name>`` (``base__factors`` for an attribute mapping's ALS).
        """
        params = {name: getattr(self, name) for name in self._parameter_names()}
        if deep:
            for name, value in list(params.items()):
                if hasattr(value, "get_params") and not isinstance(value, type):
                    for inner, inner_value in value.get_params(deep=True).items():
                        params[f"{name}__{inner}"] = inner_value
        return params

    def set_params(self, **params) -> Estimator:
        """Change hyperparameters (``name=value``, or ``<parameter>__<name>`` for a wrapped
        model) and return ``self``. Unknown names are refused; a fitted model keeps its
        learned state until the next ``fit``."""
        names = self._parameter_names()
        nested: dict[str, dict] = {}
        for key, value in params.items():
            name, _, inner = key.partition("__")
            name = self.ALIASES.get(name, name)
            if name not in names:
                raise ValueError(
                    f"{type(self).__name__} has no parameter {key!r}; its parameters are "
                    f"{names}. Check the spelling (see help({type(self).__name__}))."
                )
            if inner:
                nested.setdefault(name, {})[inner] = value
            else:
                setattr(self, name, value)
        for name, inner_params in nested.items():
            inner_model = getattr(self, name)
            if not hasattr(inner_model, "set_params"):
                raise ValueError(
                    f"{type(self).__name__}.{name} is {inner_model!r}, which has no parameters "
                    f"to set; set {name} itself instead."
                )
            inner_model.set_params(**inner_params)
        return self

    def _set_aliases(self, aliases: dict) -> None:
        """Store the constructor's alias arguments under their names (see ``ALIASES``)."""
        defaults = {
            p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()
        }
        for alias, value in aliases.items():
            if alias not in self.ALIASES:
                raise TypeError(
                    f"{type(self).__name__}() got an unexpected keyword argument {alias!r}; its "
                    f"parameters are {self._parameter_names()}."
                )
            name = self.ALIASES[alias]
            if getattr(self, name) is not defaults[name]:
                raise TypeError(
                    f"{type(self).__name__}() got both {name!r} and its alias {alias!r}; pass "
                    f"{name!r} only."
                )
            setattr(self, name, value)

    def __repr__(self) -> str:
        params = ", ".join(
            f"{key}={_short_repr(value)}" for key, value in self.get_params(deep=False).items()
        )
        return f"{type(self).__name__}({params})"


class Recommender(Estimator):
    """Base class: subclasses implement ``_fit(X)`` and ``_score(users)``.

    Attributes
    ----------
    X_ : scipy.sparse.csr_matrix
        The training matrix; its stored entries are the "seen" items removed by
        ``recommend``, whatever their value: an explicit 0.0 rating counts as seen, as it
        counts for :class:`~recsys_lessons.models.baselines.Popularity` (one definition of
        "seen" everywhere, see :mod:`recsys_lessons.data.matrix`).
    n_users_, n_items_ : int
        Shape of the training matrix.
    """

    def fit(self, X) -> Recommender:
        """Learn from a user x item matrix (ratings or 1.0 for implicit feedback)."""
        self.X_ = as_interaction_csr(X)
        self.n_users_, self.n_items_ = self.X_.shape
        self._fit(self.X_)
        return self

    def score(self, users=None) -> np.ndarray:
        """Scores of every item for each user: array of shape ``(len(users), n_items)``.

        Higher means more recommendable. ``users`` are 0-based row indices (default: all).
        """
        return np.asarray(self._score(self._check_users(users)), dtype=np.float64)

    def recommend(self, users=None, k: int = 10, exclude_seen: bool = True):
        """Top-``k`` items per user, best first.

        Parameters
        ----------
        users : array-like of int, optional
            0-based user indices (default: every user of the training matrix).
        k : int
            List length, ``1 <= k <= n_items``.
        exclude_seen : bool
            Remove the items each user interacted with in the training matrix: its stored
            entries, an explicit 0.0 included.

        Returns
        -------
        items : ndarray of int, shape ``(len(users), k)``
        scores : ndarray of float, shape ``(len(users), k)``
            When a user has fewer than ``k`` unseen items, the tail of the row holds seen
            items with score ``-inf``, so the padding is visible rather than silent.
        """
        users = self._check_users(users)
        k = check_k(k, self.n_items_)
        return self._rank_in_batches(
            users, k, exclude_seen, RECOMMEND_BATCH,
            lambda batch: np.array(self._score(batch), dtype=np.float64), top_k_of_long_rows,
        )  # fmt: skip

    def _rank_in_batches(self, users, k, exclude_seen, batch_size, batch_scores, top_k):
        """The top-``k`` of ``users``, ``batch_size`` users at a time.

        ``batch_scores(batch)`` returns a writable float array of the batch's scores (seen
        items are set to ``-inf`` in it when ``exclude_seen``); ``top_k(scores, k)`` ranks it
        (:func:`~recsys_lessons.top_k.top_k_of_long_rows`, or a function with the lists of
        :func:`~recsys_lessons.top_k.top_k_indices`).
        """
        items = np.empty((len(users), k), dtype=np.int64)
        scores = np.empty((len(users), k), dtype=np.float64)
        for start in range(0, len(users), batch_size):
            batch = users[start : start + batch_size]
            values = batch_scores(batch)
            if exclude_seen:
                seen = self.X_[batch]
                rows = np.repeat(np.arange(len(batch)), np.diff(seen.indptr))
                values[rows, seen.indices] = -np.inf
            top = top_k(values, k)
            items[start : start + len(batch)] = top
            scores[start : start + len(batch)] = np.take_along_axis(values, top, axis=1)
        return items, scores

    def _require_fitted(self) -> None:
        check_is_fitted(self, "X_")

    def _check_users(self, users) -> np.ndarray:
        self._require_fitted()
        if users is None:
            return np.arange(self.n_users_)
        return check_indices(users, self.n_users_, "user")

    def _fit(self, X: sp.csr_matrix) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _score(self, users: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


def _short_repr(value) -> str:
    """``repr`` for scalars and small containers; a one-line summary for frames and arrays."""
    shape = getattr(value, "shape", None)
    if shape is not None and not np.isscalar(value):
        return f"<{type(value).__name__} {'x'.join(map(str, shape))}>"
    return repr(value)
