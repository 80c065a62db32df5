"""Feedback loops: a recommender retrained on its own logs, and two ways to loosen the loop.

A model learns from what users watched; users watch what the model showed. Retrained day
after day on its own logs, a recommender can drift towards fewer, more popular items and
towards giving everybody the same list (Chaney, Stewart & Engelhardt, "How Algorithmic
Confounding in Recommendation Systems Increases Homogeneity and Decreases Utility",
RecSys 2018). On the :class:`~recsys_lessons.online.environment.OnlineEnvironment` we know every
user's true taste, so :func:`loop_metrics` can measure per day:

- ``gini``: Gini index of the day's exposure over the released catalogue;
- ``homogenization``: mean overlap of two different users' slates
  (:func:`recsys_lessons.responsible.audit.homogenization`);
- ``expected_clicks``: the world's expected clicks per visit (sum of true click
  probabilities of the slate), per user segment, and ``regret``: the expected clicks of the
  ideal slate (each visitor's ``k`` unwatched items of highest true affinity) minus those.

:func:`first_and_last_days` averages a metric over the first and the last days of a loop, so
that its drift can be compared with a control that serves the same model *trained once* and
never refitted (``ModelPolicy(model, retrain_every=n_days)``): only the difference between
the two drifts is due to retraining.

Two policies loosen the loop: lesson 10's :class:`recsys_lessons.explore.ExploringPolicy`
(exploration: epsilon-greedy random swaps of unwatched items) and :class:`CalibratedPolicy`
(Steck's calibrated re-ranking, :func:`recsys_lessons.responsible.mitigate.calibrated_rerank`). Lesson 11
(``notebooks/11_responsible_personalization.ipynb``) compares the three over 30+ days.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys_lessons.metrics import gini_index
from recsys_lessons.online.policies import ModelPolicy, PolicyWrapper
from recsys_lessons.online.policy import Slate
from recsys_lessons.responsible.audit import homogenization
from recsys_lessons.responsible.mitigate import calibrated_rerank
from recsys_lessons.top_k import top_k_indices
from recsys_lessons.validation import (
    check_columns,
    check_count,
    check_positive_int,
    check_probability,
)

__all__ = ["CalibratedPolicy", "first_and_last_days", "loop_metrics"]


class CalibratedPolicy(PolicyWrapper):
    """A course model served online with Steck's calibrated re-ranking of its candidates.

    Wraps a :class:`~recsys_lessons.online.policies.ModelPolicy` (a clone of the model,
    fitted on the watch history before each day, refitted every ``retrain_every`` days);
    each visitor's ``n_candidates`` best unwatched released items are re-ranked by
    :func:`~recsys_lessons.responsible.mitigate.calibrated_rerank` towards the genre mix of
    their history. Visitors without history get the model's plain ranking. Deterministic:
    every propensity is 1.

    Parameters
    ----------
    model : Recommender
    item_genres : array-like, shape ``(n_items, n_genres)``
        Genre indicator (or weight) of every world item.
    lambda_ : float in [0, 1]
        Trade-off of :func:`~recsys_lessons.responsible.mitigate.calibrated_rerank`
        (0: the model's ranking).
    n_candidates : int
        Candidates re-ranked per user (at least the slate length ``k``).
    retrain_every : int
        Days between refits.
    """

    def __init__(
        self,
        model,
        item_genres,
        lambda_: float = 0.5,
        n_candidates: int = 100,
        retrain_every: int = 1,
    ) -> None:
        super().__init__(ModelPolicy(model, retrain_every=retrain_every))
        self.inner = self.policies[0]
        self.item_genres = item_genres
        self.lambda_ = check_probability(lambda_, "lambda_", meaning="0 keeps the model's ranking")
        self.n_candidates = check_positive_int(n_candidates, "n_candidates", "items re-ranked")

    def make_slate(self, users, k):
        scores = self.inner.masked_scores(users)
        candidates = top_k_indices(scores, max(k, min(self.n_candidates, scores.shape[1])))
        items = candidates[:, :k].copy()
        history = self.current_context().history[users]
        has_history = history.getnnz(axis=1) > 0
        if has_history.any():
            items[has_history] = calibrated_rerank(
                candidates[has_history],
                np.take_along_axis(scores, candidates, axis=1)[has_history],
                history[has_history],
                self.item_genres,
                self.lambda_,
                k=k,
            )
        return Slate(items)

    def __repr__(self) -> str:
        return f"CalibratedPolicy({self.inner.model!r}, lambda_={self.lambda_})"


def loop_metrics(log: pd.DataFrame, world, user_groups, pre_period=None) -> pd.DataFrame:
    """Per-day concentration, homogenization and true utility of an impression log.

    Parameters
    ----------
    log : pandas.DataFrame
        An :class:`~recsys_lessons.online.environment.OnlineEnvironment` log (one policy).
    world : SimulatedWorld
        The ground truth.
    user_groups : array-like, shape (world.n_users,)
        A label per world user (e.g. the segment); utility is reported per label.
    pre_period : scipy.sparse matrix (n_users, n_items), optional
        What users had watched before day 0, excluded from the ideal slate together with
        everything clicked in the log before each day.

    Returns
    -------
    pandas.DataFrame
        One row per (day, group): ``day, group, visits, expected_clicks, ideal_clicks,
        regret`` plus the day's ``gini`` and ``homogenization`` (the same on every row of a
        day).

    Raises
    ------
    ValueError
        If ``log`` lacks a column, holds several arms of an A/B test (pass one arm), or
        ``user_groups`` does not label every world user.
    """
    labels = np.asarray(user_groups)
    if labels.shape != (world.n_users,):
        raise ValueError(f"user_groups needs one label per world user ({world.n_users}).")
    check_columns(
        log,
        ("day", "user", "position", "item", "click_probability", "clicked"),
        "log",
        "pass the log of OnlineEnvironment.run",
    )
    if "arm" in log.columns and log["arm"].nunique() > 1:
        arms = sorted(map(str, log["arm"].unique()))
        raise ValueError(
            f"log holds the arms {arms} of an A/B test; their slates would be mixed into one "
            f"day. Measure one arm at a time: loop_metrics(log[log['arm'] == {arms[0]!r}], ...)."
        )
    watched = (
        sp.csr_matrix(pre_period, dtype=np.float64)
        if pre_period is not None
        else sp.csr_matrix((world.n_users, world.n_items))
    )
    rows = []
    for day, day_log in log.groupby("day", sort=True):
        ordered = day_log.sort_values(["user", "position"])
        k = int(ordered["position"].max())
        slates = ordered["item"].to_numpy().reshape(-1, k)
        users = ordered["user"].to_numpy()[::k]
        expected = ordered["click_probability"].to_numpy().reshape(-1, k).sum(axis=1)
        ideal_items, _ = world.ideal_top_k(users, k=k, exclude=watched)
        ideal = world.click_probability(users, ideal_items).sum(axis=1)
        gini = gini_index(slates, world.n_items, k=k)
        homogeneity = homogenization(slates, k=k) if len(users) > 1 else np.nan
        frame = pd.DataFrame({"group": labels[users], "expected": expected, "ideal": ideal})
        for group, part in frame.groupby("group", sort=True):
            rows.append(
                (
                    day,
                    group,
                    len(part),
                    part["expected"].mean(),
                    part["ideal"].mean(),
                    gini,
                    homogeneity,
                )
            )
        clicked = day_log[day_log["clicked"].to_numpy()]
        watched = watched + sp.csr_matrix(
            (np.ones(len(clicked)), (clicked["user"], clicked["item"])), shape=watched.shape
        )
    table = pd.DataFrame(
        rows,
        columns=[
            "day",
            "group",
            "visits",
            "expected_clicks",
            "ideal_clicks",
            "gini",
            "homogenization",
        ],
    )
    table["regret"] = table["ideal_clicks"] - table["expected_clicks"]
    return table


def first_and_last_days(
    table: pd.DataFrame, column: str, n_days: int = 5, group=None
) -> tuple[float, float]:
    """Mean of a :func:`loop_metrics` column over the first and the last ``n_days`` days.

    Each day's value is the visit-weighted mean over the rows of that day (all groups, or
    only ``group``): ``m_d = sum_g visits_dg * x_dg / sum_g visits_dg``, which for a per-day
    metric such as ``gini`` is that day's value. Then ``first = mean of m_d`` over the first
    ``n_days`` days and ``last`` over the last ``n_days``. ``last - first`` is the metric's
    drift over the loop (the drifts Chaney, Stewart & Engelhardt, RecSys 2018, study in
    simulation); only the part of it beyond a never-retrained control's drift,
    ``(last - first) - (last_control - first_control)``, can be blamed on retraining.

    Parameters
    ----------
    table : pandas.DataFrame
        The output of :func:`loop_metrics`.
    column : str
        A numeric column (``gini``, ``homogenization``, ``expected_clicks``, ``regret``...).
    n_days : int
        Days per window; the two windows must not overlap.
    group : label, optional
        Only this group's rows (e.g. the minority segment).

    Returns
    -------
    tuple of float
        ``(first, last)``.
    """
    n_days = check_count(n_days, "n_days")
    missing = {"day", "group", "visits", column} - set(table.columns)
    if missing:
        raise ValueError(f"table lacks columns {sorted(missing)}; pass the output of loop_metrics.")
    if group is not None:
        if group not in set(table["group"]):
            raise ValueError(
                f"group {group!r} is not in the table; its groups: {sorted(set(table['group']))}."
            )
        table = table[table["group"] == group]
    weighted = table[column] * table["visits"]
    daily = weighted.groupby(table["day"]).sum() / table["visits"].groupby(table["day"]).sum()
    if 2 * n_days > len(daily):
        raise ValueError(
            f"the loop has {len(daily)} days, too few for two windows of n_days={n_days}; "
            "lower n_days."
        )
    return float(daily.iloc[:n_days].mean()), float(daily.iloc[-n_days:].mean())
