"""Build the browsable course site (``make site``) into ``build/site/``.

Every lesson and solution is rendered with its committed outputs (nbconvert's HTML
exporter, nothing re-executed), the exercises are copied for download, and the index page
is the README's course map with links to each page. A navigation bar on every page links
the index, the previous and next lesson, and the lesson's solution and exercise. Pages are
self-contained: figures are embedded in the HTML, the exporter's network scripts
(require.js and MathJax from a CDN) are removed, so the site opens offline from
``build/site/index.html`` (formulas in LaTeX then show as their source text).

Usage: ``python -m tools.build_site [--output DIR]``.
"""

from __future__ import annotations

import argparse
import html
import re
import shutil
import sys
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("notebooks", "solutions", "exercises")
NETWORK_SCRIPT = re.compile(r'<script[^>]*\bsrc="https?://[^"]*"[^>]*>\s*</script>')
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
    """Escape a Markdown table cell, keeping links (rewritten by ``link``) and code spans."""
    parts = []
    for piece in re.split(r"(\[[^\]]+\]\([^)]+\)|`[^`]+`)", text):
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
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>\n"
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
    """The notebook's committed outputs as one offline page with the navigation bar."""
    page, _ = exporter.from_notebook_node(nbformat.read(path, as_version=4))
    page = NETWORK_SCRIPT.sub("", page)
    page = re.sub(r"<body([^>]*)>", lambda m: f"<body{m.group(1)}>{nav}", page, count=1)

    def relink(match):
        target = site_link(match.group(1), known)
        return f'href="../{target}"' if target else match.group(0)

    return re.sub(r'href="([^"#:]+\.ipynb)"', relink, page)


def build_site(output: Path, root: Path = ROOT) -> list[Path]:
    """Write the site; return the HTML pages written (index first)."""
    if output.exists():
        shutil.rmtree(output)
    pages = lesson_pages(root)
    known = {page["stem"] for page in pages}
    exporter = HTMLExporter(template_name="lab")
    written = [output / "index.html"]
    output.mkdir(parents=True)
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
    written = build_site(args.output)
    print(f"{len(written)} pages in {args.output}; open {args.output / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
