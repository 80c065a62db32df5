"""Ranking and beyond-accuracy metrics for top-k recommendation lists.

Every metric reads ``recommended``; the ranking metrics also read ``relevant`` (design doc
section 4.1):

- ``recommended``: the ranked lists, a 2-D integer array of shape ``(n_users, width)`` with
  ``width >= k`` (row ``u`` is user ``u``'s list, best first), or a list of equal-length
  lists. Only the first ``k`` columns are read. Ragged lists raise ``ValueError``: truncate
  or pad them to a common length first. An item may appear only once in a user's top-k.
- ``relevant``: what each user actually liked in the test data, either a sequence with one
  collection of item indices per user (sets, lists or arrays; a 2-D array is read as one
  row of item indices per user), or a SciPy sparse user x item matrix (or an
  :class:`~recsys_lessons.data.matrix.InteractionMatrix`) whose stored non-zero entries are the
  relevant items.

Ranking metrics (``precision_at_k`` ... ``hit_rate_at_k``) return the mean over the users
that have at least one relevant item; users without relevant items are left out of the
mean, because no list can be right or wrong for them. With ``per_user=True`` they return the
per-user array instead, holding NaN for those users.

Everything is vectorized: the relevant sets are turned into one sorted array of
``user * n_columns + item`` keys, and a single ``searchsorted`` marks which recommended items
are hits, for all users at once.

Lesson 01 (notebooks/01_baselines_and_evaluation.ipynb) teaches the ranking metrics; lesson
02 (notebooks/02_content_based.ipynb) uses coverage and intra-list diversity.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import chain

import numpy as np
import scipy.sparse as sp

from recsys_lessons.data.matrix import InteractionMatrix
from recsys_lessons.validation import (
    check_item_popularity,
    check_positive_int,
    check_ranked_lists,
)

__all__ = [
    "average_precision_at_k",
    "average_recommendation_popularity",
    "catalog_coverage",
    "gini_index",
    "hit_rate_at_k",
    "intra_list_diversity",
    "map_at_k",
    "mrr_at_k",
    "ndcg_at_k",
    "novelty",
    "precision_at_k",
    "recall_at_k",
]

#: Bound on ``users_in_batch * n_features`` floats held at once by ``intra_list_diversity``.
DIVERSITY_BATCH_FLOATS = 2**24


# --------------------------------------------------------------------------------------
# Ranking metrics
# --------------------------------------------------------------------------------------


def precision_at_k(recommended, relevant, k: int = 10, per_user: bool = False):
    """Share of the top-k recommendations that are relevant.

    ``precision@k = hits in top-k / k``

    The denominator is always ``k``, even for a user with fewer than ``k`` relevant items
    (so that user cannot reach 1). Taught in lesson 01, notebooks/01_baselines_and_evaluation.ipynb.

    Parameters
    ----------
    recommended : array-like of int, shape (n_users, >= k)
        Ranked item indices per user, best first; see the module docstring.
    relevant : sequence of collections of int, or sparse matrix (n_users, n_items)
        Relevant item indices per user; see the module docstring.
    k : int
        Length of the list that is evaluated, ``1 <= k <= recommended.shape[1]``.
    per_user : bool
        Return the per-user values instead of their mean.

    Returns
    -------
    float or ndarray of shape (n_users,)
        The mean over users with at least one relevant item, or (``per_user=True``) the
        per-user values with NaN for users without relevant items.
    """
    hits, n_relevant = _hits(recommended, relevant, k)
    return _mean_over_evaluated(hits.sum(axis=1) / k, n_relevant, per_user)


def recall_at_k(recommended, relevant, k: int = 10, per_user: bool = False):
    """Share of a user's relevant items that made it into the top-k.

    ``recall@k = hits in top-k / |relevant|``

    A user with more than ``k`` relevant items cannot reach 1. Parameters and return value
    as in :func:`precision_at_k`. Taught in lesson 01, notebooks/01_baselines_and_evaluation.ipynb.
    """
    hits, n_relevant = _hits(recommended, relevant, k)
    return _mean_over_evaluated(hits.sum(axis=1) / np.maximum(n_relevant, 1), n_relevant, per_user)


def ndcg_at_k(recommended, relevant, k: int = 10, per_user: bool = False):
    """Normalized discounted cumulative gain with binary relevance.

    ``DCG@k = sum over ranks r = 1..k of rel_r / log2(r + 1)`` (``rel_r`` is 1 for a hit)

    ``IDCG@k = sum over r = 1..min(|relevant|, k) of 1 / log2(r + 1)`` (the DCG of a list
    with every relevant item on top)

    ``nDCG@k = DCG@k / IDCG@k``

    Parameters and return value as in :func:`precision_at_k`. Taught in lesson 01,
    notebooks/01_baselines_and_evaluation.ipynb.

    Examples
    --------
    User 0 liked item 1, ranked second; user 1 liked items 0 and 1, ranked first and third:

    >>> ndcg_at_k([[3, 1, 2], [0, 2, 1]], [{1}, {0, 1}], k=3, per_user=True).round(4)
    array([0.6309, 0.9197])
    >>> round(ndcg_at_k([[3, 1, 2], [0, 2, 1]], [{1}, {0, 1}], k=3), 4)
    0.7753
    """
    hits, n_relevant = _hits(recommended, relevant, k)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = hits @ discounts
    ideal_dcg = np.cumsum(discounts)[np.clip(n_relevant, 1, k) - 1]
    return _mean_over_evaluated(dcg / ideal_dcg, n_relevant, per_user)


def average_precision_at_k(recommended, relevant, k: int = 10, per_user: bool = False):
    """Average of the precisions at the ranks of the hits.

    ``AP@k = sum over r = 1..k of precision@r * rel_r / min(|relevant|, k)``

    Dividing by ``min(|relevant|, k)`` (not by ``|relevant|``) lets a perfect top-k list
    score 1 even when the user has more than ``k`` relevant items. The mean over users is
    :func:`map_at_k`. Parameters and return value as in :func:`precision_at_k`. Taught in
    lesson 01, notebooks/01_baselines_and_evaluation.ipynb.
    """
    hits, n_relevant = _hits(recommended, relevant, k)
    precision_at_rank = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    summed = (precision_at_rank * hits).sum(axis=1)
    return _mean_over_evaluated(summed / np.clip(n_relevant, 1, k), n_relevant, per_user)


def map_at_k(recommended, relevant, k: int = 10, per_user: bool = False):
    """Mean average precision: the mean of :func:`average_precision_at_k` over users.

    ``MAP@k = mean over users with a relevant item of AP@k``

    Identical to ``average_precision_at_k`` (``per_user=True`` returns the AP@k array); the
    second name is the one papers and leaderboards use. Taught in lesson 01,
    notebooks/01_baselines_and_evaluation.ipynb.
    """
    return average_precision_at_k(recommended, relevant, k=k, per_user=per_user)


def mrr_at_k(recommended, relevant, k: int = 10, per_user: bool = False):
    """Mean reciprocal rank of the first hit.

    ``RR@k = 1 / rank of the first hit in the top-k, or 0 when there is no hit``

    Parameters and return value as in :func:`precision_at_k`. Taught in lesson 01,
    notebooks/01_baselines_and_evaluation.ipynb.
    """
    hits, n_relevant = _hits(recommended, relevant, k)
    first_hit_rank = hits.argmax(axis=1) + 1
    reciprocal_rank = np.where(hits.any(axis=1), 1.0 / first_hit_rank, 0.0)
    return _mean_over_evaluated(reciprocal_rank, n_relevant, per_user)


def hit_rate_at_k(recommended, relevant, k: int = 10, per_user: bool = False):
    """Share of users with at least one hit in their top-k.

    ``HR@k = 1 if any of the top-k items is relevant, else 0``

    Parameters and return value as in :func:`precision_at_k`. Taught in lesson 01,
    notebooks/01_baselines_and_evaluation.ipynb.
    """
    hits, n_relevant = _hits(recommended, relevant, k)
    return _mean_over_evaluated(hits.any(axis=1).astype(np.float64), n_relevant, per_user)


# --------------------------------------------------------------------------------------
# Beyond accuracy
# --------------------------------------------------------------------------------------


def catalog_coverage(recommended, n_items: int, k: int = 10) -> float:
    """Share of the catalogue that appears in at least one user's top-k.

    ``coverage@k = |union of all top-k lists| / n_items``

    Parameters
    ----------
    recommended : array-like of int, shape (n_users, >= k)
        Ranked item indices per user; every index must be below ``n_items``.
    n_items : int
        Size of the catalogue.
    k : int
        Length of the list that is evaluated.

    Returns
    -------
    float
        In ``[0, 1]``. Used in lesson 02, notebooks/02_content_based.ipynb.
    """
    n_items = check_positive_int(n_items, "n_items", "the catalogue size")
    exposure = _exposure_counts(check_ranked_lists(recommended, k, n_items), n_items)
    return np.count_nonzero(exposure) / n_items


def novelty(recommended, item_popularity, k: int = 10, per_user: bool = False):
    """Mean self-information of the recommended items: how unexpected they are.

    ``share_i = (count_i + 1) / (sum_j count_j + n_items)``

    ``novelty@k = mean over users of mean over the top-k items of -log2(share_i)``

    ``share_i`` is item ``i``'s share of all interactions, with add-one smoothing so that an
    item nobody interacted with (count 0) has a finite novelty instead of infinity. In bits:
    recommending an item that holds half of all interactions adds 1, one that holds 1/1024
    adds 10.

    Parameters
    ----------
    recommended : array-like of int, shape (n_users, >= k)
        Ranked item indices per user; every index must be below ``len(item_popularity)``.
    item_popularity : array-like of shape (n_items,)
        Interaction count of every item in the training data, e.g.
        ``np.diff(train_csr.tocsc().indptr)`` or ``train_csr.getnnz(axis=0)``.
    k : int
        Length of the list that is evaluated.
    per_user : bool
        Return the per-user values instead of their mean over all users.

    Returns
    -------
    float or ndarray of shape (n_users,)
    """
    popularity = check_item_popularity(item_popularity)
    top = check_ranked_lists(recommended, k, n_items=popularity.size)
    share = (popularity + 1.0) / (popularity.sum() + popularity.size)
    per_list = -np.log2(share)[top].mean(axis=1)
    return per_list if per_user else float(per_list.mean())


def intra_list_diversity(recommended, item_features, k: int = 10, per_user: bool = False):
    """Mean pairwise cosine distance between the items of each list.

    ``ILD@k = mean over users of  (2 / (k (k - 1))) * sum over pairs i < j in the top-k of
    (1 - cos(f_i, f_j))``

    An item whose feature vector is all zeros has cosine similarity 0 with every item (as in
    ``sklearn.metrics.pairwise.cosine_similarity``). The sum over pairs is computed without
    forming them: with unit vectors ``u_i``, ``sum over i < j of u_i . u_j =
    (|sum_i u_i|^2 - sum_i |u_i|^2) / 2``.

    Parameters
    ----------
    recommended : array-like of int, shape (n_users, >= k)
        Ranked item indices per user; every index must be below ``item_features.shape[0]``.
    item_features : array-like or sparse matrix of shape (n_items, n_features)
        One row per item, e.g. one-hot genres or embeddings.
    k : int
        Length of the list that is evaluated; at least 2 (a pair is needed).
    per_user : bool
        Return the per-user values instead of their mean over all users.

    Returns
    -------
    float or ndarray of shape (n_users,)
        In ``[0, 1]`` for non-negative features, in ``[0, 2]`` otherwise. Used in lesson 02,
        notebooks/02_content_based.ipynb.
    """
    features = _item_features(item_features)
    top = check_ranked_lists(recommended, k, n_items=features.shape[0])
    if k < 2:
        raise ValueError("intra_list_diversity compares pairs of items, so it needs k >= 2.")
    unit = _unit_rows(features)
    unit_squared_norms = _row_squared_norms(unit)
    n_users = top.shape[0]
    squared_norm_of_sum = np.empty(n_users)
    batch = max(1, DIVERSITY_BATCH_FLOATS // max(unit.shape[1], 1))
    for start in range(0, n_users, batch):
        rows = top[start : start + batch]
        membership = sp.csr_matrix(
            (np.ones(rows.size), rows.ravel(), np.arange(0, rows.size + 1, k)),
            shape=(len(rows), unit.shape[0]),
        )
        squared_norm_of_sum[start : start + batch] = _row_squared_norms(membership @ unit)
    pair_similarity_sum = (squared_norm_of_sum - unit_squared_norms[top].sum(axis=1)) / 2
    per_list = 1.0 - pair_similarity_sum / (k * (k - 1) / 2)
    per_list = np.clip(per_list, 0.0, 2.0)  # remove rounding noise such as -1e-16
    return per_list if per_user else float(per_list.mean())


def average_recommendation_popularity(
    recommended, item_popularity, k: int = 10, per_user: bool = False
):
    """Mean popularity (interaction count) of the recommended items.

    ``ARP@k = mean over users of mean over the top-k items of count_i``

    Parameters and return value as in :func:`novelty`; the result is in interactions per
    item, so compare it with the catalogue's mean count ``item_popularity.mean()``.
    """
    popularity = check_item_popularity(item_popularity)
    per_list = popularity[check_ranked_lists(recommended, k, n_items=popularity.size)].mean(axis=1)
    return per_list if per_user else float(per_list.mean())


def gini_index(recommended, n_items: int, k: int = 10) -> float:
    """Gini index of how exposure is spread over the catalogue.

    ``exposure_i`` = number of top-k lists that contain item ``i`` (0 for items never shown).
    With the exposures sorted ascending, ``e_(1) <= ... <= e_(n)`` and ``n = n_items``:

    ``Gini = sum over i = 1..n of (2i - n - 1) e_(i) / (n * sum_i e_(i))``

    0 means every item is shown equally often; ``(n - 1) / n`` (close to 1) means all
    exposure goes to a single item.

    Parameters
    ----------
    recommended : array-like of int, shape (n_users, >= k)
        Ranked item indices per user; every index must be below ``n_items``.
    n_items : int
        Size of the catalogue (items never recommended count with exposure 0).
    k : int
        Length of the list that is evaluated.

    Returns
    -------
    float
    """
    n_items = check_positive_int(n_items, "n_items", "the catalogue size")
    exposure = np.sort(_exposure_counts(check_ranked_lists(recommended, k, n_items), n_items))
    weights = 2 * np.arange(1, n_items + 1) - n_items - 1
    return float(weights @ exposure / (n_items * exposure.sum()))


# --------------------------------------------------------------------------------------
# Input handling shared by all metrics
# --------------------------------------------------------------------------------------


def _hits(recommended, relevant, k):
    """Boolean hit matrix ``(n_users, k)`` and the number of relevant items per user.

    Every relevant (user, item) pair becomes one integer key ``user * n_columns + item``; the
    keys come out sorted, so one ``searchsorted`` finds all recommended pairs at once.
    """
    top = check_ranked_lists(recommended, k)
    n_users = top.shape[0]
    pattern = _relevant_pattern(relevant, n_users, top)
    n_relevant = np.diff(pattern.indptr)
    n_columns = pattern.shape[1]
    keys = np.repeat(np.arange(n_users, dtype=np.int64) * n_columns, n_relevant) + pattern.indices
    if keys.size == 0:
        return np.zeros(top.shape, dtype=bool), n_relevant
    queries = np.arange(n_users, dtype=np.int64)[:, None] * n_columns + top
    positions = np.minimum(np.searchsorted(keys, queries), keys.size - 1)
    return keys[positions] == queries, n_relevant


def _relevant_pattern(relevant, n_users, top):
    """``relevant`` as a CSR matrix with sorted, distinct, non-zero entries only."""
    if isinstance(relevant, InteractionMatrix):
        relevant = relevant.X
    if sp.issparse(relevant):
        matrix = sp.csr_matrix(relevant)
        if matrix.shape[0] != n_users:
            raise ValueError(
                f"recommended has lists for {n_users} users but relevant has {matrix.shape[0]} rows; "
                "pass both for the same users in the same order."
            )
        if np.isnan(matrix.data).any():
            raise ValueError(
                "relevant holds NaN values; drop them (non-zero entries mark relevant items)."
            )
        if top.max() >= matrix.shape[1]:
            raise ValueError(
                f"recommended holds item index {top.max()}, but relevant has only {matrix.shape[1]} "
                "item columns; build both with the same item index."
            )
        if not (matrix.has_canonical_format and matrix.data.all()):
            matrix = matrix.copy()  # never modify the caller's matrix
            matrix.sum_duplicates()
            matrix.eliminate_zeros()
        return matrix
    sizes, items = _flatten_collections(relevant, n_users)
    matrix = sp.csr_matrix(
        (np.ones(items.size), items, np.concatenate(([0], np.cumsum(sizes)))),
        shape=(n_users, int(max(top.max(), items.max(initial=-1)) + 1)),
    )
    matrix.sum_duplicates()  # sorts each row and merges repeated items
    return matrix


def _flatten_collections(relevant, n_users):
    """Per-user sizes and the concatenated item indices of a sequence of collections."""
    if isinstance(relevant, Mapping) or (
        isinstance(relevant, np.ndarray) and relevant.dtype == bool
    ):
        raise ValueError(
            "relevant must be a sparse user x item matrix (use scipy.sparse.csr_matrix for a "
            "boolean matrix) or a sequence with one collection of item indices per user, in the "
            "order of the rows of recommended (not a dict)."
        )
    try:
        n_described = len(relevant)
    except TypeError:
        raise ValueError(
            "relevant must be a sequence with one collection per user (it has no length)."
        ) from None
    if n_described != n_users:
        raise ValueError(
            f"recommended has lists for {n_users} users but relevant describes {n_described}; "
            "pass both for the same users in the same order."
        )
    try:
        sizes = np.fromiter(map(len, relevant), dtype=np.int64, count=n_users)
        flat = np.fromiter(chain.from_iterable(relevant), dtype=np.float64, count=int(sizes.sum()))
    except (TypeError, ValueError):
        raise ValueError(
            "relevant must hold one collection (set, list or array) of integer item indices per user."
        ) from None
    if np.isnan(flat).any():
        raise ValueError("relevant holds NaN item indices; drop missing values first.")
    if np.isinf(flat).any() or (flat != np.round(flat)).any():
        raise ValueError(
            "relevant must hold whole-number item indices; map item ids to indices first."
        )
    if (flat < 0).any():
        raise ValueError(
            f"relevant holds the negative item index {int(flat.min())}; indices start at 0."
        )
    return sizes, flat.astype(np.int64)


def _mean_over_evaluated(values, n_relevant, per_user):
    """Per-user values with NaN where nothing is relevant, or the mean over the other users."""
    evaluated = n_relevant > 0
    if per_user:
        return np.where(evaluated, values, np.nan)
    if not evaluated.any():
        raise ValueError(
            "no user has a relevant item, so there is nothing to average; check that relevant "
            "holds the test interactions (per_user=True returns all-NaN values)."
        )
    return float(values[evaluated].mean())


def _exposure_counts(top, n_items):
    return np.bincount(top.ravel(), minlength=n_items)


def _item_features(item_features):
    if sp.issparse(item_features):
        features = sp.csr_matrix(item_features, dtype=np.float64)
        values = features.data
    else:
        try:
            features = np.asarray(item_features, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError("item_features must be a numeric items x features matrix.") from None
        values = features
    if features.ndim != 2 or features.shape[0] == 0:
        raise ValueError(
            f"item_features must be a 2-D items x features matrix with one row per item; got shape {features.shape}."
        )
    if not np.isfinite(values).all():
        raise ValueError("item_features holds NaN or infinite values; fill or drop them first.")
    return features


def _row_squared_norms(matrix):
    if sp.issparse(matrix):
        return np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel()
    return np.einsum("ij,ij->i", matrix, matrix)


def _unit_rows(features):
    """Rows scaled to unit length; all-zero rows stay zero."""
    norms = np.sqrt(_row_squared_norms(features))
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    if sp.issparse(features):
        return sp.csr_matrix(sp.diags(scale) @ features)
    return features * scale[:, None]
