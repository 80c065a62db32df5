"""Run a pilot: profile the log, tune and compare every model row, choose, write the outputs.

The choice rule is stated in every report: the model with the highest test nDCG@k wins,
unless a simpler row (earlier in the registry order: popularity, item-kNN, EASE, ALS, BPR,
content-based, hybrid) is statistically tied with it, i.e. the 95% paired bootstrap interval
of the nDCG difference over test users includes 0; then the simplest tied row is chosen,
because it is cheaper to run and explain for the same measured quality. A hybrid whose tuned
weights put 1.0 on one component ranks as that component alone: its row says so
(``"same_as"``) and it takes no part in the comparison.

Tuning spends a budget counted in fits (:mod:`recsys_lessons.pilot.budget`), so the same
command and seed give the same ``results.json`` (timings aside) on any machine; an optional
time limit can cut grids, and the run records it. Progress goes to standard error, phase by
phase (:mod:`recsys_lessons.pilot.progress`).
"""

from __future__ import annotations

import hashlib
import platform
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import pandas as pd

from recsys_lessons import metrics
from recsys_lessons.evaluation.stats import bootstrap_interval, paired_bootstrap_interval
from recsys_lessons.pilot.beyond import audit_table, genre_matrix
from recsys_lessons.pilot.budget import DEFAULT_FIT_BUDGET, Budget
from recsys_lessons.pilot.io import InteractionLog
from recsys_lessons.pilot.models import (
    REGISTRY,
    Context,
    fit_and_score,
    planned_grid_sizes,
    rank,
    same_as,
    tune,
    tuning_fold,
)
from recsys_lessons.pilot.progress import Progress
from recsys_lessons.pilot.protocol import make_protocol
from recsys_lessons.validation import check_number, check_positive_int

PACKAGES = ("recsys-lessons", "numpy", "pandas", "scipy", "scikit-learn", "implicit")


def profile(interactions: pd.DataFrame) -> dict:
    """Size, sparsity, long tail and activity of a log."""
    n_users = interactions["user_id"].nunique()
    n_items = interactions["item_id"].nunique()
    n = len(interactions)
    item_counts = np.sort(interactions["item_id"].value_counts().to_numpy())[::-1]
    user_counts = interactions["user_id"].value_counts().to_numpy()
    head = max(1, round(0.2 * n_items))
    result = {
        "interactions": int(n),
        "users": int(n_users),
        "items": int(n_items),
        "density": n / (n_users * n_items),
        "top_20pct_items_share": float(item_counts[:head].sum() / n),
        "items_with_1_interaction": int((item_counts == 1).sum()),
        "median_per_user": float(np.median(user_counts)),
        "max_per_user": int(user_counts.max()),
        "median_per_item": float(np.median(item_counts)),
        "max_per_item": int(item_counts.max()),
    }
    if "rating" in interactions:
        result["rating_mean"] = float(interactions["rating"].mean())
        result["rating_values"] = int(interactions["rating"].nunique())
    if "timestamp" in interactions:
        result["first_event"] = str(interactions["timestamp"].min())
        result["last_event"] = str(interactions["timestamp"].max())
    return result


def run_pilot(
    log: InteractionLog,
    items: pd.DataFrame | None = None,
    *,
    k: int = 10,
    test_ratio: float = 0.2,
    seed: int = 42,
    fit_budget: int = DEFAULT_FIT_BUDGET,
    time_limit: float | None = None,
    memory_limit_mb: float = 1024.0,
    top_n: int = 10,
    models: list[str] | None = None,
    progress: bool | Progress = True,
    engine: str = "local",
):
    """Compare the registry's rows on ``log``; return ``(results, lists, protocol, recs)``.

    ``results`` is what ``results.json`` holds; ``lists`` the test top-k lists per model;
    ``recs`` the top-``top_n`` recommendations of the chosen model, refitted on the whole
    log, with raw ids (columns ``user_id, rank, item_id, score``). ``engine="spark"`` fits
    and ranks the popularity and ALS rows on Apache Spark
    (:mod:`recsys_lessons.pilot.spark_models`) and skips the others, saying so.
    ``fit_budget`` grid points are shared by the rows' tuning and ``time_limit`` (seconds,
    optional) caps it (:mod:`recsys_lessons.pilot.budget`). ``progress``: report phases on
    standard error (a :class:`~recsys_lessons.pilot.progress.Progress` to share one with
    the caller, ``False`` for silence).
    """
    started = time.perf_counter()
    fit_budget = check_positive_int(fit_budget, "fit_budget", "grid points tried in tuning")
    if time_limit is not None:
        time_limit = check_number(time_limit, "time_limit (seconds)", 0, low_open=True)
    reporter = progress if isinstance(progress, Progress) else Progress(enabled=bool(progress))
    interactions = log.interactions
    n_items = interactions["item_id"].nunique()
    if k >= n_items:
        raise ValueError(
            f"k={k} leaves nothing to rank in a catalogue of {n_items} items (after cleaning); "
            f"choose k < {n_items} (--k)."
        )
    with reporter.phase("protocol"):
        protocol = make_protocol(interactions, k=k, test_ratio=test_ratio, seed=seed)
    for notice in protocol.notices:
        print(f"notice: {notice}")
    aligned = None if items is None else items.reindex(protocol.item_ids)
    context = Context(
        len(protocol.user_ids), len(protocol.item_ids), aligned, memory_limit_mb, seed
    )
    if engine not in ("local", "spark"):
        raise ValueError(f"engine must be 'local' or 'spark', got {engine!r}.")
    registry = REGISTRY
    if engine == "spark":
        from recsys_lessons.pilot.spark_models import spark_registry

        registry = spark_registry()
    specs = [spec for spec in registry if models is None or spec.name in models]
    rows, lists, all_lists, per_user = [], {}, {}, {}
    budget = Budget(fit_budget, time_limit, started)
    tuning = tuning_fold(protocol.validation, seed)
    for position, spec in enumerate(specs):
        row = {"model": spec.name, "lesson": spec.lesson}
        reason = spec.skip(context)
        if reason:
            rows.append({**row, "status": "skipped", "reason": reason})
            continue
        sizes = planned_grid_sizes(specs[position:], context)
        allowed = budget.share(sizes)
        tried = min(max(1, allowed), sizes[0])
        with reporter.phase(f"tuning {spec.name}", total=tried) as phase:
            params, trials = tune(
                spec, context, tuning, k,
                lambda n, allowed=allowed: budget.may_try(n, allowed), phase,
            )  # fmt: skip
        spent = budget.record(spec.name, sizes[0], allowed, len(trials))
        context.tuned[spec.name] = {
            "params": params,
            "validation_ndcg": max(trial["validation_ndcg"] for trial in trials),
        }
        model = spec.factory(params, context)
        with reporter.phase(f"test {spec.name}"):
            scored = fit_and_score(model, protocol.test, k, True, rank_every_user=True)
            ndcg = bootstrap_interval(scored.ndcg, seed=seed)
            recall = bootstrap_interval(scored.recall, seed=seed)
            cold_recall = cold_item_recall(scored.recommended, protocol.test, k)
        lists[spec.name], all_lists[spec.name] = scored.recommended, scored.every_user
        per_user[spec.name] = scored.ndcg
        rows.append(
            {
                **row,
                "status": "compared",
                "params": params,
                "trials": trials,
                "grid_size": spent["grid_size"],
                "fits_allowed": allowed,
                "budget_cut": spent["cut_by"] is not None,
                "cut_by": spent["cut_by"],
                "ndcg": _interval(ndcg),
                "recall": _interval(recall),
                "cold_item_recall": cold_recall,
                "fit_seconds": scored.fit_seconds,
                "recommend_seconds": scored.recommend_seconds,
                "peak_fit_memory_mb": scored.peak_memory_mb,
            }
        )
        if spec.name == "hybrid":
            rows[-1]["same_as"] = same_as(params)
    if not lists:
        raise ValueError("no model could be compared on this log; see the skip reasons.")
    with reporter.phase("audit"):
        audit, audit_source, audit_tidy = audit_table(
            all_lists, protocol.test.train, protocol.test.test, k, genre_matrix(aligned)
        )
    for row in rows:
        if row["model"] in lists:
            row["audit"] = {key: float(value) for key, value in audit.loc[row["model"]].items()}
    with reporter.phase("choose"):
        choice = choose(rows, per_user, seed)
    chosen = next(spec for spec in specs if spec.name == choice["model"])
    chosen_params = next(row["params"] for row in rows if row["model"] == chosen.name)
    with reporter.phase(f"refit {chosen.name}"):
        recs = recommendations(chosen.factory(chosen_params, context), protocol, top_n)
    with reporter.phase("profile"):
        data_profile = profile(interactions)
    results = {
        "input": {
            "source": log.source,
            "sha256": _sha256(log.source),
            "columns": log.columns,
            "has_ratings": log.has_ratings,
            "has_timestamps": log.has_timestamps,
            "metadata": items is not None,
            "notices": log.notices,
        },
        "settings": {
            "k": k,
            "test_ratio": test_ratio,
            "seed": seed,
            "fit_budget": fit_budget,
            "time_limit": time_limit,
            "memory_limit_mb": memory_limit_mb,
            "top_n": top_n,
        },
        "engine": engine,
        "versions": _versions(engine),
        "profile": data_profile,
        "protocol": protocol.as_dict(),
        "models": rows,
        "audit_source": audit_source,
        "audit": None if audit_tidy is None else _records(audit_tidy),
        "choice": choice,
        "budget": {**budget.as_dict(), "tuning_users": int(tuning.users.size)},
        "phase_seconds": dict(reporter.seconds),
        "phase_cpu_seconds": dict(reporter.cpu_seconds),
        "run_seconds": time.perf_counter() - started,
    }
    return results, lists, protocol, recs


def choose(rows: list[dict], per_user: dict[str, np.ndarray], seed: int) -> dict:
    """The choice rule of the module docstring, with its reasons in plain sentences.

    A row with ``"same_as"`` (a hybrid that reduces to one component) is left out of the
    comparison; the reasons say which component it is.
    """
    compared = [row for row in rows if row["status"] == "compared" and not row.get("same_as")]
    best = max(compared, key=lambda row: row["ndcg"]["estimate"])  # first (simplest) on a tie
    reasons = [
        f"{best['model']} has the highest test nDCG ({best['ndcg']['estimate']:.4f}, 95% "
        f"interval {best['ndcg']['low']:.4f}-{best['ndcg']['high']:.4f})."
    ]
    comparisons = {}
    for row in compared:
        if row is best:
            continue
        gap = paired_bootstrap_interval(per_user[best["model"]], per_user[row["model"]], seed=seed)
        comparisons[row["model"]] = _interval(gap)
    simpler = compared[: compared.index(best)]  # registry order: simplest first
    tied_simpler = [row for row in simpler if not _excludes_zero(comparisons[row["model"]])]
    chosen = tied_simpler[0] if tied_simpler else best
    if tied_simpler:
        gap = comparisons[chosen["model"]]
        reasons.append(
            f"{chosen['model']} is statistically tied with it (paired nDCG difference "
            f"{-gap['estimate']:+.4f}, 95% interval {-gap['high']:+.4f} to {-gap['low']:+.4f} "
            "includes 0) and is simpler, so it is the recommended choice."
        )
    beaten = [name for name, gap in comparisons.items() if _excludes_zero(gap)]
    if beaten:
        reasons.append(
            f"{best['model']}'s lead over {', '.join(beaten)} is beyond noise (paired bootstrap "
            "over test users: the 95% interval of the difference excludes 0)."
        )
    tied = [name for name, gap in comparisons.items() if not _excludes_zero(gap)]
    if tied and not tied_simpler:
        reasons.append(
            f"It is statistically tied with {', '.join(tied)}, which are not simpler, so "
            "it stays the choice."
        )
    reasons += [
        f"{row['model']} = {row['same_as']} alone: its tuned weights put 1.0 on {row['same_as']}, "
        f"so it ranks as {row['same_as']} does and is not compared as a separate model."
        for row in rows
        if row["status"] == "compared" and row.get("same_as")
    ]
    return {
        "model": chosen["model"],
        "best_ndcg_model": best["model"],
        "rule": (
            "highest test nDCG@k, unless a simpler model's paired 95% bootstrap interval of "
            "the difference includes 0 (then the simplest tied model)"
        ),
        "paired_differences_vs_best": comparisons,
        "reasons": reasons,
    }


def cold_item_recall(recommended: np.ndarray, fold, k: int) -> float | None:
    """Recall@k on the test items that have no training interaction (new items) only.

    Mean over the test users holding at least one such item; ``None`` when there are none.
    Collaborative models cannot score an item nobody has touched: this is the row where
    content-based (item metadata) earns its place.
    """
    cold = np.asarray(fold.train.getnnz(axis=0) == 0)
    relevant = fold.relevant.multiply(cold[None, :]).tocsr()
    relevant.eliminate_zeros()
    if relevant.nnz == 0:
        return None
    values = metrics.recall_at_k(recommended, relevant, k=k, per_user=True)
    return float(np.nanmean(values))


def recommendations(model, protocol, top_n: int) -> pd.DataFrame:
    """Top-``top_n`` per user from ``model`` refitted on the whole log, with raw ids."""
    model.fit(protocol.full)
    n = min(top_n, protocol.full.shape[1])
    users = np.arange(protocol.full.shape[0])
    items, scores = rank(model, users, n)
    frame = pd.DataFrame(
        {
            "user_id": np.repeat(protocol.user_ids.to_numpy(), n),
            "rank": np.tile(np.arange(1, n + 1), len(users)),
            "item_id": protocol.item_ids.to_numpy()[items.ravel()],
            "score": scores.ravel(),
        }
    )
    return frame[np.isfinite(frame["score"])].reset_index(drop=True)


def _interval(interval) -> dict:
    return {
        "estimate": interval.estimate,
        "low": interval.low,
        "high": interval.high,
        "confidence": interval.confidence,
    }


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts, NaN as ``None`` (``null`` in JSON)."""
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


def _excludes_zero(interval: dict) -> bool:
    return interval["low"] > 0 or interval["high"] < 0


def _versions(engine: str = "local") -> dict:
    found = {"python": platform.python_version()}
    for package in PACKAGES + (("pyspark",) if engine == "spark" else ()):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found


def _sha256(path) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None
