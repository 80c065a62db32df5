"""Re-execute lesson and solution notebooks in place on MovieLens 100K (``make render``).

The committed outputs of ``notebooks/`` and ``solutions/`` must be exactly what the code
produces on the canonical dataset, executed top to bottom in a fresh kernel. Solutions run
with strict exercise checks, so a wrong reference answer stops the render. Afterwards the
exercise notebooks are regenerated from the solutions.

Usage: ``python -m tools.render [NOTEBOOK ...]`` (default: every lesson and solution).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbformat

from tools.execute import environment, execute_notebook

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "datasets"


#: Lessons that need the optional Spark extra (``make spark``).
SPARK_LESSONS = ("13_scale_out_with_spark.ipynb",)


def notebooks_to_render(paths: list[str]) -> list[Path]:
    """The notebooks named, or every lesson and solution.

    By default a Spark lesson is left out when pyspark or Java is missing: rendered without
    them it would commit outputs whose Spark cells were skipped.
    """
    if paths:
        return [Path(p).resolve() for p in paths]
    everything = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted(
        (ROOT / "solutions").glob("*.ipynb")
    )
    from recsys_lessons.scale import spark_problem

    problem = spark_problem()
    if problem is None:
        return everything
    print(f"skipping {', '.join(SPARK_LESSONS)}: {problem}")
    return [path for path in everything if path.name not in SPARK_LESSONS]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "notebooks", nargs="*", help="notebooks to render (default: all lessons and solutions)"
    )
    args = parser.parse_args(argv)

    data = os.environ.get("RECSYS_LESSONS_DATA") or (
        str(DEFAULT_DATA) if DEFAULT_DATA.is_dir() else None
    )
    failures = 0
    with environment(
        RECSYS_LESSONS_DATASET="movielens-100k", RECSYS_LESSONS_DATA=data, OPENBLAS_NUM_THREADS="1"
    ):
        for path in notebooks_to_render(args.notebooks):
            strict = path.parent.name == "solutions"
            with environment(RECSYS_LESSONS_CHECKS="strict" if strict else "report"):
                result = execute_notebook(path)
            if result.ok:
                nbformat.write(result.notebook, path)
                print(f"rendered  {path.relative_to(ROOT)}  ({result.seconds:.1f} s)")
            else:
                failures += 1
                print(f"FAILED    {path.relative_to(ROOT)}: {result.error} (file left unchanged)")
    if failures:
        print(f"{failures} notebook(s) failed; fix them and render again.")
        return 1

    from tools.make_exercises import main as make_exercises

    return make_exercises([])


if __name__ == "__main__":
    sys.exit(main())
