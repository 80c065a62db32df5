"""Build the browsable course site (``make site``) into ``build/site/``.

Every lesson and solution is rendered with its committed outputs (nbconvert's HTML
exporter, nothing re-executed), the exercises are copied for download, and the index page
is the README's course map with links to each page. A navigation bar on every page links
the index, the previous and next lesson, and the lesson's solution and exercise.

The site needs no network: figures are embedded in the HTML, the exporter's network scripts
(require.js, MathJax, mermaid and widgets from a CDN) are left out of the template, and the
LaTeX of the Markdown (``$...$``, ``$$...$$``, ``\\(...\\)``, ``\\[...\\]``) is typeset in
the reader's browser by a KaTeX copied into ``build/site/assets/katex/``: Debian's
``libjs-katex`` (``apt-get install libjs-katex``), the ``dist`` folder of npm's ``katex``
(``npm install katex`` in the repository), or the folder in ``KATEX_DIR``. Without one the
build stops and says what to install: it never ships pages showing raw TeX.

Usage: ``python -m tools.build_site [--output DIR]``.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import sys
from pathlib import Path

import nbformat
from jinja2 import DictLoader
from nbconvert import HTMLExporter

from tools.install_cell import CELL_ID as INSTALL_CELL_ID

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("notebooks", "solutions", "exercises")
#: Where a KaTeX build is looked for when ``KATEX_DIR`` is not set: Debian's libjs-katex,
#: then npm's katex installed in the repository.
KATEX_FOLDERS = (Path("/usr/share/javascript/katex"), ROOT / "node_modules" / "katex" / "dist")
#: The files the site needs, by their name in the site, with the names they may have in a
#: KaTeX folder (Debian ships the minified code under the unminified names).
KATEX_FILES = {
    "katex.min.js": ("katex.min.js", "katex.js"),
    "katex.min.css": ("katex.min.css",),
    "auto-render.min.js": ("contrib/auto-render.min.js", "contrib/auto-render.js"),
}
KATEX_INSTALL = (
    "install KaTeX: apt-get install libjs-katex (Debian/Ubuntu), or npm install katex in the "
    "repository, or set KATEX_DIR to a folder holding katex.min.js, katex.min.css, fonts/ and "
    "contrib/auto-render.min.js"
)
#: The math delimiters JupyterLab's Markdown understands, longest first.
MATH_DELIMITERS = [
    {"left": "$$", "right": "$$", "display": True},
    {"left": "$", "right": "$", "display": False},
    {"left": "\\(", "right": "\\)", "display": False},
    {"left": "\\[", "right": "\\]", "display": True},
    *(
        {"left": f"\\begin{{{name}}}", "right": f"\\end{{{name}}}", "display": True}
        for name in ("equation", "align", "alignat", "gather", "CD")
    ),
]
#: Elements whose text is Markdown (rendered notebook Markdown, the index page): only their
#: TeX is typeset, never a printed output's dollar signs.
MATH_SCOPE = ".jp-RenderedMarkdown, .site-text"
#: The lab template without its network scripts, with the site's KaTeX in their place.
SITE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{%- block html_head_js_mathjax -%}{{ resources.site_math_head }}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""
STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1000px;margin:2em auto;
padding:0 1em;color:#1d2330;line-height:1.45}
table{border-collapse:collapse}th,td{border:1px solid #d0d5dd;padding:.35em .6em;vertical-align:top}
th{background:#f2f4f7}code{background:#f2f4f7;padding:0 .2em}
"""
NAV_STYLE = (
    "position:sticky;top:0;z-index:10;background:#1d2330;color:#fff;padding:.5em 1em;"
    "font-family:system-ui,sans-serif;font-size:14px"
)


def lesson_pages(root: Path = ROOT) -> list[dict]:
    """One entry per lesson notebook, in order: stem, title and the files that exist."""
    pages = []
    for notebook in sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        stem = notebook.stem
        pages.append(
            {
                "stem": stem,
                "title": notebook_title(notebook),
                "solution": (root / "solutions" / notebook.name).exists(),
                "exercise": (root / "exercises" / notebook.name).exists(),
            }
        )
    return pages


def notebook_title(path: Path) -> str:
    """The first Markdown heading of a notebook (else its file name)."""
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "markdown":
            found = re.search(r"^#\s+(.+)$", cell.source, re.MULTILINE)
            if found:
                return found.group(1).strip()
    return path.stem


def inline_markdown(text: str, link=lambda target: target) -> str:
    """Escape a Markdown table cell, keeping links (rewritten by ``link``) and code spans.

    Math (``$...$``, ``$$...$$``) is kept as written, only HTML-escaped, for KaTeX to typeset:
    no link or code span is looked for inside it.
    """
    parts = []
    pattern = r"(\$\$[^$]+\$\$|\$[^\s$][^$]*\$|\[[^\]]+\]\([^)]+\)|`[^`]+`)"
    for piece in re.split(pattern, text):
        linked = re.fullmatch(r"\[([^\]]+)\]\(([^)]+)\)", piece)
        if linked:
            target = link(linked.group(2))
            label = html.escape(linked.group(1))
            parts.append(f'<a href="{html.escape(target)}">{label}</a>' if target else label)
        elif piece.startswith("`") and piece.endswith("`") and len(piece) > 1:
            parts.append(f"<code>{html.escape(piece[1:-1])}</code>")
        else:
            parts.append(html.escape(piece))
    return "".join(parts)


def course_map_rows(readme: str) -> list[list[str]]:
    """The cells of the README's course map table (header and separator left out)."""
    section = readme.split("## Course map", 1)[-1]
    rows = []
    for line in section.splitlines()[1:]:
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif rows:
            break
    return [row for row in rows[2:] if row]


def site_link(target: str, known: set[str]) -> str | None:
    """Where a README/notebook link to a notebook points in the site, or ``None``."""
    found = re.fullmatch(r"(?:\.\./)?(?:notebooks/)?(\d\d_[\w-]+)\.ipynb", target)
    if found and found.group(1) in known:
        return f"lessons/{found.group(1)}.html"
    return None


def index_page(pages: list[dict], readme: str) -> str:
    known = {page["stem"] for page in pages}
    by_number = {page["stem"][:2]: page for page in pages}
    listed, rows = set(), []
    for cells in course_map_rows(readme):
        if len(cells) < 3:
            continue
        number = re.search(r"\b(\d\d)\b", cells[0])
        page = by_number.get(number.group(1)) if number else None
        if page:
            listed.add(page["stem"])
        rows.append(_index_row(inline_markdown(cells[0], lambda t: site_link(t, known)),
                               inline_markdown(cells[1]), html.escape(cells[2]), page))  # fmt: skip
    for page in pages:
        if page["stem"] not in listed:
            link = f'<a href="lessons/{page["stem"]}.html">{html.escape(page["title"])}</a>'
            rows.append(_index_row(link, "", "ready", page))
    body = (
        "<h1>recsys-lessons: the course</h1>"
        "<p>Every lesson and solution rendered with its committed outputs (executed on "
        "MovieLens 100K). Download an exercise notebook to try it in JupyterLab. This site "
        "needs no network: it was built by <code>make site</code>.</p>"
        "<h2>Course map</h2><table><thead><tr><th>lesson</th><th>what you build and learn</th>"
        "<th>status</th><th>solution</th><th>exercise</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )
    return _page("recsys-lessons course map", body)


def _index_row(lesson: str, what: str, status: str, page: dict | None) -> str:
    solution = exercise = ""
    if page and page["solution"]:
        solution = f'<a href="solutions/{page["stem"]}.html">solution</a>'
    if page and page["exercise"]:
        exercise = f'<a href="exercises/{page["stem"]}.ipynb" download>{page["stem"]}.ipynb</a>'
    return (
        f"<tr><td>{lesson}</td><td>{what}</td><td>{status}</td><td>{solution}</td>"
        f"<td>{exercise}</td></tr>"
    )


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style>{math_head('')}</head>"
        f'<body class="site-text">{body}</body></html>\n'
    )


class MathRendererMissing(RuntimeError):
    """No KaTeX to copy into the site: its formulas would show as raw TeX."""


def find_katex(environ=os.environ) -> dict[str, Path]:
    """The KaTeX files the site copies: its name in the site -> the file (``fonts``: a folder).

    Looks in ``KATEX_DIR`` when it is set, else in each of ``KATEX_FOLDERS``; raises
    :class:`MathRendererMissing`, saying what to install, when none holds all of them.
    """
    folders = [Path(environ["KATEX_DIR"])] if environ.get("KATEX_DIR") else list(KATEX_FOLDERS)
    for folder in folders:
        found = {
            name: next((folder / n for n in names if (folder / n).is_file()), None)
            for name, names in KATEX_FILES.items()
        }
        found["fonts"] = folder / "fonts" if (folder / "fonts").is_dir() else None
        if all(found.values()):
            return found
    looked = ", ".join(str(folder) for folder in folders)
    raise MathRendererMissing(
        f"the site typesets the lessons' formulas with KaTeX, and none was found (looked in "
        f"{looked}); {KATEX_INSTALL}."
    )


def copy_katex(katex: dict[str, Path], output: Path) -> None:
    """Copy the files :func:`find_katex` found into ``output/assets/katex``."""
    folder = output / "assets" / "katex"
    folder.mkdir(parents=True)
    for name, source in katex.items():
        if name == "fonts":
            shutil.copytree(source, folder / "fonts")
        else:
            shutil.copy2(source, folder / name)


def math_head(prefix: str) -> str:
    """The tags that load the site's KaTeX and typeset the TeX of every ``MATH_SCOPE``
    element once the page is parsed; ``prefix`` leads from the page to the site's root."""
    base = f"{prefix}assets/katex/"
    options = json.dumps({"delimiters": MATH_DELIMITERS, "throwOnError": True})
    return (
        f'<link rel="stylesheet" href="{base}katex.min.css">'
        f'<script defer src="{base}katex.min.js"></script>'
        f'<script defer src="{base}auto-render.min.js"></script>'
        "<script>document.addEventListener('DOMContentLoaded', () => { "
        f"for (const element of document.querySelectorAll({json.dumps(MATH_SCOPE)})) "
        f"renderMathInElement(element, {options}); }});</script>"
    )


def navigation(pages: list[dict], position: int, kind: str) -> str:
    """The bar at the top of a lesson (``kind="lessons"``) or solution page."""
    page = pages[position]
    links = ['<a href="../index.html">course map</a>']
    if position > 0:
        previous = pages[position - 1]
        links.append(f'<a href="../lessons/{previous["stem"]}.html">previous: {html.escape(previous["title"])}</a>')  # fmt: skip
    if position + 1 < len(pages):
        following = pages[position + 1]
        links.append(f'<a href="../lessons/{following["stem"]}.html">next: {html.escape(following["title"])}</a>')  # fmt: skip
    if kind == "solutions":
        links.append(f'<a href="../lessons/{page["stem"]}.html">lesson</a>')
    elif page["solution"]:
        links.append(f'<a href="../solutions/{page["stem"]}.html">solution</a>')
    if page["exercise"]:
        links.append(f'<a href="../exercises/{page["stem"]}.ipynb" download>exercise notebook</a>')
    links.append(f'<a href="../{kind}/{page["stem"]}.ipynb" download>this notebook</a>')
    separator = " &middot; "
    return (
        f'<nav id="course-nav" style="{NAV_STYLE}">'
        + separator.join(link.replace("<a ", '<a style="color:#9fc3ff" ') for link in links)
        + "</nav>"
    )


def render_notebook(path: Path, nav: str, known: set[str], exporter: HTMLExporter) -> str:
    """The notebook's committed outputs as one offline page with the navigation bar.

    The install cell (:mod:`tools.install_cell`) is left out: a site reader has nothing to install.
    """
    notebook = nbformat.read(path, as_version=4)
    notebook.cells = [cell for cell in notebook.cells if cell.get("id") != INSTALL_CELL_ID]
    page, _ = exporter.from_notebook_node(notebook, resources={"site_math_head": math_head("../")})
    page = re.sub(r"<body([^>]*)>", lambda m: f"<body{m.group(1)}>{nav}", page, count=1)

    def relink(match):
        target = site_link(match.group(1), known)
        return f'href="../{target}"' if target else match.group(0)

    return re.sub(r'href="([^"#:]+\.ipynb)"', relink, page)


def site_exporter() -> HTMLExporter:
    """nbconvert's lab HTML exporter on ``SITE_TEMPLATE`` (no network script, the site's KaTeX)."""
    return HTMLExporter(
        template_name="lab",
        template_file="site.html.j2",
        extra_loaders=[DictLoader({"site.html.j2": SITE_TEMPLATE})],
    )


def build_site(output: Path, root: Path = ROOT) -> list[Path]:
    """Write the site; return the HTML pages written (index first).

    Raises :class:`MathRendererMissing` (before touching ``output``) when no KaTeX is found.
    """
    katex = find_katex()
    if output.exists():
        shutil.rmtree(output)
    pages = lesson_pages(root)
    known = {page["stem"] for page in pages}
    exporter = site_exporter()
    written = [output / "index.html"]
    output.mkdir(parents=True)
    copy_katex(katex, output)
    written[0].write_text(index_page(pages, (root / "README.md").read_text()), encoding="utf-8")
    for folder, kind in (("notebooks", "lessons"), ("solutions", "solutions")):
        (output / kind).mkdir()
        for position, page in enumerate(pages):
            source = root / folder / f"{page['stem']}.ipynb"
            if not source.exists():
                continue
            print(f"rendering {folder}/{source.name}", flush=True)
            target = output / kind / f"{page['stem']}.html"
            nav = navigation(pages, position, kind)
            target.write_text(render_notebook(source, nav, known, exporter), encoding="utf-8")
            shutil.copy2(source, output / kind / source.name)
            written.append(target)
    (output / "exercises").mkdir()
    for exercise in sorted((root / "exercises").glob("*.ipynb")):
        shutil.copy2(exercise, output / "exercises" / exercise.name)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "build" / "site")
    args = parser.parse_args(argv)
    try:
        written = build_site(args.output)
    except MathRendererMissing as missing:
        print(f"make site failed: {missing}", file=sys.stderr)
        return 1
    print(f"{len(written)} pages in {args.output}; open {args.output / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
