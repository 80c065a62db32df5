"""Where the pilot kit writes: checked before any work, written all or nothing.

The kit writes four files into its output folder (:data:`OUTPUT_FILES`). Two rules keep a
user's data safe:

- :func:`check_output_folder` runs before the log is even read. It refuses a folder that is
  a file, lies under a file or cannot be written to, refuses to replace a file that already
  exists unless ``overwrite=True`` (and names every file it would replace), and never lets an
  output replace an input file, even with ``overwrite=True``.
- :func:`write_outputs` writes each file to a hidden temporary file in the same folder and
  renames them into place only once all four are complete, so an error or Ctrl-C while
  writing leaves the folder as it was.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from recsys_lessons.pilot.io import PilotInputError

#: The files the kit writes, in the order it writes them.
OUTPUT_FILES = ("results.json", "recommendations.csv", "per_user_metrics.csv", "report.html")


def check_output_folder(folder, inputs: Iterable = (), overwrite: bool = False) -> Path:
    """The output folder, checked: the kit may write :data:`OUTPUT_FILES` into it.

    Parameters
    ----------
    folder : str or Path
        The ``--output`` folder; created later by :func:`write_outputs` if missing.
    inputs : iterable of str or Path
        The files the run reads (the log, the item metadata); never replaced.
    overwrite : bool
        Allow replacing existing output files (``--overwrite``).

    Raises
    ------
    PilotInputError
        With one sentence that names the path and says what to do.
    """
    folder = Path(folder)
    existing = _nearest_existing(folder)
    if not existing.is_dir():
        where = "is a file" if existing == folder else f"lies under the file {existing}"
        raise PilotInputError(
            f"--output {folder} {where}; give a folder path (e.g. --output pilot-report)."
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise PilotInputError(
            f"--output {folder}: {existing} is not writable; choose a folder you can write to."
        )
    targets = [folder / name for name in OUTPUT_FILES]
    for target in targets:
        if target.is_dir():
            raise PilotInputError(
                f"--output {folder}: {target} is a folder, where the kit writes a file; "
                "choose another --output."
            )
    inputs = [Path(path) for path in inputs]
    for target in targets:
        for source in inputs:
            if _same_file(target, source):
                raise PilotInputError(
                    f"--output {folder} would replace your input file {source} with "
                    f"{target.name}; choose another --output (--overwrite never replaces an "
                    "input)."
                )
    replaced = [str(target) for target in targets if target.exists()]
    if replaced and not overwrite:
        raise PilotInputError(
            f"--output {folder} already holds {', '.join(replaced)}; pass --overwrite to "
            "replace them, or choose another --output."
        )
    return folder


def write_outputs(
    folder, results: dict, recommendations, html: str, per_user_metrics
) -> list[Path]:
    """Write :data:`OUTPUT_FILES` into ``folder``.

    ``recommendations`` and ``per_user_metrics`` are data frames (the latter: one row per
    test user and model, see :func:`~recsys_lessons.pilot.run.per_user_table`). Each file is first written to a hidden temporary file in
    ``folder`` (same file system, so the final ``os.replace`` is atomic); they are renamed
    into place only after all of them were written. On any error, Ctrl-C included, the temporary files are removed and
    the folder's earlier files are left untouched. Returns the written paths.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    writers = {
        "results.json": lambda path: path.write_text(
            json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8"
        ),
        "recommendations.csv": lambda path: recommendations.to_csv(
            path, index=False, float_format="%.6g"
        ),
        "per_user_metrics.csv": lambda path: per_user_metrics.to_csv(
            path, index=False, float_format="%.6g"
        ),
        "report.html": lambda path: path.write_text(html, encoding="utf-8"),
    }
    staged: dict[str, Path] = {}
    try:
        for name in OUTPUT_FILES:
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".partial")
            os.close(handle)
            staged[name] = Path(temporary)
            writers[name](staged[name])
    except BaseException:
        for temporary in staged.values():
            temporary.unlink(missing_ok=True)
        raise
    for name, temporary in staged.items():
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, folder / name)
    return [folder / name for name in OUTPUT_FILES]


def _nearest_existing(path: Path) -> Path:
    """``path`` itself if it exists, else its closest existing ancestor."""
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _same_file(a: Path, b: Path) -> bool:
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
