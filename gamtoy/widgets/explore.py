"""The trajectory explorer: optimizers from one start on a landscape, redrawn live.

    fig, data = render(ExplorerState(landscape="ridge", lr=0.05, rho=0.2))
    data["readout"]["gsam"]   # {"R0", "R1", "h", "lambda_max"} at GSAM's end (exact, radius rho)
    w = explorer(landscape="ridge"); w.controls["lr"].value = 0.02; w.last["ends"]

`render` is pure in its inputs (state -> figure + data); passing the previous `fig` back reuses its
axes and contour and only updates line data (the contour grid is cached per landscape).
"""
import functools
import time
from dataclasses import dataclass

import numpy as np

from .. import flatness as F
from .. import landscapes as _landscapes
from .. import optim as _optim
from ..figures.common import COLORS, landscape_grid, plot_landscape
from ..figures.ridge import RIDGE_OWN, RIDGE_START
from ..run import run
from . import canvas

DEFAULT_OPTIMIZERS = ("sgd", "sam", "gnp", "gsam", "gam", "gam_accel")
BASES = ("default", "sgd", "momentum", "adam")
ASCENT_MARKS = 30  # about this many ascent points per trajectory


@dataclass(frozen=True)
class ExplorerState:
    """Everything the explorer shows. `rho` goes to optimizers that take rho and is the readout's
    radius; `alpha` to those that take alpha (clipped to 1 for gam_accel, GAM Eq. 44); `base`
    'default' keeps each optimizer's own base (see gamtoy.optim.DEFAULTS)."""

    landscape: str = "ridge"
    optimizers: tuple = DEFAULT_OPTIMIZERS
    lr: float = 0.05
    rho: float = 0.2
    alpha: float = 0.3
    steps: int = 300
    start_x: float = RIDGE_START[0]
    start_y: float = RIDGE_START[1]
    base: str = "default"


def hyper(state, name):
    """The keywords `name` gets from `state`: lr always; rho, alpha and base where they apply."""
    own = _optim.DEFAULTS[name][0]
    kw = {"lr": float(state.lr)}
    kw.update({k: v for k, v in RIDGE_OWN.get(name, {}).items() if k != "alpha"})  # as the figure
    if "rho" in own:
        kw["rho"] = float(state.rho)
    if "alpha" in own:
        kw["alpha"] = min(float(state.alpha), 1.0) if name == "gam_accel" else float(state.alpha)
    if state.base != "default":
        kw["base"] = state.base
    return kw


def default_start(landscape):
    """The ridge figure's start on `ridge`; elsewhere a corner-ish point of the plotting box."""
    L = _landscapes.get(landscape)
    if L.name == "ridge":
        return RIDGE_START
    (x0, x1), (y0, y1) = L.bounds
    return (x0 + 0.2 * (x1 - x0), y0 + 0.8 * (y1 - y0))


@functools.lru_cache(maxsize=16)
def _grid(name, n=120):
    return landscape_grid(name, n)


def readout(landscape, points, rho):
    """Exact R0, R1, first-order h and lambda_max at `points` (k, 2), radius rho: dict of (k,)."""
    P = np.asarray(points, float).reshape(-1, 2)
    if len(P) == 0:
        return {k: np.zeros(0) for k in ("R0", "R1", "h", "lambda_max")}
    with np.errstate(all="ignore"):
        return {"R0": F.r0(landscape, P, rho), "R1": F.r1(landscape, P, rho),
                "h": F.surrogate_gap(landscape, P, rho), "lambda_max": F.lambda_max(landscape, P)}


def readout_table(data):
    """The readout as fixed-width text (one row per optimizer; * marks a diverged run)."""
    rows = [f"R0, R1, h, lambda_max at the end points (rho={data['state'].rho:g})",
            f"{'':10s}{'R0':>9s}{'R1':>9s}{'h':>9s}{'lam_max':>9s}"]
    for nm, r in data["readout"].items():
        flag = "*" if data["diverged"][nm] else " "
        cells = "".join(f"{r[k]:9.3g}" for k in ("R0", "R1", "h", "lambda_max"))
        rows.append(f"{nm + flag:10s}" + cells)
    return "\n".join(rows)


def _build(fig, L, text):
    """Clear `fig` and draw the static part for landscape L; returns the artist dict."""
    fig.clear()
    canvas.invalidate(fig, forget=True)
    ax = fig.add_axes([0.06, 0.1, 0.52, 0.82] if text else [0.08, 0.1, 0.88, 0.82])
    plot_landscape(_grid(L.name), ax)
    (x0, x1), (y0, y1) = L.bounds
    ax.set_xlim(x0, x1), ax.set_ylim(y0, y1)
    art = {"landscape": L.name, "ax": ax, "lines": {}, "selection": None, "text": None}
    for nm in _optim.names():
        c = COLORS.get(nm, "k")
        art["lines"][nm] = {
            "path": ax.plot([], [], "-", color=c, lw=1.6, label=nm)[0],
            "w_adv": ax.plot([], [], "o", color=c, ms=3, alpha=0.7)[0],
            "theta_adv": ax.plot([], [], "x", color=c, ms=4, alpha=0.8)[0],
            "end": ax.plot([], [], "s", color=c, mec="k", ms=5)[0],
        }
    art["start"] = ax.plot([], [], "ko", ms=5)[0]
    moving = [a for d in art["lines"].values() for a in d.values()] + [art["start"]]
    if text:
        txt_ax = fig.add_axes([0.6, 0.1, 0.39, 0.82])
        txt_ax.axis("off")
        art["text"] = txt_ax.text(0.0, 1.0, "", va="top", ha="left", family="monospace",
                                  fontsize=8, transform=txt_ax.transAxes)
        moving.append(art["text"])
        txt_ax.text(0.0, 0.0, "o w_adv (SAM family)   x theta_adv (GAM)\nsquare: end point",
                    va="bottom", fontsize=8, transform=txt_ax.transAxes)
    canvas.animate(fig, moving)
    fig._gamtoy_explorer = art
    return art


def _artists(fig, L, selection, text):
    art = getattr(fig, "_gamtoy_explorer", None)
    if art is None or art["landscape"] != L.name or (art["text"] is not None) != text:
        art = _build(fig, L, text)
    if art["selection"] != selection:  # the legend is static: rebuild it and the background
        handles = [art["lines"][nm]["path"] for nm in selection]
        leg = art["ax"].get_legend()
        if leg is not None:
            leg.remove()
        if handles:
            art["ax"].legend(handles=handles, fontsize=7, loc="lower right")
        art["selection"] = selection
        canvas.invalidate(fig)
    return art


def render(state, fig=None, text=True):
    """Run every selected optimizer from the start and draw it; returns (fig, data).

    text=True writes the readout table into the figure (the widget shows it as HTML instead:
    rasterising ~400 glyphs per frame would cost ~40 ms).

    data: state, landscape, start, hyper {name: kw}, runs {name: Trajectory}, ends {name: (2,)},
    diverged {name: bool}, readout {name: {R0, R1, h, lambda_max}}, table (str), seconds.
    """
    t0 = time.perf_counter()
    if not isinstance(state, ExplorerState):
        state = ExplorerState(**state)
    L = _landscapes.get(state.landscape)
    start = np.array([state.start_x, state.start_y], float)
    names = tuple(nm for nm in _optim.names() if nm in state.optimizers)
    hp = {nm: hyper(state, nm) for nm in names}
    runs = {nm: run(nm, L, start, int(state.steps), diagnostics=True, **hp[nm]) for nm in names}
    ends = {nm: tr.final.copy() for nm, tr in runs.items()}
    ro = readout(L, np.array([ends[nm] for nm in names]).reshape(-1, 2), float(state.rho))
    data = {"state": state, "landscape": L.name, "start": start, "hyper": hp, "runs": runs,
            "ends": ends, "diverged": {nm: bool(tr.diverged) for nm, tr in runs.items()},
            "readout": {nm: {k: float(v[i]) for k, v in ro.items()} for i, nm in enumerate(names)}}
    data["table"] = readout_table(data)

    if fig is None:
        fig = canvas.new_figure((10, 4.6) if text else (6.6, 4.2))
    art = _artists(fig, L, names, text)
    every = max(1, int(state.steps) // ASCENT_MARKS)
    empty = np.zeros((0, 2))
    for nm, ln in art["lines"].items():
        on = nm in runs
        for a in ln.values():
            a.set_visible(on)
        if not on:
            continue
        tr = runs[nm]
        ln["path"].set_data(tr.points[:, 0], tr.points[:, 1])
        ln["end"].set_data([tr.final[0]], [tr.final[1]])
        for key in ("w_adv", "theta_adv"):
            P = tr.info[key][::every] if key in tr.info else empty
            ln[key].set_data(P[:, 0], P[:, 1])
    art["start"].set_data([start[0]], [start[1]])
    if art["text"] is not None:
        art["text"].set_text(data["table"])
    data["seconds"] = time.perf_counter() - t0
    return fig, data


def _state_from(controls):
    c = controls
    opts = tuple(nm for nm, cb in c["optimizers"].items() if cb.value)
    return ExplorerState(landscape=c["landscape"].value, optimizers=opts, lr=c["lr"].value,
                         rho=c["rho"].value, alpha=c["alpha"].value, steps=c["steps"].value,
                         start_x=c["start_x"].value, start_y=c["start_y"].value,
                         base=c["base"].value)


def explorer(**initial):
    """An ipywidgets explorer over `render`; keywords are ExplorerState fields.

    The returned VBox has `.controls` (landscape, optimizers {name: Checkbox}, lr, rho, alpha,
    steps, start_x, start_y, base), `.fig`, `.image` (PNG), `.html` (readout), `.last` (the last
    render data), `.state()` and `.refresh()`. Every control's observer re-renders synchronously.
    """
    import ipywidgets as W
    if "landscape" in initial and "start_x" not in initial and "start_y" not in initial:
        sx, sy = default_start(initial["landscape"])
        initial = {**initial, "start_x": sx, "start_y": sy}
    st = ExplorerState(**initial)
    L = _landscapes.get(st.landscape)
    (x0, x1), (y0, y1) = L.bounds
    slider = dict(continuous_update=True, style={"description_width": "60px"})
    c = {
        "landscape": W.Dropdown(options=_landscapes.names(), value=L.name, description="landscape"),
        "optimizers": {nm: W.Checkbox(value=nm in st.optimizers, description=nm, indent=False,
                                      layout=W.Layout(width="95px")) for nm in _optim.names()},
        "lr": W.FloatLogSlider(value=st.lr, base=10, min=-3, max=0, step=0.05, description="lr",
                               readout_format=".3g", **slider),
        "rho": W.FloatSlider(value=st.rho, min=0.0, max=1.0, step=0.01, description="rho",
                             **slider),
        "alpha": W.FloatSlider(value=st.alpha, min=0.0, max=3.0, step=0.05, description="alpha",
                               **slider),
        "steps": W.IntSlider(value=st.steps, min=0, max=1000, step=10, description="steps",
                             **slider),
        "start_x": W.FloatSlider(value=st.start_x, min=x0, max=x1, step=(x1 - x0) / 200,
                                 description="start x", **slider),
        "start_y": W.FloatSlider(value=st.start_y, min=y0, max=y1, step=(y1 - y0) / 200,
                                 description="start y", **slider),
        "base": W.Dropdown(options=BASES, value=st.base, description="base"),
    }
    image, html = W.Image(format="png"), W.HTML()
    checks = W.GridBox(list(c["optimizers"].values()),
                       layout=W.Layout(grid_template_columns="repeat(5, 100px)"))
    sliders = W.VBox([c[k] for k in ("lr", "rho", "alpha", "steps", "start_x", "start_y")])
    box = W.VBox([W.HBox([c["landscape"], c["base"]]), checks, W.HBox([sliders, html]), image])
    box.controls, box.fig, box.image, box.html, box.last = c, None, image, html, None
    hold = [False]

    def refresh(change=None):
        if hold[0]:
            return
        box.fig, box.last = render(_state_from(c), box.fig, text=False)
        image.value = canvas.png_bytes(box.fig)
        html.value = _html(box.last)

    def on_landscape(change):
        lo = _landscapes.get(change["new"])
        (a0, a1), (b0, b1) = lo.bounds
        sx, sy = default_start(lo.name)
        hold[0] = True
        try:
            canvas.set_range(c["start_x"], a0, a1, sx, (a1 - a0) / 200)
            canvas.set_range(c["start_y"], b0, b1, sy, (b1 - b0) / 200)
        finally:
            hold[0] = False
        refresh()

    c["landscape"].observe(on_landscape, names="value")
    for w in [c[k] for k in ("lr", "rho", "alpha", "steps", "start_x", "start_y", "base")] + \
            list(c["optimizers"].values()):
        w.observe(refresh, names="value")
    box.refresh, box.state = refresh, lambda: _state_from(c)
    refresh()
    return box


def _html(data):
    rows = [[nm + (" *" if data["diverged"][nm] else ""),
             *(f"{r[k]:.4g}" for k in ("R0", "R1", "h", "lambda_max")),
             f"({data['ends'][nm][0]:.3f}, {data['ends'][nm][1]:.3f})"]
            for nm, r in data["readout"].items()]
    head = f"<b>at the end points, rho = {data['state'].rho:g}</b> ({data['seconds'] * 1e3:.0f} ms)"
    return head + canvas.html_table(["", "R0", "R1", "h", "lambda_max", "end"], rows)


__all__ = ["ExplorerState", "render", "explorer", "hyper", "readout", "readout_table",
           "default_start"]
