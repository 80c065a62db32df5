"""Personalised exploration: LinUCB, and epsilon-greedy around any recommender.

- :class:`LinUCB` (Li, Chu, Langford, Schapire, "A contextual-bandit approach to
  personalized news article recommendation", WWW 2010) models the click rate of user ``u``
  on item ``i`` as linear in joint features ``phi(u, i) = x_u (outer) z_i`` (every product
  of a user feature and an item feature, the shared part of the paper's hybrid model) and
  ranks by the upper confidence bound of that estimate.
- :class:`ExploringPolicy` takes any policy (e.g. lesson 08's ``ModelPolicy`` around a
  course model such as ALS) and swaps a share ``epsilon`` of its slots for random or
  under-exposed items, reporting exact propensities.

Lesson 09, ``notebooks/09_exploration.ipynb``, parts 2 and 3.
"""

from __future__ import annotations

import numpy as np

from recsys_lessons.explore.slates import SlatePolicy, epsilon_slates
from recsys_lessons.models.base import Recommender
from recsys_lessons.top_k import top_k_indices

__all__ = ["ExploringPolicy", "LinUCB"]


class LinUCB(SlatePolicy):
    """Contextual bandit with a shared linear model and optimistic ranking.

    With ``phi = phi(u, i)`` of dimension ``D = d_user * d_item``, after impressions with
    features ``phi_t`` and rewards ``r_t``::

        A = ridge * I + sum_t phi_t phi_t^T,   b = sum_t r_t phi_t,   theta = A^-1 b
        ucb(u, i) = theta . phi(u, i) + alpha * sqrt(phi(u, i)^T A^-1 phi(u, i))

    and each user gets the ``k`` items of highest ``ucb`` among released, unwatched items
    (ties to the lower index): deterministic, so every propensity is 1. ``alpha = 0`` is
    the greedy ridge regression.
    Include a constant 1 among both feature sets so the model has user and item terms.

    Parameters
    ----------
    user_features : ndarray, shape ``(n_users, d_user)``
    item_features : ndarray, shape ``(n_items, d_item)``
    alpha : float >= 0
        Width of the exploration bonus.
    ridge : float > 0
        Prior precision (``A`` starts at ``ridge * I``).
    reward : str
        Log column used as the reward.
    exclude_seen : bool
        Never show users what they already watched.
    """

    def __init__(
        self,
        user_features,
        item_features,
        alpha=1.0,
        ridge=1.0,
        reward="clicked",
        exclude_seen=True,
    ):
        X = np.asarray(user_features, dtype=np.float64)
        Z = np.asarray(item_features, dtype=np.float64)
        if X.ndim != 2 or Z.ndim != 2 or not (np.isfinite(X).all() and np.isfinite(Z).all()):
            raise ValueError(
                "user_features and item_features must be finite 2-D arrays (one row per user / item)."
            )
        if alpha < 0 or ridge <= 0:
            raise ValueError(f"alpha must be >= 0 and ridge > 0; got {alpha} and {ridge}.")
        super().__init__(len(Z), reward, seed=0, exclude_seen=exclude_seen)
        self.user_features, self.item_features = X, Z
        self.alpha, self.ridge = alpha, ridge
        dim = X.shape[1] * Z.shape[1]
        self.A_ = ridge * np.eye(dim)
        self.b_ = np.zeros(dim)

    def _joint(self, users, items) -> np.ndarray:
        """``phi(u, i)`` for pairs, shape ``(n, d_user * d_item)``."""
        X, Z = self.user_features[users], self.item_features[items]
        return (X[:, :, None] * Z[:, None, :]).reshape(len(users), -1)

    def upper_bounds(self, users) -> np.ndarray:
        """``ucb(u, i)`` for every item, shape ``(len(users), n_items)``."""
        du, di = self.user_features.shape[1], self.item_features.shape[1]
        X, Z = self.user_features[users], self.item_features
        theta = np.linalg.solve(self.A_, self.b_).reshape(du, di)
        mean = (X @ theta) @ Z.T
        # phi^T A^-1 phi = z^T M_u z with M_u[b, d] = sum_{a,c} x_a x_c A^-1[(a,b),(c,d)]
        A_inv = np.linalg.inv(self.A_).reshape(du, di, du, di).transpose(0, 2, 1, 3)
        outer = (X[:, :, None] * X[:, None, :]).reshape(len(users), du * du)
        M = (outer @ A_inv.reshape(du * du, di * di)).reshape(len(users), di, di)
        variance = np.einsum("nbi,ib->ni", M @ Z.T, Z)
        return mean + self.alpha * np.sqrt(np.maximum(variance, 0.0))

    def learn(self, users, items, positions, rewards) -> None:
        """Add impressions to ``A`` and ``b`` (Li et al. 2010, algorithm 1)."""
        phi = self._joint(np.asarray(users), np.asarray(items))
        self.A_ += phi.T @ phi
        self.b_ += phi.T @ np.asarray(rewards, dtype=np.float64)

    def _slates(self, users, k):
        if users.min() < 0 or users.max() >= len(self.user_features):
            raise ValueError(f"user indices must lie in 0..{len(self.user_features) - 1}.")
        scores = self.upper_bounds(users)
        scores[self.blocked(users)] = -np.inf
        return top_k_indices(scores, k), np.ones((len(users), k))

    def _describe(self):
        return f"alpha={self.alpha}, ridge={self.ridge}"


class ExploringPolicy(SlatePolicy):
    """Epsilon-greedy around any policy: keep its slate, explore a share ``epsilon`` of slots.

    Each slot keeps the base policy's item with probability ``1 - epsilon``, otherwise shows
    an item drawn uniformly from the exploration pool minus the base slate (and minus what
    the user watched), see :func:`~recsys_lessons.explore.slates.epsilon_slates`.
    Propensities are exact when the base policy is deterministic (as a course model is):
    ``1 - epsilon`` for kept slots, ``epsilon / |pool_u|`` for explored ones.

    Parameters
    ----------
    base : policy, function or Recommender
        Anything with ``recommend(users, k)`` (or a function ``f(users, k)``) returning
        items or ``(items, propensities)``,
        with optional ``begin_day``/``update`` hooks (passed on). A course ``Recommender``
        is wrapped in ``recsys_lessons.online.environment.ModelPolicy`` (refitted every morning).
    n_items : int
    epsilon : float in [0, 1]
    explore : {"random", "under_exposed"}
        Pool: every released item, or the ``under_exposed_share`` of released items shown
        least so far (ties in a fixed random order).
    under_exposed_share : float in (0, 1]
    seed : int
    exclude_seen : bool
        Never explore with an item the user already watched.
    """

    def __init__(
        self,
        base,
        n_items,
        epsilon=0.1,
        explore="random",
        under_exposed_share=0.2,
        seed=0,
        exclude_seen=True,
    ):
        if isinstance(base, Recommender):
            from recsys_lessons.online.environment import (
                ModelPolicy,  # lazy: simulate imports pandas
            )

            base = ModelPolicy(base)
        if not (callable(getattr(base, "recommend", None)) or callable(base)):
            raise ValueError(
                "base must be a policy with recommend(users, k), a function f(users, k) or a "
                f"course Recommender; got {type(base).__name__}."
            )
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"epsilon must lie in [0, 1] (a share of slots); got {epsilon}.")
        if explore not in ("random", "under_exposed"):
            raise ValueError(f"explore must be 'random' or 'under_exposed'; got {explore!r}.")
        if not 0.0 < under_exposed_share <= 1.0:
            raise ValueError(f"under_exposed_share must lie in (0, 1]; got {under_exposed_share}.")
        super().__init__(n_items, seed=seed, exclude_seen=exclude_seen)
        self.base, self.epsilon, self.explore = base, epsilon, explore
        self.under_exposed_share = under_exposed_share
        self.impressions_ = np.zeros(self.n_items)
        self._priority = self._rng.permutation(self.n_items)

    def begin_day(self, context) -> None:
        super().begin_day(context)
        if callable(getattr(self.base, "begin_day", None)):
            self.base.begin_day(context)

    def exploration_pool(self) -> np.ndarray:
        """Boolean mask of the items exploration may show today (before removing each
        user's slate and watched items)."""
        available = (
            np.ones(self.n_items, dtype=bool)
            if self.context_ is None
            else np.asarray(self.context_.available, dtype=bool)
        )
        if self.explore == "random":
            return available
        candidates = np.flatnonzero(available)
        order = np.lexsort((self._priority[candidates], self.impressions_[candidates]))
        n_keep = max(1, int(np.ceil(self.under_exposed_share * len(candidates))))
        pool = np.zeros(self.n_items, dtype=bool)
        pool[candidates[order[:n_keep]]] = True
        return pool

    def _slates(self, users, k):
        recommend = getattr(self.base, "recommend", self.base)
        answer = recommend(users, k)
        greedy, base_propensity = answer if isinstance(answer, tuple) else (answer, None)
        greedy = np.asarray(greedy, dtype=np.int64)
        base_propensity = (
            np.ones(greedy.shape)
            if base_propensity is None
            else np.nan_to_num(np.asarray(base_propensity, dtype=np.float64), nan=1.0)
        )
        pool = self.exploration_pool() & ~self.blocked(users)
        items, propensities, self.last_explored_ = epsilon_slates(
            self._rng, greedy, pool, self.epsilon
        )
        propensities = np.where(self.last_explored_, propensities, propensities * base_propensity)
        return items, propensities

    def update(self, log, day) -> None:
        """Count the day's impressions (for the under-exposed pool) and update the base."""
        super().update(log, day)
        if callable(getattr(self.base, "update", None)):
            self.base.update(log, day)

    def learn(self, users, items, positions, rewards) -> None:
        """Count impressions per item (what "under-exposed" is measured by)."""
        self.impressions_ += np.bincount(np.asarray(items), minlength=self.n_items)

    def _describe(self):
        return f"base={self.base!r}, epsilon={self.epsilon}, explore={self.explore!r}"
