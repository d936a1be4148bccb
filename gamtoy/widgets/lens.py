"""The flatness lens: one point, its ball B(theta, rho), and where the ball's maxima are.

    fig, data = lens_render("fig1a", (2.0, 0.5), 0.5)
    data["worst"]     # exact argmax of L over the ball: L(worst) - L(theta) = R0  (GAM Eq. 2)
    data["steepest"]  # exact argmax of |grad L| over the ball: rho |grad L(steepest)| = R1 (Eq. 3)
    data["w_adv"], data["theta_adv"]   # SAM's and GAM's first-order guesses of those two points

Markers follow `gamtoy.figures.style.MARKERS` (the Fig. 1 figures' convention): up triangle the
exact worst point (r0_exact), down triangle the exact steepest point (r1_exact), a dot w_adv, a
cross theta_adv.

Speed: the zoomed contour is a window around the point that stays put while the ball moves
inside it (only the ball and the markers are redrawn, blitted onto the cached contour); it is
re-centred when the ball would leave it or rho changes its scale. Pass `fig` back to reuse it.
"""
import math

import numpy as np

from .. import flatness
from .. import landscapes as _landscapes
from .. import validate as _v
from .._extras import require
from ..figures.common import plot_landscape
from ..figures.style import MARKERS
from ..outcomes import classify
from . import canvas

# (data key, MARKERS key, colour, label): one meaning per marker in every figure and widget
# (Okabe-Ito: R0's blue and R1's vermillion as in the figures; each first-order guess a lighter
# hue of the point it guesses)
MARKS = (("worst", "r0_exact", "#0072B2", "exact worst point (R0)"),
         ("steepest", "r1_exact", "#D55E00", "exact steepest point (R1)"),
         ("w_adv", "w_adv", "#56B4E9", "w_adv (SAM)"),
         ("theta_adv", "theta_adv", "#E69F00", "theta_adv (GAM)"))
_SIZE = {"w_adv": dict(ms=14), "theta_adv": dict(ms=10, mew=2.5)}
LADDER = 1.5  # window half-widths form a geometric ladder: rho changes rebuild it rarely


def default_point(L):
    """The last known minimum of L (fig1a: valley B's centre) to 3 decimals, else the box centre."""
    (x0, x1), (y0, y1) = L.bounds
    if L.minima is not None and len(L.minima):
        return tuple(round(float(v), 3) for v in L.minima[-1])  # a readable slider value
    return ((x0 + x1) / 2, (y0 + y1) / 2)


def lens_data(landscape, point, rho):
    """The lens numbers at `point`: R0, R1 (exact, with argmax), h, R1 first-order, lambda_max,
    the SAM / GAM ascent points and the losses at the point and at the worst point."""
    L = _landscapes.get(landscape)
    p = np.asarray(point, float)
    if p.shape != (2,) or not np.all(np.isfinite(p)):
        raise ValueError(f"point must be two finite numbers (x, y), got {point!r}")
    rho = _v.real("rho", rho, low=0)
    with np.errstate(all="ignore"):
        r0, worst = flatness.r0(L, p, rho, return_argmax=True)
        r1, steep = flatness.r1(L, p, rho, return_argmax=True)
        d = {"landscape": L.name, "point": p, "rho": rho, "R0": float(r0), "R1": float(r1),
             "worst": np.asarray(worst, float), "steepest": np.asarray(steep, float),
             "h": float(flatness.surrogate_gap(L, p, rho)),
             "R1_first_order": float(flatness.r1_first_order(L, p, rho)),
             "lambda_max": float(flatness.lambda_max(L, p)),
             "grad_norm": float(flatness.grad_norm(L, p)),
             "lambda_min": float(np.linalg.eigvalsh(L.hessian(p))[0]),
             "type": point_type(L, p),
             "w_adv": np.asarray(flatness.sam_point(L, p, rho), float),
             "theta_adv": np.asarray(flatness.gam_point(L, p, rho), float),
             "loss": float(L.value(p)), "loss_worst": float(L.value(worst))}
    return d


def point_type(L, p):
    """What the point is, by its own gradient and Hessian (`gamtoy.outcomes.classify`): a named
    minimum or saddle of the landscape, or "still moving" (not a critical point)."""
    name = classify(L, np.asarray(p, float)[None]).name(0, L)
    return "not a critical point" if name.startswith("still moving") else name.split(" (")[0]


def lens_text(d):
    """The lens readout as a few lines of text."""
    return (f"theta = ({d['point'][0]:.3f}, {d['point'][1]:.3f}),  rho = {d['rho']:g}\n"
            f"R0 = {d['R0']:.4g}   h (first-order R0) = {d['h']:.4g}\n"
            f"R1 = {d['R1']:.4g}   R1 first-order = {d['R1_first_order']:.4g}\n"
            f"|g| = {d['grad_norm']:.3g}   lambda_min, lambda_max = {d['lambda_min']:.4g}, "
            f"{d['lambda_max']:.4g}   ({d['type']})")


def lens_rows(d):
    """The page's readout table: [measure, exact, first-order] as text (4 significant digits)."""
    return [["R0 (worst loss rise)", f"{d['R0']:.4g}", f"{d['h']:.4g}"],
            ["R1 (rho max |grad|)", f"{d['R1']:.4g}", f"{d['R1_first_order']:.4g}"],
            ["|grad L(theta)|", f"{d['grad_norm']:.4g}", ""],
            ["lambda_min", f"{d['lambda_min']:.4g}", ""],
            ["lambda_max", f"{d['lambda_max']:.4g}", ""],
            ["type of the point", d["type"], ""]]


def _half(L, rho):
    (x0, x1), (y0, y1) = L.bounds
    need = max(2.0 * rho, 0.05 * min(x1 - x0, y1 - y0))
    base = 0.05 * min(x1 - x0, y1 - y0)
    k = max(0, math.ceil(math.log(need / base) / math.log(LADDER) - 1e-9))
    return base * LADDER ** k


def _window_ok(win, L, p, rho):
    if win is None or win["landscape"] != L.name or win["half"] != _half(L, rho):
        return False
    return float(np.max(np.abs(p - win["centre"]))) + rho <= 0.92 * win["half"]


def _build(fig, L, p, rho, n, text):
    half = _half(L, rho)
    fig.clear()
    canvas.invalidate(fig, forget=True)
    if text:
        ax = fig.add_axes([0.06, 0.1, 0.5, 0.82])
    else:  # a square window: 3.6 in square axes, margins for the tick labels and title
        ax = fig.add_axes([0.62 / 4.4, 0.45 / 4.4, 3.6 / 4.4, 3.6 / 4.4])
    cx, cy = p
    X, Y, Z = L.grid(n, ((cx - half, cx + half), (cy - half, cy + half)))
    with np.errstate(all="ignore"):
        plot_landscape({"name": L.name, "X": X, "Y": Y, "Z": np.nan_to_num(Z),
                        "minima": L.minima}, ax, levels=25)
    ax.set_xlim(cx - half, cx + half), ax.set_ylim(cy - half, cy + half)
    ax.set_title(f"flatness lens on {L.name}")
    ax.set_xlabel("x", labelpad=1), ax.set_ylabel("y", labelpad=1)
    art = {"ball": ax.plot([], [], "w-", lw=1.5, label="ball B(theta, rho)")[0],
           "point": ax.plot([], [], "k+", ms=12, mew=2, label="theta")[0]}
    for key, mk, col, lab in MARKS:
        style = {**MARKERS[mk], **_SIZE.get(key, {})}
        art[key] = ax.plot([], [], color=col, label=lab, **style)[0]
    txt = None
    if text:  # (the widget shows this legend as HTML beside the figure, off the ball's way)
        ax.legend(handles=list(art.values()), fontsize=8, loc="lower right", framealpha=0.85)
        tax = fig.add_axes([0.6, 0.1, 0.39, 0.82])
        tax.axis("off")
        txt = tax.text(0.0, 1.0, "", va="top", ha="left", family="monospace", fontsize=9,
                       transform=tax.transAxes)
    canvas.animate(fig, list(art.values()) + ([txt] if txt is not None else []))
    fig._gamtoy_lens = {"landscape": L.name, "centre": np.array(p, float), "half": half,
                        "artists": art, "text": txt}
    return fig._gamtoy_lens


def lens_render(landscape, point, rho, fig=None, n=90, text=True):
    """Draw the ball around `point` on a zoomed contour with the worst, steepest, SAM and GAM
    points (text=True: and the readout beside it); returns (fig, data) with data from
    `lens_data` plus "artists" and "window" ((x0, x1), (y0, y1))."""
    d = lens_data(landscape, point, rho)
    L = _landscapes.get(landscape)
    p, rho = d["point"], d["rho"]
    if fig is None:
        fig = canvas.new_figure((8.5, 4.6) if text else (4.4, 4.4))
    win = getattr(fig, "_gamtoy_lens", None)
    if not _window_ok(win, L, p, rho) or (win["text"] is not None) != text:
        win = _build(fig, L, p, rho, n, text)
    art = win["artists"]
    a = np.linspace(0, 2 * np.pi, 181)
    art["ball"].set_data(p[0] + rho * np.cos(a), p[1] + rho * np.sin(a))
    art["point"].set_data([p[0]], [p[1]])
    for key, *_ in MARKS:
        art[key].set_data([d[key][0]], [d[key][1]])
    if win["text"] is not None:
        win["text"].set_text(lens_text(d))
    (cx, cy), h = win["centre"], win["half"]
    d["artists"], d["window"] = art, ((cx - h, cx + h), (cy - h, cy + h))
    return fig, d


def _html(d, renders):
    head = (f"<div style='font-size:12px'><b>theta = ({d['point'][0]:.4g}, {d['point'][1]:.4g}), "
            f"rho = {d['rho']:g}</b></div>")
    state = {"landscape": d["landscape"], "x": float(d["point"][0]), "y": float(d["point"][1]),
             "rho": d["rho"]}
    return canvas.html_block(head + canvas.html_table(["", "exact", "first-order"], lens_rows(d))
                             + canvas.state_tag(state, renders))


def _controls(W, L, x, y, rho):
    """The lens's controls on landscape `L`: the landscape dropdown and the x, y, rho sliders,
    each over a grid that contains its initial value."""
    (x0, x1), (y0, y1) = L.bounds
    c = {"landscape": W.Dropdown(options=_landscapes.names(), value=L.name,
                                 description="landscape", style={"description_width": "76px"},
                                 layout=W.Layout(width="220px")),
         "x": canvas.slider(W, "x", canvas.linear_grid(x0, x1, canvas.nice_step(x1 - x0),
                                                       [x]), x),
         "y": canvas.slider(W, "y", canvas.linear_grid(y0, y1, canvas.nice_step(y1 - y0),
                                                       [y]), y),
         "rho": canvas.slider(W, "rho", canvas.linear_grid(0.0, 2.0, 0.01, [rho]), rho)}
    return c


def _page(W, c):
    """The lens's page around the controls `c`: (the Box, its PNG Image, its readout HTML), with
    the key to the marks."""
    image = W.Image(format="png", layout=W.Layout(width="500px", height="auto"))
    image.add_class("gamtoy-figure")
    html = W.HTML()
    html.add_class("gamtoy-readout")
    marks = " &nbsp; ".join(f"<span style='color:{col}'>{g}</span> {lab}" for (_, _, col, lab), g
                            in zip(MARKS, ("\u25b2", "\u25bc", "\u25cf", "\u00d7"), strict=True))
    key = W.HTML(f"<div style='font-size:11px;color:#444;line-height:1.35'>"
                 f"+ theta, white circle: the ball; "
                 f"{marks}</div>", layout=W.Layout(width="360px"))
    controls = W.VBox([c["landscape"], c["x"], c["y"], c["rho"], html, key],
                      layout=W.Layout(width="370px", min_width="360px"))
    box = W.HBox([image, controls], layout=W.Layout(flex_flow="row wrap",
                                                    align_items="flex-start", grid_gap="0 12px"))
    box.add_class("gamtoy-lens")
    return box, image, html


def lens(**initial):
    """An ipywidgets lens: landscape dropdown and x, y, rho sliders over `lens_render`.

    Keywords: landscape (default 'fig1a'), x, y (default: the landscape's last known minimum,
    fig1a: valley B), rho (0.5). The Box has `.controls`, `.fig`, `.image`, `.html`, `.last`,
    `.initial`, `.renders` and `.refresh()`. Sliders run over exact grids containing the initial
    values (the page cannot snap them).
    """
    W = require("ipywidgets")
    unknown = set(initial) - {"landscape", "x", "y", "rho"}
    if unknown:
        raise ValueError(f"lens: unknown keyword(s) {sorted(unknown)}; valid: landscape, x, y, rho")
    name = initial.get("landscape", "fig1a")
    L = _landscapes.get(name)
    m = default_point(L)
    x0_, y0_ = (_v.real(k, initial.get(k, m[i])) for i, k in enumerate(("x", "y")))
    rho0 = _v.real("rho", initial.get("rho", 0.5), low=0)
    c = _controls(W, L, x0_, y0_, rho0)
    box, image, html = _page(W, c)
    box.controls, box.fig, box.image, box.html, box.last = c, None, image, html, None
    box.initial = {"landscape": L.name, "x": x0_, "y": y0_, "rho": rho0}
    box.renders = 0
    hold = [False]

    def refresh(change=None):
        if hold[0]:
            return
        box.fig, box.last = lens_render(c["landscape"].value, (c["x"].value, c["y"].value),
                                        c["rho"].value, box.fig, text=False)
        box.renders += 1
        image.value = canvas.png_bytes(box.fig)
        html.value = _html(box.last, box.renders)

    def on_landscape(change):
        lo = _landscapes.get(change["new"])
        (a0, a1), (b0, b1) = lo.bounds
        mm = default_point(lo)
        hold[0] = True
        try:
            canvas.set_options(c["x"], canvas.linear_grid(a0, a1, canvas.nice_step(a1 - a0),
                                                          [mm[0]]), mm[0])
            canvas.set_options(c["y"], canvas.linear_grid(b0, b1, canvas.nice_step(b1 - b0),
                                                          [mm[1]]), mm[1])
        finally:
            hold[0] = False
        refresh()

    c["landscape"].observe(on_landscape, names="value")
    for k in ("x", "y", "rho"):
        c[k].observe(refresh, names="value")
    box.refresh = refresh
    refresh()
    image.layout.width = canvas.css_width(box.fig)
    return canvas.with_first_frame(box)
