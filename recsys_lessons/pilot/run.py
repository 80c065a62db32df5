"""Run a pilot: profile the log, tune and compare every model row, decide, write the outputs.

The verdict (ship a row, keep the popularity shelf, or inconclusive, against an equivalence
margin) is :func:`recsys_lessons.pilot.decision.decide`'s, stated in every report; the
decision brief around it is :func:`recsys_lessons.pilot.brief.build_brief`'s.

Tuning spends a budget counted in fits (:mod:`recsys_lessons.pilot.budget`), so the same
command and seed give the same ``results.json`` (timings aside) on any machine; an optional
time limit for the whole run (:mod:`recsys_lessons.pilot.time_limit`) can cut grids and skip
rows, planned from the run's own measurements, and the run records its plan. Progress goes
to standard error, phase by phase (:mod:`recsys_lessons.pilot.progress`).
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pandas as pd

from recsys_lessons import metrics
from recsys_lessons.evaluation.stats import bootstrap_interval
from recsys_lessons.pilot.beyond import audit_table, genre_matrix
from recsys_lessons.pilot.brief import build_brief
from recsys_lessons.pilot.budget import Budget, default_fit_budget
from recsys_lessons.pilot.coverage import covering_recommendations
from recsys_lessons.pilot.decision import BASELINE, DEFAULT_MARGIN, check_margin, decide
from recsys_lessons.pilot.io import InteractionLog, PilotInputError, metadata_overlap
from recsys_lessons.pilot.models import (
    REGISTRY,
    Context,
    fit_and_score,
    planned_grid_sizes,
    same_as,
    tune,
    tuning_fold,
)
from recsys_lessons.pilot.progress import Progress
from recsys_lessons.pilot.protocol import make_protocol
from recsys_lessons.pilot.provenance import package_versions, sha256_of
from recsys_lessons.pilot.time_limit import FoldSizes, TimeLimit
from recsys_lessons.validation import check_number, check_positive_int


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
    fit_budget: int | None = None,
    time_limit: float | None = None,
    memory_limit_mb: float = 1024.0,
    top_n: int = 10,
    models: list[str] | None = None,
    progress: bool | Progress = True,
    engine: str = "local",
    split: str = "auto",
    params: dict[str, dict] | None = None,
    margin: float = DEFAULT_MARGIN,
):
    """Compare the registry's rows on ``log``; return ``(results, lists, protocol, recs)``.

    ``results`` is what ``results.json`` holds; ``lists`` the test top-k lists per model;
    ``recs`` the top-``top_n`` recommendations of the chosen model, refitted on the whole
    log, for every user of the log, with raw ids (columns ``user_id, rank, item_id, score,
    source``; see :mod:`~recsys_lessons.pilot.coverage`). ``engine="spark"`` fits
    and ranks the popularity and ALS rows on Apache Spark
    (:mod:`recsys_lessons.pilot.spark_models`) and skips the others, saying so.

    ``split`` is the protocol (``auto``, ``global``, ``per-user``, ``random``; see
    :mod:`~recsys_lessons.pilot.protocol`), the minimum counts are the log's
    (``log.min_user_count``, ``log.min_item_count``), counted on each training period.
    ``params`` (row name -> parameters, e.g. from
    :func:`~recsys_lessons.pilot.provenance.tuned_params` of an earlier ``results.json``)
    fixes those rows' parameters: their grid is that single point (one validation fit, so
    the hybrid can still rank its components), and their row says ``"params_given": true``. ``margin``
    is the equivalence margin on nDCG@k of the decision (:mod:`recsys_lessons.pilot.decision`).
    ``fit_budget`` grid points (default: :func:`~recsys_lessons.pilot.budget.default_fit_budget`
    of the log's size) are shared by the rows' tuning (:mod:`recsys_lessons.pilot.budget`);
    ``time_limit`` (seconds, optional) is a limit for the whole run, counted from the
    reporter's start (:mod:`recsys_lessons.pilot.time_limit`). ``progress``: report phases on
    standard error (a :class:`~recsys_lessons.pilot.progress.Progress` to share one with
    the caller, and its clock: the command's start, before loading; ``False`` for silence).
    """
    started = time.perf_counter()
    margin = check_margin(margin)
    if fit_budget is None:
        fit_budget = default_fit_budget(len(log.interactions))
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
        protocol = make_protocol(
            interactions, k=k, test_ratio=test_ratio, seed=seed, split=split,
            min_user_count=log.min_user_count, min_item_count=log.min_item_count,
        )  # fmt: skip
    for notice in protocol.notices:
        print(f"notice: {notice}")
    aligned = None if items is None else items.reindex(protocol.item_ids)
    overlap = metadata_overlap(items, protocol.item_ids)
    context = Context(
        len(protocol.user_ids), len(protocol.item_ids), aligned, memory_limit_mb, seed,
        clock=reporter.clock,
    )  # fmt: skip
    if engine not in ("local", "spark"):
        raise ValueError(f"engine must be 'local' or 'spark', got {engine!r}.")
    registry = REGISTRY
    if engine == "spark":
        from recsys_lessons.pilot.spark_models import spark_registry

        registry = spark_registry()
    specs = [spec for spec in registry if models is None or spec.name in models]
    given = dict(params or {})  # ``params`` is reused below for each row's tuned parameters
    specs = _with_given_params(specs, given)
    if items is not None and overlap == 0:
        specs = _without_metadata(specs)
    rows, lists, all_lists, per_user = [], {}, {}, {}
    budget = Budget(fit_budget)
    tuning = tuning_fold(protocol.validation, seed)
    plan = None
    if time_limit is not None:
        plan = TimeLimit(
            time_limit, _fold_sizes(protocol, tuning), reporter.clock, reporter.started
        )
        reporter.note(
            f"time limit: {plan.setup_seconds:.1f} s of {time_limit:g} s spent loading and "
            f"splitting; {time_limit - plan.setup_seconds:.1f} s left for tuning, tests, the "
            "refit and the report"
        )
    for position, spec in enumerate(specs):
        row = {"model": spec.name, "lesson": spec.lesson}
        reason = spec.skip(context)
        if reason:
            rows.append({**row, "status": "skipped", "reason": reason})
            continue
        protected = spec.name == BASELINE or not context.tuned
        if plan is not None and not plan.may_start(spec.name, protected):
            rows.append({**row, "status": "skipped", "reason": plan.skipped[spec.name]})
            reporter.note(f"{spec.name} skipped: {plan.skipped[spec.name]}")
            continue
        sizes = planned_grid_sizes(specs[position:], context)
        allowed = budget.share(sizes)
        tried = min(max(1, allowed), sizes[0])
        may_try = _tuning_rule(budget, plan, spec.name, allowed, specs[position + 1 :], sizes)
        with reporter.phase(f"tuning {spec.name}", total=tried) as phase:
            params, trials = tune(spec, context, tuning, k, may_try, phase)
        spent = budget.record(spec.name, sizes[0], allowed, len(trials))
        if spent["cut_by"] == "time limit":
            stopped = plan.decisions[-1]["reason"]
            reporter.note(f"time limit: tuning {spec.name} stopped: {stopped}")
        if plan is not None:
            plan.note_points(spec.name, trials)
            if not plan.may_test(spec.name, protected):
                rows.append({**row, "status": "skipped", "reason": plan.skipped[spec.name]})
                reporter.note(f"{spec.name} skipped: {plan.skipped[spec.name]}")
                continue
        context.tuned[spec.name] = {
            "params": params,
            "validation_ndcg": max(trial["validation_ndcg"] for trial in trials),
        }
        model = spec.factory(params, context)
        with reporter.phase(f"test {spec.name}"):
            scored = fit_and_score(
                model, protocol.test, k, True, rank_every_user=True, clock=reporter.clock
            )
            ndcg = bootstrap_interval(scored.ndcg, seed=seed)
            recall = bootstrap_interval(scored.recall, seed=seed)
            cold_recall = cold_item_recall(scored.recommended, protocol.test, k)
        if plan is not None:
            plan.note_test(spec.name, scored.fit_seconds, scored.recommend_seconds)
        lists[spec.name], all_lists[spec.name] = scored.recommended, scored.every_user
        per_user[spec.name] = per_user_scores(scored.recommended, protocol.test, k)
        rows.append(
            {
                **row,
                "status": "compared",
                "params": params,
                "trials": trials,
                "params_given": spec.name in given,
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
        decision = decide(rows, per_user, margin=margin, k=k, seed=seed)
    chosen = next(spec for spec in specs if spec.name == decision["model"])
    chosen_params = next(row["params"] for row in rows if row["model"] == chosen.name)
    with reporter.phase(f"refit {chosen.name}"):
        recs, coverage = covering_recommendations(
            chosen.factory(chosen_params, context), chosen.name, protocol, top_n
        )
    with reporter.phase("profile"):
        data_profile = profile(interactions)
    results = {
        "input": {
            "source": log.source,
            "sha256": sha256_of(log.source),
            "columns": log.columns,
            "has_ratings": log.has_ratings,
            "has_timestamps": log.has_timestamps,
            "metadata": items is not None,
            "metadata_overlap": None
            if items is None
            else {"items_with_metadata": overlap, "catalogue_items": len(protocol.item_ids)},
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
            "min_user_count": log.min_user_count,
            "min_item_count": log.min_item_count,
            "protocol": split,
            "weights": "weight" in interactions.columns,
            "margin": margin,
        },
        "engine": engine,
        "versions": package_versions(engine),
        "profile": data_profile,
        "protocol": protocol.as_dict(),
        "models": rows,
        "audit_source": audit_source,
        "audit": None if audit_tidy is None else _records(audit_tidy),
        "decision": decision,
        "coverage": coverage,
        "budget": {
            **budget.as_dict(),
            "time_limit": time_limit,
            "time": None if plan is None else plan.as_dict(),
            "tuning_users": int(tuning.users.size),
        },
    }
    with reporter.phase("brief"):
        results["brief"] = build_brief(
            results, decision, per_user, lists, protocol, interactions, aligned,
            all_lists.get(BASELINE), seed,
        )  # fmt: skip
    results["phase_seconds"] = dict(reporter.seconds)
    results["phase_cpu_seconds"] = dict(reporter.cpu_seconds)
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


def per_user_scores(recommended: np.ndarray, fold, k: int) -> dict[str, np.ndarray]:
    """nDCG@k, recall@k and hit@k of each of ``fold.users`` (in that order)."""
    relevant = fold.relevant
    return {
        "ndcg": metrics.ndcg_at_k(recommended, relevant, k=k, per_user=True),
        "recall": metrics.recall_at_k(recommended, relevant, k=k, per_user=True),
        "hit": metrics.hit_rate_at_k(recommended, relevant, k=k, per_user=True),
    }


def per_user_table(lists: dict[str, np.ndarray], protocol) -> pd.DataFrame:
    """``per_user_metrics.csv``: one row per test user and compared model.

    Columns ``user_id, model, ndcg, recall, hit`` (at ``protocol.k``), the users in
    ``protocol.test.users`` order, the models in ``lists`` order (the comparison's).
    """
    users = protocol.user_ids.to_numpy()[protocol.test.users]
    frames = [
        pd.DataFrame({"user_id": users, "model": name,
                      **per_user_scores(recommended, protocol.test, protocol.k)})
        for name, recommended in lists.items()
    ]  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def _fold_sizes(protocol, tuning) -> FoldSizes:
    """What the time limit's estimates scale by
    (:class:`~recsys_lessons.pilot.time_limit.FoldSizes`)."""
    full = protocol.full
    return FoldSizes(
        tuning_nnz=int(tuning.train.nnz),
        tuning_users=int(tuning.users.size),
        test_nnz=int(protocol.test.train.nnz),
        test_users=int(protocol.test.train.shape[0]),
        full_nnz=int(full.nnz),
        full_users=int((full.getnnz(axis=1) > 0).sum()),
    )


def _tuning_rule(budget, plan, name: str, allowed: int, later_specs, sizes: list[int]):
    """``may_try(trials)`` of one row: within its share of the fit budget and, under a time
    limit, while :meth:`~recsys_lessons.pilot.time_limit.TimeLimit.may_extend` allows; the
    later rows that will run are reserved for, and those with a grid of more than one point
    share the spare time with this row."""
    later = [spec.name for spec, size in zip(later_specs, sizes[1:], strict=True) if size > 0]
    sharing = 1 + sum(size > 1 for size in sizes[1:])

    def may_try(trials) -> bool:
        if not budget.may_try(len(trials), allowed):
            return False
        if plan is None or not trials:
            return True
        plan.note_points(name, trials)
        return plan.may_extend(name, later, sharing)

    return may_try


def _without_metadata(specs):
    """``specs`` with the content-based row skipped: no catalogue item has metadata."""
    reason = (
        "none of the catalogue's items has a row in the item metadata (--items): the two "
        "files use different item ids, so content-based has no features."
    )
    return [
        dataclasses.replace(spec, skip=lambda context: reason)
        if spec.name == "content_based"
        else spec
        for spec in specs
    ]


def _with_given_params(specs, params: dict[str, dict]):
    """``specs`` with each row named in ``params`` reduced to that single grid point."""
    names = {spec.name for spec in specs}
    unknown = sorted(set(params) - names)
    if unknown:
        raise PilotInputError(
            f"--params names rows {unknown} that this run does not compare (rows: "
            f"{sorted(names)}); add them to --models (or --plugin), or give another file."
        )
    blended = sorted(set(params.get("hybrid", {})) - (names - {"hybrid"}))
    if blended:
        raise PilotInputError(
            f"--params: the recorded hybrid blends {blended}, which this run does not compare; "
            "add them to --models."
        )
    return [
        dataclasses.replace(spec, grid=lambda context, point=params[spec.name]: [dict(point)])
        if spec.name in params
        else spec
        for spec in specs
    ]


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
