"""The trajectory explorer: optimizers from one start on a landscape, redrawn live.

    fig, data = render(ExplorerState(landscape="ridge", lr=0.05, rho=0.2))
    # {"R0", "R1", "h", "lambda_min", "lambda_max"} at GSAM's end (exact, radius rho):
    data["readout"]["gsam"]
    w = explorer(landscape="ridge"); w.controls["lr"].value = 0.02; w.last["ends"]

`render` is pure in its inputs (state -> figure + data); passing the previous `fig` back reuses its
axes and contour and only updates line data (the contour grid is cached per landscape).

Defaults: fields left out of `ExplorerState` are the ridge figure's settings (GSAM Fig. 3 on
`ridge`: `gamtoy.figures.ridge.RIDGE_HYPER["gsam"]`, `RIDGE_STEPS`, `RIDGE_START`), read when the
state is made, so the explorer opens on the run the figure and the notebook describe.
"""
import collections
import functools
import time
from dataclasses import asdict, dataclass

import numpy as np

from .. import flatness
from .. import landscapes as _landscapes
from .. import optim as _optim
from .. import validate as _v
from .._extras import require
from ..figures.common import COLORS, landscape_grid, plot_landscape
from ..figures.style import MARKERS
from ..optim import schedules as _schedules
from ..outcomes import classify
from . import canvas

DEFAULT_OPTIMIZERS = ("sgd", "sam", "gnp", "gsam", "gam", "gam_accel")
BASES = ("default", "sgd", "momentum", "adam")
SCHEDULES = ("constant", "cosine")
FIG_WIDTH = 5.0  # inches (500 CSS px in the page: with 370 px of controls, fits JupyterLab
#                  at 1366 px wide with the file browser open)
ASCENT_MARKS = 30  # about this many ascent points per trajectory
MAX_STEPS = 20_000  # the explorer redraws live: longer runs (and their steps slider) are refused
# the glyphs the page uses for the figure's markers (gamtoy.figures.style.MARKERS)
MARKER_KEY = (("start", "\u25cb", "start"), ("end", "\u25a0", "end point"),
              ("w_adv", "\u2022", "w_adv (SAM's ascent point)"),
              ("theta_adv", "\u00d7", "theta_adv (GAM's ascent point, Eq. 8)"),
              ("minimum", "\u2605", "known minimum"))
_FALLBACK = {"lr": 0.05, "rho": 0.2, "alpha": 0.3, "steps": 300, "start": (-3.0, 1.5)}


def figure_defaults(landscape="ridge"):
    """The explorer's default fields: the ridge figure's GSAM settings (lr, rho, alpha, schedule),
    its number of steps and, on `ridge`, its start; read from `gamtoy.figures.ridge` now.

    A cosine lr in the figure becomes schedule='cosine' (lr from `lr` to `lr_min` over the run)
    with rho proportional to lr (GSAM Alg. 1: rho_schedule='lr', from `rho` to `rho_min`)."""
    from ..figures import ridge as R
    hp = dict(getattr(R, "RIDGE_HYPER", {}).get("gsam", {}))
    out = {"schedule": "constant", "lr_min": 0.0, "rho_min": float(hp.get("rho_min", 0.0))}
    lr = hp.get("lr", _FALLBACK["lr"])
    if isinstance(lr, _schedules.Schedule) or callable(lr):
        s = _schedules.as_schedule(lr)
        out["lr"] = float(s.vmax)
        if str(s).startswith("cosine"):
            out["schedule"], out["lr_min"] = "cosine", float(s.vmin)
    else:
        out["lr"] = float(lr)
    rho = hp.get("rho", _FALLBACK["rho"])
    out["rho"] = float(_schedules.as_schedule(rho).vmax)
    out["alpha"] = float(hp.get("alpha", _FALLBACK["alpha"]))
    out["steps"] = int(getattr(R, "RIDGE_STEPS", _FALLBACK["steps"]))
    out["start_x"], out["start_y"] = (float(v) for v in default_start(landscape))
    return out


def default_start(landscape):
    """The ridge figure's start on `ridge`; elsewhere a corner-ish point of the plotting box."""
    L = _landscapes.get(landscape)
    if L.name == "ridge":
        from ..figures import ridge as R
        return tuple(getattr(R, "RIDGE_START", _FALLBACK["start"]))
    (x0, x1), (y0, y1) = L.bounds
    return (round(x0 + 0.2 * (x1 - x0), 10), round(y0 + 0.8 * (y1 - y0), 10))


@dataclass(frozen=True)
class ExplorerState:
    """Everything the explorer shows. `rho` goes to optimizers that take rho and is the readout's
    radius; `alpha` to those that take alpha (clipped to 1 for gam_accel, GAM Eq. 44); `base`
    'default' keeps each optimizer's own base (see gamtoy.optim.DEFAULTS). `schedule` 'cosine':
    lr decays from lr to lr_min and rho follows it from rho to rho_min (GSAM Alg. 1).
    Fields left as None take `figure_defaults(landscape)`. Bad values raise ValueError/TypeError
    naming the field."""

    landscape: str = "ridge"
    optimizers: tuple = DEFAULT_OPTIMIZERS
    lr: float = None
    rho: float = None
    alpha: float = None
    steps: int = None
    start_x: float = None
    start_y: float = None
    base: str = "default"
    schedule: str = None
    lr_min: float = None
    rho_min: float = None

    def __post_init__(self):
        set_ = functools.partial(object.__setattr__, self)
        if not isinstance(self.landscape, str):
            raise TypeError(f"ExplorerState: landscape must be a name, got {self.landscape!r}")
        L = _landscapes.get(self.landscape)  # unknown names: ValueError listing the valid ones
        valid = _optim.names()
        opts = self.optimizers
        if isinstance(opts, str):
            opts = (opts,)
        elif not hasattr(opts, "__iter__") or isinstance(opts, bytes):
            raise TypeError(f"ExplorerState: optimizers must be a name or a sequence of names "
                            f"({', '.join(valid)}), got {opts!r:.80}")
        opts = tuple(opts)
        if not opts:
            raise ValueError(f"ExplorerState: optimizers is empty; give at least one of "
                             f"{', '.join(valid)}")
        bad = [nm for nm in opts if not isinstance(nm, str) or nm not in valid]
        if bad:
            raise ValueError(f"ExplorerState: unknown optimizer(s) {bad} in optimizers; "
                             f"valid names: {', '.join(valid)}")
        dup = sorted({nm for nm in opts if opts.count(nm) > 1})
        if dup:
            raise ValueError(f"ExplorerState: optimizers lists {dup} more than once (each is drawn "
                             f"once)")
        set_("optimizers", opts)
        d = figure_defaults(L.name)
        for k in ("lr", "rho", "alpha", "steps", "start_x", "start_y", "schedule", "lr_min",
                  "rho_min"):
            if getattr(self, k) is None:
                set_(k, d[k])
        set_("lr", _v.real("lr", self.lr, low=0, low_open=True))
        set_("rho", _v.real("rho", self.rho, low=0))
        set_("alpha", _v.real("alpha", self.alpha, low=0))
        set_("steps", _v.positive_int("steps", self.steps))
        if self.steps > MAX_STEPS:
            raise ValueError(f"ExplorerState: steps must be <= {MAX_STEPS} (MAX_STEPS: the "
                             f"explorer redraws live), got {self.steps}; use gamtoy.run for longer "
                             "runs")
        from ..run import divergence_box  # a start outside it is refused by run
        lo, hi = divergence_box(L)
        for k, i in (("start_x", 0), ("start_y", 1)):
            set_(k, _v.real(k, getattr(self, k), low=float(lo[i]), high=float(hi[i])))
        if self.base not in BASES:
            raise ValueError(f"ExplorerState: unknown base {self.base!r}; "
                             f"valid: {', '.join(BASES)}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"ExplorerState: unknown schedule {self.schedule!r}; "
                             f"valid: {', '.join(SCHEDULES)}")
        set_("lr_min", _v.real("lr_min", self.lr_min, low=0, high=self.lr))
        set_("rho_min", _v.real("rho_min", self.rho_min, low=0, high=self.rho))

    def as_dict(self):
        """The fields as plain JSON-able data (optimizers as a list)."""
        d = asdict(self)
        d["optimizers"] = list(d["optimizers"])
        return d


def hyper(state, name):
    """The keywords `name` gets from `state`: lr always; rho, alpha and base where they apply."""
    from ..figures.ridge import RIDGE_OWN
    own = _optim.DEFAULTS[name][0]
    if state.schedule == "cosine":
        kw = {"lr": _schedules.cosine(float(state.lr), int(state.steps), float(state.lr_min))}
    else:
        kw = {"lr": float(state.lr)}
    kw.update({k: v for k, v in RIDGE_OWN.get(name, {}).items() if k != "alpha"})  # as the figure
    if "rho" in own:
        kw["rho"] = float(state.rho)
        if state.schedule == "cosine":
            kw["rho_schedule"], kw["rho_min"] = "lr", float(state.rho_min)
    if "alpha" in own:
        kw["alpha"] = min(float(state.alpha), 1.0) if name == "gam_accel" else float(state.alpha)
    if state.base != "default":
        kw["base"] = state.base
    return kw


@functools.lru_cache(maxsize=16)
def _grid(name, n=120):
    return landscape_grid(name, n)


def readout(landscape, points, rho):
    """Exact R0, R1, first-order h and both Hessian eigenvalues (lambda_min, lambda_max) at
    `points` (k, 2), radius rho: dict of (k,). lambda_min < 0 at an end point: not a minimum."""
    P = np.asarray(points, float).reshape(-1, 2)
    if len(P) == 0:
        return {k: np.zeros(0) for k in ("R0", "R1", "h", "lambda_min", "lambda_max")}
    with np.errstate(all="ignore"):
        eig = np.linalg.eigvalsh(_landscapes.get(landscape).hessian(P))
        return {"R0": flatness.r0(landscape, P, rho), "R1": flatness.r1(landscape, P, rho),
                "h": flatness.surrogate_gap(landscape, P, rho), "lambda_min": eig[:, 0],
                "lambda_max": flatness.lambda_max(landscape, P)}


def end_types(landscape, ends, diverged):
    """What each end point is, by its own gradient and Hessian (`gamtoy.outcomes.classify`):
    {name: "well 1" / "saddle 2" / "still moving" / "diverged" / ...}."""
    names = list(ends)
    if not names:
        return {}
    L = _landscapes.get(landscape)
    e = classify(L, np.array([ends[nm] for nm in names]), [diverged[nm] for nm in names])
    return {nm: e.name(i, L).split(" (")[0] for i, nm in enumerate(names)}


def readout_table(data):
    """The readout as fixed-width text (one row per optimizer; * marks a diverged run)."""
    rows = [f"R0, R1 (exact), h (first-order), Hessian eigenvalues and type of the end points "
            f"(rho={data['state'].rho:g})",
            f"{'':10s}{'R0':>9s}{'R1':>9s}{'h':>9s}{'lam_min':>9s}{'lam_max':>9s}  type"]
    for nm, r in data["readout"].items():
        flag = "*" if data["diverged"][nm] else " "
        cells = "".join(f"{r[k]:9.3g}" for k in ("R0", "R1", "h", "lambda_min", "lambda_max"))
        rows.append(f"{nm + flag:10s}" + cells + f"  {data['types'][nm]}")
    return "\n".join(rows)


def readout_rows(data):
    """The page's readout table: [name, R0, R1, h, lambda_min, lambda_max, end, type] as text (4
    significant digits; ' *' marks a diverged run; type: minimum, saddle, still moving... by the
    end point itself). The browser test recomputes these."""
    return [[nm + (" *" if data["diverged"][nm] else ""),
             *(f"{r[k]:.4g}" for k in ("R0", "R1", "h", "lambda_min", "lambda_max")),
             f"({data['ends'][nm][0]:.3f}, {data['ends'][nm][1]:.3f})", data["types"][nm]]
            for nm, r in data["readout"].items()]


def _mk(key, **over):
    return {**MARKERS[key], **over}


def _build(fig, L, text):
    """Clear `fig` and draw the static part for landscape L; returns the artist dict."""
    fig.clear()
    canvas.invalidate(fig, forget=True)
    (x0, x1), (y0, y1) = L.bounds
    if text:
        ax = fig.add_axes([0.06, 0.1, 0.52, 0.82])
    else:  # the figure's height follows the landscape's aspect (no empty bands), <= 4.3 in
        aw = FIG_WIDTH - 0.85
        ah = min(aw * (y1 - y0) / (x1 - x0), 4.3)
        aw = min(aw, ah * (x1 - x0) / (y1 - y0))
        H = ah + 0.85
        fig.set_size_inches(FIG_WIDTH, H)
        ax = fig.add_axes([0.68 / FIG_WIDTH, 0.5 / H, aw / FIG_WIDTH, ah / H])
    plot_landscape(_grid(L.name), ax)
    ax.set_xlim(x0, x1), ax.set_ylim(y0, y1)
    ax.set_xlabel("x", labelpad=1), ax.set_ylabel("y", labelpad=1)
    art = {"landscape": L.name, "ax": ax, "lines": {}, "selection": None, "text": None}
    for nm in _optim.names():
        c = COLORS.get(nm, "k")
        art["lines"][nm] = {
            "path": ax.plot([], [], "-", color=c, lw=1.6, label=nm)[0],
            "w_adv": ax.plot([], [], color=c, alpha=0.8, **_mk("w_adv", ms=4))[0],
            "theta_adv": ax.plot([], [], color=c, alpha=0.9, **_mk("theta_adv", ms=4))[0],
            "end": ax.plot([], [], color=c, **_mk("end", ms=6))[0],
        }
    art["start"] = ax.plot([], [], **_mk("start", ms=6))[0]
    moving = [a for d in art["lines"].values() for a in d.values()] + [art["start"]]
    if text:
        txt_ax = fig.add_axes([0.6, 0.1, 0.39, 0.82])
        txt_ax.axis("off")
        art["text"] = txt_ax.text(0.0, 1.0, "", va="top", ha="left", family="monospace",
                                  fontsize=8, transform=txt_ax.transAxes)
        moving.append(art["text"])
        key = "   ".join(f"{g} {lab}" for _, g, lab in MARKER_KEY)
        txt_ax.text(0.0, 0.0, key.replace("   ", "\n"), va="bottom", fontsize=8,
                    transform=txt_ax.transAxes)
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
            art["ax"].legend(handles=handles, fontsize=8, loc="lower right", framealpha=0.85,
                             ncol=2 if len(handles) > 4 else 1, handlelength=1.2,
                             columnspacing=0.8)
        art["selection"] = selection
        canvas.invalidate(fig)
    return art


def render(state, fig=None, text=True):
    """Run every selected optimizer from the start and draw it; returns (fig, data).

    text=True writes the readout table into the figure (the widget shows it as HTML instead).

    data: state, landscape, start, hyper {name: kw}, runs {name: Trajectory}, ends {name: (2,)},
    ascent {name: {"w_adv", "theta_adv": (k, 2)}} (every steps // 30 steps),
    diverged {name: bool}, readout {name: {R0, R1, h, lambda_max}}, table (str), seconds.
    """
    t0 = time.perf_counter()
    if not isinstance(state, ExplorerState):
        state = ExplorerState(**state)
    L = _landscapes.get(state.landscape)
    start = np.array([state.start_x, state.start_y], float)
    names = tuple(nm for nm in _optim.names() if nm in state.optimizers)
    hp = {nm: hyper(state, nm) for nm in names}
    every = max(1, int(state.steps) // ASCENT_MARKS)
    both = {nm: run_one(nm, L, start, state.steps, hp[nm], every) for nm in names}
    runs = {nm: b[0] for nm, b in both.items()}
    ends = {nm: tr.final.copy() for nm, tr in runs.items()}
    ro = readout(L, np.array([ends[nm] for nm in names]).reshape(-1, 2), float(state.rho))
    data = {"state": state, "landscape": L.name, "start": start, "hyper": hp, "runs": runs,
            "ascent": {nm: b[1] for nm, b in both.items()}, "ends": ends,
            "diverged": {nm: bool(tr.diverged) for nm, tr in runs.items()},
            "readout": {nm: {k: float(v[i]) for k, v in ro.items()} for i, nm in enumerate(names)}}
    data["types"] = end_types(L, ends, data["diverged"])
    data["table"] = readout_table(data)

    if fig is None:
        fig = canvas.new_figure((10, 4.6) if text else (FIG_WIDTH, 4.3))
    art = _artists(fig, L, names, text)
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
            P = data["ascent"][nm].get(key, empty)
            ln[key].set_data(P[:, 0], P[:, 1])
    art["start"].set_data([start[0]], [start[1]])
    if art["text"] is not None:
        art["text"].set_text(data["table"])
    data["seconds"] = time.perf_counter() - t0
    return fig, data


_RUNS = collections.OrderedDict()  # (name, landscape, start, steps, hyper) -> (Trajectory, marks)
_RUNS_MAX = 64


def run_one(name, L, start, steps, kw, every=None):
    """One trajectory (no per-step diagnostics, which cost time) and its ascent points every
    `every` steps, {"w_adv"/"theta_adv": (k, 2)}, from the optimizer's own estimator evaluated
    at those steps (the same points `run(..., diagnostics=True)` records). Cached (LRU): a
    slider that leaves a run's inputs unchanged (rho for sgd, alpha for sam) does not rerun it."""
    from ..run import run
    every = every or max(1, int(steps) // ASCENT_MARKS)
    key = (name, L.name, float(start[0]), float(start[1]), int(steps), every,
           tuple(sorted((k, repr(v)) for k, v in kw.items())))
    hit = _RUNS.get(key)
    if hit is not None:
        _RUNS.move_to_end(key)
        return hit
    opt = _optim.get(name, **kw)
    tr = run(opt, L, np.asarray(start, float), int(steps))
    out = (tr, ascent_points(opt, L, tr, every))
    _RUNS[key] = out
    while len(_RUNS) > _RUNS_MAX:
        _RUNS.popitem(last=False)
    return out


def ascent_points(opt, L, tr, every):
    """w_adv / theta_adv of `opt` at steps 0, every, 2 every, ... of `tr` (those before a
    divergence): the estimator (diag=True) at the recorded points with that step's rho."""
    steps = len(tr.points) - 1
    done = int(tr.diverged_at) - 1 if bool(tr.diverged) else steps
    idx = np.arange(0, max(done, 0), every)
    if len(idx) == 0:
        return {}
    rhos = np.array([float(opt.rho(int(i) + 1)) for i in idx])
    rho = float(rhos[0]) if np.all(rhos == rhos[0]) else rhos[:, None]
    with np.errstate(all="ignore"):
        info = opt.estimator(L, tr.points[idx], rho, diag=True)[1]
    return {k: np.asarray(info[k], float).reshape(-1, 2) for k in ("w_adv", "theta_adv")
            if k in info}


def _html(data, renders):
    st = data["state"]
    sched = "" if st.schedule == "constant" else \
        f", cosine lr {st.lr:g} \u2192 {st.lr_min:g}, rho \u221d lr"
    head = (f"<div style='font-size:12px'><b>Readout at the end points</b> (exact, radius "
            f"rho = {st.rho:g}{sched}; * diverged)</div>")
    key = " &nbsp; ".join(f"{g} {lab}" for _, g, lab in MARKER_KEY)
    return canvas.html_block(
        head + canvas.html_table(["", "R0", "R1", "h (1st order)", "\u03bb_min", "\u03bb_max",
                                  "end", "type"], readout_rows(data))
        + f"<div style='font-size:11px;color:#555'>{key}</div>"
        + canvas.state_tag(st.as_dict(), renders))


def _layout_checks(W, boxes):
    return W.GridBox(boxes, layout=W.Layout(grid_template_columns="repeat(4, max-content)",
                                            grid_gap="0 2px", width="auto"))


def _controls(W, st, L):
    """The explorer's controls for the state `st` on landscape `L`: {name: widget}, the
    optimizers as {name: Checkbox}; each slider's grid contains its initial value."""
    (x0, x1), (y0, y1) = L.bounds
    sx_step, sy_step = canvas.nice_step(x1 - x0), canvas.nice_step(y1 - y0)
    c = {
        "landscape": W.Dropdown(options=_landscapes.names(), value=L.name, description="landscape",
                                style={"description_width": "76px"},
                                layout=W.Layout(width="215px")),
        "optimizers": {nm: W.Checkbox(value=nm in st.optimizers, description=nm, indent=False,
                                      layout=W.Layout(width="auto")) for nm in _optim.names()},
        "lr": canvas.slider(W, "lr", canvas.log_grid(1e-3, 0.5, [st.lr]), st.lr),
        "rho": canvas.slider(W, "rho", canvas.linear_grid(0.0, 1.0, 0.01, [st.rho]), st.rho),
        "alpha": canvas.slider(W, "alpha", canvas.linear_grid(0.0, 3.0, 0.05, [st.alpha]),
                               st.alpha),
        "steps": canvas.slider(W, "steps", canvas.linear_grid(
            10, min(MAX_STEPS, max(1000, 2 * st.steps)), 10, [st.steps]), st.steps),
        "start_x": canvas.slider(W, "start x", canvas.linear_grid(x0, x1, sx_step, [st.start_x]),
                                 st.start_x),
        "start_y": canvas.slider(W, "start y", canvas.linear_grid(y0, y1, sy_step, [st.start_y]),
                                 st.start_y),
        "base": W.Dropdown(options=BASES, value=st.base, description="base",
                           style={"description_width": "40px"}, layout=W.Layout(width="140px")),
        "schedule": W.Dropdown(options=[("constant lr, rho", "constant"),
                                        ("cosine lr, rho \u221d lr (GSAM Alg. 1)", "cosine")],
                               value=st.schedule, description="schedule",
                               style={"description_width": "64px"},
                               layout=W.Layout(width="350px")),
    }
    c["steps"].options = [(canvas.label(int(v)), int(v)) for _, v in c["steps"].options]
    c["steps"].value = int(st.steps)
    return c


def _page(W, c):
    """The explorer's page around the controls `c`: (the Box, its PNG Image, its readout HTML)."""
    image = W.Image(format="png", layout=W.Layout(width=f"{FIG_WIDTH * canvas.CSS_DPI:.0f}px",
                                                  height="auto"))
    image.add_class("gamtoy-figure")
    html = W.HTML(layout=W.Layout(width=f"{FIG_WIDTH * canvas.CSS_DPI - 10:.0f}px",
                                  margin="0 0 0 10px"))
    html.add_class("gamtoy-readout")
    checks = _layout_checks(W, list(c["optimizers"].values()))
    sliders = [c[k] for k in ("lr", "rho", "alpha", "steps", "start_x", "start_y")]
    controls = W.VBox([W.HBox([c["landscape"], c["base"]]), c["schedule"], checks, *sliders],
                      layout=W.Layout(width="370px", min_width="360px"))
    box = W.HBox([W.VBox([image, html]), controls],
                 layout=W.Layout(flex_flow="row wrap", align_items="flex-start", grid_gap="0 12px"))
    box.add_class("gamtoy-explorer")
    return box, image, html


def _state(c, extra):
    """The ExplorerState the controls `c` show; lr_min, rho_min from `extra`, capped by lr, rho."""
    opts = tuple(nm for nm, cb in c["optimizers"].items() if cb.value)
    lr, rho = float(c["lr"].value), float(c["rho"].value)
    return ExplorerState(landscape=c["landscape"].value, optimizers=opts, lr=lr, rho=rho,
                         alpha=c["alpha"].value, steps=int(c["steps"].value),
                         start_x=c["start_x"].value, start_y=c["start_y"].value,
                         base=c["base"].value, schedule=c["schedule"].value,
                         lr_min=min(extra["lr_min"], lr), rho_min=min(extra["rho_min"], rho))


def explorer(**initial):
    """An ipywidgets explorer over `render`; keywords are ExplorerState fields.

    The returned Box has `.controls` (landscape, optimizers {name: Checkbox}, lr, rho, alpha,
    steps, start_x, start_y, base, schedule), `.fig`, `.image` (PNG), `.html` (readout), `.last`
    (the last render data), `.initial` (the state it opened with), `.renders`, `.state()` and
    `.refresh()`. Every control's observer re-renders synchronously. Sliders run over exact
    grids that contain the initial values, so the page shows (and keeps) exactly the state the
    first render used.
    """
    W = require("ipywidgets")
    if "landscape" in initial and "start_x" not in initial and "start_y" not in initial:
        sx, sy = default_start(initial["landscape"])
        initial = {**initial, "start_x": sx, "start_y": sy}
    st = ExplorerState(**initial)
    L = _landscapes.get(st.landscape)
    c = _controls(W, st, L)
    extra = {"lr_min": st.lr_min, "rho_min": st.rho_min}
    box, image, html = _page(W, c)
    box.controls, box.fig, box.image, box.html, box.last = c, None, image, html, None
    box.initial, box.renders = st, 0
    hold = [False]

    def state():
        return _state(c, extra)

    def refresh(change=None):
        if hold[0]:
            return
        box.fig, box.last = render(state(), box.fig, text=False)
        box.renders += 1
        image.value = canvas.png_bytes(box.fig)
        image.layout.width = canvas.css_width(box.fig)
        html.value = _html(box.last, box.renders)

    def on_landscape(change):
        lo = _landscapes.get(change["new"])
        (a0, a1), (b0, b1) = lo.bounds
        sx, sy = default_start(lo.name)
        hold[0] = True
        try:
            canvas.set_options(c["start_x"], canvas.linear_grid(
                a0, a1, canvas.nice_step(a1 - a0), [sx]), sx)
            canvas.set_options(c["start_y"], canvas.linear_grid(
                b0, b1, canvas.nice_step(b1 - b0), [sy]), sy)
        finally:
            hold[0] = False
        refresh()

    c["landscape"].observe(on_landscape, names="value")
    for w in [c[k] for k in ("lr", "rho", "alpha", "steps", "start_x", "start_y", "base",
                             "schedule")] + list(c["optimizers"].values()):
        w.observe(refresh, names="value")
    box.refresh, box.state = refresh, state
    refresh()
    return canvas.with_first_frame(box)


__all__ = ["ExplorerState", "render", "explorer", "hyper", "readout", "readout_table", "end_types",
           "readout_rows", "default_start", "figure_defaults"]
