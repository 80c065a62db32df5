"""Test configuration read before anything is collected: doctest exclusions and nbval rules.

Three notebook rules are applied here rather than in every notebook:

1. Output comparison (cells marked ``# NBVAL_CHECK_OUTPUT``) only makes sense on the dataset
   the committed outputs were executed on, MovieLens 100K. When the course resolves to the
   simulated catalogue instead, notebooks still run top to bottom but outputs are not
   compared, and the test report says so in its header.
2. Solution notebooks run with strict exercise checks (a failing ``q1.check()`` raises);
   lesson and exercise notebooks run with checks that only report.
3. nbval starts its kernels with the course's Jupyter configuration
   (:class:`tools.execute.CourseKernelManager`: encrypted kernel transport), as
   ``make course`` and ``make render`` do.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CANONICAL_DATASET = "movielens-100k"

# Doctest collection (`make unit` runs `pytest tests recsys_lessons --doctest-modules`) imports
# every module, and `python -m recsys_lessons.pilot` exits on import. The Spark modules import
# pyspark only inside their functions, so they are collected (and hold no doctests).
collect_ignore = ["recsys_lessons/pilot/__main__.py"]


def _resolved_dataset() -> str:
    from recsys_lessons.data import resolve_auto

    return resolve_auto()


def _is_notebook_cell(item) -> bool:
    return type(item).__name__ == "IPyNbCell"


def pytest_configure(config):
    if config.option.nbval or config.option.nbval_lax:
        import nbval.kernel

        from tools.execute import CourseKernelManager

        nbval.kernel.KernelManager = CourseKernelManager


def pytest_report_header(config):
    if not (config.option.nbval or config.option.nbval_lax):
        return None
    dataset = _resolved_dataset()
    if dataset == CANONICAL_DATASET:
        lines = [
            f"notebooks: dataset {dataset}; committed outputs are compared (NBVAL_CHECK_OUTPUT cells)"
        ]
    else:
        lines = [
            f"notebooks: dataset {dataset}, not {CANONICAL_DATASET}; notebooks run but output "
            "comparison is switched off (set RECSYS_LESSONS_DATA to a folder holding ml-100k/ to compare)"
        ]
    return lines + [_compute_description()]


def _compute_description() -> str:
    """Which annoy build and OpenBLAS kernel the notebooks run with (see tools/other_machine.py)."""
    import annoy

    from tools.other_machine import ANNOY_TARGET, current_kernel

    portable = ANNOY_TARGET in Path(annoy.__file__).resolve().parents
    build = "portable build (tools/other_machine.py)" if portable else "native build"
    return f"compute: annoy {build}, OpenBLAS kernel {current_kernel() or 'unknown'}"


def pytest_collection_modifyitems(config, items):
    cells = [item for item in items if _is_notebook_cell(item)]
    if cells and _resolved_dataset() != CANONICAL_DATASET:
        for cell in cells:
            cell.options["check"] = False


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Choose the exercise-check mode before nbval starts the notebook's kernel."""
    if _is_notebook_cell(item):
        strict = item.path.parent.name == "solutions"
        os.environ["RECSYS_LESSONS_CHECKS"] = "strict" if strict else "report"
