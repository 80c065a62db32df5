"""What every exploring policy shares: the policy protocol and epsilon-greedy slates.

A policy (see ``recsys_lessons.simulate``, lesson 08) answers ``recommend(users, k)`` with
``(items, propensities)``, two arrays of shape ``(len(users), k)``: the ranked slate and,
for each slot, the probability that the policy puts that item in that position. Those
propensities are what off-policy evaluation needs (:mod:`recsys_lessons.explore.offpolicy`).
After each simulated day the environment calls ``update(log, day)`` with the impression log
so far; a learning policy reads the rows of that day. Lesson 09,
``notebooks/09_exploration.ipynb``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["SlatePolicy", "epsilon_slates"]


def epsilon_slates(rng: np.random.Generator, greedy: np.ndarray, pool: np.ndarray, epsilon: float):
    """Swap each slot of the greedy slates, with probability ``epsilon``, for a random item.

    Slot ``j`` of user ``u`` keeps ``greedy[u, j]`` with probability ``1 - epsilon``;
    otherwise it shows an item drawn uniformly from ``pool_u`` = the pool minus the user's
    greedy slate (several exploring slots of one slate get distinct items). The exact
    propensity of what is shown is therefore::

        P(greedy[u, j] at slot j) = 1 - epsilon
        P(pool item i at slot j)  = epsilon / |pool_u|

    Parameters
    ----------
    rng : numpy.random.Generator
    greedy : ndarray of int, shape ``(n, k)``
        The exploiting slates, best first.
    pool : ndarray of bool, shape ``(n_items,)``
        Items that exploration may show (e.g. every released item, or the under-exposed ones).
    epsilon : float in [0, 1]

    Returns
    -------
    items : ndarray of int, shape ``(n, k)``
    propensities : ndarray of float, shape ``(n, k)``
    explored : ndarray of bool, shape ``(n, k)``
        Which slots were exploratory.
    """
    n, k = greedy.shape
    explored = rng.random((n, k)) < epsilon
    in_pool = np.tile(pool, (n, 1))
    in_pool[np.arange(n)[:, None], greedy] = False
    pool_size = in_pool.sum(axis=1)
    if (pool_size < k).any():
        raise ValueError(
            f"the exploration pool holds only {pool_size.min()} items outside a greedy slate, "
            f"fewer than k = {k}; widen the pool or lower k."
        )
    # Distinct uniform picks: the pool items with the largest random keys, in random order.
    keys = np.where(in_pool, rng.random(in_pool.shape), -1.0)
    picks = np.argpartition(-keys, k - 1, axis=1)[:, :k]
    slot_of_pick = np.cumsum(explored, axis=1) - 1  # j-th exploring slot takes the j-th pick
    random_items = np.take_along_axis(picks, np.maximum(slot_of_pick, 0), axis=1)
    items = np.where(explored, random_items, greedy)
    propensities = np.where(explored, epsilon / pool_size[:, None], 1.0 - epsilon)
    return items, propensities, explored


class SlatePolicy:
    """Base class of the exploring policies: input checks and the daily update.

    Subclasses implement ``_slates(users, k) -> (items, propensities)`` and
    ``learn(users, items, positions, rewards)``. ``update(log, day)`` feeds ``learn`` with
    the log rows of ``day`` (column ``reward``, default ``"clicked"``).

    Parameters
    ----------
    n_items : int
        Number of items (arms), 0-based indices.
    reward : str
        Log column used as the reward.
    seed : int
        Seeds every random choice of the policy.
    """

    def __init__(self, n_items: int, reward: str = "clicked", seed: int = 0):
        if int(n_items) != n_items or n_items < 1:
            raise ValueError(f"n_items must be a positive integer; got {n_items}.")
        self.n_items = int(n_items)
        self.reward = reward
        self.seed = seed
        self._rng = np.random.default_rng(seed)

    def recommend(self, users, k: int = 10):
        """Slates for ``users``: ``(items, propensities)``, both of shape ``(len(users), k)``."""
        users = np.atleast_1d(np.asarray(users))
        if users.ndim != 1 or not np.issubdtype(users.dtype, np.integer):
            raise ValueError(
                f"users must be a 1-D array of integer user indices; got dtype {users.dtype}, "
                f"shape {users.shape}."
            )
        if int(k) != k or not 1 <= k <= self.n_items:
            raise ValueError(
                f"k must be an integer between 1 and n_items ({self.n_items}); got {k}."
            )
        return self._slates(users, int(k))

    def update(self, log: pd.DataFrame, day: int) -> None:
        """Learn from the impressions of ``day`` (the log holds every day up to ``day``)."""
        missing = {"day", "user", "item", "position", self.reward} - set(log.columns)
        if missing:
            raise ValueError(
                f"the log lacks the column(s) {sorted(missing)}; pass the impression log of "
                "OnlineEnvironment.run (or set reward= to an existing column)."
            )
        today = log[log["day"].to_numpy() == day]
        if len(today):
            self.learn(
                today["user"].to_numpy(),
                today["item"].to_numpy(),
                today["position"].to_numpy(),
                today[self.reward].to_numpy(dtype=np.float64),
            )

    def learn(self, users, items, positions, rewards) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _slates(self, users: np.ndarray, k: int):  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._describe()})"

    def _describe(self) -> str:
        return f"n_items={self.n_items}"
