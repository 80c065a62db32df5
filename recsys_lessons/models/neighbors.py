"""Neighbourhood collaborative filtering: item-kNN, user-kNN and the similarities behind them.

"People who watched X also watched Y" in matrix form. Lesson 03
(``notebooks/03_item_knn.ipynb``) builds the item-item similarity step by step (co-occurrence,
cosine, shrinkage, pruning) and measures each step.

Notation used in every formula below: ``A`` is a users x items matrix, ``a_i`` its column
``i``, ``dot(i, j) = sum_u A[u, i] * A[u, j]`` (the entries of ``A^T A``) and
``n_i = dot(i, i) = sum_u A[u, i]^2``, the squared norm of column ``i``. On 0/1 data,
``dot(i, j)`` is the number of users who interacted with both items and ``n_i`` the number of
users who interacted with ``i``.

``alpha`` in this module is the exponent of the asymmetric cosine, nothing else.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys_lessons.models.base import Recommender, as_history_csr, as_interaction_csr
from recsys_lessons.top_k import top_k_entries, top_k_of_long_rows
from recsys_lessons.validation import (
    check_count,
    check_index,
    check_k,
    check_number,
    check_positive_int,
)

__all__ = ["BLOCK_CELLS", "SIMILARITIES", "ItemKNN", "UserKNN", "similarity_matrix"]

SIMILARITIES = ("cosine", "jaccard", "asymmetric_cosine")

#: Cells of the dense block of similarities computed at once by :func:`similarity_matrix`
#: (2**22 float64 values, 32 MB): a catalogue of ``n`` items is processed at most
#: ``2**22 // n`` rows at a time, so the dense block stays ``O(n)`` per row however large
#: the catalogue. Also the cells of a batch of scores in ``recommend``.
BLOCK_CELLS = 2**22

#: Blocks of rows :func:`similarity_matrix` aims for: each block multiplies out only its dots
#: with itself and with later blocks, so more blocks means fewer sparse products (about
#: ``(1 + 1 / BLOCKS) / 2`` of ``A^T A``) but more, smaller calls. Measured on 2026-12-07
#: (``similarity_matrix(X, neighbors=20)``, CPU time, best of alternated runs in one process,
#: shared machine at load 7-9): 16 blocks take 0.99 of the time of 8 on MovieLens 100K and
#: 0.95 on the 4,971-item log of ``benchmarks/item_knn_speed.py``; 32 take 1.07 and 1.04 of
#: the time of 16; 4 take 1.00 and 1.02 of the time of 8.
BLOCKS = 16

#: Dots :func:`similarity_matrix` keeps between blocks of rows (2**23 float64 values, 64 MB):
#: the pieces beyond are computed twice instead, so memory stays bounded.
KEPT_DOTS = 2**23


def similarity_matrix(
    X,
    similarity: str = "cosine",
    *,
    alpha: float = 0.5,
    shrink: float = 0.0,
    neighbors: int | None = None,
    block_rows: int | None = None,
) -> sp.csr_matrix:
    """Similarity between every pair of columns of ``X``, pruned to the top ``neighbors`` per row.

    Lesson 03 (``notebooks/03_item_knn.ipynb``) derives each formula from co-occurrence counts.

    With ``dot(i, j)`` and ``n_i`` as in the module docstring (all three equal the classic
    set-based definitions on 0/1 data, where ``n_i = |U_i|`` and ``dot(i, j) = |U_i & U_j|``):

    - ``"cosine"``: ``S[i, j] = dot(i, j) / (sqrt(n_i) * sqrt(n_j) + shrink)``
    - ``"jaccard"``: ``S[i, j] = dot(i, j) / (n_i + n_j - dot(i, j) + shrink)``
      (on 0/1 data ``|U_i & U_j| / |U_i | U_j|``; on weighted data the Tanimoto coefficient)
    - ``"asymmetric_cosine"``: ``S[i, j] = dot(i, j) / (n_i^alpha * n_j^(1 - alpha) + shrink)``
      (Aiolli, 2013). ``alpha = 0.5`` is the cosine; ``alpha = 1`` gives ``dot(i, j) / n_i``,
      on 0/1 data the confidence ``P(j | i)`` of the rule "users of i also use j", which does
      not penalise popular ``j``; ``alpha = 0`` gives ``P(i | j)``, which penalises them most.

    ``shrink`` pulls similarities resting on few common users towards zero
    (``shrink = 0`` leaves them unchanged). A pair with a zero denominator gets similarity 0.
    The diagonal is always 0: an item is not its own neighbour.

    Pruning is **per row**: row ``i`` keeps its ``neighbors`` largest similarities (after
    shrinkage) and drops the rest; ties at the cut are broken arbitrarily. Scoring a user with
    ``x_u @ S`` therefore lets each item ``i`` of the user's history vote for its own
    ``neighbors`` nearest items, as in Deshpande and Karypis (2004) and ``implicit``.

    Parameters
    ----------
    X : sparse matrix or array-like, shape (n_rows, n_columns)
        Compared column by column (pass ``X.T`` to compare rows, e.g. users).
    similarity : {"cosine", "jaccard", "asymmetric_cosine"}
    alpha : float in [0, 1]
        Exponent of ``"asymmetric_cosine"``; ignored by the other similarities.
    shrink : float >= 0
        Added to every denominator.
    neighbors : int >= 1 or None
        Similarities kept per row; ``None`` keeps every non-zero similarity.
    block_rows : int or None
        Rows of ``S`` computed per dense block; default ``ceil(n_columns / BLOCKS)``, at
        most ``BLOCK_CELLS // n_columns``. The result does not depend on it, only the speed
        and the peak memory do.

    Notes
    -----
    Each block of rows is a few sparse products written into a dense block
    (:func:`_dot_blocks`: ``dot(i, j)`` is computed once for both ``(i, j)`` and ``(j, i)``),
    normalized in place, and cut to its top ``neighbors`` per row: each row's ``neighbors``-th
    largest value is found among the few entries that can reach it and the kept entries come
    out row by row, columns ascending (:func:`top_k_entries`), which is already the layout of
    a CSR matrix, so ``S`` is assembled without a conversion or a sort. Memory: the dense
    block, at most ``KEPT_DOTS`` dots between the rows done and the rows to come, and ``S``.

    Returns
    -------
    scipy.sparse.csr_matrix, shape (n_columns, n_columns)
        ``S`` with explicit zeros removed; ``S[i]`` holds the neighbours of column ``i``.
    """
    _check_similarity_options(similarity, alpha, shrink, neighbors)
    X = as_interaction_csr(X).astype(np.float64)
    n = X.shape[1]
    if block_rows is None:
        block_rows = max(1, min(-(-n // BLOCKS), BLOCK_CELLS // n))
    else:
        block_rows = check_positive_int(block_rows, "block_rows", "rows of S per dense block")
    block_rows = min(block_rows, n)
    squared_norms = np.bincount(X.indices, weights=X.data * X.data, minlength=n)
    row_factor, column_factor = _norm_factors(squared_norms, similarity, alpha)
    denominator = np.empty((block_rows, n))
    counts, cols, values = [], [], []
    for start, stop, block in _dot_blocks(X, block_rows):
        _normalize_dots(
            block,
            row_factor[start:stop],
            column_factor,
            similarity,
            shrink,
            denominator[: stop - start],
        )
        block[np.arange(stop - start), np.arange(start, stop)] = 0.0
        row_counts, block_cols, block_values = _largest_per_row(block, neighbors)
        counts.append(row_counts)
        cols.append(block_cols)
        values.append(block_values)
    indptr = np.concatenate(([0], np.cumsum(np.concatenate(counts))))
    S = sp.csr_matrix((np.concatenate(values), np.concatenate(cols), indptr), shape=(n, n))
    S.has_sorted_indices = True  # row by row, each row's columns ascending
    return S


def _dot_blocks(X: sp.csr_matrix, block_rows: int):
    """``A^T A[start:stop]`` for consecutive blocks of rows, dense; each dot computed once.

    ``dot(i, j) = dot(j, i)``, so the block of rows ``[start, stop)`` multiplies out only
    its columns ``j >= start`` (one sparse product, ``A[:, start:stop]^T A[:, start:]``: the
    square on the diagonal and the strip to its right) and copies its columns ``j < start``
    from the strips of earlier blocks, transposed. That halves the sparse products (the
    bulk of the work). A strip is kept, cut into one dense piece per later block, while at
    most ``KEPT_DOTS`` values are kept in all; a later block recomputes the pieces that did
    not fit. Each dot is summed over users in the same order as ``A^T @ A`` sums it, so the
    values are the same to the last bit.

    Yields
    ------
    start, stop : int
    block : ndarray, shape (stop - start, n_columns)
        ``A^T A[start:stop]``, dense; one buffer reused by every block (writable).
    """
    n = X.shape[1]
    columns_as_rows = X.T.tocsr()
    starts = range(0, n, block_rows)
    dots = np.empty((min(block_rows, n), n))
    remaining = X  # A[:, start:], narrowed block by block
    block_columns = {}  # A[:, block] of the earlier blocks whose pieces were not all kept
    earlier = {start: [] for start in starts}  # each block's dots with earlier columns
    kept = 0
    for start in starts:
        stop = min(start + block_rows, n)
        rows = columns_as_rows[start:stop]
        block = dots[: stop - start]
        for earlier_start, piece in zip(starts, earlier.pop(start), strict=False):
            if piece is None:  # not kept: multiplied out again
                if earlier_start not in block_columns:
                    block_columns[earlier_start] = columns_as_rows[
                        earlier_start : earlier_start + block_rows
                    ].T.tocsr()
                piece = (rows @ block_columns[earlier_start]).toarray()
            else:
                kept -= piece.size
                piece = piece.T
            block[:, earlier_start : earlier_start + piece.shape[1]] = piece
        right = (rows @ remaining).toarray()
        block[:, start:] = right
        remaining = remaining[:, stop - start :]
        for later_start in range(stop, n, block_rows):
            piece = right[:, later_start - start : later_start - start + block_rows]
            if kept + piece.size > KEPT_DOTS:
                earlier[later_start].append(None)
            else:
                kept += piece.size
                earlier[later_start].append(piece.copy())
        yield start, stop, block


def _check_similarity_options(similarity, alpha, shrink, neighbors) -> None:
    if similarity not in SIMILARITIES:
        raise ValueError(f"similarity must be one of {SIMILARITIES}; got {similarity!r}.")
    check_number(alpha, "alpha", low=0, high=1)
    check_number(shrink, "shrink", low=0)
    if neighbors is not None:
        check_positive_int(neighbors, "neighbors", "or None to keep every neighbour")


def _norm_factors(squared_norms, similarity, alpha):
    """The per-row and per-column factors of the denominator (see similarity_matrix).

    ``sqrt(n_i)`` and ``sqrt(n_j)`` for the cosine, ``n_i^alpha`` and ``n_j^(1 - alpha)`` for
    the asymmetric cosine, ``n_i`` and ``n_j`` for the Jaccard index.
    """
    if similarity == "cosine":
        return np.sqrt(squared_norms), np.sqrt(squared_norms)
    if similarity == "asymmetric_cosine":
        return squared_norms**alpha, squared_norms ** (1.0 - alpha)
    return squared_norms, squared_norms


def _normalize_dots(dots, row_factor, column_factor, similarity, shrink, denominator) -> None:
    """Turn a dense block of ``dot(i, j)`` into similarities, in place (see similarity_matrix).

    ``denominator`` is scratch space of the block's shape. A zero denominator only happens
    without shrinkage, in the row or column of an empty item (a zero norm factor), where
    every ``dot(i, j)`` is 0: those ``0 / 0`` are set back to 0 after one plain division
    (a third faster than dividing only where the denominator is positive).
    """
    if similarity == "jaccard":
        np.add(row_factor[:, None], column_factor[None, :], out=denominator)
        denominator -= dots
    else:
        np.multiply(row_factor[:, None], column_factor[None, :], out=denominator)
    if shrink:
        denominator += shrink
    with np.errstate(invalid="ignore", divide="ignore"):
        np.divide(dots, denominator, out=dots)
    if not shrink:
        dots[row_factor == 0] = 0.0
        dots[:, column_factor == 0] = 0.0


def _largest_per_row(block: np.ndarray, k: int | None):
    """The ``k`` largest non-zero entries of each row of ``block``: count per row, columns, values.

    Columns and values come row by row, each row's columns ascending (CSR order). Ties at
    the cut go to the lower column index, as in :func:`top_k_indices`
    (:func:`top_k_entries`): ``np.argpartition`` alone picks among tied entries differently
    on different CPUs (numpy 2 partitions with AVX-512 code where it can), which would make
    the neighbourhoods machine-dependent.
    """
    n_rows, n_columns = block.shape
    if k is None or k >= n_columns:
        flat = np.flatnonzero(block)
    else:
        flat = top_k_entries(block, k)
        flat = flat[block.reshape(-1)[flat] != 0]
    return (
        np.bincount(flat // n_columns, minlength=n_rows),
        flat % n_columns,
        block.reshape(-1)[flat],
    )


class _NeighborhoodRecommender(Recommender):
    """Shared constructor and helpers of :class:`ItemKNN` and :class:`UserKNN`."""

    def __init__(
        self,
        similarity: str = "cosine",
        alpha: float = 0.5,
        shrink: float = 0.0,
        neighbors: int | None = 100,
        binarize: bool = False,
    ):
        self.similarity = similarity
        self.alpha = alpha
        self.shrink = shrink
        self.neighbors = neighbors
        self.binarize = binarize

    def _weights(self, X: sp.csr_matrix) -> sp.csr_matrix:
        weights = X.astype(np.float64)
        weights.eliminate_zeros()
        if self.binarize:
            weights.data[:] = 1.0
        return weights

    def _similarity(self, A) -> sp.csr_matrix:
        return similarity_matrix(
            A, self.similarity, alpha=self.alpha, shrink=self.shrink, neighbors=self.neighbors
        )

    def _score(self, users: np.ndarray) -> np.ndarray:
        return self._score_sparse(users).toarray()

    def recommend(self, users=None, k: int = 10, exclude_seen: bool = True):
        """Top-``k`` items per user, best first: :meth:`Recommender.recommend`, faster.

        The same lists and scores to the last bit (the same products for each user and the
        same ranking by ``(-score, item)``); only the cut is quicker: each row is ranked among
        the items that can reach its top ``k`` (:func:`top_k_of_long_rows`), not among all items.

        Returns
        -------
        items : ndarray of int, shape ``(len(users), k)``
        scores : ndarray of float, shape ``(len(users), k)``
            ``-inf`` marks seen items padding the list of a user with fewer than ``k``
            unseen items.
        """
        users = self._check_users(users)
        k = check_k(k, self.n_items_)
        batch_size = max(1, BLOCK_CELLS // self.n_items_)
        buffer = np.empty((min(batch_size, len(users)), self.n_items_))  # reused by each batch
        return self._rank_in_batches(
            users, k, exclude_seen, batch_size,
            lambda batch: self._score_sparse(batch).toarray(out=buffer[: len(batch)]),
            top_k_of_long_rows,
        )  # fmt: skip


class ItemKNN(_NeighborhoodRecommender):
    """Item-based nearest neighbours: recommend items similar to those the user already has.

    ``score(u) = w_u @ S``, i.e. ``score(u, j) = sum over items i of w_u[i] * S[i, j]``, where
    ``w_u`` is the user's row of the training matrix (1.0 per interaction when ``binarize``)
    and ``S`` the item-item similarity of :func:`similarity_matrix` computed on the same
    matrix, pruned per row: each item ``i`` of the history votes for its ``neighbors`` most
    similar items. Lesson 03 (``notebooks/03_item_knn.ipynb``).

    ``ItemKNN(similarity="cosine", shrink=0, neighbors=K - 1, binarize=False)`` reproduces
    ``implicit.nearest_neighbours.CosineRecommender(K=K)`` (which counts every item among
    its own ``K`` neighbours) up to the choice among equally similar items at the cut.

    Parameters
    ----------
    similarity : {"cosine", "jaccard", "asymmetric_cosine"}
        Formulas in :func:`similarity_matrix`.
    alpha : float in [0, 1]
        Exponent of ``"asymmetric_cosine"``: ``dot(i, j) / (n_i^alpha * n_j^(1 - alpha))``.
    shrink : float >= 0
        Added to the denominator of every similarity; damps pairs with few common users.
    neighbors : int >= 1 or None
        Most similar items kept per item; ``None`` keeps all (memory grows with
        ``n_items ** 2`` on dense data: fine for a few thousand items).
    binarize : bool
        Treat every interaction as 1.0 (who watched what) instead of using the stored values
        (ratings), both for the similarity and for the weights ``w_u``.

    Attributes
    ----------
    weights_ : scipy.sparse.csr_matrix
        The training matrix as used in the formulas (binarised when ``binarize``).
    similarity_ : scipy.sparse.csr_matrix, shape (n_items, n_items)
        The pruned item-item similarity ``S``; row ``i`` holds item ``i``'s neighbours.

    Examples
    --------
    >>> import numpy as np
    >>> from recsys_lessons.models import ItemKNN
    >>> X = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 0], [0, 0, 1, 1]])
    >>> model = ItemKNN(neighbors=2).fit(X)
    >>> model.similarity_.shape
    (4, 4)
    >>> model.recommend([0], k=2)[0].tolist()  # user 0 has items 0 and 1
    [[2, 3]]
    >>> model.similar_items(3, n=2)[0].tolist()  # only item 2 shares a user with item 3
    [2]
    >>> model.fold_in(np.array([[0, 0, 0, 1]])).shape  # a new user who has item 3
    (1, 4)
    """

    def _fit(self, X: sp.csr_matrix) -> None:
        self.weights_ = self._weights(X)
        self.similarity_ = self._similarity(self.weights_)

    def _score_sparse(self, users: np.ndarray) -> sp.csr_matrix:
        return self.weights_[users] @ self.similarity_

    def fold_in(self, history) -> np.ndarray:
        """Scores of every item for new users known only by ``history``: ``w @ S``.

        ``w`` is the history weighted like the training matrix (1.0 per interaction when
        ``binarize``), so a training user's fold-in equals their :meth:`score`: item-kNN
        needs no retraining for a new user. Lesson 05.

        Returns
        -------
        ndarray, shape (n_new_users, n_items)
        """
        self._require_fitted()
        return (self._weights(as_history_csr(history, self.n_items_)) @ self.similarity_).toarray()

    def similar_items(self, item: int, n: int = 10):
        """The ``n`` items with the largest similarity ``S[item, j]``, best first.

        Only items that kept a non-zero similarity after pruning are returned, so the arrays
        can be shorter than ``n``.

        Returns
        -------
        items : ndarray of int
        scores : ndarray of float
        """
        self._require_fitted()
        item = check_index(item, self.n_items_, "item")
        return _largest_entries(self.similarity_[item], check_count(n))

    def explain(self, user: int, item: int, n: int | None = 3) -> pd.DataFrame:
        """The items of ``user``'s history that contributed most to ``score(user, item)``.

        ``contribution = weight * similarity`` with ``weight = w_u[i]`` and
        ``similarity = S[i, item]``; the contributions of all rows (``n=None``) sum to the
        score. Items of the history that are not neighbours of ``item`` contribute 0 and are
        left out.

        Returns
        -------
        pandas.DataFrame
            Columns ``item``, ``weight``, ``similarity``, ``contribution``; at most ``n`` rows,
            largest contribution first.
        """
        self._require_fitted()
        user = check_index(user, self.n_users_, "user")
        item = check_index(item, self.n_items_, "item")
        history = self.weights_[user]
        similarities = self.similarity_[history.indices][:, [item]].toarray().ravel()
        return _contributions(
            "item", history.indices, history.data, similarities, _check_optional_n(n)
        )


class UserKNN(_NeighborhoodRecommender):
    """User-based nearest neighbours: recommend what the most similar users have.

    ``score(u) = sum over users v of S[u, v] * w_v``, i.e. ``score = S @ W``, where ``W`` is
    the training matrix (1.0 per interaction when ``binarize``) and ``S`` the user-user
    similarity of :func:`similarity_matrix` computed on ``W.T``, pruned per row: each user
    listens to their ``neighbors`` most similar users. For ``"asymmetric_cosine"``,
    ``S[u, v] = dot(u, v) / (n_u^alpha * n_v^(1 - alpha) + shrink)`` with ``u`` the user being
    scored. Lesson 03 (``notebooks/03_item_knn.ipynb``) compares it with :class:`ItemKNN`.

    Parameters
    ----------
    similarity : {"cosine", "jaccard", "asymmetric_cosine"}
        Formulas in :func:`similarity_matrix`, applied to users instead of items.
    alpha : float in [0, 1]
        Exponent of ``"asymmetric_cosine"``.
    shrink : float >= 0
        Added to the denominator of every similarity; damps pairs with few common items.
    neighbors : int >= 1 or None
        Most similar users kept per user; ``None`` keeps all.
    binarize : bool
        Treat every interaction as 1.0 instead of using the stored values (ratings).

    Attributes
    ----------
    weights_ : scipy.sparse.csr_matrix
        The training matrix as used in the formulas (binarised when ``binarize``).
    similarity_ : scipy.sparse.csr_matrix, shape (n_users, n_users)
        The pruned user-user similarity ``S``; row ``u`` holds user ``u``'s neighbours.
    """

    def _fit(self, X: sp.csr_matrix) -> None:
        self.weights_ = self._weights(X)
        self.similarity_ = self._similarity(self.weights_.T)

    def _score_sparse(self, users: np.ndarray) -> sp.csr_matrix:
        return self.similarity_[users] @ self.weights_

    def similar_users(self, user: int, n: int = 10):
        """The ``n`` users with the largest similarity ``S[user, v]``, best first.

        Only users that kept a non-zero similarity after pruning are returned.

        Returns
        -------
        users : ndarray of int
        scores : ndarray of float
        """
        self._require_fitted()
        user = check_index(user, self.n_users_, "user")
        return _largest_entries(self.similarity_[user], check_count(n))

    def explain(self, user: int, item: int, n: int | None = 3) -> pd.DataFrame:
        """The neighbours of ``user`` who contributed most to ``score(user, item)``.

        ``contribution = similarity * weight`` with ``similarity = S[user, v]`` and
        ``weight = w_v[item]``; the contributions of all rows (``n=None``) sum to the score.
        Neighbours who did not interact with ``item`` contribute 0 and are left out.

        Returns
        -------
        pandas.DataFrame
            Columns ``user``, ``weight``, ``similarity``, ``contribution``; at most ``n`` rows,
            largest contribution first.
        """
        self._require_fitted()
        user = check_index(user, self.n_users_, "user")
        item = check_index(item, self.n_items_, "item")
        neighbours = self.similarity_[user]
        weights = self.weights_[neighbours.indices][:, [item]].toarray().ravel()
        return _contributions(
            "user", neighbours.indices, weights, neighbours.data, _check_optional_n(n)
        )


def _contributions(kind, indices, weights, similarities, n) -> pd.DataFrame:
    contributions = weights * similarities
    keep = contributions != 0
    frame = pd.DataFrame(
        {
            kind: indices[keep].astype(np.int64),
            "weight": weights[keep],
            "similarity": similarities[keep],
            "contribution": contributions[keep],
        }
    )
    frame = frame.sort_values(["contribution", kind], ascending=[False, True], kind="stable")
    return frame.head(n if n is not None else len(frame)).reset_index(drop=True)


def _largest_entries(row: sp.csr_matrix, n: int):
    order = np.lexsort((row.indices, -row.data))[:n]
    return row.indices[order].astype(np.int64), row.data[order].astype(np.float64)


def _check_optional_n(n) -> int | None:
    return None if n is None else check_count(n)
