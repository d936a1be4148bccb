"""`python -m gamtoy reproduce --out figures/`: every figure the package makes + the lemma table."""
import argparse
import importlib
import os
import sys
import time

# (module, function): each `fn(out_dir, quick=True) -> list of written paths`
JOBS = [
    ("gamtoy.figures", "reproduce"),
    ("gamtoy.lemmas", "reproduce"),
    ("gamtoy.mlp.experiments", "reproduce"),
    ("gamtoy.figures.basin_map", "reproduce"),
]


def reproduce(out, quick=True, only=None):
    os.makedirs(out, exist_ok=True)
    written = []
    for mod, fn in JOBS:
        if only and not any(o in mod for o in only):
            continue
        t = time.time()
        job = getattr(importlib.import_module(mod), fn)  # a missing job is a defect: fail loudly
        paths = job(out, quick=quick)
        written += list(paths)
        print(f"[gamtoy] {mod}: {len(paths)} file(s) in {time.time() - t:.1f}s")
    return written


def main(argv=None):
    p = argparse.ArgumentParser(prog="gamtoy", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("reproduce", help="write every figure and the lemma table")
    r.add_argument("--out", default="figures", help="output folder (default: figures/)")
    r.add_argument("--full", action="store_true", help="the larger, slower experiments")
    r.add_argument("--only", nargs="*", help="run only jobs whose module contains these words")
    a = p.parse_args(argv)
    paths = reproduce(a.out, quick=not a.full, only=a.only)
    print(f"\nwrote {len(paths)} file(s) to {os.path.abspath(a.out)}:")
    for q in paths:
        print("  ", q)
    return 0


if __name__ == "__main__":
    sys.exit(main())
