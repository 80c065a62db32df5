"""Issue 24: ``--time-limit`` is a limit for the whole run, planned from the run's measurements.

Every test here runs on a fake clock (seconds advance only when a test says so: a model's
fit "costs" what the test gives it), so the planner's decisions are exact and repeatable;
no test measures real time.
"""

from __future__ import annotations

import json

import pytest

from recsys_lessons.models import ALS, ItemKNN
from recsys_lessons.pilot import load_log, run_pilot
from recsys_lessons.pilot.cli import main
from recsys_lessons.pilot.progress import Progress
from recsys_lessons.pilot.report import render_report
from recsys_lessons.pilot.time_limit import (
    CLOSING_SECONDS,
    CLOSING_SHARE,
    SAFETY_MARGIN,
    Cost,
    FoldSizes,
    TimeLimit,
    phase_groups,
)
from tests.test_pilot import GOLDEN, _shop_log
from tests.test_pilot_budget import _without_timings

SIZES = FoldSizes(
    tuning_nnz=100, tuning_users=10, test_nnz=200, test_users=50, full_nnz=300, full_users=60
)


class FakeClock:
    """Seconds that pass only when told (``advance``)."""

    def __init__(self, now: float = 0.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _plan(limit: float, setup: float = 0.0) -> tuple[TimeLimit, FakeClock]:
    clock = FakeClock(setup)
    return TimeLimit(limit, SIZES, clock, started=0.0), clock


def _trial(fit: float, rank: float) -> dict:
    return {"params": {}, "validation_ndcg": 0.0, "fit_seconds": fit, "recommend_seconds": rank}


# ----- estimates ------------------------------------------------------------------------


def test_a_rows_test_scales_its_costliest_fit_by_nonzeros_and_ranking_by_users():
    plan, _ = _plan(100.0)
    plan.note_points("als", [_trial(2.0, 1.0), _trial(3.0, 0.5)])
    # fit 3 x (200 / 100 nonzeros) + ranking 1 x (50 / 10 users)
    assert plan.test_estimate("als") == Cost(6.0, 5.0)
    # the refit scales the test again: 6 x 300 / 200 + 5 x 60 / 50
    assert plan.refit_estimate("als") == pytest.approx(9.0 + 6.0)
    plan.note_test("als", 4.0, 10.0)  # once measured, the test is what it took
    assert plan.test_estimate("als") == Cost(4.0, 10.0)
    assert plan.refit_estimate("als") == pytest.approx(4.0 * 1.5 + 10.0 * 1.2)


def test_a_row_not_measured_costs_as_much_as_the_costliest_row_tested_so_far():
    plan, _ = _plan(100.0)
    assert plan.unmeasured() == 0.0  # nothing measured yet
    plan.note_points("popularity", [_trial(0.0, 1.0)])
    plan.note_test("popularity", 0.0, 4.0)
    plan.note_points("ease", [_trial(50.0, 0.0)])  # tuned, never tested: not a yardstick
    assert plan.unmeasured() == pytest.approx(1.0 + 4.0)
    plan.note_points("item_knn", [_trial(2.0, 0.0), _trial(1.0, 1.0)])
    plan.note_test("item_knn", 3.0, 6.0)
    # item_knn: its costliest point (2 s) + its test (9 s)
    assert plan.unmeasured() == pytest.approx(2.0 + 9.0)
    assert plan.test_estimate("bpr").total == pytest.approx(11.0)


def test_the_closing_phases_grow_with_the_time_loading_and_the_protocol_took():
    assert _plan(100.0, setup=0.0)[0].closing() == CLOSING_SECONDS
    assert _plan(100.0, setup=40.0)[0].closing() == CLOSING_SECONDS + CLOSING_SHARE * 40.0


def test_phase_groups_count_nested_phases_once():
    seconds = {"dedup": 1.0, "load": 3.0, "protocol": 2.0, "tuning als": 4.0, "test als": 5.0,
               "tuning bpr": 1.0, "audit": 0.5, "refit als": 6.0, "brief": 0.25,
               "writing": 0.25}  # fmt: skip
    assert phase_groups(seconds) == {
        "load": 3.0, "protocol": 2.0, "tuning": 5.0, "test": 5.0, "refit": 6.0, "closing": 1.0
    }  # fmt: skip


# ----- the three rules --------------------------------------------------------------------


def test_tuning_stops_when_the_reserve_says_so():
    plan, clock = _plan(60.0)
    plan.note_points("popularity", [_trial(0.0, 1.0)])
    plan.note_test("popularity", 0.0, 2.0)
    clock.advance(10.0)
    plan.note_points("als", [_trial(2.0, 0.0)])
    # reserve: 1.1 x (als test 4 + one later row as the costlier of popularity (1 + 2) and als
    # itself (2 + 4) + als refit 6 + closing 2)
    reserve = (1 + SAFETY_MARGIN) * (4.0 + 6.0 + 6.0 + CLOSING_SECONDS)
    assert plan.reserve("als", ["bpr"]) == pytest.approx(reserve)
    point = (1 + SAFETY_MARGIN) * 2.0
    # 10 + 2 x 2.2 + 19.8 = 34.2 <= 60: a further point
    assert plan.may_extend("als", ["bpr"], sharing=2)
    clock.now = 60.0 - 2 * point - reserve - 1e-9  # just enough time left
    assert plan.may_extend("als", ["bpr"], sharing=2)
    clock.advance(0.01)
    assert not plan.may_extend("als", ["bpr"], sharing=2)
    [decision] = plan.decisions
    assert decision["row"] == "als" and decision["action"] == "tuning stopped"
    assert decision["elapsed_seconds"] + decision["needed_seconds"] > 60.0
    assert "--time-limit 60 s" in decision["reason"]
    assert plan.skipped == {}  # stopping a grid skips nothing


def test_a_row_is_skipped_before_tuning_when_its_defaults_cannot_fit_unless_protected():
    plan, clock = _plan(30.0)
    plan.note_points("popularity", [_trial(0.0, 2.0)])
    plan.note_test("popularity", 0.0, 10.0)  # unmeasured rows: 12 s; refit 10 x 1.2 = 12 s
    clock.advance(10.0)
    needed = (1 + SAFETY_MARGIN) * (12.0 + 12.0 + CLOSING_SECONDS)
    assert 10.0 + needed > 30.0
    assert plan.may_start("popularity", protected=True)
    assert plan.decisions == []
    assert not plan.may_start("bpr", protected=False)
    assert plan.decisions[0]["needed_seconds"] == pytest.approx(needed)
    assert "bpr" in plan.skipped and "costliest row tested so far" in plan.skipped["bpr"]
    assert plan.as_dict()["skipped"] == ["bpr"]


def test_a_tuned_row_whose_test_cannot_fit_is_skipped_before_its_test():
    plan, clock = _plan(50.0)
    clock.advance(20.0)
    plan.note_points("bpr", [_trial(5.0, 1.0)])  # test 10 + 5 = 15 s, refit 15 + 6 = 21 s
    needed = (1 + SAFETY_MARGIN) * (15.0 + 21.0 + CLOSING_SECONDS)
    assert 20.0 + needed > 50.0
    assert not plan.may_test("bpr", protected=False)
    assert plan.decisions[-1]["action"] == "skipped before its test"
    assert "its test (about 15 s" in plan.skipped["bpr"]
    assert plan.may_test("bpr", protected=True)  # the baseline or the first row always runs


# ----- a run on a fake clock -------------------------------------------------------------


@pytest.fixture
def fit_costs(monkeypatch):
    """Each item-kNN and ALS fit advances the returned clock by 10 seconds."""
    clock = FakeClock()
    for model in (ItemKNN, ALS):
        fit = model.fit

        def slow_fit(self, X, fit=fit):
            clock.advance(10.0)
            return fit(self, X)

        monkeypatch.setattr(model, "fit", slow_fit)
    return clock


def _limited_run(clock, limit):
    return run_pilot(
        load_log(GOLDEN), models=["popularity", "item_knn", "als"], k=2, fit_budget=13,
        time_limit=limit, progress=Progress(enabled=False, clock=clock),
    )  # fmt: skip


def test_a_limited_run_stops_the_grids_and_stays_within_the_limit(fit_costs):
    results, *_ = _limited_run(fit_costs, 100.0)
    budget, plan = results["budget"], results["budget"]["time"]
    rows = budget["rows"]
    # the fit budget (13) allows every point: only the time limit cut the grids
    assert rows["item_knn"]["allowed"] == 6 and rows["als"]["allowed"] == 6
    assert 1 < rows["item_knn"]["used"] < 6 and rows["item_knn"]["cut_by"] == "time limit"
    assert rows["als"]["cut_by"] == "time limit" and budget["time_limit_cut"] == [
        "item_knn", "als"
    ]  # fmt: skip
    assert [d["row"] for d in plan["decisions"]] == ["item_knn", "als"]
    for decision in plan["decisions"]:
        assert decision["elapsed_seconds"] + decision["needed_seconds"] > 100.0
    assert plan["skipped"] == [] and plan["limit_seconds"] == 100.0
    # every fake second is a fit: tuning points, two tests, and the refit when not popularity
    fits = rows["item_knn"]["used"] + rows["als"]["used"] + 2
    fits += results["decision"]["model"] != "popularity"
    assert fit_costs() == 10.0 * fits <= 100.0
    page = render_report(results, load_log(GOLDEN).interactions)
    assert "Time limit: 100 s for the whole run (--time-limit)" in page
    assert "The run was limited to 100 s (--time-limit): it cut or skipped item-kNN, ALS" in page


def test_a_limited_run_on_the_same_timings_is_the_same_run(fit_costs):
    first, *_ = _limited_run(fit_costs, 100.0)
    fit_costs.now = 0.0
    second, *_ = _limited_run(fit_costs, 100.0)
    assert first["budget"] == second["budget"]
    assert _without_timings(first) == _without_timings(second)


def test_rows_that_cannot_fit_are_skipped_and_say_why(fit_costs):
    results, *_ = _limited_run(fit_costs, 25.0)
    statuses = {row["model"]: row for row in results["models"]}
    assert statuses["popularity"]["status"] == "compared"  # the baseline always runs
    # item-kNN's defaults were fitted (10 s) but its test would end past 25 s; ALS, priced as
    # the row tested so far (popularity, 0 s), starts, and is skipped before its test too
    for name in ("item_knn", "als"):
        assert statuses[name]["status"] == "skipped"
        assert statuses[name]["reason"].startswith("the time limit: its defaults were tuned")
    plan = results["budget"]["time"]
    assert plan["skipped"] == ["als", "item_knn"]
    assert [(d["row"], d["action"]) for d in plan["decisions"]] == [
        ("item_knn", "tuning stopped"), ("item_knn", "skipped before its test"),
        ("als", "tuning stopped"), ("als", "skipped before its test"),
    ]  # fmt: skip
    assert fit_costs() == 20.0  # the first point of each, nothing after them
    assert results["decision"]["model"] == "popularity"


def test_a_row_is_not_started_when_the_rows_tested_so_far_say_it_cannot_fit(fit_costs):
    results, *_ = _limited_run(fit_costs, 50.0)
    plan = results["budget"]["time"]
    # item-kNN: one point (a second one and the reserve for ALS would not fit), then its test
    # (10 s) at 20 s; ALS, priced as item-kNN (one point and its test, 20 s) plus item-kNN's
    # refit and the report, would end past 50 s
    assert [(d["row"], d["action"]) for d in plan["decisions"]] == [
        ("item_knn", "tuning stopped"), ("als", "skipped before tuning")
    ]  # fmt: skip
    assert "costliest row tested so far" in plan["decisions"][1]["reason"]
    assert results["budget"]["rows"]["item_knn"]["used"] == 1
    assert fit_costs() == 20.0 + 10.0 * (results["decision"]["model"] == "item_knn")


def test_without_a_limit_nothing_is_planned(fit_costs):
    results, *_ = _limited_run(fit_costs, None)
    assert results["budget"]["time"] is None and results["budget"]["time_limit"] is None
    assert results["budget"]["fits_used"] == 13 and not results["budget"]["grids_cut"]


def test_the_cli_states_the_limit_up_front_and_records_the_total(tmp_path, capsys):
    log_path, _ = _shop_log(tmp_path)
    args = [str(log_path), "-o", str(tmp_path / "out"), "--models", "popularity,item_knn",
            "--min-user-count", "2", "--min-item-count", "2", "--time-limit", "3600"]  # fmt: skip
    assert main(args) == 0
    lines = capsys.readouterr().err.splitlines()
    assert "time limit: the whole run within 3600 s (load to writing)" in lines[0]
    assert lines[1].endswith("load: start")
    assert any("s left for tuning, tests, the refit and the report" in line for line in lines)
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    plan = results["budget"]["time"]
    assert plan["limit_seconds"] == 3600 and plan["decisions"] == [] and plan["within_limit"]
    assert plan["total_seconds"] == results["total_seconds"] > 0
    assert set(plan["phase_group_seconds"]) == {
        "load", "protocol", "tuning", "test", "refit", "closing"
    }  # fmt: skip
    assert sum(plan["phase_group_seconds"].values()) <= plan["total_seconds"]
    page = (tmp_path / "out" / "report.html").read_text()
    assert "The limit cut nothing." in page
    drawn = float(page.split("When this page was drawn the run had taken ")[1].split(" s,")[0])
    assert 0 < drawn <= plan["total_seconds"]  # the page is drawn before the final total
    assert "The run was limited to 3600 s (--time-limit): it cut nothing." in page
