"""``recsys-pilot`` / ``python -m recsys_lessons.pilot``: a log in, a report folder out.

Example::

    recsys-pilot ratings.csv --items movies.csv --output pilot-report

Input problems are printed as one sentence (``error: ...``) with exit code 2, before any
file is written; nothing is left half-done. The output folder is checked before any work
(:mod:`recsys_lessons.pilot.output`): an existing output file is replaced only with
``--overwrite``, an input file never. Ctrl-C prints one line and exits with 130, writing
nothing.

Reproducing: ``results.json`` records the command, every setting, the inputs' SHA-256, the
code version, the machine and the package versions (:mod:`recsys_lessons.pilot.provenance`);
the report ends with the command, and ``--params results.json`` reruns with the recorded
tuned parameters. A team's own rows: ``--plugin module:function`` (:func:`load_plugin`).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from recsys_lessons.pilot.budget import (
    FULL_GRIDS_FIT_BUDGET,
    LARGE_LOG_FIT_BUDGET,
    SMALL_LOG_INTERACTIONS,
)
from recsys_lessons.pilot.decision import DEFAULT_MARGIN, check_margin
from recsys_lessons.pilot.io import PilotInputError, load_items, load_log, match_items
from recsys_lessons.pilot.models import REGISTRY, ModelSpec, register
from recsys_lessons.pilot.output import check_output_folder, write_outputs
from recsys_lessons.pilot.progress import Progress
from recsys_lessons.pilot.protocol import SPLITS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recsys-pilot",
        description=(
            "Compare the course's recommenders on your own interaction log (CSV or Parquet) "
            "and write report.html, results.json, recommendations.csv and per_user_metrics.csv."
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
        help="replace the four output files if --output already holds them; an input file "
        "is never replaced (default: off, refuse)",
    )
    for role in ("user", "item", "rating", "timestamp"):
        parser.add_argument(f"--{role}-col", help=f"name of the {role} column (default: detected)")
    parser.add_argument(
        "--weight-col",
        help="column of non-negative weights (quantity, plays) the training matrices hold "
        "instead of 1.0: ALS reads it as confidence, EASE in its Gram matrix, content-based "
        "(center=True) in its profile weights, the other rows count each pair once "
        "(default: none, every pair 1.0)",
    )
    parser.add_argument(
        "--min-rating",
        type=float,
        help="events rated below this are not positives and are dropped (default: none, "
        "every event is a positive)",
    )
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
        help="grid points tried in tuning, shared by the models; a count, so the results do "
        f"not depend on the machine's speed (default: {FULL_GRIDS_FIT_BUDGET}, every grid in "
        f"full, for a log of up to {SMALL_LOG_INTERACTIONS:,} interactions; "
        f"{LARGE_LOG_FIT_BUDGET} above, so a 2M-event log runs in minutes)",
    )
    parser.add_argument(
        "--time-limit",
        type=float,
        help="optional limit in seconds for the whole run (loading to writing): tuning stops, "
        "and rows are skipped, when the time spent plus an estimate of what remains (tests, "
        "refit, report; measured in this run) would pass it; the results can then depend "
        "on the machine's speed (default: none)",
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
        help="users with fewer training events are neither trained on nor scored; "
        "recommendations.csv gives them the popularity fallback (default: %(default)s)",
    )
    parser.add_argument(
        "--min-item-count",
        type=int,
        default=5,
        help="items with fewer training events leave the catalogue (default: %(default)s)",
    )
    parser.add_argument(
        "--models",
        help=f"comma-separated subset of {','.join(spec.name for spec in REGISTRY)} and the "
        "--plugin rows (default: all)",
    )
    parser.add_argument(
        "--protocol",
        choices=SPLITS,
        default="auto",
        help="the split: global (one cut in time), per-user (each user's latest events), "
        "random (user-stratified), or auto (global when it scores enough users, else "
        "per-user; random without timestamps) (default: %(default)s)",
    )
    parser.add_argument(
        "--params",
        metavar="RESULTS_JSON",
        help="rerun with the tuned parameters recorded in an earlier run's results.json "
        "(tuning skipped for those rows) (default: none, tune)",
    )
    parser.add_argument(
        "--plugin",
        action="append",
        metavar="MODULE:FUNCTION",
        help="import MODULE and register the ModelSpec(s) FUNCTION() returns as extra rows; "
        "repeatable (default: none)",
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
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        return _run(args, argv)
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=sys.stderr)
        return 130


def _run(args, argv: list[str]) -> int:
    from recsys_lessons.pilot.provenance import record_provenance, tuned_params
    from recsys_lessons.pilot.report import render_report
    from recsys_lessons.pilot.run import per_user_table, run_pilot
    from recsys_lessons.pilot.time_limit import record_total

    try:
        for plugin in args.plugin or ():
            load_plugin(plugin)
        _check_settings(args)
        inputs = [args.log] + [path for path in (args.items, args.params) if path]
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
        params = tuned_params(args.params) if args.params else None
        progress = Progress(enabled=not args.quiet)
        if args.time_limit is not None:
            progress.note(
                f"time limit: the whole run within {args.time_limit:g} s (load to writing); "
                "tuning stops and rows are skipped when the time spent plus an estimate of "
                "what remains would pass it"
            )
        with progress.phase("load"):
            log = load_log(
                args.log, columns, args.min_user_count, args.min_item_count,
                weight_col=args.weight_col, min_rating=args.min_rating, progress=progress,
            )  # fmt: skip
        items = load_items(args.items) if args.items else None
        if items is not None:
            log.notices += match_items(items, log, args.items)
        for notice in log.notices:
            print(f"notice: {notice}")
        models = args.models.split(",") if args.models else None
        results, lists, protocol, recs = run_pilot(
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
            split=args.protocol,
            params=params,
            margin=args.margin,
        )
    except (PilotInputError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    files = {"log": args.log, "items": args.items, "params": args.params}
    results["provenance"] = record_provenance(argv, vars(args), files, args.engine)
    try:
        with progress.phase("writing"):
            writing_started = progress.elapsed()
            record_total(results, writing_started, progress.seconds)  # what the page states
            html = render_report(results, log.interactions)
            # results.json's total: every phase but the file writes themselves
            rendering = progress.elapsed() - writing_started
            record_total(results, progress.elapsed(), {**progress.seconds, "writing": rendering})
            write_outputs(args.output, results, recs, html, per_user_table(lists, protocol))
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
        f"{os.path.join(args.output, 'report.html')} ({progress.elapsed():.1f} s)"
    )
    plan = results["budget"]["time"]
    if plan is not None and not plan["within_limit"]:
        print(
            f"time limit: the run took {progress.elapsed():.1f} s, past --time-limit "
            f"{plan['limit_seconds']:g} s (the baseline and the first row always run; see "
            "budget.time in results.json)."
        )
    return 0


def load_plugin(target: str) -> list[ModelSpec]:
    """Import ``module:function``, call it and :func:`register` the ModelSpec(s) it returns.

    The function takes no argument and returns one :class:`ModelSpec` or a list of them;
    each becomes a row of the comparison (``--models`` may then name it).
    """
    module_name, _, function_name = target.partition(":")
    if not module_name or not function_name:
        raise PilotInputError(
            f"--plugin {target!r}: write it as module:function (e.g. my_rows:pilot_rows)."
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise PilotInputError(
            f"--plugin {target}: cannot import {module_name!r} ({error}); run from the folder "
            "that holds it or add that folder to PYTHONPATH."
        ) from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise PilotInputError(
            f"--plugin {target}: {module_name} has no function {function_name!r}."
        )
    returned = function()
    specs = [returned] if isinstance(returned, ModelSpec) else returned
    if (
        not isinstance(specs, list | tuple)
        or not specs
        or not all(isinstance(spec, ModelSpec) for spec in specs)
    ):
        raise PilotInputError(
            f"--plugin {target}: {function_name}() must return a ModelSpec or a list of them; "
            f"it returned {type(returned).__name__}."
        )
    for spec in specs:
        register(spec)
    return list(specs)


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
    if args.fit_budget is not None and args.fit_budget < 1:
        raise PilotInputError("--fit-budget must be at least 1 (the defaults of each model).")
    if args.memory_limit_mb <= 0 or (args.time_limit is not None and args.time_limit <= 0):
        raise PilotInputError("--memory-limit-mb and --time-limit must be positive.")
    try:
        check_margin(args.margin)
    except ValueError as error:
        raise PilotInputError(f"--margin: {error}") from None
