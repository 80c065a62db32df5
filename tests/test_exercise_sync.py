"""Exercise notebooks are generated from solution notebooks, and the committed pair agrees.

Covers ``tools/make_exercises.py``: the committed ``exercises/`` equal what the tool produces
from ``solutions/``; the transformation itself on small in-memory notebooks; and, end to end,
that a generated exercise runs top to bottom (checks only report) while its solution runs
with strict checks.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tools.make_exercises import (
    MarkerError,
    exercise_text,
    main,
    make_exercise,
    render,
    strip_markdown,
    stub_code,
)

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
NO_SOLUTIONS = "solutions/ holds no notebooks yet, so there is nothing to keep in sync"
SOLUTION_PARAMS = [pytest.param(p, id=p.name) for p in SOLUTIONS] or [
    pytest.param(None, id="no-solutions", marks=pytest.mark.skip(reason=NO_SOLUTIONS))
]


# --------------------------------------------------------------------------------------
# The committed exercises match their solutions
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("solution_path", SOLUTION_PARAMS)
def test_committed_exercise_matches_its_solution(solution_path):
    exercise_path = ROOT / "exercises" / solution_path.name
    assert exercise_path.is_file(), (
        f"{exercise_path} is missing: run `python -m tools.make_exercises` and commit it."
    )
    assert exercise_path.read_text(encoding="utf-8") == exercise_text(solution_path), (
        f"{exercise_path} is out of sync with {solution_path}: edit the solution notebook, "
        "then run `python -m tools.make_exercises` (never edit exercises/ by hand)."
    )


def test_every_committed_exercise_has_a_solution():
    if not SOLUTIONS:
        pytest.skip(NO_SOLUTIONS)
    orphans = {p.name for p in (ROOT / "exercises").glob("*.ipynb")} - {p.name for p in SOLUTIONS}
    assert not orphans, f"exercises without a solution notebook: {sorted(orphans)}"


def test_cli_check_passes_on_this_checkout():
    if not SOLUTIONS:
        pytest.skip(NO_SOLUTIONS)
    run = subprocess.run(
        [sys.executable, "-m", "tools.make_exercises", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr


# --------------------------------------------------------------------------------------
# The transformation
# --------------------------------------------------------------------------------------

FUNCTION_CELL = '''import math

def precision_at_k(recommended, relevant, k):
    """Share of the first k items that are relevant."""
    # BEGIN SOLUTION
    hits = sum(1 for item in recommended[:k] if item in relevant)

    return hits / k
    # END SOLUTION

print("defined")'''

FUNCTION_STUB = '''import math

def precision_at_k(recommended, relevant, k):
    """Share of the first k items that are relevant."""
    # YOUR CODE HERE
    ...

print("defined")'''


def test_function_body_becomes_an_indented_stub():
    assert stub_code(FUNCTION_CELL) == FUNCTION_STUB


def test_stub_lines_replace_the_region_with_their_own_indentation():
    source = "\n".join(
        [
            "for user in users:",
            "    # BEGIN SOLUTION",
            "    # STUB: top = None",
            "    # STUB: if top is None:",
            "    # STUB:     continue",
            "    top = scores[user].argsort()[::-1][:10]",
            "    # END SOLUTION",
            "    show(top)",
        ]
    )
    assert stub_code(source) == "\n".join(
        [
            "for user in users:",
            "    # YOUR CODE HERE",
            "    top = None",
            "    if top is None:",
            "        continue",
            "    show(top)",
        ]
    )


def test_top_level_region_without_stub_becomes_pass_and_several_regions_work():
    source = (
        "# BEGIN SOLUTION\nprint(1)\n# END SOLUTION\n"
        "x = 2\n"
        "# BEGIN SOLUTION\n# STUB: y = ...\ny = x\n# END SOLUTION"
    )
    assert stub_code(source) == "# YOUR CODE HERE\npass\nx = 2\n# YOUR CODE HERE\ny = ..."


def test_cells_without_markers_are_unchanged():
    source = "x = 1  # BEGIN with a comment\n\n\ny = 2\n"
    assert stub_code(source) == source
    assert strip_markdown("# Title\n\nText.\n") == "# Title\n\nText.\n"


@pytest.mark.parametrize(
    "source, message",
    [
        ("# BEGIN SOLUTION\nx = 1", "line 1: # BEGIN SOLUTION without # END SOLUTION"),
        ("x = 1\n# END SOLUTION", "line 2: # END SOLUTION without # BEGIN SOLUTION"),
        ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION", "line 2: # BEGIN SOLUTION inside"),
        ("# STUB: x = None\nx = 1", "line 1: # STUB: outside a solution region"),
        ("#BEGIN SOLUTION\nx = 1\n# END SOLUTION", "line 1: misspelled marker '#BEGIN SOLUTION'"),
        ("# begin solution\nx = 1\n# END SOLUTION", "line 1: misspelled marker"),
    ],
)
def test_bad_code_markers_are_errors(source, message):
    with pytest.raises(MarkerError, match=message):
        stub_code(source, where="demo.ipynb, cell 3")


def test_bad_markdown_markers_are_errors():
    with pytest.raises(MarkerError, match="cell 2, line 1: <!-- BEGIN SOLUTION --> without"):
        strip_markdown("<!-- BEGIN SOLUTION -->\nanswer", where="cell 2")
    with pytest.raises(MarkerError, match="misspelled marker"):
        strip_markdown("<!--BEGIN SOLUTION-->\nanswer\n<!-- END SOLUTION -->")


def _demo_solution() -> nbformat.NotebookNode:
    """A small solution notebook exercising every marker, with outputs as if executed."""
    check_cell = new_code_cell(
        "q1.check()",
        execution_count=3,
        outputs=[new_output("stream", name="stdout", text="✓ Correct!\n")],
        metadata={"tags": ["graded"], "execution": {"iopub.status.busy": "2024-01-01T00:00:00Z"}},
    )
    notebook = new_notebook(
        cells=[
            new_markdown_cell("# Demo exercise\n\nImplement precision@k."),
            new_code_cell("from recsys_lessons.checks.lesson01 import q1", execution_count=1),
            new_code_cell(FUNCTION_CELL, execution_count=2),
            check_cell,
            new_code_cell(
                "# BEGIN SOLUTION\n# STUB: example = None\n"
                "example = precision_at_k([7, 2, 9], {2}, k=3)\n# END SOLUTION\nprint(example)",
                execution_count=4,
                outputs=[new_output("stream", name="stdout", text="0.3333333333333333\n")],
            ),
            new_code_cell("q1.hint()\nq1.solution()"),
            new_markdown_cell(
                "Why divide by k?\n\n"
                "<!-- BEGIN SOLUTION -->\nEvery slot counts.\n<!-- END SOLUTION -->"
            ),
            new_markdown_cell(
                "<!-- BEGIN SOLUTION -->\nA note for instructors.\n<!-- END SOLUTION -->"
            ),
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
    )
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{index}"  # fixed ids keep the rendered text reproducible
    return notebook


def test_make_exercise_on_a_small_notebook():
    solution = _demo_solution()
    original = render(solution)
    exercise = make_exercise(solution, name="demo.ipynb")

    assert render(solution) == original, "the solution notebook must not be modified"
    assert [c.id for c in exercise.cells] == [f"cell-{i}" for i in range(7)]  # last one dropped
    assert exercise.cells[0].source == solution.cells[0].source
    assert exercise.cells[2].source == FUNCTION_STUB
    assert exercise.cells[4].source == "# YOUR CODE HERE\nexample = None\nprint(example)"
    assert exercise.cells[6].source == "Why divide by k?"
    for cell in exercise.cells:
        if cell.cell_type == "code":
            assert cell.outputs == []
            assert cell.execution_count is None
            assert "execution" not in cell.metadata
    assert exercise.cells[3].metadata.tags == ["graded"]
    assert exercise.metadata == solution.metadata
    nbformat.validate(exercise)


def test_render_is_nbformat_json_with_sorted_keys_and_trailing_newline():
    text = render(make_exercise(_demo_solution()))
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    assert render(make_exercise(_demo_solution())) == text


def test_generating_twice_changes_nothing():
    exercise = make_exercise(_demo_solution())
    assert render(make_exercise(exercise)) == render(exercise)


def _write(notebook: nbformat.NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(notebook), encoding="utf-8")


def test_cli_writes_then_checks(tmp_path, capsys):
    _write(_demo_solution(), tmp_path / "solutions" / "01_demo.ipynb")
    assert main(["--check", "--root", str(tmp_path)]) == 1
    assert "exercises/01_demo.ipynb: missing" in capsys.readouterr().out

    assert main(["--root", str(tmp_path)]) == 0
    written = tmp_path / "exercises" / "01_demo.ipynb"
    assert written.read_text(encoding="utf-8") == exercise_text(
        tmp_path / "solutions" / "01_demo.ipynb"
    )
    assert main(["--check", "--root", str(tmp_path)]) == 0
    capsys.readouterr()

    changed = _demo_solution()
    changed.cells[0].source += "\nNow with more text."
    _write(changed, tmp_path / "solutions" / "01_demo.ipynb")
    _write(_demo_solution(), tmp_path / "exercises" / "99_orphan.ipynb")
    assert main(["--check", "--root", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "exercises/01_demo.ipynb: differs from what" in out
    assert "exercises/99_orphan.ipynb: has no solution notebook" in out
    assert "run `python -m tools.make_exercises`" in out


def test_cli_reports_marker_errors(tmp_path, capsys):
    broken = _demo_solution()
    broken.cells[2].source = "# BEGIN SOLUTION\nx = 1"
    _write(broken, tmp_path / "solutions" / "02_broken.ipynb")
    assert main(["--root", str(tmp_path)]) == 2
    assert "02_broken.ipynb, cell 2, line 1: # BEGIN SOLUTION without" in capsys.readouterr().err


# --------------------------------------------------------------------------------------
# End to end: the exercise runs (checks report), the solution runs with strict checks
# --------------------------------------------------------------------------------------


def _execute(notebook: nbformat.NotebookNode, workdir: Path) -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    NotebookClient(
        notebook, kernel_name="python3", timeout=60, resources={"metadata": {"path": str(workdir)}}
    ).execute()
    return notebook


def _stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def test_exercise_runs_and_solution_passes_strict_checks(tmp_path, monkeypatch):
    from nbclient.exceptions import CellExecutionError

    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    solution = _demo_solution()
    exercise = make_exercise(solution)

    monkeypatch.setenv("RECSYS_LESSONS_CHECKS", "strict")
    executed = _execute(nbformat.from_dict(solution), tmp_path)
    assert _stdout(executed.cells[3]).startswith("✓ Correct! `precision_at_k`")
    assert _stdout(executed.cells[4]) == "0.3333333333333333\n"

    with pytest.raises(CellExecutionError, match="Not answered yet"):
        _execute(nbformat.from_dict(exercise), tmp_path)

    monkeypatch.setenv("RECSYS_LESSONS_CHECKS", "report")
    executed = _execute(nbformat.from_dict(exercise), tmp_path)
    assert _stdout(executed.cells[3]).startswith(
        "• Not answered yet: `precision_at_k` returns None"
    )
    assert _stdout(executed.cells[4]) == "None\n"
    assert _stdout(executed.cells[5]).startswith("• Hint 1 of 2: ")
