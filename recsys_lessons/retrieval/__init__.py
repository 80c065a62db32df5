"""Lesson 04: finding the best items among millions, exactly and approximately.

| module | job |
| --- | --- |
| :mod:`~recsys_lessons.retrieval.indexes` | exact and approximate (annoy) nearest-neighbour indexes and their recall |
"""

from recsys_lessons.retrieval.indexes import (
    METRICS,
    ApproximateIndex,
    ExactIndex,
    measure_recall,
    recall_speed_sweep,
    retrieval_recall,
)

__all__ = [
    "ApproximateIndex",
    "ExactIndex",
    "METRICS",
    "measure_recall",
    "recall_speed_sweep",
    "retrieval_recall",
]
