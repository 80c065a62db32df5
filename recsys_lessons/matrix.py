"""From a tidy interactions frame to the sparse user x item matrix models consume.

Inside models, users and items are 0-based row and column indices; raw ids only appear at
the edges (loading and display). :class:`InteractionMatrix` keeps both worlds together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp


@dataclass(frozen=True)
class InteractionMatrix:
    """A CSR user x item matrix with the id <-> index maps that produced it.

    Attributes
    ----------
    X : scipy.sparse.csr_matrix
        Shape ``(n_users, n_items)``; ``X[u, i]`` is the rating (or 1.0 for implicit data).
    user_ids : pandas.Index
        ``user_ids[u]`` is the raw id of row ``u``.
    item_ids : pandas.Index
        ``item_ids[i]`` is the raw id of column ``i``.
    """

    X: sp.csr_matrix
    user_ids: pd.Index
    item_ids: pd.Index

    @property
    def shape(self) -> tuple[int, int]:
        return self.X.shape

    def user_index(self, ids) -> np.ndarray:
        """Row indices of raw user ids; ``ValueError`` naming any unknown id."""
        return _positions(self.user_ids, ids, "user")

    def item_index(self, ids) -> np.ndarray:
        """Column indices of raw item ids; ``ValueError`` naming any unknown id."""
        return _positions(self.item_ids, ids, "item")

    def like(self, interactions: pd.DataFrame, value: str | None = "rating") -> InteractionMatrix:
        """Build another matrix (e.g. the test split) on exactly these rows and columns.

        Interactions whose user or item is unknown here raise ``ValueError``: filter them
        first, since a model cannot score an item it has never seen a column for.
        """
        return interaction_matrix(interactions, self.user_ids, self.item_ids, value=value)


def interaction_matrix(
    interactions: pd.DataFrame,
    user_ids=None,
    item_ids=None,
    value: str | None = "rating",
) -> InteractionMatrix:
    """Build the CSR user x item matrix of an interactions frame, with its id maps.

    Parameters
    ----------
    interactions : pandas.DataFrame
        Needs ``user_id`` and ``item_id`` columns, plus the ``value`` column if one is named.
    user_ids, item_ids : array-like, optional
        The rows and columns to use, in order. Default: the sorted distinct ids of the frame.
        Pass the full dataset's ids to build train and test matrices of the same shape.
    value : str or None
        Column holding the cell values (default ``"rating"``). ``None`` gives implicit
        feedback: 1.0 for every observed pair.

    Returns
    -------
    InteractionMatrix
        When a (user, item) pair occurs several times, the last row wins for ratings and the
        cell stays 1.0 for implicit data.
    """
    for column in ("user_id", "item_id") + ((value,) if value else ()):
        if column not in interactions.columns:
            raise ValueError(
                f"interactions need a {column!r} column; found {list(interactions.columns)}."
            )
    if value and interactions[value].isna().any():
        raise ValueError(
            f"the {value!r} column has missing values; drop or fill them before building a matrix."
        )
    users = pd.Index(
        np.sort(interactions["user_id"].unique()) if user_ids is None else user_ids, name="user_id"
    )
    items = pd.Index(
        np.sort(interactions["item_id"].unique()) if item_ids is None else item_ids, name="item_id"
    )
    for index, kind in ((users, "user"), (items, "item")):
        if not index.is_unique:
            raise ValueError(f"the {kind} ids given contain duplicates; pass each id once.")
    deduplicated = interactions.drop_duplicates(["user_id", "item_id"], keep="last")
    rows = _positions(users, deduplicated["user_id"].to_numpy(), "user")
    cols = _positions(items, deduplicated["item_id"].to_numpy(), "item")
    data = (
        deduplicated[value].to_numpy(dtype=np.float32) if value else np.ones(len(rows), np.float32)
    )
    X = sp.csr_matrix((data, (rows, cols)), shape=(len(users), len(items)), dtype=np.float32)
    X.sort_indices()
    return InteractionMatrix(X=X, user_ids=users, item_ids=items)


def _positions(index: pd.Index, ids, kind: str) -> np.ndarray:
    positions = index.get_indexer(np.atleast_1d(np.asarray(ids)))
    if (positions < 0).any():
        unknown = np.atleast_1d(np.asarray(ids))[positions < 0][:5].tolist()
        raise ValueError(
            f"unknown {kind} id(s) {unknown}: they are not in this matrix. "
            f"Build the matrix on all ids (pass {kind}_ids=...) or filter them out first."
        )
    return positions
