"""The first cell of every lesson and solution notebook, and the README's "Open in Colab" links.

A learner on Colab (or in any fresh Python) has the notebook but not ``recsys_lessons``: the
first cell pip-installs this repository at the version of ``pyproject.toml``. Where the
package is importable (``make setup``, the conda environment, Binder) the cell does nothing
and prints nothing, so committed outputs and nbval comparisons are unchanged.
``exercises/`` get the cell from ``solutions/`` through :mod:`tools.make_exercises`.

:data:`REPOSITORY` is the one place the repository's public address is written; after
changing it (or the version), run ``python -m tools.install_cell`` to rewrite the cells and
links. ``--check`` writes nothing and exits 1 when a notebook or the README is out of date.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The public GitHub repository of the course (owner/name in the path).
REPOSITORY = "https://github.com/recsys-lessons/recsys-lessons"
#: The id of the install cell, the same in every notebook.
CELL_ID = "install-package"
#: The folders whose notebooks start with the install cell.
FOLDERS = ("notebooks", "solutions")
_COLAB_LINK = re.compile(
    r"https://colab\.research\.google\.com/github/[^)\s]+?/blob/[^/)\s]+/(notebooks/[\w-]+\.ipynb)"
)

CELL_TEMPLATE = """\
# Installs the course package when it is missing (on Colab, say); does nothing otherwise.
import importlib.util

if importlib.util.find_spec("recsys_lessons") is None:
    import subprocess
    import sys

    package = "{requirement}"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", package], check=True)
    importlib.invalidate_caches()"""


def project(root: Path = ROOT) -> dict:
    """The ``[project]`` table of ``pyproject.toml``."""
    with open(root / "pyproject.toml", "rb") as file:
        return tomllib.load(file)["project"]


def requirement(version: str) -> str:
    """The pinned PEP 508 requirement: this repository at tag ``v<version>``."""
    return f"recsys-lessons @ git+{REPOSITORY}@v{version}"


def colab_url(notebook: str, version: str) -> str:
    """The Colab address of ``notebook`` (a repository-relative path) at tag ``v<version>``."""
    owner_and_name = REPOSITORY.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{owner_and_name}/blob/v{version}/{notebook}"


def cell_source(version: str) -> str:
    """The install cell's code."""
    return CELL_TEMPLATE.format(requirement=requirement(version))


def install_cell(version: str) -> dict:
    """The install cell as nbformat JSON (no outputs, not executed)."""
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": CELL_ID,
        "metadata": {},
        "outputs": [],
        "source": cell_source(version).splitlines(keepends=True),
    }


def with_install_cell(notebook: dict, version: str) -> dict:
    """``notebook`` starting with the current install cell (replaced if there, else inserted).

    A rendered notebook keeps its execution count (``make render`` runs the cell, which
    prints nothing): only the count is left as it was."""
    cells = list(notebook["cells"])
    cell = install_cell(version)
    if cells and cells[0].get("id") == CELL_ID:
        cell["execution_count"] = cells[0].get("execution_count")
        cells = cells[1:]
    return {**notebook, "cells": [cell, *cells]}


def with_colab_links(readme: str, version: str) -> str:
    """``readme`` with every Colab link pointing at :data:`REPOSITORY` at ``v<version>``."""
    return _COLAB_LINK.sub(lambda found: colab_url(found.group(1), version), readme)


def notebook_paths(root: Path = ROOT) -> list[Path]:
    """Every lesson and solution notebook."""
    return sorted(path for folder in FOLDERS for path in (root / folder).glob("*.ipynb"))


def _notebook_text(notebook: dict) -> str:
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def updates(root: Path = ROOT) -> dict[Path, str]:
    """The files whose text differs from what they should be, with that text."""
    version = project(root)["version"]
    changed = {}
    for path in notebook_paths(root):
        text = path.read_text(encoding="utf-8")
        wanted = _notebook_text(with_install_cell(json.loads(text), version))
        if wanted != text:
            changed[path] = wanted
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8")
    if with_colab_links(text, version) != text:
        changed[readme] = with_colab_links(text, version)
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.install_cell",
        description="Write the install cell into every lesson and solution notebook and point "
        "the README's Colab links at REPOSITORY and the package version.",
    )
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if out of date")
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root")
    args = parser.parse_args(argv)
    changed = updates(args.root)
    for path, text in changed.items():
        if args.check:
            print(f"{path}: out of date")
        else:
            with open(path, "w", encoding="utf-8", newline="\n") as file:
                file.write(text)
            print(f"wrote {path}")
    if args.check and changed:
        print("Out of date: run `python -m tools.install_cell` and commit the result.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
