"""Every argument check of the course, in one place, so every module accepts and refuses alike.

Each check returns the value in its canonical type (``int``, ``float``, an array) or raises
``ValueError`` with one sentence that says what was expected, what arrived and what to do.
Booleans are never numbers here: ``k=True`` is refused, not read as ``k=1``; and a float
that happens to be whole (``k=2.0``) is refused where a count is expected, because it
usually means a computation went wrong upstream.

| check | accepts |
| --- | --- |
| :func:`check_positive_int` | 1, 2, ... (``numpy`` integers too) |
| :func:`check_non_negative_int` | 0, 1, 2, ... |
| :func:`check_seed` | a whole number >= 0, or ``None`` where fresh randomness is allowed |
| :func:`check_rng` | a seed (as :func:`check_seed`) or a ``numpy.random.Generator``, as a Generator |
| :func:`check_date` | a date (text, ``datetime``, ``pandas.Timestamp``) as a ``pandas.Timestamp`` |
| :func:`check_k` | a list length ``1 <= k <= n_items`` |
| :func:`check_index` | one 0-based user or item index |
| :func:`check_indices` | an array of 0-based indices |
| :func:`check_count` | how many results to return (``n``) |
| :func:`check_number` | a finite real number, optionally bounded |
| :func:`check_probability` | a number in ``[0, 1]`` (or ``(0, 1]`` with ``zero=False``) |
| :func:`check_ratio` | a share strictly between 0 and 1 (split ratios) |
| :func:`check_recommended` | a 2-D integer array of ranked item indices with ``>= k`` columns |
| :func:`check_ranked_lists` | the first ``k`` columns of such lists, distinct items, inside the catalogue (metrics) |
| :func:`check_item_popularity` | interaction counts per item (finite, >= 0) |
| :func:`check_interaction_pattern` | a sparse users x items matrix, returned as its binary pattern |
| :func:`check_interactions_frame` | an interactions frame with the needed columns (splits) |
| :func:`check_timestamps` | its ``timestamp`` column as comparable values (time-based splits) |
| :func:`check_is_fitted` | an estimator with its learned attributes |
| :func:`check_columns` | a DataFrame holding the named columns |
| :func:`check_finite_array` | an array of finite numbers, optionally bounded below |
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = [
    "check_columns",
    "check_count",
    "check_date",
    "check_finite_array",
    "check_index",
    "check_indices",
    "check_interaction_pattern",
    "check_interactions_frame",
    "check_is_fitted",
    "check_item_popularity",
    "check_k",
    "check_non_negative_int",
    "check_number",
    "check_positive_int",
    "check_probability",
    "check_ranked_lists",
    "check_ratio",
    "check_recommended",
    "check_rng",
    "check_seed",
    "check_timestamps",
    "is_integer",
    "is_number",
]


def is_integer(value) -> bool:
    """True for Python and numpy integers, False for booleans and floats (even ``2.0``)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def is_number(value) -> bool:
    """True for real numbers (integers included), False for booleans."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def check_positive_int(value, name: str, meaning: str | None = None) -> int:
    """``value`` as an ``int`` >= 1, or ``ValueError``.

    ``meaning`` is a few words on what the number counts, shown in the error
    (``"the length of each list"``).
    """
    if not is_integer(value) or value < 1:
        what = f" ({meaning})" if meaning else ""
        raise ValueError(f"{name} must be a positive integer{what}; got {value!r}.")
    return int(value)


def check_non_negative_int(value, name: str, meaning: str | None = None) -> int:
    """``value`` as an ``int`` >= 0, or ``ValueError``."""
    if not is_integer(value) or value < 0:
        what = f" ({meaning})" if meaning else ""
        raise ValueError(f"{name} must be a whole number >= 0{what}; got {value!r}.")
    return int(value)


def check_seed(seed, name: str = "seed", allow_none: bool = False) -> int | None:
    """A random seed: a whole number >= 0 (``None`` too when ``allow_none``)."""
    if seed is None and allow_none:
        return None
    if not is_integer(seed) or seed < 0:
        fresh = ", or None for fresh randomness" if allow_none else ""
        raise ValueError(f"{name} must be a whole number >= 0 such as 42{fresh}; got {seed!r}.")
    return int(seed)


def check_rng(seed, name: str = "seed") -> np.random.Generator:
    """A ``numpy.random.Generator`` from a seed (checked by :func:`check_seed`) or a Generator.

    A Generator is returned as it is, so a caller can continue drawing from it; anything
    else must be a valid seed (numpy's own ``SeedSequence`` error never reaches the learner).
    """
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(check_seed(seed, name))


def check_date(value, name: str) -> pd.Timestamp:
    """A date or time as a ``pandas.Timestamp``; unparseable text is refused, naming ``name``."""
    if value is None or is_number(value) or isinstance(value, (bool, np.bool_)):
        raise ValueError(
            f"{name} must be a date such as '2024-01-31' or a pandas.Timestamp; got {value!r}."
        )
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} could not be read as a date (got {value!r}); write it like '2024-01-31' "
            "or pass a pandas.Timestamp."
        ) from None
    if pd.isna(stamp):
        raise ValueError(f"{name} is missing (NaT); pass a date such as '2024-01-31'.")
    return stamp


def check_k(k, n_items: int | None = None) -> int:
    """A list length: a positive integer, and at most ``n_items`` when that is given."""
    k = check_positive_int(k, "k", "the length of each list")
    if n_items is not None and k > n_items:
        raise ValueError(
            f"k={k} is larger than the catalogue ({n_items} items); choose k <= {n_items}."
        )
    return k


def check_count(n, name: str = "n") -> int:
    """How many results to return: a positive integer."""
    return check_positive_int(n, name, "how many to return")


def check_index(index, size: int, kind: str) -> int:
    """One 0-based ``user`` or ``item`` index in ``0..size-1``."""
    if not is_integer(index):
        raise ValueError(
            f"{kind} must be one integer {kind} index (got {index!r}); map raw ids with "
            f"InteractionMatrix.{kind}_index first."
        )
    if not 0 <= index < size:
        raise ValueError(f"{kind} index {index} is out of range: it must lie in 0..{size - 1}.")
    return int(index)


def check_indices(indices, size: int, kind: str, allow_empty: bool = False) -> np.ndarray:
    """A 1-D ``int64`` array of 0-based ``kind`` indices in ``0..size-1``."""
    array = np.atleast_1d(np.asarray(indices))
    if array.size == 0:
        if allow_empty:
            return np.zeros(0, dtype=np.int64)
        raise ValueError(f"{kind}s is empty; pass at least one {kind} index.")
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(
            f"{kind}s must be integer {kind} indices (got dtype {array.dtype}); map raw ids "
            f"with InteractionMatrix.{kind}_index first."
        )
    if array.min() < 0 or array.max() >= size:
        raise ValueError(
            f"{kind} indices must lie in 0..{size - 1}; got values from {array.min()} to "
            f"{array.max()}. Map raw ids with InteractionMatrix.{kind}_index first."
        )
    return array.astype(np.int64, copy=False).ravel()


def check_number(value, name: str, low=None, high=None, *, low_open=False, high_open=False):
    """A finite real number as ``float``, inside the given bounds (closed unless ``*_open``)."""
    if not is_number(value) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number; got {value!r}.")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        left = "(" if low_open or low is None else "["
        right = ")" if high_open or high is None else "]"
        bounds = f"{left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"
        raise ValueError(f"{name} must lie in {bounds}; got {value!r}.")
    return float(value)


def check_probability(value, name: str, zero: bool = True, meaning: str | None = None) -> float:
    """A probability: a number in ``[0, 1]``, or ``(0, 1]`` when ``zero=False``."""
    if not is_number(value) or not (0 <= value <= 1) or (not zero and value == 0):
        bounds = "[0, 1]" if zero else "(0, 1]"
        what = f" ({meaning})" if meaning else ""
        raise ValueError(f"{name} must lie in {bounds}{what}; got {value!r}.")
    return float(value)


def check_ratio(value, name: str) -> float:
    """A share strictly between 0 and 1, such as a test ratio."""
    if not is_number(value) or not 0 < value < 1:
        raise ValueError(f"{name} must be a number strictly between 0 and 1, not {value!r}.")
    return float(value)


def check_recommended(recommended, k: int | None = None, name: str = "recommended") -> np.ndarray:
    """Ranked lists as a 2-D ``int64`` array (users x list length), at least ``k`` columns.

    A list of equal-length lists is accepted too. Negative indices are refused: they would
    silently count from the end of the catalogue.
    """
    array = np.asarray(recommended)
    if array.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (one ranked list of item indices per user); got shape "
            f"{array.shape}. For one user pass [items]."
        )
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} must hold integer item indices; got dtype {array.dtype}.")
    if array.size and array.min() < 0:
        raise ValueError(f"{name} holds negative item indices; item indices start at 0.")
    if k is not None and array.shape[1] < k:
        raise ValueError(
            f"{name} has lists of {array.shape[1]} items, fewer than k={k}; recommend at least "
            f"k items per user or lower k."
        )
    return array.astype(np.int64, copy=False)


def check_is_fitted(estimator, attribute: str = "X_", call: str = "fit(X)") -> None:
    """Refuse to use ``estimator`` before ``fit`` has set ``attribute``.

    ``call`` is how the learner fits it, shown in the error (``"fit(sequences)"``).
    """
    if not hasattr(estimator, attribute):
        raise ValueError(f"{type(estimator).__name__} is not fitted yet; call .{call} first.")


def check_ranked_lists(recommended, k, n_items: int | None = None) -> np.ndarray:
    """The first ``k`` columns of ``recommended`` as an ``int64`` array of distinct items per row.

    Stricter than :func:`check_recommended`, as every metric needs: at least one user, no
    NaN, no index beyond the catalogue (when ``n_items`` is given), no item twice in a
    user's top-``k``.
    """
    try:
        array = np.asarray(recommended)
    except ValueError:
        raise ValueError(
            "recommended is ragged (lists of different lengths); truncate every list to the same "
            "length, at least k, before evaluating."
        ) from None
    if array.dtype == object or array.ndim != 2:
        raise ValueError(
            "recommended must be a 2-D users x ranks array of item indices (or a list of "
            f"equal-length lists); got an array with shape {array.shape}. For a single user, "
            "wrap the list: [items]."
        )
    n_users, width = array.shape
    if n_users == 0:
        raise ValueError("recommended holds no users; pass at least one list.")
    k = check_positive_int(k, "k", "the number of items evaluated per list")
    if k > width:
        raise ValueError(
            f"k={k} but the recommendation lists hold only {width} items; recommend at least k "
            "items per user or lower k."
        )
    if not np.issubdtype(array.dtype, np.integer):
        if np.issubdtype(array.dtype, np.floating) and np.isnan(array).any():
            raise ValueError("recommended holds NaN; every rank needs a real item index.")
        raise ValueError(
            f"recommended must hold integer item indices (got dtype {array.dtype}); convert with "
            ".astype(int) if the values are whole numbers."
        )
    top = array[:, :k].astype(np.int64, copy=False)
    if top.min() < 0:
        raise ValueError(
            f"recommended holds the negative item index {top.min()}; indices start at 0."
        )
    if n_items is not None and top.max() >= n_items:
        raise ValueError(
            f"recommended holds item index {top.max()}, but the catalogue has only {n_items} items "
            f"(indices 0..{n_items - 1})."
        )
    ordered = np.sort(top, axis=1)
    repeated = (ordered[:, 1:] == ordered[:, :-1]).any(axis=1)
    if repeated.any():
        user = int(np.flatnonzero(repeated)[0])
        raise ValueError(
            f"the top-{k} list of user row {user} recommends the same item twice; a list must hold "
            "distinct items."
        )
    return top


def check_item_popularity(item_popularity) -> np.ndarray:
    """Interaction counts per item: a non-empty 1-D ``float64`` array of finite values >= 0."""
    try:
        popularity = np.asarray(item_popularity, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            "item_popularity must be a 1-D array of interaction counts, one per item."
        ) from None
    if popularity.ndim != 1 or popularity.size == 0:
        raise ValueError(
            "item_popularity must be a non-empty 1-D array with one count per item; got shape "
            f"{popularity.shape}."
        )
    if not np.isfinite(popularity).all():
        raise ValueError("item_popularity holds NaN or infinite values; use interaction counts.")
    if (popularity < 0).any():
        raise ValueError("item_popularity holds negative counts; use interaction counts (>= 0).")
    return popularity


def check_interaction_pattern(matrix, name: str, n_items: int | None = None) -> sp.csr_matrix:
    """A users x items matrix as a binary CSR copy (every stored entry becomes 1).

    An :class:`~recsys_lessons.data.matrix.InteractionMatrix` is read through its ``X``.
    With ``n_items`` the matrix must have that many item columns.
    """
    if hasattr(matrix, "X") and sp.issparse(matrix.X):
        matrix = matrix.X
    if not sp.issparse(matrix):
        raise ValueError(
            f"{name} must be a sparse users x items matrix (e.g. InteractionMatrix.X); got "
            f"{type(matrix).__name__}."
        )
    pattern = sp.csr_matrix(matrix, dtype=np.float64, copy=True)
    pattern.sum_duplicates()
    pattern.data[:] = 1.0
    if n_items is not None and pattern.shape[1] != n_items:
        raise ValueError(
            f"{name} has {pattern.shape[1]} item columns but the catalogue has {n_items} items; "
            "build every matrix with the same item index."
        )
    return pattern


def check_interactions_frame(
    interactions, columns: tuple[str, ...], unique_pairs: bool = False
) -> None:
    """Refuse anything but a non-empty interactions frame with ``columns`` and no missing ids.

    With ``unique_pairs`` a repeated (user, item) pair is refused too: its copies could land
    on both sides of a split.
    """
    if not isinstance(interactions, pd.DataFrame):
        raise ValueError(
            f"expected a pandas DataFrame of interactions, got {type(interactions).__name__}; "
            "pass dataset.interactions."
        )
    missing = [c for c in columns if c not in interactions.columns]
    if missing:
        raise ValueError(
            f"interactions need the columns {list(columns)}; {missing} missing "
            f"(found {list(interactions.columns)})."
        )
    if len(interactions) == 0:
        raise ValueError("interactions are empty: there is nothing to split.")
    ids = [c for c in ("user_id", "item_id") if c in columns]
    if interactions[ids].isna().any().any():
        raise ValueError("some user or item ids are missing; drop those rows before splitting.")
    if not unique_pairs:
        return
    repeated = interactions.duplicated(["user_id", "item_id"], keep=False)
    if repeated.any():
        first = interactions.loc[repeated, ["user_id", "item_id"]].iloc[0]
        raise ValueError(
            f"{int(repeated.sum())} rows repeat a (user, item) pair (e.g. user "
            f"{first['user_id']!r}, item {first['item_id']!r}); their copies could land in both "
            "train and test, and the model would be tested on what it trained on. Keep one row "
            "per pair first, e.g. interactions.drop_duplicates(['user_id', 'item_id'], "
            "keep='last'), or aggregate the repeats."
        )


def check_timestamps(interactions) -> np.ndarray:
    """The ``timestamp`` column as comparable numpy values (time zones converted to UTC).

    Refuses missing timestamps and columns that are neither datetime64 nor numeric.
    """
    timestamps = interactions["timestamp"]
    if timestamps.isna().any():
        raise ValueError("some timestamps are missing; drop those rows before a time-based split.")
    if not (
        pd.api.types.is_datetime64_any_dtype(timestamps)
        or pd.api.types.is_numeric_dtype(timestamps)
    ):
        raise ValueError(
            f"timestamp must be datetime64 or numeric, not {timestamps.dtype}; "
            "convert it with pandas.to_datetime first."
        )
    if isinstance(timestamps.dtype, pd.DatetimeTZDtype):
        timestamps = timestamps.dt.tz_convert("UTC").dt.tz_localize(None)
    return timestamps.to_numpy()


def check_columns(frame, columns, name: str, hint: str) -> None:
    """Refuse anything but a DataFrame holding ``columns``.

    ``hint`` says where such a frame comes from (``"pass the output of generate_candidates"``)
    and is shown in the error.
    """
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame; got {type(frame).__name__}. {hint}.")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{name} lacks the column(s) {missing} (found {list(frame.columns)}); {hint}."
        )


def check_finite_array(values, name: str, low=None, meaning: str | None = None) -> np.ndarray:
    """``values`` as a ``float64`` array of finite numbers, all ``>= low`` when ``low`` is given.

    ``meaning`` is a few words on what the numbers are, shown in the error.
    """
    what = f" ({meaning})" if meaning else ""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must hold numbers{what}; got {values!r:.80}.") from None
    if not np.isfinite(array).all():
        raise ValueError(f"{name} holds NaN or infinite values{what}; drop or fill them first.")
    if low is not None and array.size and array.min() < low:
        raise ValueError(
            f"{name} must be >= {low}{what}; it holds {float(array.min())!r}. Fix those values first."
        )
    return array
