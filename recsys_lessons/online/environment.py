"""A live audience for recommenders: simulated users who return day after day and react.

Offline metrics replay old logs; an online experiment shows lists to people and watches
what they do. :class:`OnlineEnvironment` gives every lesson such an audience on top of the
simulated catalogue's :class:`~recsys_lessons.data.catalogue.SimulatedWorld`, whose true tastes
we know, so every statistical claim can be checked against the truth. Lesson 08
(``notebooks/08_online_experiments.ipynb``) runs A/B tests, interleaving and shadow mode
on it; lessons 09 (exploration) and 10 (feedback loops, bias audits) reuse it.

One simulated day
-----------------
1. **Who visits.** User ``u`` has a daily return rate ``r_u ~ Beta(m c, (1 - m) c)`` with
   mean ``m = return_rate`` and concentration ``c = return_concentration`` (a few heavy
   users, many occasional ones). On day ``t`` the user visits with probability
   ``min(1, r_u * w[weekday(t)])``, ``w`` the ``weekly_pattern`` (default flat), and only
   once signed up (``signup_date``: arriving users).
2. **What they are shown.** Each visitor is served by the policy of their arm (one policy,
   or several in an A/B test: users are assigned to arms once, at random, and stay there).
   The policy returns a slate of ``k`` distinct items, all released by that day
   (``world.release_date``: arriving items), and optionally its propensity for each slot.
3. **How they react.** Clicks and watch time come from the world itself,
   ``world.simulate_clicks`` and ``world.simulate_watch_time`` (position-biased clicks,
   ``P(click) = P(examine rank r) * P(attracted)``), never re-implemented here: options the
   world gains (clickbait titles, lesson 07) flow through. With a **novelty effect** a user
   new to a changed experience looks at the slate a second time with probability
   ``b = novelty * 0.5 ** (days since their first visit in the arm / novelty_half_life)``;
   a slot is clicked if either look clicks it, so
   ``P(click) = p + b p (1 - p)`` (``p`` the world's probability), a lift that fades.
4. **Memory.** What users watched joins their history; before the next day every policy may
   learn from the impression log so far (``update(log, day)``) and from the watch history
   (``begin_day(context)``). A policy never sees the future.

Randomness is drawn from ``numpy.random.default_rng([seed, stream, day])``: the same seed
gives the same log, and the visitors and click draws of day ``t`` do not depend on the
policy (common random numbers: two policies run on two environments with the same seed
meet the same users on the same days).

Policies
--------
Anything with ``recommend(users, k)`` returning world item indices of shape
``(len(users), k)`` or a tuple ``(items, propensities)``; a plain function ``f(users, k)``
too. Optional hooks, called by the environment:

- ``begin_day(context)`` before a day's requests, with a :class:`DayContext` (day, date,
  which items are released, the watch history so far as a CSR matrix);
- ``update(log, day)`` after a day, with the impression log of days ``<= day``.

:class:`ModelPolicy` wraps any course :class:`~recsys_lessons.models.base.Recommender`;
:class:`RandomPolicy`, :class:`PopularityPolicy` and :class:`ShadowPolicy` are provided.

Example
-------
::

    data = load_dataset("synthetic", seed=42)
    env = OnlineEnvironment.from_dataset(data, seed=0, k=10)    # history = data's interactions
    log = env.run(ModelPolicy(EASE(), retrain_every=7), n_days=14)
    ab = env.run({"A": PopularityPolicy(), "B": EASE()}, n_days=14)  # continues at day 14
    arm = env.assign(2)                                          # each user's arm (0 = "A")
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys_lessons.models.base import Recommender
from recsys_lessons.top_k import top_k_indices

__all__ = [
    "LOG_COLUMNS",
    "WEEKEND_PEAK",
    "as_policy",
    "call_policy",
    "DayContext",
    "ModelPolicy",
    "OnlineEnvironment",
    "PopularityPolicy",
    "RandomPolicy",
    "ShadowPolicy",
]

#: Columns of every impression log, in this order (``arm`` follows in A/B runs).
LOG_COLUMNS = (
    "day",
    "user",
    "position",
    "item",
    "propensity",
    "clicked",
    "watch_seconds",
    "click_probability",
)

#: A weekly pattern (Monday..Sunday) with busier weekends: multiplies the return rates.
WEEKEND_PEAK = (0.85, 0.85, 0.9, 0.95, 1.1, 1.25, 1.1)

# Random streams: one per kind of draw, so adding a draw never shifts another.
_RETURN_RATES, _VISITS, _REACTIONS, _SECOND_LOOK, _ASSIGNMENT = range(5)
_SECONDS_PER_MINUTE = 60.0


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


class OnlineEnvironment:
    """Simulated users who visit, get a slate from a policy, click and watch (module docstring).

    Parameters
    ----------
    world : SimulatedWorld
        Ground truth: ``load_dataset("synthetic").world``.
    seed : int
        Every random draw of the environment derives from it.
    k : int
        Slate length (items shown per visit).
    start : str or Timestamp, optional
        Date of day 0. Default: the day after the world's latest release, so every item is
        available. Pick an earlier date to have new items arrive during the run.
    history : pandas.DataFrame, optional
        Pre-period interactions (``user_id``, ``item_id``, ``timestamp``; raw ids of the
        world): what users watched before day 0. Rows at or after ``start`` are ignored.
    signup_date : array-like of datetime64, optional
        Per world user index, the day the user joins; users visit only from then on.
        Default: everybody is already signed up.
    return_rate : float in (0, 1)
        Mean daily probability that a user visits (default 0.3).
    return_concentration : float > 0
        ``c`` of the Beta distribution of users' return rates; smaller means more spread
        between heavy and occasional users (default 2).
    weekly_pattern : sequence of 7 floats, optional
        Multipliers of the return rates from Monday to Sunday (e.g. :data:`WEEKEND_PEAK`).
        Default: no seasonality.
    novelty : float or dict, optional
        Strength of the novelty effect (the chance of a second look on a user's first day
        of a changed experience), in [0, 1]. A float applies to every arm except the first
        of an A/B run (the control) and to a single policy; a dict ``{arm: strength}``
        names the arms. Default 0: no novelty effect.
    novelty_half_life : float > 0
        Days after which the novelty effect has halved (default 3).

    Attributes
    ----------
    return_rates : ndarray, shape ``(n_users,)``
        Each user's daily return rate ``r_u``.
    day : int
        The next day to simulate; :meth:`run` continues from there.
    log : pandas.DataFrame
        Every impression simulated so far, over all runs.
    """

    def __init__(
        self,
        world,
        seed: int = 0,
        k: int = 10,
        *,
        start=None,
        history: pd.DataFrame | None = None,
        signup_date=None,
        return_rate: float = 0.3,
        return_concentration: float = 2.0,
        weekly_pattern=None,
        novelty: float | dict = 0.0,
        novelty_half_life: float = 3.0,
    ) -> None:
        for name in ("click_probability", "simulate_clicks", "simulate_watch_time"):
            if not hasattr(world, name):
                raise ValueError(
                    f"world has no {name}(); pass a SimulatedWorld, e.g. "
                    "load_dataset('synthetic').world (MovieLens has no ground truth to simulate)."
                )
        if not isinstance(seed, Integral) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer; got {seed!r}.")
        if not isinstance(k, Integral) or not 1 <= k <= world.n_items:
            raise ValueError(f"k must be an integer in 1..{world.n_items}; got {k!r}.")
        if not 0.0 < return_rate < 1.0 or return_concentration <= 0:
            raise ValueError(
                "return_rate must lie strictly between 0 and 1 and return_concentration be "
                f"positive; got {return_rate} and {return_concentration}."
            )
        if novelty_half_life <= 0:
            raise ValueError(f"novelty_half_life must be positive; got {novelty_half_life}.")
        self.world = world
        self.seed = int(seed)
        self.k = int(k)
        self.novelty = _check_novelty(novelty)
        self.novelty_half_life = float(novelty_half_life)
        release = np.asarray(world.release_date).astype("datetime64[D]")
        self.start = (
            pd.Timestamp(release.max()) + pd.Timedelta(days=1)
            if start is None
            else pd.Timestamp(start).normalize()
        )
        self._release = release
        self._signup = _check_signup(signup_date, world.n_users)
        self.weekly_pattern = _check_weekly(weekly_pattern)
        self.return_rate = float(return_rate)
        self.return_concentration = float(return_concentration)
        rng = np.random.default_rng([self.seed, _RETURN_RATES])
        c = self.return_concentration
        self.return_rates = rng.beta(return_rate * c, (1 - return_rate) * c, world.n_users)
        self._watched_users, self._watched_items = self._pre_period(history)
        self.day = 0
        self._logs: list[pd.DataFrame] = []
        self._log_cache: pd.DataFrame | None = None

    @classmethod
    def from_dataset(cls, dataset, seed: int = 0, k: int = 10, *, start=None, **options):
        """Environment on a simulated dataset's world, its users' signup dates and its
        interactions before ``start`` as the pre-period history.

        ``start`` defaults to the day after the dataset's last interaction.
        """
        if getattr(dataset, "world", None) is None:
            raise ValueError(
                f"dataset {dataset.name!r} has no simulated world; use "
                "load_dataset('synthetic') (the online environment needs ground truth)."
            )
        if start is None:
            start = dataset.interactions["timestamp"].max().normalize() + pd.Timedelta(days=1)
        signup = None
        if "signup_date" in dataset.users.columns:
            signup = dataset.users["signup_date"].reindex(dataset.world.user_ids).to_numpy()
        return cls(
            dataset.world,
            seed,
            k,
            start=start,
            history=dataset.interactions,
            signup_date=signup,
            **options,
        )

    # ----------------------------------------------------------------------------------
    # What the environment knows about a day
    # ----------------------------------------------------------------------------------

    def date(self, day: int) -> pd.Timestamp:
        """Calendar date of ``day`` (day 0 is ``start``)."""
        return self.start + pd.Timedelta(days=int(day))

    def available_items(self, day: int) -> np.ndarray:
        """Boolean mask of the items released by ``day``'s date."""
        return self._release <= np.datetime64(self.date(day).date(), "D")

    def visit_probability(self, day: int) -> np.ndarray:
        """``min(1, r_u * w[weekday])`` for signed-up users, 0 for users not yet arrived."""
        date = self.date(day)
        rate = np.minimum(1.0, self.return_rates * self.weekly_pattern[date.day_of_week])
        if self._signup is not None:
            rate = np.where(self._signup <= np.datetime64(date.date(), "D"), rate, 0.0)
        return rate

    def visitors(self, day: int) -> np.ndarray:
        """Sorted indices of the users who visit on ``day`` (independent of any policy)."""
        rng = np.random.default_rng([self.seed, _VISITS, int(day)])
        return np.flatnonzero(rng.random(self.world.n_users) < self.visit_probability(day))

    def history_matrix(self) -> sp.csr_matrix:
        """Binary ``(n_users, n_items)`` CSR matrix of everything watched so far."""
        shape = (self.world.n_users, self.world.n_items)
        users = np.concatenate(self._watched_users)
        items = np.concatenate(self._watched_items)
        matrix = sp.csr_matrix((np.ones(len(users), np.float32), (users, items)), shape=shape)
        matrix.sum_duplicates()
        matrix.data[:] = 1.0
        return matrix

    @property
    def log(self) -> pd.DataFrame:
        """Every impression so far (all runs), one row per shown item."""
        if self._log_cache is None:
            self._log_cache = (
                pd.concat(self._logs, ignore_index=True) if self._logs else _empty_log()
            )
        return self._log_cache

    # ----------------------------------------------------------------------------------
    # Running
    # ----------------------------------------------------------------------------------

    def run(self, policy, n_days: int, *, allocation=None, assignment_seed=None) -> pd.DataFrame:
        """Simulate ``n_days`` days from :attr:`day` on, serving visitors with ``policy``.

        Parameters
        ----------
        policy : policy, function, Recommender, or dict of them
            A dict ``{arm name: policy}`` runs an A/B test: each user is assigned to one arm
            for the whole run and the log gains an ``arm`` column.
        n_days : int
            Days to simulate.
        allocation : sequence of float, optional
            Share of users in each arm (default equal shares).
        assignment_seed : int, optional
            Seed of the random assignment of users to arms (default: the environment's).

        Returns
        -------
        pandas.DataFrame
            The impressions of these days: :data:`LOG_COLUMNS` (``click_probability`` is the
            ground-truth chance of a click, which real logs never have), plus ``arm``.
        """
        if not isinstance(n_days, Integral) or n_days < 1:
            raise ValueError(f"n_days must be a positive integer; got {n_days!r}.")
        arms = _as_arms(policy)
        names = list(arms)
        assignment = self.assign(len(names), allocation, assignment_seed)
        strength = self._novelty_by_arm(names, isinstance(policy, dict))
        first_day = np.full(self.world.n_users, -1)
        unique = list({id(p): p for p in arms.values()}.values())
        run_logs = []
        for day in range(self.day, self.day + n_days):
            context = None
            if any(hasattr(p, "begin_day") for p in unique):
                context = DayContext(
                    day, self.date(day), self.available_items(day), self.history_matrix()
                )
                for p in unique:
                    if hasattr(p, "begin_day"):
                        p.begin_day(context)
            visitors = self.visitors(day)
            first_day[visitors[first_day[visitors] < 0]] = day
            frames = []
            for arm, name in enumerate(names):
                users = visitors[assignment[visitors] == arm]
                if len(users) == 0:
                    continue
                items, propensity = self._serve(arms[name], users, day)
                second_look = strength[arm] * 0.5 ** (
                    (day - first_day[users]) / self.novelty_half_life
                )
                frames.append((arm, users, items, propensity, second_look))
            day_log = self._react(frames, day, names if isinstance(policy, dict) else None)
            self._record(day_log)
            run_logs.append(day_log)
            learners = [p for p in unique if hasattr(p, "update")]
            if learners:
                log = self.log
                for p in learners:
                    p.update(log, day)
        self.day += n_days
        return pd.concat(run_logs, ignore_index=True)

    def assign(self, n_arms: int, allocation=None, assignment_seed=None) -> np.ndarray:
        """Arm index of every user: a random draw with the given shares, fixed for a seed."""
        shares = np.full(n_arms, 1.0 / n_arms) if allocation is None else np.asarray(allocation)
        if shares.shape != (n_arms,) or (shares < 0).any() or not np.isclose(shares.sum(), 1):
            raise ValueError(
                f"allocation must hold {n_arms} non-negative shares summing to 1; got {allocation}."
            )
        seed = self.seed if assignment_seed is None else int(assignment_seed)
        rng = np.random.default_rng([seed, _ASSIGNMENT])
        return rng.choice(n_arms, size=self.world.n_users, p=shares)

    # ----------------------------------------------------------------------------------
    # Internals
    # ----------------------------------------------------------------------------------

    def _pre_period(self, history):
        if history is None:
            return [np.empty(0, np.int64)], [np.empty(0, np.int64)]
        for column in ("user_id", "item_id", "timestamp"):
            if column not in history.columns:
                raise ValueError(
                    f"history needs a {column!r} column (a dataset's interactions frame); "
                    f"found {list(history.columns)}."
                )
        before = history[history["timestamp"] < self.start]
        users = self.world.user_ids.get_indexer(before["user_id"])
        items = self.world.item_ids.get_indexer(before["item_id"])
        if (users < 0).any() or (items < 0).any():
            raise ValueError(
                "history holds user or item ids the world does not know; pass the "
                "interactions of the dataset the world belongs to."
            )
        return [users.astype(np.int64)], [items.astype(np.int64)]

    def _novelty_by_arm(self, names, is_ab: bool) -> np.ndarray:
        if isinstance(self.novelty, dict):
            unknown = set(self.novelty) - set(names)
            if unknown:
                raise ValueError(f"novelty names arms {sorted(unknown)} not in this run {names}.")
            return np.array([self.novelty.get(name, 0.0) for name in names])
        return np.array([0.0 if (is_ab and a == 0) else self.novelty for a in range(len(names))])

    def _serve(self, policy, users, day):
        answer = call_policy(policy, users, self.k)
        if isinstance(answer, tuple):
            items, propensity = answer
            propensity = np.asarray(propensity, dtype=np.float64)
        else:
            items, propensity = answer, None
        items = np.asarray(items)
        name = type(policy).__name__
        if items.shape != (len(users), self.k) or not np.issubdtype(items.dtype, np.integer):
            raise ValueError(
                f"{name}.recommend must return integer item indices of shape "
                f"({len(users)}, {self.k}); got dtype {items.dtype}, shape {items.shape}."
            )
        if items.min() < 0 or items.max() >= self.world.n_items:
            raise ValueError(f"{name} returned item indices outside 0..{self.world.n_items - 1}.")
        ordered = np.sort(items, axis=1)
        if (ordered[:, 1:] == ordered[:, :-1]).any():
            raise ValueError(
                f"{name} showed an item twice in one slate; slates need k distinct items."
            )
        unreleased = ~self.available_items(day)[items]
        if unreleased.any():
            item = int(items[unreleased][0])
            raise ValueError(
                f"{name} showed item {item}, released on {self._release[item]}, on "
                f"{self.date(day).date()}; only released items can be shown "
                "(use DayContext.available in a begin_day hook)."
            )
        if propensity is None:
            propensity = np.full(items.shape, np.nan)
        elif propensity.shape != items.shape or not ((propensity > 0) & (propensity <= 1)).all():
            raise ValueError(
                f"{name} propensities must have the slate's shape {items.shape} and lie in (0, 1]."
            )
        return items.astype(np.int64), propensity

    def _react(self, frames, day, arm_names) -> pd.DataFrame:
        """One call to the world's click and watch-time models for all of the day's slates."""
        if not frames:
            return _empty_log(arm_names is not None)
        arm = np.concatenate([np.full(len(f[1]), f[0]) for f in frames])
        users = np.concatenate([f[1] for f in frames])
        items = np.concatenate([f[2] for f in frames])
        propensity = np.concatenate([f[3] for f in frames])
        second_look = np.concatenate([f[4] for f in frames])
        world_seed = _int_seed(self.seed, _REACTIONS, day)
        clicked = self.world.simulate_clicks(users, items, seed=world_seed)
        minutes = self.world.simulate_watch_time(users, items, seed=world_seed)
        probability = self.world.click_probability(users, items)
        if (second_look > 0).any():
            looks_again = np.random.default_rng([self.seed, _SECOND_LOOK, day]).random(len(users))
            looks_again = looks_again < second_look
            again_seed = _int_seed(self.seed, _SECOND_LOOK, day)
            again = self.world.simulate_clicks(users, items, seed=again_seed)
            again_minutes = self.world.simulate_watch_time(users, items, seed=again_seed)
            extra = looks_again[:, None] & again & ~clicked
            clicked = clicked | extra
            minutes = np.where(extra, again_minutes, minutes)
            probability = probability + second_look[:, None] * probability * (1 - probability)
        n, k = items.shape
        columns = {
            "day": np.full(n * k, day, dtype=np.int64),
            "user": np.repeat(users, k),
            "position": np.tile(np.arange(1, k + 1), n),
            "item": items.ravel(),
            "propensity": propensity.ravel(),
            "clicked": clicked.ravel(),
            "watch_seconds": np.where(clicked, minutes * _SECONDS_PER_MINUTE, 0.0).ravel(),
            "click_probability": probability.ravel(),
        }
        if arm_names is not None:
            columns["arm"] = pd.Categorical.from_codes(np.repeat(arm, k), categories=arm_names)
        return pd.DataFrame(columns)

    def _record(self, day_log: pd.DataFrame) -> None:
        self._logs.append(day_log)
        self._log_cache = None
        watched = day_log[day_log["clicked"].to_numpy()]
        self._watched_users.append(watched["user"].to_numpy())
        self._watched_items.append(watched["item"].to_numpy())


# --------------------------------------------------------------------------------------
# Policies
# --------------------------------------------------------------------------------------


class RandomPolicy:
    """Uniformly random slates of released items; reports its propensities.

    Every released item is equally likely at every position:
    ``P(item i at position r) = 1 / n_available``, the propensity logged for off-policy
    estimates (lesson 09).
    """

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self._available = None

    def begin_day(self, context: DayContext) -> None:
        self._available = np.flatnonzero(context.available)

    def recommend(self, users, k: int):
        if self._available is None:
            raise ValueError(
                "RandomPolicy needs begin_day(context) first; run it in an OnlineEnvironment."
            )
        n_available = len(self._available)
        if k > n_available:
            raise ValueError(f"only {n_available} items are released; cannot fill {k} slots.")
        keys = self._rng.random((len(users), n_available))
        slots = np.argpartition(keys, k - 1, axis=1)[:, :k]
        items = self._available[slots]
        return items, np.full(items.shape, 1.0 / n_available)

    def __repr__(self) -> str:
        return f"RandomPolicy(seed={self.seed})"


class PopularityPolicy:
    """The most-watched released items so far, minus what each user already watched.

    Popularity counts the watch history of the :class:`DayContext` (pre-period plus logged
    clicks); ties go to the lower item index. Deterministic, so it reports no propensities.
    """

    def __init__(self, exclude_seen: bool = True) -> None:
        self.exclude_seen = exclude_seen
        self._context = None

    def begin_day(self, context: DayContext) -> None:
        self._context = context
        counts = np.asarray(context.history.sum(axis=0)).ravel().astype(np.float64)
        self._counts = np.where(context.available, counts, -np.inf)

    def recommend(self, users, k: int):
        if self._context is None:
            raise ValueError(
                "PopularityPolicy needs begin_day(context) first; run it in an OnlineEnvironment."
            )
        scores = np.tile(self._counts, (len(users), 1))
        if self.exclude_seen:
            rows, cols = self._context.history[users].nonzero()
            scores[rows, cols] = -np.inf
        return top_k_indices(scores, k)

    def __repr__(self) -> str:
        return f"PopularityPolicy(exclude_seen={self.exclude_seen})"


class ModelPolicy:
    """Serve a course :class:`~recsys_lessons.models.base.Recommender` online.

    The model is fitted on the watch history known before the day (binary: 1.0 per watched
    title, pre-period interactions included) and refitted every ``retrain_every`` days; it
    recommends released items the user has not watched yet (as of that morning).

    Parameters
    ----------
    model : Recommender
        Any course model (unfitted; this policy fits it).
    retrain_every : int
        Days between refits (1: every morning).
    exclude_seen : bool
        Remove items the user already watched.
    """

    def __init__(self, model, retrain_every: int = 1, exclude_seen: bool = True) -> None:
        if not isinstance(model, Recommender):
            raise ValueError(
                f"ModelPolicy wraps a course Recommender; got {type(model).__name__}. "
                "Pass a function f(users, k) to the environment directly instead."
            )
        if not isinstance(retrain_every, Integral) or retrain_every < 1:
            raise ValueError(f"retrain_every must be a positive integer; got {retrain_every!r}.")
        self.model = model
        self.retrain_every = int(retrain_every)
        self.exclude_seen = exclude_seen
        self._context = None
        self._fitted_on_day = None
        self.n_fits = 0

    def begin_day(self, context: DayContext) -> None:
        self._context = context
        if self._fitted_on_day is None or context.day - self._fitted_on_day >= self.retrain_every:
            if context.history.nnz == 0:
                raise ValueError(
                    "ModelPolicy has no watch history to learn from on the first day; give the "
                    "environment pre-period interactions (OnlineEnvironment.from_dataset) or "
                    "run another policy first."
                )
            self.model.fit(context.history)
            self._fitted_on_day = context.day
            self.n_fits += 1

    def recommend(self, users, k: int):
        if self._context is None:
            raise ValueError(
                "ModelPolicy needs begin_day(context) first; run it in an OnlineEnvironment."
            )
        scores = np.array(self.model.score(users), dtype=np.float64)  # own, writable copy
        scores[:, ~self._context.available] = -np.inf
        if self.exclude_seen:
            rows, cols = self._context.history[users].nonzero()
            scores[rows, cols] = -np.inf
        return top_k_indices(scores, k)

    def __repr__(self) -> str:
        return f"ModelPolicy({self.model!r}, retrain_every={self.retrain_every})"


class ShadowPolicy:
    """Serve ``production``; run ``candidate`` on the same requests without showing it.

    For each request the candidate's list, its latency and any error are recorded in
    :attr:`shadow_log` (``day``, ``user``, ``overlap`` = shared items / k, ``latency_ms``
    of the candidate's call for the day's batch of requests, ``error``: "" or the
    exception of that user's request), and :attr:`candidate_items` keeps its lists. Nobody sees the
    candidate's items, so shadow mode measures agreement, speed and robustness, never
    clicks (lesson 09 estimates those off-policy).
    """

    def __init__(self, production, candidate) -> None:
        self.production = as_policy(production)
        self.candidate = as_policy(candidate)
        self._day = None
        self._rows: list[pd.DataFrame] = []
        self.candidate_items: list[np.ndarray] = []

    def begin_day(self, context: DayContext) -> None:
        self._day = context.day
        for policy in (self.production, self.candidate):
            if hasattr(policy, "begin_day"):
                policy.begin_day(context)

    def update(self, log: pd.DataFrame, day: int) -> None:
        for policy in (self.production, self.candidate):
            if hasattr(policy, "update"):
                policy.update(log, day)

    def recommend(self, users, k: int):
        shown = call_policy(self.production, users, k)
        items = shown[0] if isinstance(shown, tuple) else shown
        begin = time.perf_counter()
        candidate, error = self._candidate_lists(users, k)
        latency = (time.perf_counter() - begin) * 1000.0
        overlap = (np.asarray(items)[:, :, None] == candidate[:, None, :]).any(axis=2).mean(axis=1)
        self.candidate_items.append(candidate)
        self._rows.append(
            pd.DataFrame(
                {
                    "day": self._day,
                    "user": users,
                    "overlap": overlap,
                    "latency_ms": latency,
                    "error": error,
                }
            )
        )
        return shown

    def _candidate_lists(self, users, k):
        """The candidate's lists and an error message per user ("" when it answered).

        One call for the whole batch; if it fails, one call per user, so a bug that hits
        some users is logged for those users only.
        """
        try:
            return self._ask_candidate(users, k), np.full(len(users), "", dtype=object)
        except Exception:  # shadow mode exists to catch failures without harming users
            lists = np.full((len(users), k), -1)
            errors = np.full(len(users), "", dtype=object)
            for row in range(len(users)):
                try:
                    lists[row] = self._ask_candidate(users[row : row + 1], k)[0]
                except Exception as exc:
                    errors[row] = f"{type(exc).__name__}: {exc}"
            return lists, errors

    def _ask_candidate(self, users, k):
        answer = call_policy(self.candidate, users, k)
        lists = np.asarray(answer[0] if isinstance(answer, tuple) else answer)
        if lists.shape != (len(users), k):
            raise ValueError(f"candidate returned shape {lists.shape}, expected {(len(users), k)}")
        return lists

    @property
    def shadow_log(self) -> pd.DataFrame:
        if not self._rows:
            return pd.DataFrame(columns=["day", "user", "overlap", "latency_ms", "error"])
        return pd.concat(self._rows, ignore_index=True)


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def as_policy(policy):
    """A policy object for ``policy``: a Recommender is wrapped in :class:`ModelPolicy`;
    objects with ``recommend`` and plain functions ``f(users, k)`` are kept as they are."""
    if isinstance(policy, Recommender):
        return ModelPolicy(policy)
    if hasattr(policy, "recommend") or callable(policy):
        return policy
    raise ValueError(
        f"a policy needs a recommend(users, k) method or must be a function f(users, k); "
        f"got {type(policy).__name__}."
    )


def call_policy(policy, users, k):
    """``policy.recommend(users, k)``, or ``policy(users, k)`` for a function."""
    if hasattr(policy, "recommend"):
        return policy.recommend(users, k)
    return policy(users, k)


def _as_arms(policy) -> dict:
    if isinstance(policy, dict):
        if not policy:
            raise ValueError("the dict of arms is empty; pass {'A': policy_a, 'B': policy_b}.")
        return {str(name): as_policy(p) for name, p in policy.items()}
    return {"policy": as_policy(policy)}


def _check_novelty(novelty):
    values = novelty.values() if isinstance(novelty, dict) else [novelty]
    for value in values:
        if not isinstance(value, Real) or not 0.0 <= value <= 1.0:
            raise ValueError(
                f"novelty strengths are probabilities of a second look, in [0, 1]; got {value!r}."
            )
    return (
        {str(a): float(v) for a, v in novelty.items()}
        if isinstance(novelty, dict)
        else float(novelty)
    )


def _check_weekly(pattern) -> np.ndarray:
    if pattern is None:
        return np.ones(7)
    pattern = np.asarray(pattern, dtype=np.float64)
    if pattern.shape != (7,) or (pattern < 0).any():
        raise ValueError(
            f"weekly_pattern needs 7 non-negative multipliers (Monday..Sunday); got {pattern}."
        )
    return pattern


def _check_signup(signup_date, n_users):
    if signup_date is None:
        return None
    signup = np.asarray(signup_date).astype("datetime64[D]")
    if signup.shape != (n_users,):
        raise ValueError(
            f"signup_date needs one date per world user ({n_users}); got shape {signup.shape}."
        )
    return signup


def _int_seed(*entropy) -> int:
    """A plain int seed for the world's methods, derived from several integers."""
    return int(np.random.SeedSequence(list(entropy)).generate_state(1)[0])


def _empty_log(with_arm: bool = False) -> pd.DataFrame:
    dtypes = {
        "day": np.int64,
        "user": np.int64,
        "position": np.int64,
        "item": np.int64,
        "propensity": np.float64,
        "clicked": bool,
        "watch_seconds": np.float64,
        "click_probability": np.float64,
    }
    frame = pd.DataFrame({c: pd.Series(dtype=t) for c, t in dtypes.items()})
    if with_arm:
        frame["arm"] = pd.Categorical([])
    return frame
