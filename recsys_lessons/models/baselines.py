"""The two baselines every recommender must beat: the most-popular shelf and random picks.

Lesson 01 (``notebooks/01_baselines_and_evaluation.ipynb``) measures both.
"""

from __future__ import annotations

import numpy as np

from recsys_lessons.models.base import Recommender
from recsys_lessons.validation import check_seed

__all__ = ["Popularity", "Random"]


class Popularity(Recommender):
    """Recommend the items most users interacted with, the same list for everybody.

    ``score(u, i) = |{v : X stores an entry at (v, i)}|``, the number of users who
    interacted with item ``i`` in the training data (ratings are ignored: a watched 1-star
    film still counts, and so does a stored 0.0, which ``recommend`` also treats as seen).

    Examples
    --------
    >>> import numpy as np
    >>> from recsys_lessons.models import Popularity
    >>> X = np.array([[1, 1, 0, 0], [1, 0, 1, 0], [1, 0, 1, 0]])
    >>> model = Popularity().fit(X)
    >>> model.item_counts_.tolist()
    [3.0, 1.0, 2.0, 0.0]
    >>> model.recommend([0, 1], k=2)[0].tolist()  # seen items removed, ties to the lower id
    [[2, 3], [1, 3]]
    """

    def _fit(self, X) -> None:
        self.item_counts_ = np.bincount(X.indices, minlength=X.shape[1]).astype(np.float64)

    def _score(self, users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.item_counts_, (len(users), self.n_items_))


class Random(Recommender):
    """Recommend items uniformly at random: the floor any real model must clear.

    Parameters
    ----------
    seed : int
        Seeds the generator at ``fit``, so a fitted model's sequence of lists is reproducible.
    """

    def __init__(self, seed: int = 42):
        self.seed = seed

    def _fit(self, X) -> None:
        self.rng_ = np.random.default_rng(check_seed(self.seed))

    def _score(self, users: np.ndarray) -> np.ndarray:
        return self.rng_.random((len(users), self.n_items_))
