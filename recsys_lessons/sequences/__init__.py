"""Lesson 07: what to watch next, and watch time instead of clicks.

| module | job |
| --- | --- |
| :mod:`~recsys_lessons.sequences.next_item` | time-ordered sequences and sessions; the leave-last-out next-item protocol, its leakage and a global time cut; full and sampled metrics |
| :mod:`~recsys_lessons.sequences.models` | sequential recommenders (Markov chain, last-N item-kNN, session-kNN, short/long blend) |
| :mod:`~recsys_lessons.sequences.watch_time` | impression logs from the simulated world; click vs watch-time models |
"""

from recsys_lessons.sequences.models import (
    LastNItemKNN,
    MarkovChain,
    MatrixModel,
    SequentialRecommender,
    SessionKNN,
    ShortLongBlend,
    choose_blend_weight,
)
from recsys_lessons.sequences.next_item import (
    Sequences,
    build_sequences,
    evaluate_next_item,
    evaluate_sampled_next_item,
    global_time_split,
    next_item_split,
    share_of_history_after_target,
)
from recsys_lessons.sequences.watch_time import (
    FEATURE_NAMES,
    fit_click_model,
    fit_watch_time_model,
    impression_features,
    log_impressions,
    outcome_of_lists,
    predicted_watch_time,
    watch_time_weights,
)

__all__ = [
    "FEATURE_NAMES",
    "LastNItemKNN",
    "MarkovChain",
    "MatrixModel",
    "Sequences",
    "SequentialRecommender",
    "SessionKNN",
    "ShortLongBlend",
    "build_sequences",
    "choose_blend_weight",
    "evaluate_next_item",
    "evaluate_sampled_next_item",
    "fit_click_model",
    "fit_watch_time_model",
    "global_time_split",
    "impression_features",
    "log_impressions",
    "next_item_split",
    "outcome_of_lists",
    "predicted_watch_time",
    "share_of_history_after_target",
    "watch_time_weights",
]
