"""``recsys-pilot --engine spark``: popularity and ALS on Spark, the same protocol and report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyspark")

from recsys_lessons import scale  # noqa: E402
from recsys_lessons.pilot import load_log, run_pilot  # noqa: E402
from recsys_lessons.pilot.cli import main  # noqa: E402
from recsys_lessons.pilot.report import SECTIONS  # noqa: E402
from recsys_lessons.pilot.spark_models import NOT_ON_SPARK  # noqa: E402

PROBLEM = scale.spark_problem()
pytestmark = pytest.mark.skipif(PROBLEM is not None, reason=f"Spark cannot start: {PROBLEM}")

GOLDEN = Path(__file__).parent / "data" / "pilot_golden.csv"
SPARK_ROWS = {"popularity", "als"}


def test_golden_log_on_spark_matches_the_local_popularity_and_ranks_only_unseen_items():
    log = load_log(GOLDEN, min_user_count=1, min_item_count=1)
    results, lists, protocol, recs = run_pilot(log, k=2, top_n=2, progress=False, engine="spark")
    local, local_lists, _, local_recs = run_pilot(
        log, models=["popularity"], k=2, top_n=2, progress=False
    )
    assert results["engine"] == "spark" and local["engine"] == "local"
    assert results["protocol"] == local["protocol"]  # the split is the local one
    # popularity in train (a=5, b=4, c=3, d=1, e=0), ties by lower index, seen removed
    items = protocol.item_ids
    assert [[items[i] for i in row] for row in lists["popularity"]] == [
        ["c", "d"], ["c", "d"], ["b", "d"], ["a", "d"], ["b", "c"], ["d", "e"],
    ]  # fmt: skip
    np.testing.assert_array_equal(lists["popularity"], local_lists["popularity"])
    popularity = next(row for row in results["models"] if row["model"] == "popularity")
    local_popularity = next(row for row in local["models"] if row["model"] == "popularity")
    assert popularity["ndcg"] == local_popularity["ndcg"]
    # ALS lists: two distinct items per test user, none seen in training, except u6: its
    # unseen items are d and e, and e has no training event, so Spark's ALS (cold-start
    # "drop") cannot score it; u6 gets d, then a padding item (documented in spark_models)
    als = lists["als"]
    train = protocol.test.train.toarray()
    assert als.shape == (len(protocol.test.users), 2)
    assert (als[:, 0] != als[:, 1]).all()
    assert not train[protocol.test.users[:5, None], als[:5]].any()
    assert items[als[5, 0]] == "d"
    statuses = {row["model"]: row["status"] for row in results["models"]}
    assert {name for name, status in statuses.items() if status == "compared"} == SPARK_ROWS
    for row in results["models"]:
        if row["model"] not in SPARK_ROWS:
            assert row["reason"] == NOT_ON_SPARK
    als_row = next(row for row in results["models"] if row["model"] == "als")
    assert 0 <= als_row["ndcg"]["low"] <= als_row["ndcg"]["estimate"] <= als_row["ndcg"]["high"]
    assert results["decision"]["model"] in SPARK_ROWS
    if results["decision"]["model"] == "popularity":
        pd.testing.assert_frame_equal(recs, local_recs)


def test_cli_engine_spark_writes_the_three_outputs(tmp_path):
    out = tmp_path / "out"
    args = [str(GOLDEN), "-o", str(out), "--quiet", "--engine", "spark", "--k", "2",
            "--top-n", "2", "--min-user-count", "1", "--min-item-count", "1"]  # fmt: skip
    assert main(args) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["engine"] == "spark"
    assert results["versions"]["pyspark"] != "not installed"
    statuses = {row["model"]: row["status"] for row in results["models"]}
    assert {name for name, status in statuses.items() if status == "compared"} == SPARK_ROWS
    assert all(
        "not available on the spark engine" in row["reason"]
        for row in results["models"]
        if row["status"] == "skipped"
    )
    recs = pd.read_csv(out / "recommendations.csv")
    assert list(recs.columns) == ["user_id", "rank", "item_id", "score", "source"]
    assert recs.groupby("user_id").size().max() == 2
    seen = pd.read_csv(GOLDEN).rename(columns={"userId": "user_id", "movieId": "item_id"})
    assert recs.merge(seen, on=["user_id", "item_id"]).empty  # seen items never recommended
    page = (out / "report.html").read_text()
    for section in SECTIONS:
        assert f">{section}</h2>" in page.replace("&amp;", "&")
