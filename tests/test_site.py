"""``make site``: the course site builds offline, and every page works in headless Chromium."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tools.build_site import ROOT, build_site, course_map_rows, inline_markdown, site_link
from tools.headless_browser import HeadlessChromium, find_chromium

#: Builds the whole site and drives Chromium: `make unit` skips these, `make test` runs them.
pytestmark = pytest.mark.browser

CHROMIUM = find_chromium()
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (apt-get install -y chromium, or set CHROMIUM=path)",
)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[Path, list[Path]]:
    output = tmp_path_factory.mktemp("site") / "site"
    return output, build_site(output)


def test_course_map_rows_and_links_are_read_from_markdown():
    readme = "intro\n## Course map\n\n| a | b | c |\n| --- | --- | --- |\n| [03 kNN](notebooks/03_item_knn.ipynb) | `x` & y | ready |\n| 05 Cold | z | planned |\n\nafter\n"
    rows = course_map_rows(readme)
    assert rows == [["[03 kNN](notebooks/03_item_knn.ipynb)", "`x` & y", "ready"],
                    ["05 Cold", "z", "planned"]]  # fmt: skip
    known = {"03_item_knn"}
    cell = inline_markdown(rows[0][0], lambda target: site_link(target, known))
    assert cell == '<a href="lessons/03_item_knn.html">03 kNN</a>'
    assert inline_markdown(rows[0][1]) == "<code>x</code> &amp; y"
    assert site_link("../solutions/03_item_knn.ipynb", known) is None  # only lessons are pages
    assert site_link("04_mf.ipynb", known) is None  # unknown notebooks are not linked


def test_every_lesson_and_solution_has_a_page_and_no_network_script(site):
    output, written = site
    lessons = sorted(path.stem for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert sorted(p.stem for p in written if p.parent.name == "lessons") == lessons
    solutions = sorted(path.stem for path in (ROOT / "solutions").glob("*.ipynb"))
    assert sorted(p.stem for p in written if p.parent.name == "solutions") == solutions
    exercises = sorted(path.name for path in (ROOT / "exercises").glob("*.ipynb"))
    assert sorted(path.name for path in (output / "exercises").glob("*.ipynb")) == exercises
    for page in written:
        text = page.read_text(encoding="utf-8")
        assert 'src="http' not in text, page


@needs_chromium
def test_every_page_loads_renders_its_figures_and_links_resolve(site):
    output, written = site
    with HeadlessChromium(CHROMIUM) as browser:
        for page in written:
            seen = browser.inspect(page)
            assert seen["errors"] == [], (page, seen["errors"])
            assert seen["headings"], page
            for image in seen["images"]:
                assert image["complete"] and image["width"] > 0, (page, image)
            internal = [link for link in seen["links"] if not link.startswith(("http", "#", "mailto:"))]  # fmt: skip
            for link in internal:
                assert (page.parent / link.split("#")[0]).exists(), (page, link)
            if page.parent.name in ("lessons", "solutions"):
                source = ROOT / ("notebooks" if page.parent.name == "lessons" else "solutions")
                notebook = nbformat.read(source / f"{page.stem}.ipynb", as_version=4)
                figures = sum(
                    "image/png" in output.get("data", {})
                    for cell in notebook.cells
                    for output in cell.get("outputs", [])
                )
                assert len(seen["images"]) >= figures, page
                assert "../index.html" in internal, page
            else:
                lessons = [link for link in internal if link.startswith("lessons/")]
                assert len(lessons) == len([p for p in written if p.parent.name == "lessons"])
