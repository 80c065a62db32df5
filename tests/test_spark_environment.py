"""The optional Spark extra: the conda file pins what requirements-spark.lock pins."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _pins(path: str, separator: str) -> dict[str, str]:
    pins = {}
    for line in (ROOT / path).read_text().splitlines():
        line = line.strip().removeprefix("- ")
        if line and not line.startswith("#") and separator in line:
            name, version = line.split(separator, 1)
            pins[name.strip().lower()] = version.strip()
    return pins


def test_conda_spark_file_pins_the_spark_lock_versions():
    lock = _pins("requirements-spark.lock", "==")
    conda = _pins("environment-spark.yml", "=")
    assert set(lock) == {"pyspark", "py4j"}
    assert {name: conda.get(name) for name in lock} == lock
    assert conda["openjdk"] in {"17", "21"}


def test_main_lock_stays_free_of_spark():
    main = (ROOT / "requirements.lock").read_text().lower()
    assert "pyspark" not in main and "py4j" not in main
