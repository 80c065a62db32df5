"""The notebooks' first cell: a no-op where the package is importable, a pinned pip install where not.

Colab cannot be reached from here, so the cell runs in a subprocess with ``subprocess`` replaced
by a recorder: once with ``recsys_lessons`` importable (nothing printed, nothing called) and once
in an isolated interpreter without site-packages, where the package really is missing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tools import install_cell
from tools.build_site import course_map_rows

ROOT = Path(__file__).resolve().parent.parent
PROJECT = install_cell.project(ROOT)
NOTEBOOKS = install_cell.notebook_paths(ROOT)

#: Runs the cell given as argv[1] with subprocess/os.system replaced by recorders, and writes
#: what happened to the JSON file argv[2] (stdout stays the cell's own).
HARNESS = """
import importlib.util, json, os, subprocess, sys

cell, report = sys.argv[1], sys.argv[2]
calls = []

def recorder(name):
    def record(*args, **kwargs):
        calls.append({"function": name, "args": [list(a) if isinstance(a, (list, tuple)) else a for a in args],
                      "kwargs": {k: v for k, v in kwargs.items() if isinstance(v, (bool, int, str))}})
        return subprocess.CompletedProcess(args[0] if args else None, 0)
    return record

importable_before = importlib.util.find_spec("recsys_lessons") is not None
for name in ("run", "call", "check_call", "check_output", "Popen"):
    setattr(subprocess, name, recorder(name))
os.system = recorder("os.system")
exec(compile(cell, "<install cell>", "exec"), {"__name__": "__main__"})
with open(report, "w") as file:
    json.dump({"importable_before": importable_before, "calls": calls,
               "executable": sys.executable}, file)
"""


def run_cell(tmp_path: Path, *python_flags: str, pythonpath: str | None) -> tuple[dict, str]:
    """Execute the install cell in a fresh interpreter; return its report and its output."""
    report = tmp_path / "report.json"
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    source = install_cell.cell_source(PROJECT["version"])
    done = subprocess.run(
        [sys.executable, *python_flags, "-c", HARNESS, source, str(report)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(report.read_text()), done.stdout + done.stderr


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_lesson_and_solution_starts_with_the_same_install_cell(path):
    first = json.loads(path.read_text(encoding="utf-8"))["cells"][0]
    wanted = install_cell.install_cell(PROJECT["version"])
    wanted["execution_count"] = first.get("execution_count")  # 1 once rendered, else None
    assert first == wanted, (
        f"{path.name}: run `python -m tools.install_cell` to write the current install cell"
    )
    assert first["execution_count"] in (None, 1)  # the notebook's first cell, or never run


def test_every_lesson_notebook_is_covered():
    lessons = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    solutions = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
    assert len(lessons) >= 14 and len(solutions) >= 11
    assert set(lessons) | set(solutions) <= set(NOTEBOOKS)


def test_the_cell_does_nothing_where_the_package_is_importable(tmp_path):
    report, output = run_cell(tmp_path, pythonpath=str(ROOT))
    assert report["importable_before"], "the package must be importable for this case"
    assert report["calls"] == []
    assert output == ""


def test_the_cell_installs_the_pinned_package_where_it_is_missing(tmp_path):
    # -I: ignore PYTHONPATH, the working directory and user site; -S: no site-packages.
    report, output = run_cell(tmp_path, "-I", "-S", pythonpath=str(ROOT))
    assert not report["importable_before"], "the package must be missing for this case"
    assert output == ""
    [call] = report["calls"]
    assert call["function"] == "run" and call["kwargs"] == {"check": True}
    [command] = call["args"]
    assert command[:4] == [report["executable"], "-m", "pip", "install"]
    assert "--quiet" in command[4:-1]
    requirement = Requirement(command[-1])
    assert requirement.name == PROJECT["name"]
    assert requirement.url == f"git+{install_cell.REPOSITORY}@v{PROJECT['version']}"


def test_the_pin_follows_the_version_it_is_given():
    requirement = Requirement(install_cell.requirement("9.8.7"))
    assert requirement.url == f"git+{install_cell.REPOSITORY}@v9.8.7"
    assert install_cell.requirement("9.8.7") in install_cell.cell_source("9.8.7")


def test_rewriting_a_notebook_replaces_the_cell_instead_of_adding_a_second_one():
    notebook = {"cells": [{"cell_type": "markdown", "id": "title", "metadata": {}, "source": []}]}
    once = install_cell.with_install_cell(notebook, "0.1.0")
    twice = install_cell.with_install_cell(
        install_cell.with_install_cell(notebook, "0.0.9"), "0.1.0"
    )
    assert once == twice
    assert [cell["id"] for cell in once["cells"]] == [install_cell.CELL_ID, "title"]
    assert notebook["cells"][0]["id"] == "title"  # the input is not modified


def test_the_course_map_links_every_lesson_to_colab_at_the_pinned_version():
    rows = course_map_rows((ROOT / "README.md").read_text(encoding="utf-8"))
    lessons = sorted(path.name for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    linked = []
    for row in rows:
        notebook = row[0].split("](", 1)[1].split(")", 1)[0]
        url = install_cell.colab_url(notebook, PROJECT["version"])
        assert row[3] == f"[Open in Colab]({url})", (row[0], row[3])
        linked.append(Path(notebook).name)
    assert linked == lessons


def test_binder_finds_the_conda_environment_at_the_repository_root():
    # Binder (repo2docker) reads environment.yml from the root when there is no binder/ folder;
    # it installs the `-e .` line after copying the repository (local pip references).
    assert (ROOT / "environment.yml").is_file()
    assert not (ROOT / "binder").exists() and not (ROOT / ".binder").exists()


def test_the_tool_reports_nothing_out_of_date():
    assert install_cell.updates(ROOT) == {}
