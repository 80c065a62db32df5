"""The decision brief: lift with intervals, who was scored, caveats, examples, segments, HTML."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys_lessons.evaluation.stats import bootstrap_interval, paired_bootstrap_interval
from recsys_lessons.pilot import load_items, load_log, run_pilot
from recsys_lessons.pilot.brief import (
    RESAMPLES,
    audit_gaps,
    caveats,
    examples,
    lift,
    population,
    segments,
    users_sentence,
)
from recsys_lessons.pilot.protocol import Fold, make_protocol
from recsys_lessons.pilot.report import SECTIONS, label_offsets, render_report
from tests.test_pilot import _shop_log


def _decision(verdict="ship", leader="item_knn", model="item_knn", runner_up="popularity"):
    return {"verdict": verdict, "leader": leader, "baseline": "popularity", "model": model,
            "runner_up": runner_up, "same_as": {}}  # fmt: skip


def test_the_relative_lift_interval_is_a_paired_resampling_of_the_ratio_of_means():
    rng = np.random.default_rng(0)
    base = rng.uniform(0, 0.3, 300)
    row = np.clip(base * 1.2 + rng.normal(0, 0.05, 300), 0, None)
    hits = {"row": (row > 0.15).astype(float), "base": (base > 0.15).astype(float)}
    per_user = {"item_knn": {"ndcg": row, "hit": hits["row"]},
                "popularity": {"ndcg": base, "hit": hits["base"]}}  # fmt: skip
    result = lift(_decision(), per_user, k=10, seed=3)
    # directly: resample the users (both rows together), the ratio of the means minus 1
    users = np.random.default_rng(3).integers(0, 300, size=(RESAMPLES, 300))
    ratios = row[users].mean(axis=1) / base[users].mean(axis=1) - 1
    low, high = np.quantile(ratios, [0.025, 0.975])
    relative = result["ndcg"]["relative"]
    assert relative["estimate"] == pytest.approx(row.mean() / base.mean() - 1)
    assert (relative["low"], relative["high"]) == pytest.approx((low, high), abs=1e-12)
    assert relative["low"] < relative["estimate"] < relative["high"]
    hit = result["hit"]
    assert hit["model"]["estimate"] == pytest.approx(hits["row"].mean())
    assert hit["baseline"] == pytest.approx(
        vars(bootstrap_interval(hits["base"], RESAMPLES, seed=3)), abs=0
    )
    assert hit["relative"]["estimate"] == pytest.approx(
        hits["row"].mean() / hits["base"].mean() - 1
    )
    assert result["sentence"].startswith(
        f"item-kNN lifts nDCG@10 over popularity by {relative['estimate']:+.0%} "
        f"({relative['low']:+.0%} to {relative['high']:+.0%}); {hits['row'].mean():.0%} of users "
        "get at least one hit in their top 10"
    )
    # not shipped: the same figures, said in the conditional
    held = lift(_decision("inconclusive", model="popularity"), per_user, k=10, seed=3)
    assert held["sentence"].startswith("The leading row, item-kNN, would lift nDCG@10")
    # a baseline that never scores: the relative lift is undefined, not infinite
    zero = {"ndcg": np.zeros(300), "hit": np.zeros(300)}
    undefined = lift(_decision(), {**per_user, "popularity": zero}, k=10, seed=3)
    assert undefined["ndcg"]["relative"] is None and "an undefined share" in undefined["sentence"]
    # a baseline that scores one user of three: resamples without that user have no ratio,
    # so the upper bound is open
    sparse = {"ndcg": np.array([0.0, 0.0, 0.3]), "hit": np.array([0.0, 0.0, 1.0])}
    rows = {"ndcg": np.array([0.2, 0.1, 0.3]), "hit": np.ones(3)}
    open_ended = lift(_decision(), {"item_knn": rows, "popularity": sparse}, k=10)
    assert open_ended["ndcg"]["relative"]["high"] is None
    assert open_ended["ndcg"]["relative"]["estimate"] == pytest.approx(0.6 / 0.3 - 1)
    assert "to +∞)" in open_ended["sentence"]
    assert lift(_decision(leader=None), per_user, k=10) is None


def _protocol(train, test, users, name="global temporal", user_ids=None, item_ids=None):
    train, test = sp.csr_matrix(np.asarray(train, float)), sp.csr_matrix(np.asarray(test, float))
    n_users, n_items = train.shape
    return SimpleNamespace(
        name=name,
        test=Fold(train, test, np.asarray(users)),
        user_ids=pd.Index(user_ids or [f"u{u}" for u in range(n_users)]),
        item_ids=pd.Index(item_ids or [f"i{i}" for i in range(n_items)]),
    )


def test_population_counts_scored_new_and_unscored_users(tmp_path):
    # u0-u2 scored; u3 history only; u4 test events only (new); u9: its one training event
    # (on an item kept) is below --min-user-count 2, so its row has no history either
    path = tmp_path / "log.csv"
    path.write_text("user,item,time\n" + "".join(
        f"u{u},{item},{t}\n" for u, items in enumerate(["abc", "abd", "abc", "ab"])
        for t, item in enumerate(items)
    ) + "u9,a,1\nu4,c,100\nu0,d,101\nu1,c,102\nu2,d,103\nz9,z,0\n")  # fmt: skip
    log = load_log(path, min_user_count=2, min_item_count=2)
    protocol = make_protocol(
        log.interactions, k=1, test_ratio=0.3, seed=0, split="global",
        min_user_count=2, min_item_count=2,
    )  # fmt: skip
    counts = protocol.filters["training_period"]
    users = population(protocol)
    history = np.diff(protocol.test.train.indptr) > 0
    assert users["log_users"] == len(protocol.user_ids)
    assert users["scored"] == protocol.test.users.size
    assert users["below_min_user_count"] == 1 + (
        counts["before"]["users"] - counts["after_items"]["users"]
    )
    assert users["new"] == len(protocol.user_ids) - counts["before"]["users"] >= 1  # u4
    assert users["new"] + users["below_min_user_count"] == int((~history).sum())
    assert users["items_dropped"] == counts["before"]["items"] - counts["after_items"]["items"] >= 1
    assert users["min_user_count"] == 2 and users["min_item_count"] == 2
    sentence = users_sentence(users)
    assert sentence.startswith(f"{users['scored']:,} of {users['log_users']:,} users scored")
    assert "below the minimum of 2 training events" in sentence


def test_population_without_minimum_counts():
    train = [[1, 1, 0], [1, 0, 0], [0, 1, 1]]
    test = [[0, 0, 1], [0, 1, 0], [1, 0, 0]]
    everyone = population(_protocol(train, test, [0, 1, 2], "per-user temporal"))
    assert everyone["below_min_user_count"] == 0 and everyone["min_user_count"] is None
    assert users_sentence(everyone) == "3 of 3 users scored (per-user temporal split): every user."


def test_caveats_name_skipped_rows_cut_grids_one_row_hybrids_few_users_and_the_catalogue():
    results = {
        "models": [
            {"model": "popularity", "status": "compared", "budget_cut": False},
            {"model": "item_knn", "status": "compared", "budget_cut": True,
             "trials": [{}], "grid_size": 6},
            {"model": "ease", "status": "skipped", "reason": "too big"},
        ]
    }  # fmt: skip
    decision = {**_decision(), "same_as": {"hybrid": "bpr"}}
    users = {"scored": 26, "items": 3650, "items_dropped": 6074, "min_item_count": 5, "new": 3}
    assert caveats(results, decision, users) == [
        "Not compared: EASE (reasons under Skipped models).",
        "The tuning budget cut the grid of item-kNN (1 of 6): those parameters may not be the best.",
        "hybrid = BPR alone: its tuned blend put all the weight on BPR.",
        "Only 26 users were scored: intervals are wide and small differences cannot be seen.",
        "6,074 of 9,724 items (62%) can never be recommended: they have fewer than 5 "
        "training events (--min-item-count).",
        "3 new users not scored; every collaborative row serves them the popularity shelf.",
    ]
    quiet = {"models": results["models"][:1]}
    few_dropped = {**users, "scored": 610, "items_dropped": 100, "new": 0}  # 3% of the catalogue
    assert caveats(quiet, _decision(), few_dropped) == []


def test_examples_are_the_heaviest_the_median_and_the_lightest_test_user():
    # five test users with 3, 1, 4, 2, 4 training items; items i0..i5
    train = [[1, 1, 1, 0, 0, 0], [1, 0, 0, 0, 0, 0], [1, 1, 1, 1, 0, 0],
             [0, 1, 0, 1, 0, 0], [0, 0, 1, 1, 1, 1]]  # fmt: skip
    test = np.zeros((5, 6))
    test[[0, 1, 2, 3, 4], [3, 5, 4, 5, 0]] = 1
    protocol = _protocol(train, test, [0, 1, 2, 3, 4])
    # u0's events at times 3, 1, 2 (i0, i1, i2) and its test item i3 at 9; the others at 0
    times = {"i0": 3, "i1": 1, "i2": 2, "i3": 9}
    rows = [(f"u{u}", f"i{i}", times[f"i{i}"] if u == 0 else 0)
            for u in range(5) for i in range(6) if train[u][i] or test[u, i]]  # fmt: skip
    interactions = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])
    items = pd.DataFrame({"title": ["Zero", None, "Two", "Three", "Four", "Five"]},
                         index=protocol.item_ids)  # fmt: skip
    lists = {
        "item_knn": np.array([[3, 4], [5, 2], [4, 5], [0, 5], [0, -1]]),
        "popularity": np.array([[4, 3], [2, 3], [5, 4], [2, 4], [1, 0]]),
    }
    shown = examples(protocol, interactions, items, lists, _decision())
    # by training items, ties by user index: u1 (1), u3 (2), u0 (3), u2 (4), u4 (4)
    assert [(e["role"], e["user_id"], e["history"]) for e in shown] == [
        ("heavy", "u4", 4), ("median", "u0", 3), ("light", "u1", 1)
    ]  # fmt: skip
    heavy = shown[0]
    assert list(heavy["lists"]) == ["item_knn", "popularity"]
    assert heavy["lists"]["item_knn"] == [{"item": "Zero", "hit": True}]  # -1 padding dropped
    assert heavy["lists"]["popularity"] == [{"item": "i1", "hit": False},  # no title: the id
                                            {"item": "Zero", "hit": True}]  # fmt: skip
    assert shown[1]["lists"]["item_knn"] == [{"item": "Three", "hit": True},
                                             {"item": "Four", "hit": False}]  # fmt: skip
    median = shown[1]
    assert median["last_items"] == ["Zero", "Two", "i1"]  # latest first; i3 is a test item
    # without timestamps: the log's order, latest line first
    untimed = examples(protocol, interactions.drop(columns="timestamp"), None, lists, _decision())
    assert untimed[1]["last_items"] == ["i2", "i1", "i0"]


def test_segments_are_activity_thirds_with_paired_intervals_and_new_users_on_popularity():
    rng = np.random.default_rng(1)
    n = 9
    train = np.zeros((n + 2, 20))
    for u in range(n):
        train[u, : u + 1] = 1  # u0 has 1 item ... u8 has 9
    test = np.zeros((n + 2, 20))
    test[:, 19] = 1  # everyone, the two new users (rows 9, 10) included, chose item 19
    protocol = _protocol(train, test, np.arange(n))
    base, row = rng.uniform(0, 0.3, n), rng.uniform(0, 0.5, n)
    per_user = {"popularity": {"ndcg": base}, "item_knn": {"ndcg": row}}
    popularity_lists = np.tile([19, 0], (n + 2, 1))  # item 19 first for the new users
    table = segments(protocol, per_user, _decision(), popularity_lists, k=2, seed=0)
    assert [(s["segment"], s["users"], s["history"]) for s in table] == [
        ("light users (third by history)", 3, [1, 3]),
        ("medium users (third by history)", 3, [4, 6]),
        ("heavy users (third by history)", 3, [7, 9]),
        ("new users (no history: every row serves them popularity)", 2, [0, 0]),
    ]
    heavy = slice(6, 9)
    expected = paired_bootstrap_interval(row[heavy], base[heavy], RESAMPLES, seed=0)
    assert table[2]["difference"] == pytest.approx(vars(expected), abs=0)
    assert table[2]["model"] == pytest.approx(row[heavy].mean())
    assert table[2]["baseline"] == pytest.approx(base[heavy].mean())
    assert table[3]["baseline"] == 1.0  # item 19 at rank 1 for both new users
    assert table[3]["baseline_interval"]["low"] == 1.0 and "model" not in table[3]
    assert segments(_protocol(train[:5], test[:5], np.arange(5)), per_user, _decision(),
                    None, k=2) == []  # fmt: skip


def test_audit_gaps_keep_each_groups_interval():
    records = [
        {"model": "popularity", "metric": "ndcg@10", "grouping": "all", "group": "all",
         "value": 0.09, "low": 0.08, "high": 0.1},
        {"model": "popularity", "metric": "ndcg@10", "grouping": "mainstream",
         "group": "niche", "value": 0.12, "low": 0.09, "high": 0.16},
        {"model": "popularity", "metric": "ndcg_gap", "grouping": "mainstream",
         "group": "niche", "value": -0.03, "low": -0.07, "high": 0.01},
    ]  # fmt: skip
    assert audit_gaps(records) == [
        {"model": "popularity", "group": "niche",
         "ndcg": {"estimate": 0.12, "low": 0.09, "high": 0.16, "confidence": 0.95},
         "gap": {"estimate": -0.03, "low": -0.07, "high": 0.01, "confidence": 0.95}}
    ]  # fmt: skip
    assert audit_gaps(None) == []


class _Page(HTMLParser):
    """Header cells, the text before the second heading, and the tables' wrappers."""

    def __init__(self):
        super().__init__()
        self.headers, self.stack, self.h2, self.first_screen = [], [], 0, []
        self.header_rows_per_table, self.tables_in_scroll, self.tables = [], 0, 0

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables += 1
            self.tables_in_scroll += bool(self.stack and self.stack[-1] == ("div", "scroll"))
            self.header_rows_per_table.append(0)
        if tag == "tr" and self.stack and self.stack[-1][0] == "thead":
            self.header_rows_per_table[-1] += 1
        if tag == "th":
            self.headers.append("")
        if tag == "h2":
            self.h2 += 1
        if tag not in ("meta", "img", "br"):
            self.stack.append((tag, dict(attrs).get("class")))

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, data):
        if self.stack and self.stack[-1][0] == "th":
            self.headers[-1] += data
        if self.h2 == 1 and not any(tag == "style" for tag, _ in self.stack):
            self.first_screen.append(data)


@pytest.fixture(scope="module")
def shop_report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("brief")
    log_path, items_path = _shop_log(folder)
    log = load_log(log_path, min_user_count=2, min_item_count=2)
    results, *_ = run_pilot(
        log, load_items(items_path), models=["popularity", "item_knn", "ease"],
        memory_limit_mb=1e-6, progress=False,
    )  # fmt: skip
    return results, render_report(results, log.interactions)


def test_the_report_leads_with_the_brief_and_its_tables_read_cleanly(shop_report):
    results, page = shop_report
    json.dumps(results["decision"], allow_nan=False)  # JSON-ready, no NaN
    json.dumps(results["brief"], allow_nan=False)
    parsed = _Page()
    parsed.feed(page)
    # every section, in order; the first one holds the verdict, lift, users, caveats, examples
    assert re.findall(r"<h2[^>]*>([^<]*)</h2>", page.replace("&amp;", "&")) == list(SECTIONS)
    first = " ".join(" ".join(parsed.first_screen).split())
    decision, brief = results["decision"], results["brief"]
    assert decision["headline"] in first and decision["summary"] in first
    assert brief["lift"]["sentence"] in first and brief["users_sentence"] in first
    assert "Not compared: EASE" in brief["caveats"][0] and brief["caveats"][0] in first
    example = brief["examples"][0]
    assert example["role"] == "heavy" and f"Heavy user {example['user_id']}" in first
    assert example["lists"][decision["model"]][0]["item"] in first
    # tables: labels for people, one header row, in a sideways-scrolling box
    assert parsed.headers and all(name.strip() for name in parsed.headers)
    snake = [name for name in parsed.headers if re.search(r"[a-z]_[a-z]", name)]
    assert snake == []
    assert set(parsed.header_rows_per_table) == {1}
    assert parsed.tables == parsed.tables_in_scroll > 5
    # no None / NaN cells; <group> escaped; thousands separators
    assert "None" not in page and not re.search(r">\s*nan\s*<", page, re.IGNORECASE)
    assert "nDCG gap, &lt;group&gt; users" in page and "<group>" not in page
    interactions = results["profile"]["interactions"]
    assert interactions >= 1000 and f"<td>{interactions:,}</td>" in page
    # the audit's per-group gaps with their intervals
    gap = next(row for row in brief["audit_gaps"] if row["gap"]["low"] != row["gap"]["high"])
    assert f"{gap['gap']['estimate']:+.4f} ({gap['gap']['low']:+.4f} to " in page
    assert page.count('src="data:image/png;base64,') == 4


def test_point_labels_never_overprint():
    points = [(100.0, 100.0)] * 4 + [(102.0, 104.0), (400.0, 100.0)]
    sizes = [(60.0, 11.0)] * 6
    offsets = label_offsets(points, sizes, step=12.0)
    boxes = [(x + dx, y + dy, x + dx + w, y + dy + h)
             for (x, y), (dx, dy), (w, h) in zip(points, offsets, sizes, strict=True)]  # fmt: skip
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)
    assert offsets[-1] == (4.0, 0.0)  # a lone point keeps its label level with it
    # near the plot's right edge the label goes to the left of its point
    assert label_offsets([(100.0, 50.0), (480.0, 50.0)], [(60.0, 11.0)] * 2, 12.0,
                         right=500.0) == [(4.0, 0.0), (-64.0, 0.0)]  # fmt: skip


def test_the_ratio_interval_refuses_what_has_no_relative_difference():
    from recsys_lessons.evaluation.stats import paired_ratio_interval

    with pytest.raises(ValueError, match="mean\\(values_b\\) is 0"):
        paired_ratio_interval([0.1, 0.2], [0.0, 0.0])
    with pytest.raises(ValueError, match="values_a must be >= 0"):
        paired_ratio_interval([-0.1, 0.2], [0.1, 0.1])
    with pytest.raises(ValueError, match="same user order"):
        paired_ratio_interval([0.1, 0.2, 0.3], [0.1, 0.1])
