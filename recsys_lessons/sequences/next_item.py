"""Time-ordered sequences, sessions and the leave-last-out next-item protocol.

"What should play next?" depends on the order of events, which the user x item matrix of
lessons 01-04 throws away. This module keeps it. Lesson 07
(``notebooks/07_sequences_and_sessions.ipynb``) uses every function here.

- :func:`build_sequences` orders each user's events in time and cuts them into sessions
  at every pause longer than ``session_gap``; it returns a :class:`Sequences`.
- :func:`next_item_split` holds out each user's last event: the history is everything
  before it, the target is the event itself (leave-last-out).
- :func:`evaluate_next_item` ranks the **full** catalogue for every history (no sampled
  negatives) and scores the rank of the target with HitRate@k, MRR@k and nDCG@k.
- :func:`evaluate_sampled_next_item` is the *sampled* HitRate@k many papers report (the
  target ranked among a few random items), for the lesson to show how it misleads.
- :func:`share_of_history_after_target` measures what leave-last-out hides: the share of
  the training events (all users') that happen *after* a user's target.
- :func:`global_time_split` is the alternative: train on everything before one cut-off
  time, test on each user's first event after it.

The 95 % intervals over users around these per-user metrics (and around the difference of
two models) come from :mod:`recsys_lessons.evaluation.stats`, the course's one place for intervals.

Tie-breaking (documented, deterministic)
----------------------------------------
Events of one user are ordered by ``timestamp``; events in the **same second** are ordered
by item index (the position of the item id in ``item_ids``), never by file order, so the
same data give the same sequences however the rows were shuffled. On MovieLens 100K many
ratings share their second with the previous rating of the same user (people rate a batch
of films in one go): for such targets "the next item" is one of a set whose order is
arbitrary, which puts a ceiling on every order-aware model. The lesson measures how often
this happens.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys_lessons import metrics
from recsys_lessons.validation import (
    check_interactions_frame,
    check_k,
    check_positive_int,
    check_seed,
)

#: Numeric timestamps above this many seconds (the year 5138) are read as milliseconds or finer.
MAX_EPOCH_SECONDS = 1e11

__all__ = [
    "Sequences",
    "build_sequences",
    "evaluate_next_item",
    "evaluate_sampled_next_item",
    "global_time_split",
    "next_item_split",
    "share_of_history_after_target",
]


@dataclass(frozen=True, eq=False)
class Sequences:
    """Each user's events in time order, stored flat like a CSR matrix.

    Sequence ``s`` (one per user that has events) holds the item indices
    ``items[indptr[s]:indptr[s + 1]]``, oldest first.

    Attributes
    ----------
    users : ndarray of int, shape ``(n_sequences,)``
        The 0-based user index of each sequence (row of :meth:`matrix`), increasing.
    indptr : ndarray of int, shape ``(n_sequences + 1,)``
        Start of each sequence in the flat arrays.
    items : ndarray of int, shape ``(n_events,)``
        0-based item indices, each sequence in time order.
    timestamps : ndarray of int64, shape ``(n_events,)``
        Seconds since the epoch.
    sessions : ndarray of int, shape ``(n_events,)``
        Session number of each event, ``0 .. n_sessions - 1``, increasing along the flat
        arrays: a new session starts at each sequence and after every pause longer than
        the gap.
    n_users, n_items : int
        Size of the index spaces (the rows and columns of :meth:`matrix`).
    """

    users: np.ndarray
    indptr: np.ndarray
    items: np.ndarray
    timestamps: np.ndarray
    sessions: np.ndarray
    n_users: int
    n_items: int

    @property
    def n_sequences(self) -> int:
        return len(self.users)

    @property
    def n_sessions(self) -> int:
        return int(self.sessions[-1]) + 1 if len(self.sessions) else 0

    @property
    def lengths(self) -> np.ndarray:
        """Events per sequence."""
        return np.diff(self.indptr)

    @property
    def sequence_of_event(self) -> np.ndarray:
        """Sequence number (row of ``users``) of every event."""
        return np.repeat(np.arange(self.n_sequences), self.lengths)

    def session_lengths(self) -> np.ndarray:
        """Events per session, shape ``(n_sessions,)``."""
        return np.bincount(self.sessions, minlength=self.n_sessions)

    def matrix(self) -> sp.csr_matrix:
        """Binary ``(n_users, n_items)`` CSR matrix: 1 where the user has the item (any order).

        Rows of users without a sequence are empty. Long-term models of lessons 01-04 fit on it.
        """
        rows = self.users[self.sequence_of_event]
        X = sp.csr_matrix(
            (np.ones(len(self.items), np.float32), (rows, self.items)),
            shape=(self.n_users, self.n_items),
        )
        X.data[:] = 1.0  # a repeated (user, item) pair counts once
        return X

    def history_matrix(self) -> sp.csr_matrix:
        """Binary ``(n_sequences, n_items)`` matrix: the items of each sequence (row = sequence)."""
        X = sp.csr_matrix(
            (np.ones(len(self.items), np.float32), (self.sequence_of_event, self.items)),
            shape=(self.n_sequences, self.n_items),
        )
        X.data[:] = 1.0
        return X

    def session_matrix(self) -> sp.csr_matrix:
        """Binary ``(n_sessions, n_items)`` matrix: the items of each session."""
        X = sp.csr_matrix(
            (np.ones(len(self.items), np.float32), (self.sessions, self.items)),
            shape=(self.n_sessions, self.n_items),
        )
        X.data[:] = 1.0
        return X

    def last_items(self, n: int) -> np.ndarray:
        """The ``n`` most recent item indices of each sequence, most recent first.

        Shape ``(n_sequences, n)``; sequences shorter than ``n`` are padded with -1.
        """
        n = check_positive_int(n, "n")
        position = self.indptr[1:, None] - 1 - np.arange(n)[None, :]
        inside = position >= self.indptr[:-1, None]
        return np.where(inside, self.items[np.where(inside, position, 0)], -1)

    def last_session(self) -> np.ndarray:
        """Session number of the most recent event of each sequence."""
        return self.sessions[self.indptr[1:] - 1]

    def select(self, keep) -> Sequences:
        """Keep the events where the boolean mask ``keep`` is true (sessions renumbered)."""
        keep = np.asarray(keep, dtype=bool)
        if keep.shape != self.items.shape:
            raise ValueError(
                f"keep must be a boolean mask with one entry per event ({len(self.items)}); "
                f"got shape {keep.shape}."
            )
        counts = np.bincount(self.sequence_of_event[keep], minlength=self.n_sequences)
        present = counts > 0
        indptr = np.concatenate(([0], np.cumsum(counts[present])))
        sessions = np.unique(self.sessions[keep], return_inverse=True)[1]
        return Sequences(
            users=self.users[present],
            indptr=indptr,
            items=self.items[keep],
            timestamps=self.timestamps[keep],
            sessions=sessions.astype(np.int64),
            n_users=self.n_users,
            n_items=self.n_items,
        )


def build_sequences(
    interactions: pd.DataFrame,
    user_ids=None,
    item_ids=None,
    session_gap: str | pd.Timedelta = "30min",
) -> Sequences:
    """Order each user's events in time and cut them into sessions.

    Order: by user, then ``timestamp``, then item index (the documented tie-break for events
    in the same second; see the module docstring). A session ends when the next event of the
    same user comes more than ``session_gap`` after the previous one (strictly more).

    Parameters
    ----------
    interactions : pandas.DataFrame
        Needs ``user_id``, ``item_id`` and ``timestamp`` (datetime64 or seconds).
    user_ids, item_ids : array-like, optional
        The index spaces, as for :func:`recsys_lessons.data.matrix.interaction_matrix` (default:
        the sorted distinct ids of the frame). Pass ``world.user_ids`` / ``world.item_ids``
        to line up with a simulated world.
    session_gap : str or pandas.Timedelta
        Longest pause inside one session (default ``"30min"``, the usual web-analytics rule).

    Returns
    -------
    Sequences

    Raises
    ------
    ValueError
        If a column is missing, ``session_gap`` is not a positive duration, numeric
        timestamps are epoch milliseconds (or finer) rather than seconds, or an id is missing
        from ``user_ids`` / ``item_ids``.

    Warns
    -----
    UserWarning
        When rows repeat the same (user, item, timestamp): each copy stays an event (a
        repeated watch), which is usually a duplicated row; drop them with
        ``interactions.drop_duplicates(['user_id', 'item_id', 'timestamp'])``.
    """
    check_interactions_frame(interactions, ("user_id", "item_id", "timestamp"))
    gap = _session_gap(session_gap)
    users_index = pd.Index(
        np.sort(interactions["user_id"].unique()) if user_ids is None else user_ids
    )
    items_index = pd.Index(
        np.sort(interactions["item_id"].unique()) if item_ids is None else item_ids
    )
    users = _positions(users_index, interactions["user_id"], "user")
    items = _positions(items_index, interactions["item_id"], "item")
    seconds = _seconds(interactions["timestamp"])
    _warn_duplicates(users, items, seconds)

    order = np.lexsort((items, seconds, users))
    users, items, seconds = users[order], items[order], seconds[order]
    new_user = np.r_[True, users[1:] != users[:-1]]
    new_session = new_user | np.r_[True, np.diff(seconds) > gap.total_seconds()]
    starts = np.flatnonzero(new_user)
    return Sequences(
        users=users[starts],
        indptr=np.append(starts, len(items)),
        items=items,
        timestamps=seconds,
        sessions=np.cumsum(new_session) - 1,
        n_users=len(users_index),
        n_items=len(items_index),
    )


def next_item_split(sequences: Sequences, min_history: int = 1):
    """Leave-last-out: hold out the most recent event of every sequence.

    Sequences with fewer than ``min_history + 1`` events are left out of the evaluation but
    kept whole in the history (they still teach the models). Applying the split again to
    the history gives a validation split that never touches the test targets.

    Parameters
    ----------
    sequences : Sequences
    min_history : int
        Events a sequence must keep before its target (default 1).

    Returns
    -------
    history : Sequences
        Every event except the targets.
    targets : ndarray of int, shape ``(history.n_sequences,)``
        The held-out item of each history sequence, -1 for sequences not evaluated.
    continues_session : ndarray of bool, shape ``(history.n_sequences,)``
        True when the target falls in the same session as the last history event (the
        "predict the next item within a session" case; False for a target that opens a new
        session and for sequences not evaluated).

    Raises
    ------
    ValueError
        If ``sequences`` is not a :class:`Sequences`, ``min_history`` is not a positive
        integer, or no sequence has more than ``min_history`` events (nothing to evaluate).
    """
    _require_sequences(sequences)
    min_history = check_positive_int(min_history, "min_history")
    evaluated = sequences.lengths > min_history
    if not evaluated.any():
        longest = int(sequences.lengths.max(initial=0))
        raise ValueError(
            f"no sequence has more than min_history={min_history} events (the longest has "
            f"{longest}), so no target can be held out; lower min_history or pass more events."
        )
    last = sequences.indptr[1:] - 1
    keep = np.ones(len(sequences.items), dtype=bool)
    keep[last[evaluated]] = False
    history = sequences.select(keep)
    targets = np.where(evaluated, sequences.items[last], -1)
    previous = np.maximum(last - 1, 0)
    continues = evaluated & (sequences.sessions[last] == sequences.sessions[previous])
    return history, targets, continues


def share_of_history_after_target(sequences: Sequences, min_history: int = 1) -> np.ndarray:
    """Share of the leave-last-out training events that happen after each user's target.

    Leave-last-out (:func:`next_item_split`) holds out each user's own last event, but the
    history it trains on holds *every other user's* events, including those later than that
    target: the model learns from the future of the moment it is asked to predict. For
    sequence ``s`` with target time ``t_s`` and history ``H``::

        share_s = |{e in H : time(e) > t_s}| / |H|

    Parameters
    ----------
    sequences : Sequences
        The full sequences (before the split).
    min_history : int
        As in :func:`next_item_split`.

    Returns
    -------
    ndarray of float, shape ``(sequences.n_sequences,)``
        ``share_s`` for every evaluated sequence, NaN for the others (the rows line up with
        the ``targets`` of :func:`next_item_split`).

    References
    ----------
    Ji, Sun, Zhang and Li, "A Critical Study on Data Leakage in Recommender System Offline
    Evaluation", ACM TOIS 2023.
    """
    min_history = check_positive_int(min_history, "min_history")
    evaluated = sequences.lengths > min_history
    last = sequences.indptr[1:] - 1
    held_out = np.zeros(len(sequences.items), dtype=bool)
    held_out[last[evaluated]] = True
    history_times = np.sort(sequences.timestamps[~held_out])
    if history_times.size == 0:
        raise ValueError("the split leaves no training event; nothing to compare with.")
    later = history_times.size - np.searchsorted(history_times, sequences.timestamps[last], "right")
    return np.where(evaluated, later / history_times.size, np.nan)


def global_time_split(sequences: Sequences, cutoff, min_history: int = 1):
    """Train on every event before one time, test on each user's first event after it.

    The training history is the same moment in time for everybody, so no model sees an
    event later than any target: the protocol of a model retrained every night and judged on
    what people watch next.

    Parameters
    ----------
    sequences : Sequences
    cutoff : str, pandas.Timestamp or int
        The cut: events strictly before it are history; the first event at or after it is
        the target. An int is seconds since the epoch (as ``sequences.timestamps``).
    min_history : int
        Events a user must have before the cut to be evaluated (default 1).

    Returns
    -------
    history, targets, continues_session
        As in :func:`next_item_split`: ``history`` holds the users with an event before the
        cut, ``targets`` (-1 for users with no event after it, or too short a history) and
        ``continues_session`` line up with its rows.
    """
    min_history = check_positive_int(min_history, "min_history")
    cut = _cutoff_seconds(cutoff)
    before = sequences.timestamps < cut
    if not before.any() or before.all():
        raise ValueError(
            f"the cut-off {cutoff!r} leaves no event on one side; pick a time inside the data "
            f"({pd.Timestamp(sequences.timestamps.min(), unit='s')} to "
            f"{pd.Timestamp(sequences.timestamps.max(), unit='s')})."
        )
    history = sequences.select(before)
    n_before = np.bincount(sequences.sequence_of_event[before], minlength=sequences.n_sequences)
    kept = n_before > 0  # the rows of history, in order
    first_after = sequences.indptr[:-1] + n_before  # events are time-ordered within a sequence
    has_next = first_after < sequences.indptr[1:]
    evaluated = (has_next & (n_before >= min_history))[kept]
    target_event = first_after[kept]
    targets = np.where(evaluated, sequences.items[np.where(evaluated, target_event, 0)], -1)
    last_before = target_event - 1
    continues = evaluated & (
        sequences.sessions[np.where(evaluated, target_event, 0)] == sequences.sessions[last_before]
    )
    return history, targets, continues


def evaluate_sampled_next_item(
    model, history: Sequences, targets, n_negatives: int = 100, k: int = 10, seed: int = 0
) -> pd.DataFrame:
    """Sampled HitRate@k: the target ranked among ``n_negatives`` random items, not all items.

    For every evaluated history, draw ``n_negatives`` distinct items uniformly among those the
    user has not interacted with (target excluded) and count a hit when fewer than ``k`` of
    them score above the target. Ties are broken at random (a seeded uniform position of the
    target among the items with its score), so a model cannot gain from ties. The protocol
    many papers report; Krichene and Rendle ("On Sampled Metrics for Item Recommendation",
    KDD 2020) show it is inconsistent with the full ranking of :func:`evaluate_next_item`:
    with few negatives, a hit only needs the target to beat most of a random handful of
    (mostly obscure) items, so the metric drifts towards AUC and can order models
    differently from the exact metric.

    Parameters
    ----------
    model
        A fitted sequential model.
    history : Sequences
    targets : array-like of int, shape ``(history.n_sequences,)``
        Held-out item per sequence; -1 skips the sequence.
    n_negatives : int
        Random items the target competes with (at most the smallest number of items a user
        has not seen, target excluded).
    k : int
    seed : int
        Seeds the negatives and the tie-breaks.

    Returns
    -------
    pandas.DataFrame
        One row per evaluated sequence: ``sequence``, ``user`` and ``hit_rate@k`` (1 or 0).
    """
    rows, targets = _evaluated_rows(history, targets)
    n_negatives = check_positive_int(n_negatives, "n_negatives")
    k = check_k(k)
    seed = check_seed(seed)
    seen = history.history_matrix()[rows].toarray() > 0
    seen[np.arange(len(rows)), targets[rows]] = True  # never a negative
    n_free = int((~seen).sum(axis=1).min())
    if n_negatives > n_free:
        raise ValueError(
            f"n_negatives={n_negatives} but one user has only {n_free} unseen items to draw "
            "from; use fewer negatives."
        )
    rng = np.random.default_rng(seed)
    keys = np.where(seen, np.inf, rng.random(seen.shape))  # random order of the unseen items
    negatives = np.argpartition(keys, n_negatives - 1, axis=1)[:, :n_negatives]
    scores = model.score(history, rows)
    target_score = scores[np.arange(len(rows)), targets[rows]][:, None]
    negative_scores = np.take_along_axis(scores, negatives, axis=1)
    above = (negative_scores > target_score).sum(axis=1)
    tied = (negative_scores == target_score).sum(axis=1)
    beaten_by = above + rng.integers(0, tied + 1)  # the target's place among its ties
    table = {"sequence": rows, "user": history.users[rows]}
    table[f"hit_rate@{k}"] = (beaten_by < k).astype(np.float64)
    return pd.DataFrame(table)


#: The metrics :func:`evaluate_next_item` reports, each ``f(recommended, relevant, k, per_user)``.
NEXT_ITEM_METRICS = {
    "hit_rate": metrics.hit_rate_at_k,
    "mrr": metrics.mrr_at_k,
    "ndcg": metrics.ndcg_at_k,
}


def evaluate_next_item(model, history: Sequences, targets, k: int = 10, exclude_seen=True):
    """Rank the full catalogue for every evaluated history and score where the target lands.

    With one relevant item, HitRate@k = 1 if the target is in the top ``k``, MRR@k =
    1 / rank (0 beyond ``k``) and nDCG@k = 1 / log2(rank + 1) (0 beyond ``k``). Every item
    competes: sampled metrics (rank the target among 100 random items) can reorder models
    (Krichene & Rendle, "On Sampled Metrics for Item Recommendation", KDD 2020).

    Parameters
    ----------
    model
        A fitted sequential model (:mod:`recsys_lessons.sequences.models`).
    history : Sequences
        The histories the model continues (the ``history`` of :func:`next_item_split`).
    targets : array-like of int, shape ``(history.n_sequences,)``
        Held-out item per sequence; -1 skips the sequence.
    k : int
    exclude_seen : bool
        Remove each history's own items from its list (a target the user already had can
        then never be hit; on MovieLens every (user, item) pair occurs once, so none is).

    Returns
    -------
    pandas.DataFrame
        One row per evaluated sequence: ``sequence`` (row of ``history``), ``user``, and the
        per-user ``hit_rate@k``, ``mrr@k``, ``ndcg@k``.

    Raises
    ------
    ValueError
        If ``targets`` do not line up with ``history``, are not integer item indices, name an
        item outside the catalogue (an unknown id is not a miss), or are all -1; or if ``k``
        is not a valid list length.
    """
    rows, targets = _evaluated_rows(history, targets)
    k = check_k(k, history.n_items)
    recommended, _ = model.recommend(history, k=k, exclude_seen=exclude_seen, rows=rows)
    relevant = targets[rows, None]
    table = {"sequence": rows, "user": history.users[rows]}
    for name, metric in NEXT_ITEM_METRICS.items():
        table[f"{name}@{k}"] = metric(recommended, relevant, k=k, per_user=True)
    return pd.DataFrame(table)


def _evaluated_rows(history: Sequences, targets):
    """The rows of ``history`` that have a target (>= 0), and the targets as an array."""
    _require_sequences(history, "history")
    targets = np.asarray(targets)
    if targets.shape != (history.n_sequences,):
        raise ValueError(
            f"targets must hold one item per history sequence ({history.n_sequences}); "
            f"got shape {targets.shape}."
        )
    if targets.size and not np.issubdtype(targets.dtype, np.integer):
        raise ValueError(
            f"targets must be integer item indices (-1 to skip a sequence); got dtype "
            f"{targets.dtype}. Use the targets of next_item_split."
        )
    if targets.size and (targets.min() < -1 or targets.max() >= history.n_items):
        bad = targets[(targets < -1) | (targets >= history.n_items)][0]
        raise ValueError(
            f"targets holds item index {bad}, outside the catalogue (0..{history.n_items - 1}, "
            "or -1 to skip): an unknown item would count as a plain miss. Build targets and "
            "history with the same item_ids."
        )
    rows = np.flatnonzero(targets >= 0)
    if rows.size == 0:
        raise ValueError("no sequence has a target (all are -1); nothing to evaluate.")
    return rows, targets


def _cutoff_seconds(cutoff) -> int:
    if isinstance(cutoff, bool):
        raise ValueError("cutoff must be a time (a string, a pandas.Timestamp or seconds).")
    if isinstance(cutoff, (int, np.integer)):
        return int(cutoff)
    try:
        stamp = pd.Timestamp(cutoff)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"cutoff must be a time such as '1998-02-01' or seconds; got {cutoff!r}."
        ) from error
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return int(stamp.to_datetime64().astype("datetime64[s]").astype(np.int64))


def _require_sequences(value, name: str = "sequences") -> None:
    if not isinstance(value, Sequences):
        raise ValueError(
            f"{name} must be a Sequences object (build it with build_sequences); got "
            f"{type(value).__name__}."
        )


def _session_gap(session_gap) -> pd.Timedelta:
    try:
        gap = pd.Timedelta(session_gap)
    except (TypeError, ValueError):
        gap = pd.NaT
    if gap is pd.NaT or gap <= pd.Timedelta(0):
        raise ValueError(
            f"session_gap must be a positive duration such as '30min' or pd.Timedelta(hours=1); "
            f"got {session_gap!r}."
        )
    return gap


def _warn_duplicates(users: np.ndarray, items: np.ndarray, seconds: np.ndarray) -> None:
    keys = np.stack([users, items, seconds], axis=1)
    n_repeated = len(keys) - len(np.unique(keys, axis=0))
    if n_repeated:
        warnings.warn(
            f"{n_repeated} rows repeat the (user_id, item_id, timestamp) of another row; each "
            "copy counts as one more event. If they are duplicated rows, drop them first: "
            "interactions.drop_duplicates(['user_id', 'item_id', 'timestamp']).",
            UserWarning,
            stacklevel=3,
        )


def _positions(index: pd.Index, ids: pd.Series, kind: str) -> np.ndarray:
    positions = index.get_indexer(ids.to_numpy())
    if (positions < 0).any():
        unknown = ids.to_numpy()[positions < 0][:5].tolist()
        raise ValueError(
            f"unknown {kind} id(s) {unknown}: pass {kind}_ids that contain every id of the frame."
        )
    return positions.astype(np.int64)


def _seconds(timestamps: pd.Series) -> np.ndarray:
    if timestamps.isna().any():
        raise ValueError("some timestamps are missing; drop those rows first.")
    if pd.api.types.is_datetime64_any_dtype(timestamps):
        if isinstance(timestamps.dtype, pd.DatetimeTZDtype):
            timestamps = timestamps.dt.tz_convert("UTC").dt.tz_localize(None)
        return timestamps.to_numpy().astype("datetime64[s]").astype(np.int64)
    if pd.api.types.is_numeric_dtype(timestamps) and not pd.api.types.is_bool_dtype(timestamps):
        values = timestamps.to_numpy()
        if np.abs(values).max() > MAX_EPOCH_SECONDS:
            raise ValueError(
                f"timestamp values reach {np.abs(values).max():.0f}, which as seconds is after "
                "the year 5000: they look like epoch milliseconds. Convert them first, e.g. "
                "pd.to_datetime(frame['timestamp'], unit='ms')."
            )
        return values.astype(np.int64)
    raise ValueError(
        f"timestamp must be datetime64 or numeric seconds, not {timestamps.dtype}; "
        "convert it with pandas.to_datetime first."
    )
