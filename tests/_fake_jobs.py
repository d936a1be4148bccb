"""Fake jobs for the main job's CLI tests, run in real subprocesses (`python -m gamtoy` with
jobs.JOBS swapped): fast, and able to stall in the middle of a file so a test can interrupt them.

FAKE_FILES="a.txt,b.txt" (what `first` writes), FAKE_STALL="b.txt" (sleep halfway through that
file's atomic write), FAKE_IMPORT="torch" (import that module first).
"""
import os
import sys
import time

from gamtoy import _io


def content(name):
    return (f"contents of {name}\n" * 2000).encode()


def first(out, quick=True):
    if os.environ.get("FAKE_IMPORT"):
        __import__(os.environ["FAKE_IMPORT"])
    paths = []
    for name in filter(None, os.environ.get("FAKE_FILES", "a.txt,b.txt").split(",")):
        p = os.path.join(out, name)
        data = content(name)
        with _io.atomic_open(p, "wb") as fh:
            fh.write(data[: len(data) // 2])
            if name == os.environ.get("FAKE_STALL"):
                print(f"STALLING {name}", flush=True)
                time.sleep(60)
            fh.write(data[len(data) // 2:])
        print(f"WROTE {name}", flush=True)
        paths.append(p)
    return paths


def second(out, quick=True):
    p = os.path.join(out, "quick.txt" if quick else "full.txt")
    _io.write_text(p, "quick" if quick else "full")
    # written but not reported (as a figure's SVG beside its PNG): the manifest must list it too
    _io.write_text(os.path.join(out, "side.txt"), "side")
    return [p]


def main():
    from gamtoy import cli, jobs
    jobs.JOBS = [jobs.Job("first", "_fake_jobs:first", files=("a.txt", "b.txt")),
                 jobs.Job("second", "_fake_jobs:second", files=("quick.txt", "full.txt"))]
    cli.WORKERS = int(os.environ.get("FAKE_WORKERS", "1"))  # one after another unless asked
    return cli.main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
