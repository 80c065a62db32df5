"""A live audience for recommenders: simulated users who return day after day and react.

Offline metrics replay old logs; an online experiment shows lists to people and watches
what they do. :class:`OnlineEnvironment` gives every lesson such an audience on top of the
simulated catalogue's :class:`~recsys_lessons.data.world.SimulatedWorld`, whose true tastes
we know, so every statistical claim can be checked against the truth. Lesson 09
(``notebooks/09_online_experiments.ipynb``) runs A/B tests, interleaving and shadow mode
on it; lessons 10 (exploration) and 11 (feedback loops, bias audits) reuse it.

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
Every policy follows the protocol of :mod:`recsys_lessons.online.policy`: ``recommend(users,
k)`` returns a :class:`~recsys_lessons.online.policy.Slate` of world item indices (and,
when the policy knows them, propensities: the log's ``propensity`` column, ``NaN``
otherwise), and the environment calls its hooks:

- ``begin_day(context)`` before a day's requests, with a
  :class:`~recsys_lessons.online.policy.DayContext` (day, date, which items are released,
  the watch history so far as a CSR matrix);
- ``update(log, day)`` after a day, with the impression log of days ``<= day``.

A course :class:`~recsys_lessons.models.base.Recommender` or a plain function
``f(users, k) -> items`` is accepted too, through
:func:`~recsys_lessons.online.policies.as_policy` (:class:`~recsys_lessons.online.policies.ModelPolicy`,
:class:`~recsys_lessons.online.policies.FunctionPolicy`); any other object with a
``recommend`` method (a retriever whose answer is ``(items, scores)``) is refused: wrap it
in :class:`~recsys_lessons.online.policies.RankingPolicy`.

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

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys_lessons.online.policies import as_policy
from recsys_lessons.online.policy import DayContext
from recsys_lessons.validation import (
    check_date,
    check_finite_array,
    check_k,
    check_non_negative_int,
    check_number,
    check_positive_int,
    check_probability,
    check_ratio,
    check_seed,
)

__all__ = ["LOG_COLUMNS", "WEEKEND_PEAK", "OnlineEnvironment"]

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

    Raises
    ------
    ValueError
        For a world without ground truth, a bad seed or ``k``, an unparseable ``start`` or
        ``signup_date``, a ``history`` without datetime timestamps, a ``weekly_pattern``
        that is not 7 finite multipliers >= 0, and rates or strengths out of range.

    Attributes
    ----------
    return_rates : ndarray, shape ``(n_users,)``
        Each user's daily return rate ``r_u``.
    day : int
        The next day to simulate; :meth:`run` continues from there.
    log : pandas.DataFrame
        Every impression simulated so far, over all runs.

    Examples
    --------
    >>> from recsys_lessons.data import generate_catalogue
    >>> from recsys_lessons.online import RandomPolicy
    >>> world = generate_catalogue(seed=0, n_users=50, n_items=40, n_interactions=500).world
    >>> env = OnlineEnvironment(world, seed=1, k=3)
    >>> log = env.run(RandomPolicy(seed=0), n_days=2)
    >>> list(log.columns)
    ['day', 'user', 'position', 'item', 'propensity', 'clicked', 'watch_seconds', 'click_probability']
    >>> log.groupby(["day", "user"])["item"].nunique().unique().tolist()  # k distinct items a visit
    [3]
    >>> float(log["propensity"].iloc[0])  # uniform over the 40 titles: 1 / 40
    0.025
    >>> env.day, env.run(RandomPolicy(seed=0), n_days=1)["day"].unique().tolist()  # runs continue
    (2, [2])
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
        seed = check_seed(seed)
        k = check_k(k, world.n_items)
        check_ratio(return_rate, "return_rate")
        check_number(return_concentration, "return_concentration", low=0, low_open=True)
        check_number(novelty_half_life, "novelty_half_life", low=0, low_open=True)
        self.world = world
        self.seed = seed
        self.k = k
        self.novelty = _check_novelty(novelty)
        self.novelty_half_life = float(novelty_half_life)
        release = np.asarray(world.release_date).astype("datetime64[D]")
        self.start = (
            pd.Timestamp(release.max()) + pd.Timedelta(days=1)
            if start is None
            else check_date(start, "start").normalize()
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
        """Calendar date of ``day`` (day 0 is ``start``; ``day`` a whole number >= 0)."""
        day = check_non_negative_int(day, "day", "days since start")
        return self.start + pd.Timedelta(days=day)

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
        day = check_non_negative_int(day, "day", "days since start")
        rng = np.random.default_rng([self.seed, _VISITS, day])
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
        policy : Policy, Recommender, function, or dict of them
            Converted by :func:`~recsys_lessons.online.policies.as_policy`. A dict ``{arm name: policy}`` runs an A/B test: each user is assigned to one arm
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
        n_days = check_positive_int(n_days, "n_days", "days to simulate")
        arms = _as_arms(policy)
        names = list(arms)
        assignment = self.assign(len(names), allocation, assignment_seed)
        strength = self._novelty_by_arm(names, isinstance(policy, dict))
        first_day = np.full(self.world.n_users, -1)
        unique = list({id(p): p for p in arms.values()}.values())
        run_logs = []
        for day in range(self.day, self.day + n_days):
            context = DayContext(
                day, self.date(day), self.available_items(day), self.history_matrix()
            )
            for p in unique:
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
            log = self.log
            for p in unique:
                p.update(log, day)
        self.day += n_days
        return pd.concat(run_logs, ignore_index=True)

    def assign(self, n_arms: int, allocation=None, assignment_seed=None) -> np.ndarray:
        """Arm index of every user: a random draw with the given shares, fixed for a seed.

        Raises
        ------
        ValueError
            When ``n_arms`` is not a positive whole number, ``allocation`` does not hold
            ``n_arms`` positive shares summing to 1 (an arm with share 0 would get no users,
            and an A/B test would compare nothing), or ``assignment_seed`` is not a seed.
        """
        n_arms = check_positive_int(n_arms, "n_arms", "arms to assign users to")
        shares = (
            np.full(n_arms, 1.0 / n_arms)
            if allocation is None
            else check_finite_array(allocation, "allocation", meaning="a share of users per arm")
        )
        if shares.shape != (n_arms,) or (shares < 0).any() or not np.isclose(shares.sum(), 1):
            raise ValueError(
                f"allocation must hold {n_arms} non-negative shares summing to 1; got {allocation}."
            )
        if n_arms > 1 and (shares == 0).any():
            empty = int(np.flatnonzero(shares == 0)[0])
            raise ValueError(
                f"allocation gives arm {empty} a share of 0, so it would get no users and the "
                f"A/B test would compare nothing; give every arm a positive share ({allocation}) "
                "or run the other policies without it."
            )
        seed = (
            self.seed if assignment_seed is None else check_seed(assignment_seed, "assignment_seed")
        )
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
        if not pd.api.types.is_datetime64_any_dtype(history["timestamp"]):
            raise ValueError(
                f"history's timestamp column must hold dates (datetime64), not "
                f"{history['timestamp'].dtype}; convert it with pandas.to_datetime first."
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
        """The policy's slate for ``users``: checked item indices and logged propensities."""
        slate = policy.recommend(users, self.k)
        items = slate.items
        name = type(policy).__name__
        if items.max() >= self.world.n_items:
            raise ValueError(f"{name} returned item indices outside 0..{self.world.n_items - 1}.")
        unreleased = ~self.available_items(day)[items]
        if unreleased.any():
            item = int(items[unreleased][0])
            raise ValueError(
                f"{name} showed item {item}, released on {self._release[item]}, on "
                f"{self.date(day).date()}; only released items can be shown "
                "(use DayContext.available in a begin_day hook)."
            )
        return items, slate.logged_propensities()

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
# Helpers
# --------------------------------------------------------------------------------------


def _as_arms(policy) -> dict:
    if isinstance(policy, dict):
        if not policy:
            raise ValueError("the dict of arms is empty; pass {'A': policy_a, 'B': policy_b}.")
        return {str(name): as_policy(p) for name, p in policy.items()}
    return {"policy": as_policy(policy)}


def _check_novelty(novelty):
    """A strength (or a dict of strengths by arm) of the novelty effect, each in [0, 1]."""
    meaning = "the probability of a second look"
    if isinstance(novelty, dict):
        return {
            str(a): check_probability(v, "novelty", meaning=meaning) for a, v in novelty.items()
        }
    return check_probability(novelty, "novelty", meaning=meaning)


def _check_weekly(pattern) -> np.ndarray:
    if pattern is None:
        return np.ones(7)
    pattern = check_finite_array(pattern, "weekly_pattern", meaning="multipliers of return rates")
    if pattern.shape != (7,) or (pattern < 0).any():
        raise ValueError(
            f"weekly_pattern needs 7 non-negative multipliers (Monday..Sunday); got {pattern}."
        )
    return pattern


def _check_signup(signup_date, n_users):
    if signup_date is None:
        return None
    try:
        signup = np.asarray(signup_date).astype("datetime64[D]")
    except (TypeError, ValueError):
        raise ValueError(
            "signup_date could not be read as dates; pass one datetime64 (or 'YYYY-MM-DD') per "
            "world user."
        ) from None
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
