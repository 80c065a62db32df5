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
from recsys_lessons.validation import check_columns, check_finite_array, check_number

SECONDS_PER_DAY = 86_400.0


def decay(age_days, half_life: float) -> np.ndarray:
    """``0.5 ** (max(age, 0) / half_life)``; items released after ``now`` count as brand new.

    Raises
    ------
    ValueError
        If ``half_life`` is not a positive finite number of days, or an age is NaN/infinite.
    """
    check_number(half_life, "half_life (in days)", low=0, low_open=True)
    age = check_finite_array(age_days, "age_days", meaning="days since release")
    return 0.5 ** (np.maximum(age, 0.0) / half_life)


def days_before(times, now) -> np.ndarray:
    """Days from each timestamp in ``times`` to ``now`` (positive = in the past).

    A missing time (``NaT``, e.g. an unknown release date) gives ``NaN`` days: replace those
    before :func:`decay`, which refuses them.

    Raises
    ------
    ValueError
        If ``times`` or ``now`` cannot be read as dates.
    """
    try:
        times = pd.to_datetime(pd.Series(np.asarray(times)))
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"times must be dates (datetime64 or strings such as '1998-04-01'); {error}"
        ) from None
    return ((_timestamp(now) - times).dt.total_seconds() / SECONDS_PER_DAY).to_numpy()


def trending_scores(events: pd.DataFrame, item_ids, now, half_life: float) -> np.ndarray:
    """Time-decayed interaction counts per item: ``sum over events of decay(now - t)``.

    Events at or after ``now`` are ignored (the future is not known at serving time).

    Raises
    ------
    ValueError
        If ``events`` lacks ``item_id`` or ``timestamp``, ``now`` is not a date, or an event's
        item is missing from ``item_ids``.
    """
    check_columns(events, ("item_id", "timestamp"), "events", "pass the interactions frame")
    events = events[events["timestamp"] < _timestamp(now)]
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

    Raises
    ------
    ValueError
        If ``weight`` is not a finite number or ``signal`` holds NaN or infinite values.
    """
    weight = check_number(weight, "weight")
    signal = check_finite_array(signal, "signal", meaning="freshness of each item")
    base = normalize_scores(base_scores, "zscore")
    if signal.shape != (base.shape[1],):
        raise ValueError(
            f"signal needs one value per item ({base.shape[1]}); got shape {signal.shape}."
        )
    spread = signal.std()
    z_signal = (signal - signal.mean()) / (spread if spread > 0 else 1.0)
    return base + weight * z_signal[None, :]


def _timestamp(now) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(now)
    except (TypeError, ValueError):
        stamp = pd.NaT
    if stamp is pd.NaT:
        raise ValueError(f"now must be a date such as '1998-04-01'; got {now!r}.")
    return stamp


__all__ = ["days_before", "decay", "freshness_boost", "trending_scores"]
