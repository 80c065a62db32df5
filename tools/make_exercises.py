"""Generate the learner's exercise notebooks from the solution notebooks.

``solutions/NN_topic.ipynb`` is the source of truth; ``exercises/NN_topic.ipynb`` is derived
from it, so the two cannot drift apart. Run from the repository root::

    python -m tools.make_exercises           # (re)write every exercises/*.ipynb
    python -m tools.make_exercises --check   # exit 1, listing the files that are out of sync

Marker syntax in the solution notebooks (the markers stay in the solution notebook, where
they are harmless comments):

Code cells. The lines from ``# BEGIN SOLUTION`` to ``# END SOLUTION`` (each marker alone on
its line, at any indentation) become a stub: ``# YOUR CODE HERE`` at the indentation of the
BEGIN marker, followed by the region's ``# STUB:`` lines with that prefix removed, or, when
the region has none, by ``...`` (inside a block, so a function returns ``None``) or ``pass``
(at top level, so Jupyter does not echo ``Ellipsis``). A ``# STUB:`` line keeps its own
indentation plus whatever follows ``# STUB: ``. Everything else in the cell is kept as is.
Use ``# STUB:`` lines when later cells need the name to exist. In the solution notebook::

    def precision_at_k(recommended, relevant, k):
        # BEGIN SOLUTION
        hits = sum(1 for item in recommended[:k] if item in relevant)
        return hits / k
        # END SOLUTION

    # BEGIN SOLUTION
    # STUB: top_items = None
    top_items = scores.argsort()[::-1][:10]
    # END SOLUTION

becomes, in the exercise notebook::

    def precision_at_k(recommended, relevant, k):
        # YOUR CODE HERE
        ...

    # YOUR CODE HERE
    top_items = None

Markdown cells. Lines from ``<!-- BEGIN SOLUTION -->`` to ``<!-- END SOLUTION -->``
(inclusive) are removed; a cell left empty is dropped. Use it for worked answers to
discussion questions.

Every exercise notebook has its outputs and execution counts cleared and the volatile
``execution`` timing metadata of cells removed; notebook metadata, cell ids, tags and all
other cells are kept. Files are written deterministically (nbformat JSON: sorted keys,
one-space indent, trailing newline), so regenerating an unchanged solution changes nothing.
A missing, unbalanced or misspelled marker is an error naming the file, cell and line.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent

BEGIN_CODE, END_CODE, STUB_PREFIX = "# BEGIN SOLUTION", "# END SOLUTION", "# STUB:"
BEGIN_MARKDOWN, END_MARKDOWN = "<!-- BEGIN SOLUTION -->", "<!-- END SOLUTION -->"
PLACEHOLDER = "# YOUR CODE HERE"
#: Anything that looks like a marker but is not spelled exactly right.
_MARKER_LIKE = re.compile(r"(#|<!--)\s*(BEGIN|END)[\s_-]*SOLUTION", re.IGNORECASE)


class MarkerError(ValueError):
    """A solution notebook's markers are unbalanced, nested or misspelled."""


def stub_code(source: str, where: str = "cell") -> str:
    """Replace every solution region of a code cell's source by its stub (see module doc)."""
    lines = source.split("\n")
    if not any(_MARKER_LIKE.search(line) or line.strip().startswith(STUB_PREFIX) for line in lines):
        return source
    out: list[str] = []
    region_start: int | None = None
    indent = ""
    stubs: list[str] = []
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped == BEGIN_CODE:
            if region_start is not None:
                raise MarkerError(f"{where}, line {number}: {BEGIN_CODE} inside another region.")
            region_start, indent, stubs = number, line[: len(line) - len(line.lstrip())], []
        elif stripped == END_CODE:
            if region_start is None:
                raise MarkerError(f"{where}, line {number}: {END_CODE} without {BEGIN_CODE}.")
            out.append(indent + PLACEHOLDER)
            out.extend(stubs or [indent + ("..." if indent else "pass")])
            region_start = None
        elif stripped.startswith(STUB_PREFIX):
            if region_start is None:
                raise MarkerError(
                    f"{where}, line {number}: {STUB_PREFIX} outside a solution region."
                )
            stub_indent = line[: len(line) - len(line.lstrip())]
            stubs.append(stub_indent + stripped[len(STUB_PREFIX) :].removeprefix(" "))
        elif _MARKER_LIKE.search(line):
            raise MarkerError(
                f"{where}, line {number}: misspelled marker {stripped!r}; write {BEGIN_CODE!r} or "
                f"{END_CODE!r} alone on the line."
            )
        elif region_start is None:
            out.append(line)
    if region_start is not None:
        raise MarkerError(f"{where}, line {region_start}: {BEGIN_CODE} without {END_CODE}.")
    return "\n".join(out)


def strip_markdown(source: str, where: str = "cell") -> str:
    """Remove every solution region of a markdown cell's source, markers included."""
    lines = source.split("\n")
    if not any(_MARKER_LIKE.search(line) for line in lines):
        return source
    out: list[str] = []
    region_start: int | None = None
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped == BEGIN_MARKDOWN:
            if region_start is not None:
                raise MarkerError(
                    f"{where}, line {number}: {BEGIN_MARKDOWN} inside another region."
                )
            region_start = number
        elif stripped == END_MARKDOWN:
            if region_start is None:
                raise MarkerError(
                    f"{where}, line {number}: {END_MARKDOWN} without {BEGIN_MARKDOWN}."
                )
            region_start = None
        elif _MARKER_LIKE.search(line):
            raise MarkerError(
                f"{where}, line {number}: misspelled marker {stripped!r}; write "
                f"{BEGIN_MARKDOWN!r} or {END_MARKDOWN!r} alone on the line."
            )
        elif region_start is None:
            out.append(line)
    if region_start is not None:
        raise MarkerError(f"{where}, line {region_start}: {BEGIN_MARKDOWN} without {END_MARKDOWN}.")
    return "\n".join(out).strip("\n")


def make_exercise(solution: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """The exercise version of a solution notebook (the input is not modified)."""
    exercise = copy.deepcopy(solution)
    cells = []
    for index, cell in enumerate(exercise.cells):
        where = f"{name}, cell {index}"
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.source = stub_code(cell.source, where)
            cell.outputs = []
            cell.execution_count = None
        elif cell.cell_type == "markdown":
            cell.source = strip_markdown(cell.source, where)
            if not cell.source.strip():
                continue
        cells.append(cell)
    exercise.cells = cells
    return exercise


def render(notebook: nbformat.NotebookNode) -> str:
    """The notebook as nbformat writes it (sorted keys, one-space indent), ending in a newline."""
    text = nbformat.writes(notebook)
    return text if text.endswith("\n") else text + "\n"


def exercise_text(solution_path: Path) -> str:
    """The exact text of the exercise notebook generated from ``solution_path``."""
    solution = nbformat.read(solution_path, as_version=nbformat.NO_CONVERT)
    return render(make_exercise(solution, name=solution_path.name))


def out_of_sync(solutions_dir: Path, exercises_dir: Path) -> list[str]:
    """Problems found: exercises missing, differing from their solution, or without one."""
    problems = []
    solutions = sorted(solutions_dir.glob("*.ipynb"))
    for solution_path in solutions:
        exercise_path = exercises_dir / solution_path.name
        if not exercise_path.is_file():
            problems.append(f"{exercise_path}: missing (generated from {solution_path})")
        elif exercise_path.read_text(encoding="utf-8") != exercise_text(solution_path):
            problems.append(f"{exercise_path}: differs from what {solution_path} generates")
    expected = {path.name for path in solutions}
    for exercise_path in sorted(exercises_dir.glob("*.ipynb")):
        if exercise_path.name not in expected:
            problems.append(
                f"{exercise_path}: has no solution notebook {solutions_dir / exercise_path.name}"
            )
    return problems


def write_all(solutions_dir: Path, exercises_dir: Path) -> list[Path]:
    """(Re)write every exercise notebook; return the files whose content changed."""
    exercises_dir.mkdir(parents=True, exist_ok=True)
    changed = []
    for solution_path in sorted(solutions_dir.glob("*.ipynb")):
        exercise_path = exercises_dir / solution_path.name
        text = exercise_text(solution_path)
        if not exercise_path.is_file() or exercise_path.read_text(encoding="utf-8") != text:
            with open(exercise_path, "w", encoding="utf-8", newline="\n") as file:
                file.write(text)
            changed.append(exercise_path)
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.make_exercises",
        description="Generate exercises/*.ipynb from solutions/*.ipynb (solution regions "
        "become stubs).",
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if any exercise is out of sync"
    )
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="repository root (default: this checkout)"
    )
    args = parser.parse_args(argv)
    solutions_dir, exercises_dir = args.root / "solutions", args.root / "exercises"
    try:
        if args.check:
            problems = out_of_sync(solutions_dir, exercises_dir)
            for problem in problems:
                print(problem)
            if problems:
                print("Out of sync: run `python -m tools.make_exercises` and commit the result.")
                return 1
            print(f"All exercise notebooks match {solutions_dir}.")
            return 0
        changed = write_all(solutions_dir, exercises_dir)
    except MarkerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for path in changed:
        print(f"wrote {path}")
    print(f"{len(changed)} exercise notebook(s) updated.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
