"""Issue 24: the pilot's answers do not depend on load or luck, and every phase says so.

A fit budget shared by water-filling (skipped rows take nothing), the same results.json on a
slowed machine, the degenerate hybrid, the progress lines (the time limit:
tests/test_pilot_time_limit.py).
"""

from __future__ import annotations

import io
import json
import time

import numpy as np
import pandas as pd
import pytest

from recsys_lessons.models import ItemKNN
from recsys_lessons.pilot import load_log, run_pilot
from recsys_lessons.pilot.budget import (
    FULL_GRIDS_FIT_BUDGET,
    LARGE_LOG_FIT_BUDGET,
    SMALL_LOG_INTERACTIONS,
    allot,
    default_fit_budget,
)
from recsys_lessons.pilot.cli import main
from recsys_lessons.pilot.models import same_as
from recsys_lessons.pilot.progress import Progress
from recsys_lessons.pilot.report import render_report
from tests.test_pilot import GOLDEN, _shop_log

CLI_MODELS = "popularity,item_knn,als"


@pytest.mark.parametrize(
    ("sizes", "budget", "expected"),
    [
        ([1, 6, 6, 4, 15], 24, [1, 6, 6, 4, 7]),  # small grids in full, the hybrid the rest
        ([6, 6, 4], 10, [4, 3, 3]),  # equal shares, the remainder to the earliest row
        ([6, 0, 4], 100, [6, 0, 4]),  # a row not tuned takes nothing; never above a grid
        ([6, 6], 1, [1, 0]),  # fewer fits than rows: the later row gets no share
        ([2, 9, 3], 9, [2, 4, 3]),  # what the small grids leave goes to the large one
    ],
)
def test_allot_water_fills_in_registry_order(sizes, budget, expected):
    shares = allot(sizes, budget)
    assert shares == expected
    assert sum(shares) == min(budget, sum(sizes))
    assert all(share <= size for share, size in zip(shares, sizes, strict=True))


def test_a_skipped_row_takes_no_budget_and_a_small_grid_leaves_its_share_to_the_others():
    log = load_log(GOLDEN)
    # ease is skipped (memory limit): item_knn gets all 6 points of 7 fits, popularity its 1
    results, *_ = run_pilot(
        log, models=["popularity", "ease", "item_knn"], k=2, fit_budget=7,
        memory_limit_mb=1e-6, progress=False,
    )  # fmt: skip
    budget = results["budget"]
    assert budget["rows"] == {
        "popularity": {"grid_size": 1, "allowed": 1, "used": 1, "cut_by": None},
        "item_knn": {"grid_size": 6, "allowed": 6, "used": 6, "cut_by": None},
    }
    assert budget["fits_used"] == 7 and budget["grids_cut"] == []
    assert results["settings"]["fit_budget"] == 7 and results["settings"]["time_limit"] is None


def test_the_hybrids_share_is_reserved_before_the_rows_it_follows():
    log = load_log(GOLDEN)
    results, *_ = run_pilot(
        log, models=["popularity", "item_knn", "hybrid"], k=2, fit_budget=8, progress=False
    )
    rows = results["budget"]["rows"]
    # grids 1, 6, 5 and 8 fits: popularity 1, then 7 left for two rows: 4 and 3
    assert [rows[name]["allowed"] for name in ("popularity", "item_knn", "hybrid")] == [1, 4, 3]
    assert rows["item_knn"]["cut_by"] == rows["hybrid"]["cut_by"] == "fit budget"
    hybrid = results["models"][2]
    assert len(hybrid["trials"]) == 3 and hybrid["fits_allowed"] == 3 and hybrid["budget_cut"]
    page = render_report(results, log.interactions)
    assert "The fit budget cut the grid of item-kNN (4 of 6), hybrid (3 of 5)" in page
    assert "--fit-budget 8: 8 fits used" in page


def test_a_hybrid_that_will_be_skipped_leaves_its_share_to_the_rows_before_it():
    log = load_log(GOLDEN)
    results, *_ = run_pilot(log, models=["item_knn", "hybrid"], k=2, fit_budget=6, progress=False)
    assert results["models"][1]["status"] == "skipped"
    assert results["budget"]["rows"]["item_knn"] == {
        "grid_size": 6, "allowed": 6, "used": 6, "cut_by": None
    }  # fmt: skip


def test_the_first_grid_point_is_fitted_even_without_a_share():
    log = load_log(GOLDEN)
    results, *_ = run_pilot(log, models=["item_knn", "als"], k=2, fit_budget=1, progress=False)
    rows = results["budget"]["rows"]
    assert (rows["item_knn"]["allowed"], rows["item_knn"]["used"]) == (1, 1)
    assert (rows["als"]["allowed"], rows["als"]["used"]) == (0, 1)
    assert rows["als"]["cut_by"] == "fit budget" and results["budget"]["fits_used"] == 2
    assert [len(row["trials"]) for row in results["models"]] == [1, 1]


@pytest.mark.parametrize(("fit_budget", "time_limit"), [(0, None), (2.5, None), (5, 0.0)])
def test_bad_budget_settings_are_refused(fit_budget, time_limit):
    with pytest.raises(ValueError, match="fit_budget|time_limit"):
        run_pilot(
            load_log(GOLDEN), k=2, fit_budget=fit_budget, time_limit=time_limit, progress=False
        )


def _without_timings(value):
    """results.json without the keys that measure the machine (``*_seconds``, memory)."""
    if isinstance(value, dict):
        return {
            key: _without_timings(item)
            for key, item in value.items()
            if not key.endswith("_seconds") and key != "peak_fit_memory_mb"
        }
    if isinstance(value, list):
        return [_without_timings(item) for item in value]
    return value


def test_the_same_command_gives_the_same_results_on_a_slowed_machine(tmp_path, monkeypatch):
    """Every item-kNN fit of the second run sleeps 0.3 s: with the seconds budget of old,
    its grid was cut at another point; counted in fits, nothing changes but timings."""
    log_path, _ = _shop_log(tmp_path)
    args = [str(log_path), "--quiet", "--models", CLI_MODELS, "--fit-budget", "8",
            "--min-user-count", "2", "--min-item-count", "2"]  # fmt: skip
    assert main([*args, "-o", str(tmp_path / "fast")]) == 0
    fit = ItemKNN.fit
    fits = []

    def slow_fit(self, X):
        fits.append(X.shape)
        time.sleep(0.3)
        return fit(self, X)

    monkeypatch.setattr(ItemKNN, "fit", slow_fit)
    assert main([*args, "-o", str(tmp_path / "slow")]) == 0
    fast, slow = (
        json.loads((tmp_path / run / "results.json").read_text()) for run in ("fast", "slow")
    )
    # 1 + 6 + 6 points for 8 fits: popularity 1, item_knn 4 (tuning), als 3; plus the test
    # fit, and the refit on the whole log when item_knn is chosen
    assert len(fits) == 4 + 1 + (slow["decision"]["model"] == "item_knn")
    assert slow["budget"]["rows"]["item_knn"] == {
        "grid_size": 6, "allowed": 4, "used": 4, "cut_by": "fit budget"
    }  # fmt: skip
    assert slow["phase_seconds"]["tuning item_knn"] > 4 * 0.3
    # the runs differ only in --output, which the provenance records with the command line
    for run, folder in ((fast, "fast"), (slow, "slow")):
        provenance = run.pop("provenance")
        assert provenance["settings"]["output"] == str(tmp_path / folder)
        for key in ("command", "argv", "settings"):
            provenance.pop(key)
        run["provenance"] = provenance
    assert _without_timings(fast) == _without_timings(slow)
    assert "phase_seconds" in fast and "run_seconds" in fast  # the timings were there
    recs = [(tmp_path / run / "recommendations.csv").read_bytes() for run in ("fast", "slow")]
    assert recs[0] == recs[1]


def test_a_blend_with_all_its_weight_on_one_component_is_that_component():
    assert same_as({"popularity": 0.0, "item_knn": 1.0}) == "item_knn"
    assert same_as({"popularity": 0.25, "item_knn": 0.75}) is None


def test_a_hybrid_tuned_to_one_component_is_reported_as_that_component_alone(tmp_path):
    """A blend whose weights are {item_knn: 1, popularity: 0} (given with ``params``, as
    ``--params`` does); the decision (tests/test_pilot_decision.py) never compares such a
    row as a separate model."""
    log_path, _ = _shop_log(tmp_path)
    log = load_log(log_path, min_user_count=2, min_item_count=2)
    results, lists, *_ = run_pilot(
        log, models=["popularity", "item_knn", "hybrid"], progress=False, fit_budget=12,
        params={"hybrid": {"item_knn": 1.0, "popularity": 0.0}},
    )  # fmt: skip
    hybrid = results["models"][2]
    assert hybrid["params"] == {"item_knn": 1.0, "popularity": 0.0}
    assert hybrid["same_as"] == "item_knn" and "same_as" not in results["models"][1]
    assert np.array_equal(lists["hybrid"], lists["item_knn"])  # it ranks as item_knn does
    decision = results["decision"]
    assert decision["same_as"] == {"hybrid": "item_knn"}
    assert "hybrid" not in (decision["model"], decision["best_ndcg_model"])
    assert any("hybrid = item-kNN alone" in reason for reason in decision["reasons"])
    page = render_report(results, log.interactions)
    assert "hybrid = item-kNN alone" in page
    assert "-0.0000 (-0.0000 to -0.0000)" not in page and "-0.0000 to -0.0000" not in page


PHASES = ["load", "dedup", "protocol", "tuning popularity", "test popularity",
          "tuning item_knn", "test item_knn", "tuning als", "test als", "audit", "choose",
          "refit ", "profile", "brief", "writing"]  # fmt: skip


def test_progress_off_a_terminal_is_plain_lines_naming_every_phase(tmp_path, capsys):
    log_path, _ = _shop_log(tmp_path)
    args = [str(log_path), "-o", str(tmp_path / "out"), "--models", CLI_MODELS,
            "--min-user-count", "2", "--min-item-count", "2", "--fit-budget", "13"]  # fmt: skip
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "\r" not in err and "\x1b" not in err
    lines = err.splitlines()
    for phase in PHASES:
        assert any(f"] {phase}" in line and ": start" in line for line in lines), phase
        assert any(f"] {phase}" in line and ": done" in line for line in lines), phase
    assert len(lines) == 2 * (len(PHASES))  # one line per phase start and end, nothing else
    tuning = next(line for line in lines if "] tuning item_knn: done" in line)
    assert ", 6/6 fits in " in tuning
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert set(results["phase_seconds"]) >= {"load", "dedup", "protocol", "audit"}
    # --quiet: nothing at all
    assert main([*args[:2], str(tmp_path / "quiet"), *args[3:], "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_progress_on_a_terminal_draws_a_bar_and_records_the_phase():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    progress = Progress(stream=stream)
    with progress.phase("tuning als", total=3):
        for _ in range(3):
            progress.step()
    assert "\r" in stream.getvalue() and "tuning als" in stream.getvalue()
    assert "3/3" in stream.getvalue() and set(progress.seconds) == {"tuning als"}


def test_plain_progress_nests_and_stamps_elapsed_time():
    stream = io.StringIO()
    progress = Progress(stream=stream)
    with progress.phase("load"):
        with progress.phase("dedup"):
            pass
    lines = stream.getvalue().splitlines()
    assert [line.split("] ")[1].split(" in ")[0] for line in lines] == [
        "load: start", "dedup: start", "dedup: done", "load: done"
    ]  # fmt: skip
    assert all(line.startswith("[") and " s] " in line for line in lines)
    assert progress.seconds["load"] >= progress.seconds["dedup"]


def test_quiet_progress_prints_nothing_but_still_records():
    stream = io.StringIO()
    progress = Progress(enabled=False, stream=stream)
    with progress.phase("audit"):
        pass
    assert stream.getvalue() == "" and "audit" in progress.seconds


def test_cli_budget_flags_are_checked(tmp_path, capsys):
    for flags, message in ((["--fit-budget", "0"], "--fit-budget must be at least 1"),
                           (["--time-limit", "-1"], "--time-limit must be positive")):  # fmt: skip
        assert main([str(GOLDEN), "-o", str(tmp_path / "out"), "--quiet", *flags]) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_help_states_the_fit_budget_default(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--fit-budget FIT_BUDGET" in text
    assert f"(default: {FULL_GRIDS_FIT_BUDGET}, every grid in full, for a log of up to " in text
    assert "--time-limit TIME_LIMIT" in text and "(default: none)" in text


def test_the_default_budget_depends_on_the_log_size_only():
    assert default_fit_budget(SMALL_LOG_INTERACTIONS) == FULL_GRIDS_FIT_BUDGET
    assert default_fit_budget(SMALL_LOG_INTERACTIONS + 1) == LARGE_LOG_FIT_BUDGET
    log = load_log(GOLDEN)
    results, *_ = run_pilot(log, models=["popularity", "item_knn"], k=2, progress=False)
    assert results["settings"]["fit_budget"] == FULL_GRIDS_FIT_BUDGET
    assert not results["budget"]["grids_cut"]  # every grid in full on a small log


def test_results_json_has_no_time_in_a_key_the_comparison_keeps():
    results, *_ = run_pilot(load_log(GOLDEN), models=["popularity"], k=2, progress=False)
    kept = json.dumps(_without_timings(results))
    assert "phase_seconds" not in kept and "run_seconds" not in kept
    assert pd.Series(results["phase_seconds"]).ge(0).all()
