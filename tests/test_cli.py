"""`gamtoy` / `python -m gamtoy reproduce`: runs every job, reports the files, skips nothing
silently, writes its manifest last, and refuses bad arguments with one line before any work.
Most tests run the real command in a subprocess, with fast fake jobs (tests/_fake_jobs.py)."""
import hashlib
import json
import os
import pathlib
import subprocess
import sys

import pytest

from gamtoy import cli

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent


def _env(**extra):
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(HERE), env.get("PYTHONPATH", "")])
    env.update(extra)
    return env


def gamtoy(*args, fake=True, **env):
    """Run the CLI (with the fake jobs) in a subprocess; the CompletedProcess."""
    cmd = ([sys.executable, str(HERE / "_fake_jobs.py")] if fake
           else [sys.executable, "-m", "gamtoy"])
    return subprocess.run(cmd + list(args), capture_output=True, text=True, env=_env(**env),
                          timeout=120)


def _one_clean_line(r):
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 2, r
    assert "Traceback" not in r.stderr and len(lines) == 1, r.stderr
    return lines[0]


# ---- in-process ------------------------------------------------------------------------------
def _fake_job(out, quick=True):
    p = f"{out}/fake.txt"
    with open(p, "w") as fh:
        fh.write("quick" if quick else "full")
    return [p]


def test_reproduce_runs_each_job_and_returns_its_paths(tmp_path, monkeypatch, capsys):
    import types
    mod = types.ModuleType("fake_jobs")
    mod.reproduce = _fake_job
    monkeypatch.setitem(sys.modules, "fake_jobs", mod)
    monkeypatch.setattr(cli, "JOBS", [("fake_jobs", "reproduce")])
    assert cli.main(["reproduce", "--out", str(tmp_path), "--full"]) == 0
    assert (tmp_path / "fake.txt").read_text() == "full"
    assert "fake.txt" in capsys.readouterr().out


def test_every_job_module_of_the_main_job_exists():
    import importlib
    for _name, mod, fn in cli._job_list():
        assert callable(getattr(importlib.import_module(mod), fn)), mod


def test_the_main_job_modules_import_neither_torch_nor_ipywidgets():
    mods = ", ".join(m for _, m, _ in cli._job_list())
    code = (f"import sys, importlib; [importlib.import_module(m) for m in '{mods}'.split(', ')]; "
            f"import gamtoy.cli; bad = [m for m in ('torch', 'ipywidgets') if m in sys.modules]; "
            f"print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(),
                       timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


# ---- the command line ------------------------------------------------------------------------
def test_no_arguments_prints_help_and_version_prints_the_version():
    from gamtoy import __version__
    r = gamtoy(fake=False)
    assert r.returncode == 0 and "usage: gamtoy" in r.stdout and "reproduce" in r.stdout
    r = gamtoy("--version", fake=False)
    assert r.returncode == 0 and r.stdout.strip() == f"gamtoy {__version__}"


def test_cli_rejects_unknown_command():
    r = gamtoy("nonsense", fake=False)
    assert r.returncode != 0 and "invalid choice" in r.stderr


@pytest.mark.parametrize("args", [["--help"], ["reproduce", "--help"]])
def test_cli_help(args):
    r = gamtoy(*args, fake=False)
    assert r.returncode == 0 and "usage" in r.stdout


def test_unknown_only_fails_listing_the_valid_jobs_before_any_work(tmp_path):
    out = tmp_path / "out"
    r = gamtoy("reproduce", "--out", str(out), "--only", "first", "nope", fake=True)
    line = _one_clean_line(r)
    assert "--only" in line and "'nope'" in line and "valid: first, second" in line
    assert not out.exists()
    r = gamtoy("reproduce", "--out", str(out), "--only", "nope", fake=False)
    assert "valid: figures, lemmas, mlp" in _one_clean_line(r)


def test_an_unusable_out_fails_before_any_work_with_one_line(tmp_path, monkeypatch, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    r = gamtoy("reproduce", "--out", str(afile))  # a real process: one line, no traceback
    line = _one_clean_line(r)
    assert f"--out {afile}: exists and is not a folder" in line and "WROTE" not in r.stdout
    ran = []
    monkeypatch.setattr(cli, "select", lambda only: ran.append(1) or [])
    for out in (afile / "sub", "/proc/gamtoy-out"):
        assert cli.main(["reproduce", "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"--out {out}: not a writable folder" in err[0], err
    assert afile.read_text() == "x"


def test_out_with_a_tilde_is_the_home_folder(tmp_path):
    r = gamtoy("reproduce", "--out", "~/figs", "--only", "second", HOME=str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "figs" / "quick.txt").read_text() == "quick"
    assert not (pathlib.Path.cwd() / "~").exists()


def test_progress_one_line_per_job_with_elapsed_time_and_where_every_file_went(tmp_path):
    r = gamtoy("reproduce", "--out", str(tmp_path), "--full")
    assert r.returncode == 0, r.stderr
    assert "[gamtoy] 1/2 first: 2 file(s) in" in r.stdout
    assert "[gamtoy] 2/2 second: 2 file(s) in" in r.stdout and "s (total" in r.stdout
    for f in ("a.txt", "b.txt", "full.txt", "side.txt"):  # one line per file as it is written
        assert f"[gamtoy]     {f} (" in r.stdout
    assert r.stdout.index("    b.txt (") < r.stdout.index("2/2 second: running")
    for f in ("a.txt", "b.txt", "full.txt", "manifest.json"):
        assert str(tmp_path / f) in r.stdout


def test_the_manifest_lists_every_file_with_size_and_sha256_settings_and_versions(tmp_path):
    r = gamtoy("reproduce", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path / "manifest.json").read_text())
    assert m["complete"] is True and m["status"] == "complete"
    assert m["settings"]["quick"] is True and m["settings"]["jobs"] == ["first", "second"]
    assert m["versions"]["gamtoy"] and m["versions"]["numpy"]
    # side.txt is written through gamtoy._io but not reported by its job (as an SVG beside its
    # PNG): it is listed too, in the order of writing
    assert [f["file"] for f in m["files"]] == ["a.txt", "b.txt", "quick.txt", "side.txt"]
    assert sorted(f["file"] for f in m["files"]) == sorted(
        f.name for f in tmp_path.iterdir() if f.name != "manifest.json")
    for f in m["files"]:
        data = (tmp_path / f["file"]).read_bytes()
        assert f["size"] == len(data) and f["sha256"] == hashlib.sha256(data).hexdigest()
    # written last: no file is newer than the manifest
    newest = max((tmp_path / f["file"]).stat().st_mtime_ns for f in m["files"])
    assert (tmp_path / "manifest.json").stat().st_mtime_ns >= newest


def test_the_folder_is_visibly_incomplete_while_a_job_fails(tmp_path):
    r = gamtoy("reproduce", "--out", str(tmp_path), FAKE_IMPORT="no_such_module_xyz")
    assert r.returncode != 0
    m = json.loads((tmp_path / "manifest.json").read_text())
    assert m["complete"] is False and m["status"] == "failed" and m["files"] == []


def test_the_main_job_may_not_import_torch_or_ipywidgets(tmp_path):
    for mod in ("torch", "ipywidgets"):
        r = gamtoy("reproduce", "--out", str(tmp_path), FAKE_IMPORT=mod)
        assert r.returncode != 0
        assert f"the main job must not import '{mod}'" in r.stderr


def test_a_rerun_replaces_files_reports_them_and_cleans_stray_temporaries(tmp_path):
    assert gamtoy("reproduce", "--out", str(tmp_path)).returncode == 0
    (tmp_path / ".a.txt.x1y2.tmp").write_text("left by a killed run")
    (tmp_path / "a.txt").write_text("stale")
    r = gamtoy("reproduce", "--out", str(tmp_path), "--only", "first", FAKE_FILES="a.txt")
    assert r.returncode == 0, r.stderr
    assert "removed 1 stale temporary file(s)" in r.stdout
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))
    assert (tmp_path / "a.txt").read_bytes().startswith(b"contents of a.txt")
    assert "wrote 1 file(s)" in r.stdout and str(tmp_path / "a.txt") in r.stdout
    assert "3 older file(s)" in r.stdout and "b.txt, quick.txt, side.txt" in r.stdout
    m = json.loads((tmp_path / "manifest.json").read_text())
    assert [f["file"] for f in m["files"]] == ["a.txt"] and m["complete"]


def test_an_empty_only_word_is_refused_not_every_job(tmp_path):
    # '' is a part of every module name: `--only ""` used to run the whole main job
    with pytest.raises(cli.UsageError, match=r"--only: unknown job\(s\) ''"):
        cli.select([""])
    with pytest.raises(cli.UsageError, match="unknown job"):
        cli.select(["lemmas", " "])


def test_jobs_side_by_side_report_each_job_and_list_files_in_the_jobs_order(tmp_path):
    # two processes: both jobs run at once, each reports its files and its CPU seconds; the
    # manifest lists the files in the jobs' order whichever finished first
    r = gamtoy("reproduce", "--out", str(tmp_path), FAKE_WORKERS="2")
    assert r.returncode == 0, r.stderr
    assert "2 jobs in 2 processes side by side" in r.stdout
    for line in ("1/2 first: 2 file(s) in", "2/2 second: 2 file(s) in"):
        assert f"[gamtoy] {line}" in r.stdout and "CPU s (total" in r.stdout
    for f in ("a.txt", "b.txt", "quick.txt", "side.txt"):
        assert f"[gamtoy]     {f} (" in r.stdout
    m = json.loads((tmp_path / "manifest.json").read_text())
    assert m["complete"] and m["settings"]["workers"] == 2
    assert [f["file"] for f in m["files"]] == ["a.txt", "b.txt", "quick.txt", "side.txt"]
    assert sorted(j["job"] for j in m["jobs"]) == ["first", "second"]
    assert all(j["cpu_seconds"] >= 0 for j in m["jobs"])


def test_a_failing_job_side_by_side_fails_the_run_and_names_the_job(tmp_path):
    r = gamtoy("reproduce", "--out", str(tmp_path), FAKE_WORKERS="2", FAKE_IMPORT="torch")
    assert r.returncode != 0
    assert "job first failed" in r.stderr and "the main job must not import 'torch'" in r.stderr
    m = json.loads((tmp_path / "manifest.json").read_text())
    assert m["complete"] is False and m["status"] == "failed"


def test_jobs_must_be_at_least_one(tmp_path):
    r = gamtoy("reproduce", "--out", str(tmp_path), "--jobs", "0")
    assert "--jobs 0: must be at least 1" in _one_clean_line(r)
# ---- gamtoy course ---------------------------------------------------------------------------
def test_course_writes_the_notebooks_and_the_app_and_refuses_to_overwrite(tmp_path):
    dest = tmp_path / "my course"
    r = gamtoy("course", str(dest), fake=False)
    assert r.returncode == 0, r.stderr
    want = sorted(p.name for d in ("notebooks", "app") for p in (ROOT / d).glob("*.ipynb"))
    got = sorted(p.name for p in dest.rglob("*.ipynb"))
    assert got == want and len(got) >= 6
    nb = dest / "notebooks" / "00_start_here.ipynb"
    assert nb.read_bytes() == (ROOT / "notebooks" / nb.name).read_bytes()
    nb.write_text("my own edits")
    r = gamtoy("course", str(dest), fake=False)
    assert "--force" in _one_clean_line(r) and nb.read_text() == "my own edits"  # untouched
    r = gamtoy("course", str(dest), "--force", fake=False)
    assert r.returncode == 0 and nb.read_bytes() == (ROOT / "notebooks" / nb.name).read_bytes()


def test_course_into_a_file_is_one_line(tmp_path):
    f = tmp_path / "a_file"
    f.write_text("x")
    assert "not a folder" in _one_clean_line(gamtoy("course", str(f), fake=False))


# a package that is not installed, as the import system sees it: its import raises
# ModuleNotFoundError (sys.modules[name] = None would also hide it from libraries such as scipy
# that look the name up in sys.modules, which a missing package never does)
_BLOCK = ("import importlib.abc, sys\n"
          "class _Missing(importlib.abc.MetaPathFinder):\n"
          "    def find_spec(self, name, path=None, target=None):\n"
          "        if name.split('.')[0] in {mods!r}:\n"
          "            raise ModuleNotFoundError(f'No module named {{name!r}}', name=name)\n"
          "sys.meta_path.insert(0, _Missing())\n")


@pytest.mark.parametrize("module, extra", [("ipywidgets", "notebooks"), ("torch", "torch"),
                                           ("jupyterlab", "notebooks"), ("voila", "notebooks")])
def test_a_missing_extra_is_one_line_naming_it(module, extra):
    """gamtoy.widgets / gamtoy.torch without their extra: the message names the pip command."""
    code = (_BLOCK.format(mods=(module,))
            + f"from gamtoy._extras import require\nrequire({module!r})")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env())
    last = r.stderr.strip().splitlines()[-1]
    assert r.returncode == 1 and last.endswith(f'pip install "gamtoy[{extra}]"'), r.stderr


def test_the_widgets_and_torch_packages_ask_for_their_extra():
    code = (_BLOCK.format(mods=("ipywidgets", "torch")) + "from gamtoy.widgets import explorer\n"
            "for f in (lambda: explorer(), lambda: __import__('gamtoy.torch')):\n"
            "    try: f()\n"
            "    except ModuleNotFoundError as e: print(e)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env())
    assert r.stdout.splitlines() == ['ipywidgets is not installed: pip install "gamtoy[notebooks]"',
                                     'torch is not installed: pip install "gamtoy[torch]"'], r
