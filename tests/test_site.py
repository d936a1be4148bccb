"""The course site (`make site`): it builds with warnings as errors, its internal links resolve,
and every page works in a real browser (headless Debian chromium through Playwright, as in
tests/test_browser.py) at 1366x768 and at phone width (390x844): no console error, no failed
request, every image loaded, every course page with its figures, the home page linking all five
notebooks, nothing wider than a phone's screen.

The build runs the main job first when figures/ has no complete manifest, and executes the
notebooks through myst-nb's cache (.jupyter_cache/): a cold build takes minutes, a cached one
well under one. The times are printed, not asserted.
"""
import contextlib
import functools
import http.server
import importlib.util
import pathlib
import subprocess
import sys
import threading
import time

import pytest
from test_browser import ARGS, CHROMIUM, _need_browser, screenshot_dir

ROOT = pathlib.Path(__file__).resolve().parents[1]
VIEWPORTS = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
HANG = 600  # seconds per page: only a hang fails


def _build_module():
    spec = importlib.util.spec_from_file_location("site_build", ROOT / "docs" / "build.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    for m in ("sphinx", "myst_nb", "sphinx_book_theme", "jupyter_server_mathjax"):
        if importlib.util.find_spec(m) is None:
            pytest.fail(f'{m} is missing: pip install -e ".[docs]" (the site is part of make test)')
    out = tmp_path_factory.mktemp("site") / "site"
    t0 = time.time()
    r = subprocess.run([sys.executable, str(ROOT / "docs" / "build.py"), "--out", str(out)],
                       capture_output=True, text=True, timeout=3600, cwd=ROOT)
    assert r.returncode == 0, f"make site failed:\n{r.stdout[-4000:]}\n{r.stderr[-6000:]}"
    print(f"\n  [site] built in {time.time() - t0:.1f} s: {out}")
    return out


@contextlib.contextmanager
def serve(folder):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass
    handler = functools.partial(Quiet, directory=str(folder))
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


def _pages(site):
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                  if "_static" not in p.relative_to(site).parts)


def test_the_site_has_every_part_and_its_internal_links_resolve(site):
    pages = _pages(site)
    notebooks = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert len(notebooks) == 5
    for need in ["index.html", "citing.html", "changelog.html", "api/index.html",
                 "guides/torch.html", "guides/extending.html", "results/generated/mlp.html",
                 "results/generated/ridge.html", "results/generated/fig1.html",
                 "results/generated/lemmas.html"] + [f"course/{n}.html" for n in notebooks]:
        assert need in pages, f"{need} missing from the site"
    assert _build_module().check_links(site) == []
    home = (site / "index.html").read_text()
    for n in notebooks:
        assert f'href="course/{n}.html"' in home, f"the home page does not link {n}"
    api = (site / "api" / "flatness.html").read_text()
    assert "surrogate_gap" in api and "ArrayLike" in api  # from the docstrings and type hints


def _check_page(page, url, kind):
    """Open `url`; the problems found (console errors, failed requests, images not loaded,
    sideways scroll)."""
    problems = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed request: {r.url}"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}")
            if r.status >= 400 else None)
    page.goto(url, wait_until="load", timeout=HANG * 1000)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")  # lazy images load too
    page.wait_for_load_state("networkidle", timeout=HANG * 1000)
    page.wait_for_function("[...document.images].every(i => i.complete)", timeout=HANG * 1000)
    broken = page.evaluate("[...document.images].filter(i => !i.naturalWidth)"
                           ".map(i => i.src.slice(0, 80))")
    problems += [f"image not loaded: {b}" for b in broken]
    if kind == "phone":
        wide = page.evaluate("document.documentElement.scrollWidth")
        if wide > VIEWPORTS["phone"]["width"] + 1:
            problems.append(f"scrolls sideways at phone width: {wide} px wide")
    return problems


@pytest.mark.parametrize("kind", sorted(VIEWPORTS))
def test_every_page_in_a_real_browser(site, kind, capsys):
    _need_browser()
    from playwright.sync_api import sync_playwright
    pages, bad, t0 = _pages(site), {}, time.time()
    figures = {}
    with serve(site) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            for name in pages:
                page = browser.new_page(viewport=VIEWPORTS[kind])
                try:
                    found = _check_page(page, f"{base}/{name}", kind)
                    if found:
                        bad[name] = found
                    if name.startswith("course/0"):
                        figures[name] = page.evaluate(
                            "[...document.querySelectorAll('.cell_output img')]"
                            ".filter(i => i.naturalWidth > 0).length")
                        page.screenshot(path=str(screenshot_dir() / f"site_{kind}_"
                                                 f"{name.replace('/', '_')}.png"))
                finally:
                    page.close()
        finally:
            browser.close()
    with capsys.disabled():
        print(f"\n  [site] {len(pages)} pages at {kind} width in {time.time() - t0:.1f} s; "
              f"figures per course page: {figures}")
    assert not bad, "\n".join(f"{k}: {v[:5]}" for k, v in bad.items())
    assert len(figures) == 5 and all(n >= 1 for n in figures.values()), figures


def test_a_widget_without_a_kernel_shows_its_first_frame():
    """The site (no kernel) renders a widget's text/html: its current figure and how to run it
    live; Jupyter front ends keep the live view (the widget mime type stays first)."""
    pytest.importorskip("ipywidgets")
    import base64
    import re

    from gamtoy.widgets import canvas, lens
    box = lens(landscape="fig1a", rho=0.3)
    data = box._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    png = re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)", data["text/html"]).group(1)
    assert base64.b64decode(png) == bytes(box.image.value)  # the frame the widget shows
    assert "Binder" in data["text/html"] and "make lab" in canvas.STATIC_NOTE
