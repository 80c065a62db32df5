"""Spark vs the single-machine course models: accuracy parity and the scaling curve.

Lesson 13 (``notebooks/13_scale_out_with_spark.ipynb``) reads these numbers.

**Parity.** MovieLens 100K and MovieLens Latest Small, the Microsoft Recommenders protocol:
75/25 split stratified by item (:func:`recsys_lessons.evaluation.split.stratified_split`, and the same
rows in Spark via :func:`recsys_lessons.scale.spark.stratified_split_spark`), every test rating
relevant, k = 10, training items removed. Ours: ``ALS(factors=64, regularization=60,
alpha=2, iterations=15, seed=42)`` on ratings (confidence 1 + 2 * rating), as in
``benchmarks/movielens_100k.py``. Spark: ``pyspark.ml.recommendation.ALS(rank=64,
maxIter=15, alpha=2, implicitPrefs=True, regParam=60 / m)`` where ``m`` is the mean number
of training ratings per user and per item (Spark scales its penalty by each row's count;
see :mod:`recsys_lessons.scale.spark`). nDCG@10 per split seed; mean and 95% t interval over the
seeds, and for seed 42 a paired bootstrap over users of Spark - ours.

**Scaling curve.** :func:`recsys_lessons.scale.spark.zipf_log` logs of growing size; per engine
and size, in a fresh process: fit ALS (64 factors, 10 iterations) and recommend 10 items to
every user (seen removed). Engines: ``implicit`` on 1 and 2 threads, Spark ``local[2]``.
Peak memory: the process's maximum resident set (``ru_maxrss``), plus for Spark the
``VmHWM`` of the JVM and of the Python workers under it (which rank the top-k), added. One
run per cell (time on a shared machine is noisy; read trends).

Run ``python -m benchmarks.scale`` (``--quick``: one split seed, sizes up to 300k;
``--sizes 100000,300000,1000000`` chooses the curve's sizes). Writes
``benchmarks/results/scale.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "scale.json"
K = 10
OURS = {"factors": 64, "regularization": 60.0, "alpha": 2.0, "iterations": 15, "seed": 42}
CURVE_FACTORS, CURVE_ITERATIONS = 64, 10
ENGINES = ("implicit-1", "implicit-2", "spark-local[2]")


def parity(spark, dataset: str, seed: int) -> dict:
    """nDCG@10 of our ALS and Spark's on the same stratified-by-item split."""
    from recsys_lessons import scale
    from recsys_lessons.data import interaction_matrix, load_dataset
    from recsys_lessons.evaluation import evaluate, stratified_split
    from recsys_lessons.models import ALS

    data = load_dataset(dataset)
    interactions = data.interactions.reset_index(drop=True)
    full = interaction_matrix(interactions)
    train_frame, test_frame = stratified_split(interactions, by="item", test_ratio=0.25, seed=seed)
    train, test = full.like(train_frame).X, full.like(test_frame).X
    _, per_user = evaluate({"ALS": ALS(**OURS)}, train, test, k=K, metrics=("ndcg",), per_user=True)
    ours = per_user.set_index("user")[f"ndcg@{K}"]

    frame = scale.to_spark(spark, interactions, index=full)
    s_train, s_test = scale.stratified_split_spark(frame, by="item", test_ratio=0.25, seed=seed)
    per_row = (train.nnz / train.shape[0] + train.nnz / train.shape[1]) / 2
    reg_param = OURS["regularization"] / per_row
    started = time.perf_counter()
    model = scale.spark_als(
        s_train.cache(),
        factors=OURS["factors"],
        reg_param=reg_param,
        alpha=OURS["alpha"],
        iterations=OURS["iterations"],
        seed=OURS["seed"],
    )
    recs = scale.recommend_all(model, s_train, k=K)
    theirs = scale.collect(scale.ranking_metrics_spark(recs, s_test, k=K)).set_index("user")["ndcg"]
    seconds = time.perf_counter() - started
    theirs = theirs.reindex(ours.index).fillna(0.0)
    return {
        "dataset": dataset,
        "seed": seed,
        "ours_ndcg@10": float(ours.mean()),
        "spark_ndcg@10": float(theirs.mean()),
        "spark_reg_param": reg_param,
        "spark_fit_recommend_evaluate_seconds": seconds,
        "per_user": (ours.to_numpy(), theirs.to_numpy()),
    }


def one_cell(engine: str, n_interactions: int) -> dict:
    """Fit + recommend-all for one engine and size (run in a fresh process)."""
    from recsys_lessons import scale
    from recsys_lessons.data import interaction_matrix

    log = scale.zipf_log(n_interactions, seed=0)
    result = {"engine": engine, "n_asked": n_interactions, "n_interactions": len(log)}
    if engine.startswith("implicit"):
        from threadpoolctl import threadpool_limits

        from recsys_lessons.models import ALS

        X = interaction_matrix(log).X
        threads = int(engine.split("-")[1])
        started = time.perf_counter()
        model = ALS(factors=CURVE_FACTORS, iterations=CURVE_ITERATIONS, num_threads=threads).fit(X)
        fitted = time.perf_counter()
        with threadpool_limits(threads, "blas"):
            for start in range(0, X.shape[0], 2000):
                model.recommend(np.arange(start, min(start + 2000, X.shape[0])), k=K)
        finished = time.perf_counter()
        result.update(n_users=X.shape[0], n_items=X.shape[1])
    else:
        spark = scale.spark_session("recsys-lessons-scale", master="local[2]")
        log = log.rename(columns={"user_id": "user", "item_id": "item"})
        frame = spark.createDataFrame(
            zip(
                log["user"].tolist(),
                log["item"].tolist(),
                log["rating"].astype(float).tolist(),
                strict=True,
            ),
            "user long, item long, rating double",
        ).cache()
        frame.count()
        started = time.perf_counter()
        model = scale.spark_als(
            frame, factors=CURVE_FACTORS, reg_param=0.1, iterations=CURVE_ITERATIONS
        )
        fitted = time.perf_counter()
        scale.recommend_all(model, frame, k=K).count()
        finished = time.perf_counter()
        jvm = spark.sparkContext._gateway.proc.pid
        result["jvm_peak_mb"] = vm_hwm_mb(jvm)
        result["workers_peak_mb"] = sum(filter(None, map(vm_hwm_mb, descendants(jvm)))) or None
        spark.stop()
    result.update(
        fit_seconds=fitted - started,
        recommend_seconds=finished - fitted,
        python_peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )
    return result


def vm_hwm_mb(pid: int) -> float | None:
    """Peak resident memory (``VmHWM`` in ``/proc/PID/status``) of process ``pid`` in MB, or
    ``None`` where it cannot be read (not Linux, the process gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux ``/proc``; empty elsewhere): for the JVM, Spark's
    Python daemon and the workers it forked, which Spark keeps alive between tasks."""
    parents = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines())
        except (OSError, ValueError):
            continue
        parents[int(status.parent.name)] = int(fields.get("PPid", "0").strip() or 0)
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def curve(sizes: list[int]) -> list[dict]:
    rows = []
    for n in sizes:
        for engine in ENGINES:
            command = [sys.executable, "-m", "benchmarks.scale", "--cell", engine, str(n)]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            row = json.loads(done.stdout.strip().splitlines()[-1])
            peak = (
                row["python_peak_mb"]
                + (row.get("jvm_peak_mb") or 0.0)
                + (row.get("workers_peak_mb") or 0.0)
            )
            row["peak_mb"] = peak
            print(
                f"  {engine:15s} {row['n_interactions']:>10,d} interactions  fit "
                f"{row['fit_seconds']:7.1f} s  recommend {row['recommend_seconds']:7.1f} s  "
                f"peak {peak:8.0f} MB",
                flush=True,
            )
            rows.append(row)
    return rows


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one split seed, sizes to 300k")
    parser.add_argument(
        "--sizes", help="comma-separated log sizes of the curve (default: by --quick)"
    )
    parser.add_argument("--cell", nargs=2, metavar=("ENGINE", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cell:
        print(json.dumps(one_cell(args.cell[0], int(args.cell[1]))))
        return {}

    from recsys_lessons import scale
    from recsys_lessons.evaluation import paired_bootstrap_interval, seed_interval

    seeds = [42] if args.quick else [42, 43, 44, 45, 46]
    sizes = [100_000, 300_000] if args.quick else [100_000, 300_000, 1_000_000, 3_000_000]
    if args.sizes:
        sizes = [int(size) for size in args.sizes.split(",")]
    spark = scale.spark_session("recsys-lessons-parity")
    parity_rows = []
    print("Parity: nDCG@10, stratified-by-item 75/25 split, k=10, seen removed")
    for dataset in ("movielens-100k", "movielens-latest-small"):
        runs = [parity(spark, dataset, seed) for seed in seeds]
        ours_values = [r["ours_ndcg@10"] for r in runs]
        spark_values = [r["spark_ndcg@10"] for r in runs]
        difference = paired_bootstrap_interval(*reversed(runs[0]["per_user"]), seed=42)
        row = {
            "dataset": dataset,
            "split": "stratified_split(by='item', test_ratio=0.25), same rows in Spark",
            "seeds": seeds,
            "ours": {
                "class": "recsys_lessons.models.ALS",
                "params": OURS,
                "matrix": "ratings; confidence 1 + alpha * rating",
            },
            "spark": {
                "class": "pyspark.ml.recommendation.ALS",
                "params": {
                    "rank": 64,
                    "maxIter": 15,
                    "alpha": 2.0,
                    "implicitPrefs": True,
                    "regParam": [r["spark_reg_param"] for r in runs],
                    "seed": 42,
                },
                "matrix": "ratings; confidence 1 + alpha * rating",
            },
            "ours_ndcg@10": ours_values,
            "spark_ndcg@10": spark_values,
            "spark_minus_ours_seed42_paired_bootstrap_95ci": [difference.low, difference.high],
            "spark_minus_ours_seed42": difference.estimate,
        }
        if len(seeds) > 1:
            for name, values in (("ours", ours_values), ("spark", spark_values)):
                interval = seed_interval(values)
                row[f"{name}_mean_95ci"] = [interval.estimate, interval.low, interval.high]
        print(
            f"  {dataset:24s} ours {np.mean(ours_values):.4f}  spark {np.mean(spark_values):.4f}  "
            f"spark - ours (seed 42) {difference}"
        )
        parity_rows.append(row)
    spark.stop()

    print("Scaling curve: ALS (64 factors, 10 iterations) fit + top-10 for every user")
    curve_rows = curve(sizes)
    result = {
        "parity": parity_rows,
        "scaling_curve": curve_rows,
        "curve_protocol": {
            "data": "recsys_lessons.scale.spark.zipf_log(n, seed=0)",
            "ours": f"ALS(factors={CURVE_FACTORS}, iterations={CURVE_ITERATIONS}, num_threads=T)",
            "spark": f"spark_als(rank={CURVE_FACTORS}, maxIter={CURVE_ITERATIONS}, regParam=0.1), local[2]",
            "runs_per_cell": 1,
        },
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "quick": args.quick,
        "sizes": sizes,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"Wrote {RESULTS}")
    return result


if __name__ == "__main__":
    main()
