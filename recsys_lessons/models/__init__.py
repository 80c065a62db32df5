"""Recommenders following the protocol of :mod:`recsys_lessons.models.base`, one file per family.

| family | classes | lesson |
| --- | --- | --- |
| baselines | :class:`Popularity`, :class:`Random` | 01 |
| content-based | :class:`ContentBased` (+ ``build_item_features``) | 02 |
| neighbourhood | :class:`ItemKNN`, :class:`UserKNN` (+ ``cooccurrence.bought_together``) | 03 |
| matrix factorization | :class:`FunkSVD`, :class:`ALS`, :class:`BPR`, :class:`EASE` | 04 |
| sequential (own protocol) | :class:`MarkovChain`, :class:`LastNItemKNN`, :class:`SessionKNN`, :class:`ShortLongBlend` | 07 |
"""

from recsys_lessons.models.base import Recommender
from recsys_lessons.models.baselines import Popularity, Random
from recsys_lessons.models.content_based import ContentBased, build_item_features
from recsys_lessons.models.ease import EASE
from recsys_lessons.models.funk_svd import FunkSVD
from recsys_lessons.models.implicit_models import ALS, BPR
from recsys_lessons.models.neighbors import ItemKNN, UserKNN
from recsys_lessons.sequences.models import LastNItemKNN, MarkovChain, SessionKNN, ShortLongBlend

__all__ = [
    "ALS",
    "BPR",
    "EASE",
    "ContentBased",
    "FunkSVD",
    "ItemKNN",
    "LastNItemKNN",
    "MarkovChain",
    "Popularity",
    "Random",
    "Recommender",
    "SessionKNN",
    "ShortLongBlend",
    "UserKNN",
    "build_item_features",
]
