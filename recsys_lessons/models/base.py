"""The one protocol every recommender in the course follows (scikit-learn style).

``fit(X) -> self`` learns from a user x item CSR matrix, ``score(users)`` returns one row of
item scores per user, and ``recommend(users, k)`` turns scores into ranked top-k lists with
the items a user has already seen removed. Hyperparameters are constructor arguments;
learned state ends in an underscore. Lesson 01 introduces the protocol.
"""

from __future__ import annotations

import inspect

import numpy as np
import scipy.sparse as sp

from recsys_lessons.data.matrix import InteractionMatrix
from recsys_lessons.top_k import top_k_indices
from recsys_lessons.validation import check_indices, check_is_fitted, check_k

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


class Recommender:
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
        items = np.empty((len(users), k), dtype=np.int64)
        scores = np.empty((len(users), k), dtype=np.float64)
        for start in range(0, len(users), RECOMMEND_BATCH):
            batch = users[start : start + RECOMMEND_BATCH]
            batch_scores = np.array(self._score(batch), dtype=np.float64)
            if exclude_seen:
                seen = self.X_[batch]
                rows = np.repeat(np.arange(len(batch)), np.diff(seen.indptr))
                batch_scores[rows, seen.indices] = -np.inf
            top = top_k_indices(batch_scores, k)
            items[start : start + len(batch)] = top
            scores[start : start + len(batch)] = np.take_along_axis(batch_scores, top, axis=1)
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

    def __repr__(self) -> str:
        params = ", ".join(
            f"{key}={_short_repr(value)}" for key, value in self.get_params().items()
        )
        return f"{type(self).__name__}({params})"

    def get_params(self) -> dict:
        """Constructor arguments and their current values (as in scikit-learn)."""
        parameters = inspect.signature(type(self).__init__).parameters.values()
        names = [
            p.name
            for p in parameters
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        return {name: getattr(self, name) for name in names}


def _short_repr(value) -> str:
    """``repr`` for scalars and small containers; a one-line summary for frames and arrays."""
    shape = getattr(value, "shape", None)
    if shape is not None and not np.isscalar(value):
        return f"<{type(value).__name__} {'x'.join(map(str, shape))}>"
    return repr(value)
