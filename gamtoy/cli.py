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
import importlib
import importlib.abc
import importlib.util
import json
import os
import platform
import sys
import tempfile
import time

from . import _io

# (name, module, function): each `fn(out_dir, quick=True) -> list of written paths`
JOBS = [
    ("figures", "gamtoy.figures", "reproduce"),
    ("lemmas", "gamtoy.lemmas", "reproduce"),
    ("mlp", "gamtoy.mlp.experiments", "reproduce"),
    ("basin_map", "gamtoy.figures.basin_map", "reproduce"),
]
MANIFEST = "manifest.json"
# the main job needs only the `demo` extra: these are never imported by it (`make demo` lacks them)
FORBIDDEN = ("torch", "ipywidgets")
VERSIONS_OF = ("numpy", "scipy", "autograd", "matplotlib", "sympy", "tqdm", "scikit-learn")


class UsageError(Exception):
    """A bad argument: reported as one line, exit status 2, before any work."""


def _job_list():
    """JOBS as (name, module, function) triples (a two-element (module, function) is named by
    its module)."""
    return [j if len(j) == 3 else (j[0], j[0], j[1]) for j in JOBS]


def select(only):
    """The jobs `--only` names (each word a job's name or a part of its module), or UsageError."""
    jobs = _job_list()
    if not only:
        return jobs
    valid = [n for n, _, _ in jobs]
    # an empty word is a part of every module's name: it would select every job
    unknown = [o for o in only if not o.strip() or not any(o == n or o in m for n, m, _ in jobs)]
    if unknown:
        raise UsageError(f"--only: unknown job(s) {', '.join(map(repr, unknown))}; "
                         f"valid: {', '.join(valid)}")
    return [j for j in jobs if any(o == j[0] or o in j[1] for o in only)]


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
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


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


def read_manifest(out):
    """The manifest of a folder as a dict, or None if it has none (or an unreadable one)."""
    try:
        with open(os.path.join(out, MANIFEST)) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def reproduce(out, quick=True, only=None, log=print, forbid=FORBIDDEN):
    """Run the selected jobs into `out`; (the written paths, the names of older files in `out`
    that this run did not write). manifest.json is written last; UsageError for a bad `only` or
    `out`, before any work."""
    jobs = select(only)
    out = check_out(out)
    settings = {"out": out, "quick": bool(quick), "only": list(only or []),
                "jobs": [n for n, _, _ in jobs]}
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

    def progress(path):  # one line per file, as it is written (every job writes through _io)
        path = os.path.abspath(path)
        if os.path.basename(path) != MANIFEST and os.path.commonpath([path, out]) == out:
            seen.append(path)
            log(f"[gamtoy]     {os.path.relpath(path, out)} ({time.time() - t0:.1f}s)",
                flush=True)
    _io.listeners.append(progress)
    try:
        for i, (name, mod, fn) in enumerate(jobs, 1):
            t = time.time()
            log(f"[gamtoy] {i}/{len(jobs)} {name}: running ...", flush=True)
            job = getattr(importlib.import_module(mod), fn)  # a missing job is a defect: fail
            del seen[:]
            paths = [os.path.abspath(p) for p in job(out, quick=quick)]
            missing = [p for p in paths if not os.path.isfile(p)]
            if missing:
                raise RuntimeError(f"job {name} reported files it did not write: {missing}")
            # what the job reported, and what it wrote without reporting it
            paths = [p for p in dict.fromkeys(paths + seen) if os.path.isfile(p)]
            written += [p for p in paths if p not in written]
            done.append({"job": name, "seconds": round(time.time() - t, 2), "files": len(paths)})
            log(f"[gamtoy] {i}/{len(jobs)} {name}: {len(paths)} file(s) in "
                f"{time.time() - t:.1f}s (total {time.time() - t0:.1f}s)", flush=True)
        status = "complete"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        _io.listeners.remove(progress)
        if guard:
            sys.meta_path.remove(guard)
        _io.remove_stale_temporaries(out)
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
    names = ", ".join(n for n, _, _ in _job_list())
    r.add_argument("--only", nargs="+", metavar="NAME", help=f"run only these jobs ({names})")
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
        paths, older = reproduce(a.out, quick=not a.full, only=a.only)
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
