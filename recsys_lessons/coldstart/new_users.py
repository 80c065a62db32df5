"""Cold start for new users: what to show someone with no history, or with a few answers.

Lesson 05 (``notebooks/05_cold_start.ipynb``) measures each answer on splits where the users
are truly unseen (:func:`recsys_lessons.evaluation.split.cold_user_split`):

- :func:`segment_labels` and :class:`SegmentPopularity`: the most popular items within the
  user's segment (age band, region, ...);
- :func:`item_entropy`, :func:`question_order`, :func:`onboarding_answers`: which items an
  onboarding questionnaire asks about (Rashid et al. 2002) and what a user can answer.

Once a new user has a few interactions, a model with a ``fold_in`` method scores them
without retraining (:meth:`recsys_lessons.models.ALS.fold_in`, ``EASE.fold_in``,
``ItemKNN.fold_in``). The segments can be given to the constructor or to ``fit``; a value
given to ``fit`` wins. No ``alpha`` here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys_lessons.models.base import Recommender, as_interaction_csr
from recsys_lessons.validation import check_finite_array, check_positive_int

__all__ = [
    "QUESTION_STRATEGIES",
    "SegmentPopularity",
    "item_entropy",
    "onboarding_answers",
    "question_order",
    "segment_labels",
]

#: Onboarding strategies of :func:`question_order` (Rashid et al. 2002).
QUESTION_STRATEGIES = ("popularity", "entropy", "popularity_entropy")


def segment_labels(users: pd.DataFrame, columns, age_edges=(25, 35, 45, 55)) -> pd.Series:
    """One segment label per user, joining the values of ``columns`` ("25-34|F").

    A numeric ``age`` column is cut into bands at ``age_edges`` (``<25``, ``25-34``, ...,
    ``55+``). Users with a missing value get the label ``"unknown"``.

    Raises
    ------
    ValueError
        If ``users`` is not a DataFrame, a column is missing, or ``age_edges`` is not a
        non-empty list of finite numbers in strictly increasing order.
    """
    if not isinstance(users, pd.DataFrame):
        raise ValueError("users must be a DataFrame with one row per user (dataset.users).")
    columns = [columns] if isinstance(columns, str) else list(columns)
    missing = [c for c in columns if c not in users.columns]
    if not columns or missing:
        raise ValueError(
            f"choose segment columns among {list(users.columns)}; {missing or 'none'} given."
        )
    parts = []
    for column in columns:
        values = users[column]
        if column == "age" and pd.api.types.is_numeric_dtype(values):
            edges = np.atleast_1d(check_finite_array(age_edges, "age_edges", meaning="ages"))
            if edges.size == 0 or (np.diff(edges) <= 0).any():
                raise ValueError(
                    f"age_edges must be increasing ages such as (25, 35, 45, 55); got "
                    f"{list(age_edges)!r}. Sort them and drop repeats."
                )
            edges = list(age_edges)
            names = [f"<{edges[0]}"] + [
                f"{a}-{b - 1}" for a, b in zip(edges[:-1], edges[1:], strict=True)
            ]
            names.append(f"{edges[-1]}+")
            values = pd.Series(
                np.array(names, dtype=object)[np.searchsorted(edges, values, side="right")],
                index=users.index,
            ).where(users[column].notna())
        parts.append(values.astype("string"))
    labels = parts[0].str.cat(parts[1:], sep="|") if len(parts) > 1 else parts[0]
    return labels.fillna("unknown").astype(str).rename("segment")


class SegmentPopularity(Recommender):
    """Most popular items among the users of the same segment (age band, region, ...).

    ``score(u, i) = |{v in segment(u) : X[v, i] != 0}| / |segment(u)| + tiny * count_i``:
    the share of the segment who interacted with ``i``, ties broken by global popularity.
    A segment never seen in training falls back to global popularity. Lesson 05.

    Fairness caveat: a segment is a stereotype. It serves the segment's majority taste, so a
    user unlike their segment (a 60-year-old who loves animation) gets a worse list than
    global popularity would give, and small segments get noisy lists. Measure it per group.

    Parameters
    ----------
    segments : array-like of str, shape (n_users,), optional
        Segment of each row of ``X`` (e.g. :func:`segment_labels`); may be given to ``fit``
        instead (there it wins).

    Attributes
    ----------
    segment_names_ : ndarray of str
    segment_scores_ : ndarray, shape (n_segments, n_items)
    """

    def __init__(self, segments=None):
        self.segments = segments

    def fit(self, X, segments=None) -> SegmentPopularity:
        """Count each segment's items in ``X`` (``segments`` given here win)."""
        self.segments_ = self.segments if segments is None else segments
        return super().fit(X)

    def _fit(self, X: sp.csr_matrix) -> None:
        if self.segments_ is None:
            raise ValueError(
                "the user segments are missing: pass them to the constructor or to "
                "fit(X, segments=...), e.g. segment_labels(dataset.users, 'age')."
            )
        segments = np.asarray(self.segments_, dtype=object)
        if segments.shape != (X.shape[0],):
            raise ValueError(
                f"segments must give one label per row of X ({X.shape[0]}); got shape "
                f"{segments.shape}."
            )
        self.segment_names_, codes = np.unique(segments.astype(str), return_inverse=True)
        binary = X.copy()
        binary.data[:] = 1.0
        members = sp.csr_matrix(
            (np.ones(len(codes)), (codes, np.arange(len(codes)))),
            shape=(len(self.segment_names_), X.shape[0]),
        )
        shares = np.asarray((members @ binary).todense()) / np.bincount(codes)[:, None]
        counts = np.asarray(binary.sum(axis=0)).ravel()
        self.global_scores_ = counts / X.shape[0]
        tie_break = 1e-9 * counts / max(counts.max(), 1.0)
        self.segment_scores_ = shares + tie_break
        self.codes_ = codes

    def _score(self, users: np.ndarray) -> np.ndarray:
        return self.segment_scores_[self.codes_[users]]

    def score_segments(self, labels) -> np.ndarray:
        """Scores for new users given only their segment labels: ``(len(labels), n_items)``."""
        self._require_fitted()
        labels = np.atleast_1d(np.asarray(labels, dtype=object)).astype(str)
        position = np.searchsorted(self.segment_names_, labels)
        position = np.minimum(position, len(self.segment_names_) - 1)
        known = self.segment_names_[position] == labels
        return np.where(
            known[:, None], self.segment_scores_[position], self.global_scores_[None, :]
        )


def item_entropy(R) -> np.ndarray:
    """Entropy (bits) of each item's distribution of rating values.

    ``H(i) = - sum over values r of p_ir * log2(p_ir)``, with ``p_ir`` the share of item
    ``i``'s ratings equal to ``r`` (only users who rated ``i`` count; empty cells are not
    a rating). 0 for an item everyone rates the same, ``log2(5)`` when 1..5 stars are equally
    common. A high entropy means opinions differ: the answer tells us something about the user.
    Items without ratings get 0. Every distinct value is its own answer, so half stars
    (0.5, 1.5, ...) count as such rather than being rounded into the next star.

    Raises
    ------
    ValueError
        If ``R`` is not a non-empty users x items matrix, or holds negative, NaN or infinite
        ratings.
    """
    R = as_interaction_csr(R, "R").tocsc()
    check_finite_array(R.data, "R", low=0, meaning="ratings such as 1..5 stars")
    values = np.unique(R.data, return_inverse=True)[1].astype(np.int64)
    items = np.repeat(np.arange(R.shape[1]), np.diff(R.indptr))
    n_values = values.max() + 1
    counts = np.bincount(items * n_values + values, minlength=R.shape[1] * n_values).reshape(
        R.shape[1], n_values
    )
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    logs = np.log2(shares, out=np.zeros(shares.shape), where=shares > 0)
    return -(shares * logs).sum(axis=1) + 0.0


def question_order(R, strategy: str = "popularity_entropy") -> np.ndarray:
    """Items in the order an onboarding questionnaire asks about them, best first.

    Rashid et al., "Getting to Know You: Learning New User Preferences in Recommender
    Systems", IUI 2002. With ``count_i`` the number of ratings of item ``i``:

    - ``"popularity"``: ``count_i`` (most users can answer);
    - ``"entropy"``: :func:`item_entropy` (the answer is informative, but few can give it);
    - ``"popularity_entropy"``: ``log(count_i) * entropy_i``, the balance of both.

    Ties go to the lower item index.
    """
    if strategy not in QUESTION_STRATEGIES:
        raise ValueError(f"strategy must be one of {QUESTION_STRATEGIES}; got {strategy!r}.")
    R = as_interaction_csr(R, "R")
    counts = np.bincount(R.indices, minlength=R.shape[1]).astype(np.float64)
    if strategy == "popularity":
        score = counts
    elif strategy == "entropy":
        score = item_entropy(R)
    else:
        score = np.log(np.maximum(counts, 1.0)) * item_entropy(R)
    return np.lexsort((np.arange(len(score)), -score))


def onboarding_answers(order, held_out, n_answers: int):
    """Simulate the questionnaire: ask items in ``order`` until each user has answered ``n_answers``.

    A user can answer about an item they interacted with in ``held_out`` (their future, which
    stands in for what they already know); the answers are those interactions. Users who run
    out of known items answer fewer.

    Parameters
    ----------
    order : array-like of int
        Item indices in the order asked (:func:`question_order`).
    held_out : scipy.sparse matrix, shape (n_users, n_items)
        Each new user's interactions.
    n_answers : int >= 1

    Returns
    -------
    answers : scipy.sparse.csr_matrix, shape (n_users, n_items)
        The answered items with their ``held_out`` values.
    n_asked : ndarray of int, shape (n_users,)
        Questions shown until the last answer: the cost for the user.
    """
    n_answers = check_positive_int(n_answers, "n_answers", "answers per user")
    held_out = sp.csr_matrix(held_out, dtype=np.float32)
    held_out.eliminate_zeros()
    order = np.asarray(order)
    if sorted(order.tolist()) != list(range(held_out.shape[1])):
        raise ValueError("order must list every item index exactly once (see question_order).")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    rows = np.repeat(np.arange(held_out.shape[0]), np.diff(held_out.indptr))
    item_rank = rank[held_out.indices]
    by_user_then_rank = np.lexsort((item_rank, rows))
    position = np.arange(len(rows)) - held_out.indptr[rows[by_user_then_rank]]
    chosen = by_user_then_rank[position < n_answers]
    answers = sp.csr_matrix(
        (held_out.data[chosen], (rows[chosen], held_out.indices[chosen])), shape=held_out.shape
    )
    n_asked = np.zeros(held_out.shape[0], dtype=np.int64)
    np.maximum.at(n_asked, rows[chosen], item_rank[chosen] + 1)
    return answers, n_asked
