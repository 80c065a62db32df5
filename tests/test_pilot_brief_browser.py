"""The decision brief is the first screen: what a 1280 x 800 browser window shows unscrolled.

Skips (with the reason) only when no browser can start; CI installs one (see .ci/run).
"""

from __future__ import annotations

import pytest

from recsys_lessons.pilot import load_items, load_log, run_pilot
from recsys_lessons.pilot.provenance import record_provenance
from recsys_lessons.pilot.report import render_report
from tests.test_pilot import _shop_log
from tools.browser import Browser, chromium_problem

PROBLEM = chromium_problem()
pytestmark = [
    pytest.mark.browser,  # `make unit` skips these, `make test` runs them
    pytest.mark.skipif(PROBLEM is not None, reason=f"no headless browser: {PROBLEM}"),
]


@pytest.fixture(scope="module")
def brief_page(tmp_path_factory):
    folder = tmp_path_factory.mktemp("brief")
    log_path, items_path = _shop_log(folder)
    log = load_log(log_path, min_user_count=2, min_item_count=2)
    # EASE is skipped by the memory limit, so the brief has a caveat to show
    results, *_ = run_pilot(
        log, load_items(items_path), models=["popularity", "item_knn", "ease"],
        memory_limit_mb=1e-6, progress=False,
    )  # fmt: skip
    long_output = folder / ("a-long-output-folder-name-" * 8)  # a wide reproduce command
    argv = [str(log_path), "--items", str(items_path), "-o", str(long_output)]
    results["provenance"] = record_provenance(argv, {}, {"log": log_path, "items": items_path})
    page = folder / "report.html"
    page.write_text(render_report(results, log.interactions), encoding="utf-8")
    return results, page


def _words(text: str) -> str:
    return " ".join(text.split())


def test_the_first_screen_shows_verdict_lift_users_caveats_and_an_example(brief_page):
    results, page = brief_page
    with Browser() as browser:
        seen = browser.inspect(page)
    assert seen["errors"] == []
    first = _words(seen["first_screen_text"])
    decision, brief = results["decision"], results["brief"]
    assert _words(decision["headline"]) in first
    assert brief["lift"] is not None and _words(brief["lift"]["sentence"]) in first
    assert _words(brief["users_sentence"]) in first
    assert brief["caveats"] and _words(brief["caveats"][0]) in first
    example = brief["examples"][0]
    assert f"Heavy user {example['user_id']}" in first
    assert _words(example["lists"][decision["model"]][0]["item"]) in first
    # the evidence follows, below the first screen
    assert "Glossary" not in first
    # the page never scrolls sideways at 1280 px: wide tables scroll in their own box, the
    # reproduce command wraps
    assert seen["page_width"] <= 1280
