"""The one top-k of the course: the ``k`` best items of each row, ties to the lower index.

Every ranked list in the package (models, indexes, re-rankers, policies) is cut by
:func:`top_k_indices`, or by :func:`top_k_of_long_rows`, which returns the same lists faster
on rows much longer than ``k`` (a model's scores for every item), so two code paths given the
same scores return the same list.
Lesson 01 introduces it. An evaluation that must not reward ties through the item
numbering passes its own tie order (``tie_break``); the cold-start evaluations of lesson 05
use a seeded random permutation.
"""

from __future__ import annotations

import numpy as np

from recsys_lessons.validation import check_k

__all__ = ["top_k_entries", "top_k_indices", "top_k_of_long_rows"]


def top_k_indices(scores: np.ndarray, k: int, *, tie_break=None) -> np.ndarray:
    """Column indices of the ``k`` largest scores in each row, sorted best first.

    Ties are broken by the lower item index unless ``tie_break`` says otherwise: items are
    ranked by ``(-score, tie_break, index)``, i.e. among equal scores the column with the
    smaller ``tie_break`` value comes first (and among equal ``tie_break`` values, the
    lower index). The top-``k`` list is always the first ``k`` entries of the
    top-``k + 1`` list, whatever numpy's partitioning does. NaN scores rank last, like
    ``-inf``.

    Beware when a model produces many ties (content-based scores from genres alone: 40 % of
    MovieLens 100K films share their genre vector with another film; a model that knows
    nothing of a user scores every item alike). MovieLens numbered its films roughly from
    well-known to obscure, so the index tie-break then quietly favours popular films;
    lesson 02 measures the effect by shuffling item ids, and an evaluation that must not
    reward it passes a random permutation as ``tie_break`` (lesson 05).

    Parameters
    ----------
    scores : ndarray, shape (n_users, n_items)
        Higher is better.
    k : int
        List length, ``1 <= k <= n_items``.
    tie_break : array-like, shape (n_items,), optional, keyword-only
        One finite priority per column (for example ``rng.permutation(n_items)``); among
        equal scores the smaller priority ranks first. Default: the column index.

    Returns
    -------
    ndarray of int, shape (n_users, k)

    Raises
    ------
    ValueError
        When ``scores`` is not a 2-D array of numbers, ``k`` is not a list length inside
        the catalogue, or ``tie_break`` is not one finite number per item.

    Notes
    -----
    Linear time per row: ``np.argpartition`` proposes ``k`` candidates and their lowest
    score ``t``; only rows where an item left out also scores exactly ``t`` (an ambiguous
    cut) are redone by keeping every item above ``t`` and the items at ``t`` first in tie
    order. A ``tie_break`` is turned into that order once per call (one sort of ``n_items``
    numbers, shared by all rows). Only the ``k`` survivors are sorted.
    """
    try:
        scores = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            "scores must hold numbers (one row of item scores per user); got values that are "
            "not numbers, e.g. text. Convert them with .astype(float) first."
        ) from None
    if scores.ndim != 2:
        raise ValueError(
            f"scores must be a 2-D array, one row of item scores per user; got shape "
            f"{scores.shape}. For a single user pass scores[None, :] (and take row 0)."
        )
    k = check_k(k, scores.shape[1])
    tie_order = None if tie_break is None else _tie_order(tie_break, scores.shape[1])
    if np.isnan(scores).any():
        scores = np.where(np.isnan(scores), -np.inf, scores)
    candidates = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    candidate_scores = np.take_along_axis(scores, candidates, axis=1)
    threshold = candidate_scores.min(axis=1, keepdims=True)
    tied_everywhere = (scores == threshold).sum(axis=1)
    tied_among_candidates = (candidate_scores == threshold).sum(axis=1)
    ambiguous = np.flatnonzero(tied_everywhere > tied_among_candidates)
    if ambiguous.size:
        rows, cut = scores[ambiguous], threshold[ambiguous]
        if tie_order is not None:
            rows = rows[:, tie_order]  # columns in tie order: the first tied ones win
        at = rows == cut
        places_left = k - (rows > cut).sum(axis=1, keepdims=True)
        keep = (rows > cut) | (at & (np.cumsum(at, axis=1) <= places_left))
        kept = np.nonzero(keep)[1].reshape(len(ambiguous), k)
        candidates[ambiguous] = kept if tie_order is None else tie_order[kept]
        candidate_scores[ambiguous] = np.take_along_axis(
            scores[ambiguous], candidates[ambiguous], axis=1
        )
    if tie_order is None:
        tie_rank = candidates
    else:
        rank_of_column = np.empty_like(tie_order)
        rank_of_column[tie_order] = np.arange(len(tie_order))
        tie_rank = rank_of_column[candidates]
    order = np.lexsort((tie_rank, -candidate_scores), axis=1)
    return np.take_along_axis(candidates, order, axis=1)


def top_k_of_long_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """Exactly ``top_k_indices(scores, k)``, ranked among the few columns that can reach the top ``k``.

    The set of each row's top ``k`` comes from :func:`top_k_entries` (a few passes over
    ``scores`` instead of a partition of every row: worth it when rows are much longer than
    ``k``, as item-item similarities and one row of scores per user are); only those ``k``
    entries are then ranked, by ``(-score, column)`` (a stable sort of entries already in
    column order), so the result equals ``top_k_indices(scores, k)`` entry for entry (NaN
    ranks last, like ``-inf``). ``scores`` must be a 2-D float array; no tie-break other than
    the column index. Every model's ``recommend`` ranks with it.
    """
    if np.isnan(scores).any():
        scores = np.where(np.isnan(scores), -np.inf, scores)
    n_rows, n_columns = scores.shape
    flat = top_k_entries(scores, k)
    columns = (flat % n_columns).reshape(n_rows, k)
    values = np.ascontiguousarray(scores).reshape(-1)[flat].reshape(n_rows, k)
    order = np.argsort(-values, axis=1, kind="stable")
    return np.take_along_axis(columns, order, axis=1)


def top_k_entries(scores: np.ndarray, k: int) -> np.ndarray:
    """The entries of ``top_k_indices(scores, k)`` as a set: their flat positions, row by row.

    Returns the positions ``row * n_columns + column`` of the ``k`` entries of each row that
    :func:`top_k_indices` returns (ties at the cut to the lower column), ascending: row by
    row and, within a row, in column order; exactly ``k`` per row, not ranked. When only the
    set matters (the neighbours a row of a similarity matrix keeps), this skips the ranking.
    ``scores`` must be a 2-D float array holding no NaN (item-kNN's similarities and scores,
    :mod:`recsys_lessons.models.neighbors`, never do) and ``1 <= k <= n_columns``.

    Notes
    -----
    With ``v_k`` the ``k``-th largest score of a row, its top ``k`` are the scores ``> v_k``
    and, of the scores ``= v_k``, those in the lowest columns. ``v_k`` is found among a few
    *candidates* rather than the whole row: cut the columns into ``g = 2k`` groups of ``w =
    n_columns // g`` (group ``j`` holds columns ``j, j + g, j + 2g, ...``, so the group
    maxima take one vectorised pass; leftover columns belong to no group) and let ``t`` be
    the ``k``-th largest group maximum. ``k`` group maxima are ``>= t``, so the row holds
    ``k`` scores ``>= t``: ``v_k >= t``, and every score ``>= v_k`` is a candidate (a score
    ``>= t``). ``v_k`` is the ``k``-th largest candidate, read from the sorted candidates,
    left-aligned in a ``-inf``-padded matrix: a median of ``1.3 k`` per row on MovieLens
    100K's item-item similarities. Rows with more than ``4k`` candidates (many ties at
    ``t``: zeros, ``-inf`` for seen items) sort their whole row instead, as every row does
    when ``w < 2``. Only the value ``v_k`` comes from the sort, never a choice among tied
    entries. Cost: a few passes over ``scores`` against a partition of every row; on those
    similarities (1,682 x 1,682, CPU time, 2026-12-07) 0.18 of the time of ``top_k_indices``
    for ``k = 20`` and 0.36 for ``k = 100``.
    """
    n_rows, n_columns = scores.shape
    scores = np.ascontiguousarray(scores)
    groups = 2 * k
    width = n_columns // groups
    if width >= 2:
        group_max = scores[:, : width * groups].reshape(n_rows, width, groups).max(axis=1)
        bound = _kth_largest(group_max, k)
    else:
        bound = np.full(n_rows, -np.inf)
    flat = np.flatnonzero(scores >= bound[:, None])
    values = scores.reshape(-1)[flat]
    counts = np.bincount(flat // n_columns, minlength=n_rows)
    rows = np.repeat(np.arange(n_rows), counts)
    whole = counts > 4 * k
    light = ~whole[rows]
    padded = np.full((n_rows, max(counts[~whole].max(initial=0), k)), -np.inf)
    position = np.arange(len(flat)) - (np.cumsum(counts) - counts)[rows]
    padded[rows[light], position[light]] = values[light]
    kth = _kth_largest(padded, k)
    if whole.any():
        kth[whole] = _kth_largest(scores[whole], k)
    above = values > kth[rows]
    tied = values == kth[rows]
    places = k - np.bincount(rows[above], minlength=n_rows)  # tied entries each row takes
    tied_per_row = np.bincount(rows[tied], minlength=n_rows)
    tied_rank = np.cumsum(tied) - 1 - (np.cumsum(tied_per_row) - tied_per_row)[rows]
    return flat[above | (tied & (tied_rank < places[rows]))]


def _kth_largest(rows: np.ndarray, k: int) -> np.ndarray:
    """The ``k``-th largest value of each row, by a sort: NumPy's sort (vectorised where the
    CPU allows) keeps its speed on rows full of equal values, where ``np.partition``
    slows down tenfold (rows of zeros or ``-inf``, measured on MovieLens similarities)."""
    return np.sort(rows, axis=1)[:, rows.shape[1] - k]


def _tie_order(tie_break, n_items: int) -> np.ndarray:
    """The columns sorted by ``tie_break`` (then by index): the order in which ties win."""
    priorities = np.asarray(tie_break)
    if priorities.shape != (n_items,):
        raise ValueError(
            f"tie_break must hold one priority per item, shape ({n_items},); got shape "
            f"{priorities.shape}. Pass for example np.random.default_rng(0).permutation({n_items})."
        )
    if not (
        np.issubdtype(priorities.dtype, np.integer) or np.issubdtype(priorities.dtype, np.floating)
    ):
        raise ValueError(
            f"tie_break must hold numbers, one per item; got dtype {priorities.dtype}."
        )
    if not np.isfinite(priorities).all():
        raise ValueError(
            "tie_break holds NaN or infinite values; give every item a finite priority "
            "(smaller wins a tie)."
        )
    return np.argsort(priorities, kind="stable")
