"""Personalised exploration: LinUCB, and epsilon-greedy around any recommender.

- :class:`LinUCB` (Li, Chu, Langford, Schapire, "A contextual-bandit approach to
  personalized news article recommendation", WWW 2010) models the click rate of user ``u``
  on item ``i`` as linear in joint features ``phi(u, i) = x_u (outer) z_i`` (every product
  of a user feature and an item feature, the shared part of the paper's hybrid model) and
  ranks by the upper confidence bound of that estimate.
- :class:`ExploringPolicy` wraps any policy (e.g. lesson 09's ``ModelPolicy`` around a
  course model such as ALS) and swaps a share ``epsilon`` of its slots for random or
  under-exposed items, reporting exact propensities.

Lesson 10, ``notebooks/10_exploration.ipynb``, parts 2 and 3.
"""

from __future__ import annotations

import numpy as np

from recsys_lessons.explore.slates import SlatePolicy, epsilon_slates
from recsys_lessons.online.policies import PolicyWrapper
from recsys_lessons.online.policy import Slate, day_rows
from recsys_lessons.top_k import top_k_indices
from recsys_lessons.validation import (
    check_finite_array,
    check_indices,
    check_number,
    check_positive_int,
    check_probability,
    check_seed,
)

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

    Raises
    ------
    ValueError
        When a feature matrix is not a 2-D array of finite numbers, or ``alpha`` /
        ``ridge`` is out of range.
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
        X = check_finite_array(user_features, "user_features", meaning="one row per user")
        Z = check_finite_array(item_features, "item_features", meaning="one row per item")
        if X.ndim != 2 or Z.ndim != 2:
            raise ValueError(
                "user_features and item_features must be finite 2-D arrays (one row per user / item)."
            )
        alpha = check_number(alpha, "alpha", low=0)
        ridge = check_number(ridge, "ridge", low=0, low_open=True)
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
        """Add impressions to ``A`` and ``b`` (Li et al. 2010, algorithm 1).

        Raises
        ------
        ValueError
            When ``users`` or ``items`` are not indices of the feature rows, ``rewards``
            hold NaN, infinite values or text, or the lengths differ.
        """
        users = check_indices(users, len(self.user_features), "user", allow_empty=True)
        items = check_indices(items, len(self.item_features), "item", allow_empty=True)
        rewards = check_finite_array(rewards, "rewards", meaning="one reward per impression")
        if not len(users) == len(items) == rewards.size:
            raise ValueError(
                f"users, items and rewards need one entry per impression; got lengths "
                f"{len(users)}, {len(items)} and {rewards.size}."
            )
        phi = self._joint(users, items)
        self.A_ += phi.T @ phi
        self.b_ += phi.T @ rewards.ravel()

    def make_slate(self, users, k):
        if users.max(initial=0) >= len(self.user_features):
            raise ValueError(f"user indices must lie in 0..{len(self.user_features) - 1}.")
        scores = self.upper_bounds(users)
        scores[self.blocked(users)] = -np.inf
        return Slate(top_k_indices(scores, k))  # deterministic: propensity 1

    def _describe(self):
        return f"alpha={self.alpha}, ridge={self.ridge}"


class ExploringPolicy(PolicyWrapper):
    """Epsilon-greedy around any policy: keep its slate, explore a share ``epsilon`` of slots.

    Each slot keeps the base policy's item with probability ``1 - epsilon``, otherwise shows
    an item drawn uniformly from the exploration pool minus the base slate (and minus what
    the user watched), see :func:`~recsys_lessons.explore.slates.epsilon_slates`.
    Propensities are exact when the base policy is deterministic (as a course model is):
    ``1 - epsilon`` for kept slots, ``epsilon / |pool_u|`` for explored ones. The base's own
    propensities multiply the kept slots'; a base that reports none (a plain function) is
    taken as deterministic.

    Parameters
    ----------
    base : policy, Recommender or function
        The policy to explore around, converted by
        :func:`~recsys_lessons.online.policies.as_policy` (a course ``Recommender`` becomes
        a ``ModelPolicy``, refitted every morning); its hooks are passed on.
    n_items : int
    epsilon : float in [0, 1]
    explore : {"random", "under_exposed"}
        Pool: every released item, or the ``under_exposed_share`` of released items shown
        least so far (ties in a fixed random order).
    under_exposed_share : float in (0, 1]
    seed : int
    exclude_seen : bool
        Never explore with an item the user already watched.

    Raises
    ------
    ValueError
        For a bad ``n_items``, ``epsilon``, ``explore``, ``under_exposed_share`` or ``seed``,
        and (from ``recommend``) when the base policy answers items outside ``n_items``.
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
        super().__init__(base)
        self.base = self.policies[0]
        self.n_items = check_positive_int(n_items, "n_items", "the number of items")
        self.epsilon = check_probability(epsilon, "epsilon", meaning="a share of slots")
        if explore not in ("random", "under_exposed"):
            raise ValueError(f"explore must be 'random' or 'under_exposed'; got {explore!r}.")
        self.explore = explore
        self.under_exposed_share = check_probability(
            under_exposed_share, "under_exposed_share", zero=False
        )
        self.seed = check_seed(seed)
        self.exclude_seen = exclude_seen
        self._rng = np.random.default_rng(self.seed)
        self.impressions_ = np.zeros(self.n_items)
        self._priority = self._rng.permutation(self.n_items)

    def exploration_pool(self) -> np.ndarray:
        """Boolean mask of the items exploration may show today (before removing each
        user's slate and watched items)."""
        available = (
            np.ones(self.n_items, dtype=bool)
            if self.context is None
            else np.asarray(self.context.available, dtype=bool)
        )
        if self.explore == "random":
            return available
        candidates = np.flatnonzero(available)
        order = np.lexsort((self._priority[candidates], self.impressions_[candidates]))
        n_keep = max(1, int(np.ceil(self.under_exposed_share * len(candidates))))
        pool = np.zeros(self.n_items, dtype=bool)
        pool[candidates[order[:n_keep]]] = True
        return pool

    def make_slate(self, users, k):
        base = self.base.recommend(users, k)
        if base.items.max() >= self.n_items:
            raise ValueError(
                f"the base policy returned item index {base.items.max()}, outside the "
                f"n_items={self.n_items} items of this ExploringPolicy; use n_items=world.n_items."
            )
        base_propensity = 1.0 if base.propensities is None else base.propensities
        pool = self.exploration_pool() & ~self.blocked(users)
        items, propensities, self.last_explored_ = epsilon_slates(
            self._rng, base.items, pool, self.epsilon
        )
        propensities = np.where(self.last_explored_, propensities, propensities * base_propensity)
        return Slate(items, propensities)

    def update(self, log, day) -> None:
        """Count the day's impressions per item (what "under-exposed" is measured by) and
        pass the log on to the base policy."""
        today = day_rows(log, day, ("day", "item"))
        self.impressions_ += np.bincount(today["item"].to_numpy(), minlength=self.n_items)
        super().update(log, day)

    def __repr__(self) -> str:
        return (
            f"ExploringPolicy(base={self.base!r}, epsilon={self.epsilon}, explore={self.explore!r})"
        )
