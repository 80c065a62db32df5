"""``make site``: the course site builds offline, typesets its formulas with the KaTeX it
bundles, and every page works in headless Chromium (tools/browser.py) without the network."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from tools.browser import Browser, chromium_problem
from tools.build_site import (
    ROOT,
    MathRendererMissing,
    build_site,
    course_map_rows,
    find_katex,
    inline_markdown,
    main,
    site_link,
)

#: Builds the whole site and drives Chromium: `make unit` skips these, `make test` runs them.
pytestmark = pytest.mark.browser

PROBLEM = chromium_problem()
needs_chromium = pytest.mark.skipif(PROBLEM is not None, reason=PROBLEM or "")
try:
    find_katex()
    KATEX_PROBLEM = None
except MathRendererMissing as missing:
    KATEX_PROBLEM = str(missing)
#: A script, stylesheet or image that a page would fetch from another machine.
NETWORK_RESOURCE = re.compile(r'<(?:script|link|img)\b[^>]*\b(?:src|href)="(?:https?:)?//')
#: Markdown that a Markdown renderer would mangle if it did not leave math alone.
FORMULAS = [r"$a_i * b_j^2$", r"$x_1 < y_2$", r"$p_1 + q_1$"]
DISPLAY_FORMULA = r"$$\mathrm{DCG}@k = \sum_{i=1}^{k} \frac{rel_i}{\log_2(i+1)}$$"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[Path, list[Path]]:
    if KATEX_PROBLEM:
        pytest.skip(KATEX_PROBLEM)
    output = tmp_path_factory.mktemp("site") / "site"
    return output, build_site(output)


@pytest.fixture(scope="module")
def math_site(tmp_path_factory) -> tuple[Path, list[Path]]:
    """A one-lesson course whose Markdown and course map hold formulas."""
    if KATEX_PROBLEM:
        pytest.skip(KATEX_PROBLEM)
    root = tmp_path_factory.mktemp("course")
    (root / "README.md").write_text(
        "# course\n\n## Course map\n\n| lesson | what | status |\n| --- | --- | --- |\n"
        "| [01 Math](notebooks/01_math.ipynb) | nDCG $\\sum_i g_i / \\log_2(i+1)$ with `k` | ready |\n"
    )
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell(
            f"# Math\n\nInline {FORMULAS[0]} and {FORMULAS[1]}, *emphasis* and {FORMULAS[2]}."
            f"\n\n{DISPLAY_FORMULA}\n\nA code span keeps its dollars: `$HOME`."
        ),
        nbformat.v4.new_code_cell(
            "print('cost $5 and $6')",
            outputs=[nbformat.v4.new_output("stream", name="stdout", text="cost $5 and $6\n")],
        ),
    ]
    (root / "notebooks").mkdir()
    nbformat.write(notebook, root / "notebooks" / "01_math.ipynb")
    output = tmp_path_factory.mktemp("math-site") / "site"
    return output, build_site(output, root=root)


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


def test_inline_markdown_leaves_math_as_written():
    cell = "nDCG $\\sum_i g_i / \\log_2(i+1)$, `x_1`, $a*b*c$ and $[l](t)$ < [link](t)"
    assert inline_markdown(cell, lambda target: "page.html") == (
        "nDCG $\\sum_i g_i / \\log_2(i+1)$, <code>x_1</code>, $a*b*c$ and $[l](t)$ &lt; "
        '<a href="page.html">link</a>'
    )


def test_find_katex_reads_a_debian_or_npm_layout(tmp_path):
    debian, npm = tmp_path / "debian", tmp_path / "npm"
    for folder, names in (
        (debian, ["katex.js", "katex.min.css", "contrib/auto-render.js"]),
        (npm, ["katex.min.js", "katex.min.css", "contrib/auto-render.min.js"]),
    ):
        (folder / "fonts").mkdir(parents=True)
        (folder / "contrib").mkdir()
        for name in names:
            (folder / name).write_text("/* katex */")
        found = find_katex({"KATEX_DIR": str(folder)})
        assert {name: path.relative_to(folder).as_posix() for name, path in found.items()} == {
            "katex.min.js": names[0],
            "katex.min.css": "katex.min.css",
            "auto-render.min.js": names[2],
            "fonts": "fonts",
        }


def test_make_site_without_katex_fails_saying_what_to_install(tmp_path, monkeypatch, capsys):
    incomplete = tmp_path / "katex"
    incomplete.mkdir()
    (incomplete / "katex.min.js").write_text("/* no css, no fonts, no auto-render */")
    with pytest.raises(MathRendererMissing, match="apt-get install libjs-katex"):
        find_katex({"KATEX_DIR": str(incomplete)})
    monkeypatch.setenv("KATEX_DIR", str(incomplete))
    output = tmp_path / "site"
    assert main(["--output", str(output)]) == 1
    assert "apt-get install libjs-katex" in capsys.readouterr().err
    assert not output.exists()  # no page with raw TeX was written


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
        assert NETWORK_RESOURCE.search(text) is None, page
        assert "assets/katex/katex.min.js" in text, page
        assert "Installs the course package" not in text, page  # no install cell on the site
    assets = output / "assets" / "katex"
    assert (assets / "katex.min.css").is_file() and (assets / "auto-render.min.js").is_file()
    assert any((assets / "fonts").glob("KaTeX_Main-Regular.*"))


def test_formulas_reach_the_page_unmangled(math_site):
    _, written = math_site
    lesson = next(page for page in written if page.parent.name == "lessons")
    text = lesson.read_text(encoding="utf-8")
    for formula in [r"$a_i * b_j^2$", r"$x_1 &lt; y_2$", r"$p_1 + q_1$", DISPLAY_FORMULA]:
        assert formula in text  # the TeX as written (HTML-escaped), no <em> or <sub> inside
    assert "<em>emphasis</em>" in text
    assert r"$\sum_i g_i / \log_2(i+1)$" in written[0].read_text(encoding="utf-8")


@needs_chromium
def test_formulas_are_typeset_offline(math_site):
    _, written = math_site
    with Browser() as browser:
        index, lesson = (browser.inspect(page) for page in written)
    assert index["errors"] == [] and lesson["errors"] == []
    assert index["external_requests"] == [] and lesson["external_requests"] == []
    assert index["math"] == 1 and index["untypeset_math"] == []
    assert lesson["math"] == len(FORMULAS) + 1 and lesson["untypeset_math"] == []
    assert "cost $5 and $6" in lesson["first_screen_text"]  # a printed output is not TeX
    assert "$HOME" in lesson["first_screen_text"]  # nor is a code span
    assert lesson["screenshot_nonblank"] and index["screenshot_nonblank"]


@needs_chromium
def test_every_page_loads_offline_renders_its_figures_and_formulas_and_links_resolve(site):
    output, written = site
    with Browser() as browser:
        for page in written:
            seen = browser.inspect(page)
            assert seen["errors"] == [], (page, seen["errors"])
            assert seen["external_requests"] == [], (page, seen["external_requests"])
            assert seen["untypeset_math"] == [], (page, seen["untypeset_math"])
            assert seen["screenshot_nonblank"], (page, seen["screenshot_ink"])
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
                markdown = "".join(c.source for c in notebook.cells if c.cell_type == "markdown")
                if "$" in markdown:
                    assert seen["math"] > 0, page
                assert "../index.html" in internal, page
            else:
                lessons = [link for link in internal if link.startswith("lessons/")]
                assert len(lessons) == len([p for p in written if p.parent.name == "lessons"])
