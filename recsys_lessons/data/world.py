"""The ground truth of the simulated streaming service: what each user would like and do.

Real logs only show what users did. A simulation also knows what they *would* like, so the
course can measure things real data cannot: how far a model is from the ideal list, what a
user shown a new ranking would click (A/B tests, shadow mode, exploration), and whom a
recommender underserves (bias audits). :func:`recsys_lessons.data.catalogue.generate_catalogue`
draws a :class:`SimulatedWorld` and the history its users leave; the world is the dataset's
``world`` attribute.

The world's models
------------------
``u`` is a user, ``i`` an item, ``r`` a 1-based position in a shown list.

1. True affinity, on the rating scale::

       affinity(u, i) = mu + b_u + b_i + p_u . q_i

2. Ratings: ``R = clip(round(affinity(u, i) + e), 1, 5)``, ``e ~ N(0, sigma^2)``.
3. Clicks, the position-based model (Richardson et al. 2007; Joachims et al. 2017): a
   user looks at slot ``r`` with the examination probability, and clicks what they look
   at with the attraction probability::

       P(click) = P(examine r) * P(attracted | u, i)
       P(examine r) = 1 / r ** eta
       P(attracted | u, i) = sigmoid((affinity(u, i) + PULL * [clickbait_i] - THRESHOLD)
                                     / TEMPERATURE)

   with ``THRESHOLD = CLICK_THRESHOLD`` (4.5: an item the user would rate 4.5 is clicked
   half of the times it is looked at), ``TEMPERATURE = CLICK_TEMPERATURE`` (0.5) and
   ``PULL = CLICKBAIT_PULL`` (1.0; only when the catalogue has clickbait, lesson 07).
4. Watch time of a clicked title: ``runtime_i * f`` minutes with completion
   ``f ~ Beta(4 m, 4 (1 - m))``, mean ``m = clip(sigmoid((affinity(u, i) - 3) / 0.7)
   * (CLICKBAIT_COMPLETION if clickbait_i else 1), 0.01, 0.99)``: liked titles are mostly
   watched to the end, disappointing ones and clickbait abandoned early.

Each model has its truth (:meth:`SimulatedWorld.true_affinity`,
:meth:`~SimulatedWorld.expected_rating`, :meth:`~SimulatedWorld.click_probability`,
:meth:`~SimulatedWorld.expected_watch_time`) and its simulation
(:meth:`~SimulatedWorld.simulate_ratings`, :meth:`~SimulatedWorld.simulate_clicks`,
:meth:`~SimulatedWorld.simulate_watch_time`), and each simulation draws from its truth.

Ids and indices
---------------
Frames use MovieLens-style ids starting at 1. :class:`SimulatedWorld` methods take **0-based
indices**: user index ``u`` is ``world.user_ids[u]`` (= ``u + 1``) and item index ``i`` is
``world.item_ids[i]``, the order of ``sorted(users.index)`` / ``sorted(items.index)``. Build
matrices that line up with the world with
``interaction_matrix(ds.interactions, user_ids=world.user_ids, item_ids=world.item_ids)``
(the default would drop never-watched items and shift the columns).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit, ndtr

from recsys_lessons.top_k import top_k_indices
from recsys_lessons.validation import (
    check_indices,
    check_positive_int,
    check_recommended,
)

__all__ = ["SimulatedWorld"]


@dataclass(frozen=True, eq=False)
class SimulatedWorld:
    """The ground truth behind a simulated catalogue: serve lists to users, observe reactions.

    All methods take **0-based indices**: user ``u`` is ``user_ids[u]``, item ``i`` is
    ``item_ids[i]`` (the sorted ids of the dataset's frames). The models and their formulas
    are in the module docstring. Later lessons use the world for A/B tests, shadow mode,
    exploration and bias audits.

    Attributes
    ----------
    user_ids, item_ids : pandas.Index
        Raw ids of the user and item indices.
    global_mean : float
        ``mu`` of ``affinity(u, i) = mu + b_u + b_i + p_u . q_i``.
    user_bias, item_bias : ndarray, shapes ``(n_users,)`` and ``(n_items,)``
        ``b_u`` and ``b_i``.
    user_factors, item_factors : ndarray, shapes ``(n_users, d)`` and ``(n_items, d)``
        ``p_u`` and ``q_i``.
    item_content : ndarray, shape ``(n_items, d)``
        The unit metadata direction ``content_i`` that explains part of ``q_i``.
    exposure : ndarray, shape ``(n_items,)``
        Share of attention each item gets from promotion (sums to 1): the long tail.
    release_date : ndarray of datetime64
        When each item became watchable.
    runtime : ndarray of int
        Minutes, used by :meth:`simulate_watch_time`.
    rating_noise : float
        ``sigma``: a rating is ``clip(round(affinity + N(0, sigma^2)), 1, 5)``.
    position_bias : float
        ``eta`` of the examination probability ``1 / rank ** eta``.
    clickbait : ndarray of bool, shape ``(n_items,)``, optional
        Items with a catchy title and thumbnail (lesson 07): clicked as if liked
        ``CLICKBAIT_PULL`` rating points more, watched ``CLICKBAIT_COMPLETION`` times as
        long. None (the default) means no clickbait.
    """

    #: Affinity at which an examined item is clicked half of the time.
    CLICK_THRESHOLD = 4.5
    #: How sharply click probability rises with affinity (rating points).
    CLICK_TEMPERATURE = 0.5
    #: Extra attraction of a clickbait item, in rating points (lesson 07).
    CLICKBAIT_PULL = 1.0
    #: Factor on the mean completion of a clickbait item once clicked (lesson 07).
    CLICKBAIT_COMPLETION = 0.1

    user_ids: pd.Index
    item_ids: pd.Index
    global_mean: float
    user_bias: np.ndarray
    item_bias: np.ndarray
    user_factors: np.ndarray
    item_factors: np.ndarray
    item_content: np.ndarray
    exposure: np.ndarray
    release_date: np.ndarray
    runtime: np.ndarray
    rating_noise: float
    position_bias: float = 1.0
    clickbait: np.ndarray | None = None

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    # ------------------------------------------------------------------ taste and ratings

    def true_affinity(self, users=None, items=None) -> np.ndarray:
        """Noise-free taste on the rating scale, shape ``(len(users), len(items))``.

        ``affinity(u, i) = global_mean + user_bias[u] + item_bias[i] + user_factors[u] . item_factors[i]``

        Parameters
        ----------
        users, items : array-like of int, optional
            0-based indices (default: all users / all items).
        """
        users = self._indices(users, self.n_users, "user")
        items = self._indices(items, self.n_items, "item")
        return (
            self.global_mean
            + self.user_bias[users, None]
            + self.item_bias[None, items]
            + self.user_factors[users] @ self.item_factors[items].T
        )

    def expected_rating(self, users=None, items=None) -> np.ndarray:
        """Mean of the rating a user would give, shape ``(len(users), len(items))``.

        A rating is ``R = clip(round(a + e), 1, 5)`` with ``e ~ N(0, sigma^2)``, so
        ``R = 1 + #{k in 1..4 : a + e >= k + 0.5}`` and, exactly,
        ``E[R] = 1 + sum over k = 1..4 of Phi((a - k - 0.5) / sigma)``.
        The best RMSE any model can reach is the spread of ``R`` around this mean
        (lesson 04, ``notebooks/04_matrix_factorization.ipynb``).
        """
        affinity = self.true_affinity(users, items)
        thresholds = np.arange(1, 5) + 0.5
        return 1.0 + ndtr((affinity[..., None] - thresholds) / self.rating_noise).sum(axis=-1)

    def simulate_ratings(self, users, recommended, seed=0) -> np.ndarray:
        """Ratings the users give the listed items, shape ``(n, k)``, values 1..5.

        ``R = clip(round(affinity(u, i) + e), 1, 5)``, ``e ~ N(0, sigma^2)``; the mean of
        ``R`` is :meth:`expected_rating`.

        Parameters
        ----------
        users : array-like of int, shape ``(n,)``
            0-based user indices.
        recommended : array-like of int, shape ``(n, k)``
            Row ``j`` holds the item indices rated by ``users[j]``.
        seed : int or numpy.random.Generator
            Seeds the noise (a generator is used as it is, advancing its state).
        """
        users, recommended = self._check_lists(users, recommended)
        noise = np.random.default_rng(seed).normal(0, self.rating_noise, recommended.shape)
        return np.clip(np.rint(self._affinity_of_pairs(users, recommended) + noise), 1, 5)

    def ideal_top_k(self, users=None, k: int = 10, exclude=None):
        """The perfect list: each user's ``k`` items of highest true affinity, best first.

        Parameters
        ----------
        users : array-like of int, optional
            0-based user indices (default: all).
        k : int
            List length, ``1 <= k <= n_items``.
        exclude : scipy.sparse matrix, optional
            ``(n_users, n_items)`` matrix whose non-zeros are removed (e.g. the training
            interactions, built with ``item_ids=world.item_ids``). Users with fewer than ``k``
            remaining items get ``-inf`` scores at the end of their row.

        Returns
        -------
        items : ndarray of int, shape ``(len(users), k)``
        affinities : ndarray of float, shape ``(len(users), k)``
        """
        users = self._indices(users, self.n_users, "user")
        scores = self.true_affinity(users)
        if exclude is not None:
            if exclude.shape != (self.n_users, self.n_items):
                raise ValueError(
                    f"exclude has shape {exclude.shape} but the world has "
                    f"{(self.n_users, self.n_items)} users x items; build it with "
                    "user_ids=world.user_ids, item_ids=world.item_ids."
                )
            rows, cols = exclude.tocsr()[users].nonzero()
            scores[rows, cols] = -np.inf
        top = top_k_indices(scores, k)
        return top, np.take_along_axis(scores, top, axis=1)

    # ------------------------------------------------------------------ clicks

    def examination_probability(self, n_positions: int) -> np.ndarray:
        """Chance a user looks at each slot of a list: ``P(examine rank r) = 1 / r ** eta``.

        The position-based click model (Richardson et al. 2007; Joachims et al. 2017):
        rank 1 is always examined, lower slots less often, whatever they hold. Inverse
        propensity weighting divides clicks by these numbers to undo the bias.
        """
        n_positions = check_positive_int(n_positions, "n_positions", "the length of the list")
        return 1.0 / np.arange(1, n_positions + 1) ** self.position_bias

    def attraction_probability(self, users=None, items=None) -> np.ndarray:
        """Chance a user clicks an item once they look at it, shape ``(len(users), len(items))``.

        ``P(attracted | u, i) = sigmoid((affinity(u, i) + CLICKBAIT_PULL * [clickbait_i]
        - CLICK_THRESHOLD) / CLICK_TEMPERATURE)``, without the clickbait term when
        ``clickbait`` is None. This is the click chance of an item shown in the top slot;
        at rank ``r`` multiply by ``examination_probability(k)[r - 1]``
        (:meth:`click_probability` does so for whole lists). Use it, not the class
        constants, for the truth of a lesson or benchmark: it includes clickbait.

        Parameters
        ----------
        users, items : array-like of int, optional
            0-based indices (default: all users / all items).
        """
        items = self._indices(items, self.n_items, "item")
        return self._attraction(self.true_affinity(users, items), items[None, :])

    def click_probability(self, users, recommended) -> np.ndarray:
        """``P(click) = P(examine rank r) * P(attracted | u, i)`` for each shown item.

        ``P(examine rank r)`` is :meth:`examination_probability`, ``P(attracted | u, i)``
        :meth:`attraction_probability` (clickbait included); the simulations draw their
        clicks from this method.

        Parameters
        ----------
        users : array-like of int, shape ``(n,)``
            0-based user indices.
        recommended : array-like of int, shape ``(n, k)``
            Row ``j`` is the ranked list of item indices shown to ``users[j]``.

        Returns
        -------
        ndarray of float, shape ``(n, k)``
        """
        users, recommended = self._check_lists(users, recommended)
        attraction = self._attraction(self._affinity_of_pairs(users, recommended), recommended)
        return self.examination_probability(recommended.shape[1]) * attraction

    def simulate_clicks(self, users, recommended, seed: int = 0) -> np.ndarray:
        """Which shown items the users click: boolean array of shape ``(n, k)``.

        Each slot is clicked independently with :meth:`click_probability`, so clicks
        are biased towards the top of the list (position bias), not only towards good items.
        """
        users, recommended = self._check_lists(users, recommended)
        return self._draw_clicks(np.random.default_rng(seed), users, recommended)

    # ------------------------------------------------------------------ watch time

    def simulate_watch_time(self, users, recommended, seed: int = 0) -> np.ndarray:
        """Minutes watched of each shown item (0 where not clicked), shape ``(n, k)``.

        A clicked title is watched for ``runtime_i * f`` minutes with completion
        ``f ~ Beta(4 m, 4 (1 - m))``, ``m = sigmoid((affinity(u, i) - 3) / 0.7)`` kept within
        [0.01, 0.99]: liked titles are mostly watched to the end, disappointing ones abandoned
        early. A clickbait item's ``m`` is multiplied by ``CLICKBAIT_COMPLETION`` before the
        clipping. With the same ``seed``, ``simulate_watch_time(...) > 0`` equals
        ``simulate_clicks(...)``.
        """
        users, recommended = self._check_lists(users, recommended)
        rng = np.random.default_rng(seed)
        clicks = self._draw_clicks(rng, users, recommended)
        mean_completion = self._mean_completion(users, recommended)
        completion = rng.beta(4 * mean_completion, 4 * (1 - mean_completion))
        return np.where(clicks, self.runtime[recommended] * completion, 0.0)

    def expected_watch_time(self, users, recommended) -> np.ndarray:
        """Mean minutes watched of each shown item, shape ``(n, k)``: the truth behind
        :meth:`simulate_watch_time`.

        ``E[minutes] = P(click) * runtime_i * m`` with ``m`` the mean completion of
        :meth:`simulate_watch_time` (the mean of ``Beta(4 m, 4 (1 - m))`` is ``m``).
        """
        users, recommended = self._check_lists(users, recommended)
        return (
            self.click_probability(users, recommended)
            * self.runtime[recommended]
            * self._mean_completion(users, recommended)
        )

    # ------------------------------------------------------------------ shared steps

    def _attraction(self, affinity: np.ndarray, items: np.ndarray) -> np.ndarray:
        """The attraction formula, for affinities of ``items`` (broadcast to their shape)."""
        if self.clickbait is not None:
            affinity = affinity + self.CLICKBAIT_PULL * self.clickbait[items]
        return expit((affinity - self.CLICK_THRESHOLD) / self.CLICK_TEMPERATURE)

    def _mean_completion(self, users, recommended) -> np.ndarray:
        mean = expit((self._affinity_of_pairs(users, recommended) - 3.0) / 0.7)
        if self.clickbait is not None:
            mean = np.where(self.clickbait[recommended], mean * self.CLICKBAIT_COMPLETION, mean)
        return np.clip(mean, 0.01, 0.99)

    def _draw_clicks(self, rng, users, recommended) -> np.ndarray:
        return rng.random(recommended.shape) < self.click_probability(users, recommended)

    def _affinity_of_pairs(self, users, recommended) -> np.ndarray:
        """``affinity(users[j], recommended[j, c])`` for every row ``j`` and column ``c``."""
        pairs = np.einsum("nd,nkd->nk", self.user_factors[users], self.item_factors[recommended])
        return self.global_mean + self.user_bias[users, None] + self.item_bias[recommended] + pairs

    def _check_lists(self, users, recommended):
        users = check_indices(users, self.n_users, "user", allow_empty=True)
        recommended = check_recommended(recommended)
        if recommended.shape[0] != len(users):
            raise ValueError(
                f"recommended must hold one ranked list per user ({len(users)} rows); got "
                f"shape {recommended.shape}."
            )
        items = check_indices(recommended.ravel(), self.n_items, "item", allow_empty=True)
        return users, items.reshape(recommended.shape)

    @staticmethod
    def _indices(indices, size: int, kind: str) -> np.ndarray:
        """All ``size`` indices when ``indices`` is None, else the checked indices."""
        if indices is None:
            return np.arange(size)
        return check_indices(indices, size, kind, allow_empty=True)
