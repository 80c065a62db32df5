"""``recsys-pilot`` / ``python -m recsys_lessons.pilot``: a log in, a report folder out.

Example::

    recsys-pilot ratings.csv --items movies.csv --output pilot-report

Input problems are printed as one sentence (``error: ...``) with exit code 2, before any
file is written; nothing is left half-done. The output folder is checked before any work
(:mod:`recsys_lessons.pilot.output`): an existing output file is replaced only with
``--overwrite``, an input file never. Ctrl-C prints one line and exits with 130, writing
nothing.
"""

from __future__ import annotations

import argparse
import os
import sys

from recsys_lessons.pilot.budget import DEFAULT_FIT_BUDGET
from recsys_lessons.pilot.io import PilotInputError, load_items, load_log, match_items
from recsys_lessons.pilot.models import REGISTRY
from recsys_lessons.pilot.output import check_output_folder, write_outputs
from recsys_lessons.pilot.progress import Progress


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recsys-pilot",
        description=(
            "Compare the course's recommenders on your own interaction log (CSV or Parquet) "
            "and write report.html, results.json and recommendations.csv."
        ),
    )
    parser.add_argument("log", help="interaction log: one row per (user, item) event")
    parser.add_argument(
        "--items", help="optional item metadata (item id + title/genres/tags/text) (default: none)"
    )
    parser.add_argument(
        "--output", "-o", default="pilot-report", help="output folder (default: %(default)s)"
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace results.json, recommendations.csv and report.html if --output already "
        "holds them; an input file is never replaced (default: off, refuse)",
    )
    for role in ("user", "item", "rating", "timestamp"):
        parser.add_argument(f"--{role}-col", help=f"name of the {role} column (default: detected)")
    parser.add_argument(
        "--k", type=int, default=10, help="length of the evaluated lists (default: %(default)s)"
    )
    parser.add_argument(
        "--top-n",
        type=int,
        default=10,
        help="recommendations per user written (default: %(default)s)",
    )
    parser.add_argument(
        "--test-ratio",
        type=float,
        default=0.2,
        help="share held out for test (default: %(default)s)",
    )
    parser.add_argument(
        "--seed", type=int, default=42, help="seed of every random choice (default: %(default)s)"
    )
    parser.add_argument(
        "--fit-budget",
        type=int,
        default=DEFAULT_FIT_BUDGET,
        help="grid points tried in tuning, shared by the models; a count, so the results do "
        "not depend on the machine's speed (default: %(default)s)",
    )
    parser.add_argument(
        "--time-limit",
        type=float,
        help="optional cap in seconds from the start of the run: after it, no model tries a "
        "grid point beyond its first, and the results can depend on the machine's speed "
        "(default: none)",
    )
    parser.add_argument(
        "--memory-limit-mb",
        type=float,
        default=1024.0,
        help="MB allowed for EASE's item x item matrices (default: %(default)s)",
    )
    parser.add_argument(
        "--min-user-count",
        type=int,
        default=5,
        help="drop users with fewer interactions (default: %(default)s)",
    )
    parser.add_argument(
        "--min-item-count",
        type=int,
        default=5,
        help="drop items with fewer interactions (default: %(default)s)",
    )
    parser.add_argument(
        "--models",
        help=f"comma-separated subset of {','.join(spec.name for spec in REGISTRY)} (default: all)",
    )
    parser.add_argument(
        "--engine",
        choices=("local", "spark"),
        default="local",
        help=(
            "spark: popularity and ALS rows on Apache Spark (make spark + Java 17+), others "
            "skipped (default: %(default)s)"
        ),
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="no progress report (default: off; a bar per phase on a terminal, one line per "
        "phase start and end otherwise)",
    )
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        return _run(args)
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=sys.stderr)
        return 130


def _run(args) -> int:
    from recsys_lessons.pilot.report import render_report
    from recsys_lessons.pilot.run import run_pilot

    try:
        _check_settings(args)
        inputs = [args.log] + ([args.items] if args.items else [])
        check_output_folder(args.output, inputs, overwrite=args.overwrite)
        if args.engine == "spark":
            from recsys_lessons.scale.spark import spark_problem

            problem = spark_problem()
            if problem is not None:
                raise PilotInputError(f"--engine spark: {problem}")
        columns = {
            "user_id": args.user_col,
            "item_id": args.item_col,
            "rating": args.rating_col,
            "timestamp": args.timestamp_col,
        }
        progress = Progress(enabled=not args.quiet)
        with progress.phase("load"):
            log = load_log(args.log, columns, args.min_user_count, args.min_item_count, progress)
        items = load_items(args.items) if args.items else None
        if items is not None:
            log.notices += match_items(items, log, args.items)
        for notice in log.notices:
            print(f"notice: {notice}")
        models = args.models.split(",") if args.models else None
        results, _, _, recs = run_pilot(
            log,
            items,
            k=args.k,
            test_ratio=args.test_ratio,
            seed=args.seed,
            fit_budget=args.fit_budget,
            time_limit=args.time_limit,
            memory_limit_mb=args.memory_limit_mb,
            top_n=args.top_n,
            models=models,
            progress=progress,
            engine=args.engine,
        )
    except (PilotInputError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        with progress.phase("writing"):
            write_outputs(args.output, results, recs, render_report(results, log.interactions))
    except OSError as error:
        print(
            f"error: could not write into {args.output} ({error}); nothing was written.",
            file=sys.stderr,
        )
        return 2
    print(
        f"recommended model: {results['choice']['model']}; report written to "
        f"{os.path.join(args.output, 'report.html')} ({results['run_seconds']:.1f} s)"
    )
    return 0


def _check_settings(args) -> None:
    known = {spec.name for spec in REGISTRY}
    if args.models:
        unknown = sorted(set(args.models.split(",")) - known)
        if unknown:
            raise PilotInputError(f"--models: unknown {unknown}; choose from {sorted(known)}.")
    for name in ("k", "top_n", "min_user_count", "min_item_count"):
        if getattr(args, name) < 1:
            raise PilotInputError(f"--{name.replace('_', '-')} must be at least 1.")
    if not 0 < args.test_ratio < 1:
        raise PilotInputError("--test-ratio must lie strictly between 0 and 1 (e.g. 0.2).")
    if args.fit_budget < 1:
        raise PilotInputError("--fit-budget must be at least 1 (the defaults of each model).")
    if args.memory_limit_mb <= 0 or (args.time_limit is not None and args.time_limit <= 0):
        raise PilotInputError("--memory-limit-mb and --time-limit must be positive.")
