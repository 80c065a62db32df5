"""RP3beta: item-to-item random walks with a popularity penalty (Paudel et al. 2017).

A graph recommender that needs no training loop: the item-item weights are three-step
random-walk probabilities on the user-item graph, divided by a power of the target item's
popularity. Dacrema, Cremonesi and Jannach (RecSys 2019) found it among the strongest simple
baselines, ahead of several neural models of the time.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recsys_lessons.models.base import Recommender, as_history_csr
from recsys_lessons.top_k import top_k_indices
from recsys_lessons.validation import check_number, check_positive_int

__all__ = ["RP3beta"]

#: Cells of the dense item-item block computed at once (rows ``2**22 // n_items``).
BLOCK_CELLS = 2**22


class RP3beta(Recommender):
    """Random walk ``user -> item -> user -> item`` with a popularity penalty (RP3beta).

    The user-item graph has an edge for every stored entry of ``X`` (its value is ignored).
    With ``n_u`` the number of items of user ``u`` and ``n_j`` the number of users of item
    ``j``, the one-step transition probabilities are ``P_ui = 1 / n_u`` (user to one of their
    items) and ``P_iu = 1 / n_i`` (item to one of its users). The item-item weight is::

        W[i, j] = sum over users u of P_iu^alpha * P_uj^alpha  /  n_j^beta     (i != j)

    ``alpha = 1, beta = 0`` is the plain two-step walk ``P3`` (the probability of reaching
    ``j`` from ``i``); ``alpha`` sharpens (> 1) or flattens (< 1) the transitions and
    ``beta > 0`` divides by the popularity of the destination, so rare items are reached
    more often. Row ``i`` keeps its ``neighbors`` largest weights (ties go to the lower
    item index), the diagonal is 0, and a user is scored by summing the rows of their
    items::

        score(u, j) = sum over items i of user u of W[i, j]

    Parameters
    ----------
    neighbors : int >= 1
        Weights kept per row of ``W`` (the course's name for Dacrema's ``topK``).
    alpha : float > 0
        Exponent of the transition probabilities.
    beta : float >= 0
        Popularity penalty: exponent of the destination's number of users.

    Attributes
    ----------
    weights_ : scipy.sparse.csr_matrix, shape (n_items, n_items)
        The pruned ``W``.

    References
    ----------
    B. Paudel, F. Christoffel, C. Newell and A. Bernstein, "Updatable, Accurate, Diverse, and
    Scalable Recommendations for Interactive Applications", ACM TiiS 7(1), 2017.
    M. F. Dacrema, P. Cremonesi and D. Jannach, "Are We Really Making Much Progress? A
    Worrying Analysis of Recent Neural Recommendation Approaches", RecSys 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from recsys_lessons.models import RP3beta
    >>> X = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 0], [0, 0, 1, 1]])
    >>> model = RP3beta(neighbors=2, alpha=1.0, beta=0.5).fit(X)
    >>> model.recommend([0], k=2)[0].tolist()  # user 0 has items 0 and 1
    [[2, 3]]
    """

    def __init__(self, neighbors: int = 100, alpha: float = 1.0, beta: float = 0.5):
        self.neighbors = neighbors
        self.alpha = alpha
        self.beta = beta

    def _fit(self, X: sp.csr_matrix) -> None:
        neighbors = check_positive_int(self.neighbors, "neighbors", "weights kept per item")
        alpha = check_number(self.alpha, "alpha", low=0, low_open=True)
        beta = check_number(self.beta, "beta", low=0)
        edges = _edges(X)
        user_to_item = _row_normalized(edges).power(alpha)
        item_to_user = _row_normalized(edges.T.tocsr()).power(alpha).tocsr()
        item_users = np.asarray(edges.sum(axis=0)).ravel()
        penalty = np.zeros_like(item_users)
        penalty[item_users > 0] = item_users[item_users > 0] ** -beta
        n = X.shape[1]
        block_rows = max(1, BLOCK_CELLS // n)
        rows, cols, values = [], [], []
        for start in range(0, n, block_rows):
            stop = min(start + block_rows, n)
            block = (item_to_user[start:stop] @ user_to_item).toarray() * penalty
            block[np.arange(stop - start), np.arange(start, stop)] = 0.0
            keep = top_k_indices(block, min(neighbors, n))
            kept = np.take_along_axis(block, keep, axis=1)
            nonzero = kept > 0
            rows.append(np.broadcast_to(np.arange(start, stop)[:, None], keep.shape)[nonzero])
            cols.append(keep[nonzero])
            values.append(kept[nonzero])
        self.edges_ = edges
        self.weights_ = sp.csr_matrix(
            (np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
        )
        self.weights_.sort_indices()

    def _score(self, users: np.ndarray) -> np.ndarray:
        return (self.edges_[users] @ self.weights_).toarray()

    def fold_in(self, history) -> np.ndarray:
        """Scores of every item for new users known only by ``history``: ``edges @ W``.

        ``W`` depends on the training graph only, so a new user is the sum of the rows of
        the items in their history (each stored entry counted once). Lesson 05.

        Returns
        -------
        ndarray, shape (n_new_users, n_items)
        """
        self._require_fitted()
        return (_edges(as_history_csr(history, self.n_items_)) @ self.weights_).toarray()


def _edges(X: sp.csr_matrix) -> sp.csr_matrix:
    """1.0 for every stored entry (an explicit 0.0 rating is an interaction too)."""
    edges = sp.csr_matrix((np.ones(X.nnz), X.indices, X.indptr), shape=X.shape)
    edges.sum_duplicates()
    return edges


def _row_normalized(A: sp.csr_matrix) -> sp.csr_matrix:
    """Each non-empty row divided by its sum: the transition probabilities of a walk."""
    sums = np.asarray(A.sum(axis=1)).ravel()
    inverse = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums > 0)
    return sp.csr_matrix(sp.diags(inverse) @ A)
