"""The pilot's decision: ship a personalized row, keep the popularity shelf, or inconclusive.

A product team needs one verdict it can sign, how sure it is, and what would settle it
when the data cannot. The rule, stated in every report, reads each personalized row ``X``
against the popularity baseline through the 95% paired bootstrap interval ``[low, high]`` of
``mean over test users of (nDCG@k of X - nDCG@k of popularity)``
(:func:`~recsys_lessons.evaluation.stats.paired_bootstrap_interval`) and an **equivalence
margin** ``m`` fixed before the run (``--margin``, default :data:`DEFAULT_MARGIN` = 0.02
nDCG@k, the margin of lesson 12's reading and lesson 13's Spark comparison,
:data:`recsys_lessons.pilot.chooser.MARGIN`):

1. **ship X**: some rows lead popularity *beyond the margin*, ``low > m``. Among them the
   one with the highest test nDCG is the best; a simpler one of them (earlier in the
   registry: item-kNN, EASE, ALS, BPR, content-based, hybrid) is shipped instead only when
   the 95% paired interval of its difference to the best lies inside ``(-m, m)``
   (:func:`~recsys_lessons.evaluation.stats.equivalence_verdict` says "equivalent"): the
   same quality within the margin, cheaper to run and explain. An interval that merely
   includes 0 is not "equivalent" ("tied" is never "just as good"); the best is shipped and
   the open comparison is named.
2. **keep the popularity shelf**: no row can lead by the margin, ``high < m`` for every
   row (each is equivalent to popularity within the margin, or worse).
3. **inconclusive** otherwise: a row's interval reaches across ``m``, so the data cannot
   tell whether its lead matters. The shelf stays (``recommendations.csv`` holds it) and
   the decision says what would settle it: how many scored users would, if the lead stayed
   where it is (the interval's width shrinks as ``1 / sqrt(n)``), or an A/B test sized with
   lesson 09's :func:`~recsys_lessons.online.experiment.sample_size`.

The 95% two-sided interval makes ``low > m`` a one-sided test at 2.5%, stricter than the
90% interval of lesson 13's two one-sided tests. Every comparison also reports the smallest
difference it could detect with 80% power
(:func:`~recsys_lessons.evaluation.stats.detectable_difference`): a test that "finds no
difference" says nothing about smaller ones.

A hybrid row whose tuned weights put 1.0 on one component carries ``"same_as": name``; it
is reported as "hybrid = name alone" and never compared as a separate model. Without a
popularity row (``--models`` left it out), the simplest compared row is the baseline.
"""

from __future__ import annotations

import math

import numpy as np

from recsys_lessons.evaluation.stats import (
    Interval,
    detectable_difference,
    equivalence_verdict,
    paired_bootstrap_interval,
)
from recsys_lessons.online.experiment import sample_size
from recsys_lessons.pilot.chooser import MARGIN
from recsys_lessons.validation import check_number

#: The default equivalence margin on nDCG@k (``--margin``): lessons 12 and 13's.
DEFAULT_MARGIN = MARGIN
#: Coverage of every interval the decision reads (the report's intervals).
CONFIDENCE = 0.95
#: Power at which the detectable difference and the sample sizes are computed.
POWER = 0.8
#: The baseline the verdict is read against.
BASELINE = "popularity"


#: How each registry row is named in sentences and tables (other rows: underscores as spaces).
MODEL_LABELS = {
    "popularity": "popularity",
    "item_knn": "item-kNN",
    "ease": "EASE",
    "als": "ALS",
    "bpr": "BPR",
    "content_based": "content-based",
    "hybrid": "hybrid",
}


def label(name: str) -> str:
    """A row's name for people: ``"item_knn"`` -> ``"item-kNN"``."""
    return MODEL_LABELS.get(name, name.replace("_", " "))


def check_margin(margin) -> float:
    """``margin`` as a float in ``(0, 1)`` (nDCG lies in ``[0, 1]``), or ``ValueError``."""
    return check_number(
        margin,
        "margin (the smallest nDCG difference that matters, e.g. 0.02)",
        low=0,
        high=1,
        low_open=True,
        high_open=True,
    )


def decide(
    rows: list[dict],
    per_user: dict[str, dict[str, np.ndarray]],
    *,
    margin: float = DEFAULT_MARGIN,
    k: int = 10,
    seed: int = 0,
) -> dict:
    """The verdict of the module docstring, with its numbers and reasons (JSON-ready).

    Parameters
    ----------
    rows : list of dict
        The run's model rows in registry order (``results["models"]``): ``model``,
        ``status`` and, for compared rows, ``ndcg`` (an interval dict) and optionally
        ``same_as``.
    per_user : dict of name -> {"ndcg": array, ...}
        Each compared row's per-user nDCG@k over the same test users, in the same order.
    margin : float in (0, 1)
        The equivalence margin ``m`` on nDCG@k.
    k : int
        The list length (for the sentences).
    seed : int
        Seed of the bootstrap resamples.

    Returns
    -------
    dict
        ``verdict`` ("ship", "keep" or "inconclusive"), ``headline``, ``model`` (the row
        whose lists ``recommendations.csv`` holds), ``baseline``, ``leader`` (the row read
        against the baseline in the summary), ``runner_up``, ``best_ndcg_model``,
        ``versus_baseline`` (per row: the interval, its equivalence verdict, its reading and
        its detectable difference), ``versus_best`` (simpler shippable rows against the
        best), ``same_as``, ``detectable_difference``, ``settle`` (inconclusive only),
        ``summary``, ``reasons``, ``rule``, ``margin``, ``confidence``, ``users``.

    Raises
    ------
    ValueError
        When no row was compared or the margin is not in ``(0, 1)``.
    """
    margin = check_margin(margin)
    compared = [row for row in rows if row["status"] == "compared"]
    if not compared:
        raise ValueError("no model row was compared, so there is nothing to decide.")
    same_as = {row["model"]: row["same_as"] for row in compared if row.get("same_as")}
    candidates = [row for row in compared if row["model"] not in same_as]
    names = [row["model"] for row in candidates]
    baseline = BASELINE if BASELINE in names else names[0]
    ndcg = {name: np.asarray(per_user[name]["ndcg"], dtype=float) for name in names}
    estimate = {row["model"]: row["ndcg"]["estimate"] for row in candidates}
    personalized = [name for name in names if name != baseline]
    versus = {
        name: _read(
            paired_bootstrap_interval(ndcg[name], ndcg[baseline], confidence=CONFIDENCE, seed=seed),
            margin,
        )
        for name in personalized
    }
    shown = [name for name in personalized if versus[name]["reading"] == "lead"]
    open_ = [name for name in personalized if versus[name]["reading"] == "open"]
    by_estimate = sorted(names, key=lambda name: (-estimate[name], names.index(name)))
    shelf = label(baseline)
    reasons = [
        f"{label(row)}'s tuned weights put all their weight on {label(name)}: "
        f"{label(row)} = {label(name)} alone, compared as that row."
        for row, name in same_as.items()
    ]
    versus_best: dict[str, dict] = {}
    settle = None
    if shown:
        verdict = "ship"
        best = min(shown, key=lambda name: (-estimate[name], names.index(name)))
        for name in shown[: shown.index(best)]:  # the simpler rows that also lead
            gap = paired_bootstrap_interval(
                ndcg[best], ndcg[name], confidence=CONFIDENCE, seed=seed
            )
            versus_best[name] = {**interval_dict(gap), "verdict": equivalence_verdict(gap, margin)}
        equivalent = [name for name, gap in versus_best.items() if gap["verdict"] == "equivalent"]
        chosen = leader = equivalent[0] if equivalent else best
        summary = (
            f"{label(chosen)} leads {shelf} by {_signed(versus[chosen])} nDCG@{k} (paired 95% "
            f"interval), beyond the {margin:g} margin fixed before the run."
        )
        reasons.append(summary)
        if chosen != best:
            reasons.append(
                f"{label(best)} has the highest test nDCG, but {label(chosen)} is simpler and "
                f"equivalent to it within the margin ({label(best)} minus {label(chosen)}: "
                f"{_signed(versus_best[chosen])}, inside ±{margin:g}), so {label(chosen)} is "
                "shipped."
            )
        unsettled = [
            name
            for name, gap in versus_best.items()
            if gap["verdict"] != "equivalent" and names.index(name) < names.index(chosen)
        ]
        if unsettled:
            reasons.append(
                f"Simpler {_names(unsettled)} also lead{'s' if len(unsettled) == 1 else ''} "
                f"{shelf} beyond the margin, but the interval of the difference to "
                f"{label(best)} is not inside ±{margin:g}: not shown equivalent, so the best is "
                "shipped; an interleaving test can settle which to run."
            )
        higher = [name for name in by_estimate[: by_estimate.index(chosen)] if name in open_]
        if higher:
            reasons.append(
                f"{_names(higher)} scored higher, but the lead over {shelf} is not shown "
                "beyond the margin."
            )
    elif open_:
        verdict = "inconclusive"
        chosen = baseline
        leader = min(open_, key=lambda name: (-estimate[name], names.index(name)))
        summary = (
            f"{label(leader)} leads {shelf} by {_signed(versus[leader])} nDCG@{k} (paired 95% "
            f"interval): the interval reaches across the {margin:g} margin, so the data cannot "
            f"tell whether the lead matters. Keep {_shelf(baseline)} until it is settled."
        )
        reasons.append(summary)
    else:
        verdict = "keep"
        chosen = baseline
        leader = next((name for name in by_estimate if name != baseline), None)
        if leader is None:
            summary = f"Only {shelf} was compared, so there is no personalized row to ship."
        else:
            summary = (
                f"No personalized row leads {shelf} by the {margin:g} margin: the best-scoring "
                f"one, {label(leader)}, differs by {_signed(versus[leader])} nDCG@{k} (paired "
                f"95% interval), its whole interval below +{margin:g}."
            )
        reasons.append(summary)
    runner_up = next((name for name in by_estimate if name != chosen), None)
    detectable = None if leader is None else versus[leader]["detectable"]
    ab_test = None if leader is None else ab_test_size(ndcg[leader], ndcg[baseline], margin)
    if verdict == "inconclusive":
        settle = _settle(versus[leader], ndcg[leader].size, margin, leader, baseline, ab_test)
        reasons.append(settle["sentence"])
    if detectable is not None:
        reasons.append(
            f"This comparison could detect a difference of {detectable:.4f} nDCG@{k} with "
            f"{POWER:.0%} power; smaller true differences could go unseen."
        )
    headline = {
        "ship": f"Ship {label(chosen)}",
        "keep": f"Keep {_shelf(baseline)}",
        "inconclusive": f"Inconclusive: keep {_shelf(baseline)} for now",
    }[verdict]
    return {
        "verdict": verdict,
        "headline": headline,
        "model": chosen,
        "baseline": baseline,
        "leader": leader,
        "runner_up": runner_up,
        "best_ndcg_model": by_estimate[0],
        "margin": margin,
        "confidence": CONFIDENCE,
        "users": int(ndcg[baseline].size),
        "versus_baseline": versus,
        "versus_best": versus_best,
        "same_as": same_as,
        "detectable_difference": detectable,
        "settle": settle,
        "ab_test": ab_test,
        "summary": summary,
        "reasons": reasons,
        "rule": rule_text(margin, baseline),
    }


def rule_text(margin: float, baseline: str = BASELINE) -> str:
    """The decision rule in one sentence, with the margin."""
    return (
        f"ship a row when the 95% paired bootstrap interval of its nDCG lead over "
        f"{label(baseline)} lies above the margin {margin:g} (the highest-scoring such row, or "
        f"a simpler one equivalent to it within ±{margin:g}); keep {label(baseline)} when every "
        f"row's interval lies below +{margin:g}; otherwise inconclusive"
    )


def users_to_settle(interval: Interval, n_users: int, margin: float) -> int | None:
    """Scored users that would settle ``interval`` against ``margin`` if the lead stayed put.

    The interval's standard error shrinks as ``1 / sqrt(n)``, so the detectable difference
    ``mdd`` (:func:`~recsys_lessons.evaluation.stats.detectable_difference`, 80% power) of
    ``n'`` users is ``mdd * sqrt(n / n')``. The question is whether the lead ``d`` lies
    above or below ``m``; with ``d`` the true lead, the comparison settles it with 80% power
    once ``mdd * sqrt(n / n') <= |d - m|``:

    ``n' = ceil(n * (mdd / |d - m|)^2)``.

    ``None`` when ``d == m`` (no sample settles a lead sitting on the margin). A planning
    figure: the true lead is not known, and ``d`` is only its estimate.
    """
    distance = abs(interval.estimate - margin)
    if distance == 0:
        return None
    return math.ceil(n_users * (detectable_difference(interval, POWER) / distance) ** 2)


def ab_test_size(leader_ndcg, baseline_ndcg, margin: float) -> dict | None:
    """Users per arm of an A/B test that detects ``margin`` in a metric spread like nDCG here.

    Lesson 09's :func:`~recsys_lessons.online.experiment.sample_size` (two-sided 5%, 80%
    power) with the pooled per-user standard deviation of the two rows' nDCG@k,
    ``sd = sqrt((var_leader + var_baseline) / 2)``, as the planning spread of the online
    per-user metric. ``None`` when the spread is 0 or there is a single user.
    """
    a, b = np.asarray(leader_ndcg, dtype=float), np.asarray(baseline_ndcg, dtype=float)
    if a.size < 2:
        return None
    spread = float(np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2))
    if spread == 0:
        return None
    per_arm = sample_size(spread, margin, alpha=1 - CONFIDENCE, power=POWER)
    return {"users_per_arm": per_arm, "per_user_sd": spread, "effect": margin}


def _settle(versus: dict, n: int, margin, leader, baseline, ab_test) -> dict:
    """How many users or what A/B test would settle an inconclusive comparison."""
    interval = Interval(versus["estimate"], versus["low"], versus["high"], versus["confidence"])
    needed = users_to_settle(interval, n, margin)
    parts = []
    if needed is not None:
        parts.append(
            f"about {needed:,} scored users ({needed / n:.1f} times the {n:,} here), if the "
            f"lead stayed at {versus['estimate']:+.4f}"
        )
    if ab_test is not None:
        parts.append(
            f"an A/B test of {label(leader)} against {label(baseline)} with "
            f"{ab_test['users_per_arm']:,} users per arm, enough to detect {margin:g} in a "
            f"per-user metric as spread as nDCG here (sd {ab_test['per_user_sd']:.3f}; lesson "
            f"09's sample size at 5%, {POWER:.0%} power)"
        )
    sentence = "What would settle it: " + "; or ".join(parts) + "." if parts else ""
    if needed is None:
        sentence = (
            "The lead sits on the margin, so no number of offline users settles it. " + sentence
        ).strip()
    return {
        "users_scored": int(n),
        "users_needed": needed,
        "sentence": sentence,
    }


def _read(interval: Interval, margin: float) -> dict:
    """One row's interval against the baseline: the equivalence verdict and its reading."""
    reading = "lead" if interval.low > margin else "no lead" if interval.high < margin else "open"
    return {
        **interval_dict(interval),
        "verdict": equivalence_verdict(interval, margin),
        "reading": reading,
        "detectable": detectable_difference(interval, POWER),
    }


def interval_dict(interval: Interval) -> dict:
    """An interval as a JSON-ready dict (``estimate``, ``low``, ``high``, ``confidence``)."""
    return {
        "estimate": interval.estimate,
        "low": interval.low,
        "high": interval.high,
        "confidence": interval.confidence,
    }


def _signed(interval: dict) -> str:
    return f"{interval['estimate']:+.4f} ({interval['low']:+.4f} to {interval['high']:+.4f})"


def _names(names: list[str]) -> str:
    return ", ".join(map(label, names))


def _shelf(baseline: str) -> str:
    return "the popularity shelf" if baseline == BASELINE else label(baseline)
