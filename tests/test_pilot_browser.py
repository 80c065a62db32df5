"""The pilot report in a real browser: headless Chromium, started by the test.

Skips (with the reason) only when no Chromium is installed; CI installs it from the Debian
packages (see .ci/run). One browser serves the whole module: a few seconds in all.
"""

from __future__ import annotations

import pytest

from recsys_lessons.pilot import load_items, load_log, run_pilot
from recsys_lessons.pilot.report import SECTIONS, render_report
from tests.test_pilot import _shop_log
from tools.headless_browser import HeadlessChromium, find_chromium

CHROMIUM = find_chromium()
pytestmark = [
    pytest.mark.browser,  # `make unit` skips these, `make test` runs them
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="Chromium is not installed (apt-get install -y chromium, or set CHROMIUM=path)",
    ),
]


@pytest.fixture(scope="module")
def browser():
    with HeadlessChromium(CHROMIUM) as chromium:
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


def test_report_loads_without_console_errors_with_every_figure_and_section(browser, report_page):
    seen = browser.inspect(report_page)
    assert seen["errors"] == []
    assert seen["headings"] == ["Recommender pilot report", *SECTIONS]
    assert len(seen["images"]) == 4
    for image in seen["images"]:
        assert image["complete"] and image["width"] > 100 and image["height"] > 100, image
    assert seen["text_length"] > 1000


def test_the_checker_sees_a_broken_figure_and_a_console_error(browser, tmp_path):
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><body><h1>x</h1><img src='missing.png'>"
        "<script>console.error('boom')</script></body></html>"
    )
    seen = browser.inspect(page)
    assert seen["images"][0]["width"] == 0
    assert any("boom" in error for error in seen["errors"])
    assert any("missing.png" in error for error in seen["errors"])
