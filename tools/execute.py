"""Execute a notebook top to bottom in a fresh kernel, the one way the course runs notebooks.

Used by ``make course`` (:mod:`tools.run_course`) and ``make render`` (:mod:`tools.render`).
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

#: Seconds a single cell may run before the lesson counts as failed.
CELL_TIMEOUT = 600


@dataclass
class ExecutionResult:
    """What happened when one notebook ran."""

    path: Path
    notebook: nbformat.NotebookNode
    seconds: float
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


@contextmanager
def environment(**variables: str | None):
    """Temporarily set (or, with ``None``, unset) environment variables for the kernel."""
    saved = {name: os.environ.get(name) for name in variables}
    try:
        for name, value in variables.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def execute_notebook(path: Path, timeout: int = CELL_TIMEOUT) -> ExecutionResult:
    """Run ``path`` in a fresh ``python3`` kernel started in the notebook's folder.

    The kernel inherits this process's environment, so dataset and check-mode variables
    set with :func:`environment` reach the notebook. Per-cell timing metadata is not
    recorded, so re-rendering an unchanged notebook gives an unchanged file.
    """
    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    started = time.perf_counter()
    error = None
    try:
        client.execute()
    except CellExecutionError as exc:
        error = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    return ExecutionResult(path, notebook, time.perf_counter() - started, error)
