"""Put the scores of different models on one scale, per user, before blending them.

ALS scores are dot products near 0-1, EASE scores are regression weights, UserKNN scores are
sums of similarities in the tens: adding them raw lets the model with the largest numbers win.
Normalizing *per user* (row by row) keeps what every model says about one user's items
and drops what it says about the user's scale (a heavy user gets big kNN sums everywhere):

- ``"zscore"``: ``(s - mean_u) / std_u`` over the user's candidate items;
- ``"rank"``:  ``1 - (rank - 1) / (n_u - 1)``, best item 1, worst 0 (scale-free, drops gaps);
- ``"minmax"``: ``(s - min_u) / (max_u - min_u)``.

Items masked out (``-inf``, e.g. already seen) stay ``-inf`` and are ignored by the
statistics. Normalizing over all users at once (one mean and one standard deviation for the
whole matrix) is the classic mistake: it leaves every user's scale in the scores. Lesson 06
(``notebooks/06_hybrid_ranking.ipynb``) compares the choices.
"""

from __future__ import annotations

import numpy as np
import scipy.stats

METHODS = ("zscore", "rank", "minmax")


def normalize_scores(scores, method: str = "zscore") -> np.ndarray:
    """Normalize each row of a users x items score matrix; ``-inf`` cells stay ``-inf``.

    Parameters
    ----------
    scores : array-like of shape (n_users, n_items)
        Higher is better. ``-inf`` marks items to ignore (seen, not retrieved).
    method : {"zscore", "rank", "minmax"}
        See the module docstring. A row whose finite scores are all equal becomes 0
        (``"zscore"``, ``"minmax"``) or 0.5 (``"rank"``: every item ties for the middle).

    Returns
    -------
    ndarray of float64, same shape.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}.")
    scores = np.array(scores, dtype=np.float64, ndmin=2)
    if scores.ndim != 2:
        raise ValueError(f"scores must be a 2-D users x items array; got {scores.ndim} dimensions.")
    if np.isnan(scores).any() or np.isposinf(scores).any():
        raise ValueError("scores hold NaN or +inf; only -inf may mark items to ignore.")
    valid = np.isfinite(scores)
    count = valid.sum(axis=1, keepdims=True)
    safe_count = np.maximum(count, 1)
    filled = np.where(valid, scores, 0.0)
    if method == "zscore":
        mean = filled.sum(axis=1, keepdims=True) / safe_count
        spread = np.sqrt(
            (np.where(valid, scores - mean, 0.0) ** 2).sum(axis=1, keepdims=True) / safe_count
        )
        result = (filled - mean) / np.where(spread > 0, spread, np.inf)
    elif method == "minmax":
        low = np.where(valid, scores, np.inf).min(axis=1, keepdims=True)
        high = np.where(valid, scores, -np.inf).max(axis=1, keepdims=True)
        span = high - low
        result = (filled - low) / np.where(span > 0, span, np.inf)
    else:
        # Average ranks for ties; -inf cells rank lowest and are masked again below.
        ascending = scipy.stats.rankdata(np.where(valid, scores, -np.inf), axis=1)
        offset = scores.shape[1] - count  # masked cells occupy the lowest ranks
        result = (ascending - offset - 1) / np.where(count > 1, count - 1, np.inf)
    return np.where(valid, result, -np.inf)
