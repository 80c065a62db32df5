"""From a tidy interactions frame to the sparse user x item matrix models consume.

Inside models, users and items are 0-based row and column indices; raw ids only appear at
the edges (loading and display). :class:`InteractionMatrix` keeps both worlds together.

"Seen" has one definition everywhere in the course: a (user, item) pair is seen when the
matrix *stores* an entry for it, whatever the value, so an explicit rating of 0.0 is an
interaction. :class:`~recsys_lessons.models.baselines.Popularity` counts it and
``recommend(exclude_seen=True)`` removes it. An empty cell means "no interaction"; use
``X.eliminate_zeros()`` first if your zeros mean "not seen".
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
        Needs ``user_id`` and ``item_id`` columns (no missing ids; all integers or all
        strings, not a mix), plus the ``value`` column if one is named (numbers or booleans,
        no missing values).
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
        cell stays 1.0 for implicit data. Every row is stored, a rating of 0.0 included (see
        the module docstring: a stored entry is a seen item).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame(
    ...     {"user_id": ["ann", "ann", "bob"], "item_id": [10, 20, 20], "rating": [4.0, 5.0, 3.0]}
    ... )
    >>> matrix = interaction_matrix(frame)
    >>> matrix.X.toarray()
    array([[4., 5.],
           [0., 3.]], dtype=float32)
    >>> list(matrix.user_ids), list(matrix.item_ids)
    (['ann', 'bob'], [10, 20])
    >>> interaction_matrix(frame, value=None).X.toarray()  # implicit feedback
    array([[1., 1.],
           [0., 1.]], dtype=float32)
    """
    if not isinstance(interactions, pd.DataFrame):
        raise ValueError(
            f"interactions must be a pandas DataFrame with user_id and item_id columns; got a "
            f"{type(interactions).__name__}. Pass dataset.interactions, or build one with "
            "pandas.DataFrame({'user_id': ..., 'item_id': ..., 'rating': ...})."
        )
    for column in ("user_id", "item_id") + ((value,) if value else ()):
        if column not in interactions.columns:
            raise ValueError(
                f"interactions need a {column!r} column; found {list(interactions.columns)}."
            )
    for column in ("user_id", "item_id"):
        _check_ids(interactions[column], column)
    if value:
        _check_values(interactions[value], value)
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


def _check_ids(ids: pd.Series, column: str) -> None:
    """Ids must be present and of one kind, so they sort and match the same way everywhere."""
    missing = ids.isna()
    if missing.any():
        raise ValueError(
            f"the {column!r} column has {int(missing.sum())} missing id(s) (first at row "
            f"{ids.index[missing.to_numpy()][0]!r}); drop those rows first, e.g. "
            f"interactions.dropna(subset=[{column!r}])."
        )
    kind = pd.api.types.infer_dtype(ids, skipna=False)
    if kind not in ("integer", "string", "floating", "categorical", "empty"):
        examples = sorted({type(v).__name__ for v in ids.head(10_000)})
        raise ValueError(
            f"the {column!r} column mixes kinds of ids ({kind}: {examples}); the same user or "
            f"item would get two rows or columns. Make them one kind first, e.g. "
            f"interactions[{column!r}].astype(str)."
        )


def _check_values(values: pd.Series, column: str) -> None:
    """Cell values must be numbers (or booleans) without gaps; datetimes are refused."""
    if pd.api.types.is_datetime64_any_dtype(values) or pd.api.types.is_timedelta64_dtype(values):
        raise ValueError(
            f"the {column!r} column holds dates or durations ({values.dtype}), not cell values: "
            "they would be cast to huge integers. Use value='rating', value=None for 1.0 per "
            "interaction, or convert the column to numbers you mean first."
        )
    if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
        raise ValueError(
            f"the {column!r} column must hold numbers, not {values.dtype} (e.g. "
            f"{values.iloc[0]!r}); convert it with pandas.to_numeric, or pass value=None for "
            "1.0 per interaction."
        )
    if values.isna().any():
        raise ValueError(
            f"the {column!r} column has missing values; drop or fill them before building a matrix."
        )


def _positions(index: pd.Index, ids, kind: str) -> np.ndarray:
    # each distinct id is looked up once: a log repeats its ids, and looking up millions of
    # string ids one by one costs ten times more (6 s against 0.6 s for 8M rows, 250k ids)
    if not (isinstance(ids, (pd.Series, pd.Index, np.ndarray)) and np.ndim(ids) == 1):
        ids = np.atleast_1d(np.asarray(ids))
    codes, distinct = pd.factorize(ids, use_na_sentinel=False)
    positions = index.get_indexer(distinct)[codes]
    if (positions < 0).any():
        unknown = np.asarray(ids)[positions < 0][:5].tolist()
        raise ValueError(
            f"unknown {kind} id(s) {unknown}: they are not in this matrix. "
            f"Build the matrix on all ids (pass {kind}_ids=...) or filter them out first."
        )
    return positions
