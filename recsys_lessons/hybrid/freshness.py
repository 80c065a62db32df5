"""Freshness: boost new releases and what is trending, with a half-life tuned on validation.

Both signals are an exponential time decay with half-life ``h`` days,
``decay(age) = 0.5 ** (age / h)`` (1 at age 0, 1/2 after ``h`` days):

- new releases: ``decay(now - release_date)`` of the item itself;
- trending: ``sum over the item's recent events e of decay(now - t_e)``, a popularity
  count in which last week's views weigh more than last year's.

The boosted score is ``z_u(base) + weight * z(signal)`` (per-user z-score of the base model
plus the z-scored signal). The boost helps when users really do watch what is new
(the simulated catalogue, whose new releases draw their first sessions soon after
release); on data without that pattern it only adds popularity bias. Lesson 06
(``notebooks/06_hybrid_ranking.ipynb``) measures both on a temporal split.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recsys_lessons.hybrid.normalize import normalize_scores

SECONDS_PER_DAY = 86_400.0


def decay(age_days, half_life: float) -> np.ndarray:
    """``0.5 ** (max(age, 0) / half_life)``; items released after ``now`` count as brand new."""
    if not np.isscalar(half_life) or not half_life > 0:
        raise ValueError(f"half_life must be a positive number of days; got {half_life!r}.")
    age = np.asarray(age_days, dtype=np.float64)
    return 0.5 ** (np.maximum(age, 0.0) / half_life)


def days_before(times, now) -> np.ndarray:
    """Days from each timestamp in ``times`` to ``now`` (positive = in the past)."""
    times = pd.to_datetime(pd.Series(np.asarray(times)))
    return ((pd.Timestamp(now) - times).dt.total_seconds() / SECONDS_PER_DAY).to_numpy()


def trending_scores(events: pd.DataFrame, item_ids, now, half_life: float) -> np.ndarray:
    """Time-decayed interaction counts per item: ``sum over events of decay(now - t)``.

    Events at or after ``now`` are ignored (the future is not known at serving time).
    """
    events = events[events["timestamp"] < pd.Timestamp(now)]
    columns = pd.Index(item_ids).get_indexer(events["item_id"])
    if (columns < 0).any():
        raise ValueError("events hold items missing from item_ids; pass the matrix's item_ids.")
    weights = decay(days_before(events["timestamp"], now), half_life)
    return np.bincount(columns, weights=weights, minlength=len(item_ids))


def freshness_boost(base_scores, signal, weight: float) -> np.ndarray:
    """``z_u(base) + weight * z(signal)``; ``-inf`` (seen) cells stay ``-inf``.

    Parameters
    ----------
    base_scores : ndarray (n_users, n_items)
        The model's scores, seen items ``-inf``.
    signal : ndarray (n_items,)
        Freshness of each item (``decay`` of its age, or ``trending_scores``).
    weight : float
        How much the signal counts, in standard deviations of the user's base scores.
    """
    signal = np.asarray(signal, dtype=np.float64)
    base = normalize_scores(base_scores, "zscore")
    if signal.shape != (base.shape[1],):
        raise ValueError(
            f"signal needs one value per item ({base.shape[1]}); got shape {signal.shape}."
        )
    spread = signal.std()
    z_signal = (signal - signal.mean()) / (spread if spread > 0 else 1.0)
    return base + weight * z_signal[None, :]


__all__ = ["days_before", "decay", "freshness_boost", "trending_scores"]
