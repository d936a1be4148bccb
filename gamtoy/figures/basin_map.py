"""Basin map of every optimizer on `ridge`: each start of an n x n grid (300 x 300 = 90,000 in
full mode) coloured by the minimum its run ends in.

The optimizers, their hyper-parameters and the number of steps are the ridge figure's
(`gamtoy.figures.ridge.RIDGE_HYPER`, `RIDGE_STEPS`, read when called); each end point is
labelled by its own gradient and Hessian (`gamtoy.outcomes.classify`: minimum i (minima[0] the
flat basin, the others the sharp wells), a saddle, still moving, or diverged). Each
optimizer is one `gamtoy.run` over all starts, keeping only the first and last points
(`record_every=steps`).
"""
import os
import time

import numpy as np

from .. import landscapes as _landscapes
from ..outcomes import Outcome, classify
from ..run import run

DIVERGED = int(Outcome.DIVERGED)  # the outcome codes: gamtoy.outcomes.Outcome
LOWEST = min(int(c) for c in Outcome)


def _settings():
    """(optimizers, hyper, steps) of the ridge figure, read now (they are tuned elsewhere)."""
    from . import ridge, trajectories
    hyper = ridge.RIDGE_HYPER
    optimizers = tuple(getattr(trajectories, "RIDGE_OPTIMIZERS", tuple(hyper)))
    return optimizers, hyper, int(ridge.RIDGE_STEPS)


_JOB = {}  # the job of forked workers (hyper-parameters may hold schedules: not picklable)


def _basins(nm):
    """(basin codes, seconds) of optimizer `nm` on the job in _JOB."""
    L, S, steps, hyper = _JOB["L"], _JOB["S"], _JOB["steps"], _JOB["hyper"]
    t = time.perf_counter()
    tr = run(nm, L, S, steps, record_every=max(steps, 1), **hyper.get(nm, {}))
    b = classify(L, tr.final, tr.diverged).code.reshape(tr.diverged.shape)
    return b, time.perf_counter() - t


def basin_map_data(n=300, bounds=None, steps=None, optimizers=None, hyper=None,
                   landscape="ridge", workers=None):
    """{"X", "Y" (n, n) start grid, "per": {name: {"basin" (n, n) int, "flat", "diverged",
    "fractions" {code: share}, "seconds"}}, "steps", "seconds", "landscape", "bounds"}.

    Defaults: the landscape's plotting bounds, and the ridge figure's optimizers, hyper and steps.
    `workers` (default: min(2, CPUs)) processes run the optimizers side by side (forked; each
    optimizer's numbers are the same as in one process); 1: all in this process.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an integer >= 2 (an n x n grid of starts), got {n!r}")
    d_opt, d_hyper, d_steps = _settings()
    optimizers = tuple(optimizers or d_opt)
    hyper = d_hyper if hyper is None else hyper
    steps = d_steps if steps is None else int(steps)
    L = _landscapes.get(landscape)
    (x0, x1), (y0, y1) = bounds or L.bounds
    X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    S = np.stack([X, Y], -1)
    out = {"landscape": L.name, "X": X, "Y": Y, "steps": steps, "bounds": ((x0, x1), (y0, y1)),
           "minima": L.minima, "per": {}}
    t_all = time.perf_counter()
    _JOB.update(L=L, S=S, steps=steps, hyper=hyper)
    workers = min(2, os.cpu_count() or 1) if workers is None else int(workers)
    try:
        results = _map(optimizers, workers)
    finally:
        _JOB.clear()
    for nm, (b, seconds) in zip(optimizers, results, strict=True):
        codes, counts = np.unique(b, return_counts=True)
        out["per"][nm] = {"basin": b, "flat": float(np.mean(b == 0)),
                          "diverged": float(np.mean(b == DIVERGED)),
                          "fractions": {int(c): k / b.size for c, k in zip(codes, counts,
                                                                           strict=True)},
                          "seconds": seconds}
    out["seconds"] = time.perf_counter() - t_all
    return out


def _map(optimizers, workers):
    import multiprocessing as mp
    if workers > 1 and len(optimizers) > 1 and "fork" in mp.get_all_start_methods():
        # the costliest first (GAM family: 4-5 gradients per step), so the two queues end together
        order = sorted(range(len(optimizers)), key=lambda i: -_cost(optimizers[i]))
        with mp.get_context("fork").Pool(workers) as pool:
            res = pool.map(_basins, [optimizers[i] for i in order], chunksize=1)
        out = [None] * len(optimizers)
        for i, r in zip(order, res, strict=True):
            out[i] = r
        return out
    return [_basins(nm) for nm in optimizers]


def _cost(nm):
    from ..optim import COST
    return COST.get(nm, 1)


def _labels(k, names=None):
    names = names or ["flat basin"] + [f"sharp well {i}" for i in range(1, k)]
    return {int(Outcome.OTHER_CRITICAL): "another critical point", int(Outcome.SADDLE): "a saddle",
            DIVERGED: "diverged", int(Outcome.MOVING): "still moving",
            **{i: names[i] for i in range(k)}}


def _colours(k):
    import matplotlib.colors as mcolors
    base = {int(Outcome.OTHER_CRITICAL): "#00bbf9", int(Outcome.SADDLE): "#ffd60a",
            DIVERGED: "0.15",
            int(Outcome.MOVING): "0.82", 0: "#2a9d8f"}
    wells = ["#e76f51", "#f4a261", "#9b5de5", "#f15bb5", "#6a994e", "#bc6c25"]
    cols = [base[c] for c in range(LOWEST, 1)] + [wells[(i - 1) % len(wells)] for i in range(1, k)]
    return mcolors.ListedColormap(cols), LOWEST  # code c -> colour index c - LOWEST


def plot_basin_map_grid(data, axes=None, contours=True):
    """One panel per optimizer: each start coloured by where its run ends; the known minima as
    MARKERS["minimum"]; a legend panel. Returns {name: AxesImage}."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from .style import MARKERS
    per = data["per"]
    k = len(data["minima"])
    cmap, offset = _colours(k)
    if axes is None:
        cols = 4
        rows = -(-(len(per) + 1) // cols)
        fig, axes = plt.subplots(rows, cols, figsize=(4.4 * cols, 3.7 * rows), squeeze=False,
                                 gridspec_kw={"hspace": 0.42, "wspace": 0.28})
        axes = axes.ravel()
    (x0, x1), (y0, y1) = data["bounds"]
    grid = None
    if contours:
        L = _landscapes.get(data["landscape"])
        grid = L.grid(120, data["bounds"])
    images = {}
    for ax, (nm, d) in zip(axes, per.items(), strict=False):
        images[nm] = ax.imshow(d["basin"] - offset, origin="lower", extent=(x0, x1, y0, y1),
                               cmap=cmap, vmin=-0.5, vmax=cmap.N - 0.5, interpolation="nearest",
                               aspect="auto")
        if grid is not None:
            ax.contour(*grid, levels=14, colors="k", linewidths=0.4, alpha=0.35)
        ax.plot(data["minima"][:, 0], data["minima"][:, 1], **MARKERS["minimum"])
        ax.set_title(f"{nm}: flat {d['flat']:.0%}, diverged {d['diverged']:.0%}", fontsize=10)
        ax.set_xlabel("start x")
        ax.set_ylabel("start y")
    spare = list(axes)[len(per):]
    for ax in spare:
        ax.axis("off")
    labels = _labels(k, _landscapes.get(data["landscape"]).minimum_names)
    handles = [Patch(color=cmap(c - offset), label=labels[c]) for c in sorted(labels)]
    host = spare[0] if spare else axes[0]
    n = data["X"].shape[0]
    host.legend(handles=handles, loc="center", fontsize=9,
                title=f"the run ends at\n({n} x {n} starts, {data['steps']} steps;\n"
                      "by the end point's own\ngradient and Hessian)")
    return images


def reproduce(out_dir, quick=True):
    """Write basin_map.png / .svg (64 x 64 starts in quick mode, 300 x 300 in full mode)."""
    import matplotlib
    if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "cairo"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import style
    n = 64 if quick else 300
    data = basin_map_data(n=n)
    with style.context():
        plot_basin_map_grid(data)
        fig = plt.gcf()
        fig.suptitle(f"Where each start ends on {data['landscape']}: {n} x {n} starts per "
                     f"optimizer, {data['steps']} steps ({data['seconds']:.0f} s in all)", y=1.0)
        paths = style.save(fig, out_dir, "basin_map")
    print(f"[gamtoy] basin map {n} x {n} x {len(data['per'])} optimizers x {data['steps']} steps: "
          f"{data['seconds']:.1f} s (" + ", ".join(f"{k} {v['seconds']:.1f}"
                                           for k, v in data["per"].items()) + ")")
    return paths
