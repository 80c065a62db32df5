"""The decision brief's content: what a product team reads before any table.

:func:`build_brief` gathers, next to the verdict of :mod:`recsys_lessons.pilot.decision`:

- **the lift** of the leading row over popularity in plain terms: relative nDCG@k and
  relative hit rate (the share of users with at least one hit in their top k), each with a
  95% paired bootstrap interval over users
  (:func:`~recsys_lessons.evaluation.stats.paired_ratio_interval`), and both hit rates;
- **who was scored**: the test users, and who was not (new users without training
  history, users without test events, users dropped below ``--min-user-count``);
- **caveats**: rows skipped, grids cut by the budget, a run under ``--time-limit`` (what it
  cut), a hybrid that is one row alone, few scored users, much of the catalogue dropped by
  ``--min-item-count``;
- **example recommendations** for a heavy, a median and a light test user (by training
  history): their latest items and the top-k of the chosen row and of the runner-up;
- **segments**: the lift by activity tertile, and popularity on new users, with intervals;
- **the audit's per-group gaps** with their intervals (lesson 11);
- **next steps** from lesson 12's production checklist, and a plain-language
  :data:`GLOSSARY`.

Everything returned is JSON-ready (it is ``results["brief"]``); :mod:`~recsys_lessons.pilot.report`
renders it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recsys_lessons import metrics
from recsys_lessons.evaluation.stats import (
    bootstrap_interval,
    paired_bootstrap_interval,
    paired_ratio_interval,
)
from recsys_lessons.pilot.decision import interval_dict, label
from recsys_lessons.pilot.protocol import MIN_TEST_USERS

#: Bootstrap resamples of every interval of the brief (as ``bootstrap_interval``'s default).
RESAMPLES = 2000
#: Latest training items shown per example user.
LAST_ITEMS = 5
#: A caveat is raised when at least this share of the log's items is dropped by the minimum count.
CATALOGUE_CAVEAT_SHARE = 0.25

GLOSSARY = {
    "nDCG@k": "how high the items a user really chose next appear in their top-k list: 1 when "
    "they fill the first places, 0 when none is in the list; a miss at place 1 costs more "
    "than one at place 10. The mean over test users.",
    "recall@k": "the share of a user's held-out items that appear in their top-k list.",
    "hit rate": "the share of users with at least one held-out item in their top-k list: "
    "how many users the list would have served at least once.",
    "lift": "how much better a row is than the popularity shelf, relative to the shelf: "
    "+25% means a quarter more.",
    "95% interval": "the range the figure would plausibly take on another set of users like "
    "these (a bootstrap over users): the narrower, the surer.",
    "paired difference": "the difference between two rows scored on the same users, user by "
    "user; pairing removes what both rows share, so it is sharper than comparing two "
    "intervals.",
    "margin": "the smallest nDCG difference that matters to the product, fixed before the run "
    "(--margin). A lead counts only when its whole interval lies beyond it; two rows are "
    "equivalent only when the interval of their difference lies inside it.",
    "detectable difference": "the smallest true difference this comparison would have found "
    "with 80% chance; an interval that includes 0 says nothing about smaller ones.",
    "inconclusive": "the interval reaches across the margin: the data cannot tell whether the "
    "difference matters. Not a tie, and not 'just as good'.",
}


def lift(decision: dict, per_user: dict, k: int, seed: int = 0) -> dict | None:
    """The leading row's lift over the baseline in nDCG@k and hit rate, with 95% intervals.

    Absolute values: :func:`~recsys_lessons.evaluation.stats.bootstrap_interval` of each
    row's per-user values. Relative lift ``mean(row) / mean(baseline) - 1``:
    :func:`~recsys_lessons.evaluation.stats.paired_ratio_interval` (users resampled with
    both rows' values together); ``None`` when the baseline's mean is 0 (undefined), an
    infinite bound (resamples where the baseline scored 0) as ``None`` (unbounded).
    ``None`` when no personalized row was compared.
    """
    leader, baseline = decision["leader"], decision["baseline"]
    if leader is None:
        return None
    result = {"model": leader, "baseline": baseline, "k": k}
    for metric in ("ndcg", "hit"):
        row = np.asarray(per_user[leader][metric], dtype=float)
        base = np.asarray(per_user[baseline][metric], dtype=float)
        result[metric] = {
            "model": interval_dict(bootstrap_interval(row, RESAMPLES, seed=seed)),
            "baseline": interval_dict(bootstrap_interval(base, RESAMPLES, seed=seed)),
            "relative": _relative_interval(row, base, seed),
        }
    result["sentence"] = _lift_sentence(result, decision["verdict"])
    return result


def population(protocol) -> dict:
    """Who was scored and who was not.

    Every user of the log is a row of the protocol's matrices. ``scored`` users have
    training history and test events; ``new`` users have no event before the test period
    (a cold start: no collaborative row can score them); ``below_min_user_count`` users had
    training events, all dropped by the minimum counts, counted on the training period
    (:func:`recsys_lessons.pilot.protocol.training_filter`, read from ``protocol.filters``);
    ``no_test_events`` users have history but nothing in the test period. Items dropped by
    ``--min-item-count`` are not in the catalogue: no row can ever recommend them.
    """
    history = np.diff(protocol.test.train.indptr) > 0
    tested = np.diff(protocol.test.test.indptr) > 0
    filters = getattr(protocol, "filters", None) or {}
    counts = filters.get("training_period")
    n_users = int(history.size)
    if counts is None:  # no minimum counts applied
        trained, kept_users, items_dropped = int(history.sum()), int(history.sum()), 0
    else:
        trained, kept_users = counts["before"]["users"], counts["after_users"]["users"]
        items_dropped = counts["before"]["items"] - counts["after_items"]["items"]
    below = trained - kept_users
    return {
        "log_users": n_users,
        "scored": int(protocol.test.users.size),
        "new": n_users - trained,
        "no_test_events": int((history & ~tested).sum()),
        "below_min_user_count": below,
        "min_user_count": filters.get("min_user_count") if below else None,
        "items": int(protocol.test.train.shape[1]),
        "items_dropped": items_dropped,
        "min_item_count": filters.get("min_item_count") if items_dropped else None,
        "split": protocol.name,
    }


def count(number: int, noun: str) -> str:
    """``"1 new user"``, ``"1,234 new users"``."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def users_sentence(users: dict) -> str:
    """Scored and unscored users in one sentence."""
    total = users["log_users"]
    not_scored = []
    if users["new"]:
        not_scored.append(
            f"{count(users['new'], 'new user')} (no history before their test events)"
        )
    if users["no_test_events"]:
        not_scored.append(
            f"{count(users['no_test_events'], 'user')} with no events in the test period"
        )
    if users["below_min_user_count"]:
        not_scored.append(
            f"{count(users['below_min_user_count'], 'user')} below the minimum of "
            f"{users['min_user_count']} training events (--min-user-count)"
        )
    text = f"{users['scored']:,} of {total:,} users scored ({users['split']} split)"
    return text + (f"; not scored: {', '.join(not_scored)}." if not_scored else ": every user.")


def caveats(results: dict, decision: dict, users: dict) -> list[str]:
    """Plain-language warnings about what limits this verdict."""
    lines = []
    skipped = [row["model"] for row in results["models"] if row["status"] == "skipped"]
    if skipped:
        lines.append(
            f"Not compared: {', '.join(map(label, skipped))} (reasons under Skipped models)."
        )
    cut = [row for row in results["models"] if row.get("budget_cut")]
    if cut:
        shown = ", ".join(
            f"{label(row['model'])} ({len(row['trials'])} of {row['grid_size']})" for row in cut
        )
        lines.append(
            f"The tuning budget cut the grid of {shown}: those parameters may not be the best."
        )
    plan = results.get("budget", {}).get("time")
    if plan is not None:
        cut = [d["row"] for d in plan["decisions"]]
        what = (
            f"it cut or skipped {', '.join(map(label, dict.fromkeys(cut)))}, so this verdict "
            "can differ on a faster or slower machine"
            if cut
            else "it cut nothing"
        )
        lines.append(f"The run was limited to {plan['limit_seconds']:g} s (--time-limit): {what}.")
    for row, name in decision["same_as"].items():
        lines.append(
            f"{label(row)} = {label(name)} alone: its tuned blend put all the weight on "
            f"{label(name)}."
        )
    if users["scored"] < MIN_TEST_USERS:
        lines.append(
            f"Only {users['scored']:,} users were scored: intervals are wide and small "
            "differences cannot be seen."
        )
    total_items = users["items"] + users["items_dropped"]
    if users["items_dropped"] >= CATALOGUE_CAVEAT_SHARE * total_items and users["items_dropped"]:
        lines.append(
            f"{users['items_dropped']:,} of {total_items:,} items "
            f"({users['items_dropped'] / total_items:.0%}) can never be recommended: they have "
            f"fewer than {users['min_item_count']} training events (--min-item-count)."
        )
    if users["new"]:
        lines.append(
            f"{count(users['new'], 'new user')} not scored; every collaborative row serves "
            "them the popularity shelf."
        )
    return lines


def examples(protocol, interactions: pd.DataFrame, items, lists: dict, decision: dict) -> list:
    """A heavy, a median and a light test user: latest items, and two rows' top-k lists.

    Test users are ordered by their number of training interactions (ties by user index):
    the light user is the first, the heavy user the last, the median user the one at
    position ``(n - 1) // 2``. Each list entry says whether the user really chose the item
    in the test period (a hit). Items are shown by title when the metadata has one.
    """
    users = protocol.test.users
    activity = protocol.test.train.getnnz(axis=1)[users]
    order = np.lexsort((users, activity))
    picks = {"heavy": order[-1], "median": order[(len(order) - 1) // 2], "light": order[0]}
    shown_models = [name for name in (decision["model"], decision["runner_up"]) if name]
    result, seen = [], set()
    for role, position in picks.items():
        if position in seen:
            continue
        seen.add(position)
        user = users[position]
        held_out = set(protocol.test.test[user].indices)
        result.append(
            {
                "role": role,
                "user_id": str(protocol.user_ids[user]),
                "history": int(activity[position]),
                "last_items": [
                    _item_label(item, items)
                    for item in _latest_items(protocol, interactions, user, LAST_ITEMS)
                ],
                "lists": {
                    name: [
                        {
                            "item": _item_label(protocol.item_ids[item], items),
                            "hit": bool(item in held_out),
                        }
                        for item in np.asarray(lists[name][position])
                        if item >= 0
                    ]
                    for name in shown_models
                },
            }
        )
    return result


def segments(protocol, per_user: dict, decision: dict, baseline_lists, k: int, seed: int = 0):
    """nDCG@k of the baseline and the leader by activity tertile, and on new users.

    Tertiles split the test users, ordered by training interactions (ties by user index),
    into three near-equal groups (light, medium, heavy); each row gives both means and
    the paired difference with its 95% bootstrap interval. New users (test
    events, no history) are scored by the baseline only (``baseline_lists``: its top-k for
    every user); collaborative rows fall back to it for them. ``[]`` with fewer than 6 test
    users (2 per tertile).
    """
    baseline, leader = decision["baseline"], decision["leader"]
    users = protocol.test.users
    if users.size < 6:
        return []
    activity = protocol.test.train.getnnz(axis=1)[users]
    order = np.lexsort((users, activity))
    rows = []
    for name, part in zip(("light", "medium", "heavy"), np.array_split(order, 3), strict=True):
        base = np.asarray(per_user[baseline]["ndcg"], dtype=float)[part]
        row = {
            "segment": f"{name} users (third by history)",
            "users": int(part.size),
            "history": [int(activity[part].min()), int(activity[part].max())],
            "baseline": float(base.mean()),
        }
        if leader is not None:
            ahead = np.asarray(per_user[leader]["ndcg"], dtype=float)[part]
            row["model"] = float(ahead.mean())
            row["difference"] = interval_dict(
                paired_bootstrap_interval(ahead, base, RESAMPLES, seed=seed)
            )
        rows.append(row)
    history = np.diff(protocol.test.train.indptr) > 0
    new = np.flatnonzero((np.diff(protocol.test.test.indptr) > 0) & ~history)
    if new.size >= 2 and baseline_lists is not None:
        values = metrics.ndcg_at_k(baseline_lists[new], protocol.test.test[new], k=k, per_user=True)
        rows.append(
            {
                "segment": "new users (no history: every row serves them popularity)",
                "users": int(new.size),
                "history": [0, 0],
                "baseline": float(values.mean()),
                "baseline_interval": interval_dict(
                    bootstrap_interval(values, RESAMPLES, seed=seed)
                ),
            }
        )
    return rows


def audit_gaps(audit: list[dict] | None) -> list[dict]:
    """The audit's nDCG by niche / diverse / blockbuster users and each group's gap to the
    best group, with 95% intervals (lesson 11's table, ``results["audit"]``)."""
    if not audit:
        return []
    frame = pd.DataFrame(audit)
    frame = frame[frame["grouping"] == "mainstream"]
    rows = []
    for (model, group), part in frame.groupby(["model", "group"], sort=False):
        records = {record["metric"]: record for record in part.to_dict("records")}
        gap = records.get("ndcg_gap")
        ndcg = next((record for name, record in records.items() if name.startswith("ndcg@")), None)
        rows.append(
            {
                "model": model,
                "group": group,
                "ndcg": None if ndcg is None else _record_interval(ndcg),
                "gap": None if gap is None else _record_interval(gap),
            }
        )
    return rows


def next_steps(decision: dict) -> list[str]:
    """The road to production from lesson 12's checklist, for this verdict."""
    chosen, baseline = label(decision["model"]), label(decision["baseline"])
    leader = None if decision["leader"] is None else label(decision["leader"])
    ab_test = decision["ab_test"]
    sized = (
        f"{ab_test['users_per_arm']:,} users per arm detect a difference of "
        f"{ab_test['effect']:g} in a per-user metric as spread as nDCG here (lesson 09's "
        "sample size, 5% two-sided, 80% power); compute it again on the online metric"
        if ab_test
        else "compute the sample size before starting (lesson 09)"
    )
    if decision["verdict"] == "ship":
        steps = [
            f"Shadow mode: run {chosen} next to the current shelf on live traffic without "
            "showing its lists; compare coverage, latency, failures and what it would have shown.",
            f"Interleaving: mix {chosen}'s and the current lists for a small share of users; it "
            "detects a preference with far fewer users than an A/B test.",
            f"A/B test: a pre-registered primary metric, guardrails (latency, complaints, "
            f"catalogue coverage) and a sample size fixed before starting: {sized}.",
        ]
    elif decision["verdict"] == "inconclusive":
        steps = [
            f"Keep {baseline} in production; the question is whether {leader}'s lead matters.",
            decision["settle"]["sentence"],
            f"Interleaving {leader} against {baseline} for a small share of users detects a "
            "preference with far fewer users than an A/B test.",
        ]
    else:
        steps = [
            f"Keep {baseline}: no personalized row earns its cost on this log.",
            "Re-run the pilot when the log has grown (intervals narrow as 1 / sqrt(users)) or "
            "with item metadata (--items) for the content-based and hybrid rows.",
        ]
    return steps + [
        "Monitoring: input drift (new items, new users, traffic mix), output drift (coverage, "
        "popularity of what is shown), latency and errors, with alerts.",
        "Audit cadence: re-run the audit (lesson 11) every month and after every model change; "
        "retrain on a schedule, with a one-click way back.",
    ]


def build_brief(
    results: dict,
    decision: dict,
    per_user: dict,
    lists: dict,
    protocol,
    interactions: pd.DataFrame,
    items: pd.DataFrame | None,
    baseline_lists: np.ndarray | None,
    seed: int = 0,
) -> dict:
    """Everything of the module docstring, as ``results["brief"]``."""
    k = results["settings"]["k"]
    users = population(protocol)
    return {
        "lift": lift(decision, per_user, k, seed),
        "users": users,
        "users_sentence": users_sentence(users),
        "caveats": caveats(results, decision, users),
        "examples": examples(protocol, interactions, items, lists, decision),
        "segments": segments(protocol, per_user, decision, baseline_lists, k, seed),
        "audit_gaps": audit_gaps(results["audit"]),
        "next_steps": next_steps(decision),
    }


def _relative_interval(row: np.ndarray, base: np.ndarray, seed: int) -> dict | None:
    if base.mean() == 0:
        return None
    interval = interval_dict(paired_ratio_interval(row, base, RESAMPLES, seed=seed))
    return {key: None if value == np.inf else value for key, value in interval.items()}


def _lift_sentence(lift_: dict, verdict: str) -> str:
    model, baseline, k = label(lift_["model"]), label(lift_["baseline"]), lift_["k"]
    ndcg, hit = lift_["ndcg"], lift_["hit"]
    if verdict == "ship":
        who, lifts, get = model, "lifts", "get"
    else:
        who, lifts, get = f"The leading row, {model},", "would lift", "would get"
    text = f"{who} {lifts} nDCG@{k} over {baseline} by " + (
        _percent(ndcg["relative"])
        if ndcg["relative"] is not None
        else f"an undefined share ({baseline} scored 0)"
    )
    text += (
        f"; {hit['model']['estimate']:.0%} of users {get} at least one hit in their top {k} "
        f"({_range(hit['model'])}), against {hit['baseline']['estimate']:.0%} with {baseline}"
    )
    if hit["relative"] is not None:
        text += f" ({_percent(hit['relative'])} relative)"
    return text + ". 95% intervals over users."


def _percent(interval: dict) -> str:
    low = "-∞" if interval["low"] is None else f"{interval['low']:+.0%}"
    high = "+∞" if interval["high"] is None else f"{interval['high']:+.0%}"
    return f"{interval['estimate']:+.0%} ({low} to {high})"


def _range(interval: dict) -> str:
    return f"{interval['low']:.0%} to {interval['high']:.0%}"


def _latest_items(protocol, interactions: pd.DataFrame, user: int, count: int) -> list:
    """The user's latest training items, most recent first (file order without timestamps)."""
    train_items = set(protocol.item_ids[protocol.test.train[user].indices])
    rows = interactions[interactions["user_id"] == protocol.user_ids[user]]
    rows = rows[rows["item_id"].isin(train_items)]
    if "timestamp" in rows:
        rows = rows.sort_values("timestamp", kind="stable")
    return rows["item_id"].tolist()[::-1][:count]


def _item_label(item_id, items: pd.DataFrame | None) -> str:
    """An item's title when the metadata has one, else its id."""
    if items is not None and "title" in items and item_id in items.index:
        title = items.at[item_id, "title"]
        if isinstance(title, str) and title.strip():
            return title.strip()
    return str(item_id)


def _record_interval(record: dict) -> dict:
    def number(value):
        return None if value is None or pd.isna(value) else float(value)

    return {
        "estimate": number(record["value"]),
        "low": number(record["low"]),
        "high": number(record["high"]),
        "confidence": 0.95,
    }
