"""``make render``: a Spark lesson is not rendered (and committed half-skipped) without Spark."""

from __future__ import annotations

from recsys_lessons import scale
from tools import render


def test_spark_lesson_is_left_out_when_spark_cannot_start(monkeypatch, capsys):
    monkeypatch.setattr(
        scale, "spark_problem", lambda: "pyspark is not installed: run `make spark`."
    )
    names = [path.name for path in render.notebooks_to_render([])]
    assert "13_scale_out_with_spark.ipynb" not in names
    assert "12_capstone_pilot.ipynb" in names and "01_baselines_and_evaluation.ipynb" in names
    assert (
        "skipping 13_scale_out_with_spark.ipynb: pyspark is not installed"
        in capsys.readouterr().out
    )


def test_spark_lesson_is_rendered_when_spark_can_start(monkeypatch):
    monkeypatch.setattr(scale, "spark_problem", lambda: None)
    names = [path.name for path in render.notebooks_to_render([])]
    assert "13_scale_out_with_spark.ipynb" in names


def test_named_notebooks_are_rendered_as_asked(monkeypatch):
    monkeypatch.setattr(scale, "spark_problem", lambda: "no Java")
    paths = render.notebooks_to_render(["notebooks/13_scale_out_with_spark.ipynb"])
    assert [path.name for path in paths] == ["13_scale_out_with_spark.ipynb"]
