"""The pilot report in a real browser: headless Chromium driven by Playwright (tools/browser.py).

Skips (with the reason) only when Chromium or Playwright is not installed; CI installs
Chromium from the Debian packages (see .ci/run). One browser serves the whole module. The
checker itself is tested in tests/test_browser.py.
"""

from __future__ import annotations

import pytest

from recsys_lessons.pilot import load_items, load_log, run_pilot
from recsys_lessons.pilot.report import SECTIONS, render_report
from tests.test_pilot import _shop_log
from tools.browser import Browser, chromium_problem

PROBLEM = chromium_problem()
pytestmark = [
    pytest.mark.browser,  # `make unit` skips these, `make test` runs them
    pytest.mark.skipif(PROBLEM is not None, reason=PROBLEM or ""),
]


@pytest.fixture(scope="module")
def browser():
    with Browser() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def report_page(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pilot")
    log_path, items_path = _shop_log(folder)
    log = load_log(log_path, min_user_count=2, min_item_count=2)
    results, *_ = run_pilot(
        log, load_items(items_path), models=["popularity", "item_knn", "content_based"],
        progress=False, fit_budget=3,
    )  # fmt: skip
    page = folder / "report.html"
    page.write_text(render_report(results, log.interactions), encoding="utf-8")
    return page


def test_report_loads_offline_without_console_errors_with_every_figure_and_section(
    browser, report_page
):
    seen = browser.inspect(report_page)
    assert seen["errors"] == []
    assert seen["external_requests"] == []
    assert seen["headings"] == ["Recommender pilot report", *SECTIONS]
    assert len(seen["images"]) == 4
    for image in seen["images"]:
        assert image["complete"] and image["width"] > 100 and image["height"] > 100, image
    assert seen["text_length"] > 1000
    assert seen["screenshot_nonblank"], seen["screenshot_ink"]
    assert seen["first_screen_text"].startswith("Recommender pilot report")
