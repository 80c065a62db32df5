"""Lesson 04: finding the best items among millions, exactly and approximately.

| module | job |
| --- | --- |
| :mod:`~recsys_lessons.retrieval.indexes` | exact (numpy) and approximate (annoy) nearest-neighbour indexes, saved and loaded safely |
| :mod:`~recsys_lessons.retrieval.recall` | recall@k of the approximate search against the exact one, and the speed of both |
"""

from recsys_lessons.retrieval.indexes import METRICS, ApproximateIndex, ExactIndex
from recsys_lessons.retrieval.recall import measure_recall, recall_speed_sweep, retrieval_recall

__all__ = [
    "ApproximateIndex",
    "ExactIndex",
    "METRICS",
    "measure_recall",
    "recall_speed_sweep",
    "retrieval_recall",
]
