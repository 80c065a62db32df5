"""Lesson 11's audit of every course model, its mitigation trade-offs and feedback loops.

For MovieLens 100K (when available) and the simulated catalogue, over several split seeds
(a 75/25 split stratified by user, seeds 0..n-1), every course model is fitted on the binary
"watched" matrix and audited with :func:`recsys_lessons.responsible.audit.audit_report`: nDCG@10,
ARP, APLT, long-tail exposure, coverage, Gini, popularity lift, popularity miscalibration,
calibration KL, the nDCG@10 gap of niche users to the best mainstream group, the gap of the
worst demographic group (gender on MovieLens, the minority segment on the simulated
catalogue), and the exposure share of the disadvantaged item group (long tail / independent
providers) beside its share of relevant items. Every figure is a mean with a 95% Student-t
interval over the split seeds (:func:`recsys_lessons.evaluation.stats.seed_interval`).

Trade-off sweeps re-rank EASE (calibrated re-ranking and xQuAD for the long tail at several
lambdas; lesson 06's MMR over EASE's 100 best candidates with genre vectors, at
``lambda_ = strength``, so that strength 0 is EASE's own list for every re-ranker; inverse-popularity training
at several powers), each with nDCG@10, calibration KL, APLT, Gini and intra-list diversity. The feedback loops run lesson 11's
three policies (closed loop, epsilon-greedy exploration, calibrated) for 30 days on a
500 x 600 simulated world, one world and environment seed per run, and record per-day
trajectories.

Run ``python -m benchmarks.audit`` (5 split seeds, 5 loop seeds, every model; a few
minutes) or ``--quick`` (2 seeds, fewer models, 2 loops). Writes
``benchmarks/results/audit.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from recsys_lessons import metrics, models
from recsys_lessons.data import interaction_matrix, load_dataset
from recsys_lessons.evaluation import seed_interval, stratified_split
from recsys_lessons.explore import ExploringPolicy
from recsys_lessons.hybrid import mmr_rerank
from recsys_lessons.online import ModelPolicy, OnlineEnvironment
from recsys_lessons.responsible import CalibratedPolicy, audit, loop_metrics, mitigate
from recsys_lessons.top_k import top_k_indices

K = 10
RESULT = Path(__file__).resolve().parent / "results" / "audit.json"
TRAINING_MATRIX = "interaction_matrix(dataset.interactions, value=None).like(train, value=None).X"
LAMBDAS = (0.0, 0.25, 0.5, 0.75)
POWERS = (0.0, 0.25, 0.5)
N_CANDIDATES = 100  # EASE candidates every re-ranker chooses from
LOOP_SIZES = {"n_users": 500, "n_items": 600, "n_interactions": 20_000}
LOOP_DAYS = 30

#: (class name in recsys_lessons.models, constructor arguments); ContentBased also gets items.
#: FunkSVD is left out: it models rating values, and the audit trains on "watched" (all 1.0).
MODELS = [
    ("Popularity", {}),
    ("Random", {"seed": 42}),
    ("ContentBased", {}),
    ("ItemKNN", {"neighbors": 50}),
    ("UserKNN", {"neighbors": 100}),
    ("EASE", {"regularization": 500.0}),
    ("ALS", {"factors": 64, "iterations": 15, "seed": 42}),
    ("BPR", {"factors": 64, "iterations": 50, "seed": 42}),
]
QUICK_MODELS = ("Popularity", "ItemKNN", "EASE", "ALS")


def build(name, arguments, items):
    cls = getattr(models, name)
    return cls(items, **arguments) if name == "ContentBased" else cls(**arguments)


def genre_matrix(items):
    names = sorted({g for gs in items["genres"] for g in gs})
    matrix = np.array([[g in gs for g in names] for gs in items["genres"]], dtype=float)
    return np.column_stack([matrix, matrix.sum(axis=1) == 0])  # "(no genre)" column


def offline_run(dataset, seed, model_specs):
    """Audit rows and trade-off rows of one split seed."""
    full = interaction_matrix(dataset.interactions, value=None)
    train, test = stratified_split(dataset.interactions, by="user", test_ratio=0.25, seed=seed)
    train_X, test_X = full.like(train, value=None).X, full.like(test, value=None).X
    items = dataset.items.reindex(full.item_ids)
    users = dataset.users.reindex(full.user_ids)
    genres = genre_matrix(items)
    head = audit.head_items(train_X.getnnz(axis=0))
    if "provider" in items.columns:
        item_groups, weak = items["provider"].astype(str).to_numpy(), "independent"
        user_groups = {"segment": np.where(users["segment"] == "indie", "minority", "majority")}
    else:
        item_groups, weak = np.where(head, "head", "long tail"), "long tail"
        user_groups = {"gender": users["gender"].to_numpy()}
    lists, fit_seconds = {}, {}
    for name, arguments in model_specs:
        start = time.perf_counter()
        model = build(name, arguments, items).fit(train_X)
        lists[name] = model.recommend(k=K)[0]
        fit_seconds[name] = time.perf_counter() - start
        if name == "EASE":
            ease_scores = model.score()
            ease_scores[train_X.nonzero()] = -np.inf
    report = audit.audit_report(
        lists, train_X, test_X, item_genres=genres, user_groups=user_groups,
        item_groups=item_groups, k=K, n_resamples=200, seed=seed,
    )  # fmt: skip
    relevant_share = audit.exposure_by_group(lists[model_specs[0][0]], item_groups, test_X, k=K)
    relevant_share = relevant_share.set_index("group").loc[weak, "relevant_share"]
    rows = []
    for name, arguments in model_specs:
        part = report[report["model"] == name]
        overall = part[part["grouping"] == "all"].set_index("metric")["value"].to_dict()
        gaps = part[part["metric"] == "ndcg_gap"].set_index(["grouping", "group"])["value"]
        demographic = next(iter(user_groups))
        exposure = part[part["metric"] == "exposure_share"].set_index("group")["value"]
        by_group = part[(part["metric"] == "ndcg@10") & (part["grouping"] == "mainstream")]
        by_group = by_group.set_index("group")["value"]
        lift = audit.popularity_lift(
            lists[name], train_X, train_X.getnnz(axis=0), k=K, per_user=True
        )
        light = train_X.getnnz(axis=1) <= np.median(train_X.getnnz(axis=1))
        ndcg = metrics.ndcg_at_k(lists[name], test_X, k=K, per_user=True)
        groups = audit.mainstream_groups(train_X, head)
        overall.update(
            {
                "niche_minus_blockbuster_ndcg": by_group["niche"] - by_group["blockbuster"],
                "niche_minus_blockbuster_ndcg_light_users": np.nanmean(
                    ndcg[light & (groups == "niche")]
                )
                - np.nanmean(ndcg[light & (groups == "blockbuster")]),
                "niche_minus_blockbuster_lift": lift[groups == "niche"].mean()
                - lift[groups == "blockbuster"].mean(),
                f"worst_{demographic}_ndcg_gap": gaps[demographic].min(),
                f"{weak}_exposure_share": exposure[weak],
                f"{weak}_relevant_share": relevant_share,
                "fit_recommend_seconds": fit_seconds[name],
            }
        )
        rows.append({"model": name, "arguments": arguments, "seed": seed, **overall})
    tradeoffs = []
    if "EASE" in lists:
        tail = np.where(head, "head", "tail")
        _, preference = mitigate.group_preference(train_X, tail)
        candidates = top_k_indices(ease_scores, N_CANDIDATES)
        relevance = np.take_along_axis(ease_scores, candidates, axis=1)
        for lam in LAMBDAS:
            for method, reranked in (
                (
                    "calibrated",
                    mitigate.calibrated_rerank(
                        candidates, relevance, train_X, genres, lambda_=lam, k=K
                    ),
                ),
                (
                    "mmr_genres",  # lesson 06's MMR over the same candidates
                    mmr_rerank(candidates, relevance, genres, k=K, lambda_=lam),
                ),
                (
                    "xquad_long_tail",
                    mitigate.xquad_rerank(
                        candidates, relevance, tail, preference, lambda_=lam, k=K
                    ),
                ),
            ):
                tradeoffs.append(
                    _tradeoff(method, lam, reranked, train_X, test_X, genres, head, seed)
                )
        for power in POWERS:
            weighted = mitigate.inverse_popularity_weights(train_X, power)
            reranked = models.EASE(regularization=500.0).fit(weighted).recommend(k=K)[0]
            tradeoffs.append(
                _tradeoff(
                    "inverse_popularity_training",
                    power,
                    reranked,
                    train_X,
                    test_X,
                    genres,
                    head,
                    seed,
                )
            )
    return rows, tradeoffs


def _tradeoff(method, strength, lists, train_X, test_X, genres, head, seed):
    return {
        "method": method,
        "base_model": "EASE(regularization=500.0)",
        "strength": strength,
        "seed": seed,
        "ndcg@10": metrics.ndcg_at_k(lists, test_X, k=K),
        "calibration_kl": float(audit.calibration_kl(lists, train_X, genres, k=K).mean()),
        "aplt": audit.average_percentage_long_tail(lists, head, k=K),
        "gini": metrics.gini_index(lists, train_X.shape[1], k=K),
        "intra_list_diversity": metrics.intra_list_diversity(lists, genres, k=K),
    }


def loop_run(seed):
    """Per-day trajectories of the three policies on one simulated world."""
    data = load_dataset("synthetic", seed=seed, **LOOP_SIZES)
    world = data.world
    pre_period = data.interactions.sample(frac=0.05, random_state=seed)
    genres = genre_matrix(data.items.reindex(world.item_ids))
    segment = np.where(
        data.users["segment"].reindex(world.user_ids) == "indie", "minority", "majority"
    )
    policies = {
        "closed_loop": lambda: ModelPolicy(models.EASE(regularization=50.0)),
        "epsilon_greedy_0.2": lambda: ExploringPolicy(
            ModelPolicy(models.EASE(regularization=50.0)), world.n_items, 0.2, seed=seed
        ),
        "calibrated_0.5": lambda: CalibratedPolicy(
            models.EASE(regularization=50.0), genres, lambda_=0.5, n_candidates=50
        ),
    }
    trajectories = []
    for name, make in policies.items():
        env = OnlineEnvironment(world, seed=seed, history=pre_period, return_rate=0.5)
        before = env.history_matrix()
        table = loop_metrics(env.run(make(), n_days=LOOP_DAYS), world, segment, pre_period=before)
        trajectories.append(table.assign(policy=name, seed=seed))
    return pd.concat(trajectories, ignore_index=True)


def summarize(frame, by, columns):
    rows = []
    for key, part in frame.groupby(by, sort=False):
        row = dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True))
        for column in columns:
            interval = seed_interval(part[column].to_numpy())
            row[column] = interval.estimate
            row[f"{column}_low"], row[f"{column}_high"] = interval.low, interval.high
        rows.append(row)
    return pd.DataFrame(rows)


def loop_summary(trajectories):
    rows = []
    for (policy, seed), part in trajectories.groupby(["policy", "seed"], sort=False):
        daily = part.groupby("day")[["gini", "homogenization"]].first()
        minority = part[part["group"] == "minority"].set_index("day")["expected_clicks"]
        rows.append(
            {
                "policy": policy,
                "seed": seed,
                "gini_first5": daily["gini"].iloc[:5].mean(),
                "gini_last5": daily["gini"].iloc[-5:].mean(),
                "overlap_first5": daily["homogenization"].iloc[:5].mean(),
                "overlap_last5": daily["homogenization"].iloc[-5:].mean(),
                "minority_clicks_first5": minority.iloc[:5].mean(),
                "minority_clicks_last5": minority.iloc[-5:].mean(),
                "minority_regret_last5": part[part["group"] == "minority"]["regret"]
                .iloc[-5:]
                .mean(),
                "majority_regret_last5": part[part["group"] == "majority"]["regret"]
                .iloc[-5:]
                .mean(),
            }
        )
    per_seed = pd.DataFrame(rows)
    return summarize(
        per_seed, ["policy"], [c for c in per_seed.columns if c not in ("policy", "seed")]
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds, 4 models, 2 loops")
    args = parser.parse_args(argv)
    n_seeds = 2 if args.quick else 5
    specs = [m for m in MODELS if not args.quick or m[0] in QUICK_MODELS]
    started = time.perf_counter()
    datasets = []
    try:
        datasets.append(load_dataset("movielens-100k"))
    except Exception as error:  # offline without MovieLens: audit the simulated catalogue only
        print(f"MovieLens 100K not available ({error}); auditing the simulated catalogue only.")
    datasets.append(load_dataset("synthetic", seed=42))
    result = {
        "protocol": {
            "split": "stratified_split(by='user', test_ratio=0.25, seed=s)",
            "split_seeds": list(range(n_seeds)),
            "k": K,
            "training_matrix": TRAINING_MATRIX,
            "head": "audit.head_items(train popularity, head_share=0.2)",
            "intervals": "seed_interval (Student-t, 95%) over split seeds",
            "mmr_genres": "hybrid.mmr_rerank(EASE's top-100 candidates, their EASE scores, "
                          "genre vectors, lambda_=strength)",
            "loop": {"sizes": LOOP_SIZES, "days": LOOP_DAYS, "pre_period": "5% sample of the "
                     "world's interactions", "return_rate": 0.5, "seeds": list(range(n_seeds))},
        },
        "machine": platform.platform(),
        "quick": args.quick,
    }  # fmt: skip
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for dataset in datasets:
            audit_rows, tradeoff_rows = [], []
            for seed in range(n_seeds):
                rows, tradeoffs = offline_run(dataset, seed, specs)
                audit_rows += rows
                tradeoff_rows += tradeoffs
            frame = pd.DataFrame(audit_rows)
            numeric = [c for c in frame.columns if c not in ("model", "arguments", "seed")]
            table = summarize(frame, ["model"], numeric)
            tradeoff = summarize(
                pd.DataFrame(tradeoff_rows),
                ["method", "strength"],
                ["ndcg@10", "calibration_kl", "aplt", "gini", "intra_list_diversity"],
            )
            print(f"\n== {dataset.name}: audit, mean over {n_seeds} split seeds ==")
            shown = ["model", "ndcg@10", "ndcg@10_low", "ndcg@10_high", "arp", "aplt", "gini", "popularity_lift",
                     "calibration_kl"] + [c for c in numeric if c.startswith("niche_minus") or c.endswith(("_gap", "_share"))]  # fmt: skip
            print(table[shown].round(3).to_string(index=False))
            print(f"\n== {dataset.name}: trade-offs (EASE) ==")
            print(
                tradeoff[
                    [
                        "method",
                        "strength",
                        "ndcg@10",
                        "ndcg@10_low",
                        "ndcg@10_high",
                        "calibration_kl",
                        "aplt",
                        "intra_list_diversity",
                    ]
                ]
                .round(4)
                .to_string(index=False)
            )
            result[dataset.name] = {
                "models": [{"class": n, "arguments": a} for n, a in specs],
                "per_seed": frame.to_dict(orient="records"),
                "summary": table.to_dict(orient="records"),
                "tradeoffs_per_seed": tradeoff_rows,
                "tradeoffs": tradeoff.to_dict(orient="records"),
            }
        trajectories = pd.concat([loop_run(seed) for seed in range(n_seeds)], ignore_index=True)
    summary = loop_summary(trajectories)
    print(f"\n== feedback loops: {LOOP_DAYS} days, mean over {n_seeds} worlds ==")
    print(
        summary[[c for c in summary.columns if not c.endswith(("_low", "_high"))]]
        .round(3)
        .to_string(index=False)
    )
    result["feedback_loops"] = {
        "summary": summary.to_dict(orient="records"),
        "trajectories": trajectories.to_dict(orient="records"),
    }
    result["seconds"] = time.perf_counter() - started
    RESULT.parent.mkdir(exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=1, default=_plain))
    print(f"\nwrote {RESULT} ({result['seconds']:.0f} s)")


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot serialise {type(value).__name__}")


if __name__ == "__main__":
    main()
