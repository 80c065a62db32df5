"""Order-aware recommenders: what to play next given what was just played.

Lesson 07 (``notebooks/07_sequences_and_sessions.ipynb``) builds each one and compares them
on the leave-last-out protocol of :mod:`recsys_lessons.sequences.next_item`.

How the protocol differs from :mod:`recsys_lessons.models.base`
---------------------------------------------------------------
Long-term models learn one vector or row per *user* from a user x item matrix. Sequential
models learn from *sequences* and score a *history*, which may be one the model never saw
(a session in progress). So:

- ``fit(sequences) -> self`` takes a :class:`~recsys_lessons.sequences.next_item.Sequences`;
- ``score(histories, rows=None)`` returns ``(len(rows), n_items)`` scores, one row per
  history sequence (``rows`` picks some; default all);
- ``recommend(histories, k=10, exclude_seen=True, rows=None) -> (items, scores)`` removes the
  items *of each history* (not of the training data) and ranks the rest, ties broken by the
  lower item index as everywhere in the course.

Hyperparameters are constructor arguments with ``get_params``/``set_params`` and
``sklearn.base.clone`` as for every model (:class:`~recsys_lessons.models.base.Estimator`),
learned state ends in ``_``, bad input raises ``ValueError``. :class:`MatrixModel` wraps any
long-term model so it fits the same calls; like every wrapper it fits a clone of the
model it is given, never the caller's object.

The models
----------
- :class:`MarkovChain`: first-order transitions ``P(next = j | last = i)`` with smoothing.
- :class:`LastNItemKNN`: item-kNN on the last ``n`` items, recent ones weighing more.
- :class:`SessionKNN`: the sessions most similar to the current one vote for their items
  (SKNN; Ludewig & Jannach 2018 found it competitive with GRU4Rec).
- :class:`ShortLongBlend`: long-term taste (ALS, EASE...) mixed with a short-term model;
  :func:`choose_blend_weight` tunes the mix on a validation split.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import clone

from recsys_lessons.models.base import RECOMMEND_BATCH, Estimator
from recsys_lessons.models.neighbors import similarity_matrix
from recsys_lessons.sequences.next_item import Sequences, evaluate_next_item, next_item_split
from recsys_lessons.top_k import top_k_indices
from recsys_lessons.validation import (
    check_finite_array,
    check_is_fitted,
    check_k,
    check_number,
    check_positive_int,
)

__all__ = [
    "LastNItemKNN",
    "MarkovChain",
    "MatrixModel",
    "SequentialRecommender",
    "SessionKNN",
    "ShortLongBlend",
    "choose_blend_weight",
]


class SequentialRecommender(Estimator):
    """Base class: subclasses implement ``_fit(sequences)`` and ``_score(histories, rows)``."""

    def fit(self, sequences: Sequences) -> SequentialRecommender:
        """Learn from time-ordered sequences (the ``history`` of a next-item split)."""
        _check_sequences(sequences, "sequences")
        self._check_params()
        self.n_users_, self.n_items_ = sequences.n_users, sequences.n_items
        try:
            self._fit(sequences)
        except Exception:
            del self.n_users_, self.n_items_  # a failed fit leaves the model unfitted
            raise
        return self

    def score(self, histories: Sequences, rows=None) -> np.ndarray:
        """Scores of every item as the next event of each history, higher is better."""
        rows = self._check_histories(histories, rows)
        return np.asarray(self._score(histories, rows), dtype=np.float64)

    def recommend(self, histories: Sequences, k: int = 10, exclude_seen: bool = True, rows=None):
        """Top-``k`` next items per history, best first; see the module docstring."""
        rows = self._check_histories(histories, rows)
        k = check_k(k, self.n_items_)
        seen = histories.history_matrix() if exclude_seen else None
        items = np.empty((len(rows), k), dtype=np.int64)
        scores = np.empty((len(rows), k), dtype=np.float64)
        for start in range(0, len(rows), RECOMMEND_BATCH):
            batch = rows[start : start + RECOMMEND_BATCH]
            batch_scores = np.array(self._score(histories, batch), dtype=np.float64)
            if seen is not None:
                batch_scores[seen[batch].nonzero()] = -np.inf
            top = top_k_indices(batch_scores, k)
            items[start : start + len(batch)] = top
            scores[start : start + len(batch)] = np.take_along_axis(batch_scores, top, axis=1)
        return items, scores

    def _check_histories(self, histories, rows) -> np.ndarray:
        check_is_fitted(self, "n_items_", "fit(sequences)")
        _check_sequences(histories, "histories")
        if histories.n_items != self.n_items_ or histories.n_users != self.n_users_:
            raise ValueError(
                f"histories index {histories.n_users} users x {histories.n_items} items but the "
                f"model was fitted on {self.n_users_} x {self.n_items_}; build both with the "
                "same user_ids and item_ids."
            )
        if rows is None:
            return np.arange(histories.n_sequences)
        rows = np.atleast_1d(np.asarray(rows))
        if (
            rows.ndim != 1
            or not np.issubdtype(rows.dtype, np.integer)
            or rows.size == 0
            or rows.min() < 0
            or rows.max() >= histories.n_sequences
        ):
            raise ValueError(
                f"rows must be a non-empty 1-D array of sequence numbers in "
                f"0..{histories.n_sequences - 1}."
            )
        return rows

    def _check_params(self) -> None:
        """Subclasses validate their hyperparameters here."""

    def _fit(self, sequences: Sequences) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _score(self, histories: Sequences, rows: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError


class MarkovChain(SequentialRecommender):
    """First-order Markov chain: the next item depends only on the last one.

    ``C[i, j]`` counts how often ``j`` directly followed ``i`` in a training sequence
    (optionally only inside one session). Smoothing mixes each row with the popularity
    distribution ``p_j`` (share of all events on ``j``), a Dirichlet prior of strength
    ``smoothing``::

        P(next = j | last = i) = (C[i, j] + smoothing * p_j) / (sum_j' C[i, j'] + smoothing)

    Rows are normalized over *next* items (``sum_j P(j | i) = 1``). An item never seen as a
    predecessor falls back to popularity, and a rare item's few transitions are trusted
    less. ``score(history) = P(. | last item of the history)``.

    Parameters
    ----------
    smoothing : float >= 0
        Pseudo-counts of the popularity prior (0: raw transition frequencies).
    within_sessions : bool
        Count only transitions inside one session (default: every consecutive pair of a
        user's sequence).

    Attributes
    ----------
    counts_ : scipy.sparse.csr_matrix, shape (n_items, n_items)
    popularity_ : ndarray, shape (n_items,)

    Warns
    -----
    UserWarning
        With ``smoothing=0``, when a history ends on an item never followed by another in
        training: every item scores 0 for it, so its list is just the lowest item indices.
    """

    def __init__(self, smoothing: float = 1.0, within_sessions: bool = False):
        self.smoothing = smoothing
        self.within_sessions = within_sessions

    def _check_params(self) -> None:
        check_number(self.smoothing, "smoothing", low=0)

    def _fit(self, sequences: Sequences) -> None:
        self.counts_ = transition_counts(sequences, self.within_sessions)
        events = np.bincount(sequences.items, minlength=self.n_items_).astype(np.float64)
        self.popularity_ = events / events.sum()
        self.row_totals_ = np.asarray(self.counts_.sum(axis=1)).ravel()

    def recommend(self, histories: Sequences, k: int = 10, exclude_seen: bool = True, rows=None):
        """Top-``k`` next items per history; warns on lists that only follow item indices."""
        checked = self._check_histories(histories, rows)
        if self.smoothing == 0:
            last = histories.last_items(1)[checked, 0]
            dead_ends = int((self.row_totals_[last] == 0).sum())
            if dead_ends:
                warnings.warn(
                    f"{dead_ends} histories end on an item that never preceded another in "
                    "training; with smoothing=0 every item scores 0 for them and their lists "
                    "follow item indices. Use smoothing > 0 (popularity fallback).",
                    UserWarning,
                    stacklevel=2,
                )
        return super().recommend(histories, k=k, exclude_seen=exclude_seen, rows=rows)

    def _score(self, histories, rows):
        last = histories.last_items(1)[rows, 0]
        counts = self.counts_[last].toarray()
        denominator = self.row_totals_[last] + self.smoothing
        numerator = counts + self.smoothing * self.popularity_[None, :]
        return np.divide(
            numerator,
            denominator[:, None],
            out=np.zeros_like(numerator),
            where=denominator[:, None] > 0,
        )


def transition_counts(sequences: Sequences, within_sessions: bool = False) -> sp.csr_matrix:
    """``C[i, j]`` = how often item ``j`` directly follows item ``i`` in one sequence.

    With ``within_sessions=True`` only pairs inside one session count.
    """
    same = sequences.sequence_of_event[1:] == sequences.sequence_of_event[:-1]
    if within_sessions:
        same &= sequences.sessions[1:] == sequences.sessions[:-1]
    source, target = sequences.items[:-1][same], sequences.items[1:][same]
    n = sequences.n_items
    counts = sp.csr_matrix((np.ones(len(source)), (source, target)), shape=(n, n), dtype=np.float64)
    counts.sum_duplicates()
    return counts


class LastNItemKNN(SequentialRecommender):
    """Item-kNN on the last ``n_last`` items, the most recent weighing most.

    ``S`` is the item-item cosine of lesson 03 on the user x item matrix (with ``shrink``,
    pruned to ``neighbors`` per row). With ``h_1`` the most recent item, ``h_2`` the one
    before, ...::

        score(j) = sum over t = 1..n_last of decay^(t - 1) * S[h_t, j]

    ``decay = 1`` weighs the last ``n_last`` items equally; ``n_last = 1`` is "more like the
    last thing you watched".

    Parameters
    ----------
    n_last : int >= 1
    decay : float in (0, 1]
    neighbors : int or None
        Neighbours kept per item in ``S`` (None keeps all).
    shrink : float >= 0
    """

    def __init__(self, n_last: int = 5, decay: float = 0.7, neighbors=100, shrink: float = 10.0):
        self.n_last = n_last
        self.decay = decay
        self.neighbors = neighbors
        self.shrink = shrink

    def _check_params(self) -> None:
        check_positive_int(self.n_last, "n_last", "recent items that vote")
        check_number(self.decay, "decay", low=0, high=1, low_open=True)
        check_number(self.shrink, "shrink", low=0)

    def _fit(self, sequences: Sequences) -> None:
        self.similarity_ = similarity_matrix(
            sequences.matrix(), "cosine", shrink=self.shrink, neighbors=self.neighbors
        )

    def _score(self, histories, rows):
        return (
            recency_weights(histories, rows, self.n_last, self.decay) @ self.similarity_
        ).toarray()


def recency_weights(histories: Sequences, rows, n_last: int, decay: float) -> sp.csr_matrix:
    """Sparse ``(len(rows), n_items)`` matrix: weight ``decay^(t - 1)`` on the t-th most recent item."""
    last = histories.last_items(n_last)[rows]
    weights = np.broadcast_to(decay ** np.arange(n_last, dtype=np.float64), last.shape)
    present = last >= 0
    row_index = np.broadcast_to(np.arange(len(rows))[:, None], last.shape)
    return sp.csr_matrix(
        (weights[present], (row_index[present], last[present])),
        shape=(len(rows), histories.n_items),
    )


class SessionKNN(SequentialRecommender):
    """Session-based kNN (SKNN): similar past sessions vote for their items.

    The current session ``s`` is the most recent session of a history, as a vector ``w``
    with weight ``decay^(t - 1)`` on its t-th most recent item (``decay = 1``: the plain
    binary session of SKNN; ``decay < 1``: the "V-SKNN" variant where recent items count
    more). Every training session ``n`` is a binary item vector; their similarity is the
    cosine ``sim(s, n) = (w . n) / (|w| * sqrt(|n|))``, on binary vectors
    ``|s & n| / sqrt(|s| * |n|)``. With ``N(s)`` the ``neighbors`` most similar training
    sessions::

        score(j) = sum over n in N(s) of sim(s, n) * [j in n]

    (Jannach & Ludewig 2017; Ludewig & Jannach, "Evaluation of Session-based Recommendation
    Algorithms", 2018.) A history whose current session is also a training session finds
    itself as a neighbour; it only votes for items the history already has, which
    ``recommend`` removes.

    Parameters
    ----------
    neighbors : int >= 1
        Sessions that vote.
    decay : float in (0, 1]
        Weight ratio between an item of the current session and the one after it.
    """

    def __init__(self, neighbors: int = 100, decay: float = 1.0):
        self.neighbors = neighbors
        self.decay = decay

    def _check_params(self) -> None:
        check_positive_int(self.neighbors, "neighbors", "sessions that vote")
        check_number(self.decay, "decay", low=0, high=1, low_open=True)

    def _fit(self, sequences: Sequences) -> None:
        self.sessions_ = sequences.session_matrix().astype(np.float64).tocsr()
        self.session_sizes_ = np.asarray(self.sessions_.sum(axis=1)).ravel()

    def _score(self, histories, rows):
        query = current_sessions(histories, rows, self.decay)
        query_norms = np.sqrt(np.asarray(query.multiply(query).sum(axis=1)).ravel())
        similarity = (
            query @ self.sessions_.T
        ).tocsr()  # overlaps; sparse: few sessions share items
        similarity.sort_indices()
        row_of = np.repeat(np.arange(similarity.shape[0]), np.diff(similarity.indptr))
        similarity.data /= query_norms[row_of] * np.sqrt(self.session_sizes_[similarity.indices])
        return (largest_per_row(similarity, self.neighbors) @ self.sessions_).toarray()


def largest_per_row(matrix: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Keep the ``k`` largest stored values of each row (ties: lower column first)."""
    row_of = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    order = np.lexsort((matrix.indices, -matrix.data, row_of))
    rank = np.arange(len(order)) - matrix.indptr[row_of[order]]
    keep = order[rank < k]
    return sp.csr_matrix(
        (matrix.data[keep], (row_of[keep], matrix.indices[keep])), shape=matrix.shape
    )


def current_sessions(histories: Sequences, rows, decay: float = 1.0) -> sp.csr_matrix:
    """``(len(rows), n_items)`` matrix of each history's most recent session.

    The t-th most recent item of the session gets weight ``decay^(t - 1)`` (1 for every item
    when ``decay = 1``).
    """
    rows = np.asarray(rows)
    sequence = histories.sequence_of_event
    in_current = histories.sessions == histories.last_session()[sequence]
    position = np.full(histories.n_sequences, -1)
    position[rows] = np.arange(len(rows))
    chosen = in_current & (position[sequence] >= 0)
    age = histories.indptr[1:][sequence] - 1 - np.arange(len(sequence))  # 0 = most recent
    query = sp.csr_matrix(
        (
            decay ** age[chosen].astype(np.float64),
            (position[sequence[chosen]], histories.items[chosen]),
        ),
        shape=(len(rows), histories.n_items),
    )
    query.sum_duplicates()
    return query


class MatrixModel(SequentialRecommender):
    """Any long-term model of lessons 01-04, called like a sequential one.

    ``fit(sequences)`` fits a clone of ``model`` on ``sequences.matrix()`` (binary user x
    item), kept as ``model_``; ``score(histories, rows)`` returns
    ``model_.score(histories.users[rows])``: the order of events and any event after the fit
    are ignored.

    Attributes
    ----------
    model_ : the fitted clone of ``model``
    """

    def __init__(self, model):
        self.model = model

    def _check_params(self) -> None:
        _check_long_term(self.model, "model")

    def _fit(self, sequences: Sequences) -> None:
        self.model_ = clone(self.model).fit(sequences.matrix())

    def _score(self, histories, rows):
        return self.model_.score(histories.users[rows])


class ShortLongBlend(SequentialRecommender):
    """Long-term taste mixed with the current session.

    Both models' scores are rescaled to [0, 1] per history (min-max over the catalogue), then::

        score(j) = weight * short(j) + (1 - weight) * long(j)

    ``weight = 0`` is the long-term model alone, ``weight = 1`` the short-term one. Tune it
    on a validation split with :func:`choose_blend_weight`.

    Parameters
    ----------
    long_model : Recommender
        A long-term model of lessons 01-04 (ALS, EASE, ...); a clone is fitted on
        ``sequences.matrix()``.
    short_model : SequentialRecommender
        A clone is fitted on the sequences.
    weight : float in [0, 1]

    Attributes
    ----------
    long_ : MatrixModel
        The fitted clone of ``long_model``, called like a sequential model.
    short_ : SequentialRecommender
        The fitted clone of ``short_model``.
    """

    def __init__(self, long_model, short_model, weight: float = 0.5):
        self.long_model = long_model
        self.short_model = short_model
        self.weight = weight

    def _check_params(self) -> None:
        check_number(self.weight, "weight", low=0, high=1)
        _check_long_term(self.long_model, "long_model")
        if not isinstance(self.short_model, SequentialRecommender):
            raise ValueError(
                "short_model must be a sequential model (MarkovChain, LastNItemKNN, SessionKNN); "
                f"got {type(self.short_model).__name__}. Pass a long-term model as long_model."
            )

    def _fit(self, sequences: Sequences) -> None:
        self.long_ = MatrixModel(self.long_model).fit(sequences)
        self.short_ = clone(self.short_model).fit(sequences)

    def _score(self, histories, rows):
        return self.mix(
            self.short_.score(histories, rows), self.long_.score(histories, rows), self.weight
        )

    @staticmethod
    def mix(short: np.ndarray, long: np.ndarray, weight: float) -> np.ndarray:
        """``weight * minmax(short) + (1 - weight) * minmax(long)``, row by row."""
        return weight * _min_max(short) + (1 - weight) * _min_max(long)


def choose_blend_weight(
    blend: ShortLongBlend, sequences: Sequences, weights=None, k: int = 10, metric: str = "mrr"
):
    """Tune ``blend.weight`` on a validation split carved from ``sequences``.

    The last event of every sequence becomes the validation target; both models are fitted
    once on the rest, each weight of the grid is scored by ``metric@k`` (``"hit_rate"``,
    ``"mrr"`` or ``"ndcg"``), and the best weight (the smallest on ties) is set on
    ``blend``. The test targets, held out before ``sequences`` was built, are never touched.

    Returns
    -------
    pandas.DataFrame
        One row per weight with the validation ``metric@k``; ``blend.weight`` is updated.

    Raises
    ------
    ValueError
        If ``blend`` is not a :class:`ShortLongBlend`, ``weights`` is empty or holds a value
        outside [0, 1] (``weight`` is a share), ``metric`` is unknown or ``k`` is not a valid
        list length.
    """
    if not isinstance(blend, ShortLongBlend):
        raise ValueError(
            f"blend must be a ShortLongBlend(long_model, short_model); got {type(blend).__name__}."
        )
    weights = (
        np.linspace(0, 1, 11)
        if weights is None
        else np.atleast_1d(
            check_finite_array(weights, "weights", low=0, meaning="shares of the short-term model")
        )
    )
    if weights.size == 0 or weights.max() > 1:
        raise ValueError(
            f"weights must be a non-empty list of shares in [0, 1] (0 = long-term model only, "
            f"1 = short-term only); got {weights.tolist()[:11]}."
        )
    if metric not in ("hit_rate", "mrr", "ndcg"):
        raise ValueError(f"metric must be 'hit_rate', 'mrr' or 'ndcg'; got {metric!r}.")
    k = check_k(k, sequences.n_items if isinstance(sequences, Sequences) else None)
    history, targets, _ = next_item_split(sequences)
    blend.fit(history)
    rows = np.flatnonzero(targets >= 0)
    short = blend.short_.score(history, rows)
    long = blend.long_.score(history, rows)
    results = []
    for weight in weights:
        fixed = _FixedScores(ShortLongBlend.mix(short, long, weight), rows).fit(history)
        table = evaluate_next_item(fixed, history, targets, k=k)
        results.append(table[f"{metric}@{k}"].mean())
    table = pd.DataFrame({"weight": weights, f"{metric}@{k}": results})
    blend.weight = float(weights[int(np.argmax(results))])
    return table


class _FixedScores(SequentialRecommender):
    """Precomputed scores for some rows, so a grid of weights reuses two model fits."""

    def __init__(self, scores, rows):
        self.scores = scores
        self.rows = rows

    def _fit(self, sequences: Sequences) -> None:
        self.position_ = pd.Series(np.arange(len(self.rows)), index=self.rows)

    def _score(self, histories, rows):
        return self.scores[self.position_.loc[rows].to_numpy()]


def _min_max(scores: np.ndarray) -> np.ndarray:
    low = scores.min(axis=1, keepdims=True)
    span = scores.max(axis=1, keepdims=True) - low
    return np.divide(scores - low, span, out=np.zeros_like(scores), where=span > 0)


def _check_long_term(model, name: str) -> None:
    """Refuse a sequential model where a long-term (user x item matrix) model is expected."""
    if isinstance(model, SequentialRecommender) or not hasattr(model, "fit"):
        raise ValueError(
            f"{name} must be a long-term model of lessons 01-04 (ALS, EASE, ItemKNN...), fitted "
            f"on the user x item matrix; got {type(model).__name__}. A sequential model such "
            "as MarkovChain goes in short_model."
        )


def _check_sequences(value, name: str) -> None:
    if not isinstance(value, Sequences):
        raise ValueError(
            f"{name} must be a Sequences object (build it with "
            f"recsys_lessons.sequences.next_item.build_sequences); got {type(value).__name__}."
        )
    if len(value.items) == 0:
        raise ValueError(f"{name} holds no events; a sequential model needs some.")
