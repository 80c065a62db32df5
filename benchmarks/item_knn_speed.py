"""ItemKNN against implicit's CosineRecommender: fit + recommend-for-every-user, side by side.

``ItemKNN(neighbors=K - 1)`` computes the same model as
``implicit.nearest_neighbours.CosineRecommender(K=K)`` (implicit counts an item among its own
``K`` neighbours; ``tests/test_neighbors.py`` checks the agreement). One timed run is: fit on
the training matrix (ratings as values, ``binarize=False``: both libraries use the values),
then recommend 10 unseen items to every user of it.

Fairness: both run on one thread. implicit's ``CosineRecommender(num_threads=1)`` computes its
neighbours on one thread (its default, 0, would use every core) and scores users one at a
time; ours is NumPy/SciPy code, single-threaded, and BLAS is held to one thread
(``threadpool_limits(1)``; set ``OPENBLAS_NUM_THREADS=1`` too). The two are timed in ONE
process, alternately (ours then implicit's, then implicit's then ours, ...), so both see the
same machine load; the reported time is the best of ``--repeats`` runs (default 25 on
MovieLens, 7 on the simulated log), and ``itemknn_over_implicit_ratio`` divides our best
wall-clock time by theirs. CPU time (``time.process_time``, both sides single-threaded) is
recorded beside it, ratio in ``itemknn_over_implicit_cpu_ratio``: on a shared machine the
best wall-clock time of a sub-second run depends on whether a quiet moment came by, so the CPU
ratio is the steadier of the two.

Data: MovieLens 100K (the training matrix of ``benchmarks/movielens_100k.py``'s course
partition: 943 users, 1,682 items, 75,066 ratings) and a simulated log of 1,000,000 events
(``generate_catalogue(seed=42, n_users=10_000, n_items=5_000, n_interactions=1_000_000)``:
ratings on a catalogue of a few thousand items).

Run ``python -m benchmarks.item_knn_speed [--repeats N] [--datasets movielens-100k,simulated-1m]``.
Writes ``benchmarks/results/item_knn_speed.json``; the load average before and after is
recorded there: on a busy machine the absolute times are inflated, the alternated ratio much
less so.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from functools import partial
from pathlib import Path

import numpy as np
import scipy
from threadpoolctl import threadpool_limits

RESULTS = Path(__file__).resolve().parent / "results" / "item_knn_speed.json"
K_VALUES = (21, 101)
LIST_LENGTH = 10
SIMULATED = {"seed": 42, "n_users": 10_000, "n_items": 5_000, "n_interactions": 1_000_000}
#: Timed runs of each side per K (best kept): a MovieLens run takes a fraction of a second, so
#: many more of them fit in the time one run on the simulated log takes.
REPEATS = {"movielens-100k": 25, "simulated-1m": 7}


def movielens_100k_train():
    """The course partition's training matrix of ``benchmarks/movielens_100k.py``."""
    from benchmarks.movielens_100k import splits
    from recsys_lessons.data import interaction_matrix, load_dataset

    data = load_dataset("movielens-100k")
    train_frame = splits(data, "course")[0]
    return interaction_matrix(data.interactions).like(train_frame).X


def simulated_train():
    """Every event of the seeded simulated catalogue, ratings as values."""
    from recsys_lessons.data import generate_catalogue, interaction_matrix

    data = generate_catalogue(**SIMULATED)
    return interaction_matrix(data.interactions).X


DATASETS = {
    "movielens-100k": (movielens_100k_train, "movielens_100k course partition, train"),
    "simulated-1m": (simulated_train, f"generate_catalogue(**{SIMULATED})"),
}


def _ours(train, K: int) -> None:
    from recsys_lessons.models import ItemKNN

    ItemKNN(neighbors=K - 1).fit(train).recommend(k=LIST_LENGTH)


def _implicit(train, K: int) -> None:
    from implicit.nearest_neighbours import CosineRecommender
    from implicit.utils import ParameterWarning

    model = CosineRecommender(K=K, num_threads=1)
    with warnings.catch_warnings():
        # implicit 0.7.3 converts to COO internally, then warns that it wanted CSR.
        warnings.simplefilter("ignore", ParameterWarning)
        model.fit(train, show_progress=False)
    model.recommend(
        np.arange(train.shape[0]), train, N=LIST_LENGTH, filter_already_liked_items=True
    )


def _timed(run) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def side_by_side(train, repeats: int = 5, k_values=K_VALUES) -> list[dict]:
    """Best-of-``repeats`` wall and CPU seconds of ours and implicit's, timed alternately.

    Returns one row per ``K``: ``ours_seconds`` / ``implicit_seconds`` (wall, best run),
    their ratio ``ours_over_implicit``, and the same for CPU time.
    """
    train = train.tocsr()
    rows = []
    with threadpool_limits(1):
        for K in k_values:
            timings = {"ours": [], "implicit": []}
            runs = {"ours": partial(_ours, train, K), "implicit": partial(_implicit, train, K)}
            for repeat in range(repeats):
                order = ("ours", "implicit") if repeat % 2 == 0 else ("implicit", "ours")
                for name in order:
                    timings[name].append(_timed(runs[name]))
            ours_wall, ours_cpu = (min(t) for t in zip(*timings["ours"], strict=True))
            their_wall, their_cpu = (min(t) for t in zip(*timings["implicit"], strict=True))
            rows.append(
                {
                    "K": K,
                    "ours": f"ItemKNN(neighbors={K - 1})",
                    "implicit": f"CosineRecommender(K={K}, num_threads=1)",
                    "ours_seconds": ours_wall,
                    "implicit_seconds": their_wall,
                    "ours_over_implicit": ours_wall / their_wall,
                    "ours_cpu_seconds": ours_cpu,
                    "implicit_cpu_seconds": their_cpu,
                    "ours_over_implicit_cpu": ours_cpu / their_cpu,
                    "repeats": repeats,
                }
            )
    return rows


def run(datasets, repeats: int | None = None) -> dict:
    """Time both datasets (``repeats`` runs each, default :data:`REPEATS`); write the JSON."""
    started = time.perf_counter()
    load_before = os.getloadavg()
    result = {
        "datasets": {},
        "itemknn_over_implicit_ratio": {},
        "itemknn_over_implicit_cpu_ratio": {},
    }
    for name in datasets:
        build, description = DATASETS[name]
        train = build()
        rows = side_by_side(train, repeats or REPEATS[name])
        result["datasets"][name] = {
            "matrix": description,
            "users": train.shape[0],
            "items": train.shape[1],
            "events": int(train.nnz),
            "rows": rows,
        }
        result["itemknn_over_implicit_ratio"][name] = {
            f"K={row['K']}": row["ours_over_implicit"] for row in rows
        }
        result["itemknn_over_implicit_cpu_ratio"][name] = {
            f"K={row['K']}": row["ours_over_implicit_cpu"] for row in rows
        }
        print(
            f"\n{name}: {train.shape[0]:,} users x {train.shape[1]:,} items, {train.nnz:,} events"
        )
        print(
            f"fit + recommend {LIST_LENGTH} to every user, best of {rows[0]['repeats']}, one thread:"
        )
        for row in rows:
            print(
                f"  K={row['K']:>3}  ours {row['ours_seconds']:.3f} s  implicit "
                f"{row['implicit_seconds']:.3f} s  ratio {row['ours_over_implicit']:.2f}  "
                f"(CPU: {row['ours_cpu_seconds']:.3f} s / {row['implicit_cpu_seconds']:.3f} s "
                f"= {row['ours_over_implicit_cpu']:.2f})"
            )
    load_after = os.getloadavg()
    result["machine"] = {
        "cpu_count": os.cpu_count(),
        "load_average_before": list(load_before),
        "load_average_after": list(load_after),
        "note": "shared machine: absolute times are inflated by other jobs; the ratio, "
        "timed alternately in one process, is what counts",
        "threads": "one: CosineRecommender(num_threads=1), threadpool_limits(1) for BLAS",
    }
    result["environment"] = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "implicit": _implicit_version(),
        "machine": platform.machine(),
    }
    result["total_seconds"] = time.perf_counter() - started
    if set(datasets) == set(DATASETS):
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")
        print(f"\nwritten {RESULTS.name} ({result['total_seconds']:.0f} s)")
    return result


def _implicit_version() -> str:
    from importlib.metadata import version

    return version("implicit")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help=f"timed runs of each (best kept); default {REPEATS}",
    )
    parser.add_argument(
        "--datasets",
        default=",".join(DATASETS),
        help=f"comma-separated subset of {list(DATASETS)}; the JSON is written only for all",
    )
    args = parser.parse_args(argv)
    datasets = args.datasets.split(",")
    unknown = set(datasets) - set(DATASETS)
    if unknown:
        parser.error(f"unknown datasets {sorted(unknown)}; choose from {list(DATASETS)}")
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return run(datasets, args.repeats)


if __name__ == "__main__":
    main()
