"""A quiet Jupyter: kernels the course starts run encrypted and print no transport warning.

ipykernel (7.3 and newer) warns "Kernel is running over TCP without encryption" on stderr
each time a kernel starts without CurveZMQ keys. The course's ``jupyter-config/`` asks the
kernel manager to provision them (``KernelManager.transport_encryption = "auto"``); these
tests execute a tiny notebook the way ``make course``/``make render`` (``tools/execute.py``)
and ``make test`` (nbval, through ``conftest.py``) do, and check the kernel's own view of
its connection as well as the text printed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from tools.execute import execute_notebook

ROOT = Path(__file__).resolve().parent.parent
WARNING = "Kernel is running over TCP without encryption"

#: The kernel reports its transport and whether its connection file carries CurveZMQ keys.
CONNECTION_PROBE = (
    "from ipykernel import get_connection_info\n"
    "info = get_connection_info(unpack=True)\n"
    "print(info['transport'], 'curve' if 'curve_publickey' in info else 'plain')"
)
#: The same probe as an assertion, so that nbval fails the cell on a plain connection.
CONNECTION_ASSERTION = CONNECTION_PROBE + "\nassert 'curve_publickey' in info, 'plain TCP'"


def tiny_notebook(path: Path, source: str) -> Path:
    notebook = new_notebook(cells=[new_code_cell(source)])
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(notebook, path)
    return path


def test_the_course_runner_starts_encrypted_kernels_that_print_no_warning(tmp_path, capfd):
    result = execute_notebook(tiny_notebook(tmp_path / "probe.ipynb", CONNECTION_PROBE))

    captured = capfd.readouterr()  # the kernel inherits this process's stdout and stderr
    assert result.ok, result.error
    assert result.notebook.cells[0].outputs[0]["text"] == "tcp curve\n"
    assert WARNING not in captured.err + captured.out


def test_without_the_course_configuration_the_same_kernel_warns(tmp_path, capfd):
    """The check above can fail: nbclient's defaults give a plain kernel that warns."""
    notebook = nbformat.read(tiny_notebook(tmp_path / "probe.ipynb", CONNECTION_PROBE), 4)

    NotebookClient(notebook, kernel_name="python3").execute()

    captured = capfd.readouterr()
    assert notebook.cells[0].outputs[0]["text"] == "tcp plain\n"
    assert WARNING in captured.err


def run_nbval(notebook: Path, *plugins: str) -> subprocess.CompletedProcess:
    """``make test``'s notebook options on one notebook outside the repository.

    A notebook outside the repository does not pick up its ``conftest.py``, so the test
    loads it explicitly (``-p conftest``) when it wants the course's rules.
    """
    command = [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env"]
    command += ["-p", "no:cacheprovider", *plugins, str(notebook)]
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "RECSYS_LESSONS_DATASET": "synthetic"}
    return subprocess.run(
        command, cwd=notebook.parent, env=environment, capture_output=True, text=True, timeout=300
    )


def test_nbval_kernels_run_encrypted_with_the_course_conftest(tmp_path):
    notebook = tiny_notebook(tmp_path / "probe.ipynb", CONNECTION_ASSERTION)

    course = run_nbval(notebook, "-p", "conftest")
    plain = run_nbval(notebook)

    assert course.returncode == 0, course.stdout + course.stderr
    assert WARNING not in course.stdout + course.stderr
    assert plain.returncode == 1 and "plain TCP" in plain.stdout, plain.stdout + plain.stderr
