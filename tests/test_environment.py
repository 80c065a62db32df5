"""The conda environment and the pip lock file must pin the same core versions."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent

#: conda-forge names that differ from the PyPI names.
CONDA_TO_PYPI = {"python-annoy": "annoy"}

CORE = {
    "numpy",
    "pandas",
    "scipy",
    "scikit-learn",
    "matplotlib",
    "implicit",
    "jax",
    "jaxlib",
    "pyarrow",
    "optax",
    "annoy",
    "tqdm",
    "jupyterlab",
    "nbval",
    "pytest",
    "hypothesis",
    "ruff",
}


def lock_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==(\S+)", line.strip())
        if match:
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def conda_pins() -> dict[str, str]:
    """environment.yml's pins: conda's ``name=version`` and its pip section's ``name==version``."""
    pins = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        match = re.fullmatch(r"\s*-\s*([A-Za-z0-9_.\-]+)==?([^=\s]+)", line)
        if match:
            name = match.group(1).lower()
            pins[canonicalize_name(CONDA_TO_PYPI.get(name, name))] = match.group(2)
    return pins


def test_every_core_package_is_pinned_in_both_files():
    assert CORE <= set(lock_pins()), sorted(CORE - set(lock_pins()))
    assert CORE <= set(conda_pins()), sorted(CORE - set(conda_pins()))


def test_conda_pins_agree_with_the_lock_file():
    lock = lock_pins()
    disagreements = {
        name: (version, lock.get(name))
        for name, version in conda_pins().items()
        if name != "python" and lock.get(name) != version
    }
    assert not disagreements, f"environment.yml vs requirements.lock (conda, lock): {disagreements}"


def declared_requirements() -> list[Requirement]:
    """The dependencies of pyproject.toml, with those of every extra."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + [
        r for group in project["optional-dependencies"].values() for r in group
    ]
    return [Requirement(r) for r in declared]


def test_every_declared_dependency_is_pinned_in_both_files():
    """A package pyproject.toml names (here or in an extra) is pinned for pip and for conda."""
    declared = {canonicalize_name(r.name) for r in declared_requirements()}
    assert declared <= set(lock_pins()), sorted(declared - set(lock_pins()))
    assert declared <= set(conda_pins()), sorted(declared - set(conda_pins()))


def test_lock_file_satisfies_the_declared_ranges():
    """Each dependency range of pyproject.toml admits the version the lock file pins."""
    lock = lock_pins()
    outside = {}
    for requirement in declared_requirements():
        pinned = lock.get(canonicalize_name(requirement.name))
        if pinned is None or not requirement.specifier.contains(pinned):
            outside[requirement.name] = (str(requirement.specifier), pinned)
    assert not outside, f"pyproject range vs lock pin: {outside}"
