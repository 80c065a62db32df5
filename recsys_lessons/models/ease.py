"""EASE: a linear item-to-item model with a closed-form solution (Steck 2019).

Lesson 04 (``notebooks/04_matrix_factorization.ipynb``) shows it as the one-line surprise:
no factors, no iterations, a single matrix inverse, and often the best ranking of all.
Lesson 05 folds new users in with :meth:`EASE.fold_in`.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recsys_lessons.models.base import Recommender, as_history_csr
from recsys_lessons.validation import check_number


class EASE(Recommender):
    """Embarrassingly Shallow Autoencoder (Steck, "Embarrassingly Shallow Autoencoders for
    Sparse Data", WWW 2019).

    Learns an item x item weight matrix ``B`` that predicts each user's row from the rest of
    it::

        minimise |X - X B|_F^2 + regularization * |B|_F^2   subject to diag(B) = 0

    The zero diagonal stops the trivial answer B = I (an item predicting itself). The
    solution is closed form::

        P = (X^T X + regularization * I)^-1
        B[i, j] = -P[i, j] / P[j, j]   for i != j,   B[j, j] = 0

    and ``score(u) = X[u] @ B``. Fit it on binary implicit feedback (build the matrix with
    ``value=None``) as in the paper; ratings work too and then act as weights. Cost:
    ``n_items^2`` floats of memory and one ``n_items x n_items`` inverse, so it suits
    catalogues of up to some tens of thousands of items.

    Parameters
    ----------
    regularization : float
        The ridge penalty (the paper's ``lambda``); larger values shrink ``B`` towards zero
        and favour popular items less. Must be positive (it keeps
        ``X^T X + regularization * I`` invertible).

    Attributes
    ----------
    weights_ : ndarray of shape (n_items, n_items)
        ``B``, with a zero diagonal.

    Examples
    --------
    >>> import numpy as np
    >>> from recsys_lessons.models import EASE
    >>> X = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 0], [0, 0, 1, 1]])
    >>> model = EASE(regularization=1.0).fit(X)
    >>> model.weights_.shape
    (4, 4)
    >>> items, scores = model.recommend([0], k=2)
    >>> items.tolist()
    [[2, 3]]
    >>> model.fold_in(np.array([[1, 1, 0, 0]])).shape  # a new user with user 0's history
    (1, 4)
    """

    def __init__(self, regularization: float = 500.0):
        self.regularization = regularization

    def _fit(self, X: sp.csr_matrix) -> None:
        regularization = check_number(self.regularization, "regularization", low=0, low_open=True)
        gram = (X.T @ X).toarray().astype(np.float64)
        gram[np.diag_indices_from(gram)] += regularization
        too_small = (
            f"X^T X + regularization * I cannot be inverted reliably with regularization="
            f"{self.regularization!r}: it is too small next to the item co-occurrence counts. "
            "Increase it (e.g. 500 on MovieLens 100K)."
        )
        try:
            precision = np.linalg.inv(gram)
        except np.linalg.LinAlgError:
            raise ValueError(too_small) from None
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            weights = -precision / np.diag(precision)
        np.fill_diagonal(weights, 0.0)
        if not np.isfinite(weights).all():
            raise ValueError(too_small)
        self.weights_ = weights

    def _score(self, users: np.ndarray) -> np.ndarray:
        return np.asarray(self.X_[users] @ self.weights_)

    def fold_in(self, history) -> np.ndarray:
        """Scores of every item for new users known only by ``history``: ``history @ B``.

        A linear item-item model needs no retraining: a user is nothing but their row, so a
        training user's fold-in equals their :meth:`score`. Lesson 05.

        Parameters
        ----------
        history : sparse matrix or array, shape (n_new_users, n_items)

        Returns
        -------
        ndarray, shape (n_new_users, n_items)
        """
        self._require_fitted()
        return np.asarray(as_history_csr(history, self.n_items_) @ self.weights_)
