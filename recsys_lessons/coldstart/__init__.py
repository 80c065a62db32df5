"""Lesson 05: new items and new users.

| module | job |
| --- | --- |
| :mod:`~recsys_lessons.coldstart.attributes` | new items (attribute-to-factor map, predicted popularity) and new users (segments, onboarding questions, fold-in) |
"""

from recsys_lessons.coldstart.attributes import (
    QUESTION_STRATEGIES,
    AttributeMapping,
    PredictedPopularity,
    SegmentPopularity,
    als_fold_in,
    cold_item_exposure,
    item_attributes,
    item_entropy,
    onboarding_answers,
    question_order,
    score_new_users,
    segment_labels,
)

__all__ = [
    "AttributeMapping",
    "PredictedPopularity",
    "QUESTION_STRATEGIES",
    "SegmentPopularity",
    "als_fold_in",
    "cold_item_exposure",
    "item_attributes",
    "item_entropy",
    "onboarding_answers",
    "question_order",
    "score_new_users",
    "segment_labels",
]
