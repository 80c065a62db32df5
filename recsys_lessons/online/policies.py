"""The course's basic policies, and the one way anything else becomes a policy.

Baselines (lesson 09): :class:`RandomPolicy` (uniform slates, exact propensities) and
:class:`PopularityPolicy` (most watched so far).

Adapters, each the only road from one kind of object to the protocol of
:mod:`recsys_lessons.online.policy`:

- :class:`ModelPolicy`: a course :class:`~recsys_lessons.models.base.Recommender`, fitted (a
  clone of it) on the watch history and refitted every ``retrain_every`` days;
- :class:`FunctionPolicy`: a plain function ``f(users, k)`` returning item indices;
- :class:`RankingPolicy`: a fitted ranker whose ``recommend(users, k)`` returns
  ``(items, scores)``, such as :class:`~recsys_lessons.hybrid.candidates.IndexRetriever`:
  it serves the lists and drops the scores (scores are not propensities; a deterministic
  list has propensity 1).

:class:`PolicyWrapper` is the base of policies built on other policies (shadow mode,
interleaving, exploration, calibration): it passes the hooks on. :func:`as_policy` turns a
policy, a model or a function into a policy and refuses anything else with a ``recommend``
method, whose answer it cannot read safely.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import clone

from recsys_lessons.models.base import Recommender
from recsys_lessons.online.policy import DayContext, Policy, Slate
from recsys_lessons.top_k import top_k_indices
from recsys_lessons.validation import check_positive_int, check_seed

__all__ = [
    "FunctionPolicy",
    "ModelPolicy",
    "PolicyWrapper",
    "PopularityPolicy",
    "RandomPolicy",
    "RankingPolicy",
    "as_policy",
]


class RandomPolicy(Policy):
    """Uniformly random slates of released items; reports its propensities.

    Every released item is equally likely at every position:
    ``P(item i at position r) = 1 / n_available``, the propensity logged for off-policy
    estimates (lesson 10).
    """

    def __init__(self, seed: int = 0) -> None:
        self.seed = check_seed(seed)
        self._rng = np.random.default_rng(self.seed)

    def make_slate(self, users, k):
        available = np.flatnonzero(self.current_context().available)
        n_available = len(available)
        if k > n_available:
            raise ValueError(f"only {n_available} items are released; cannot fill {k} slots.")
        keys = self._rng.random((len(users), n_available))
        items = available[np.argpartition(keys, k - 1, axis=1)[:, :k]]
        return Slate(items, np.full(items.shape, 1.0 / n_available))

    def __repr__(self) -> str:
        return f"RandomPolicy(seed={self.seed})"


class PopularityPolicy(Policy):
    """The most-watched released items so far, minus what each user already watched.

    Popularity counts the watch history of the :class:`DayContext` (pre-period plus logged
    clicks); ties go to the lower item index. Deterministic: every propensity is 1.
    """

    def __init__(self, exclude_seen: bool = True) -> None:
        self.exclude_seen = exclude_seen

    def begin_day(self, context: DayContext) -> None:
        super().begin_day(context)
        self._counts = np.asarray(context.history.sum(axis=0)).ravel().astype(np.float64)

    def make_slate(self, users, k):
        self.current_context()
        scores = np.tile(self._counts, (len(users), 1))
        scores[self.blocked(users)] = -np.inf
        return Slate(top_k_indices(scores, k))

    def __repr__(self) -> str:
        return f"PopularityPolicy(exclude_seen={self.exclude_seen})"


class ModelPolicy(Policy):
    """Serve a course :class:`~recsys_lessons.models.base.Recommender` online.

    A clone of the model (``sklearn.base.clone``: same hyperparameters, unfitted; the
    caller's model is never fitted) is fitted on the watch history known before the day
    (binary: 1.0 per watched title, pre-period interactions included) and refitted every
    ``retrain_every`` days; it recommends released items the user has not watched yet (as
    of that morning). Deterministic: every propensity is 1.

    Parameters
    ----------
    model : Recommender
        Any course model; only its hyperparameters are used.
    retrain_every : int
        Days between refits (1: every morning).
    exclude_seen : bool
        Remove items the user already watched.

    Attributes
    ----------
    model_ : Recommender
        The fitted clone serving today (after the first ``begin_day``).
    n_fits : int
        How many times a clone was fitted.
    """

    def __init__(self, model, retrain_every: int = 1, exclude_seen: bool = True) -> None:
        if not isinstance(model, Recommender):
            raise ValueError(
                f"ModelPolicy wraps a course Recommender; got {type(model).__name__}. Use "
                "FunctionPolicy for a function f(users, k) and RankingPolicy for a fitted ranker."
            )
        self.model = model
        self.retrain_every = check_positive_int(
            retrain_every, "retrain_every", "days between refits"
        )
        self.exclude_seen = exclude_seen
        self.n_fits = 0
        self._fitted_on_day = None

    def begin_day(self, context: DayContext) -> None:
        super().begin_day(context)
        if self._fitted_on_day is None or context.day - self._fitted_on_day >= self.retrain_every:
            if context.history.nnz == 0:
                raise ValueError(
                    "ModelPolicy has no watch history to learn from on the first day; give the "
                    "environment pre-period interactions (OnlineEnvironment.from_dataset) or "
                    "run another policy first."
                )
            self.model_ = clone(self.model).fit(context.history)
            self._fitted_on_day = context.day
            self.n_fits += 1

    def masked_scores(self, users) -> np.ndarray:
        """The fitted model's scores for ``users``, ``-inf`` on :meth:`blocked` items
        (unreleased ones, and watched ones with ``exclude_seen``)."""
        self.current_context()
        scores = np.array(self.model_.score(users), dtype=np.float64)  # own, writable copy
        scores[self.blocked(users)] = -np.inf
        return scores

    def make_slate(self, users, k):
        return Slate(top_k_indices(self.masked_scores(users), k))

    def __repr__(self) -> str:
        return f"ModelPolicy({self.model!r}, retrain_every={self.retrain_every})"


class FunctionPolicy(Policy):
    """A plain function ``f(users, k) -> items`` (2-D integer array) served as a policy.

    The function returns item indices only, and whether it draws them at random is unknown,
    so the policy reports no propensities (``None``, logged as ``NaN``; a function may
    return a :class:`Slate` to report them). It gets no hooks: a policy
    that learns or needs the day's context subclasses :class:`Policy`.
    """

    def __init__(self, function) -> None:
        if not callable(function):
            raise ValueError(
                f"FunctionPolicy needs a function f(users, k); got {type(function).__name__}."
            )
        self.function = function

    def make_slate(self, users, k):
        answer = self.function(users, k)
        if isinstance(answer, Slate):
            return answer
        if isinstance(answer, tuple):
            raise ValueError(
                f"{_name(self.function)} returned a tuple; a function policy returns item "
                "indices only, or Slate(items, propensities) to report propensities."
            )
        return Slate(answer, propensities=None)

    def __repr__(self) -> str:
        return f"FunctionPolicy({_name(self.function)})"


class RankingPolicy(Policy):
    """Serve a fitted ranker's lists, e.g. :class:`~recsys_lessons.hybrid.IndexRetriever`.

    ``ranker.recommend(users, k)`` must return ``(items, scores)`` ranked best first, in
    the environment's item indices. The policy asks for ``k`` plus the most items any
    visitor has blocked, drops unreleased (and, with ``exclude_seen``, watched) items and
    items with a non-finite score, and keeps the first ``k``. The scores are dropped, never
    logged: the ranker is deterministic, so every propensity is 1. It is not refitted.

    Parameters
    ----------
    ranker : object with ``recommend(users, k) -> (items, scores)``
    exclude_seen : bool
        Never show users what they already watched.
    """

    def __init__(self, ranker, exclude_seen: bool = True) -> None:
        if not callable(getattr(ranker, "recommend", None)):
            raise ValueError(
                "RankingPolicy needs a fitted ranker with recommend(users, k) -> (items, "
                f"scores); got {type(ranker).__name__}."
            )
        self.ranker = ranker
        self.exclude_seen = exclude_seen

    def make_slate(self, users, k):
        blocked = self.blocked(users)
        depth = min(blocked.shape[1], k + int(blocked.sum(axis=1).max(initial=0)))
        items, scores = self.ranker.recommend(users, k=depth)
        items, scores = np.asarray(items), np.asarray(scores, dtype=np.float64)
        if items.shape != scores.shape or items.shape[0] != len(users):
            raise ValueError(
                f"{type(self.ranker).__name__}.recommend must return (items, scores) with one "
                f"row per user; got shapes {items.shape} and {scores.shape}."
            )
        skip = blocked[np.arange(len(users))[:, None], items] | ~np.isfinite(scores)
        if ((~skip).sum(axis=1) < k).any():
            raise ValueError(
                f"{type(self.ranker).__name__} proposes fewer than k = {k} released, unwatched "
                "items for some users; lower k."
            )
        keep = np.argsort(skip, axis=1, kind="stable")[:, :k]
        return Slate(np.take_along_axis(items, keep, axis=1))

    def __repr__(self) -> str:
        return f"RankingPolicy({type(self.ranker).__name__})"


class PolicyWrapper(Policy):
    """Base of policies built on other policies: the hooks are passed on to each of them.

    ``begin_day`` and ``update`` reach every wrapped policy once (a policy wrapped twice,
    e.g. the same ranker on both sides of an interleaving, is called once). Subclasses
    implement ``make_slate`` with the wrapped policies' ``recommend``.

    Parameters
    ----------
    *policies : policy, Recommender or function
        Converted with :func:`as_policy`; kept in :attr:`policies`, in order.
    """

    def __init__(self, *policies) -> None:
        if not policies:
            raise ValueError("a PolicyWrapper needs at least one policy to wrap.")
        self.policies = tuple(as_policy(policy) for policy in policies)

    def begin_day(self, context: DayContext) -> None:
        super().begin_day(context)
        for policy in self._distinct():
            policy.begin_day(context)

    def update(self, log: pd.DataFrame, day: int) -> None:
        super().update(log, day)
        for policy in self._distinct():
            policy.update(log, day)

    def _distinct(self):
        return {id(policy): policy for policy in self.policies}.values()


def as_policy(policy) -> Policy:
    """``policy`` as a :class:`~recsys_lessons.online.policy.Policy`.

    A policy is kept, a course Recommender becomes a :class:`ModelPolicy`, a plain function
    a :class:`FunctionPolicy`. Any other object with a ``recommend`` method is refused: its
    answer (e.g. ``(items, scores)`` of a retriever) would be misread, so wrap it yourself.
    """
    if isinstance(policy, Policy):
        return policy
    if isinstance(policy, Recommender):
        return ModelPolicy(policy)
    if hasattr(policy, "recommend"):
        raise ValueError(
            f"{type(policy).__name__} has a recommend method but is not a Policy, so its answer "
            "(e.g. a retriever's (items, scores)) could be logged as propensities; serve it "
            "with RankingPolicy(ranker) or subclass Policy and return a Slate."
        )
    if callable(policy):
        return FunctionPolicy(policy)
    raise ValueError(
        "a policy must be a Policy, a course Recommender or a function f(users, k); got "
        f"{type(policy).__name__}."
    )


def _name(function) -> str:
    return getattr(function, "__name__", type(function).__name__)
