"""Execute a notebook top to bottom in a fresh kernel, the one way the course runs notebooks.

Used by ``make course`` (:mod:`tools.run_course`) and ``make render`` (:mod:`tools.render`);
``make test``'s notebook pass (nbval) starts its kernels with :class:`CourseKernelManager`
(see ``conftest.py``). Kernels are started with the Jupyter configuration the course ships in
``jupyter-config/`` (``make lab`` reads the same folder): its
``KernelManager.transport_encryption = "auto"`` gives each kernel whose kernelspec declares
CurveZMQ support (ipykernel 7.3 or newer) a fresh key pair, so the kernel's sockets are
encrypted and it no longer warns "Kernel is running over TCP without encryption".
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from traitlets.config import Config
from traitlets.config.loader import JSONFileConfigLoader

#: Seconds a single cell may run before the lesson counts as failed.
CELL_TIMEOUT = 600

#: The Jupyter configuration the course ships (kernels, JupyterLab's settings).
JUPYTER_CONFIG_DIR = Path(__file__).resolve().parent.parent / "jupyter-config"


def course_jupyter_config() -> Config:
    """The traitlets configuration of ``jupyter-config/jupyter_config.json``.

    The same file every Jupyter application reads when ``JUPYTER_CONFIG_PATH`` names the
    folder (``make lab``); here it configures the kernel managers the course starts itself.
    """
    return JSONFileConfigLoader("jupyter_config.json", path=str(JUPYTER_CONFIG_DIR)).load_config()


class CourseKernelManager(KernelManager):
    """A kernel manager that reads the course's Jupyter configuration unless given another.

    nbval builds ``KernelManager(kernel_name=..., kernel_spec_manager=...)`` with no
    configuration; ``conftest.py`` hands it this class instead.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("config", course_jupyter_config())
        super().__init__(**kwargs)


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
        config=course_jupyter_config(),
    )
    started = time.perf_counter()
    error = None
    try:
        client.execute()
    except CellExecutionError as exc:
        error = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    return ExecutionResult(path, notebook, time.perf_counter() - started, error)
