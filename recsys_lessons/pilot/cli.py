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

from recsys_lessons.pilot.decision import DEFAULT_MARGIN, check_margin
from recsys_lessons.pilot.io import PilotInputError, load_items, load_log, match_items
from recsys_lessons.pilot.models import REGISTRY
from recsys_lessons.pilot.output import check_output_folder, write_outputs


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
        "--time-budget",
        type=float,
        default=60.0,
        help="seconds of tuning, shared by the models (default: %(default)s)",
    )
    parser.add_argument(
        "--margin",
        type=float,
        default=DEFAULT_MARGIN,
        help=(
            "equivalence margin on nDCG@k (lessons 12 and 13): the smallest difference that "
            "matters, fixed before the run; a row is shipped only when its lead over "
            "popularity is shown beyond it (default: %(default)s)"
        ),
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
        "--quiet", action="store_true", help="no progress bars (default: off, bars shown)"
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
        log = load_log(args.log, columns, args.min_user_count, args.min_item_count)
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
            time_budget=args.time_budget,
            memory_limit_mb=args.memory_limit_mb,
            top_n=args.top_n,
            models=models,
            progress=not args.quiet,
            engine=args.engine,
            margin=args.margin,
        )
    except (PilotInputError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    html = render_report(results, log.interactions)
    try:
        write_outputs(args.output, results, recs, html)
    except OSError as error:
        print(
            f"error: could not write into {args.output} ({error}); nothing was written.",
            file=sys.stderr,
        )
        return 2
    decision = results["decision"]
    print(f"verdict: {decision['headline']}. {decision['summary']}")
    print(
        f"recommendations.csv: {decision['model']}; report written to "
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
    if args.time_budget <= 0 or args.memory_limit_mb <= 0:
        raise PilotInputError("--time-budget and --memory-limit-mb must be positive.")
    try:
        check_margin(args.margin)
    except ValueError as error:
        raise PilotInputError(f"--margin: {error}") from None
