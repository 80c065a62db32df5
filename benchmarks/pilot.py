"""The pilot kit (``recsys-pilot``) at scale: phase times and peak memory on generated logs.

**Log.** :func:`generate_log` writes a seeded CSV of ``n_events`` events with string ids
(``user_id`` like ``u000123``, ``item_id`` like ``i00042``) and epoch-second timestamps over
one year. Item popularity is Zipf (item ``i`` of the popularity ranking is drawn with
probability proportional to ``(i + 1) ** -ZIPF_EXPONENT``), user activity log-normal (sigma
1), and each user draws half of their events from one of :data:`N_TASTES` taste groups of
items (the same Zipf ranking inside the group), so the collaborative models have something
to learn. Repeated (user, item) pairs are kept, as in a real log (the pilot de-duplicates
them). Sizes keep the issue's 2M-event shape: 40 events per user and 100 per item
(2,000,000 events: 50,000 users, 20,000 items).

**Run.** Per row, in a fresh process: ``python -m recsys_lessons.pilot LOG --quiet`` with
every default (``--engine spark`` for the Spark row; ``--time-limit T`` for the time-limit
rows), its phase times read from its progress lines and ``results.json``, its peak memory
from ``ru_maxrss`` of the child, and for Spark also the ``VmHWM`` of the JVM and of the
Python worker processes under it (the executors' side of the top-k), read from ``/proc``
just before the child exits; they are separate processes, so their peaks are added, an
upper bound of the run's peak. The machine's load average
(``os.getloadavg``) is recorded before and after each run: the reference machine is
shared, and a run's time is only comparable with a run under a similar load.

**Time-limit rows** (``--limit-sizes`` x ``--time-limits``): the run is told to finish
within ``T`` seconds (:mod:`recsys_lessons.pilot.time_limit`); the row records the child's
whole wall time (interpreter start-up and imports included) over ``T``
(``wall_over_limit``), the kit's own total (``total_seconds``, from its clock's start to
the outputs), what the limit cut or skipped, and the plan the kit made.

Run ``python -m benchmarks.pilot`` (``--sizes 100000,500000,2000000``; ``--limit-sizes
500000,2000000 --time-limits 120,240``; ``--spark-sizes 2000000,10000000`` (the default,
:data:`SPARK_SIZES`) adds the ``--engine spark`` runs when pyspark and Java are present; an
empty list skips a kind). Rows are merged
into ``benchmarks/results/pilot.json`` by ``(n_events, engine, time_limit)``: a row
measured again replaces its old one, the others are kept.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.scale import descendants, vm_hwm_mb

RESULTS = Path(__file__).resolve().parent / "results" / "pilot.json"
SIZES = (100_000, 500_000, 2_000_000)
#: The ``--engine spark`` runs: the local engine's largest log and five times it.
SPARK_SIZES = (2_000_000, 10_000_000)
#: The time-limit rows: each size with each limit (seconds).
LIMIT_SIZES = (500_000, 2_000_000)
TIME_LIMITS = (120.0, 240.0)
#: A plain progress line of recsys_lessons.pilot.progress: "[  12.3 s] audit: done in 4.5 s"
DONE = re.compile(r"^\[\s*[\d.]+ s\] (?P<phase>.+?): done(?:, \S+ \S+)? in (?P<seconds>[\d.]+) s$")

#: Events per user and per item of the generated logs (the issue's 2M log: 50,000 x 20,000).
EVENTS_PER_USER, EVENTS_PER_ITEM = 40, 100
ZIPF_EXPONENT = 1.0
N_TASTES = 20
#: Share of a user's events drawn from their taste group (the rest from the whole catalogue).
TASTE_SHARE = 0.5
YEAR_SECONDS = 365 * 24 * 3600
START = 1_700_000_000  # 2023-11-14, epoch seconds


def generate_log(n_events: int, seed: int = 0) -> pd.DataFrame:
    """A seeded log of ``n_events`` rows: ``user_id``, ``item_id`` (str), ``timestamp`` (int).

    See the module docstring for the shape. ``n_users = n_events // 40`` and ``n_items =
    n_events // 100``; users who draw no event are simply absent.
    """
    rng = np.random.default_rng(seed)
    n_users, n_items = n_events // EVENTS_PER_USER, n_events // EVENTS_PER_ITEM
    activity = rng.lognormal(0.0, 1.0, n_users)
    users = rng.choice(n_users, size=n_events, p=activity / activity.sum())
    ranking = np.arange(1, n_items + 1, dtype=np.float64) ** -ZIPF_EXPONENT
    global_items = rng.choice(n_items, size=n_events, p=ranking / ranking.sum())
    # taste group g holds the items whose rank is congruent to g; rank r inside it is Zipf
    per_group = n_items // N_TASTES
    inner = np.arange(1, per_group + 1, dtype=np.float64) ** -ZIPF_EXPONENT
    taste = rng.integers(0, N_TASTES, n_users)[users]
    taste_items = rng.choice(per_group, size=n_events, p=inner / inner.sum()) * N_TASTES + taste
    items = np.where(rng.random(n_events) < TASTE_SHARE, taste_items, global_items)
    # item ids are shuffled, so the id order says nothing about popularity
    item_names = rng.permutation(n_items)
    timestamps = START + np.sort(rng.integers(0, YEAR_SECONDS, n_events))
    return pd.DataFrame(
        {
            "user_id": pd.Series(users).map("u{:06d}".format),
            "item_id": pd.Series(item_names[items]).map("i{:05d}".format),
            "timestamp": timestamps,
        }
    )


def run_cell(log_path: str, output: str, engine: str, time_limit: str = "") -> dict:
    """One pilot run with every default (and ``--time-limit`` when given), in this (fresh)
    process; its peak memory."""
    from recsys_lessons.pilot.cli import main as pilot

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    limit = ["--time-limit", time_limit] if time_limit else []
    code = pilot([log_path, "-o", output, "--engine", engine, *limit])
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak, cpu = usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime
    jvm = workers = None
    if engine == "spark":
        from pyspark.sql import SparkSession

        session = SparkSession.getActiveSession()
        if session is not None:
            jvm_pid = session.sparkContext._gateway.proc.pid
            jvm = vm_hwm_mb(jvm_pid)
            workers = sum(filter(None, map(vm_hwm_mb, descendants(jvm_pid)))) or None
    return {
        "exit_code": code,
        "python_peak_mb": peak,
        "jvm_peak_mb": jvm,
        "workers_peak_mb": workers,
        "cpu_seconds": cpu,
    }


def measure(
    n_events: int, folder: Path, engine: str = "local", time_limit: float | None = None
) -> dict:
    """Generate the log (once per size), run the pilot on it in a fresh process, read its
    phases and results."""
    log_path = folder / f"log_{n_events}.csv"
    if not log_path.exists():
        generate_log(n_events).to_csv(log_path, index=False)
    output = folder / f"report_{n_events}_{engine}_{time_limit or 'none'}"
    limit = [] if time_limit is None else [f"{time_limit:g}"]
    command = [
        sys.executable, "-m", "benchmarks.pilot", "--cell", str(log_path), str(output), engine,
        *limit,
    ]  # fmt: skip
    load_before = os.getloadavg()
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    cell = json.loads(done.stdout.strip().splitlines()[-1])
    phases = {}
    for line in done.stderr.splitlines():
        match = DONE.match(line)
        if match:
            phases[match["phase"]] = float(match["seconds"])
    results = json.loads((output / "results.json").read_text())
    profile = results["profile"]
    row = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "n_events": n_events,
        "engine": engine,
        "time_limit": time_limit,
        "rows_after_cleaning": profile["interactions"],
        "users": profile["users"],
        "items": profile["items"],
        "wall_seconds": seconds,
        "cpu_seconds": cell["cpu_seconds"],
        "phase_seconds": phases,
        "phase_cpu_seconds": results["phase_cpu_seconds"],
        "peak_rss_mb": cell["python_peak_mb"]
        + (cell["jvm_peak_mb"] or 0.0)
        + (cell["workers_peak_mb"] or 0.0),
        "python_peak_rss_mb": cell["python_peak_mb"],
        "jvm_peak_rss_mb": cell["jvm_peak_mb"],
        "spark_python_workers_peak_rss_mb": cell["workers_peak_mb"],
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "compared": [row["model"] for row in results["models"] if row["status"] == "compared"],
        "skipped": [row["model"] for row in results["models"] if row["status"] == "skipped"],
        "fits_used": results["budget"]["fits_used"],
        "fit_budget": results["budget"]["fit_budget"],
        "grids_cut": results["budget"]["grids_cut"],
        "tuning_users": results["budget"]["tuning_users"],
        "verdict": results["decision"]["verdict"],
        "headline": results["decision"]["headline"],
        "recommendations_from": results["decision"]["model"],
        "scored_users": results["protocol"]["test_users"],
    }
    if time_limit is not None:
        plan = results["budget"]["time"]
        row.update(
            wall_over_limit=seconds / time_limit,
            total_seconds=plan["total_seconds"],
            total_over_limit=plan["total_seconds"] / time_limit,
            time_limit_cut=results["budget"]["time_limit_cut"],
            time_limit_skipped=plan["skipped"],
            time_plan=plan,
        )
    return row


def merge_runs(rows: list[dict], header: dict, path: Path = RESULTS) -> dict:
    """``path``'s runs with ``rows`` merged in by ``(n_events, engine, time_limit)``: a row
    measured again replaces the old one in place, a new one is appended; ``header`` (date,
    machine, command) replaces the file's."""
    old = json.loads(path.read_text())["runs"] if path.exists() else []
    key = lambda row: (row["n_events"], row["engine"], row.get("time_limit"))  # noqa: E731
    fresh = {key(row): row for row in rows}
    merged = [fresh.pop(key(row), row) for row in old] + list(fresh.values())
    result = {**header, "runs": merged}
    path.write_text(json.dumps(result, indent=2) + "\n")
    return result


def _spark_ready() -> bool:
    from recsys_lessons.scale.spark import spark_problem

    return spark_problem() is None


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes",
        default=",".join(map(str, SIZES)),
        help="comma-separated event counts of the local runs (default: %(default)s)",
    )
    parser.add_argument(
        "--spark-sizes",
        default=",".join(map(str, SPARK_SIZES)),
        help="comma-separated event counts of the --engine spark runs, run when pyspark and "
        "Java are present (default: %(default)s)",
    )
    parser.add_argument(
        "--limit-sizes",
        default=",".join(map(str, LIMIT_SIZES)),
        help="comma-separated event counts of the --time-limit runs (default: %(default)s)",
    )
    parser.add_argument(
        "--time-limits",
        default=",".join(f"{limit:g}" for limit in TIME_LIMITS),
        help="comma-separated --time-limit seconds, each run on every --limit-sizes log "
        "(default: %(default)s)",
    )
    parser.add_argument("--cell", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cell:
        print(json.dumps(run_cell(*args.cell)))
        return {}
    cells = [(int(size), "local", None) for size in _numbers(args.sizes)]
    cells += [
        (int(size), "local", float(limit))
        for size in _numbers(args.limit_sizes)
        for limit in _numbers(args.time_limits)
    ]
    spark_sizes = _numbers(args.spark_sizes)
    if spark_sizes and _spark_ready():
        cells += [(int(size), "spark", None) for size in spark_sizes]
    runs = []
    header = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        },
        "command": "python -m recsys_lessons.pilot LOG -o OUTPUT [--engine spark] "
        "[--time-limit T] (every other default)",
    }
    result = {}
    with tempfile.TemporaryDirectory() as folder:
        for n_events, engine, time_limit in cells:
            row = measure(n_events, Path(folder), engine, time_limit)
            runs.append(row)
            result = merge_runs(runs, header)  # after every run
            phases = ", ".join(
                f"{name} {value:.1f}" for name, value in row["phase_seconds"].items()
            )
            print(
                f"{n_events:>11,d} events ({engine}, limit {time_limit}): {row['users']:,} users x {row['items']:,} "
                f"items, {row['wall_seconds']:.0f} s ({row['cpu_seconds']:.0f} s CPU), peak "
                f"{row['peak_rss_mb']:,.0f} MB, load {row['load_average_before'][0]:.1f} -> "
                f"{row['load_average_after'][0]:.1f}\n    phases (s): {phases}",
                flush=True,
            )
    return result


def _numbers(text: str) -> list[float]:
    return [float(value) for value in text.split(",") if value.strip()]


if __name__ == "__main__":
    main()
