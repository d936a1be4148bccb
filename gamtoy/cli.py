"""`gamtoy reproduce --out figures/`: every figure the package makes + the lemma table.
(`gamtoy course DEST` writes the notebooks and the app that the package carries.)

Each job writes its files atomically; the command then writes `manifest.json` LAST (every file
with its size and SHA-256, the settings, the versions): a folder whose manifest is missing or says
`"complete": false` is incomplete (the run is going on, was interrupted or failed). A re-run into a
used folder replaces the files it writes, one by one, atomically, and lists them.
"""
import argparse
import datetime
import hashlib
import importlib.abc
import importlib.util
import json
import os
import platform
import sys
import tempfile
import time

from . import _io, jobs
from .jobs import UsageError

# processes that run the jobs side by side (None: min(2, CPUs)); 1: one after another, in order
WORKERS = None
MANIFEST = "manifest.json"
# the main job needs only the `demo` extra: these are never imported by it (`make demo` lacks them)
FORBIDDEN = ("torch", "ipywidgets")
VERSIONS_OF = ("numpy", "scipy", "autograd", "matplotlib", "sympy", "tqdm", "scikit-learn")


def check_out(out):
    """`out` expanded (~) and made, and proven writable by a test file; UsageError otherwise."""
    out = os.path.abspath(os.path.expanduser(os.fspath(out)))
    if os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"--out {out}: exists and is not a folder")
    try:
        os.makedirs(out, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".gamtoy-probe.", suffix=".tmp", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise UsageError(f"--out {out}: not a writable folder ({e.strerror or e})") from None
    return out


class _Forbid(importlib.abc.MetaPathFinder):
    """Refuses to import the packages the main job must not need (see FORBIDDEN)."""

    def __init__(self, names):
        self.names = tuple(names)

    def find_spec(self, name, path=None, target=None):
        del path, target  # the finder protocol's arguments; the name decides
        if name.split(".")[0] in self.names:
            raise ModuleNotFoundError(f"the main job must not import {name!r} (it is not in the "
                                      f"`demo` extra that `make demo` installs)", name=name)
        return None


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _versions():
    from importlib import metadata
    out = {"gamtoy": _gamtoy_version(), "python": platform.python_version()}
    for name in VERSIONS_OF:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _gamtoy_version():
    from . import __version__
    return __version__


def _now():
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def write_manifest(out, files, settings, status, started, jobs_done):
    """Write out/manifest.json atomically; `complete` is true only for status 'complete'."""
    entries = []
    for p in files:
        entries.append({"file": os.path.relpath(p, out), "size": os.path.getsize(p),
                        "sha256": _sha256(p)})
    m = {"complete": status == "complete", "status": status, "started": started,
         "finished": _now() if status != "running" else None, "settings": settings,
         "versions": _versions(), "jobs": jobs_done, "files": entries}
    return _io.write_text(os.path.join(out, MANIFEST), json.dumps(m, indent=1) + "\n")


def _progress(out, seen, log, t0):
    """The _io listener of a run: one line per file of `out` as it is written (every job writes
    through _io), each path appended to `seen`; the manifest is not listed."""
    def progress(path):
        path = os.path.abspath(path)
        if os.path.basename(path) != MANIFEST and os.path.commonpath([path, out]) == out:
            seen.append(path)
            log(f"[gamtoy]     {os.path.relpath(path, out)} ({time.time() - t0:.1f}s)",
                flush=True)
    return progress


def reproduce(out, quick=True, only=None, log=print, forbid=FORBIDDEN, workers=1):
    """Run the selected jobs into `out`; (the written paths, the names of older files in `out`
    that this run did not write). manifest.json is written last; UsageError for a bad `only` or
    `out`, before any work. workers > 1 (None: min(2, CPUs)): that many forked processes run the
    jobs side by side, the costliest first; the files are listed in the jobs' order either way."""
    todo = jobs.select(jobs.JOBS, only)
    out = check_out(out)
    workers = jobs.n_workers(workers, len(todo))
    settings = {"out": out, "quick": bool(quick), "only": list(only or []),
                "jobs": [j.name for j in todo], "workers": workers}
    started, t0 = _now(), time.time()
    stale = _io.remove_stale_temporaries(out)
    if stale:
        log(f"[gamtoy] removed {len(stale)} stale temporary file(s) from an interrupted run")
    before = {f for f in os.listdir(out) if f != MANIFEST}
    write_manifest(out, [], settings, "running", started, [])  # incomplete until the end
    written, done, status = [], [], "failed"
    guard = _Forbid(forbid) if forbid else None
    if guard:
        sys.meta_path.insert(0, guard)

    seen = []  # every file of `out` written through _io, in order (an SVG beside its PNG too)
    progress = _progress(out, seen, log, t0)
    _io.listeners.append(progress)
    per_job = {}
    try:
        jobs.run_all(todo, out, quick, seen, workers, log, t0, per_job, done)
        status = "complete"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        _io.listeners.remove(progress)
        if guard:
            sys.meta_path.remove(guard)
        _io.remove_stale_temporaries(out)
        for i in sorted(per_job):  # in the jobs' order, whichever finished first
            written += [p for p in per_job[i] if p not in written]
        write_manifest(out, written, settings, status, started, done)
    names = {os.path.relpath(p, out) for p in written}
    older = sorted(before - names - {f for f in before if f.startswith(".")})
    return written, older


def _parser():
    from . import __version__
    p = argparse.ArgumentParser(prog="gamtoy", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"gamtoy {__version__}")
    sub = p.add_subparsers(dest="cmd")
    r = sub.add_parser("reproduce", help="write every figure and the lemma table",
                       description=__doc__)
    r.add_argument("--out", default="figures", help="output folder (default: figures/)")
    r.add_argument("--full", action="store_true", help="the larger, slower experiments")
    names = ", ".join(j.name for j in jobs.JOBS)
    r.add_argument("--only", nargs="+", metavar="NAME", help=f"run only these jobs ({names})")
    r.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="processes that run the jobs side by side (default: min(2, CPUs); "
                        "1: one after another)")
    c = sub.add_parser("course", help="write the notebooks and the Voila app into a folder",
                       description="Write the notebooks (DEST/notebooks/) and the Voila app "
                       "(DEST/app/) that this installation of gamtoy carries into DEST.")
    c.add_argument("dest", metavar="DEST", help="the folder to write into (made if missing)")
    c.add_argument("--force", action="store_true", help="replace course files already in DEST")
    return p


def course(dest, force=False):
    """`gamtoy course DEST [--force]`: the exit status (2 and one line when refused)."""
    from . import _extras
    from . import course as _course
    try:
        paths = _course.write(dest, force=force)
    except (OSError, _course.CourseExists) as e:
        print(f"gamtoy course: error: {e}", file=sys.stderr)
        return 2
    for q in paths:
        print("  ", q)
    first = next(q for q in paths if q.parent.name == "notebooks")
    print(f"wrote {len(paths)} file(s); open the course with:  jupyter lab {first}")
    if importlib.util.find_spec("jupyterlab") is None or importlib.util.find_spec(
            "ipywidgets") is None:
        print(_extras.install_hint("jupyterlab"))
    return 0


def main(argv=None):
    p = _parser()
    a = p.parse_args(argv)
    if a.cmd is None:
        p.print_help()
        return 0
    if a.cmd == "course":
        return course(a.dest, force=a.force)
    t0 = time.time()
    try:
        paths, older = reproduce(a.out, quick=not a.full, only=a.only,
                                 workers=a.jobs if a.jobs is not None else WORKERS)
    except UsageError as e:
        print(f"gamtoy reproduce: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\ngamtoy reproduce: interrupted after {time.time() - t0:.1f}s; the files "
              f"finished so far are intact, and {os.path.join(a.out, MANIFEST)} says "
              f"\"complete\": false", file=sys.stderr)
        return 130
    out = os.path.abspath(os.path.expanduser(a.out))
    print(f"\nwrote {len(paths)} file(s) in {time.time() - t0:.1f}s to {out}:")
    for q in paths:
        print("  ", q)
    print(f"   {os.path.join(out, MANIFEST)} (sizes, SHA-256, settings, versions)")
    if older:
        print(f"{len(older)} older file(s) in {out} were not written by this run (not in the "
              f"manifest): {', '.join(older[:10])}{' ...' if len(older) > 10 else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
