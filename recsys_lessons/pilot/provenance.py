"""What a pilot run needs to be reproduced: command, settings, inputs, code, machine, packages.

:func:`record_provenance` gathers it into ``results.json``'s ``"provenance"`` key:

- ``command``: the exact command line (``recsys-pilot`` and its arguments, shell-quoted),
  which the report prints last so a reader can rerun it;
- ``settings``: every option of the command, defaults included (``--min-user-count``,
  ``--models``, ``--protocol``, ...);
- ``files``: each input file's path and SHA-256 (the log, the item metadata);
- ``code``: ``git describe`` when the package runs from a git checkout, else the installed
  version;
- ``machine``: platform, processor cores and the BLAS libraries with their thread counts
  (threadpoolctl), which decide how long fits take and, for threaded BLAS, the last digits
  of a float sum;
- ``versions``: Python and every package whose version can change a number of the result.

:func:`tuned_params` reads a recorded ``results.json`` back for ``--params``: the tuned
parameters of each compared row, so a rerun skips tuning and fits exactly those.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shlex
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from recsys_lessons.pilot.io import PilotInputError

#: Packages whose versions can change a number of the result (the pilot's own code, the
#: array and table libraries, the solvers, the plots embedded in the report).
PACKAGES = (
    "recsys-lessons", "numpy", "pandas", "scipy", "scikit-learn", "implicit", "threadpoolctl",
    "matplotlib", "pyarrow",
)  # fmt: skip


def package_versions(engine: str = "local") -> dict[str, str]:
    """Python's version and each of :data:`PACKAGES` (plus pyspark for ``engine="spark"``)."""
    found = {"python": platform.python_version()}
    for package in PACKAGES + (("pyspark",) if engine == "spark" else ()):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found


def sha256_of(path) -> str | None:
    """The SHA-256 of a file's bytes (hex), ``None`` when it cannot be read."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def code_version() -> str:
    """``git describe --always --dirty --tags`` of the package's checkout, else its version.

    A ``-dirty`` suffix says the checkout had uncommitted changes: the commit alone does not
    reproduce the run then.
    """
    root = Path(__file__).resolve().parents[2]
    if (root / ".git").exists():
        try:
            described = subprocess.run(
                ["git", "-C", str(root), "describe", "--always", "--dirty", "--tags"],
                capture_output=True, text=True, timeout=10, check=True,
            ).stdout.strip()  # fmt: skip
            if described:
                return f"git {described}"
        except (OSError, subprocess.SubprocessError):
            pass
    return f"recsys-lessons {package_versions()['recsys-lessons']}"


def machine() -> dict:
    """Platform, cores and the BLAS thread pools of this process."""
    from threadpoolctl import threadpool_info

    return {
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cores": os.cpu_count(),
        "blas": [
            {key: pool.get(key) for key in ("internal_api", "version", "num_threads")}
            for pool in threadpool_info()
        ],
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
    }


def record_provenance(argv: list[str], settings: dict, files: dict, engine: str = "local"):
    """The ``"provenance"`` record of a run (see the module docstring).

    Parameters
    ----------
    argv : list of str
        The command's arguments, without the program name.
    settings : dict
        Every option's value (the parsed command line, defaults included).
    files : dict
        Role (``"log"``, ``"items"``) -> path, or ``None`` when not given.
    engine : str
        ``"spark"`` adds pyspark to the package versions.
    """
    return {
        "command": shlex.join(["recsys-pilot", *argv]),
        "argv": list(argv),
        "settings": dict(settings),
        "files": {
            role: None if path is None else {"path": str(path), "sha256": sha256_of(path)}
            for role, path in files.items()
        },
        "code": code_version(),
        "machine": machine(),
        "versions": package_versions(engine),
    }


def tuned_params(path) -> dict[str, dict]:
    """Row name -> tuned parameters of each compared row of a pilot ``results.json``.

    Raises :class:`PilotInputError` when the file cannot be read or is not a pilot's
    ``results.json`` (no ``"models"`` list of rows with ``"model"``, ``"status"`` and, when
    compared, ``"params"``).
    """
    try:
        results = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise PilotInputError(f"--params {path}: cannot read it ({error.strerror}).") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise PilotInputError(
            f"--params {path}: not a JSON file; give the results.json a pilot run wrote."
        ) from None
    rows = results.get("models") if isinstance(results, dict) else None
    if not isinstance(rows, list) or not all(
        isinstance(row, dict) and "model" in row and "status" in row for row in rows
    ):
        raise PilotInputError(
            f"--params {path}: not a pilot results.json (no list of model rows under "
            "'models'); give the results.json a pilot run wrote."
        )
    params = {row["model"]: row.get("params") for row in rows if row["status"] == "compared"}
    missing = sorted(name for name, value in params.items() if not isinstance(value, dict))
    if missing or not params:
        raise PilotInputError(
            f"--params {path}: no tuned parameters recorded for {missing or 'any row'}; give "
            "the results.json of a run that compared them."
        )
    return params
