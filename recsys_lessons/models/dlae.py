"""DLAE and EDLAE: EASE's closed form with dropout as the regularizer (Steck, NeurIPS 2020).

A linear autoencoder trained on inputs with dropout never learns the identity: dropping an
item from the input forces the other items to predict it. In expectation over the dropout
masks the penalty is an L2 penalty that grows with each item's popularity, so the closed
form of :class:`~recsys_lessons.models.EASE` carries over with a diagonal matrix in place
of ``regularization * I``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recsys_lessons.models.base import Recommender, as_history_csr
from recsys_lessons.validation import check_number

__all__ = ["DLAE", "EDLAE", "dropout_penalty"]


def dropout_penalty(gram: np.ndarray, dropout: float, regularization: float) -> np.ndarray:
    """The diagonal of ``Lambda = dropout / (1 - dropout) * diagMat(diag(G)) + regularization * I``.

    With each entry of ``X`` dropped with probability ``p = dropout`` and the kept entries
    scaled by ``1 / (1 - p)`` (the noisy input ``Z``), ``E[Z] = X`` and
    ``E[Z^T Z] = G + p / (1 - p) * diagMat(diag(G))`` with ``G = X^T X``, so::

        E |X - Z B|_F^2 = |X - X B|_F^2 + |Lambda_p^(1/2) B|_F^2

    (Steck 2020; ``Lambda_p`` is the first term of ``Lambda``).
    """
    return dropout / (1.0 - dropout) * np.diag(gram) + regularization


class _DropoutLinearAutoencoder(Recommender):
    """Shared fit: ``P = (G + Lambda)^-1`` from the gram matrix, then the subclass's ``B``."""

    def __init__(self, dropout: float = 0.33, regularization: float = 10.0):
        self.dropout = dropout
        self.regularization = regularization

    def _fit(self, X: sp.csr_matrix) -> None:
        dropout = check_number(self.dropout, "dropout", low=0, high=1, high_open=True)
        regularization = check_number(self.regularization, "regularization", low=0)
        gram = (X.T @ X).toarray().astype(np.float64)
        penalty = dropout_penalty(gram, dropout, regularization)
        if not (penalty > 0).all():
            raise ValueError(
                f"G + Lambda is singular: an item nobody interacted with gets no penalty with "
                f"regularization={self.regularization!r}. Use regularization > 0."
            )
        gram[np.diag_indices_from(gram)] += penalty
        try:
            precision = np.linalg.inv(gram)
        except np.linalg.LinAlgError:
            raise ValueError(
                "G + Lambda cannot be inverted; raise regularization or dropout."
            ) from None
        weights = self._weights(precision, penalty)
        if not np.isfinite(weights).all():
            raise ValueError("the weights hold NaN or infinite values; raise regularization.")
        self.weights_ = weights

    def _weights(
        self, precision: np.ndarray, penalty: np.ndarray
    ) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _score(self, users: np.ndarray) -> np.ndarray:
        return np.asarray(self.X_[users] @ self.weights_)

    def fold_in(self, history) -> np.ndarray:
        """Scores of every item for new users known only by ``history``: ``history @ B``.

        Like EASE, a linear item-item model: a user is their row. Lesson 05.

        Returns
        -------
        ndarray, shape (n_new_users, n_items)
        """
        self._require_fitted()
        return np.asarray(as_history_csr(history, self.n_items_) @ self.weights_)


class DLAE(_DropoutLinearAutoencoder):
    """Denoising linear autoencoder, full rank, in closed form (Steck 2020).

    Minimises the expected reconstruction error under dropout plus an L2 penalty::

        minimise  E |X - Z B|_F^2 + regularization * |B|_F^2
                = |X - X B|_F^2 + |Lambda^(1/2) B|_F^2

        Lambda = dropout / (1 - dropout) * diagMat(diag(G)) + regularization * I,  G = X^T X

    (see :func:`dropout_penalty`), whose solution is::

        B = (G + Lambda)^-1 G = I - P Lambda,   P = (G + Lambda)^-1

    ``score(u) = X[u] @ B``. The diagonal of ``B`` is not zero, but it only scores items the
    user already has, which ``recommend`` removes. The penalty on ``B[i, j]`` grows with the
    popularity of item ``i``: popular items are trusted less as predictors.

    Parameters
    ----------
    dropout : float in [0, 1)
        Probability ``p`` of dropping each entry of the input.
    regularization : float >= 0
        The constant ridge penalty ``lambda`` (``dropout = 0`` gives ridge regression of ``X``
        on itself, which needs ``regularization > 0``).

    Attributes
    ----------
    weights_ : ndarray of shape (n_items, n_items)
        ``B``.

    References
    ----------
    H. Steck, "Autoencoders that don't overfit towards the Identity", NeurIPS 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from recsys_lessons.models import DLAE
    >>> X = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 0], [0, 0, 1, 1]])
    >>> DLAE(dropout=0.25, regularization=1.0).fit(X).recommend([0], k=2)[0].tolist()
    [[2, 3]]
    """

    def _weights(self, precision: np.ndarray, penalty: np.ndarray) -> np.ndarray:
        weights = -precision * penalty
        weights[np.diag_indices_from(weights)] += 1.0
        return weights


class EDLAE(_DropoutLinearAutoencoder):
    """Emphasized denoising linear autoencoder, full rank (Steck 2020).

    Emphasizing the dropped-out entries (full emphasis) is the same as forbidding an item to
    predict itself: EASE's constraint ``diag(B) = 0`` with DLAE's penalty::

        minimise  |X - X B|_F^2 + |Lambda^(1/2) B|_F^2   subject to diag(B) = 0

        Lambda = dropout / (1 - dropout) * diagMat(diag(G)) + regularization * I

        P = (G + Lambda)^-1,   B[i, j] = -P[i, j] / P[j, j]  (i != j),   B[j, j] = 0

    ``dropout = 0`` is :class:`~recsys_lessons.models.EASE` with the same ``regularization``.
    Column ``j`` is the regression of item ``j`` on the other items with the penalty
    ``Lambda[i, i]`` on the weight of item ``i``.

    Parameters
    ----------
    dropout : float in [0, 1)
        Probability ``p`` of dropping each entry of the input.
    regularization : float >= 0
        The constant ridge penalty ``lambda``.

    Attributes
    ----------
    weights_ : ndarray of shape (n_items, n_items)
        ``B``, with a zero diagonal.

    References
    ----------
    H. Steck, "Autoencoders that don't overfit towards the Identity", NeurIPS 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from recsys_lessons.models import EDLAE
    >>> X = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 0], [0, 0, 1, 1]])
    >>> EDLAE(dropout=0.25, regularization=1.0).fit(X).recommend([0], k=2)[0].tolist()
    [[2, 3]]
    """

    def _weights(self, precision: np.ndarray, penalty: np.ndarray) -> np.ndarray:
        weights = -precision / np.diag(precision)
        np.fill_diagonal(weights, 0.0)
        return weights
