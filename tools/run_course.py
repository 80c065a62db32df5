"""Run every lesson headless and print a readiness table (``make course``).

The instructor's "is this laptop ready" command: each notebook in ``notebooks/`` is executed
top to bottom in a fresh kernel with the dataset the environment resolves to (MovieLens
100K when available, else the simulated catalogue). Executed copies and HTML pages go to
``build/course/``; the exit code is non-zero if any lesson fails.

Usage: ``python -m tools.run_course [--lessons DIR] [--output DIR]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

from recsys_lessons.data import resolve_auto
from tools.execute import environment, execute_notebook

ROOT = Path(__file__).resolve().parent.parent


def run_lessons(lessons: list[Path], output: Path) -> list[tuple[str, float, str]]:
    """Execute each lesson, save its executed copy and HTML page; ``(name, seconds, status)`` rows."""
    output.mkdir(parents=True, exist_ok=True)
    exporter = HTMLExporter()
    rows = []
    with environment(OPENBLAS_NUM_THREADS="1", RECSYS_LESSONS_CHECKS="report"):
        for path in lessons:
            print(f"running {path.name} ...", flush=True)
            result = execute_notebook(path)
            executed = output / path.name
            nbformat.write(result.notebook, executed)
            html, _ = exporter.from_notebook_node(result.notebook)
            executed.with_suffix(".html").write_text(html, encoding="utf-8")
            rows.append(
                (path.stem, result.seconds, "ok" if result.ok else f"FAILED: {result.error}")
            )
    return rows


def print_table(rows: list[tuple[str, float, str]], dataset: str) -> None:
    width = max(len("lesson"), *(len(name) for name, _, _ in rows))
    print()
    print(f"{'lesson':<{width}}  {'seconds':>7}  {'dataset':<16}  status")
    print(f"{'-' * width}  {'-' * 7}  {'-' * 16}  {'-' * 6}")
    for name, seconds, status in rows:
        print(f"{name:<{width}}  {seconds:7.1f}  {dataset:<16}  {status}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--lessons", type=Path, default=ROOT / "notebooks", help="folder of lesson notebooks"
    )
    parser.add_argument(
        "--output", type=Path, default=ROOT / "build" / "course", help="where executed copies go"
    )
    args = parser.parse_args(argv)

    lessons = sorted(args.lessons.glob("*.ipynb"))
    if not lessons:
        print(f"No lessons found in {args.lessons}/.")
        return 1
    dataset = resolve_auto()
    rows = run_lessons(lessons, args.output)
    print_table(rows, dataset)
    failed = sum(status != "ok" for _, _, status in rows)
    print(
        f"\n{len(rows) - failed} of {len(rows)} lessons ran; executed copies and HTML in {args.output}/"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
