"""The policy protocol: what every online policy of the course answers and which hooks it has.

A *policy* decides what each visitor of the
:class:`~recsys_lessons.online.environment.OnlineEnvironment` is shown. Every policy of the
course (lesson 09's baselines and experiments, lesson 10's bandits and exploration, lesson
11's calibrated policy) subclasses :class:`Policy` and answers with a :class:`Slate`:

- ``recommend(users, k) -> Slate``: the ``k`` distinct items shown to each user, best first,
  and the probability of each item at its position (the *propensity* that off-policy
  evaluation divides by, lesson 10; 1 for a deterministic choice). A :class:`Slate` is not
  a tuple, so it can never be mistaken for a model's ``(items, scores)``.
- ``begin_day(context)``: called before a day's requests with a :class:`DayContext` (which
  items are released, what every user watched so far).
- ``update(log, day)``: called after a day with the impression log of days ``<= day``.

A subclass implements ``make_slate(users, k)``; :meth:`Policy.recommend` checks the request
(``users`` 1-D integer indices, ``k`` a positive integer) and the answer (a :class:`Slate` of
shape ``(len(users), k)``), so every policy accepts and refuses the same things. Models,
functions and retrievers become policies through the adapters of
:mod:`recsys_lessons.online.policies`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys_lessons.validation import check_k

__all__ = ["DayContext", "Policy", "Slate", "day_rows"]


@dataclass(frozen=True)
class DayContext:
    """What a policy may know before a day starts (passed to ``begin_day``).

    Attributes
    ----------
    day : int
        0-based day of the environment.
    date : pandas.Timestamp
        Calendar date of that day.
    available : ndarray of bool, shape ``(n_items,)``
        Items released by that date: only these may be shown.
    history : scipy.sparse.csr_matrix, shape ``(n_users, n_items)``
        1.0 where a user watched an item before this day (the pre-period interactions
        given to the environment plus every click logged so far).
    """

    day: int
    date: pd.Timestamp
    available: np.ndarray
    history: sp.csr_matrix


@dataclass(frozen=True, eq=False)
class Slate:
    """The answer of a policy: what each user is shown, and the propensity of each slot.

    ``propensities[u, j]`` is the probability that the policy puts ``items[u, j]`` at
    position ``j + 1`` for user ``u``: 1 for a deterministic choice (the default: a ranked
    list of a model), ``1 - epsilon`` for a kept slot and ``epsilon / |pool|`` for an
    explored one (lesson 10). A policy that cannot tell (a plain function, a random
    procedure without an estimate) passes ``propensities=None``: the impression log then
    holds ``NaN``, which off-policy estimators refuse. Both arrays are read-only.

    Parameters
    ----------
    items : array-like of int, shape ``(n_users, k)``
        Distinct item indices per row, best first.
    propensities : float, array-like of float in (0, 1] of the same shape, or None
        A single number applies to every slot (default 1.0: deterministic).

    Examples
    --------
    >>> slate = Slate([[3, 1], [0, 2]], [[1.0, 0.5], [1.0, 0.5]])
    >>> slate.items.shape, slate.propensities[0].tolist()
    ((2, 2), [1.0, 0.5])
    >>> Slate([[3, 1]]).propensities.tolist()  # a deterministic ranking
    [[1.0, 1.0]]
    >>> Slate([[3, 1]], propensities=None).logged_propensities().tolist()  # not reported
    [[nan, nan]]
    """

    items: np.ndarray
    propensities: np.ndarray | float | None = 1.0

    def __post_init__(self) -> None:
        items = np.array(self.items)
        if items.ndim != 2 or (items.size and not np.issubdtype(items.dtype, np.integer)):
            raise ValueError(
                "a slate holds integer item indices of shape (n_users, k); got dtype "
                f"{items.dtype}, shape {items.shape}."
            )
        items = items.astype(np.int64)
        if items.size and items.min() < 0:
            raise ValueError("a slate holds negative item indices; item indices start at 0.")
        ordered = np.sort(items, axis=1)
        if (ordered[:, 1:] == ordered[:, :-1]).any():
            raise ValueError(
                "a slate shows an item twice to one user; slates need k distinct items."
            )
        items.setflags(write=False)
        object.__setattr__(self, "items", items)
        if self.propensities is not None:
            propensities = np.array(self.propensities, dtype=np.float64)
            if propensities.ndim == 0:
                propensities = np.full(items.shape, float(propensities))
            if (
                propensities.shape != items.shape
                or not ((propensities > 0) & (propensities <= 1)).all()
            ):
                raise ValueError(
                    f"propensities must have the slate's shape {items.shape} and lie in (0, 1] "
                    "(probabilities of showing each item there); scores are not propensities."
                )
            propensities.setflags(write=False)
            object.__setattr__(self, "propensities", propensities)

    def logged_propensities(self) -> np.ndarray:
        """The propensities as the impression log stores them: ``NaN`` when not reported."""
        if self.propensities is None:
            return np.full(self.items.shape, np.nan)
        return np.array(self.propensities)


class Policy:
    """Base class of every online policy (module docstring: the protocol).

    Subclasses implement :meth:`make_slate` and may override the hooks :meth:`begin_day`
    (call ``super().begin_day(context)`` to keep :attr:`context`) and :meth:`update`.

    Attributes
    ----------
    context : DayContext or None
        The context of the current day (``None`` before the first ``begin_day``).
    n_items : int or None
        Catalogue size when the policy was built for one (bandits): ``begin_day`` then
        refuses an environment of another size. ``k`` may not exceed it, nor the
        catalogue of the day's context.
    exclude_seen : bool
        Whether :meth:`blocked` blocks what a user already watched.
    """

    context: DayContext | None = None
    n_items: int | None = None
    exclude_seen: bool = True

    def begin_day(self, context: DayContext) -> None:
        """Hook called before each day: remember the day's :class:`DayContext`."""
        if self.n_items is not None and np.shape(context.available) != (self.n_items,):
            raise ValueError(
                f"the environment has {np.shape(context.available)[0]} items but the policy was "
                f"built for n_items={self.n_items}; use n_items=world.n_items."
            )
        self.context = context

    def update(self, log: pd.DataFrame, day: int) -> None:
        """Hook called after each day with the impression log of days ``<= day`` (no-op)."""

    def recommend(self, users, k: int = 10) -> Slate:
        """A :class:`Slate` of ``k`` distinct items for each of ``users``, best first.

        Raises
        ------
        ValueError
            When ``users`` are not 1-D integer indices >= 0, ``k`` is not a list length
            inside the catalogue, or the policy answers with something other than a
            :class:`Slate` of ``(len(users), k)`` items inside the catalogue.
        """
        users = np.atleast_1d(np.asarray(users))
        if users.ndim != 1 or not np.issubdtype(users.dtype, np.integer) or (users < 0).any():
            raise ValueError(
                f"users must be a 1-D array of integer user indices (>= 0); got dtype "
                f"{users.dtype}, shape {users.shape}."
            )
        catalogue = self.n_items
        if catalogue is None and self.context is not None:
            catalogue = len(self.context.available)
        k = check_k(k, catalogue)
        slate = self.make_slate(users, k)
        name = type(self).__name__
        if not isinstance(slate, Slate):
            raise ValueError(
                f"{name}.make_slate must return a Slate(items, propensities), not "
                f"{type(slate).__name__}; a model's (items, scores) is not a slate."
            )
        if slate.items.shape != (len(users), k):
            raise ValueError(
                f"{name} returned a slate of shape {slate.items.shape}; expected "
                f"{(len(users), k)} (one row of k items per user)."
            )
        if catalogue is not None and slate.items.size and slate.items.max() >= catalogue:
            raise ValueError(
                f"{name} returned item index {slate.items.max()}, outside 0..{catalogue - 1} "
                f"(the catalogue has {catalogue} items); return item indices, not raw ids."
            )
        return slate

    def make_slate(self, users: np.ndarray, k: int) -> Slate:  # pragma: no cover - abstract
        """Implemented by subclasses: the slates for checked ``users`` and ``k``."""
        raise NotImplementedError

    def current_context(self) -> DayContext:
        """:attr:`context`, or a ``ValueError`` when no day has begun."""
        if self.context is None:
            raise ValueError(
                f"{type(self).__name__} needs begin_day(context) first; run it in an "
                "OnlineEnvironment."
            )
        return self.context

    def blocked(self, users: np.ndarray) -> np.ndarray:
        """``(len(users), n_items)`` booleans: items not released yet, and, with
        :attr:`exclude_seen`, items the user watched. Without a context nothing is blocked
        (which needs :attr:`n_items`)."""
        if self.context is None:
            if self.n_items is None:
                self.current_context()  # raises: no catalogue to block in
            return np.zeros((len(users), self.n_items), dtype=bool)
        available = np.asarray(self.context.available, dtype=bool)
        blocked = np.tile(~available, (len(users), 1))
        if self.exclude_seen:
            rows, cols = self.context.history[users].nonzero()
            blocked[rows, cols] = True
        return blocked


def day_rows(log: pd.DataFrame, day: int, columns) -> pd.DataFrame:
    """The rows of ``day`` in an impression log, after checking it has ``columns``."""
    missing = set(columns) - set(log.columns)
    if missing:
        raise ValueError(
            f"the log lacks the column(s) {sorted(missing)}; pass the impression log of "
            "OnlineEnvironment.run (or set reward= to an existing column)."
        )
    return log[log["day"].to_numpy() == day]
