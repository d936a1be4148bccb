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
    ("figures", "gamtoy.figures", "reproduce_gam"),
    ("lemmas", "gamtoy.lemmas", "reproduce"),
    ("mlp", "gamtoy.mlp.experiments", "reproduce"),
    ("basin_map", "gamtoy.figures.basin_map", "reproduce"),
    ("ridge", "gamtoy.figures", "reproduce_ridge"),
]
# each job's relative cost (about its CPU seconds in quick mode): the costliest start first, so
# that the worker processes finish together
COST = {"figures": 20, "ridge": 20, "mlp": 19, "lemmas": 13, "basin_map": 7}
# processes that run the jobs side by side (None: min(2, CPUs)); 1: one after another, in order
WORKERS = None
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


def n_workers(workers, n_jobs):
    """How many processes run `n_jobs` jobs: `workers` (None: min(2, CPUs)), at most n_jobs,
    1 where fork is not available."""
    import multiprocessing as mp
    w = min(2, os.cpu_count() or 1) if workers is None else int(workers)
    if w < 1:
        raise UsageError(f"--jobs {workers}: must be at least 1")
    return max(1, min(w, n_jobs)) if "fork" in mp.get_all_start_methods() else 1


def _cpu():
    """CPU seconds of this process and its waited-for children (user + system)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _run_job(name, mod, fn, out, quick, seen):
    """One job in this process: its paths (reported, then written unreported), checked."""
    job = getattr(importlib.import_module(mod), fn)  # a missing job is a defect: fail
    del seen[:]
    paths = [os.path.abspath(p) for p in job(out, quick=quick)]
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        raise RuntimeError(f"job {name} reported files it did not write: {missing}")
    return [p for p in dict.fromkeys(paths + seen) if os.path.isfile(p)]


def _worker(jobs, out, quick, seen, todo, done):
    """A forked worker: runs the job indices it takes from `todo` until None; reports
    ("start" | "done" | "error", index, payload) on `done`."""
    import traceback
    try:
        for i in iter(todo.get, None):
            done.put(("start", i, None))
            t, c = time.time(), _cpu()
            try:
                paths = _run_job(*jobs[i], out, quick, seen)
            except Exception as e:
                done.put(("error", i, f"{type(e).__name__}: {e}\n{traceback.format_exc()}"))
                return
            done.put(("done", i, (paths, time.time() - t, _cpu() - c)))
    except KeyboardInterrupt:  # the parent reports the interruption
        pass


def _run_parallel(jobs, out, quick, seen, workers, on_start, on_done):
    """The jobs in `workers` forked processes, costliest first; on_start(i) and
    on_done(i, paths, seconds) are called here as they happen, in the order they happen."""
    import multiprocessing as mp
    import queue
    for _, mod, _ in jobs:  # imported once here, shared by the forked workers
        importlib.import_module(mod)
    ctx = mp.get_context("fork")
    todo, done = ctx.Queue(), ctx.Queue()
    for i in sorted(range(len(jobs)), key=lambda i: -COST.get(jobs[i][0], 1)):
        todo.put(i)
    for _ in range(workers):
        todo.put(None)
    procs = [ctx.Process(target=_worker, args=(jobs, out, quick, seen, todo, done))
             for _ in range(workers)]
    for p in procs:
        p.start()
    finished = 0
    try:
        while finished < len(jobs):
            try:
                kind, i, payload = done.get(timeout=1.0)
            except queue.Empty:
                if not any(p.is_alive() for p in procs):
                    raise RuntimeError("the job processes ended before their jobs did") from None
                continue
            if kind == "start":
                on_start(i)
            elif kind == "done":
                on_done(i, *payload)
                finished += 1
            else:
                raise RuntimeError(f"job {jobs[i][0]} failed: {payload}")
    finally:
        for p in procs:
            if p.is_alive() and finished < len(jobs):
                p.terminate()
            p.join()


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


def _run_all(jobs, out, quick, seen, workers, log, t0, per_job, done):
    """Run the jobs one after another, or in `workers` processes side by side: per_job[i] gets
    job i's paths and `done` one timing record per finished job, a log line at each start and
    end."""
    def on_start(i):
        log(f"[gamtoy] {i + 1}/{len(jobs)} {jobs[i][0]}: running ...", flush=True)

    def on_done(i, paths, seconds, cpu):
        per_job[i] = paths
        done.append({"job": jobs[i][0], "seconds": round(seconds, 2),
                     "cpu_seconds": round(cpu, 2), "files": len(paths)})
        log(f"[gamtoy] {i + 1}/{len(jobs)} {jobs[i][0]}: {len(paths)} file(s) in "
            f"{seconds:.1f}s, {cpu:.1f} CPU s (total {time.time() - t0:.1f}s)", flush=True)
    if workers > 1:
        log(f"[gamtoy] {len(jobs)} jobs in {workers} processes side by side", flush=True)
        _run_parallel(jobs, out, quick, seen, workers, on_start, on_done)
    else:
        for i, job in enumerate(jobs):
            on_start(i)
            t, c = time.time(), _cpu()
            on_done(i, _run_job(*job, out, quick, seen), time.time() - t, _cpu() - c)


def reproduce(out, quick=True, only=None, log=print, forbid=FORBIDDEN, workers=1):
    """Run the selected jobs into `out`; (the written paths, the names of older files in `out`
    that this run did not write). manifest.json is written last; UsageError for a bad `only` or
    `out`, before any work. workers > 1 (None: min(2, CPUs)): that many forked processes run the
    jobs side by side, the costliest first; the files are listed in the jobs' order either way."""
    jobs = select(only)
    out = check_out(out)
    workers = n_workers(workers, len(jobs))
    settings = {"out": out, "quick": bool(quick), "only": list(only or []),
                "jobs": [n for n, _, _ in jobs], "workers": workers}
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
        _run_all(jobs, out, quick, seen, workers, log, t0, per_job, done)
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
    names = ", ".join(n for n, _, _ in _job_list())
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
