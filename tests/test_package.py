"""The package as a stranger gets it: the wheel (built at the build-system floor) carries the
course, and a fresh virtual environment made from the wheel, or from exactly the Binder
configuration, runs notebook 00 on the standard `python3` kernel. Also CITATION.cff and py.typed.

The two environment tests install from the package index that pip is configured with (no
--no-deps): each takes a minute or more and prints its time.
"""
import json
import os
import pathlib
import re
import subprocess
import sys
import time
import tomllib
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
FLOOR = "77.0.3"  # the newest 77.x: the floor of `requires = ["setuptools>=77"]`
PAPERS = ("Sharpness-Aware Minimization for Efficiently Improving Generalization",
          "Penalizing Gradient Norm for Efficiently Improving Generalization in Deep Learning",
          "Surrogate Gap Minimization Improves Sharpness-Aware Training",
          "Gradient Norm Aware Minimization Seeks First-Order Flatness and Improves Generalization")


def _run(cmd, timeout=1800, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    assert r.returncode == 0, f"{cmd}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


def _clean_env(tmp, **extra):
    """No PYTHONPATH (the installed gamtoy, not this checkout), own HOME and Jupyter folders."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "JUPYTER", "VIRTUAL_ENV", "MPLBACKEND", "GAMTOY"))}
    for k in ("HOME", "JUPYTER_DATA_DIR", "JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR",
              "IPYTHONDIR"):
        (tmp / k.lower()).mkdir(parents=True, exist_ok=True)
        env[k] = str(tmp / k.lower())
    env.update(GAMTOY_CACHE=str(tmp / "cache"), GAMTOY_FAST="1", **extra)
    return env


def _venv(where):
    _run([sys.executable, "-m", "venv", str(where)])
    return where / "bin" / "python"


def _execute(py, nb, env):
    """Execute notebook `nb` with nbconvert on the kernel the notebook names; the kernel's
    name and the error outputs (none expected)."""
    kernel = json.loads(nb.read_text())["metadata"]["kernelspec"]["name"]
    out = nb.with_name("executed.ipynb")
    _run([str(py), "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
          "--ExecutePreprocessor.timeout=600", "--output", out.name, str(nb)], env=env,
         cwd=nb.parent)
    cells = json.loads(out.read_text())["cells"]
    errors = [o for c in cells for o in c.get("outputs", []) if o["output_type"] == "error"]
    text = "".join("".join(o.get("text", "")) for c in cells for o in c.get("outputs", []))
    return kernel, errors, text


def _report(capsys, line):
    with capsys.disabled():
        print(f"\n  [package] {line}")


# ---------------------------------------------------------------- fast checks
def test_citation_cff_names_the_package_and_the_four_papers():
    yaml = pytest.importorskip("yaml")
    c = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    for field in ("cff-version", "message", "title", "authors", "version", "license"):
        assert c.get(field), f"CITATION.cff: {field} missing"
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert str(c["version"]) == version and c["license"] == "MIT"
    refs = c["references"]
    assert [r["title"] for r in refs] == list(PAPERS)
    for r in refs:
        assert r["authors"] and all(a.get("family-names") for a in r["authors"]), r["title"]
        assert 2021 <= int(r["year"]) <= 2023 and r["type"] == "conference-paper"
    bib = (ROOT / "docs" / "citing.md").read_text()
    assert all(re.sub(r"\s+", " ", t) in re.sub(r"\s+", " ", bib) for t in PAPERS)


def test_changelog_and_py_typed_exist():
    assert (ROOT / "gamtoy" / "py.typed").is_file()
    log = (ROOT / "CHANGELOG.md").read_text()
    assert log.startswith("# Changelog") and "## Unreleased" in log


# ---------------------------------------------------------------- slow: real environments
def test_the_wheel_built_at_the_floor_carries_the_course_and_runs_notebook_00(tmp_path, capsys):
    t0 = time.time()
    floor = tmp_path / "floor.txt"
    floor.write_text(f"setuptools=={FLOOR}\n")
    dist = tmp_path / "dist"
    # an isolated build whose setuptools is pinned to the floor (pip >= 25.3: --build-constraint)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "--build-constraint",
          str(floor), "-w", str(dist), str(ROOT)])
    (wheel,) = dist.glob("gamtoy-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        meta = z.read(next(n for n in names if n.endswith(".dist-info/WHEEL"))).decode()
        info = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert f"Generator: setuptools ({FLOOR})" in meta, meta
    assert "License-Expression: MIT" in info
    course = sorted(n for n in names if n.startswith("gamtoy/_course/"))
    want = sorted(f"gamtoy/_course/{d}/{p.name}" for d in ("notebooks", "app")
                  for p in (ROOT / d).glob("*.ipynb"))
    assert course == want and "gamtoy/py.typed" in names
    t_build = time.time() - t0

    py = _venv(tmp_path / "venv")
    env = _clean_env(tmp_path)
    _run([str(py), "-m", "pip", "install", "-q", "--no-compile", f"{wheel}[notebooks]"], env=env)
    t_install = time.time() - t0 - t_build
    where = _run([str(py), "-c", "import gamtoy; print(gamtoy.__file__)"], env=env,
                 cwd=tmp_path).stdout
    assert str(tmp_path / "venv") in where, where
    dest = tmp_path / "my course"
    r = _run([str(tmp_path / "venv" / "bin" / "gamtoy"), "course", str(dest)], env=env)
    assert "00_start_here.ipynb" in r.stdout
    again = subprocess.run([str(tmp_path / "venv" / "bin" / "gamtoy"), "course", str(dest)],
                           capture_output=True, text=True, env=env)
    assert again.returncode == 2 and "--force" in again.stderr
    kernel, errors, text = _execute(py, dest / "notebooks" / "00_start_here.ipynb", env)
    assert kernel == "python3" and not errors, errors
    assert "not installed" not in text
    _report(capsys, f"wheel at setuptools {FLOOR}: built {t_build:.0f} s, installed with the "
            f"notebooks extra {t_install:.0f} s, notebook 00 run; {time.time() - t0:.0f} s in all")


def test_binder_configuration_builds_an_environment_that_runs_notebook_00(tmp_path, capsys):
    t0 = time.time()
    req = ROOT / "binder" / "requirements.txt"
    lines = [ln.strip() for ln in req.read_text().splitlines() if ln.strip()
             and not ln.startswith("#")]
    assert lines == [".[notebooks]"], lines  # the notebooks extra, nothing else (no torch)
    py = _venv(tmp_path / "venv")
    env = _clean_env(tmp_path)
    # as repo2docker does: pip install -r binder/requirements.txt from the repository's root
    _run([str(py), "-m", "pip", "install", "-q", "--no-compile", "-r", str(req)], env=env,
         cwd=ROOT)
    t_install = time.time() - t0
    has_torch = subprocess.run([str(py), "-c", "import torch"], capture_output=True, env=env)
    assert has_torch.returncode != 0, "the Binder environment must not bring torch"
    nb = tmp_path / "nb" / "00_start_here.ipynb"
    nb.parent.mkdir()
    nb.write_bytes((ROOT / "notebooks" / nb.name).read_bytes())
    kernel, errors, _ = _execute(py, nb, env)
    assert kernel == "python3" and not errors, errors
    _report(capsys, f"binder/requirements.txt: installed {t_install:.0f} s, notebook 00 run; "
            f"{time.time() - t0:.0f} s in all")
