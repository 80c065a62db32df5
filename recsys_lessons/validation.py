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
| :func:`check_k` | a list length ``1 <= k <= n_items`` |
| :func:`check_index` | one 0-based user or item index |
| :func:`check_indices` | an array of 0-based indices |
| :func:`check_count` | how many results to return (``n``) |
| :func:`check_number` | a finite real number, optionally bounded |
| :func:`check_probability` | a number in ``[0, 1]`` (or ``(0, 1]`` with ``zero=False``) |
| :func:`check_ratio` | a share strictly between 0 and 1 (split ratios) |
| :func:`check_recommended` | a 2-D integer array of ranked item indices with ``>= k`` columns |
| :func:`check_is_fitted` | an estimator with its learned attributes |
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "check_count",
    "check_index",
    "check_indices",
    "check_is_fitted",
    "check_k",
    "check_non_negative_int",
    "check_number",
    "check_positive_int",
    "check_probability",
    "check_ratio",
    "check_recommended",
    "check_seed",
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
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
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
