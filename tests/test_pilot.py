"""The pilot kit: a golden small log, every validation error, determinism, the outputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recsys_lessons.data import generate_shop
from recsys_lessons.hybrid import weight_grid
from recsys_lessons.pilot import PilotInputError, load_items, load_log, run_pilot
from recsys_lessons.pilot.cli import main
from recsys_lessons.pilot.models import evenness_order
from recsys_lessons.pilot.protocol import scorable_users
from recsys_lessons.pilot.report import SECTIONS, render_report

GOLDEN = Path(__file__).parent / "data" / "pilot_golden.csv"
FAST = "popularity,item_knn"


def test_golden_log_profile_protocol_and_popularity_lists():
    log = load_log(GOLDEN)
    assert log.columns == {"user_id": "userId", "item_id": "movieId", "rating": "rating",
                           "timestamp": "timestamp"}  # fmt: skip
    results, lists, protocol, recs = run_pilot(
        log, models=["popularity", "item_knn"], k=2, top_n=2, progress=False
    )
    profile = results["profile"]
    assert (profile["interactions"], profile["users"], profile["items"]) == (19, 6, 5)
    assert profile["density"] == pytest.approx(19 / 30)
    # item counts a=6 b=5 c=4 d=2 e=2: the top 20% (one item) holds 6 of 19 events
    assert profile["top_20pct_items_share"] == pytest.approx(6 / 19)
    # the global cut (latest round(0.2 * 19) = 4 events, t >= 200) scores 4 of 6 users, below
    # the rule's 100, so each user's own latest round(0.2 * 3) = 1 event (u6: round(0.8) = 1)
    # is the test set: u1 c, u2 d, u3 e, u4 a, u5 b, u6 e
    assert protocol.name == "per-user temporal"
    assert protocol.test.test.nnz == 6
    assert [protocol.user_ids[u] for u in protocol.test.users] == [
        "u1",
        "u2",
        "u3",
        "u4",
        "u5",
        "u6",
    ]
    # validation: 2 training events round to 0 held out, only u6 (3) lends its latest, b
    assert [protocol.user_ids[u] for u in protocol.validation.users] == ["u6"]
    # popularity in train (a=5, b=4, c=3, d=1, e=0), ties by lower index
    popularity = lists["popularity"]
    items = protocol.item_ids
    assert [[items[i] for i in row] for row in popularity] == [
        ["c", "d"],  # u1 has a, b
        ["c", "d"],  # u2 has a, b
        ["b", "d"],  # u3 has a, c
        ["a", "d"],  # u4 has b, c
        ["b", "c"],  # u5 has a, d
        ["d", "e"],  # u6 has c, b, a
    ]
    assert results["decision"]["model"] in {"popularity", "item_knn"}
    # recommendations.csv: refitted on the whole log (a=6 b=5 c=4 d=2 e=2), unseen items only
    u1 = recs[recs["user_id"] == "u1"]
    assert u1["item_id"].tolist() == ["d", "e"] and u1["rank"].tolist() == [1, 2]
    assert recs.groupby("user_id").size().max() == 2


def test_per_user_temporal_split_holds_out_each_users_latest_events():
    from recsys_lessons.pilot.protocol import per_user_temporal_split

    log = pd.DataFrame(
        {
            "user_id": ["u1"] * 5 + ["u2"] * 2 + ["u3"] * 8,
            "item_id": list("abcde") + list("ab") + list("abcdefgh"),
            # u1: c and d tie at the latest time 3 -> the tie goes by item id, d is "later"
            "timestamp": [1, 2, 3, 3, 0] + [5, 6] + [8, 7, 6, 5, 4, 3, 2, 1],
        }
    )
    train, test = per_user_temporal_split(log, test_ratio=0.2)
    # u1: round(0.2 * 5) = 1 -> d; u2: round(0.4) = 0, stays in train; u3: round(1.6) = 2,
    # its two latest events a (8) and b (7)
    assert sorted(zip(test["user_id"], test["item_id"], strict=True)) == [
        ("u1", "d"), ("u3", "a"), ("u3", "b")
    ]  # fmt: skip
    assert len(train) + len(test) == len(log)
    # the row order of the file does not matter
    shuffled = log.sample(frac=1, random_state=0)
    assert per_user_temporal_split(shuffled, 0.2)[1].sort_index().equals(test.sort_index())


def _two_period_log(n_users: int, n_late: int) -> pd.DataFrame:
    """Every user rates "a" early; the first n_late users also rate "b" after everybody."""
    early = pd.DataFrame({"user_id": np.arange(n_users), "item_id": "a",
                          "timestamp": np.arange(n_users)})  # fmt: skip
    late = pd.DataFrame({"user_id": np.arange(n_late), "item_id": "b",
                         "timestamp": 10_000 + np.arange(n_late)})  # fmt: skip
    return pd.concat([early, late], ignore_index=True)


@pytest.mark.parametrize(
    ("n_users", "n_late", "expected"),
    [
        (1000, 100, "global temporal"),  # 100 scorable users, 10% of 1000: both met
        (1000, 99, "per-user temporal"),  # 99 < 100 users
        (1001, 100, "per-user temporal"),  # 100 < 10% of 1001 users
    ],
)
def test_the_global_cut_is_kept_only_when_it_scores_enough_users(n_users, n_late, expected):
    from recsys_lessons.pilot.protocol import choose_split

    log = _two_period_log(n_users, n_late)
    # the cut holds out exactly the n_late late events, so n_late users are scorable
    _, test, name, reason, scored = choose_split(log, n_late / len(log), seed=0)
    assert name == expected and scored == n_late
    assert f"leaves {n_late} of {n_users:,} users with both training history" in reason
    if name == "global temporal":
        assert (test["item_id"] == "b").all() and len(test) == n_late


def test_the_protocol_switch_is_printed_and_described(capsys):
    log = load_log(GOLDEN)
    results, *_ = run_pilot(log, models=["popularity"], k=2, progress=False)
    printed = capsys.readouterr().out
    assert printed.startswith("notice: protocol: switched to a per-user temporal split because")
    assert "leaves 4 of 6 users with both training history and test events: too few" in printed
    protocol = results["protocol"]
    assert protocol["split"] == "per-user temporal" and protocol["test_users"] == 6
    assert protocol["global_cut_test_users"] == 4
    assert "at least 100 users" in protocol["rule"]
    assert "leakage from the future" in protocol["description"]
    page = render_report(results, log.interactions)
    assert "per-user temporal split" in page and "switched to a per-user" in page


def test_protocol_is_deterministic_and_ignores_row_order():
    from recsys_lessons.pilot.protocol import make_protocol

    log = load_log(GOLDEN).interactions
    one = make_protocol(log, k=2)
    two = make_protocol(log.sample(frac=1, random_state=1), k=2)
    for fold in ("test", "validation"):
        a, b = getattr(one, fold), getattr(two, fold)
        assert (a.train != b.train).nnz == 0 and (a.test != b.test).nnz == 0
        assert np.array_equal(a.users, b.users)
    assert one.as_dict() == two.as_dict()


def _write(tmp_path, text: str, name: str = "log.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "line 1: the file is empty"),
        ("user_id,item_id\n", "line 2: the file has a header but no rows"),
        ("customer,rating\nu1,4\n", "no item_id column in the header"),
        ("user_id,user,item_id\nu1,u1,a\n", "columns ['user_id', 'user'] could each be the user_id"),
        ("user_id,item_id,rating\nu1,a,4\nu2,b,great\n", "column 'rating', line 3: value ('great') is not a number"),
        ("user_id,item_id,timestamp\nu1,a,2024-01-02\nu2,b,yesterday\n", "column 'timestamp', line 3: value ('yesterday') is neither an epoch number nor an ISO date"),
        ("user_id,item_id\nu1,a\nu1,b\n", "column 'user_id', line 2: every row has the same user 'u1'"),
        ("user_id,item_id\nu1,a\nu2,a\n", "column 'item_id', line 2: every row has the same item 'a'"),
        ("user_id,item_id\nu1,a\n,b\n", "column 'user_id', line 3: value is empty"),
    ],
)  # fmt: skip
def test_each_validation_error_names_column_and_line_exits_2_writes_nothing(
    tmp_path, capsys, text, expected
):
    path = _write(tmp_path, text)
    output = tmp_path / "out"
    code = main([str(path), "-o", str(output), "--quiet", "--min-user-count", "1",
                 "--min-item-count", "1"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 2
    assert expected in captured.err
    assert captured.err.startswith("error: ") and "Traceback" not in captured.err
    assert not output.exists()


def test_engine_spark_without_spark_exits_2_with_the_reason_and_writes_nothing(
    tmp_path, capsys, monkeypatch
):
    reason = "no Java runtime found (Spark runs on the JVM): install a Java 17 or 21 runtime."
    monkeypatch.setattr("recsys_lessons.scale.spark.spark_problem", lambda: reason)
    output = tmp_path / "out"
    code = main([str(GOLDEN), "-o", str(output), "--quiet", "--engine", "spark",
                 "--min-user-count", "1", "--min-item-count", "1"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err == f"error: --engine spark: {reason}\n"
    assert not output.exists()


def test_duplicates_keep_the_earliest_event_and_minimum_counts_wait_for_the_split(tmp_path):
    # issue 24: de-duplication keeps the earliest event (a pair consumed before a cut stays a
    # training event) and the minimum counts are applied to the training period by the
    # protocol (tests/test_pilot_cover.py), so load_log keeps the rare item c
    text = "user,item,timestamp\nu1,a,1\nu1,a,5\nu1,b,2\nu2,a,3\nu2,b,4\nu3,c,6\n"
    log = load_log(_write(tmp_path, text), min_user_count=2, min_item_count=2)
    assert log.notices == [
        "dropped 1 duplicate (user, item) rows, keeping each pair's earliest event."
    ]
    assert (log.min_user_count, log.min_item_count) == (2, 2)
    frame = log.interactions.sort_values(["user_id", "item_id"])
    assert frame["user_id"].tolist() == ["u1", "u1", "u2", "u2", "u3"]
    # the duplicate pair keeps its earliest event (timestamp 1)
    assert frame["timestamp"].iloc[0] == pd.Timestamp(1, unit="s")


def test_too_few_users_left_after_minimum_counts(tmp_path):
    path = _write(tmp_path, "user_id,item_id\nu1,a\nu1,b\nu2,a\n")
    with pytest.raises(PilotInputError, match="fewer than 2 users are left"):
        load_log(path, min_user_count=2)


def test_implicit_log_without_timestamps_uses_a_stratified_split(tmp_path):
    rows = [f"c{u},p{(u * 3 + j) % 7}" for u in range(12) for j in range(4)]
    path = _write(tmp_path, "customer_id,product_id\n" + "\n".join(rows) + "\n")
    log = load_log(path)
    assert not log.has_ratings and not log.has_timestamps
    results, *_ = run_pilot(log, models=["popularity"], k=3, progress=False)
    assert results["protocol"]["split"] == "user-stratified random"
    assert "no timestamps" in results["protocol"]["reason"]
    assert results["protocol"]["notices"][0] == (
        "protocol: user-stratified random split, because the log has no timestamps."
    )


def test_iso_dates_and_column_flags(tmp_path):
    path = _write(tmp_path, "who,what,when\nu1,a,2024-01-02\nu2,b,2024-01-03T10:00:00Z\n")
    columns = {"user_id": "who", "item_id": "what", "timestamp": "when"}
    log = load_log(path, columns)
    assert log.interactions["timestamp"].tolist() == [
        pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-03 10:00")
    ]  # fmt: skip


def test_item_metadata_maps_text_to_description(tmp_path):
    path = _write(tmp_path, "item_id,title,genres,text\na,Boots,Hike|Walk,warm\nb,Socks,,\n",
                  "items.csv")  # fmt: skip
    items = load_items(path)
    assert list(items.columns) == ["title", "genres", "description"]
    assert items.loc["a", "genres"] == "Hike|Walk" and pd.isna(items.loc["b", "genres"])


def _shop_log(tmp_path) -> tuple[Path, Path]:
    shop = generate_shop(seed=3, n_customers=150, n_baskets=1200)
    log = shop.interactions[["user_id", "item_id", "timestamp"]].copy()
    log["timestamp"] = log["timestamp"].astype("datetime64[s]").astype("int64")
    log_path = tmp_path / "shop.csv"
    log.to_csv(log_path, index=False)
    items = shop.items.reset_index()[["item_id", "title", "genres"]]
    items["genres"] = items["genres"].str.join("|")
    items_path = tmp_path / "products.csv"
    items.to_csv(items_path, index=False)
    return log_path, items_path


def test_cli_is_deterministic_and_writes_the_three_outputs(tmp_path):
    log_path, items_path = _shop_log(tmp_path)
    outputs = []
    for run in ("one", "two"):
        out = tmp_path / run
        args = [str(log_path), "--items", str(items_path), "-o", str(out), "--quiet",
                "--models", "popularity,item_knn,als,content_based,hybrid", "--min-user-count", "2",
                "--min-item-count", "2", "--fit-budget", "100"]  # fmt: skip
        assert main(args) == 0
        outputs.append(out)
    one, two = (json.loads((out / "results.json").read_text()) for out in outputs)
    assert _without_timings(one) == _without_timings(two)
    assert (outputs[0] / "recommendations.csv").read_bytes() == (
        outputs[1] / "recommendations.csv"
    ).read_bytes()
    recs = pd.read_csv(outputs[0] / "recommendations.csv")
    assert list(recs.columns) == ["user_id", "rank", "item_id", "score", "source"]
    assert recs["rank"].max() == 10
    statuses = {row["model"]: row["status"] for row in one["models"]}
    assert statuses == {"popularity": "compared", "item_knn": "compared", "als": "compared",
                        "content_based": "compared", "hybrid": "compared"}  # fmt: skip
    # the audit table is lesson 11's, and results.json says so
    assert one["audit_source"].startswith(
        "recsys_lessons.responsible.audit.audit_report (lesson 11)"
    )
    assert "ndcg_gap_blockbuster" in one["models"][0]["audit"]
    page = (outputs[0] / "report.html").read_text()
    for section in SECTIONS:
        assert f">{section}</h2>" in page.replace("&amp;", "&")
    assert "http://" not in page and "https://" not in page  # nothing fetched from a network
    assert page.count('src="data:image/png;base64,') == 4
    assert not any(row["budget_cut"] for row in one["models"] if row["status"] == "compared")
    assert "Every grid was tried in full" in page


def _without_timings(results: dict) -> dict:
    results = json.loads(json.dumps(results))
    results.pop("run_seconds")
    results.pop("total_seconds")
    results.pop("provenance")  # the command names the output folder; machine and code
    results.pop("phase_seconds")
    results.pop("phase_cpu_seconds")
    for row in results["models"]:
        for key in ("fit_seconds", "recommend_seconds", "peak_fit_memory_mb"):
            row.pop(key, None)
        for trial in row.get("trials", []):
            trial.pop("fit_seconds", None)
            trial.pop("recommend_seconds", None)
    return results


def test_ease_is_skipped_above_the_memory_limit(tmp_path):
    log = load_log(GOLDEN)
    results, *_ = run_pilot(
        log, models=["popularity", "ease"], k=2, memory_limit_mb=1e-6, progress=False
    )
    ease = next(row for row in results["models"] if row["model"] == "ease")
    assert ease["status"] == "skipped" and "--memory-limit-mb" in ease["reason"]
    content = render_report(results, log.interactions)
    assert "EASE: 5 items" in content


def test_chooser_reads_its_numbers_from_the_results_files(tmp_path):
    from recsys_lessons.pilot.chooser import algorithm_chooser

    row = {"ndcg@10_95ci_bootstrap_users": [0.1, 0.3], "fit_seconds": 2.0}
    models = ("Popularity", "Random", "ContentBased", "ItemKNN", "EASE", "ALS")
    data = {
        "rows": [{**row, "model": name, "ndcg@10": 0.111 * (i + 1)} for i, name in enumerate(models)],
        "best_two_difference": {"models": ["ALS", "EASE"], "ndcg@10_difference": 0.0123,
                                "95ci_paired_bootstrap_users": [-0.01, 0.03]},
    }  # fmt: skip
    (tmp_path / "movielens_100k.json").write_text(json.dumps(data))
    table = algorithm_chooser(tmp_path)
    evidence = table["measured evidence"]
    assert "Popularity 0.111 [0.100, 0.300] vs Random 0.222" in evidence.iloc[0]
    assert "+0.0123" in evidence.loc["two strong models tied offline"]
    # retrieval.json is missing here: the cell says which benchmark to run
    assert (
        "run `python -m benchmarks.retrieval`" in evidence.loc["huge catalogue (millions of items)"]
    )
    assert "lesson 07" in evidence.loc["session-driven consumption (what next, now)"]


def test_cold_item_recall_counts_only_items_new_in_test():
    import scipy.sparse as sp

    from recsys_lessons.pilot.protocol import Fold
    from recsys_lessons.pilot.run import cold_item_recall

    # items 0, 1 have training history; items 2, 3 are new in test
    train = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0]], dtype=float))
    test = sp.csr_matrix(np.array([[0, 0, 1, 1], [0, 1, 1, 0], [1, 0, 0, 0]], dtype=float))
    fold = Fold(train, test, np.array([0, 1, 2]))
    recommended = np.array([[2, 0], [1, 3], [2, 3]])
    # user 0: new items {2, 3}, found 2 -> 1/2; user 1: new {2}, found none -> 0; user 2: none
    assert cold_item_recall(recommended, fold, k=2) == pytest.approx(0.25)
    warm = Fold(train, sp.csr_matrix(np.array([[0] * 4, [0, 1, 0, 0], [1, 0, 0, 0]], float)),
                np.array([1, 2]))  # fmt: skip
    assert cold_item_recall(recommended[1:], warm, k=2) is None


def test_a_grid_cut_by_the_time_limit_is_recorded_and_reported():
    log = load_log(GOLDEN)
    results, *_ = run_pilot(log, models=["item_knn"], k=2, time_limit=1e-9, progress=False)
    row = results["models"][0]
    assert len(row["trials"]) == 1 and row["grid_size"] == 6 and row["budget_cut"]
    assert row["cut_by"] == "time limit" and results["budget"]["time_limit_cut"] == ["item_knn"]
    assert row["params"] == {"neighbors": 100, "shrink": 0.0}  # the defaults come first
    page = render_report(results, log.interactions)
    assert "The time limit (1e-09 s) cut the grid of item-kNN (1 of 6)" in page


def test_a_global_cut_that_scores_enough_users_is_kept_and_said():
    from recsys_lessons.evaluation import temporal_split
    from recsys_lessons.pilot.protocol import make_protocol

    log = generate_shop(seed=42).interactions[["user_id", "item_id", "timestamp"]]
    log = log.drop_duplicates(["user_id", "item_id"], keep="last")
    protocol = make_protocol(log)
    scored = protocol.test.users.size
    assert protocol.name == "global temporal"
    assert scored >= 100 and scored >= 0.1 * len(protocol.user_ids)
    assert protocol.notices[0].startswith("protocol: global temporal split, because the global")
    assert f"leaves {scored:,} of {len(protocol.user_ids):,} users" in protocol.notices[0]
    # the test set is the global cut: the latest 20% of all events
    assert protocol.test.test.nnz == len(temporal_split(log, test_ratio=0.2)[1])


def test_hybrid_row_is_compared_on_the_golden_log_and_the_audit_says_why_it_falls_back():
    log = load_log(GOLDEN)
    results, lists, protocol, _ = run_pilot(
        log, models=["popularity", "item_knn", "hybrid"], k=2, progress=False,
        fit_budget=100,
    )  # fmt: skip
    hybrid = results["models"][2]
    assert hybrid["status"] == "compared" and hybrid["lesson"] == "06"
    # both rows tie on validation (nDCG 1): registry order; the simplex in steps of 0.25
    # with the most even weighting first, then more weight on the better (first) component
    assert [trial["params"] for trial in hybrid["trials"]] == [
        {"popularity": 0.5, "item_knn": 0.5},
        {"popularity": 0.75, "item_knn": 0.25},
        {"popularity": 0.25, "item_knn": 0.75},
        {"popularity": 1.0, "item_knn": 0.0},
        {"popularity": 0.0, "item_knn": 1.0},
    ]
    assert hybrid["grid_size"] == 5 and not hybrid["budget_cut"]
    assert lists["hybrid"].shape == (protocol.test.users.size, 2)
    # 6 users: the niche and blockbuster groups hold 1 user each (20% of 6, rounded)
    assert results["audit"] is None
    assert results["audit_source"].endswith(
        "needs at least 2 test users in each niche / diverse / blockbuster group and this log "
        "has niche 1, diverse 4, blockbuster 1"
    )
    assert set(hybrid["audit"]) == {"coverage", "novelty", "gini", "avg_popularity"}
    assert "this log has niche 1" in render_report(results, log.interactions)


def test_hybrid_needs_two_compared_rows():
    results, *_ = run_pilot(load_log(GOLDEN), models=["popularity", "hybrid"], k=2, progress=False)
    hybrid = results["models"][1]
    assert hybrid["status"] == "skipped"
    assert "at least two compared rows; only ['popularity']" in hybrid["reason"]


def test_hybrid_is_the_lesson_06_blend_of_the_best_rows_and_the_audit_is_lesson_11s(tmp_path):
    from recsys_lessons.hybrid import LinearBlend
    from recsys_lessons.pilot.beyond import genre_matrix
    from recsys_lessons.pilot.models import REGISTRY, Context

    log_path, items_path = _shop_log(tmp_path)
    log = load_log(log_path, min_user_count=2, min_item_count=2)
    items = load_items(items_path)
    names = ["popularity", "item_knn", "als", "content_based", "hybrid"]
    results, lists, protocol, _ = run_pilot(
        log, items, models=names, progress=False, fit_budget=100
    )
    rows = {row["model"]: row for row in results["models"]}
    best = {name: max(t["validation_ndcg"] for t in rows[name]["trials"]) for name in names[:4]}
    two_best = sorted(names[:3], key=lambda name: -best[name])[:2]
    weights = rows["hybrid"]["params"]
    assert list(weights) == [*two_best, "content_based"]
    assert sum(weights.values()) == pytest.approx(1.0) and rows["hybrid"]["grid_size"] == 15
    # a corner of the simplex ranks as its component alone (z-scores keep each user's order)
    for trial in rows["hybrid"]["trials"]:
        corner = [name for name, weight in trial["params"].items() if weight == 1.0]
        if corner:
            assert trial["validation_ndcg"] == pytest.approx(best[corner[0]], abs=1e-12)
    # the test row is LinearBlend of the components with their tuned parameters
    aligned = items.reindex(protocol.item_ids)
    specs = {spec.name: spec for spec in REGISTRY}
    context = Context(len(protocol.user_ids), len(protocol.item_ids), aligned, 1024.0, 42)
    blend = LinearBlend(
        {name: specs[name].factory(rows[name]["params"], context) for name in weights}, weights
    ).fit(protocol.test.train)
    expected = blend.recommend(protocol.test.users, k=10)[0]
    assert np.array_equal(lists["hybrid"], expected)
    # the audit table: lesson 11's overall figures per model plus the mainstream nDCG gaps
    assert results["audit_source"].startswith(
        "recsys_lessons.responsible.audit.audit_report (lesson 11)"
    )
    assert "genres from the item metadata" in results["audit_source"]
    tidy = pd.DataFrame(results["audit"])
    assert set(tidy["model"]) == set(names)
    columns = ["ndcg@k", "arp", "aplt", "long_tail_exposure", "coverage", "gini",
               "popularity_lift", "popularity_miscalibration", "calibration_kl",
               "ndcg_gap_niche", "ndcg_gap_diverse", "ndcg_gap_blockbuster"]  # fmt: skip
    for name in names:
        row = rows[name]["audit"]
        assert list(row) == columns
        figures = tidy[tidy["model"] == name]
        overall = figures[figures["grouping"] == "all"].set_index("metric")["value"]
        assert row["coverage"] == overall["coverage"] and row["ndcg@k"] == overall["ndcg@10"]
        gaps = figures[figures["metric"] == "ndcg_gap"].set_index("group")["value"]
        assert row["ndcg_gap_niche"] == gaps["niche"] and max(gaps) == 0.0
    # every user has training history here, so the audit's nDCG is the accuracy table's
    assert rows["als"]["audit"]["ndcg@k"] == pytest.approx(rows["als"]["ndcg"]["estimate"])
    genres = genre_matrix(aligned)
    assert genres.shape[0] == len(protocol.item_ids) and (genres.getnnz(axis=1) >= 1).all()


def test_genre_matrix_labels_items_without_genres_unknown():
    from recsys_lessons.pilot.beyond import genre_matrix

    items = pd.DataFrame({"genres": ["Drama|Comedy", np.nan, "", "Drama"]})
    genres = genre_matrix(items)
    # columns sorted: (unknown), Comedy, Drama
    assert genres.toarray().tolist() == [[0, 1, 1], [1, 0, 0], [1, 0, 0], [0, 0, 1]]
    assert genre_matrix(pd.DataFrame({"title": ["x"]})) is None and genre_matrix(None) is None


def test_importing_the_report_leaves_the_plotting_backend_alone():
    """Lesson 12's figures vanished: the report module used to call matplotlib.use("Agg")."""
    import subprocess
    import sys

    code = (
        "import matplotlib; matplotlib.use('svg'); "
        "import recsys_lessons.pilot.report, recsys_lessons.pilot.run; "
        "print(matplotlib.get_backend())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "svg"


def test_a_three_component_blend_grid_starts_balanced_around_the_best_model():
    """Issue 24: sorting by the largest weight alone put {best: 0, second: 0.5, content: 0.5}
    first, so a budget that stopped after one point blended without the best model."""
    names = ["ease", "bpr", "content_based"]
    grid = sorted(weight_grid(names, step=0.25), key=lambda w: evenness_order(w, names))
    assert grid[0] == {"ease": 0.5, "bpr": 0.25, "content_based": 0.25}
    assert all(weights["ease"] > 0 for weights in grid[:3])
    spreads = [round(sum((w[n] - 1 / 3) ** 2 for n in names), 9) for w in grid]
    assert spreads == sorted(spreads)


def test_scorable_users_counts_string_ids_in_both_folds():
    train = pd.DataFrame({"user_id": ["u1", "u2", "u3", "u10"]})
    test = pd.DataFrame({"user_id": ["u1", "u1", "u3", "u4", "u10"]})
    assert scorable_users(train, test) == 3
