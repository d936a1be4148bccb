"""GAM Figure 1 (Sec. 4.2): zeroth- vs first-order flatness at two valleys A and B, and Prop. 4.2.

    R0(theta) = max_{|e|<=rho} L(theta+e) - L(theta)      (GAM Eq. 2)
    R1(theta) = rho max_{|e|<=rho} |grad L(theta+e)|      (GAM Eq. 3)
    test(theta) = E L(theta + eps) - L(theta), eps ~ N(0, sigma^2 I)   (our train/test mismatch)
"""
import numpy as np
from matplotlib.patches import Circle

from .. import flatness as F
from .. import landscapes as _landscapes
from .common import generalisation_error, get_ax, intervals, landscape_grid, plot_landscape

CLAIMS = {"fig1a": "R0 ties (within 5%), R1 and test prefer A",
          "fig1b": "R0 prefers B, R1 and test prefer A"}


def valley_measures(landscape, points, rho, sigma):
    """R0, R1 (with worst / steepest points), h, test error and lambda_max at `points` (k, 2)."""
    L = _landscapes.get(landscape)
    r0, worst = F.r0(L, points, rho, return_argmax=True)
    r1, steep = F.r1(L, points, rho, return_argmax=True)
    return {"R0": r0, "R1": r1, "worst": worst, "steepest": steep,
            "h": F.surrogate_gap(L, points, rho), "test": generalisation_error(L, points, sigma),
            "lambda_max": F.lambda_max(L, points)}


def fig1_data(name="fig1a", rho=None, sigma=None, n1d=801, n2d=150):
    """Everything GAM Fig. 1a/1b draws, at the landscape's own rho; sigma (test shift) = rho."""
    L = _landscapes.get(name)
    rho = float(L.rho if rho is None else rho)
    sigma = rho if sigma is None else float(sigma)
    (x0, x1), _ = L.bounds
    xs = np.linspace(x0, x1, n1d)
    line = np.stack([xs, np.zeros_like(xs)], -1)
    out = {"name": L.name, "rho": rho, "sigma": sigma, "minima": L.minima[:2], "x": xs,
           "loss": L.value(line), "test_loss": L.value(line) + generalisation_error(L, line, sigma),
           "grid": landscape_grid(L, n2d)}
    out.update(valley_measures(L, L.minima[:2], rho, sigma))
    return out


def plot_fig1_1d(data, ax=None):
    """The loss along y = 0, the expected test loss, each ball, worst and steepest point."""
    ax = get_ax(ax)
    (loss,) = ax.plot(data["x"], data["loss"], "k-", lw=1.5, label="train loss L")
    (test,) = ax.plot(data["x"], data["test_loss"], ":", color="tab:orange", lw=1.5,
                      label=f"test loss (shift sigma={data['sigma']:.2g})")
    m, rho = data["minima"], data["rho"]
    L0 = np.interp(m[:, 0], data["x"], data["loss"])
    spans = [ax.axvspan(c - rho, c + rho, color="tab:blue", alpha=0.12) for c in m[:, 0]]
    r0 = ax.vlines(m[:, 0], L0, L0 + data["R0"], color="tab:blue", lw=4, label="R0 (bar)")
    w, s = data["worst"], data["steepest"]
    (worst,) = ax.plot(w[:, 0], np.interp(w[:, 0], data["x"], data["loss"]), "v", color="tab:blue",
                       ls="none", label="worst point")
    (steep,) = ax.plot(s[:, 0], np.interp(s[:, 0], data["x"], data["loss"]), "^", color="tab:red",
                       ls="none", label="steepest point")
    top = max(np.max(L0 + data["R0"]) * 3, np.max(data["test"]) * 2)
    ax.set_ylim(-0.05 * top, top)
    for c, lab in zip(m[:, 0], "AB"):
        ax.annotate(lab, (c, -0.04 * top), ha="center", fontsize=11)
    ax.set_xlabel("x (y = 0)")
    ax.set_ylabel("loss")
    ax.legend(fontsize=7, loc="upper center")
    ax.set_title(f"{data['name']}: rho = {rho:g}")
    return {"loss": loss, "test": test, "balls": spans, "R0": r0, "worst": worst, "steepest": steep}


def plot_fig1_2d(data, ax=None):
    """The 2D landscape with each ball, its worst point (R0) and steepest point (R1)."""
    ax = get_ax(ax)
    art = plot_landscape(data["grid"], ax)
    balls = [ax.add_patch(Circle(c, data["rho"], fill=False, ec="w", lw=1.2)) for c in data["minima"]]
    (worst,) = ax.plot(*data["worst"].T, "v", color="tab:blue", mec="w", ls="none", label="worst (R0)")
    (steep,) = ax.plot(*data["steepest"].T, "^", color="tab:red", mec="w", ls="none",
                       label="steepest (R1)")
    ax.legend(fontsize=7, loc="lower center")
    art.update(balls=balls, worst=worst, steepest=steep)
    return art


def plot_fig1_bars(data, ax=None):
    """R0, R1 and the test error at A and B as grouped bars. Returns {"A": bars, "B": bars}."""
    ax = get_ax(ax)
    keys = ["R0", "R1", "test"]
    pos = np.arange(len(keys))
    bars = {}
    for i, lab in enumerate("AB"):
        vals = [data[k][i] for k in keys]
        bars[lab] = ax.bar(pos + (i - 0.5) * 0.38, vals, 0.38, label=f"valley {lab}",
                           color=["tab:blue", "tab:gray"][i])
    ax.set_xticks(pos, keys)
    ax.legend(fontsize=8)
    ax.set_title("A = preferred by first-order flatness")
    return bars


def rho_range_data(name="fig1a", rhos=None, sigma_factor=1.0, n=25):
    """R0, R1, test at A and B for each radius r (landscape fixed; test shift sigma = factor r).

    Also the r-intervals where each ordering holds and where the figure's whole claim holds
    (CLAIMS[name]).
    """
    L = _landscapes.get(name)
    rhos = np.linspace(0.4 * L.rho, 1.6 * L.rho, n) if rhos is None else np.asarray(rhos, float)
    m = L.minima[:2]
    rows = [valley_measures(L, m, r, sigma_factor * r) for r in rhos]
    d = {"name": L.name, "rho": L.rho, "rhos": rhos}
    for k in ("R0", "R1", "test"):
        d[k] = np.array([row[k] for row in rows])  # (n, 2): columns A, B
    ok = {"R1 prefers A": d["R1"][:, 0] < d["R1"][:, 1], "test prefers A": d["test"][:, 0] < d["test"][:, 1]}
    if L.name == "fig1a":
        ok["R0 ties"] = np.abs(d["R0"][:, 1] / d["R0"][:, 0] - 1) < 0.05
    else:
        ok["R0 prefers B"] = d["R0"][:, 1] < d["R0"][:, 0]
    ok["claim"] = np.logical_and.reduce(list(ok.values()))
    d["holds"] = ok
    d["ranges"] = {k: intervals(rhos, v) for k, v in ok.items()}
    return d


def plot_rho_range(data, ax=None):
    """The ratios B/A of R0, R1 and test against r; shaded where the claim holds."""
    ax = get_ax(ax)
    lines = {}
    for k, c in (("R0", "tab:blue"), ("R1", "tab:red"), ("test", "tab:orange")):
        (lines[k],) = ax.plot(data["rhos"], data[k][:, 1] / data[k][:, 0], color=c, label=f"{k}(B)/{k}(A)")
    ax.axhline(1, color="k", lw=0.8)
    ax.axvline(data["rho"], color="k", ls="--", lw=0.8)
    spans = [ax.axvspan(lo, hi, color="tab:green", alpha=0.15) for lo, hi in data["ranges"]["claim"]]
    ax.set_xlabel("radius rho (landscape fixed)")
    ax.set_ylabel("B / A")
    ax.set_title(f"{data['name']}: {CLAIMS.get(data['name'], '')}", fontsize=8)
    ax.legend(fontsize=7)
    lines["claim"] = spans
    return lines


def prop42_data(landscape, rho, n=40, bounds=None):
    """R0 and R1 (exact) on an n x n grid: GAM Prop. 4.2 says R0 <= R1 everywhere."""
    L = _landscapes.get(landscape)
    (x0, x1), (y0, y1) = bounds or L.bounds
    X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    P = np.stack([X, Y], -1)
    return {"name": L.name, "rho": rho, "X": X, "Y": Y, "R0": F.r0(L, P, rho), "R1": F.r1(L, P, rho)}


def plot_prop42(data, axes=None):
    """Three panels: R0, R1 and R0/R1 (<= 1 by Prop. 4.2). Returns the three QuadMeshes."""
    if axes is None:
        import matplotlib.pyplot as plt
        axes = plt.subplots(1, 3, figsize=(13, 3.4))[1]
    ratio = data["R0"] / np.maximum(data["R1"], 1e-300)
    out = []
    for ax, Z, t in zip(axes, (data["R0"], data["R1"], ratio), ("R0", "R1", "R0 / R1 (<= 1)")):
        q = ax.pcolormesh(data["X"], data["Y"], Z, shading="auto",
                          vmin=0 if t.startswith("R0 /") else None, vmax=1 if t.startswith("R0 /") else None)
        ax.figure.colorbar(q, ax=ax)
        ax.set_title(f"{data['name']}, rho={data['rho']:g}: {t}")
        ax.set_aspect("equal", adjustable="box")
        out.append(q)
    return out


def periods_data(periods=(1, 2, 3, 4), rho=0.5):
    """GAM Sec. 4.2 on fig1a: more minima in the ball (m ripple rings) leave R0 unchanged, raise R1."""
    Ls = [_landscapes.get("fig1a", periods=m, rho=rho) for m in periods]
    rows = [valley_measures(L, L.minima[1:2], rho, rho) for L in Ls]
    return {"periods": np.asarray(periods), "rho": rho,
            **{k: np.array([r[k][0] for r in rows]) for k in ("R0", "R1", "test")}}


def plot_periods(data, ax=None):
    """R0, R1 and test at valley B against the number of ripple rings m. Returns the lines."""
    ax = get_ax(ax)
    out = {}
    for k, c in (("R0", "tab:blue"), ("R1", "tab:red"), ("test", "tab:orange")):
        (out[k],) = ax.plot(data["periods"], data[k], "o-", color=c, label=k)
    ax.set_xlabel("ripple rings m inside the ball (fig1a, valley B)")
    ax.set_xticks(data["periods"])
    ax.set_title(f"rho = {data['rho']:g}: R0 is blind to the ripples", fontsize=9)
    ax.legend(fontsize=8)
    return out
