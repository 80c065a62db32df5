"""Re-ranking a ranked candidate list: MMR diversity and simple business rules.

Every re-ranker of the course (here and in :mod:`recsys_lessons.responsible.mitigate`) takes
**ranked candidates**: ``items``, an ``(n_users, n_candidates)`` array of item indices best
first, and, when it weighs relevance, their ``scores`` of the same shape: exactly the pair
``model.recommend(users, k=n_candidates)`` returns, or a ranker's top candidates. The
re-ranking trade-off is called ``lambda_`` everywhere and means the same everywhere: the
weight of the re-ranker's own objective (diversity here, calibration or group exposure in
``mitigate``) against relevance. ``lambda_ = 0`` keeps the candidates' order; larger values
trade accuracy for the objective.

- Maximal Marginal Relevance (Carbonell & Goldstein 1998) builds the list greedily; at each
  position it takes the candidate maximising
  ``(1 - lambda_) * relevance(i) - lambda_ * max over already chosen j of sim(i, j)``,
  never an item already chosen. ``lambda_ = 0`` keeps the ranker's order; larger values trade
  accuracy for diversity. (Carbonell & Goldstein write the same rule with their
  ``lambda = 1 - lambda_`` weighing relevance; the course counts every re-ranker's trade-off
  from the ranker's order.) Relevance is min-max normalized per user to [0, 1] so that it and
  the cosine similarity live on comparable scales.
- Business rules: pinned items first (a promoted title), then at most ``max_per_group``
  items of any one group (genre, provider) in the row.

Both loop over the positions of a row (10 or so), vectorised across users. Lesson 06
(``notebooks/06_hybrid_ranking.ipynb``) draws the accuracy-diversity trade-off.
"""

from __future__ import annotations

import numpy as np

from recsys_lessons.hybrid.normalize import normalize_scores
from recsys_lessons.validation import (
    check_indices,
    check_interaction_pattern,
    check_k,
    check_number,
    check_positive_int,
)


def mmr_rerank(items, relevance, item_vectors, k: int = 10, lambda_: float = 0.5) -> np.ndarray:
    """Choose ``k`` of each user's candidates by Maximal Marginal Relevance.

    Parameters
    ----------
    items : ndarray of int, shape (n_users, n_candidates)
        Each user's candidate items, ranked best first.
    relevance : ndarray, same shape
        The ranker's scores of those candidates (higher is better).
    item_vectors : ndarray (n_items, d)
        Item representations; similarity is the cosine of two rows (e.g. genre vectors).
    k : int
        Items to choose per user, at most ``n_candidates``.
    lambda_ : float in [0, 1]
        Weight of novelty with respect to the chosen items against relevance; ``0`` keeps
        the candidates' order (when it is the order of ``relevance``).

    Returns
    -------
    ndarray of int, shape (n_users, k): the chosen items in order.

    Examples
    --------
    >>> import numpy as np
    >>> items = np.array([[0, 1, 2]])            # ranked candidates of one user
    >>> relevance = np.array([[1.0, 0.9, 0.1]])
    >>> vectors = np.array([[1, 0], [1, 0], [0, 1]])  # items 0 and 1 are alike
    >>> mmr_rerank(items, relevance, vectors, k=2, lambda_=0.0).tolist()
    [[0, 1]]
    >>> mmr_rerank(items, relevance, vectors, k=2, lambda_=0.5).tolist()
    [[0, 2]]
    """
    items = np.asarray(items)
    relevance = np.asarray(relevance, dtype=np.float64)
    if items.ndim != 2 or relevance.shape != items.shape:
        raise ValueError(
            f"items and relevance must be 2-D arrays of the same shape; got {items.shape} and {relevance.shape}."
        )
    k = check_k(k, items.shape[1])
    lambda_ = check_number(lambda_, "lambda_", low=0, high=1)
    vectors = np.asarray(item_vectors, dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = (vectors / np.where(norms > 0, norms, 1.0))[items]  # (users, candidates, d)
    relevance = normalize_scores(relevance, "minmax")
    rows = np.arange(len(items))
    closest = np.zeros(items.shape)  # max similarity to anything chosen so far
    available = np.ones(items.shape, dtype=bool)
    chosen = np.empty((len(items), k), dtype=items.dtype)
    for position in range(k):
        value = (1 - lambda_) * relevance - lambda_ * closest
        value = np.where(available, value, -np.inf)
        pick = np.argmax(value, axis=1)
        chosen[:, position] = items[rows, pick]
        available[rows, pick] = False
        similarity = np.einsum("ucd,ud->uc", unit, unit[rows, pick])
        closest = np.maximum(closest, similarity)
    return chosen


def apply_business_rules(
    items, item_groups, k: int = 10, max_per_group: int | None = None, pinned=(), seen=None
) -> np.ndarray:
    """Fill a row of ``k`` from ranked candidates under simple editorial rules.

    Pinned items come first, in the given order (and are not repeated later); then the
    candidates in rank order, skipping any whose group already has ``max_per_group`` items
    in the row. With ``seen``, nothing a user has already watched is shown: a pinned title
    the user has seen is not pinned for that user (the next pinned one, or the first
    candidate, moves up) and seen candidates are skipped, the same filter the ranker applied.
    Rows that run out of candidates are padded with ``-1``.

    Parameters
    ----------
    items : ndarray of int, shape (n_users, n_candidates), ranked best first
    item_groups : ndarray of int, shape (n_items,)
        Group label of every item (primary genre, provider...).
    k : int
    max_per_group : int, optional
        Cap per group (pinned items count towards it); ``None`` = no cap.
    pinned : sequence of int
        Items shown first to every user who has not seen them.
    seen : scipy.sparse matrix, users x items, optional
        Non-zero where the user (row ``u`` of ``items``) has already watched the item; an
        editorial rule applied after ranking must not bring those back. ``None``: no filter.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> ranked = np.array([[0, 1, 2], [0, 1, 2]])
    >>> seen = sp.csr_matrix(np.array([[0, 0, 0, 1], [0, 0, 0, 0]]))  # user 0 watched item 3
    >>> apply_business_rules(ranked, np.zeros(4, dtype=int), k=2, pinned=[3], seen=seen).tolist()
    [[0, 1], [3, 0]]

    Raises
    ------
    ValueError
        If ``items`` is not a 2-D array of item indices inside ``item_groups`` (a ``-1``
        padding from an earlier call included: it is not an item), ``item_groups`` are not
        integer labels >= 0, a pinned item is outside the catalogue, or ``k`` /
        ``max_per_group`` is not a positive integer.
    """
    items = np.asarray(items)
    groups = np.asarray(item_groups)
    if items.ndim != 2:
        raise ValueError(
            f"items must be a 2-D users x candidates array; got {items.ndim} dimensions."
        )
    if groups.ndim != 1 or groups.size == 0 or not np.issubdtype(groups.dtype, np.integer):
        raise ValueError(
            "item_groups must be a 1-D array of integer group labels, one per item; turn "
            "names into codes with np.unique(labels, return_inverse=True)[1]."
        )
    if groups.min() < 0:
        raise ValueError(f"item_groups must be >= 0; it holds {groups.min()}.")
    if items.size and (not np.issubdtype(items.dtype, np.integer) or items.min() < 0):
        raise ValueError(
            "items must hold item indices >= 0; a -1 (the padding of a row that ran out of "
            "candidates) is not an item: drop those columns or pass more candidates."
        )
    if items.size and items.max() >= groups.size:
        raise ValueError(
            f"items holds item {items.max()} but item_groups labels only {groups.size} items; "
            "pass one label per item of the catalogue."
        )
    pinned = check_indices(pinned, groups.size, "item", allow_empty=True)
    k = check_k(k)
    if len(pinned) > k:
        raise ValueError(f"{len(pinned)} pinned items do not fit a row of k={k}.")
    if max_per_group is not None:
        check_positive_int(max_per_group, "max_per_group", "or None for no cap")
    n_users = len(items)
    rows = np.arange(n_users)
    seen = _seen_pattern(seen, n_users, groups.size)
    unseen = _unseen_mask(seen, items)
    shown_pins = _unseen_mask(seen, np.broadcast_to(pinned, (n_users, len(pinned))))
    pin_users, pin_slots = np.nonzero(shown_pins)
    row = np.full((n_users, k), -1, dtype=items.dtype)
    row[pin_users, np.cumsum(shown_pins, axis=1)[pin_users, pin_slots] - 1] = pinned[pin_slots]
    filled = shown_pins.sum(axis=1)
    counts = np.zeros((n_users, groups.max() + 1), dtype=np.int64)
    np.add.at(counts, (pin_users, groups[pinned[pin_slots]]), 1)
    cap = np.inf if max_per_group is None else max_per_group
    for column, column_unseen in zip(items.T, unseen.T, strict=True):
        accept = (
            (filled < k)
            & column_unseen
            & ~np.isin(column, pinned)
            & (counts[rows, groups[column]] < cap)
        )
        row[rows[accept], filled[accept]] = column[accept]
        counts[rows[accept], groups[column[accept]]] += 1
        filled += accept
    return row


def _seen_pattern(seen, n_users: int, n_items: int):
    """``seen`` as a binary CSR with one row per user of the candidates, or ``None``."""
    if seen is None:
        return None
    pattern = check_interaction_pattern(seen, "seen", n_items=n_items)
    if pattern.shape[0] != n_users:
        raise ValueError(
            f"seen has {pattern.shape[0]} user rows but items has {n_users}; pass the "
            "histories of the same users, in the same order."
        )
    return pattern


def _unseen_mask(pattern, items: np.ndarray) -> np.ndarray:
    """True where user ``u`` (row ``u`` of ``items``) has not seen ``items[u, j]``."""
    if pattern is None or items.size == 0:
        return np.ones(items.shape, dtype=bool)
    users = np.repeat(np.arange(len(items)), items.shape[1])
    return np.asarray(pattern[users, items.ravel()]).reshape(items.shape) == 0


__all__ = ["apply_business_rules", "mmr_rerank"]
