"""Lesson 05: new items and new users.

| module | job |
| --- | --- |
| :mod:`~recsys_lessons.coldstart.new_items` | a title nobody has seen: attributes, attribute-to-factor map, predicted popularity, cold-item exposure |
| :mod:`~recsys_lessons.coldstart.new_users` | a user without history: segment popularity, onboarding questions |

A new user with a short history is scored without retraining by the model's own
``fold_in(history)`` (``ALS``, ``EASE``, ``ItemKNN`` in :mod:`recsys_lessons.models`).
"""

from recsys_lessons.coldstart.new_items import (
    AttributeMapping,
    PredictedPopularity,
    cold_item_exposure,
    item_attributes,
)
from recsys_lessons.coldstart.new_users import (
    QUESTION_STRATEGIES,
    SegmentPopularity,
    item_entropy,
    onboarding_answers,
    question_order,
    segment_labels,
)

__all__ = [
    "AttributeMapping",
    "PredictedPopularity",
    "QUESTION_STRATEGIES",
    "SegmentPopularity",
    "cold_item_exposure",
    "item_attributes",
    "item_entropy",
    "onboarding_answers",
    "question_order",
    "segment_labels",
]
