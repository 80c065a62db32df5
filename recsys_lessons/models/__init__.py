"""Recommenders following the protocol of :mod:`recsys_lessons.models.base`, one file per family."""

from recsys_lessons.models.base import Recommender
from recsys_lessons.models.baselines import Popularity, Random

__all__ = ["Recommender", "Popularity", "Random"]
