"""What every exploring policy shares: a base class for bandits and epsilon-greedy slates.

Every policy follows the protocol of :mod:`recsys_lessons.online.policy` (lesson 09):
``recommend(users, k)`` answers a :class:`~recsys_lessons.online.policy.Slate`, the ranked
items and, for each slot, the probability that the policy puts that item in that position.
Those propensities are what off-policy evaluation needs
(:mod:`recsys_lessons.explore.offpolicy`). After each simulated day the environment calls
``update(log, day)`` with the impression log so far; a :class:`SlatePolicy` learns from the
rows of that day. Lesson 10, ``notebooks/10_exploration.ipynb``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recsys_lessons.online.policy import Policy, day_rows
from recsys_lessons.validation import check_positive_int, check_probability, check_seed

__all__ = ["SlatePolicy", "epsilon_slates", "first_unblocked", "first_unblocked_cross"]


def first_unblocked(order: np.ndarray, blocked: np.ndarray, k: int) -> np.ndarray:
    """For each user, the first ``k`` items of a ranking that are not blocked for them.

    Parameters
    ----------
    order : ndarray of int, shape ``(depth,)`` or ``(n, depth)``
        Items best first (the whole ranking or its head): one ranking for everybody, or
        one per user.
    blocked : ndarray of bool, shape ``(n, n_items)``
        Items a user may not be shown.
    k : int

    Returns
    -------
    ndarray of int, shape ``(n, k)``
    """
    n = blocked.shape[0]
    order = np.array(np.broadcast_to(order, (n, order.shape[-1])))
    rows = np.arange(n)[:, None]
    return _first_k(lambda head: blocked[rows, head], order, k)


def first_unblocked_cross(orders: np.ndarray, blocked: np.ndarray, k: int) -> np.ndarray:
    """Every ranking of ``orders`` (shape ``(m, n_items)``) applied to every user of
    ``blocked`` (shape ``(n, n_items)``): the first ``k`` unblocked items, shape ``(n, m, k)``."""
    n = blocked.shape[0]
    full = np.broadcast_to(orders, (n, *orders.shape))
    users = np.arange(n)[:, None, None]
    return _first_k(lambda head: blocked[users, head], full, k)


def _first_k(skip_of, order, k):
    """First ``k`` entries of ``order`` (last axis) whose ``skip_of(head)`` is False; looks
    only as deep into the rankings as needed (doubling), since few items are blocked."""
    n_items = order.shape[-1]
    depth = min(n_items, 2 * k + 32)
    while True:
        head = order[..., :depth]
        skip = skip_of(head)
        enough = (~skip).sum(axis=-1) >= k
        if enough.all():
            keep = np.argsort(skip.astype(np.uint8), axis=-1, kind="stable")[..., :k]
            return np.take_along_axis(head, keep, axis=-1)
        if depth == n_items:
            raise ValueError(
                f"a user has fewer than k = {k} items left to show (unreleased or watched); "
                "lower k."
            )
        depth = min(n_items, 2 * depth)


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
    pool : ndarray of bool, shape ``(n_items,)`` or ``(n, n_items)``
        Items that exploration may show (e.g. every released item, or the under-exposed
        ones), for all users or one row per user (e.g. without what each already watched).
    epsilon : float in [0, 1]

    Returns
    -------
    items : ndarray of int, shape ``(n, k)``
    propensities : ndarray of float, shape ``(n, k)``
    explored : ndarray of bool, shape ``(n, k)``
        Which slots were exploratory.

    Raises
    ------
    ValueError
        When ``rng`` is not a Generator, ``greedy`` is not a 2-D array of item indices
        inside the pool's catalogue, ``epsilon`` lies outside [0, 1], or the pool is too
        small to explore ``k`` slots.
    """
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            f"rng must be a numpy Generator, e.g. np.random.default_rng(0); got {rng!r}."
        )
    epsilon = check_probability(epsilon, "epsilon", meaning="a share of slots")
    greedy = np.asarray(greedy)
    pool = np.asarray(pool)
    if greedy.ndim != 2 or not np.issubdtype(greedy.dtype, np.integer):
        raise ValueError(
            "greedy must be a 2-D integer array of item indices (one slate per row); got "
            f"dtype {greedy.dtype}, shape {greedy.shape}."
        )
    if greedy.size and (greedy.min() < 0 or greedy.max() >= pool.shape[-1]):
        raise ValueError(
            f"greedy holds item indices outside 0..{pool.shape[-1] - 1} (the pool's "
            "catalogue); pass slates of the same catalogue as the pool."
        )
    n, k = greedy.shape
    explored = rng.random((n, k)) < epsilon
    in_pool = np.array(np.broadcast_to(pool, (n, pool.shape[-1])), dtype=bool)
    in_pool[np.arange(n)[:, None], greedy] = False
    pool_size = in_pool.sum(axis=1)
    if epsilon > 0 and (pool_size < k).any():
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
    propensities = np.where(explored, epsilon / np.maximum(pool_size[:, None], 1), 1.0 - epsilon)
    return items, propensities, explored


class SlatePolicy(Policy):
    """Base class of the learning policies over a catalogue of ``n_items`` arms.

    Subclasses implement ``make_slate(users, k) -> Slate`` and
    ``learn(users, items, positions, rewards)``. ``update(log, day)`` feeds ``learn`` with
    the log rows of ``day`` (column ``reward``, default ``"clicked"``). ``begin_day(context)``
    (called by ``OnlineEnvironment``) tells the policy which items are released and what
    each user watched; :meth:`~recsys_lessons.online.policy.Policy.blocked` turns that into
    the items a slate may not hold. Outside an environment every item is available and
    nothing is blocked.

    Parameters
    ----------
    n_items : int
        Number of items (arms), 0-based indices.
    reward : str
        Log column used as the reward.
    seed : int
        Seeds every random choice of the policy.
    exclude_seen : bool
        Never show users what they already watched (as ``ModelPolicy`` does).
    """

    def __init__(
        self, n_items: int, reward: str = "clicked", seed: int = 0, exclude_seen: bool = True
    ):
        self.n_items = check_positive_int(n_items, "n_items", "the number of items")
        self.reward = reward
        self.seed = check_seed(seed)
        self.exclude_seen = exclude_seen
        self._rng = np.random.default_rng(self.seed)

    def update(self, log: pd.DataFrame, day: int) -> None:
        """Learn from the impressions of ``day`` (the log holds every day up to ``day``)."""
        today = day_rows(log, day, ("day", "user", "item", "position", self.reward))
        if len(today):
            self.learn(
                today["user"].to_numpy(),
                today["item"].to_numpy(),
                today["position"].to_numpy(),
                today[self.reward].to_numpy(dtype=np.float64),
            )

    def learn(self, users, items, positions, rewards) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._describe()})"

    def _describe(self) -> str:
        return f"n_items={self.n_items}"
