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
from recsys_lessons.models.base import top_k_indices

__all__ = ["ExploringPolicy", "LinUCB"]


def _mask_of(available, n_items: int, day: int) -> np.ndarray:
    """The boolean mask of items that may be shown on ``day``: all when ``available`` is None."""
    if available is None:
        return np.ones(n_items, dtype=bool)
    mask = np.asarray(available(day) if callable(available) else available, dtype=bool)
    if mask.shape != (n_items,):
        raise ValueError(
            f"available must give one boolean per item ({n_items}); got shape {mask.shape}."
        )
    return mask


class LinUCB(SlatePolicy):
    """Contextual bandit with a shared linear model and optimistic ranking.

    With ``phi = phi(u, i)`` of dimension ``D = d_user * d_item``, after impressions with
    features ``phi_t`` and rewards ``r_t``::

        A = ridge * I + sum_t phi_t phi_t^T,   b = sum_t r_t phi_t,   theta = A^-1 b
        ucb(u, i) = theta . phi(u, i) + alpha * sqrt(phi(u, i)^T A^-1 phi(u, i))

    and each user gets the ``k`` items of highest ``ucb`` (ties to the lower index):
    deterministic, so every propensity is 1. ``alpha = 0`` is the greedy ridge regression.
    Include a constant 1 among both feature sets so the model has user and item terms.

    Parameters
    ----------
    user_features : ndarray, shape ``(n_users, d_user)``
    item_features : ndarray, shape ``(n_items, d_item)``
    alpha : float >= 0
        Width of the exploration bonus.
    ridge : float > 0
        Prior precision (``A`` starts at ``ridge * I``).
    available : callable or ndarray of bool, optional
        ``available(day)`` gives the items that may be shown on that day (e.g. released
        ones); default all.
    reward : str
        Log column used as the reward.
    """

    def __init__(
        self, user_features, item_features, alpha=1.0, ridge=1.0, available=None, reward="clicked"
    ):
        X = np.asarray(user_features, dtype=np.float64)
        Z = np.asarray(item_features, dtype=np.float64)
        if X.ndim != 2 or Z.ndim != 2 or not (np.isfinite(X).all() and np.isfinite(Z).all()):
            raise ValueError(
                "user_features and item_features must be finite 2-D arrays (one row per user / item)."
            )
        if alpha < 0 or ridge <= 0:
            raise ValueError(f"alpha must be >= 0 and ridge > 0; got {alpha} and {ridge}.")
        super().__init__(len(Z), reward, seed=0)
        self.user_features, self.item_features = X, Z
        self.alpha, self.ridge, self.available = alpha, ridge, available
        dim = X.shape[1] * Z.shape[1]
        self.A_ = ridge * np.eye(dim)
        self.b_ = np.zeros(dim)
        self.day_ = 0

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
        A_inv = np.linalg.inv(self.A_).reshape(du, di, du, di)
        # phi^T A^-1 phi = z^T M_u z with M_u[b, d] = sum_{a,c} x_a x_c A^-1[(a,b),(c,d)]
        M = np.einsum("na,abcd,nc->nbd", X, A_inv, X, optimize=True)
        variance = np.einsum("ib,nbd,id->ni", Z, M, Z, optimize=True)
        return mean + self.alpha * np.sqrt(np.maximum(variance, 0.0))

    def learn(self, users, items, positions, rewards) -> None:
        """Add impressions to ``A`` and ``b`` (Li et al. 2010, algorithm 1)."""
        phi = self._joint(np.asarray(users), np.asarray(items))
        self.A_ += phi.T @ phi
        self.b_ += phi.T @ np.asarray(rewards, dtype=np.float64)

    def update(self, log, day) -> None:
        super().update(log, day)
        self.day_ = day + 1

    def _slates(self, users, k):
        if users.min() < 0 or users.max() >= len(self.user_features):
            raise ValueError(f"user indices must lie in 0..{len(self.user_features) - 1}.")
        scores = self.upper_bounds(users)
        scores[:, ~_mask_of(self.available, self.n_items, self.day_)] = -np.inf
        return top_k_indices(scores, k), np.ones((len(users), k))

    def _describe(self):
        return f"alpha={self.alpha}, ridge={self.ridge}"


class ExploringPolicy(SlatePolicy):
    """Epsilon-greedy around any policy: keep its slate, explore a share ``epsilon`` of slots.

    Each slot keeps the base policy's item with probability ``1 - epsilon``, otherwise shows
    an item drawn uniformly from the exploration pool minus the base slate, see
    :func:`~recsys_lessons.explore.slates.epsilon_slates`. Propensities are exact when the
    base policy is deterministic (as a course model is): ``1 - epsilon`` for kept slots,
    ``epsilon / |pool_u|`` for explored ones.

    Parameters
    ----------
    base : policy
        Anything with ``recommend(users, k)`` returning items or ``(items, propensities)``,
        and optionally ``update(log, day)`` (passed on). Wrap a course ``Recommender`` in
        ``recsys_lessons.simulate.ModelPolicy`` first.
    n_items : int
    epsilon : float in [0, 1]
    explore : {"random", "under_exposed"}
        Pool: every available item, or the ``under_exposed_share`` of available items shown
        least so far (ties in a fixed random order).
    under_exposed_share : float in (0, 1]
    available : callable or ndarray of bool, optional
        ``available(day)``: items that may be shown on that day (default all).
    seed : int
    """

    def __init__(
        self,
        base,
        n_items,
        epsilon=0.1,
        explore="random",
        under_exposed_share=0.2,
        available=None,
        seed=0,
    ):
        if not callable(getattr(base, "recommend", None)):
            raise ValueError(
                "base must be a policy with recommend(users, k); wrap a course model in "
                "recsys_lessons.simulate.ModelPolicy(model) first."
            )
        if hasattr(base, "fit") and hasattr(base, "score"):
            raise ValueError(
                "base is a course Recommender, which recommends from a fixed matrix; wrap it "
                "in recsys_lessons.simulate.ModelPolicy(model) so it retrains on the log."
            )
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"epsilon must lie in [0, 1] (a share of slots); got {epsilon}.")
        if explore not in ("random", "under_exposed"):
            raise ValueError(f"explore must be 'random' or 'under_exposed'; got {explore!r}.")
        if not 0.0 < under_exposed_share <= 1.0:
            raise ValueError(f"under_exposed_share must lie in (0, 1]; got {under_exposed_share}.")
        super().__init__(n_items, seed=seed)
        self.base, self.epsilon, self.explore = base, epsilon, explore
        self.under_exposed_share, self.available = under_exposed_share, available
        self.impressions_ = np.zeros(self.n_items)
        self._priority = self._rng.permutation(self.n_items)
        self.day_ = 0

    def exploration_pool(self) -> np.ndarray:
        """Boolean mask of the items exploration may show today."""
        available = _mask_of(self.available, self.n_items, self.day_)
        if self.explore == "random":
            return available
        candidates = np.flatnonzero(available)
        order = np.lexsort((self._priority[candidates], self.impressions_[candidates]))
        n_keep = max(1, int(np.ceil(self.under_exposed_share * len(candidates))))
        pool = np.zeros(self.n_items, dtype=bool)
        pool[candidates[order[:n_keep]]] = True
        return pool

    def _slates(self, users, k):
        answer = self.base.recommend(users, k)
        greedy, base_propensity = answer if isinstance(answer, tuple) else (answer, None)
        greedy = np.asarray(greedy, dtype=np.int64)
        base_propensity = (
            np.ones(greedy.shape)
            if base_propensity is None
            else np.nan_to_num(np.asarray(base_propensity, dtype=np.float64), nan=1.0)
        )
        items, propensities, self.last_explored_ = epsilon_slates(
            self._rng, greedy, self.exploration_pool(), self.epsilon
        )
        propensities = np.where(self.last_explored_, propensities, propensities * base_propensity)
        return items, propensities

    def update(self, log, day) -> None:
        """Count the day's impressions (for the under-exposed pool) and update the base."""
        today = log[log["day"].to_numpy() == day]
        self.impressions_ += np.bincount(today["item"].to_numpy(), minlength=self.n_items)
        if callable(getattr(self.base, "update", None)):
            self.base.update(log, day)
        self.day_ = day + 1

    def learn(self, users, items, positions, rewards) -> None:
        self.impressions_ += np.bincount(np.asarray(items), minlength=self.n_items)

    def _describe(self):
        return f"base={self.base!r}, epsilon={self.epsilon}, explore={self.explore!r}"
