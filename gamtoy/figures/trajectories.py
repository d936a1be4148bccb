"""Landscape gallery, trajectories with ascent points, GSAM's decomposition, and basin grids.

    GSAM Fig. 2:  g = g_par + g_perp (projection of g on g_p);  d_GSAM = g_p - alpha g_perp
"""
import numpy as np

from .. import flatness
from .. import landscapes as _landscapes
from ..run import run
from .common import COLORS, get_ax, landscape_grid, plot_landscape

# the ridge figure's optimizers and hyper-parameters (GSAM Fig. 3 plus GNP and the GAM family)
RIDGE_OPTIMIZERS = ("sgd", "sam", "gsam", "gnp", "gam", "gam_accel", "sam+gam")


def gallery_data(names=None, n=120):
    """A landscape grid for every built-in (or `names`)."""
    return [landscape_grid(nm, n) for nm in (names or _landscapes.names())]


def plot_gallery(data, axes=None):
    """One contour panel per landscape. Returns the list of plot_landscape artists."""
    if axes is None:
        import matplotlib.pyplot as plt
        cols = 4
        rows = -(-len(data) // cols)
        fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.6 * rows),
                                 gridspec_kw={"hspace": 0.45, "wspace": 0.35})
        axes = axes.ravel()
    arts = [plot_landscape(g, ax, colorbar=True) for g, ax in zip(data, axes)]
    for ax in list(axes)[len(data):]:
        ax.set_visible(False)
    return arts


def trajectory_data(landscape, start, optimizers=RIDGE_OPTIMIZERS, steps=300, hyper=None, n=150):
    """{"grid", "runs": {name: Trajectory with diagnostics}, "hyper"} from one start.

    `hyper` maps an optimizer name to its keywords (lr, rho, alpha, ...).
    """
    L = _landscapes.get(landscape)
    hyper = hyper or {}
    runs = {nm: run(nm, L, np.asarray(start, float), steps, diagnostics=True, **hyper.get(nm, {}))
            for nm in optimizers}
    return {"grid": landscape_grid(L, n), "runs": runs, "hyper": hyper, "landscape": L.name}


# one line style per optimizer (with COLORS): trajectories stay distinguishable where they overlap
from .style import OPTIMIZER_LINESTYLES as LINESTYLES  # noqa: E402
LINEWIDTHS = {"gsam": 2.6, "sgd": 2.0}


def plot_trajectories(data, ax=None, ascent=True, every=10, grid=None, legend=True):
    """Each trajectory as a line (COLORS, LINESTYLES), its start and end marked (style.MARKERS);
    w_adv (.) and theta_adv (x) every `every` steps.

    Returns {name: Line2D} plus {name + ":w_adv" / ":theta_adv" / ":end": Line2D}, "start".
    """
    from .style import MARKERS
    ax = get_ax(ax)
    plot_landscape(grid or data["grid"], ax)
    out = {}
    for nm, tr in data["runs"].items():
        c = COLORS.get(nm, "k")
        (out[nm],) = ax.plot(tr.points[:, 0], tr.points[:, 1], ls=LINESTYLES.get(nm, "-"), color=c,
                             lw=LINEWIDTHS.get(nm, 1.6), label=nm)
        top = nm in ("sgd", "sam", "gsam")  # the paper's three on top where ends coincide
        (out[f"{nm}:end"],) = ax.plot(*tr.final, **{**MARKERS["end"], "mfc": c, "ms": 9 if top else 6},
                                      zorder=6 if top else 5)
        if not ascent:
            continue
        for key, mk in (("w_adv", "w_adv"), ("theta_adv", "theta_adv")):
            if key in tr.info:
                P = tr.info[key][::every]
                (out[f"{nm}:{key}"],) = ax.plot(P[:, 0], P[:, 1], color=c, alpha=0.7, **MARKERS[mk])
    first = next(iter(data["runs"].values()))
    (out["start"],) = ax.plot(*first.points[0], **MARKERS["start"])
    if legend:
        ax.legend(fontsize=8, loc="lower right")
    return out


def decomposition_data(data, step=20, name="gsam"):
    """GSAM Fig. 2 at one step of `name`'s run: w, w_adv and the vectors g, g_p, g_par, g_perp, d."""
    tr = data["runs"][name]
    alpha = data["hyper"].get(name, {}).get("alpha", 0.3)
    v = {k: np.asarray(tr.info[k][step], float) for k in ("g", "g_p", "g_par", "g_perp", "w_adv")}
    v["d"] = v["g_p"] - alpha * v["g_perp"]
    v["w"], v["step"], v["alpha"] = tr.points[step], step, alpha
    return v


def plot_decomposition(v, ax=None, scale=None):
    """Arrows from w: -g, -g_p, -d_GSAM and the parts g_par, g_perp (true lengths x scale)."""
    ax = get_ax(ax)
    n = max(np.linalg.norm(v[k]) for k in ("g", "g_p", "d"))
    scale = scale or 0.5 / max(n, 1e-12)
    arrows = {}
    specs = (("g", -1, COLORS["sgd"], "-g (SGD)"), ("g_p", -1, COLORS["sam"], "-g_p (SAM)"),
             ("d", -1, COLORS["gsam"], "-(g_p - alpha g_perp) (GSAM)"), ("g_par", 1, "0.5", "g_par"),
             ("g_perp", 1, "k", "g_perp"))
    for k, sgn, c, lab in specs:
        u = sgn * scale * v[k]
        arrows[k] = ax.quiver(*v["w"], *u, angles="xy", scale_units="xy", scale=1, color=c,
                              width=0.006, label=lab)
    ax.plot(*v["w"], "ko", ms=4)
    ax.plot(*v["w_adv"], "o", color=COLORS["sam"], ms=4)
    r = 0.6
    ax.set_xlim(v["w"][0] - r, v["w"][0] + r)
    ax.set_ylim(v["w"][1] - r, v["w"][1] + r)
    ax.set_aspect("equal", adjustable="box")
    ax.legend(fontsize=6, loc="upper left")
    ax.set_title(f"GSAM decomposition at step {v['step']} (alpha={v['alpha']:g})", fontsize=9)
    return arrows


def basin_of(landscape, points, radius=0.35):
    """Index of the landscape's nearest known minimum within `radius` (-1: none)."""
    M = _landscapes.get(landscape).minima
    d = np.sqrt(((np.asarray(points)[..., None, :] - M) ** 2).sum(-1))
    return np.where(d.min(-1) < radius, np.argmin(d, -1), -1)


def basin_grid_data(landscape, optimizers=RIDGE_OPTIMIZERS, n=20, steps=400, hyper=None,
                    bounds=None, rho_measure=None):
    """Runs from an n x n grid of starts (vectorised) and, per optimizer, where each ends.

    `minima[0]` is the flat basin. Per optimizer: the basin index per start, the fraction ending
    in the flat basin, median final lambda_max, R1 and surrogate gap h (at radius rho_measure).
    """
    L = _landscapes.get(landscape)
    hyper = hyper or {}
    (x0, x1), (y0, y1) = bounds or L.bounds
    X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    S = np.stack([X, Y], -1)
    rho_m = rho_measure or 0.1
    out = {"landscape": L.name, "X": X, "Y": Y, "rho_measure": rho_m, "per": {}}
    for nm in optimizers:
        tr = run(nm, L, S, steps, **hyper.get(nm, {}))
        fin = tr.final
        b = basin_of(L, fin)
        out["per"][nm] = {"basin": b, "final": fin, "flat": float(np.mean(b == 0)),
                          "diverged": float(np.mean(tr.diverged)),
                          "lambda_max": float(np.mean(flatness.lambda_max(L, fin))),
                          "R1": float(np.mean(flatness.r1(L, fin, rho_m))),
                          "h": float(np.mean(flatness.surrogate_gap(L, fin, rho_m)))}
    return out


def basin_table_markdown(data):
    """The basin grid summary as a markdown table."""
    rows = ["| optimizer | flat basin | diverged | mean lambda_max | mean R1 | mean h |",
            "|---|---|---|---|---|---|"]
    for nm, d in data["per"].items():
        rows.append(f"| {nm} | {d['flat']:.2f} | {d['diverged']:.2f} | {d['lambda_max']:.3g} | "
                    f"{d['R1']:.3g} | {d['h']:.3g} |")
    n = data["X"].size
    rows.append(f"\n{n} starts on a grid over the upstream part of the valley; R1 and h at rho = "
                f"{data['rho_measure']:g}.")
    return "\n".join(rows)


def plot_basin_map(data, axes=None):
    """Per optimizer: each start coloured by the basin it ends in (0 = flat). Returns the meshes."""
    per = data["per"]
    if axes is None:
        import matplotlib.pyplot as plt
        cols = 4
        rows = -(-len(per) // cols)
        axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.6 * rows))[1].ravel()
    L = _landscapes.get(data["landscape"])
    k = len(L.minima)
    out = []
    for ax, (nm, d) in zip(axes, per.items()):
        q = ax.pcolormesh(data["X"], data["Y"], d["basin"], vmin=-1, vmax=k - 1, cmap="tab10",
                          shading="auto")
        ax.set_title(f"{nm}: flat {d['flat']:.0%}", fontsize=9)
        ax.set_xlabel("start x", fontsize=8)
        ax.set_ylabel("start y", fontsize=8)
        out.append(q)
    spare = list(axes)[len(per):]
    for ax in spare:
        ax.set_visible(False)
    # a legend: which colour is which end (the map shows starts, coloured by where they end)
    from matplotlib.patches import Patch
    cmap = out[0].get_cmap() if out else None
    if cmap is not None:
        labels = ["none of the known minima", "flat basin"] + [f"sharp well {i}" for i in range(1, k)]
        handles = [Patch(color=cmap(out[0].norm(i - 1)), label=lab) for i, lab in enumerate(labels)]
        host = spare[0] if spare else list(axes)[0]
        host.set_visible(True)
        if spare:
            host.axis("off")
        host.legend(handles=handles, loc="center", fontsize=8, title="run ends in")
    return out
