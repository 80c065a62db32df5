"""A learner who only has the package runs lesson 01 and its exercise outside the repository.

The test builds the wheel from a copy of what it is made of (``pyproject.toml``,
``README.md``, ``LICENSE``, ``recsys_lessons/``; with the lock's setuptools, no isolated build
environment), installs it into a fresh virtual environment in ``tmp_path`` with the
dependencies its metadata declares (pip resolves them from the package registry;
``requirements.lock`` plays no part), and then:

1. imports every module of the package and everything the two notebooks import, before
   anything else is installed, so that no other package can supply a missing dependency;
2. adds the test harness, ipykernel and nbclient at the lock's versions: they run a notebook
   headless, which is the job of the learner's Jupyter (the ``course`` extra), not of the
   package, so they are not among its dependencies (the harness starts its kernels with the
   course's ``jupyter-config/``, encrypted and quiet);
3. executes copies of ``notebooks/01_*.ipynb`` and ``exercises/01_*.ipynb`` in a folder
   outside the repository with that environment's Python, data from ``RECSYS_LESSONS_DATA``
   (or the checkout's download cache, ``data/``, when it is unset).

It needs the package registry, so it is marked ``wheel`` (``make unit`` skips it, ``make
test`` runs it) and skips, saying why, under ``RECSYS_LESSONS_OFFLINE=1``.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.test_environment import lock_pins
from tools.execute import JUPYTER_CONFIG_DIR

ROOT = Path(__file__).resolve().parent.parent
#: What the wheel is built from (``[tool.setuptools]`` in pyproject.toml packs the package).
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "recsys_lessons")
NOTEBOOKS = (
    next((ROOT / "notebooks").glob("01_*.ipynb")),
    next((ROOT / "exercises").glob("01_*.ipynb")),
)
#: The harness that executes notebooks headless (see the module docstring).
HARNESS = ("ipykernel", "nbclient")
#: Modules that need an optional extra (``make spark``) or exit on import.
OPTIONAL_MODULES = ("recsys_lessons.pilot.__main__",)

pytestmark = [
    pytest.mark.wheel,
    pytest.mark.skipif(
        os.environ.get("RECSYS_LESSONS_OFFLINE") == "1",
        reason="RECSYS_LESSONS_OFFLINE=1: installing the wheel's dependencies needs the "
        "package registry",
    ),
]

IMPORT_EVERY_MODULE = """
import importlib, pkgutil, sys
import recsys_lessons
skip = set(sys.argv[1:])
for module in pkgutil.walk_packages(recsys_lessons.__path__, "recsys_lessons."):
    if module.name not in skip:
        importlib.import_module(module.name)
print(recsys_lessons.__file__)
"""

EXECUTE_NOTEBOOKS = """
import sys
from pathlib import Path
import nbformat
from nbclient import NotebookClient
from traitlets.config.loader import JSONFileConfigLoader
config = JSONFileConfigLoader("jupyter_config.json", path=sys.argv[1]).load_config()
for path in sys.argv[2:]:
    notebook = nbformat.read(path, as_version=4)
    folder = {"metadata": {"path": str(Path(path).parent)}}
    NotebookClient(
        notebook, kernel_name="python3", timeout=600, resources=folder, config=config
    ).execute()
    nbformat.write(notebook, path)
    print("executed", path, flush=True)
"""

#: A first cell the harness runs in the kernel: where Python and the package come from.
WHERE_FROM = "import sys, recsys_lessons\nprint(sys.prefix)\nprint(recsys_lessons.__file__)"


def run(command: list, **kwargs) -> subprocess.CompletedProcess:
    """Run ``command``; fail the test with the end of its output if it fails."""
    completed = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert completed.returncode == 0, (
        f"{' '.join(map(str, command))} failed:\n{completed.stdout[-3000:]}\n"
        f"{completed.stderr[-3000:]}"
    )
    return completed


def build_wheel(tmp_path: Path) -> Path:
    """``pip wheel --no-deps`` on a copy of the sources (no build/ or egg-info in the repo)."""
    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(
                ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(ROOT / name, source / name)
    dist = tmp_path / "dist"
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    run([*pip_wheel, "--wheel-dir", dist, source])
    (wheel,) = dist.glob("recsys_lessons-*.whl")
    return wheel


def notebook_imports(path: Path) -> set[str]:
    """Top-level names of the modules a notebook's code cells import."""
    modules = set()
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        code = "\n".join(line for line in cell.source.splitlines() if not line.startswith("%"))
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules.add(node.module.split(".")[0])
    return modules


def learner_environment(tmp_path: Path) -> dict[str, str]:
    """This environment without the repository on the path and with Jupyter's folders in tmp.

    ``JUPYTER_DATA_DIR`` in tmp hides kernelspecs registered for the user, so ``python3`` is
    the kernel of the fresh environment.
    """
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    for name in ("JUPYTER_DATA_DIR", "JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        environment[name] = str(tmp_path / "home" / name.lower())
    if not environment.get("RECSYS_LESSONS_DATA") and not environment.get("RECSYS_LESSONS_CACHE"):
        environment["RECSYS_LESSONS_CACHE"] = str(ROOT / "data")
    return environment


def test_lesson_01_and_its_exercise_run_from_the_installed_wheel(tmp_path):
    wheel = build_wheel(tmp_path)
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    # This environment's pip installs into the new one; no byte-compiling of every file.
    pip_install = [sys.executable, "-m", "pip", "--python", python, "install", "--quiet"]
    pip_install.append("--no-compile")
    learner = tmp_path / "learner"
    learner.mkdir()
    environment = learner_environment(tmp_path)

    # The wheel alone, with the dependencies its metadata declares.
    run([*pip_install, wheel], cwd=learner, env=environment)
    imported = run(
        [python, "-c", IMPORT_EVERY_MODULE, *OPTIONAL_MODULES], cwd=learner, env=environment
    )
    assert Path(imported.stdout.strip()).is_relative_to(venv)
    needed = set().union(*map(notebook_imports, NOTEBOOKS))
    assert "recsys_lessons" in needed
    run(
        [python, "-c", "\n".join(f"import {name}" for name in sorted(needed))],
        cwd=learner,
        env=environment,
    )

    # The harness, then the notebooks, copied outside the repository.
    pins = lock_pins()
    harness = [f"{name}=={pins[name]}" for name in HARNESS]
    run([*pip_install, *harness], cwd=learner, env=environment)
    probe = learner / "where_from.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(WHERE_FROM)]), probe)
    copies = []
    for path in NOTEBOOKS:
        (learner / path.parent.name).mkdir(exist_ok=True)
        copies.append(Path(shutil.copy2(path, learner / path.parent.name / path.name)))
    executed = run(
        [python, "-c", EXECUTE_NOTEBOOKS, JUPYTER_CONFIG_DIR, probe, *copies],
        cwd=learner,
        env=environment,
    )

    assert executed.stdout.count("executed") == 1 + len(copies), executed.stdout
    prefix, package = nbformat.read(probe, 4).cells[0].outputs[0]["text"].splitlines()
    assert Path(prefix) == venv and Path(package).is_relative_to(venv)
    for copy in copies:
        errors = [
            output
            for cell in nbformat.read(copy, 4).cells
            for output in cell.get("outputs", [])
            if output["output_type"] == "error"
        ]
        assert not errors, (copy.name, errors)
