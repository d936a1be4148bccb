"""`python -m benchmarks`: its own options, names and --list, refused input in one line. (The
benchmarks themselves are timed by `make bench`, never in the tests.)"""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(*args):
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=120)


def test_list_prints_each_benchmark_with_its_whole_first_paragraph():
    r = _run("benchmarks", "--list")
    assert r.returncode == 0, r.stderr
    rows = dict(line.split(None, 1) for line in r.stdout.splitlines())
    assert list(rows)[:4] == ["core", "mlp", "torch", "widgets"]
    assert rows["torch"].rstrip().endswith("peak memory / SGD on the MLP.")  # not cut at a line


def test_help_and_refused_options_and_names():
    r = _run("benchmarks", "--help")
    assert r.returncode == 0 and "--threads N" in r.stdout
    for args, words in [(["--bogus"], "unknown option '--bogus'"),
                        (["--threads=2"], "unknown option '--threads=2'"),
                        (["nosuch"], "unknown benchmark 'nosuch'; valid: core, mlp, torch"),
                        (["--threads", "0"], "--threads needs a positive integer")]:
        r = _run("benchmarks", *args)
        assert r.returncode != 0 and words in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_a_benchmark_refuses_zero_rounds_before_any_work():
    r = _run("benchmarks.bench_core", "--rounds", "0")
    assert r.returncode == 2 and "--rounds must be >= 1, got 0" in r.stderr
