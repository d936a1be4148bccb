"""The explorer and the lens in a real browser: JupyterLab (notebooks 00, 01, 02) and the Voila app.

Drives headless Debian chromium (/usr/bin/chromium) with Playwright's Python package (no browser
download). Each server runs on 127.0.0.1 on a free port with its own temporary Jupyter folders,
on a copy of the notebooks (autosave cannot write outputs into the repository), and is stopped by
its PID (and its process group: its kernels) even when a check fails.

What is asserted, per widget found in the page (by the CSS classes gamtoy.widgets sets):
no error output after "Run All"; the values the page shows on the sliders are the values the
kernel rendered with, and they are the widget's initial values (nothing snapped, one render);
a keyboard move of a slider changes the figure, and the readout the page then shows equals
what this test process computes for the state the page shows (gamtoy.widgets.render /
lens_data, formatted as the widgets format it).

Screenshots go to $GAMTOY_SCREENSHOTS (default: <tempdir>/gamtoy-screenshots); the path is
printed. Without chromium or playwright the tests are skipped with a message saying how to
enable them; with CI=true they fail instead.
"""
import contextlib
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("GAMTOY_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1366, "height": 680}  # a 1366 x 768 laptop screen less the browser's bars
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ENABLE = ("install Debian's chromium (apt-get install -y chromium) and the test extra "
          "(pip install -e '.[test,notebooks]', which brings playwright; no browser download)")


def _need_browser():
    missing = []
    if not os.path.exists(CHROMIUM):
        missing.append(f"no browser at {CHROMIUM}")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package is not installed")
    if missing:
        msg = "real-browser test: " + "; ".join(missing) + f". To enable it: {ENABLE}."
        if IN_CI:
            pytest.fail(msg + " (CI=true: this test must run in CI, never skip)")
        pytest.skip(msg)


def screenshot_dir():
    d = pathlib.Path(os.environ.get("GAMTOY_SCREENSHOTS")
                     or pathlib.Path(tempfile.gettempdir()) / "gamtoy-screenshots")
    d.mkdir(parents=True, exist_ok=True)
    return d


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ servers
def _jupyter_env(tmp):
    """A clean Jupyter environment in `tmp`: own config/data/runtime folders, only the standard
    `python3` kernel (this Python, this checkout first on the path), no news or update checks."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "MPLBACKEND"))}
    dirs = {k: tmp / k.lower() for k in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR",
                                         "JUPYTER_RUNTIME_DIR", "IPYTHONDIR")}
    for k, d in dirs.items():
        d.mkdir(parents=True, exist_ok=True)
        env[k] = str(d)
    settings = tmp / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(
        os.pathsep) if p])
    env.setdefault("GAMTOY_FAST", "1")
    env["GAMTOY_CACHE"] = str(tmp / "cache")
    env["HOME"] = str(tmp / "home")
    (tmp / "home").mkdir(exist_ok=True)
    return env


HANG = 600  # seconds: waits that only catch a hang, never a slow machine


def _wait_http(url, proc, log, timeout=HANG):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return time.time() - t0
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server not up after {timeout} s:\n{log.read_text()[-3000:]}")


def stop(proc):
    """Stop a server by its PID, then anything left in its process group (its kernels)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # the server shuts its kernels down on its first SIGINT
        proc.send_signal(signal.SIGINT)  # ... and stops without asking on the second
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # the group is this server's own (start_new_session)


@contextlib.contextmanager
def server(kind, tmp, root, notebook=None):
    """Start JupyterLab (kind 'lab', serving `root`) or Voila (kind 'voila', serving `notebook`)
    on a free 127.0.0.1 port; yields (base_url, token, seconds to come up); stops it by PID."""
    env = _jupyter_env(tmp)
    port, token = free_port(), os.urandom(12).hex()
    log = tmp / f"{kind}.log"
    if kind == "lab":
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.open_browser=False",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--allow-root",
               f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
               f"--LabApp.user_settings_dir={tmp / 'settings'}", "--LabApp.news_url=",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        probe = f"http://127.0.0.1:{port}/api/status?token={token}"
    else:
        cmd = [sys.executable, "-m", "voila", str(notebook), "--no-browser",
               "--Voila.ip=127.0.0.1", f"--port={port}", "--Voila.port_retries=0",
               f"--Voila.token={token}", "--strip_sources=True", "--show_tracebacks=False",
               f"--Voila.root_dir={root}", "--preheat_kernel=True"]
        probe = f"http://127.0.0.1:{port}/static/voila/favicon.ico"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=fh, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        up = _wait_http(probe, proc, log)
        yield f"http://127.0.0.1:{port}", token, up
    finally:
        stop(proc)


# ------------------------------------------------------------------ the page
def _labels(box):
    """{slider description: value shown} for the SelectionSliders in `box` (a Locator)."""
    out = {}
    for s in box.locator(".widget-slider").all():
        name = s.locator(".widget-label").first.inner_text().strip()
        out[name] = s.locator(".widget-readout").inner_text().strip()
    return out


def _state(box):
    """(state, renders) of the last render, read in one go (the HTML may be replaced between two
    separate reads)."""
    st, n = box.locator(".gamtoy-state").evaluate("e => [e.dataset.state, e.dataset.renders]")
    return json.loads(st), int(n)


def _table(box):
    rows = box.locator(".gamtoy-readout table tr").all()
    return [[c.inner_text().strip() for c in r.locator("td").all()] for r in rows[1:]]


def _image(box):
    return box.locator(".gamtoy-figure").screenshot()


def _move(page, box, name, key="ArrowRight"):
    """Focus the slider `name`'s handle and press `key` once (one grid step)."""
    s = box.locator(".widget-slider").filter(has=page.locator(".widget-label", has_text=name))
    s.first.locator(".noUi-handle").first.focus()
    page.keyboard.press(key)


def _wait_renders(box, more_than, timeout=HANG):
    t0 = time.time()
    while time.time() - t0 < timeout:
        st, n = _state(box)
        if n > more_than:
            return st, n, time.time() - t0
        time.sleep(0.05)
    raise AssertionError(f"the kernel did not re-render within {timeout} s of the slider move")


SLIDER_KEYS = {"explorer": {"lr": "lr", "rho": "rho", "alpha": "alpha", "steps": "steps",
                            "start x": "start_x", "start y": "start_y"},
               "lens": {"x": "x", "y": "y", "rho": "rho"}}


def _expected_rows(kind, st):
    """What this process computes for the state `st` the page shows, formatted like the page."""
    if kind == "explorer":
        from gamtoy.widgets import ExplorerState, readout_rows, render
        st = dict(st, optimizers=tuple(st["optimizers"]))
        return readout_rows(render(ExplorerState(**st), text=False)[1])
    from gamtoy.widgets import lens_data, lens_rows
    return lens_rows(lens_data(st["landscape"], (st["x"], st["y"]), st["rho"]))


def check_widget(page, box, kind, shots, tag, report, move="start x"):
    """The checks of the module docstring on one explorer or lens (`box` a Locator)."""
    box.scroll_into_view_if_needed()
    box.locator(".gamtoy-readout table").wait_for(timeout=HANG * 1000)
    st, renders = _state(box)
    shown = _labels(box)
    keys = SLIDER_KEYS[kind]
    for name, field in keys.items():
        assert name in shown, f"{tag}: slider {name!r} not found in the page ({sorted(shown)})"
        assert float(shown[name]) == float(st[field]), (
            f"{tag}: the page shows {name} = {shown[name]} but the kernel rendered {st[field]}")
    assert renders == 1, (f"{tag}: the kernel rendered {renders} times before any move: the page "
                          f"changed a value on display (snapping)")
    # laid out for a laptop: the figure beside the controls, nothing clipped
    fig_box, ctl = box.locator(".gamtoy-figure").bounding_box(), \
        box.locator(".widget-slider").first.bounding_box()
    beside = ctl["x"] >= fig_box["x"] + fig_box["width"] - 1 and ctl["y"] < fig_box["y"] + \
        fig_box["height"]
    assert fig_box["width"] >= 380 and beside, (
        f"{tag}: the controls are not beside the figure: figure {fig_box}, first slider {ctl}")
    assert ctl["x"] + ctl["width"] <= VIEWPORT["width"] + 1
    widths = box.evaluate("b => [b.getBoundingClientRect().width, b.parentElement.clientWidth]")
    report.append(f"{tag}: widget {widths[0]:.0f} px wide in {widths[1]:.0f} px; figure "
                  f"{fig_box['width']:.0f} x {fig_box['height']:.0f} px beside the controls")
    clipped = box.evaluate("""b => [...b.querySelectorAll(
            '.widget-label, .widget-checkbox label, .widget-readout')]
        .filter(e => e.offsetParent && e.scrollWidth > e.clientWidth + 1)
        .map(e => e.textContent)""")
    assert not clipped, f"{tag}: truncated labels {clipped}"
    outside = box.evaluate("""b => { const R = b.getBoundingClientRect();
        const sel = '.widget-checkbox, .widget-slider, .widget-dropdown, .widget-html';
        return [...b.querySelectorAll(sel)].filter(e => {
            const r = e.getBoundingClientRect(), p = e.parentElement.getBoundingClientRect();
            return r.right > Math.min(R.right, p.right) + 1; })
          .map(e => e.textContent.trim().slice(0, 30)); }""")
    assert not outside, f"{tag}: controls cut off at the right edge: {outside}"
    page.screenshot(path=str(shots / f"{tag}_before.png"))
    before = _image(box)
    t0 = time.time()
    _move(page, box, move)
    st2, _, _ = _wait_renders(box, renders)
    lag = time.time() - t0
    field = keys[move]
    changed = {k: (st[k], v) for k, v in st2.items() if st[k] != v}
    assert set(changed) == {field}, f"{tag}: moving {move!r} changed {changed}"
    page.wait_for_timeout(300)  # the new PNG reaches the <img>
    after = _image(box)
    assert after != before, f"{tag}: the figure did not change after moving {move!r}"
    shown2 = _labels(box)
    for name, f in keys.items():
        assert float(shown2[name]) == float(st2[f]), f"{tag}: {name} shows {shown2[name]}"
    want = _expected_rows(kind, st2)
    got = _table(box)
    assert got == want, f"{tag}: the page's readout {got} != recomputed {want} for {st2}"
    page.screenshot(path=str(shots / f"{tag}_after.png"))
    report.append(f"{tag}: {move} {st[field]} -> {st2[field]}, page updated in {lag:.2f} s")
    return st2


def _settings(tmp):
    """JupyterLab user settings for the test: every cell in the DOM (no windowing)."""
    d = tmp / "settings" / "@jupyterlab" / "notebook-extension"
    d.mkdir(parents=True, exist_ok=True)
    (d / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))


def _accept_kernel_dialog(page):
    """JupyterLab may ask which kernel to start: take its proposal (python3: this interpreter,
    this checkout first on the path)."""
    dialog = page.locator(".jp-Dialog", has_text="Select Kernel")
    if dialog.count() and dialog.first.is_visible():
        dialog.first.locator("button", has_text=re.compile(r"^Select$")).click()
        page.wait_for_timeout(300)
        return True
    return False


def _settle(page, timeout=HANG):
    """Wait until the notebook's kernel is idle, answering a kernel dialog if one appears."""
    t0 = time.time()
    idle = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")
    while time.time() - t0 < timeout:
        _accept_kernel_dialog(page)
        if idle.count() and not page.locator(".jp-Dialog").count():
            return
        page.wait_for_timeout(250)
    page.screenshot(path=str(screenshot_dir() / "lab_kernel_timeout.png"))
    raise AssertionError(f"no idle kernel after {timeout} s")


def _menu_run_all(page):
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()


def _api(url, token, path, body=None):
    req = urllib.request.Request(f"{url}{path}?token={token}", method="POST" if body else "GET",
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=HANG) as r:
        return json.loads(r.read() or b"null")


def _start_session(url, token, nbdir, name):
    """Start the notebook's kernel through the REST API before the page opens it, so JupyterLab
    joins that session instead of asking which kernel to start."""
    want = json.loads((nbdir / name).read_text())["metadata"].get("kernelspec", {}).get("name")
    specs = _api(url, token, "/api/kernelspecs")["kernelspecs"]
    kernel = want if want in specs else "python3"
    _api(url, token, "/api/sessions", {"path": name, "name": name, "type": "notebook",
                                        "kernel": {"name": kernel}})
    return kernel


def _run_all(page, url, token, name, timeout=HANG):
    page.goto(f"{url}/lab/tree/{name}?reset&token={token}")  # reset: no tabs from before
    page.locator(".jp-Notebook").first.wait_for(timeout=HANG * 1000)
    _settle(page)
    t0 = last = time.time()
    _menu_run_all(page)
    while time.time() - t0 < timeout:
        if _accept_kernel_dialog(page):
            _settle(page)
            _menu_run_all(page)  # a dialog swallows the click: run all again (nothing ran yet)
            last = time.time()
        prompts = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell "
                               ".jp-InputPrompt").all_inner_texts()
        if prompts and all(re.fullmatch(r"\[\d+\]:", p.strip()) for p in prompts):
            break
        if all(p.strip() == "[ ]:" for p in prompts) and time.time() - last > 8:
            _menu_run_all(page)
            last = time.time()
        page.wait_for_timeout(250)
    else:
        page.screenshot(path=str(screenshot_dir() / f"lab_{name.split('_')[0]}_timeout.png"))
        raise AssertionError(f"{name}: cells still running after {timeout} s; prompts {prompts}")
    return time.time() - t0


def _saved_errors(page, path):
    """Save the notebook and return the error outputs in the saved file."""
    page.keyboard.press("Control+s")
    t0 = time.time()
    while time.time() - t0 < HANG:
        nb = json.loads(path.read_text())
        outs = [o for c in nb["cells"] for o in c.get("outputs", [])]
        if outs or not any(c["cell_type"] == "code" for c in nb["cells"]):
            return [f"{o['ename']}: {o['evalue']}" for o in outs if o["output_type"] == "error"]
        page.wait_for_timeout(250)
    raise AssertionError(f"{path.name}: not saved")


@pytest.fixture(scope="module")
def browser():
    _need_browser()
    for old in screenshot_dir().glob("*.png"):  # this run's screenshots only
        old.unlink()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield b
        finally:
            b.close()


@contextlib.contextmanager
def _reporting(capsys, lines):
    """Print the report lines (timings, the screenshots' folder) to the terminal, pass or fail."""
    try:
        yield
    finally:
        with capsys.disabled():
            print("\n" + "\n".join(f"  [browser] {x}" for x in lines + [
                f"screenshots: {screenshot_dir()}"]))


def test_notebooks_in_jupyterlab(browser, tmp_path, capsys):
    """Notebooks 00, 01, 02 in JupyterLab: Run All without errors; every explorer and lens in them
    passes `check_widget` (initial values kept, figure changes, readout recomputed equal)."""
    shots, report = screenshot_dir(), []
    nbdir = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", nbdir)
    _settings(tmp_path)
    names = [p.name for k in ("00", "01", "02") for p in sorted(nbdir.glob(f"{k}_*.ipynb"))]
    assert len(names) >= 2, f"notebooks 01 and 02 not found in {ROOT / 'notebooks'}"
    found = {"explorer": 0, "lens": 0}
    t_all = time.time()
    with server("lab", tmp_path, nbdir) as (url, token, up), _reporting(capsys, report):
        report.append(f"JupyterLab up in {up:.1f} s; screenshots: {shots}")
        for name in names:
            page = browser.new_page(viewport=VIEWPORT)
            try:
                kernel = _start_session(url, token, nbdir, name)
                secs = _run_all(page, url, token, name)
                stem = name.split("_")[0]
                page.screenshot(path=str(shots / f"lab_{stem}_run.png"))
                errors = _saved_errors(page, nbdir / name)
                assert not errors, f"{name}: error output after Run All: {errors}"
                report.append(f"{name} (kernel {kernel}): Run All in {secs:.1f} s, no errors")
                for kind, move in (("explorer", "start x"), ("lens", "x")):
                    for i, box in enumerate(page.locator(f".gamtoy-{kind}").all()):
                        check_widget(page, box, kind, shots, f"lab_{stem}_{kind}{i}", report, move)
                        found[kind] += 1
            finally:
                page.close()
        report.append(f"JupyterLab part: {time.time() - t_all:.1f} s")
    assert found["explorer"] >= 1 and found["lens"] >= 1, f"widgets found: {found}"


def test_voila_app(browser, tmp_path, capsys):
    """`make app`'s Voila page: no code, no stray prints, tables rendered, the first slider
    usable (the time is reported; only a hang fails), and the explorer and the lens pass
    `check_widget`."""
    shots, report = screenshot_dir(), []
    app = ROOT / "app" / "gamtoy_app.ipynb"
    with server("voila", tmp_path, ROOT / "app", app) as (url, token, up), \
            _reporting(capsys, report):
        page = browser.new_page(viewport=VIEWPORT)
        try:
            t0 = time.time()
            page.goto(f"{url}/?token={token}", timeout=HANG * 1000)
            page.locator(".gamtoy-explorer .noUi-handle").first.wait_for(state="visible",
                                                                         timeout=HANG * 1000)
            first = time.time() - t0
            page.screenshot(path=str(shots / "voila_loaded.png"))
            report.append(f"Voila up in {up:.1f} s; first slider usable {first:.1f} s after "
                          f"the page load began")
            body = page.locator("body").inner_text()
            assert "import" not in body and page.locator(".cm-editor").count() == 0, "code shown"
            outs = page.locator(".jp-OutputArea-output").all_inner_texts()
            stray = [o for o in outs if o.strip() and not o.strip().startswith(("Readout", "theta"))
                     and "landscape" not in o]
            assert not stray, f"text outputs beside the widgets: {stray}"
            assert "|---|" not in body and page.locator("th", has_text="symbol").count() == 1
            assert "Traceback" not in body and "Error" not in body
            check_widget(page, page.locator(".gamtoy-explorer").first, "explorer", shots,
                         "voila_explorer", report, move="lr")
            check_widget(page, page.locator(".gamtoy-lens").first, "lens", shots, "voila_lens",
                         report, move="rho")
        finally:
            page.close()


# ------------------------------------------------------------------ without a browser
KERNEL_FIX = ("python - <<'PY'\nimport json, pathlib\nfor p in pathlib.Path('notebooks').glob("
              "'*.ipynb'):\n    nb = json.loads(p.read_text())\n    nb['metadata']['kernelspec'] = "
              "{'name': 'python3', 'display_name': 'Python 3 (ipykernel)', 'language': 'python'}"
              "\n    p.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\\n')\nPY")


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("*.ipynb"))
                         + [ROOT / "app" / "gamtoy_app.ipynb"], ids=lambda p: p.name)
def test_notebooks_use_the_standard_python3_kernel(path):
    """Every notebook asks for the standard `python3` kernel (any Jupyter has it: `make lab`,
    Binder, a JupyterHub, nbval without --nbval-current-env), and its first code cell says in
    one line how to install gamtoy when it is missing."""
    nb = json.loads(path.read_text())
    spec = nb["metadata"].get("kernelspec", {})
    assert spec.get("name") == "python3", (
        f"{path.name} asks for kernel {spec.get('name')!r}; set it to 'python3':\n{KERNEL_FIX}")
    first = "".join(next(c for c in nb["cells"] if c["cell_type"] == "code")["source"])
    assert 'find_spec("gamtoy") is None' in first and 'pip install "gamtoy[notebooks]"' in \
        first.replace("\\", ""), f"{path.name}: the first code cell does not check for gamtoy"


def test_the_app_notebook_shows_widgets_only():
    """The Voila app: no outputs committed, no print, one explorer and one lens built by the
    public names, markdown tables (rendered by Voila)."""
    nb = json.loads((ROOT / "app" / "gamtoy_app.ipynb").read_text())
    code = [("".join(c["source"])) for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")
    src = "\n".join(code)
    assert "print(" not in src and 'explorer(landscape="ridge")' in src
    assert 'lens(landscape="fig1a")' in src
    md = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "|---|" in md
