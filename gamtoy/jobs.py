"""The main job (`python -m gamtoy reproduce`) as a list of jobs, and the loop that runs them.

A job is one record: its name, its `compute` step, its `draw` step and the files it writes. With
a draw step, `draw(compute(quick), out_dir)` returns the written paths; without one, compute is
`fn(out_dir, quick=True)` and writes its files itself. Steps are named "module:function" and
imported when the job runs (the command's import guard sees every import of a job).
The jobs run one after another, or side by side in forked processes, the costliest first.
"""
import dataclasses
import importlib
import os
import time


class UsageError(Exception):
    """A bad argument: reported as one line, exit status 2, before any work."""


@dataclasses.dataclass(frozen=True)
class Job:
    """One job of the main job. cost: about its CPU seconds in quick mode (the costliest start
    first, so that side-by-side processes finish together); files: the names it writes."""
    name: str
    compute: str
    draw: str | None = None
    files: tuple = ()
    cost: float = 1.0

    @property
    def modules(self):
        return [s.partition(":")[0] for s in (self.compute, self.draw) if s]

    def run(self, out, quick):
        """The job's reported paths: draw(compute(quick), out), or compute(out, quick=quick)."""
        compute = _step(self.compute)  # a missing step is a defect: fail
        if self.draw is None:
            return compute(out, quick=quick)
        return _step(self.draw)(compute(quick), out)


def _step(ref):
    mod, _, fn = ref.partition(":")
    return getattr(importlib.import_module(mod), fn)


JOBS = [
    Job("figures", "gamtoy.figures.jobs:compute_gam", "gamtoy.figures.jobs:draw_gam",
        ("gallery.*", "sam_step.*", "gam_fig1*", "gam_prop42.*"), cost=20),
    Job("lemmas", "gamtoy.lemmas:reproduce", files=("lemmas.md", "*.png", "*.svg"), cost=13),
    Job("mlp", "gamtoy.mlp.experiments:reproduce", files=("mlp_verdicts.md", "mlp_*"), cost=19),
    Job("basin_map", "gamtoy.figures.basin_map:reproduce", files=("basin_map.*",), cost=7),
    Job("ridge", "gamtoy.figures.jobs:compute_ridge", "gamtoy.figures.jobs:draw_ridge",
        ("ridge_trajectories.*", "ridge_basins.*", "ridge_neighbourhood.*"), cost=20),
]


def select(jobs, only):
    """The jobs `only` names (each word a job's name or a part of one of its modules), in the
    list's order, or UsageError."""
    if not only:
        return list(jobs)

    def named(j, o):
        return o == j.name or any(o in m for m in j.modules)
    # an empty word is a part of every module's name: it would select every job
    unknown = [o for o in only if not o.strip() or not any(named(j, o) for j in jobs)]
    if unknown:
        raise UsageError(f"--only: unknown job(s) {', '.join(map(repr, unknown))}; "
                         f"valid: {', '.join(j.name for j in jobs)}")
    return [j for j in jobs if any(named(j, o) for o in only)]


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


def run_one(job, out, quick, seen):
    """One job in this process: its paths (reported, then written through _io unreported, which
    `seen` collects), checked to exist."""
    del seen[:]
    paths = [os.path.abspath(p) for p in job.run(out, quick)]
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        raise RuntimeError(f"job {job.name} reported files it did not write: {missing}")
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
                paths = run_one(jobs[i], out, quick, seen)
            except Exception as e:
                done.put(("error", i, f"{type(e).__name__}: {e}\n{traceback.format_exc()}"))
                return
            done.put(("done", i, (paths, time.time() - t, _cpu() - c)))
    except KeyboardInterrupt:  # the parent reports the interruption
        pass


def _wait(jobs, procs, done, on_start, on_done):
    """Pass the workers' reports to on_start / on_done until every job is done."""
    import queue
    finished = 0
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
            raise RuntimeError(f"job {jobs[i].name} failed: {payload}")


def run_parallel(jobs, out, quick, seen, workers, on_start, on_done):
    """The jobs in `workers` forked processes, costliest first; on_start(i) and
    on_done(i, paths, seconds, cpu_seconds) are called here as they happen, in that order."""
    import multiprocessing as mp
    for job in jobs:  # imported once here, shared by the forked workers
        for mod in job.modules:
            importlib.import_module(mod)
    ctx = mp.get_context("fork")
    todo, done = ctx.Queue(), ctx.Queue()
    for i in sorted(range(len(jobs)), key=lambda i: -jobs[i].cost):
        todo.put(i)
    for _ in range(workers):
        todo.put(None)
    procs = [ctx.Process(target=_worker, args=(jobs, out, quick, seen, todo, done))
             for _ in range(workers)]
    for p in procs:
        p.start()
    ok = False
    try:
        _wait(jobs, procs, done, on_start, on_done)
        ok = True
    finally:
        for p in procs:
            if p.is_alive() and not ok:
                p.terminate()
            p.join()


def run_all(jobs, out, quick, seen, workers, log, t0, per_job, done):
    """Run the jobs one after another, or in `workers` processes side by side: per_job[i] gets
    job i's paths and `done` one timing record per finished job, a log line at each start and
    end."""
    def on_start(i):
        log(f"[gamtoy] {i + 1}/{len(jobs)} {jobs[i].name}: running ...", flush=True)

    def on_done(i, paths, seconds, cpu):
        per_job[i] = paths
        done.append({"job": jobs[i].name, "seconds": round(seconds, 2),
                     "cpu_seconds": round(cpu, 2), "files": len(paths)})
        log(f"[gamtoy] {i + 1}/{len(jobs)} {jobs[i].name}: {len(paths)} file(s) in "
            f"{seconds:.1f}s, {cpu:.1f} CPU s (total {time.time() - t0:.1f}s)", flush=True)
    if workers > 1:
        log(f"[gamtoy] {len(jobs)} jobs in {workers} processes side by side", flush=True)
        run_parallel(jobs, out, quick, seen, workers, on_start, on_done)
    else:
        for i, job in enumerate(jobs):
            on_start(i)
            t, c = time.time(), _cpu()
            on_done(i, run_one(job, out, quick, seen), time.time() - t, _cpu() - c)
