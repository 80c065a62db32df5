"""EASE: a linear item-to-item model with a closed-form solution (Steck 2019).

Lesson 04 (``notebooks/04_matrix_factorization.ipynb``) shows it as the one-line surprise:
no factors, no epochs, a single matrix inverse, and often the best ranking of all.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recsys_lessons.models.base import Recommender


class EASE(Recommender):
    """Embarrassingly Shallow Autoencoder (Steck, "Embarrassingly Shallow Autoencoders for
    Sparse Data", WWW 2019).

    Learns an item x item weight matrix ``B`` that predicts each user's row from the rest of
    it::

        minimise |X - X B|_F^2 + l2 * |B|_F^2   subject to diag(B) = 0

    The zero diagonal stops the trivial answer B = I (an item predicting itself). The
    solution is closed form::

        P = (X^T X + l2 * I)^-1
        B[i, j] = -P[i, j] / P[j, j]   for i != j,   B[j, j] = 0

    and ``score(u) = X[u] @ B``. Fit it on binary implicit feedback (build the matrix with
    ``value=None``) as in the paper; ratings work too and then act as weights. Cost:
    ``n_items^2`` floats of memory and one ``n_items x n_items`` inverse, so it suits
    catalogues of up to some tens of thousands of items.

    Parameters
    ----------
    l2 : float
        Ridge penalty ``lambda``; larger values shrink ``B`` towards zero and favour
        popular items less. Must be positive (it keeps ``X^T X + l2 I`` invertible).

    Attributes
    ----------
    weights_ : ndarray of shape (n_items, n_items)
        ``B``, with a zero diagonal.
    """

    def __init__(self, l2: float = 500.0):
        self.l2 = l2

    def _fit(self, X: sp.csr_matrix) -> None:
        if (
            isinstance(self.l2, bool)
            or not isinstance(self.l2, (int, float, np.integer, np.floating))
            or not 0 < self.l2 < np.inf
        ):
            raise ValueError(
                f"l2 must be a positive, finite number such as 500.0; got {self.l2!r}."
            )
        gram = (X.T @ X).toarray().astype(np.float64)
        gram[np.diag_indices_from(gram)] += self.l2
        too_small = (
            f"X^T X + l2 * I cannot be inverted reliably with l2={self.l2!r}: it is too small "
            "next to the item co-occurrence counts. Increase l2 (e.g. 500 on MovieLens 100K)."
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
