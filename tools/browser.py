"""Open local HTML pages in headless Chromium and report what a reader would see.

Used by the browser tests of the pilot report and the course site. The browser is driven
by Playwright for Python, launched on the Chromium of the operating system's packages
(``apt-get install -y chromium`` on Debian, or the path in the ``CHROMIUM`` environment
variable): no browser is downloaded, and ``playwright install`` is never needed.

:meth:`Browser.inspect` loads one page at 1280 x 800 pixels and returns its problems
(console errors, uncaught exceptions, failed loads), its headings, images (decoded or
not), inline SVGs, links, typeset formulas and TeX left untypeset, the text of the first
screen, every request that left the machine (aborted, so a test never touches the
network) and whether a screenshot of the first screen shows anything.

``chromium_problem()`` says why these tests cannot run here (``None`` when they can).
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

from PIL import Image, ImageChops

#: The window every page is opened in: a laptop's first screen.
VIEWPORT = {"width": 1280, "height": 800}
#: URL schemes that stay on this machine; a request for any other one is external.
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")
#: A screenshot pixel is ink when a colour channel differs from the background by more.
INK_CONTRAST = 24
#: A first screen is non-blank when at least this share of its pixels is ink. Measured: a blank
#: page 0, a heading and two short lines 0.0018, the site's index 0.02-0.07, the pilot report
#: 0.04, a lesson 0.09-0.14 (its navigation bar alone is about 0.05).
MIN_INK_SHARE = 0.002

#: Runs in the page once it has loaded and its fonts are ready; returns what the tests assert on.
PAGE_REPORT = r"""() => {
  const images = [...document.images].map(img => ({
    src: (img.getAttribute('src') || '').slice(0, 40), complete: img.complete,
    width: img.naturalWidth, height: img.naturalHeight}));
  const svgs = [...document.querySelectorAll('svg')].map(svg => {
    const box = svg.getBoundingClientRect(); return {width: box.width, height: box.height}; });
  const skipped = 'script, style, noscript, textarea, pre, code, .katex, svg';
  const tex = /\$\$[\s\S]+?\$\$|\$[^\s$][^$]*?\$|\\\([\s\S]+?\\\)|\\\[[\s\S]+?\\\]/g;
  const untypeset = [];
  const walker = document.createTreeWalker(document.body || document, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement && node.parentElement.closest(skipped)) continue;
    for (const found of node.textContent.matchAll(tex)) untypeset.push(found[0].slice(0, 80));
  }
  return {
    title: document.title,
    headings: [...document.querySelectorAll('h1, h2')].map(h => h.textContent.trim()),
    images, svgs,
    links: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
    text_length: document.body ? document.body.innerText.length : 0,
    math: document.querySelectorAll('.katex, mjx-container').length,
    untypeset_math: untypeset,
    page_width: document.documentElement.scrollWidth};
}"""

#: The body's innerText with every element that lies wholly outside the first screen hidden
#: for the reading (an element straddling the fold is split at its child elements), and
#: KaTeX's MathML copy of each formula (there for screen readers) left out.
FIRST_SCREEN_TEXT = """() => {
  const height = window.innerHeight, width = window.innerWidth;
  const hidden = [...document.querySelectorAll('.katex-mathml')];
  const visit = element => {
    for (const child of element.children) {
      const box = child.getBoundingClientRect();
      if (box.top >= height || box.bottom <= 0 || box.left >= width || box.right <= 0) {
        if (getComputedStyle(child).position !== 'fixed') hidden.push(child);
      } else if (box.bottom > height) {
        visit(child);
      }
    }
  };
  if (!document.body) return '';
  visit(document.body);
  const saved = hidden.map(element => element.style.display);
  hidden.forEach(element => { element.style.display = 'none'; });
  const text = document.body.innerText;
  hidden.forEach((element, i) => { element.style.display = saved[i]; });
  return text;
}"""


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable (``CHROMIUM`` first), or ``None``."""
    candidates = [os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"]
    for name in filter(None, candidates):
        path = shutil.which(name)
        if path:
            return path
    return None


def chromium_problem() -> str | None:
    """Why the browser tests cannot run on this machine, as a sentence; ``None`` if they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return (
            "Playwright for Python is not installed: run make setup (it is pinned in "
            "requirements.lock); its bundled browsers are not needed"
        )
    if find_chromium() is None:
        return "Chromium is not installed (apt-get install -y chromium, or set CHROMIUM=path)"
    return None


def ink_share(png: bytes) -> float:
    """Share of a screenshot's pixels that differ from its background colour.

    The background is the most frequent colour; a pixel is ink when one of its channels
    differs from it by more than ``INK_CONTRAST`` (of 255), so anti-aliasing noise on an
    empty page does not count. Computed with Pillow's image operations (a few hundredths of
    a second for 1280 x 800).
    """
    image = Image.open(io.BytesIO(png)).convert("RGB")
    background = max(image.getcolors(image.width * image.height))[1]
    red, green, blue = ImageChops.difference(
        image, Image.new("RGB", image.size, background)
    ).split()
    strongest = ImageChops.lighter(ImageChops.lighter(red, green), blue)
    return sum(strongest.histogram()[INK_CONTRAST + 1 :]) / (image.width * image.height)


class Browser:
    """One headless Chromium driven by Playwright; use as a context manager.

    Parameters
    ----------
    executable : str, optional
        The Chromium to launch (default: :func:`find_chromium`).
    timeout : float
        Seconds any single step (launch, load, evaluation) may take.
    """

    def __init__(self, executable: str | None = None, timeout: float = 30.0):
        self.executable = executable or find_chromium()
        if self.executable is None:
            raise RuntimeError(chromium_problem() or "Chromium is not installed.")
        self.timeout = timeout
        self._playwright = self._browser = self._context = None

    def __enter__(self) -> Browser:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        try:
            self._browser = self._playwright.chromium.launch(
                executable_path=self.executable, timeout=self.timeout * 1000
            )
            self._context = self._browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
            self._context.set_default_timeout(self.timeout * 1000)
            self._context.route(lambda url: not url.startswith(LOCAL_SCHEMES), _refuse)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._browser is not None:
            self._browser.close()
        if self._playwright is not None:
            self._playwright.stop()
        self._playwright = self._browser = self._context = None

    def inspect(self, path) -> dict:
        """Load ``path`` (a local file) in a new tab and report what a reader sees.

        Returns
        -------
        dict
            ``title``, ``headings`` (h1 and h2 texts), ``images`` (``src``, ``complete``,
            natural ``width`` and ``height``: 0 when it did not decode), ``svgs`` (rendered
            sizes), ``links`` (hrefs), ``text_length``, ``math`` (typeset formulas: KaTeX
            or MathJax elements), ``untypeset_math`` (TeX still showing as ``$...$``,
            ``$$...$$``, ``\\(...\\)`` or ``\\[...\\]`` outside code), ``errors`` (console
            errors, uncaught exceptions and failed loads, as strings),
            ``external_requests`` (URLs of every request not for a ``file:``, ``data:``,
            ``blob:`` or ``about:`` URL; each was aborted), ``first_screen_text`` (the text
            of the first 1280 x 800 screen), ``screenshot_ink`` (:func:`ink_share` of a
            screenshot of that screen) and ``screenshot_nonblank``.
        """
        if self._context is None:
            raise RuntimeError("Use Browser as a context manager: with Browser() as browser: ...")
        errors: list[str] = []
        external: list[str] = []
        page = self._context.new_page()
        page.on("console", lambda m: _note_console(m, errors))
        page.on("pageerror", lambda error: errors.append(f"exception: {error}"))
        page.on("requestfailed", lambda r: errors.append(f"failed load: {r.url} ({r.failure})"))
        page.on(
            "request",
            lambda r: None if r.url.startswith(LOCAL_SCHEMES) else external.append(r.url),
        )
        try:
            page.goto(Path(path).resolve().as_uri(), wait_until="load")
            page.evaluate("() => document.fonts.ready.then(() => true)")
            report = page.evaluate(PAGE_REPORT)
            share = ink_share(page.screenshot(type="png"))
            report["first_screen_text"] = page.evaluate(FIRST_SCREEN_TEXT)
        finally:
            page.close()
        report["screenshot_ink"] = share
        report["screenshot_nonblank"] = share >= MIN_INK_SHARE
        report["errors"] = errors
        report["external_requests"] = external
        return report


def _refuse(route) -> None:
    """Abort a request that would leave the machine (``inspect`` records its URL)."""
    route.abort("blockedbyclient")


def _note_console(message, errors: list[str]) -> None:
    if message.type in ("error", "assert"):
        errors.append(f"console.{message.type}: {message.text}")
