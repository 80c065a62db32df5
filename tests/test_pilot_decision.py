"""The pilot's verdict: ship X, keep the popularity shelf, or inconclusive, against a margin."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recsys_lessons.evaluation.stats import (
    Interval,
    detectable_difference,
    paired_bootstrap_interval,
)
from recsys_lessons.online.experiment import sample_size
from recsys_lessons.pilot import load_log, run_pilot
from recsys_lessons.pilot.cli import main
from recsys_lessons.pilot.decision import DEFAULT_MARGIN, decide, users_to_settle
from tests.test_pilot import GOLDEN


def _rows(per_user: dict, same_as: dict | None = None) -> list[dict]:
    """Compared rows in the given (registry) order, with the mean nDCG as the estimate."""
    rows = []
    for name, values in per_user.items():
        mean = float(np.mean(values["ndcg"]))
        row = {"model": name, "status": "compared", "ndcg": {"estimate": mean}}
        if same_as and name in same_as:
            row["same_as"] = same_as[name]
        rows.append(row)
    return rows


def _decide(ndcg: dict, margin: float = DEFAULT_MARGIN, same_as=None, extra_rows=()):
    per_user = {name: {"ndcg": np.asarray(values)} for name, values in ndcg.items()}
    return decide([*_rows(per_user, same_as), *extra_rows], per_user, margin=margin, k=10, seed=0)


@pytest.fixture
def base():
    return np.random.default_rng(0).uniform(0, 0.3, size=2000)


def _noise(size, sd, seed):
    """Normal noise with mean exactly 0, so a lead is exactly the one asked for."""
    values = np.random.default_rng(seed).normal(0, sd, size=size)
    return values - values.mean()


def _lead(base, lead, sd, seed=1):
    return base + lead + _noise(base.size, sd, seed)


def test_a_lead_beyond_the_margin_ships_the_row(base):
    decision = _decide({"popularity": base, "item_knn": _lead(base, 0.06, 0.05)})
    assert decision["verdict"] == "ship" and decision["model"] == "item_knn"
    assert decision["headline"] == "Ship item-kNN"
    versus = decision["versus_baseline"]["item_knn"]
    assert versus["low"] > DEFAULT_MARGIN and versus["reading"] == "lead"
    assert versus["verdict"] == "different"
    assert decision["settle"] is None and decision["runner_up"] == "popularity"
    assert "beyond the 0.02 margin" in decision["summary"]


def test_a_lead_inside_the_margin_keeps_the_popularity_shelf(base):
    decision = _decide({"popularity": base, "item_knn": _lead(base, 0.005, 0.05)})
    versus = decision["versus_baseline"]["item_knn"]
    assert versus["high"] < DEFAULT_MARGIN and versus["low"] > 0  # real, but too small
    assert decision["verdict"] == "keep" and decision["model"] == "popularity"
    assert decision["headline"] == "Keep the popularity shelf"
    assert decision["leader"] == "item_knn" and decision["runner_up"] == "item_knn"


def test_a_row_worse_than_popularity_keeps_the_shelf(base):
    decision = _decide({"popularity": base, "als": _lead(base, -0.05, 0.05)})
    assert decision["versus_baseline"]["als"]["verdict"] == "different"  # different, but worse
    assert decision["verdict"] == "keep"


def test_an_interval_across_the_margin_is_inconclusive_and_says_what_would_settle_it(base):
    few = base[:110]
    leader = _lead(few, 0.03, 0.2)
    decision = _decide({"popularity": few, "hybrid": leader})
    versus = decision["versus_baseline"]["hybrid"]
    assert versus["low"] < DEFAULT_MARGIN < versus["high"] and versus["low"] < 0  # "tied"
    assert decision["verdict"] == "inconclusive" and versus["reading"] == "open"
    assert decision["model"] == "popularity" and decision["leader"] == "hybrid"
    assert decision["headline"] == "Inconclusive: keep the popularity shelf for now"
    # the settle-it sentence: users from the interval's width, an A/B test from lesson 09
    interval = paired_bootstrap_interval(leader, few, seed=0)
    mdd = detectable_difference(interval)
    needed = math.ceil(110 * (mdd / abs(interval.estimate - DEFAULT_MARGIN)) ** 2)
    spread = np.sqrt((leader.var(ddof=1) + few.var(ddof=1)) / 2)
    per_arm = sample_size(spread, DEFAULT_MARGIN)
    settle = decision["settle"]
    assert settle["users_needed"] == needed > 110
    assert decision["ab_test"]["users_per_arm"] == per_arm
    assert settle["sentence"] == (
        f"What would settle it: about {needed:,} scored users ({needed / 110:.1f} times the 110 "
        f"here), if the lead stayed at {interval.estimate:+.4f}; or an A/B test of hybrid "
        f"against popularity with {per_arm:,} users per arm, enough to detect 0.02 in a "
        f"per-user metric as spread as nDCG here (sd {spread:.3f}; lesson 09's sample size at "
        "5%, 80% power)."
    )
    assert settle["sentence"] in decision["reasons"]
    assert decision["detectable_difference"] == pytest.approx(mdd)


def test_the_margin_decides_between_the_three_verdicts(base):
    ndcg = {"popularity": base, "ease": _lead(base, 0.03, 0.05)}
    lead = _decide(ndcg)["versus_baseline"]["ease"]
    assert 0.02 < lead["low"] and lead["high"] < 0.04  # +0.03, narrow
    verdicts = {margin: _decide(ndcg, margin)["verdict"] for margin in (0.02, 0.03, 0.04)}
    assert verdicts == {0.02: "ship", 0.03: "inconclusive", 0.04: "keep"}
    assert _decide(ndcg, 0.04)["rule"].startswith(
        "ship a row when the 95% paired bootstrap interval of its nDCG lead over popularity "
        "lies above the margin 0.04"
    )


def test_a_simpler_row_is_shipped_only_when_equivalent_within_the_margin(base):
    knn = _lead(base, 0.06, 0.05, seed=1)
    # EASE = item-kNN + 0.005 with little noise: inside +-0.02 of each other -> the simpler
    close = knn + 0.005 + _noise(base.size, 0.01, seed=2)
    decision = _decide({"popularity": base, "item_knn": knn, "ease": close})
    assert decision["best_ndcg_model"] == "ease"
    assert decision["versus_best"]["item_knn"]["verdict"] == "equivalent"
    assert decision["verdict"] == "ship" and decision["model"] == "item_knn"
    assert decision["runner_up"] == "ease"
    # EASE leads item-kNN by 0.01 with a wide interval (includes 0, reaches past the margin):
    # "tied" is not "just as good", so the best row is shipped and the open question named
    far = knn + 0.01 + _noise(base.size, 0.6, seed=3)
    decision = _decide({"popularity": base, "item_knn": knn, "ease": far})
    gap = decision["versus_best"]["item_knn"]
    assert gap["low"] < 0 < gap["high"] and gap["verdict"] == "inconclusive"
    assert decision["model"] == "ease"
    assert any("not shown equivalent" in reason for reason in decision["reasons"])


def test_a_hybrid_that_is_one_row_alone_is_never_compared_as_a_model(base):
    knn = _lead(base, 0.06, 0.05)
    decision = _decide(
        {"popularity": base, "item_knn": knn, "hybrid": knn + 1e-9},  # scores a hair higher
        same_as={"hybrid": "item_knn"},
    )
    assert decision["same_as"] == {"hybrid": "item_knn"}
    assert "hybrid" not in decision["versus_baseline"]
    assert decision["model"] == "item_knn" and decision["best_ndcg_model"] == "item_knn"
    assert decision["runner_up"] == "popularity"
    assert decision["reasons"][0] == (
        "hybrid's tuned weights put all their weight on item-kNN: hybrid = item-kNN alone, "
        "compared as that row."
    )


def test_without_a_popularity_row_the_simplest_row_is_the_baseline(base):
    decision = _decide({"item_knn": base, "als": _lead(base, 0.06, 0.05)})
    assert decision["baseline"] == "item_knn" and decision["model"] == "als"
    decision = _decide({"item_knn": base, "als": _lead(base, 0.0, 0.05)})
    assert decision["headline"] == "Keep item-kNN"


def test_popularity_alone_is_kept_with_nothing_to_compare(base):
    decision = _decide({"popularity": base})
    assert decision["verdict"] == "keep" and decision["leader"] is None
    assert decision["detectable_difference"] is None and decision["ab_test"] is None
    skipped = {"model": "ease", "status": "skipped", "reason": "too big"}
    assert _decide({"popularity": base}, extra_rows=[skipped])["model"] == "popularity"


def test_users_to_settle_scales_the_interval_width_by_sqrt_n():
    # the retail pilot: 110 users, a lead of +0.0295 [-0.0087, +0.0682]
    interval = Interval(0.0295, -0.0087, 0.0682, 0.95)
    mdd = detectable_difference(interval)  # 2.8 standard errors
    assert users_to_settle(interval, 110, 0.02) == math.ceil(110 * (mdd / 0.0095) ** 2)
    # with that many users the detectable difference shrinks to the distance to the margin
    n = users_to_settle(interval, 110, 0.02)
    assert mdd * math.sqrt(110 / n) <= 0.0095 < mdd * math.sqrt(110 / (n - 1))
    assert users_to_settle(Interval(0.02, 0.0, 0.04, 0.95), 110, 0.02) is None


@pytest.mark.parametrize("margin", [0, -0.1, 1.0, float("nan")])
def test_a_bad_margin_is_refused_before_any_work(tmp_path, capsys, margin):
    with pytest.raises(ValueError, match="margin"):
        run_pilot(load_log(GOLDEN), models=["popularity"], k=2, progress=False, margin=margin)
    output = tmp_path / "out"
    code = main([str(GOLDEN), "-o", str(output), "--quiet", "--margin", str(margin),
                 "--min-user-count", "1", "--min-item-count", "1"])  # fmt: skip
    assert code == 2
    assert capsys.readouterr().err.startswith("error: --margin: margin")
    assert not output.exists()


def test_the_cli_prints_the_verdict_and_records_the_margin(tmp_path, capsys):
    import json

    output = tmp_path / "out"
    code = main([str(GOLDEN), "-o", str(output), "--quiet", "--k", "2", "--top-n", "2",
                 "--models", "popularity,item_knn", "--margin", "0.05",
                 "--min-user-count", "1", "--min-item-count", "1"])  # fmt: skip
    assert code == 0
    results = json.loads((output / "results.json").read_text())
    decision = results["decision"]
    assert results["settings"]["margin"] == decision["margin"] == 0.05
    assert "choice" not in results
    printed = capsys.readouterr().out
    assert f"verdict: {decision['headline']}. {decision['summary']}\n" in printed
    assert f"recommendations.csv: {decision['model']};" in printed
