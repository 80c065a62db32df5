"""The two baselines every recommender must beat: the most-popular shelf and random picks.

Lesson 01 (``notebooks/01_baselines_and_evaluation.ipynb``) measures both.
"""

from __future__ import annotations

import numpy as np

from recsys_lessons.models.base import RECOMMEND_BATCH, Recommender
from recsys_lessons.top_k import top_k_indices
from recsys_lessons.validation import check_k, check_seed

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

    def recommend(self, users=None, k: int = 10, exclude_seen: bool = True):
        """Top-``k`` items per user, best first: the lists of :meth:`Recommender.recommend`.

        Everyone shares one order (count descending, ties to the lower item index), and a
        user who has seen ``h`` items finds their ``k`` best unseen among its first ``k + h``
        items. So users are ranked in batches of similar history length, each batch over the
        first ``k + max h`` items of the order only: a few hundred columns for most users of
        a long-tailed log instead of the whole catalogue. A batch whose ``k + max h`` reaches
        the catalogue takes the general path (which pads a list short of unseen items with
        seen ones at ``-inf``).
        """
        users = self._check_users(users)
        k = check_k(k, self.n_items_)
        if not exclude_seen:
            return super().recommend(users, k, exclude_seen)
        order = np.lexsort((np.arange(self.n_items_), -self.item_counts_))
        place = np.empty(self.n_items_, dtype=np.int64)
        place[order] = np.arange(self.n_items_)
        history = np.diff(self.X_.indptr)[users]
        by_history = np.argsort(history, kind="stable")
        items = np.empty((len(users), k), dtype=np.int64)
        scores = np.empty((len(users), k), dtype=np.float64)
        for start in range(0, len(users), RECOMMEND_BATCH):
            chosen = by_history[start : start + RECOMMEND_BATCH]
            batch = users[chosen]
            width = k + int(history[chosen[-1]])  # the batch's longest history
            if width >= self.n_items_:
                items[chosen], scores[chosen] = super().recommend(batch, k, exclude_seen)
                continue
            values = np.tile(self.item_counts_[order[:width]], (len(batch), 1))
            seen = self.X_[batch]
            rows = np.repeat(np.arange(len(batch)), np.diff(seen.indptr))
            columns = place[seen.indices]
            near = columns < width
            values[rows[near], columns[near]] = -np.inf
            top = top_k_indices(values, k)  # ties to the lower place: the lower item index
            items[chosen] = order[top]
            scores[chosen] = np.take_along_axis(values, top, axis=1)
        return items, scores


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
