"""Co-occurrence counts and the "bought together" shelf, with count, confidence and lift.

The oldest item-to-item recommender: count how often two items appear in the same basket (or
the same user's history). Lesson 03 (``notebooks/03_item_knn.ipynb``) starts here before
moving on to the cosine.

Every row of ``X`` is one basket (a user's history or an order); only whether a cell is
non-zero matters. With ``N`` baskets and ``count(i)`` the number of baskets holding ``i``:

- ``count(i, j)``: baskets holding both ``i`` and ``j``;
- ``confidence(i -> j) = count(i, j) / count(i)``, the estimate of ``P(j | i)``: "of the
  baskets with i, the share that also hold j";
- ``lift(i, j) = P(i, j) / (P(i) * P(j)) = count(i, j) * N / (count(i) * count(j))``: how many
  times more often the pair occurs than if the two items were chosen independently (1 means
  no association). Lift favours rare items: a pair seen once between two items seen once has
  lift ``N``, which is why ``min_support`` exists.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys_lessons.models.base import as_interaction_csr
from recsys_lessons.validation import check_count, check_index, check_positive_int

__all__ = ["MEASURES", "bought_together", "cooccurrence_counts"]

MEASURES = ("count", "confidence", "lift")


def cooccurrence_counts(X) -> sp.csr_matrix:
    """Item x item matrix ``C`` with ``C[i, j] = count(i, j)``, the baskets holding both items.

    ``C = B^T B`` where ``B`` is ``X`` with every non-zero set to 1. The diagonal
    ``C[i, i] = count(i)`` is the number of baskets holding ``i``.

    Parameters
    ----------
    X : sparse matrix or array-like, shape (n_baskets, n_items)

    Returns
    -------
    scipy.sparse.csr_matrix of float64, shape (n_items, n_items)
    """
    B = _baskets(X)
    C = sp.csr_matrix(B.T @ B)
    C.sort_indices()
    return C


def bought_together(
    X, item: int, n: int = 10, measure: str = "count", min_support: int = 1
) -> pd.DataFrame:
    """The ``n`` items most associated with ``item``, ranked by ``measure``.

    Definitions of ``count``, ``confidence`` and ``lift`` in the module docstring; the
    confidence is that of the rule ``item -> j``. Only items ``j`` with
    ``count(item, j) >= min_support`` are ranked, so lift is not dominated by pairs seen once.
    Ties are broken by the larger count, then the lower item index.

    Parameters
    ----------
    X : sparse matrix or array-like, shape (n_baskets, n_items)
    item : int
        Column index of the anchor item.
    n : int >= 1
        Longest list returned; shorter when fewer items pass ``min_support``.
    measure : {"count", "confidence", "lift"}
    min_support : int >= 1
        Minimum number of baskets holding both items.

    Returns
    -------
    pandas.DataFrame
        Columns ``item``, ``count``, ``confidence``, ``lift``, best first.
    """
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}; got {measure!r}.")
    min_support = check_positive_int(min_support, "min_support", "a number of baskets")
    B = _baskets(X)
    item = check_index(item, B.shape[1], "item")
    n = check_count(n)
    with_item = B[:, item].nonzero()[0]
    pair_counts = np.asarray(B[with_item].sum(axis=0)).ravel()
    item_counts = np.asarray(B.sum(axis=0)).ravel()
    pair_counts[item] = 0.0
    candidates = np.flatnonzero(pair_counts >= min_support)
    counts = pair_counts[candidates]
    table = pd.DataFrame(
        {
            "item": candidates.astype(np.int64),
            "count": counts.astype(np.int64),
            "confidence": counts / item_counts[item],
            "lift": counts * B.shape[0] / (item_counts[item] * item_counts[candidates]),
        }
    )
    order = np.lexsort((candidates, -counts, -table[measure].to_numpy()))[:n]
    return table.iloc[order].reset_index(drop=True)


def _baskets(X) -> sp.csr_matrix:
    B = as_interaction_csr(X).astype(np.float64)
    B.eliminate_zeros()
    B.data[:] = 1.0
    return B
