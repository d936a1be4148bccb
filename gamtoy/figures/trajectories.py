"""Landscape gallery, trajectories with ascent points, GSAM's decomposition, and basin grids.

    GSAM Fig. 2:  g = g_par + g_perp (projection of g on g_p);  d_GSAM = g_p - alpha g_perp
"""
import numpy as np

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
    arts = [plot_landscape(g, ax, colorbar=True) for g, ax in zip(data, axes, strict=False)]
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
        (out[f"{nm}:end"],) = ax.plot(*tr.final, **{**MARKERS["end"], "mfc": c,
                                                    "ms": 9 if top else 6},
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
    """GSAM Fig. 2 at one step of `name`'s run: w, w_adv and the vectors g, g_p, g_par, g_perp,
    d."""
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
             ("d", -1, COLORS["gsam"], "-(g_p - alpha g_perp) (GSAM)"),
             ("g_par", 1, "0.5", "g_par"),
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
