"""``benchmarks.movielens_100k --models``: a subset's rows merge into the JSON, the rest untouched."""

from __future__ import annotations

import json

import pytest

import benchmarks.movielens_100k as bench


@pytest.fixture
def table(tmp_path, monkeypatch):
    path = tmp_path / "movielens_100k.json"
    result = {
        "protocol": {"k": 10},
        "rows": [
            {"model": "ALS", "ndcg@10": 0.4769, "params": {"factors": 64}},
            {"model": "EASE", "ndcg@10": 0.4753123456789012},
            {"model": "Hybrid", "ndcg@10": 0.48, "added_by": "benchmarks/hybrid.py"},
        ],
        "total_seconds": 397.08948913500035,
    }
    path.write_text(json.dumps(result, indent=2) + "\n")
    monkeypatch.setitem(bench.RESULTS, "course", path)
    return path


def test_a_new_row_goes_before_the_rows_other_scripts_own_and_the_rest_is_kept(table):
    before = table.read_text()
    bench.merge_rows("course", [{"model": "DLAE", "ndcg@10": 0.4804}], seconds=12.5)
    after = json.loads(table.read_text())
    assert [row["model"] for row in after["rows"]] == ["ALS", "EASE", "DLAE", "Hybrid"]
    assert after["partial_runs"][0]["models"] == ["DLAE"]
    assert after["partial_runs"][0]["seconds"] == 12.5
    # every line of the old rows, floats included, is still there byte for byte
    old_rows = before.split('"rows": [')[1].split('"total_seconds"')[0]
    for line in old_rows.splitlines():
        assert line.strip().rstrip(",") in table.read_text()
    assert after["total_seconds"] == 397.08948913500035


def test_a_row_of_the_same_model_is_replaced_in_place(table):
    bench.merge_rows("course", [{"model": "ALS", "ndcg@10": 0.5}], seconds=1.0)
    rows = json.loads(table.read_text())["rows"]
    assert [row["model"] for row in rows] == ["ALS", "EASE", "Hybrid"]
    assert rows[0] == {"model": "ALS", "ndcg@10": 0.5}


def test_merging_without_a_full_table_says_to_run_it_first(tmp_path, monkeypatch):
    monkeypatch.setitem(bench.RESULTS, "course", tmp_path / "missing.json")
    with pytest.raises(FileNotFoundError, match="without --models"):
        bench.merge_rows("course", [{"model": "DLAE"}], seconds=1.0)


def test_models_must_be_candidates():
    with pytest.raises(SystemExit):
        bench.main(["--models", "NoSuchModel"])
