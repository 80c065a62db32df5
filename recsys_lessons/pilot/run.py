"""Run a pilot: profile the log, tune and compare every model row, decide, write the outputs.

The verdict (ship a row, keep the popularity shelf, or inconclusive, against an equivalence
margin) is :func:`recsys_lessons.pilot.decision.decide`'s, stated in every report; the
decision brief around it is :func:`recsys_lessons.pilot.brief.build_brief`'s.
"""

from __future__ import annotations

import hashlib
import platform
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from recsys_lessons import metrics
from recsys_lessons.evaluation.stats import bootstrap_interval
from recsys_lessons.pilot.beyond import audit_table, genre_matrix
from recsys_lessons.pilot.brief import build_brief
from recsys_lessons.pilot.decision import BASELINE, DEFAULT_MARGIN, check_margin, decide
from recsys_lessons.pilot.io import InteractionLog
from recsys_lessons.pilot.models import REGISTRY, Context, fit_and_score, tune
from recsys_lessons.pilot.protocol import make_protocol

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
    time_budget: float = 60.0,
    memory_limit_mb: float = 1024.0,
    top_n: int = 10,
    models: list[str] | None = None,
    progress: bool = True,
    engine: str = "local",
    margin: float = DEFAULT_MARGIN,
):
    """Compare the registry's rows on ``log``; return ``(results, lists, protocol, recs)``.

    ``results`` is what ``results.json`` holds; ``lists`` the test top-k lists per model;
    ``recs`` the top-``top_n`` recommendations of the chosen model, refitted on the whole
    log, with raw ids (columns ``user_id, rank, item_id, score``). ``engine="spark"`` fits
    and ranks the popularity and ALS rows on Apache Spark
    (:mod:`recsys_lessons.pilot.spark_models`) and skips the others, saying so. ``margin``
    is the equivalence margin on nDCG@k of the decision (:mod:`recsys_lessons.pilot.decision`).
    """
    started = time.perf_counter()
    margin = check_margin(margin)
    interactions = log.interactions
    n_items = interactions["item_id"].nunique()
    if k >= n_items:
        raise ValueError(
            f"k={k} leaves nothing to rank in a catalogue of {n_items} items (after cleaning); "
            f"choose k < {n_items} (--k)."
        )
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
    all_users = np.arange(len(protocol.user_ids))
    budget = time_budget / max(1, len(specs))
    bar = tqdm(total=len(specs), desc="models", disable=not progress, unit="model")
    for spec in specs:
        bar.set_postfix_str(spec.name)
        row = {"model": spec.name, "lesson": spec.lesson}
        reason = spec.skip(context)
        if reason:
            rows.append({**row, "status": "skipped", "reason": reason})
            bar.update(1)
            continue
        with tqdm(
            total=len(spec.candidates(context)), desc=f"tuning {spec.name}", unit="fit", leave=False,
            disable=not progress,
        ) as tuning:  # fmt: skip
            params, trials = tune(spec, context, protocol.validation, k, budget, tuning)
        context.tuned[spec.name] = {
            "params": params,
            "validation_ndcg": max(trial["validation_ndcg"] for trial in trials),
        }
        model = spec.factory(params, context)
        scored = fit_and_score(model, protocol.test, k, True)
        lists[spec.name] = scored.recommended
        all_lists[spec.name] = np.asarray(model.recommend(all_users, k=k)[0])
        hit = metrics.hit_rate_at_k(scored.recommended, protocol.test.relevant, k, per_user=True)
        per_user[spec.name] = {"ndcg": scored.ndcg, "recall": scored.recall, "hit": hit}
        ndcg = bootstrap_interval(scored.ndcg, seed=seed)
        recall = bootstrap_interval(scored.recall, seed=seed)
        rows.append(
            {
                **row,
                "status": "compared",
                "params": params,
                "trials": trials,
                "grid_size": len(spec.candidates(context)),
                "budget_cut": len(trials) < len(spec.candidates(context)),
                "ndcg": _interval(ndcg),
                "recall": _interval(recall),
                "cold_item_recall": cold_item_recall(scored.recommended, protocol.test, k),
                "fit_seconds": scored.fit_seconds,
                "recommend_seconds": scored.recommend_seconds,
                "peak_fit_memory_mb": scored.peak_memory_mb,
            }
        )
        bar.update(1)
    bar.close()
    if not lists:
        raise ValueError("no model could be compared on this log; see the skip reasons.")
    audit, audit_source, audit_tidy = audit_table(
        all_lists, protocol.test.train, protocol.test.test, k, genre_matrix(aligned)
    )
    for row in rows:
        if row["model"] in lists:
            row["audit"] = {key: float(value) for key, value in audit.loc[row["model"]].items()}
    decision = decide(rows, per_user, margin=margin, k=k, seed=seed)
    chosen = next(spec for spec in specs if spec.name == decision["model"])
    chosen_params = next(row["params"] for row in rows if row["model"] == chosen.name)
    if progress:
        print(f"refitting {chosen.name} on the whole log for recommendations.csv", file=sys.stderr)
    recs = recommendations(chosen.factory(chosen_params, context), protocol, top_n)
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
            "time_budget": time_budget,
            "memory_limit_mb": memory_limit_mb,
            "top_n": top_n,
            "margin": margin,
        },
        "engine": engine,
        "versions": _versions(engine),
        "profile": profile(interactions),
        "protocol": protocol.as_dict(),
        "models": rows,
        "audit_source": audit_source,
        "audit": None if audit_tidy is None else _records(audit_tidy),
        "decision": decision,
    }
    results["brief"] = build_brief(
        results, decision, per_user, lists, protocol, interactions, aligned,
        all_lists.get(BASELINE), seed,
    )  # fmt: skip
    results["run_seconds"] = time.perf_counter() - started
    return results, lists, protocol, recs


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
    items, scores = model.recommend(users, k=n, exclude_seen=True)
    items, scores = np.asarray(items), np.asarray(scores, dtype=float)
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
