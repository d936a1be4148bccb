"""Run every benchmark (or those named), each in its own process with pinned threads.

    python -m benchmarks [NAME ...] [--threads N] [--strict] [--list]

NAME is a module benchmarks/bench_NAME.py (found on disk: core, mlp, torch, widgets, ... in
that order, then any other alphabetically). Each runs as a fresh Python process whose
OMP/MKL/OPENBLAS_NUM_THREADS (and torch's threads) are set to N (default 1) before it imports
anything numerical, so one benchmark cannot change another's thread pools. `--strict` exits
non-zero when a benchmark reports a ratio `over target` (by returning a non-zero int).

A benchmark module needs: a docstring (its first paragraph is printed by --list), and
`main(argv=None)` that parses its own arguments from `argv`, prints its table (each ratio with
its spread over interleaved rounds and a verdict, see benchmarks/_harness.py) and returns an int
(0: nothing over target; 1: something over target) or anything else (taken as 0). Optional:
`REQUIRES = ("torch",)`, modules whose absence skips it.
"""
import glob
import importlib.util
import os
import subprocess
import sys
import time

from . import _harness

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FIRST = ["core", "mlp", "torch", "widgets"]


def available():
    """Benchmark names found as benchmarks/bench_*.py, the usual ones first."""
    found = sorted(os.path.basename(p)[len("bench_"):-3]
                   for p in glob.glob(os.path.join(HERE, "bench_*.py")))
    return [n for n in FIRST if n in found] + [n for n in found if n not in FIRST]


def _header(path):
    """The module's docstring and REQUIRES, read without importing it (no numpy here)."""
    import ast
    with open(path, encoding="utf-8") as fh:
        tree = ast.parse(fh.read())
    doc = (ast.get_docstring(tree) or "").strip().splitlines()
    requires = ()
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "REQUIRES"
                                                for t in node.targets):
            requires = tuple(ast.literal_eval(node.value))
    first = []  # the first paragraph, however many lines it takes
    for line in doc:
        if not line.strip():
            break
        first.append(line.strip())
    return " ".join(first), requires


def main(argv=None):
    args = list(sys.argv[1:] if argv is None else argv)
    threads, strict = 1, False
    if "--threads" in args:
        i = args.index("--threads")
        try:
            threads = int(args[i + 1])
            assert threads >= 1
        except (IndexError, ValueError, AssertionError):
            sys.exit("--threads needs a positive integer, e.g. --threads 1")
        del args[i:i + 2]
    if "--strict" in args:
        strict = True
        args.remove("--strict")
    names = available()
    if "-h" in args or "--help" in args:
        print(__doc__.strip())
        return 0
    flags = [a for a in args if a.startswith("-") and a != "--list"]
    if flags:
        sys.exit(f"unknown option {flags[0]!r}; options: --threads N, --strict, --list, --help "
                 f"(a benchmark's own options: python -m benchmarks.bench_NAME --help)")
    if "--list" in args:
        for n in names:
            print(f"{n:<10} {_header(os.path.join(HERE, f'bench_{n}.py'))[0]}")
        return 0
    which = args or names
    for n in which:
        if n not in names:
            sys.exit(f"unknown benchmark {n!r}; valid: {', '.join(names)}")
    env = _harness.thread_env(threads)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    print(f"python -m benchmarks {' '.join(which)}: each in a fresh process, "
          f"OMP/MKL/OPENBLAS_NUM_THREADS={threads}, torch threads {threads}; "
          f"{os.cpu_count()} CPUs, load average {_load()}")
    failed, over = [], []
    for n in which:
        _, requires = _header(os.path.join(HERE, f"bench_{n}.py"))
        missing = [m for m in requires if importlib.util.find_spec(m) is None]
        if missing:
            print(f"\n== {n}: skipped (needs {', '.join(missing)})")
            continue
        print(f"\n== {n}", flush=True)
        t0 = time.time()
        code = ("import sys; from benchmarks import _harness; "
                f"sys.exit(_harness.run_module({n!r}, []))")
        rc = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT).returncode
        print(f"== {n}: {time.time() - t0:.0f} s", flush=True)
        if rc == 1:
            over.append(n)
        elif rc:
            failed.append(n)
    print(f"\nload average at the end {_load()}")
    if over:
        print(f"over target in: {', '.join(over)}")
    if failed:
        print(f"FAILED to run: {', '.join(failed)}")
        return 2
    return 1 if (strict and over) else 0


def _load():
    try:
        return ", ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


if __name__ == "__main__":
    sys.exit(main())
