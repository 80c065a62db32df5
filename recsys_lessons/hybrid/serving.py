"""Batch vs real-time serving of a factor model.

- **Batch**: a nightly job scores every user and stores their top-``N`` table; a request is a
  lookup (microseconds) but the table is as old as the job: whatever the user did since is
  ignored (:class:`BatchTable`).
- **Real time**: at request time, fold the user's latest history into a user vector with
  the model's item factors fixed (one ALS least-squares solve), query the ANN index, filter
  what they have seen (:class:`RealTimeRecommender`). Milliseconds, always fresh.

The fold-in is the model's own (:meth:`recsys_lessons.models.ALS.fold_in_factors`, batched
over users); every watched item counts once, so for the watched items ``I`` with confidence
``c = 1 + alpha`` it solves::

    x_u = (Y^T Y + Y_I^T (c - 1) Y_I + regularization * Id)^-1  Y_I^T c

(Hu, Koren & Volinsky 2008, the same solve ALS runs for every user in each pass).
Lesson 06 (``notebooks/06_hybrid_ranking.ipynb``) measures latency and the nDCG a stale
table loses.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from recsys_lessons.hybrid.candidates import IndexRetriever
from recsys_lessons.validation import (
    check_indices,
    check_is_fitted,
    check_k,
    check_positive_int,
    is_integer,
)


class BatchTable:
    """Every user's precomputed top-``n`` list, as a batch job would store it.

    Attributes (after :meth:`build`)
    --------------------------------
    items_ : ndarray (n_users, n)
    build_seconds_ : float
    nbytes_ : int, size of the stored table
    """

    def __init__(self, n: int = 100):
        self.n = n

    def build(self, recommender, users) -> BatchTable:
        """Run ``recommender.recommend(users, k=n)`` once for everybody and keep the table.

        Raises
        ------
        ValueError
            If ``n`` is not a positive integer or ``users`` is not a non-empty array of
            integer user indices.
        """
        n = check_positive_int(self.n, "n", "items stored per user")
        users = np.atleast_1d(np.asarray(users))
        if users.size == 0 or not np.issubdtype(users.dtype, np.integer):
            raise ValueError(
                f"users must be a non-empty array of integer user indices; got {users!r:.80}."
            )
        started = time.perf_counter()
        self.users_ = users
        self.items_, _ = recommender.recommend(self.users_, k=n)
        self.build_seconds_ = time.perf_counter() - started
        self.nbytes_ = int(self.items_.nbytes)
        self._row = {int(user): row for row, user in enumerate(self.users_)}
        return self

    def lookup(self, user: int, k: int = 10) -> np.ndarray:
        """The stored top-``k`` of one user (a dictionary lookup and a slice).

        Raises
        ------
        ValueError
            Before :meth:`build`; if ``user`` is not an integer in the table, or ``k`` is not
            a positive integer (a ``k`` above ``n`` returns the ``n`` stored items).
        """
        check_is_fitted(self, "items_", "build(recommender, users)")
        if not is_integer(user) or user not in self._row:
            raise ValueError(
                f"user {user!r} is not in the batch table; pass an integer user index of the "
                "table, or rebuild it with that user."
            )
        k = check_k(k)
        return self.items_[self._row[user], :k]


class RealTimeRecommender:
    """Fold in a user's latest history and query the index at request time.

    Parameters
    ----------
    model : fitted ALS
        Any fitted model with ``item_factors_`` and ``fold_in_factors(history)``.
    index : ExactIndex or ApproximateIndex with metric ``"dot"`` (built here)
    """

    def __init__(self, model, index):
        self.model = model
        self.retriever = IndexRetriever(model, index)

    def user_vector(self, history) -> np.ndarray:
        """The user vector of one history (item indices), item factors fixed."""
        return self.user_vectors(self._history_row(history))[0]

    def user_vectors(self, histories) -> np.ndarray:
        """The user vectors of every row of a users x items matrix, in one batched fold-in.

        Every stored entry counts as one watch (value 1), whatever its value.
        """
        watched = sp.csr_matrix(histories, dtype=np.float64, copy=True)
        watched.eliminate_zeros()
        watched.data[:] = 1.0
        return self.model.fold_in_factors(watched)

    def _history_row(self, history) -> sp.csr_matrix:
        n_items = len(self.model.item_factors_)
        history = np.unique(check_indices(history, n_items, "item", allow_empty=True))
        return sp.csr_matrix(
            (np.ones(len(history)), (np.zeros(len(history), dtype=np.int64), history)),
            shape=(1, n_items),
        )

    def recommend(self, history, k: int = 10) -> np.ndarray:
        """Top-``k`` unseen items for one request whose user watched ``history``."""
        return self.recommend_with_scores(history, k)[0]

    def recommend_with_scores(self, history, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`recommend` with the dot-product scores (for a ranker's features)."""
        seen = self._history_row(history)
        items, scores = self.retriever.query(self.user_vectors(seen), seen, k)
        return items[0], scores[0]


def latency_ms(request, arguments, repeats: int = 1) -> dict:
    """Median and 99th-percentile wall-clock milliseconds of ``request(argument)`` calls.

    Raises
    ------
    ValueError
        If ``request`` is not callable, ``arguments`` is empty or ``repeats`` is not a
        positive integer.
    """
    if not callable(request):
        raise ValueError(f"request must be a function to time; got {type(request).__name__}.")
    repeats = check_positive_int(repeats, "repeats", "calls per argument")
    arguments = list(arguments)
    if not arguments:
        raise ValueError("arguments is empty; pass at least one request argument to time.")
    timings = []
    for argument in arguments:
        for _ in range(repeats):
            started = time.perf_counter()
            request(argument)
            timings.append((time.perf_counter() - started) * 1000.0)
    timings = np.asarray(timings)
    return {
        "median_ms": float(np.median(timings)),
        "p99_ms": float(np.percentile(timings, 99)),
        "requests": len(timings),
    }


__all__ = ["BatchTable", "RealTimeRecommender", "latency_ms"]
