"""Recommenders following the protocol of :mod:`recsys_lessons.models.base`, one file per family.

| family | classes | lesson |
| --- | --- | --- |
| baselines | :class:`Popularity`, :class:`Random` | 01 |
| content-based | :class:`ContentBased` (+ ``build_item_features``) | 02 |
| neighbourhood | :class:`ItemKNN`, :class:`UserKNN` (+ ``cooccurrence.bought_together``) | 03 |
| matrix factorization | :class:`FunkSVD`, :class:`ALS`, :class:`BPR`, :class:`EASE` | 04 |
| stronger baselines (issue 26) | :class:`UniformBPR` (lesson 04), :class:`IALS`, :class:`DLAE`, :class:`EDLAE`, :class:`RP3beta` | 04, `benchmarks/movielens_100k.py` |
| fold-in of new users | ``ALS.fold_in``, ``EASE.fold_in``, ``ItemKNN.fold_in`` (+ :func:`als_fold_in`) | 05 |

The sequential recommenders of lesson 07 (their own protocol) live in
:mod:`recsys_lessons.sequences`.
"""

from recsys_lessons.models.base import Estimator, Recommender
from recsys_lessons.models.baselines import Popularity, Random
from recsys_lessons.models.bpr_uniform import UniformBPR
from recsys_lessons.models.content_based import ContentBased, build_item_features
from recsys_lessons.models.dlae import DLAE, EDLAE
from recsys_lessons.models.ease import EASE
from recsys_lessons.models.funk_svd import FunkSVD
from recsys_lessons.models.ials import IALS
from recsys_lessons.models.implicit_models import ALS, BPR, als_fold_in
from recsys_lessons.models.neighbors import ItemKNN, UserKNN
from recsys_lessons.models.rp3beta import RP3beta

__all__ = [
    "ALS",
    "BPR",
    "DLAE",
    "EASE",
    "EDLAE",
    "IALS",
    "ContentBased",
    "Estimator",
    "FunkSVD",
    "ItemKNN",
    "Popularity",
    "RP3beta",
    "Random",
    "Recommender",
    "UniformBPR",
    "UserKNN",
    "als_fold_in",
    "build_item_features",
]
