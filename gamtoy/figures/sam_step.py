"""One SAM step in 1D (notebook 00): the point w, SAM's ascent point w_adv = w + rho g/|g|
(GSAM Eq. 3), the gradient there g_p, and where SGD's and SAM's steps land.

    d = sam_step_data()          # compute once
    plot_sam_step(d, ax=None)    # draw (returns the artists)

The 1D loss has a sharp, narrow well and a flat, wide one (two Gaussian wells). From a point low
on the sharp well's wall, w_adv is higher on the wall where the slope g_p is about twice g: SAM's
step is about twice as long as SGD's and lands far up the other wall, SGD's near the bottom.
"""
import numpy as np

from .common import get_ax

# (centre, depth, width) of the two wells: a sharp one on the left, a flat one on the right
WELLS = ((-1.0, 1.0, 0.18), (1.4, 1.05, 0.75))


def loss_1d(w):
    """L(w) = -sum_i d_i exp(-(w - c_i)^2 / (2 s_i^2)) (elementwise)."""
    w = np.asarray(w, float)
    return -sum(d * np.exp(-(w - c) ** 2 / (2 * s * s)) for c, d, s in WELLS)


def grad_1d(w):
    """L'(w), exact."""
    w = np.asarray(w, float)
    return sum(d * (w - c) / (s * s) * np.exp(-(w - c) ** 2 / (2 * s * s)) for c, d, s in WELLS)


def curvature_1d(w):
    """L''(w), exact: the 1D sharpness (lambda_max)."""
    w = np.asarray(w, float)
    return sum(d / (s * s) * (1 - (w - c) ** 2 / (s * s)) * np.exp(-(w - c) ** 2 / (2 * s * s))
               for c, d, s in WELLS)


def sam_step_data(w=-0.95, rho=0.1, lr=0.1, xi=1e-12):
    """{"x", "loss", "w", "w_adv", "g", "g_p", "w_sgd", "w_sam", "rho", "lr", "lambda"}: one
    step of SGD (w - lr g) and of SAM (w - lr g_p, g_p = L'(w + rho g/(|g| + xi)), GSAM Eq. 3),
    and the curvature of each well at its bottom."""
    if not (rho > 0 and lr > 0):
        raise ValueError(f"rho and lr must be > 0, got rho={rho}, lr={lr}")
    g = float(grad_1d(w))
    w_adv = w + rho * g / (abs(g) + xi)
    g_p = float(grad_1d(w_adv))
    x = np.linspace(-1.8, 3.0, 600)
    return {"x": x, "loss": loss_1d(x), "w": float(w), "w_adv": float(w_adv), "g": g,
            "g_p": g_p, "w_sgd": w - lr * g, "w_sam": w - lr * g_p, "rho": rho, "lr": lr,
            "lambda": {"sharp": float(curvature_1d(WELLS[0][0])),
                       "flat": float(curvature_1d(WELLS[1][0]))}}


def plot_sam_step(data, ax=None):
    """The loss, the ball [w - rho, w + rho], w, w_adv, the slopes g and g_p as tangent segments,
    and the landing points of SGD and SAM. Returns {name: artist}."""
    from .style import MARKERS
    from .style import OPTIMIZER_COLORS as C
    ax = get_ax(ax)
    d = data

    def L(v):
        return float(loss_1d(v))

    out = {"loss": ax.plot(d["x"], d["loss"], "k-", lw=1.6, label="loss L(w)")[0]}
    out["ball"] = ax.axvspan(d["w"] - d["rho"], d["w"] + d["rho"], color="0.85",
                             label=f"ball |e| <= rho = {d['rho']:g}")
    half = 0.12
    for key, at, c, ls in (("g", d["w"], C["sgd"], "-"), ("g_p", d["w_adv"], C["sam"], "--")):
        slope = d[key]
        seg = np.array([at - half, at + half])
        (out[key],) = ax.plot(seg, L(at) + slope * (seg - at), color=c, ls=ls, lw=2.2,
                              label=f"slope {key} = {slope:.2f}")
    out["w"] = ax.plot([d["w"]], [L(d["w"])], **{**MARKERS["start"], "ms": 9}, label="w")[0]
    out["w_adv"] = ax.plot([d["w_adv"]], [L(d["w_adv"])], color=C["sam"],
                           **{**MARKERS["w_adv"], "ms": 14}, label="w_adv = w + rho g/|g|")[0]
    for key, c, ls, name in (("w_sgd", C["sgd"], "-", "SGD: w - lr g"),
                             ("w_sam", C["sam"], "--", "SAM: w - lr g_p")):
        out[key] = ax.annotate("", xy=(d[key], L(d[key])), xytext=(d["w"], L(d["w"])),
                               arrowprops=dict(arrowstyle="->", color=c, ls=ls, lw=2))
        ax.plot([d[key]], [L(d[key])], **{**MARKERS["end"], "mfc": c}, label=name)
    ax.set_ylim(min(d["loss"]) - 0.12, max(d["loss"]) + 0.1)
    ax.set_xlabel("w")
    ax.set_ylabel("L(w)")
    ax.set_title(f"One SAM step: lambda = {d['lambda']['sharp']:.0f} (sharp well), "
                 f"{d['lambda']['flat']:.1f} (flat well)")
    ax.legend(fontsize=9, loc="lower right")
    return out
