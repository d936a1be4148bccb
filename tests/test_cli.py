"""`python -m gamtoy reproduce`: runs every job, reports the files, and skips nothing silently."""
import subprocess
import sys

import pytest

from gamtoy import cli


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
    for mod, fn in cli.JOBS:
        assert callable(getattr(importlib.import_module(mod), fn)), mod


def test_cli_rejects_unknown_command():
    r = subprocess.run([sys.executable, "-m", "gamtoy", "nonsense"], capture_output=True, text=True)
    assert r.returncode != 0 and "invalid choice" in r.stderr


@pytest.mark.parametrize("args", [["--help"], ["reproduce", "--help"]])
def test_cli_help(args):
    r = subprocess.run([sys.executable, "-m", "gamtoy", *args], capture_output=True, text=True)
    assert r.returncode == 0 and "usage" in r.stdout
