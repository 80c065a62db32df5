"""Clicks or watch time? Two logistic regressions trained on a simulated impression log.

Ranking by click probability rewards clickbait: titles with a catchy thumbnail that people
click and abandon. YouTube ranks by expected watch time instead, with a *weighted* logistic
regression (Covington, Adams & Sargin, "Deep Neural Networks for YouTube Recommendations",
RecSys 2016): every clicked impression is weighted by its watch time ``T``, every
impression without a click by 1. The fitted odds then estimate the expected watch time::

    odds(x) = exp(w . x + b) ~ sum of T over clicked impressions like x
                               / number of unclicked impressions like x
             = E[T | x] / (1 - P(click | x))  ~  E[T | x]   when clicks are rare.

Lesson 07 (``notebooks/07_sequences_and_sessions.ipynb``) logs impressions from the
simulated world (:func:`log_impressions`), fits both models with scikit-learn and serves
each ranking back to the world (:func:`outcome_of_lists`) to read CTR, watch time and the
share of clickbait against the truth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from recsys_lessons.validation import check_finite_array

__all__ = [
    "FEATURE_NAMES",
    "fit_click_model",
    "fit_watch_time_model",
    "impression_features",
    "log_impressions",
    "outcome_of_lists",
    "predicted_watch_time",
    "watch_time_weights",
]


def log_impressions(world, users, slates, seed: int = 0) -> pd.DataFrame:
    """Show each user a slate and record what the world's users did.

    Parameters
    ----------
    world : SimulatedWorld
        With or without clickbait (``generate_catalogue(clickbait_share=...)``).
    users : array-like of int, shape ``(n,)``
        0-based user indices (repeat a user to show them several slates).
    slates : array-like of int, shape ``(n, k)``
        Item indices shown, top slot first.
    seed : int
        Seeds the world's clicks and watch times.

    Returns
    -------
    pandas.DataFrame
        One row per impression: ``user``, ``item``, ``position`` (1 = top), ``clicked``
        (bool) and ``minutes`` watched (0 without a click).
    """
    users = np.asarray(users)
    slates = np.asarray(slates)
    minutes = world.simulate_watch_time(users, slates, seed=seed)
    n, k = slates.shape
    return pd.DataFrame(
        {
            "user": np.repeat(users, k),
            "item": slates.ravel(),
            "position": np.tile(np.arange(1, k + 1), n),
            "clicked": minutes.ravel() > 0,
            "minutes": minutes.ravel(),
        }
    )


#: Columns of :func:`impression_features`, after which come the position indicators.
FEATURE_NAMES = ("relevance", "clickbait", "log_runtime")


def impression_features(relevance, items, positions, items_frame, n_positions: int = 10):
    """Feature matrix of impressions: what the models may know about a (user, item, slot).

    Columns: ``relevance`` (a long-term model's score of the pair), ``clickbait`` (the item's
    catchy-thumbnail flag, 0/1), ``log_runtime`` (log of minutes), then one indicator per
    slot 2..``n_positions`` (slot 1 is the baseline), so the models learn position bias
    apart from the item. To rank candidates, pass ``positions=1`` for all: the score of
    the item as if shown on top.

    Parameters
    ----------
    relevance : array-like of float, shape ``(n,)``
    items : array-like of int, shape ``(n,)``
        0-based item indices (row ``i`` of ``items_frame``).
    positions : int or array-like of int, shape ``(n,)``
    items_frame : pandas.DataFrame
        The dataset's items, in item-index order, with ``runtime`` and ``clickbait``.
    n_positions : int
    """
    for column in ("runtime", "clickbait"):
        if column not in items_frame.columns:
            raise ValueError(
                f"items_frame needs a {column!r} column; generate the catalogue with "
                "clickbait_share > 0 (generate_catalogue(clickbait_share=0.1))."
            )
    items = np.asarray(items)
    relevance = np.asarray(relevance, dtype=np.float64)
    positions = np.broadcast_to(np.asarray(positions), items.shape)
    if relevance.shape != items.shape:
        raise ValueError(
            f"relevance and items must have the same length; got {relevance.shape} and "
            f"{items.shape}."
        )
    if positions.min() < 1 or positions.max() > n_positions:
        raise ValueError(f"positions must lie in 1..{n_positions} (1 = top slot).")
    clickbait = items_frame["clickbait"].to_numpy(dtype=np.float64)[items]
    log_runtime = np.log(items_frame["runtime"].to_numpy(dtype=np.float64)[items])
    slot = (positions[:, None] == np.arange(2, n_positions + 1)[None, :]).astype(np.float64)
    return np.column_stack([relevance, clickbait, log_runtime, slot])


def fit_click_model(features, clicked, C: float = 1.0) -> LogisticRegression:
    """Logistic regression of ``P(click | x)``: every impression weighs the same."""
    clicked = _check_labels(features, clicked)
    return LogisticRegression(C=C, max_iter=1000).fit(features, clicked)


def watch_time_weights(clicked, minutes) -> np.ndarray:
    """Covington et al.'s sample weights: watch time for a clicked impression, 1 for the others.

    Raises
    ------
    ValueError
        If ``minutes`` are not finite numbers >= 0 (a NaN would become a NaN weight), are
        non-zero without a click, or the two arrays differ in length.
    """
    clicked = np.asarray(clicked, dtype=bool)
    minutes = check_finite_array(minutes, "minutes", low=0, meaning="minutes watched")
    if clicked.shape != minutes.shape:
        raise ValueError("clicked and minutes must have one entry per impression each.")
    if (minutes < 0).any() or (minutes[~clicked] != 0).any():
        raise ValueError(
            "minutes must be >= 0 and 0 wherever there was no click; pass the log's "
            "'clicked' and 'minutes' columns."
        )
    return np.where(clicked, minutes, 1.0)


def fit_watch_time_model(features, clicked, minutes, C: float = 1.0) -> LogisticRegression:
    """Weighted logistic regression whose odds estimate expected watch time (module docstring).

    Same labels as the click model; positives weighted by minutes watched, negatives by 1.
    """
    clicked = _check_labels(features, clicked)
    weights = watch_time_weights(clicked, minutes)
    return LogisticRegression(C=C, max_iter=1000).fit(features, clicked, sample_weight=weights)


def predicted_watch_time(model: LogisticRegression, features) -> np.ndarray:
    """The odds ``exp(w . x + b)`` of a watch-time model: expected minutes per impression."""
    return np.exp(model.decision_function(features))


def outcome_of_lists(world, users, lists, clickbait=None) -> dict:
    """What the world's users would do with these lists, in expectation (no sampling noise).

    Returns
    -------
    dict
        ``ctr`` (expected clicks per impression, position bias included),
        ``watch_minutes`` (expected minutes per user, summed over the list) and
        ``clickbait_share`` (share of shown items that are clickbait; needs
        ``world.clickbait`` or ``clickbait``).
    """
    users, lists = np.asarray(users), np.asarray(lists)
    flags = world.clickbait if clickbait is None else np.asarray(clickbait)
    return {
        "ctr": float(world.click_probability(users, lists).mean()),
        "watch_minutes": float(world.expected_watch_time(users, lists).sum(axis=1).mean()),
        "clickbait_share": float(flags[lists].mean()) if flags is not None else float("nan"),
    }


def _check_labels(features, clicked) -> np.ndarray:
    clicked = np.asarray(clicked, dtype=bool)
    if len(features) != len(clicked):
        raise ValueError(
            f"features ({len(features)} rows) and clicked ({len(clicked)}) must describe the "
            "same impressions."
        )
    if clicked.all() or not clicked.any():
        raise ValueError("the log needs both clicked and unclicked impressions to fit a model.")
    return clicked
