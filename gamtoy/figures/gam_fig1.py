"""GAM Figure 1 (Sec. 4.2): zeroth- vs first-order flatness at two valleys A and B, and Prop. 4.2.

    R0(theta) = max_{|e|<=rho} L(theta+e) - L(theta)      (GAM Eq. 2)
    R1(theta) = rho max_{|e|<=rho} |grad L(theta+e)|      (GAM Eq. 3)
    test(theta) = E L(theta + eps) - L(theta), eps ~ N(0, sigma^2 I)   (our train/test mismatch)
"""
import numpy as np
from matplotlib.patches import Circle

from .. import flatness, stats, validate
from .. import landscapes as _landscapes
from .. import neighbourhood as nb
from .. import optim as _optim
from ..outcomes import Outcome, classify
from ..run import run
from .common import generalisation_error, get_ax, intervals, landscape_grid, plot_landscape
from .style import MEASURE_COLORS, OKABE_ITO

# a marker and line style per measure, so R0, R1 and the test loss differ without colour too
MEASURE_STYLE = {"R0": "o-", "R1": "s--", "test": "^:"}

# the orderings each panel checks (the sweep shades the radii where all of them hold)
CLAIMS = {"fig1a": "R0 ties (within 5%), R1 and test prefer A",
          "fig1b": "R0 prefers B, R1 and test prefer A"}
FIG1_OPTIMIZERS = ("sgd", "sam", "gam", "gam_accel")


def valley_measures(landscape, points, rho, sigma):
    """R0, R1 (with worst / steepest points), h, test error and lambda_max at `points` (k, 2)."""
    L = _landscapes.get(landscape)
    r0, worst = flatness.r0(L, points, rho, return_argmax=True)
    r1, steep = flatness.r1(L, points, rho, return_argmax=True)
    return {"R0": r0, "R1": r1, "worst": worst, "steepest": steep,
            "h": flatness.surrogate_gap(L, points, rho),
            "test": generalisation_error(L, points, sigma),
            "lambda_max": flatness.lambda_max(L, points)}


def fig1_data(name="fig1a", rho=None, sigma=None, n1d=801, n2d=150):
    """Everything GAM Fig. 1a/1b draws, at the landscape's own rho; sigma (test shift) = rho."""
    L = _landscapes.get(name)
    rho = float(L.rho if rho is None else rho)
    sigma = rho if sigma is None else float(sigma)
    (x0, x1), _ = L.bounds
    xs = np.linspace(x0, x1, n1d)
    line = np.stack([xs, np.zeros_like(xs)], -1)
    out = {"name": L.name, "rho": rho, "sigma": sigma, "minima": L.minima[:2], "x": xs,
           "c": float(L.params.get("c", 1.0)),
           "loss": L.value(line), "test_loss": L.value(line) + generalisation_error(L, line, sigma),
           "grid": landscape_grid(L, n2d)}
    out.update(valley_measures(L, L.minima[:2], rho, sigma))
    return out


def plot_fig1_1d(data, ax=None, inset=None):
    """The loss along y = 0, the expected test loss, each ball, worst (R0) and steepest (R1) point
    (style.MARKERS). inset (default: on fig1a) zooms on valley B so its ripple shows."""
    from .style import MARKERS
    ax = get_ax(ax)
    (loss,) = ax.plot(data["x"], data["loss"], "k-", lw=1.5, label="train loss L")
    (test,) = ax.plot(data["x"], data["test_loss"], ":", color=MEASURE_COLORS["test"], lw=1.8,
                      label=f"test loss (shift sigma = {data['sigma']:.2g})")
    m, rho = data["minima"], data["rho"]
    L0 = np.interp(m[:, 0], data["x"], data["loss"])
    spans = [ax.axvspan(c - rho, c + rho, color=MEASURE_COLORS["R0"], alpha=0.12) for c in m[:, 0]]
    r0 = ax.vlines(m[:, 0], L0, L0 + data["R0"], color=MEASURE_COLORS["R0"], lw=4, label="R0 (bar)")
    w, s = data["worst"], data["steepest"]
    (worst,) = ax.plot(w[:, 0], np.interp(w[:, 0], data["x"], data["loss"]),
                       color=MEASURE_COLORS["R0"],
                       label="worst point (R0)", **MARKERS["r0_exact"])
    (steep,) = ax.plot(s[:, 0], np.interp(s[:, 0], data["x"], data["loss"]),
                       color=MEASURE_COLORS["R1"],
                       label="steepest point (R1)", **MARKERS["r1_exact"])
    top = max(np.max(L0 + data["R0"]) * 3, np.max(data["test"]) * 2)
    ax.set_ylim(-0.05 * top, top)
    for c, lab in zip(m[:, 0], "AB", strict=False):
        ax.annotate(lab, (c, 0.02 * top), ha="center", fontsize=12, weight="bold")
    ax.set_xlabel("x (along y = 0)")
    ax.set_ylabel("loss")
    ax.legend(fontsize=8, loc="upper center", ncol=3, bbox_to_anchor=(0.5, -0.16), frameon=False)
    ax.set_title(f"{data['name']}: the loss along y = 0, rho = {rho:g}")
    out = {"loss": loss, "test": test, "balls": spans, "R0": r0, "worst": worst, "steepest": steep}
    if inset if inset is not None else data["name"] == "fig1a":
        c = m[1, 0]
        ins = ax.inset_axes([0.37, 0.40, 0.27, 0.5])
        sel = np.abs(data["x"] - c) <= 1.15 * rho
        ins.plot(data["x"][sel], data["loss"][sel], "k-", lw=1.3)
        ins.plot(data["x"][sel], (data["x"][sel] - c) ** 2 * data.get("c", 1.0), color="0.6", lw=1,
                 ls="--")
        ins.set_title("zoom on B: the ripple\n(dashed: smooth c u^2)", fontsize=8)
        ins.tick_params(labelsize=7)
        out["inset"] = ins
    return out


def plot_fig1_2d(data, ax=None, inset=None):
    """The 2D landscape (colorbar, axis labels) with each ball, its worst point (R0) and steepest
    point (R1); inset (default: on fig1a) zooms on valley B with levels fine enough for the
    ripple."""
    from .style import MARKERS
    ax = get_ax(ax)
    art = plot_landscape(data["grid"], ax, colorbar=True, labels=True, title=False)
    balls = [ax.add_patch(Circle(c, data["rho"], fill=False, ec="w",
                                 lw=1.2)) for c in data["minima"]]
    (worst,) = ax.plot(*data["worst"].T, color=MEASURE_COLORS["R0"], label="worst (R0)",
                       **MARKERS["r0_exact"])
    (steep,) = ax.plot(*data["steepest"].T, color=MEASURE_COLORS["R1"], label="steepest (R1)",
                       **MARKERS["r1_exact"])
    ax.legend(fontsize=8, loc="lower left", framealpha=0.8)
    ax.set_title(f"{data['name']}: balls of radius {data['rho']:g}")
    art.update(balls=balls, worst=worst, steepest=steep)
    if inset if inset is not None else data["name"] == "fig1a":
        L = _landscapes.get(data["name"])
        c, r = data["minima"][1], 1.1 * data["rho"]
        X, Y, Z = L.grid(200, ((c[0] - r, c[0] + r), (c[1] - r, c[1] + r)))
        cc, cy = float(L.params.get("c", 1.0)), float(L.params.get("cy", 0.5))
        ripple = Z - (cc * (X - c[0]) ** 2 + cy * (Y - c[1]) ** 2)   # B minus its smooth part
        ins = ax.inset_axes([0.385, 0.28, 0.23, 0.44])
        q = ins.contourf(X, Y, ripple, levels=24, cmap="magma")
        q.set_rasterized(True)
        ins.add_patch(Circle(c, data["rho"], fill=False, ec="w", lw=1))
        ins.set_xticks([]), ins.set_yticks([])
        ins.set_aspect("equal")
        ins.set_title("B minus (c u^2 + cy y^2):\nthe ripple rings", fontsize=8, color="w", pad=2)
        ax.annotate("", xy=(c[0] - data["rho"], c[1]), xytext=(0.62, 0.5),
                    textcoords="axes fraction",
                    arrowprops=dict(arrowstyle="->", color="w", lw=1))
        art["inset"] = ins
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
                           color=[OKABE_ITO["blue"], "0.6"][i], hatch=["", "//"][i])
    ax.set_xticks(pos, keys)
    ax.set_ylabel("value at the valley's minimum")
    ax.legend(fontsize=9)
    r0 = data["R0"][1] / data["R0"][0]
    (p1, g1), (pt, gt_) = preference(data["R1"]), preference(data["test"])
    a, b = data["test"]
    ax.set_title(f"R0(B)/R0(A) = {r0:.2f}, R1 prefers {p1} by {g1:.0%},\n"
                 f"test prefers {pt} by {gt_:.1%} ({a:.3f} vs {b:.3f})", fontsize=11)
    return bars


def preference(values):
    """(the valley with the smaller value, "A" or "B"; how much smaller, relative to the larger):
    how big a preference is, e.g. the test loss 0.375 at A vs 0.387 at B is A by 3.0%."""
    a, b = (float(v) for v in values)
    return ("A" if a < b else "B"), abs(a - b) / max(abs(a), abs(b), 1e-300)


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
    ok = {"R1 prefers A": d["R1"][:, 0] < d["R1"][:, 1],
          "test prefers A": d["test"][:, 0] < d["test"][:, 1]}
    if L.name == "fig1a":
        ok["R0 ties"] = np.abs(d["R0"][:, 1] / d["R0"][:, 0] - 1) < 0.05
    else:
        ok["R0 prefers B"] = d["R0"][:, 1] < d["R0"][:, 0]
    ok["claim"] = np.logical_and.reduce(list(ok.values()))
    d["holds"] = ok
    d["ranges"] = {k: intervals(rhos, v) for k, v in ok.items()}
    return d


def _ranges_text(r):
    return ", ".join(f"{lo:.2f}" if lo == hi else f"{lo:.2f}-{hi:.2f}" for lo, hi in r) or "none"


def describe_rho_range(data):
    """What the radius sweep shows, in words computed from the numbers: the B/A ratio of R0 at the
    landscape's rho and its range over the radii swept, and the radii where each ordering holds."""
    k = int(np.argmin(np.abs(data["rhos"] - data["rho"])))
    r0 = data["R0"][:, 1] / data["R0"][:, 0]
    lines = [f"{data['name']}: R0(B)/R0(A) = {r0[k]:.2f} at rho = {data['rhos'][k]:g}, "
             f"{r0.min():.2f}-{r0.max():.2f} over r in [{data['rhos'][0]:g}, {data['rhos'][-1]:g}]"]
    parts = [f"{key} on r in {_ranges_text(v)}" for key, v in data["ranges"].items()
             if key != "claim"]
    lines.append("; ".join(parts))
    return lines


def plot_rho_range(data, ax=None):
    """The ratios B/A of R0, R1 and test against r; shaded where the whole claim holds.

    The title says only what the numbers show (`describe_rho_range`)."""
    ax = get_ax(ax)
    lines = {}
    for k, c in MEASURE_COLORS.items():
        (lines[k],) = ax.plot(data["rhos"], data[k][:, 1] / data[k][:, 0], MEASURE_STYLE[k], ms=3,
                              color=c, label=f"{k}(B) / {k}(A)")
    ax.axhline(1, color="k", lw=0.8)
    ax.axvline(data["rho"], color="k", ls="--", lw=0.8, label=f"landscape's rho = {data['rho']:g}")
    spans = [ax.axvspan(lo - 0.004, hi + 0.004, color=OKABE_ITO["bluish_green"], alpha=0.2)
             for lo, hi in data["ranges"]["claim"]]
    ax.set_xlabel("radius r (landscape fixed)")
    ax.set_ylabel("valley B / valley A")
    head, tail = describe_rho_range(data)
    ax.set_title(head + "\n" + "green: " + CLAIMS.get(data["name"], "") + " all hold", fontsize=9)
    ax.legend(fontsize=8, loc="best")
    lines["claim"] = spans
    lines["title"] = head
    return lines


def prop42_data(landscape, rho, n=40, bounds=None):
    """R0 and R1 (exact) on an n x n grid: GAM Prop. 4.2 says R0 <= R1 everywhere."""
    L = _landscapes.get(landscape)
    (x0, x1), (y0, y1) = bounds or L.bounds
    X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    P = np.stack([X, Y], -1)
    return {"name": L.name, "rho": rho, "X": X, "Y": Y, "R0": flatness.r0(L, P, rho),
            "R1": flatness.r1(L, P, rho)}


def plot_prop42(data, axes=None):
    """Three panels: R0, R1 and R0/R1 (<= 1 by Prop. 4.2). Returns the three QuadMeshes."""
    if axes is None:
        import matplotlib.pyplot as plt
        axes = plt.subplots(3, 1, figsize=(8, 9.5), constrained_layout=True)[1]
    ratio = data["R0"] / np.maximum(data["R1"], 1e-300)
    out = []
    titles = ("R0", "R1", "R0 / R1 (Prop. 4.2: <= 1)")
    for ax, Z, t in zip(axes, (data["R0"], data["R1"], ratio), titles, strict=False):
        q = ax.pcolormesh(data["X"], data["Y"], Z, shading="auto", rasterized=True,
                          vmin=0 if t.startswith("R0 /") else None,
                          vmax=1 if t.startswith("R0 /") else None)
        ax.figure.colorbar(q, ax=ax, shrink=0.9).set_label(t.split(" (")[0])
        ax.set_title(f"{data['name']}, rho = {data['rho']:g}: {t}", fontsize=12)
        ax.set_xlabel("x"), ax.set_ylabel("y")
        ax.set_aspect("equal", adjustable="box")
        out.append(q)
    return out


def periods_data(periods=(1, 2, 3, 4), rho=0.5):
    """GAM Sec. 4.2 on fig1a: more minima in the ball (m ripple rings) leave R0 unchanged, raise
    R1."""
    Ls = [_landscapes.get("fig1a", periods=m, rho=rho) for m in periods]
    rows = [valley_measures(L, L.minima[1:2], rho, rho) for L in Ls]
    return {"periods": np.asarray(periods), "rho": rho,
            **{k: np.array([r[k][0] for r in rows]) for k in ("R0", "R1", "test")}}


def plot_periods(data, ax=None):
    """R0, R1 and test at valley B against the number of ripple rings m. Returns the lines."""
    ax = get_ax(ax)
    out = {}
    for k, c in MEASURE_COLORS.items():
        (out[k],) = ax.plot(data["periods"], data[k], MEASURE_STYLE[k], color=c, label=k)
    ax.set_xlabel("ripple rings m inside the ball (fig1a, valley B)")
    ax.set_xticks(data["periods"])
    ax.set_ylabel("value at valley B")
    ax.set_title(f"rho = {data['rho']:g}: R0 stays at {data['R0'][0]:.3f}, R1 grows with the "
                 "ripples",
                 fontsize=11)
    ax.legend(fontsize=8)
    return out


def valley_of(landscape, points, diverged=None):
    """Per end point: 0 valley A, 1 valley B (within 1 of the valley's centre, at a minimum (its
    own or one of B's ripple minima) or still moving where the Hessian is positive definite:
    settling, e.g. into fig1b's quartic B), -3 a saddle, -2 diverged, -1 neither (moving on a
    non-convex slope, or a maximum). By the end point itself (`gamtoy.outcomes.classify`)."""
    L = _landscapes.get(landscape)
    e = classify(L, points, diverged)
    at_min = (e.code >= 0) | (((e.code == Outcome.OTHER_CRITICAL) | (e.code == Outcome.MOVING))
                              & (e.kind == 0))
    d = np.linalg.norm(np.asarray(points, float).reshape(-1, 2)[:, None] - L.minima[None, :2],
                       axis=-1)
    end = np.where(at_min & (np.nan_to_num(d, nan=np.inf).min(1) < 1.0), np.argmin(np.nan_to_num(
        d, nan=np.inf), 1), -1)
    saddle = (e.code == Outcome.SADDLE) | ((e.code == Outcome.OTHER_CRITICAL) & (e.kind == 1))
    end = np.where(saddle, int(Outcome.SADDLE), end)
    return np.where(e.code == Outcome.DIVERGED, int(Outcome.DIVERGED), end)


def fig1_population(name="fig1a", n=20, steps=500, lr=0.05, rho=None, optimizers=FIG1_OPTIMIZERS):
    """Each optimizer from an n x n grid of starts on the landscape's box (vectorised): where it
    ends, valley A, valley B, neither, or diverged, with 95% Wilson intervals; and, against SGD and
    SAM, the difference of the fractions ending in the valley R1 prefers (Newcombe interval;
    "inconclusive" when it covers 0). rho = the landscape's rho (the radius R0/R1 are measured at)
    for SAM, GAM (Alg. 1) and GAM Alg. 2; lr constant.
    """
    L = _landscapes.get(name)
    if getattr(L, "rho", None) is None:
        raise ValueError("fig1_population needs fig1a or fig1b (a landscape with two valleys and "
                         f"a rho), got {L.name!r}")
    n, steps = validate.positive_int("n", n), validate.positive_int("steps", steps)
    lr = validate.real("lr", lr, low=0, low_open=True)
    rho = validate.real("rho", L.rho if rho is None else rho, low=0, low_open=True)
    m = valley_measures(L, L.minima[:2], rho, rho)
    prefer = int(np.argmin(m["R1"]))
    (x0, x1), (y0, y1) = L.bounds
    X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    S = np.stack([X.ravel(), Y.ravel()], -1)
    per = {}
    for nm in optimizers:
        kw = {"lr": lr}
        if "rho" in _optim.DEFAULTS[nm][0]:
            kw["rho"] = rho
        tr = run(nm, L, S, steps, record_every=steps, **kw)  # the ends only
        end = valley_of(L, tr.final, tr.diverged)
        k = {"A": int(np.sum(end == 0)), "B": int(np.sum(end == 1)),
             "neither": int(np.sum(end == -1)),
             "saddle": int(np.sum(end == -3)), "diverged": int(np.sum(end == -2))}
        per[nm] = {"end": end, "counts": k,
                   "frac": {c: (v / len(S),) + stats.wilson(v, len(S)) for c, v in k.items()}}
    key = "AB"[prefer]
    comp = {}
    for g in ("gam", "gam_accel"):
        for ref in ("sgd", "sam"):
            if g in per and ref in per:   # the same starts: a paired difference of two fractions
                diff = stats.paired_fraction_diff(per[g]["end"] == prefer,
                                                  per[ref]["end"] == prefer)
                diff["verdict"] = stats.verdict(diff["lo"], diff["hi"], +1)
                comp[f"{g} - {ref}"] = diff
    return {"name": L.name, "n": len(S), "steps": steps, "lr": lr, "rho": rho, "prefer": key,
            "R1": m["R1"], "per": per, "compare": comp, "starts": S}


def b_side_fate(pop, optimizer="gam"):
    """How `optimizer`'s runs from valley B's side (starts with x > 0) end: counts of A, B, saddle,
    neither, diverged among them, and their number."""
    S, end = pop["starts"], pop["per"][optimizer]["end"]
    side = S[:, 0] > 0
    codes = {"A": 0, "B": 1, "saddle": -3, "neither": -1, "diverged": -2}
    return {"n": int(side.sum()), **{k: int(np.sum(end[side] == c)) for k, c in codes.items()}}


def gam_stability(name="fig1a", lr=0.05, rho=None, alpha=None, n_r=30, n_t=72):
    """Why GAM does not stay in a valley: the step theta -> theta - lr d(theta) is stable near a
    point only if every eigenvalue mu of the Jacobian J of GAM's direction d (GAM Alg. 1, Eq. 7-8;
    central differences) has |1 - lr mu| < 1, so |mu| < 2/lr for real mu. Over each valley's ball
    (radius rho, polar grid n_r x n_t): the largest |mu|, the share of points where the step
    expands, and L's own lambda_max (what SGD sees). {"A": {...}, "B": {...}, "two_over_lr"}."""
    from ..optim.estimators import gam
    L = _landscapes.get(name)
    rho = float(L.rho if rho is None else rho)
    alpha = float(_optim.DEFAULTS["gam"][0]["alpha"] if alpha is None else alpha)
    R, T = np.meshgrid(np.linspace(0.02, 1.0, n_r) * rho,
                       np.linspace(0, 2 * np.pi, n_t, endpoint=False))
    out = {"two_over_lr": 2 / lr, "lr": lr, "rho": rho, "alpha": alpha}
    h = 1e-6
    for lab, c in zip("AB", L.minima[:2], strict=False):
        Q = (c + np.stack([R * np.cos(T), R * np.sin(T)], -1)).reshape(-1, 2)

        def d(P):
            return gam(L, P, rho, alpha)[0]

        J = np.stack([(d(Q + [h, 0]) - d(Q - [h, 0])) / (2 * h),
                      (d(Q + [0, h]) - d(Q - [0, h])) / (2 * h)], -1)
        mu = np.linalg.eigvals(J)
        out[lab] = {"mu_max": float(np.abs(mu).max()),
                    "expanding": float(np.mean(np.abs(1 - lr * mu).max(-1) > 1)),
                    "lambda_max_L": float(np.linalg.eigvalsh(L.hessian(Q))[:, 1].max())}
    return out


def gam_fate_text(pop, stab):
    """GAM's runs from B's side and the stability reason, in words from the numbers."""
    f = b_side_fate(pop)
    a, b = stab["A"], stab["B"]
    how = ("GAM never settles in B: it leaves B for A or diverges from it, rather than comparing "
           "the valleys and choosing" if f["B"] == 0 else f"{f['B']} of them settle in B")
    return (f"GAM from valley B's side ({f['n']} starts): {f['A']} end in A, {f['B']} in B, "
            f"{f['diverged']} diverge; {how}. In B's ball the Jacobian of GAM's direction reaches "
            f"|mu| = {b['mu_max']:.3g} and the step expands at {b['expanding']:.0%} of the points "
            f"(stable needs |1 - lr mu| < 1: |mu| < 2/lr = {stab['two_over_lr']:g}), while L's own "
            f"lambda_max there is {b['lambda_max_L']:.3g} < 2/lr (SGD stays); in A's ball |mu| <= "
            f"{a['mu_max']:.3g}, expanding at {a['expanding']:.0%} of the points "
            f"(lr = {stab['lr']:g}, rho = {stab['rho']:g}, alpha = {stab['alpha']:g}).")


def fig1_population_markdown(pop):
    """Fractions per optimizer and the paired differences, as markdown."""
    rows = [f"### {pop['name']}: R1 prefers valley {pop['prefer']} "
            f"(R1 = {pop['R1'][0]:.3f} at A, {pop['R1'][1]:.3f} at B, rho = {pop['rho']:g})", "",
            "| optimizer | ends in A | ends in B | at a saddle | neither | diverged |",
            "|---|---|---|---|---|---|"]
    for nm, d in pop["per"].items():
        rows.append(f"| {nm} | " + " | ".join(stats.fmt(*d["frac"][c], digits=2)
                                             for c in ("A", "B", "saddle", "neither",
                                                       "diverged")) + " |")
    rows += ["", f"| difference in the fraction ending in {pop['prefer']} | estimate [95% "
                 f"{stats.PAIRED_FRACTION_METHOD}] | verdict | diverged (first optimizer) |",
             "|---|---|---|---|"]
    for k, d in pop["compare"].items():
        dv = pop["per"][k.split(" - ")[0]]["frac"]["diverged"]
        rows.append(f"| {k} | {stats.fmt(d['mean'], d['lo'], d['hi'], digits=2)} | {d['verdict']} "
                    f"| {stats.fmt(*dv, digits=2)} |")
    if "gam" in pop["per"] and "starts" in pop:
        rows.append("\n" + gam_fate_text(pop, gam_stability(pop["name"], pop["lr"], pop["rho"])))
    rows.append(f"\n{pop['n']} starts on a grid over the landscape's box, lr = {pop['lr']:g} "
                f"(constant), rho = {pop['rho']:g}, {pop['steps']} steps; a run is in a valley "
                "when it ends at a minimum (by its own gradient and Hessian, `gamtoy.outcomes`) "
                "within 1 of the valley's centre (converged, or still settling where the Hessian "
                "is positive definite); 'neither': still moving elsewhere. Fractions: 95% Wilson "
                f"intervals; differences: 95% {stats.PAIRED_FRACTION_METHOD} intervals over the "
                f"same {pop['n']} starts.")
    return "\n".join(rows)


def plot_fig1_population(pops, ax=None):
    """Grouped bars: per optimizer the fraction ending in A, B, neither, diverged (95% Wilson
    error bars), one group of bars per landscape side by side.
    Returns {landscape: {optimizer: bars}}."""
    import matplotlib.pyplot as plt
    if ax is None:
        ax = plt.subplots(figsize=(10, 4.2))[1]
    cats = ("A", "B", "saddle", "neither", "diverged")
    colours = {"A": OKABE_ITO["blue"], "B": "0.6", "saddle": OKABE_ITO["reddish_purple"],
               "neither": OKABE_ITO["yellow"], "diverged": OKABE_ITO["vermillion"]}
    out, x0, ticks, labels = {}, 0.0, [], []
    w = 0.16
    for pop in pops:
        out[pop["name"]] = {}
        for i, nm in enumerate(pop["per"]):
            fr = pop["per"][nm]["frac"]
            base = x0 + i
            out[pop["name"]][nm] = []
            for j, c in enumerate(cats):
                p, lo, hi = fr[c]
                b = ax.bar(base + (j - (len(cats) - 1) / 2) * w, p, w, color=colours[c],
                           yerr=[[max(p - lo, 0)], [max(hi - p, 0)]], capsize=2,
                           label=c if (pop is pops[0] and i == 0) else None)
                out[pop["name"]][nm].append(b)
            ticks.append(base)
            labels.append(f"{nm}\n{pop['name']}")
        x0 += len(pop["per"]) + 0.8
    ax.set_xticks(ticks, labels, fontsize=9)
    ax.set_ylabel("fraction of runs")
    ax.set_ylim(0, 1.05)
    ax.legend(title="run ends in valley", fontsize=9, ncol=4, loc="upper center",
              bbox_to_anchor=(0.5, -0.22))
    pref = ", ".join(f"{p['name']}: {p['prefer']}" for p in pops)
    ax.set_title(f"Where runs from {pops[0]['n']} starts end (R1 prefers {pref})")
    return out


def lens_animation(path, name="fig1a", frames=36, rho=None, fps=8, dpi=100):
    """A GIF of the flatness lens sliding across valley B of `name` along y = 0: the ball, the
    exact worst point (R0) and steepest point (R1), and the readout, per frame (flatness functions
    directly). Returns the path (written atomically)."""
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation

    from . import style
    from .style import MARKERS, context
    L = _landscapes.get(name)
    rho = float(L.rho if rho is None else rho)
    c = L.minima[1]
    xs = np.linspace(c[0] - 1.6 * rho, c[0] + 1.6 * rho, frames)
    P = np.stack([xs, np.full_like(xs, c[1])], -1)
    r0, worst = flatness.r0(L, P, rho, return_argmax=True)
    r1, steep = flatness.r1(L, P, rho, return_argmax=True)
    h = 2.8 * rho   # the ball at the ends of the sweep stays in view
    with context():
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        X, Y, Z = L.grid(220, ((c[0] - h, c[0] + h), (c[1] - h * 0.75, c[1] + h * 0.75)))
        cs = ax.imshow(np.minimum(Z, Z.min() + 6.4 * rho ** 2), origin="lower", cmap="viridis",
                       extent=(X.min(), X.max(), Y.min(), Y.max()), interpolation="bilinear")
        cb = fig.colorbar(cs, ax=ax, fraction=0.04, pad=0.02)
        cb.set_label("L")
        ax.set_aspect("equal")
        ax.set_xlabel("x"), ax.set_ylabel("y")
        a = np.linspace(0, 2 * np.pi, 121)
        (ball,) = ax.plot([], [], "w-", lw=1.5)
        (pt,) = ax.plot([], [], "k+", ms=12, mew=2)
        (wpt,) = ax.plot([], [], color=MEASURE_COLORS["R0"], label="worst point (R0)",
                         **MARKERS["r0_exact"])
        (spt,) = ax.plot([], [], color=MEASURE_COLORS["R1"], label="steepest point (R1)",
                         **MARKERS["r1_exact"])
        ax.legend(loc="lower left", fontsize=8)
        title = ax.set_title("", fontsize=10)

        def draw(i):
            ball.set_data(P[i, 0] + rho * np.cos(a), P[i, 1] + rho * np.sin(a))
            pt.set_data([P[i, 0]], [P[i, 1]])
            wpt.set_data([worst[i, 0]], [worst[i, 1]])
            spt.set_data([steep[i, 0]], [steep[i, 1]])
            title.set_text(f"lens on {name} valley B, x = {P[i, 0]:.2f}: R0 = {r0[i]:.3f}, "
                           f"R1 = {r1[i]:.3f} (rho = {rho:g})")
            return ball, pt, wpt, spt, title

        fig.tight_layout()
        anim = FuncAnimation(fig, draw, frames=len(xs), blit=False)
        style.save_animation(anim, path, fps=fps, dpi=dpi)
        plt.close(fig)
    return {"path": path, "x": xs, "R0": r0, "R1": r1}


def fig1_cells(factors=(0.8, 1.0, 1.25), one_at_a_time=False):
    """The (lr factor, rho factor) cells, the centre first: every combination of `factors`, or
    (one_at_a_time) the centre and one of lr, rho moved at a time (5 cells with 0.8, 1.25)."""
    return nb.factor_cells(2, factors, one_at_a_time)


def fig1_robustness(name="fig1a", factors=(0.8, 1.0, 1.25), n=20, steps=500, lr=0.05,
                    one_at_a_time=False, centre=None):
    """`fig1_population` in every cell of `fig1_cells` (lr x factors, rho x factors; rho from the
    landscape). Per comparison `verdict`: the word if every cell agrees, else 'mixed (k reproduce,
    j inconclusive, i contradict)' (`neighbourhood.summarise_verdicts`), and `over`:
    `neighbourhood.over_cells` (the centre's verdict and in how many cells it holds). `centre`: a
    population already run at the centre (reused). Returns {"cells": [{lr, rho, compare}],
    "verdict", "over", ...}."""
    L = _landscapes.get(name)
    cells = []
    for i, (fl, fr) in enumerate(fig1_cells(factors, one_at_a_time)):
        if centre is not None and i == 0:
            p = centre
        else:
            p = fig1_population(name, n=n, steps=steps, lr=lr * fl, rho=L.rho * fr)
        cells.append({"lr": lr * fl, "rho": L.rho * fr, "compare": p["compare"]})
    verdict, over = nb.verdicts_over(cells, list(cells[0]["compare"]),
                                     lambda c, k: c["compare"][k]["verdict"])
    return {"name": L.name, "factors": tuple(factors), "n": n * n, "cells": cells, "lr": lr,
            "rho": L.rho, "one_at_a_time": bool(one_at_a_time), "verdict": verdict, "over": over}


def fig1_headline_lines(rob):
    """Each comparison's verdict at the centre and the neighbourhood it holds in (one line each)."""
    where = nb.where_text(("lr", "rho"), (rob["lr"], rob["rho"]), rob["factors"],
                          rob["one_at_a_time"])
    return [nb.headline_line(f"{rob['name']}, {k} (fraction ending where R1 prefers, expected > 0)",
                             o, where, f"{rob['n']} starts",
                             f"95% {stats.PAIRED_FRACTION_METHOD} interval")
            for k, o in rob["over"].items()]


def fig1_robustness_markdown(rob, headlines=True):
    """The verdict of each comparison over the lr x rho neighbourhood, as markdown: the headline
    lines (unless headlines=False), then one row per cell."""
    keys = list(rob["over"])
    rows = [f"### {rob['name']}: the neighbourhood ({len(rob['cells'])} cells, {rob['n']} starts "
            f"each; differences with 95% {stats.PAIRED_FRACTION_METHOD} intervals)",
            ""] + (fig1_headline_lines(rob) + [""] if headlines else []) + [
        "| lr | rho | " + " | ".join(keys) + " |", "|---|---|" + "---|" * len(keys)]
    for c in rob["cells"]:
        rows.append(f"| {c['lr']:.4g} | {c['rho']:.4g} | " + " | ".join(
            f"{c['compare'][k]['mean']:+.2f} [{c['compare'][k]['lo']:+.2f}, "
            f"{c['compare'][k]['hi']:+.2f}] {c['compare'][k]['verdict']}" for k in keys) + " |")
    return "\n".join(rows)
