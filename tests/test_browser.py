"""The page checker of the browser tests (tools/browser.py) sees what it is meant to catch.

Each check the site and pilot-report tests rely on is shown failing here on a page built to
break it: a blank page, a broken figure, a console error, a request that would leave the
machine, a formula left as TeX, text below the first screen.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tools.browser import MIN_INK_SHARE, Browser, chromium_problem, ink_share

PROBLEM = chromium_problem()
pytestmark = pytest.mark.browser  # `make unit` skips these, `make test` runs them
needs_chromium = pytest.mark.skipif(PROBLEM is not None, reason=PROBLEM or "")


@pytest.fixture(scope="module")
def browser():
    with Browser() as chromium:
        yield chromium


def _page(tmp_path, name: str, body: str, head: str = ""):
    page = tmp_path / name
    page.write_text(
        f'<!DOCTYPE html><html><head><meta charset="utf-8">{head}</head><body>{body}</body></html>',
        encoding="utf-8",
    )
    return page


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_ink_share_counts_pixels_unlike_the_background():
    page = np.full((100, 200, 3), 255)
    assert ink_share(_png(page)) == 0.0
    page[10:20, :50] = (30, 30, 30)  # 500 of 20000 pixels
    assert ink_share(_png(page)) == pytest.approx(0.025)
    page[50:60, :] = (250, 250, 250)  # faint anti-aliasing-like noise is not ink
    assert ink_share(_png(page)) == pytest.approx(0.025)
    dark = np.zeros((10, 10, 3))
    dark[0, :5] = 255  # the background is the commonest colour, not white
    assert ink_share(_png(dark)) == pytest.approx(0.05)


def test_chromium_problem_names_the_missing_browser(monkeypatch):
    pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    monkeypatch.setenv("CHROMIUM", "no-such-browser")
    monkeypatch.setenv("PATH", "")
    assert "apt-get install -y chromium" in chromium_problem()


@needs_chromium
def test_a_blank_page_is_blank_and_a_page_with_content_is_not(browser, tmp_path):
    blank = browser.inspect(_page(tmp_path, "blank.html", ""))
    assert blank["screenshot_ink"] == 0.0 and not blank["screenshot_nonblank"]
    white_text = browser.inspect(_page(tmp_path, "white.html", "<h1 style='color:#fff'>x</h1>"))
    assert not white_text["screenshot_nonblank"]  # text no reader can see is not content
    assert white_text["text_length"] > 0
    filled = browser.inspect(
        _page(tmp_path, "text.html", "<h1>A heading</h1>" + "<p>Some words to read.</p>" * 10)
    )
    assert filled["screenshot_ink"] > MIN_INK_SHARE and filled["screenshot_nonblank"]


@needs_chromium
def test_the_checker_sees_a_broken_figure_and_a_console_error(browser, tmp_path):
    seen = browser.inspect(
        _page(tmp_path, "broken.html", "<h1>x</h1><img src='missing.png'>"
              "<script>console.error('boom')</script><script>undefined_name()</script>")
    )  # fmt: skip
    assert seen["images"][0]["width"] == 0
    assert any("boom" in error for error in seen["errors"])
    assert any("missing.png" in error for error in seen["errors"])
    assert any("undefined_name" in error for error in seen["errors"])
    assert seen["headings"] == ["x"]


@needs_chromium
def test_the_checker_records_and_blocks_every_external_request(browser, tmp_path):
    seen = browser.inspect(
        _page(tmp_path, "external.html", "<h1>x</h1><img src='https://example.org/a.png'>"
              "<img src='data:image/gif;base64,R0lGODlhAQABAAAAACw='>",
              head="<link rel='stylesheet' href='http://example.org/a.css'>")
    )  # fmt: skip
    assert sorted(seen["external_requests"]) == [
        "http://example.org/a.css",
        "https://example.org/a.png",
    ]  # the data: image is local
    assert any("example.org/a.png" in error for error in seen["errors"])  # aborted, never sent
    assert seen["images"][0]["width"] == 0


@needs_chromium
def test_the_checker_tells_typeset_from_untypeset_formulas(browser, tmp_path):
    raw = browser.inspect(
        _page(tmp_path, "raw.html", "<p>nDCG is $\\sum_i g_i / \\log_2(i+1)$ and</p>"
              "<p>$$x^2$$</p><pre>cost $5 and $6</pre><code>$a$</code>")
    )  # fmt: skip
    assert raw["math"] == 0
    assert raw["untypeset_math"] == ["$\\sum_i g_i / \\log_2(i+1)$", "$$x^2$$"]  # not in code
    faked = browser.inspect(
        _page(tmp_path, "typeset.html", "<p><span class='katex'>x</span> costs 5 $ or 6 $</p>")
    )
    assert faked["math"] == 1 and faked["untypeset_math"] == []


@needs_chromium
def test_first_screen_text_stops_at_the_fold(browser, tmp_path):
    seen = browser.inspect(
        _page(tmp_path, "long.html", "<h1>Verdict first</h1><p>on the first screen</p>"
              "<div style='height:2000px'></div><p>far below the fold</p>")
    )  # fmt: skip
    assert "Verdict first" in seen["first_screen_text"]
    assert "on the first screen" in seen["first_screen_text"]
    assert "far below" not in seen["first_screen_text"]
    assert seen["text_length"] > len(seen["first_screen_text"])
