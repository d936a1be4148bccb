"""The flatness lens: one point, its ball B(theta, rho), and where the ball's maxima are.

    fig, data = lens_render("fig1a", (2.0, 0.5), 0.5)
    data["worst"]     # exact argmax of L over the ball: L(worst) - L(theta) = R0  (GAM Eq. 2)
    data["steepest"]  # exact argmax of |grad L| over the ball: rho |grad L(steepest)| = R1 (Eq. 3)
    data["w_adv"], data["theta_adv"]   # SAM's and GAM's first-order guesses of those two points

The zoomed contour (a local grid around theta) is redrawn on every call; pass `fig` back to reuse
the figure.
"""
import numpy as np

from .. import flatness as F
from .. import landscapes as _landscapes
from ..figures.common import plot_landscape
from . import canvas

MARKS = (("worst", "^", "tab:red", "worst loss (R0 argmax)"),
         ("steepest", "v", "tab:orange", "steepest (R1 argmax)"),
         ("w_adv", "o", "tab:green", "w_adv (SAM)"),
         ("theta_adv", "X", "tab:blue", "theta_adv (GAM)"))


def lens_data(landscape, point, rho):
    """The lens numbers at `point`: R0, R1 (exact, with argmax), h, R1 first-order, lambda_max,
    the SAM / GAM ascent points and the losses at the point and at the worst point."""
    L = _landscapes.get(landscape)
    p = np.asarray(point, float).reshape(2)
    rho = float(rho)
    with np.errstate(all="ignore"):
        r0, worst = F.r0(L, p, rho, return_argmax=True)
        r1, steep = F.r1(L, p, rho, return_argmax=True)
        d = {"landscape": L.name, "point": p, "rho": rho, "R0": float(r0), "R1": float(r1),
             "worst": np.asarray(worst, float), "steepest": np.asarray(steep, float),
             "h": float(F.surrogate_gap(L, p, rho)),
             "R1_first_order": float(F.r1_first_order(L, p, rho)),
             "lambda_max": float(F.lambda_max(L, p)), "grad_norm": float(F.grad_norm(L, p)),
             "w_adv": np.asarray(F.sam_point(L, p, rho), float),
             "theta_adv": np.asarray(F.gam_point(L, p, rho), float),
             "loss": float(L.value(p)), "loss_worst": float(L.value(worst))}
    return d


def lens_text(d):
    """The lens readout as a few lines of text."""
    return (f"theta = ({d['point'][0]:.3f}, {d['point'][1]:.3f}),  rho = {d['rho']:g}\n"
            f"R0 = {d['R0']:.4g}   h (first-order R0) = {d['h']:.4g}\n"
            f"R1 = {d['R1']:.4g}   R1 first-order = {d['R1_first_order']:.4g}\n"
            f"|g| = {d['grad_norm']:.3g}   lambda_max = {d['lambda_max']:.4g}")


def lens_render(landscape, point, rho, fig=None, n=90):
    """Draw the ball around `point` on a zoomed contour with the worst, steepest, SAM and GAM
    points and the readout; returns (fig, data) with data from `lens_data` plus "artists"."""
    d = lens_data(landscape, point, rho)
    L = _landscapes.get(landscape)
    p, rho = d["point"], d["rho"]
    (x0, x1), (y0, y1) = L.bounds
    half = max(2.0 * rho, 0.05 * min(x1 - x0, y1 - y0))
    X, Y, Z = L.grid(n, ((p[0] - half, p[0] + half), (p[1] - half, p[1] + half)))
    if fig is None:
        fig = canvas.new_figure((8.5, 4.6))
    fig.clear()
    canvas.invalidate(fig, forget=True)
    ax = fig.add_axes([0.06, 0.1, 0.5, 0.82])
    txt = fig.add_axes([0.6, 0.1, 0.39, 0.82])
    txt.axis("off")
    with np.errstate(all="ignore"):
        plot_landscape({"name": L.name, "X": X, "Y": Y, "Z": np.nan_to_num(Z), "minima": L.minima},
                       ax, levels=25)
    ax.set_xlim(p[0] - half, p[0] + half), ax.set_ylim(p[1] - half, p[1] + half)
    a = np.linspace(0, 2 * np.pi, 181)
    art = {"ball": ax.plot(p[0] + rho * np.cos(a), p[1] + rho * np.sin(a), "w-", lw=1.5,
                           label=f"ball, rho={rho:g}")[0],
           "point": ax.plot([p[0]], [p[1]], "k+", ms=12, mew=2, label="theta")[0]}
    for key, mk, c, lab in MARKS:
        q = d[key]
        art[key] = ax.plot([q[0]], [q[1]], mk, color=c, mec="k", ms=9, label=lab, ls="none")[0]
    ax.legend(fontsize=7, loc="lower right", framealpha=0.8)
    ax.set_title(f"flatness lens on {L.name}")
    txt.text(0.0, 1.0, lens_text(d), va="top", ha="left", family="monospace", fontsize=9,
             transform=txt.transAxes)
    d["artists"] = art
    return fig, d


def lens(**initial):
    """An ipywidgets lens: landscape dropdown and x, y, rho sliders over `lens_render`.

    Keywords: landscape (default 'fig1a'), x, y, rho. The VBox has `.controls`, `.fig`,
    `.image`, `.html`, `.last` and `.refresh()`.
    """
    import ipywidgets as W
    name = initial.get("landscape", "fig1a")
    L = _landscapes.get(name)
    (x0, x1), (y0, y1) = L.bounds
    m = L.minima[-1] if L.minima is not None and len(L.minima) else ((x0 + x1) / 2, (y0 + y1) / 2)
    kw = dict(continuous_update=True)
    c = {"landscape": W.Dropdown(options=_landscapes.names(), value=L.name,
                                 description="landscape"),
         "x": W.FloatSlider(value=initial.get("x", m[0]), min=x0, max=x1, step=(x1 - x0) / 200,
                            description="x", **kw),
         "y": W.FloatSlider(value=initial.get("y", m[1]), min=y0, max=y1, step=(y1 - y0) / 200,
                            description="y", **kw),
         "rho": W.FloatSlider(value=initial.get("rho", 0.5), min=0.0, max=2.0, step=0.01,
                              description="rho", **kw)}
    image, html = W.Image(format="png"), W.HTML()
    box = W.VBox([W.HBox([c["landscape"], c["rho"]]), W.HBox([c["x"], c["y"]]), html, image])
    box.controls, box.fig, box.image, box.html, box.last = c, None, image, html, None
    hold = [False]

    def refresh(change=None):
        if hold[0]:
            return
        box.fig, box.last = lens_render(c["landscape"].value, (c["x"].value, c["y"].value),
                                        c["rho"].value, box.fig)
        image.value = canvas.png_bytes(box.fig)
        html.value = "<pre>" + lens_text(box.last) + "</pre>"

    def on_landscape(change):
        lo = _landscapes.get(change["new"])
        (a0, a1), (b0, b1) = lo.bounds
        mm = lo.minima[-1] if lo.minima is not None and len(lo.minima) else ((a0 + a1) / 2,
                                                                              (b0 + b1) / 2)
        hold[0] = True
        try:
            canvas.set_range(c["x"], a0, a1, float(mm[0]), (a1 - a0) / 200)
            canvas.set_range(c["y"], b0, b1, float(mm[1]), (b1 - b0) / 200)
        finally:
            hold[0] = False
        refresh()

    c["landscape"].observe(on_landscape, names="value")
    for k in ("x", "y", "rho"):
        c[k].observe(refresh, names="value")
    box.refresh = refresh
    refresh()
    return box
