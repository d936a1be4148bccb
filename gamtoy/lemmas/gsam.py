"""GSAM (Zhuang et al., ICLR 2022): Lemma 3.1, 3.2 and 3.3, numerically.

h below is the surrogate gap of GSAM Eq. 4: exact, h = max_{|d|<=rho} f(w+d) - f(w) (= GAM's R0),
or first order, h~ = f(w + rho g/|g|) - f(w) (`flatness.surrogate_gap`). f_p = f + h (Eq. 2).
"""
import numpy as np

from .. import flatness
from .. import landscapes as _landscapes
from ..optim import estimators
from ._check import TOL, Check, all_orders, figure, order_ok, orders
from ._util import ball_argmax, fit_slope, grid_points, refine_min


def lemma31(rho=None):
    """GSAM Lemma 3.1 (a counter-example): on `gsam_fig1`, f_p(w1) <= f_p(w2) yet
    sigma_max(w1) > sigma_max(w2): the perturbed loss does not order minima by sharpness, h does."""
    L = _landscapes.get("gsam_fig1") if rho is None else _landscapes.get("gsam_fig1", rho=rho)
    rho = L.rho
    W = refine_min(L, L.minima)
    f = L.value(W)
    h = flatness.r0(L, W, rho)
    return dict(rho=rho, minima=W, f=f, h=h, f_p=f + h, sigma_max=flatness.sigma_max(L, W),
                fp_le=bool(f[0] + h[0] <= f[1] + h[1]),
                sigma_gt=bool(flatness.sigma_max(L, W)[0] > flatness.sigma_max(L, W)[1]))


LEMMA32_NAMES = ("himmelblau", "rastrigin", "ridge", "rosenbrock", "gsam_fig1", "quadratic")


def _max_curvature_on_segment(L, W, U, rho, k=33):
    """max over s in [0, rho] of the Hessian's spectral norm at W + s U (sampled at k points)."""
    s = np.linspace(0, 1, k)[:, None, None] * np.asarray(rho, float)[None]
    s = s if s.ndim == 3 else s[..., None]
    e = np.linalg.eigvalsh(L.hessian(W[None] + s * U[None]))
    return np.max(np.abs(e), axis=(0, -1))


_LEMMA32_RHOS = np.geomspace(1e-3, 1.0, 10)


def lemma32(rhos=_LEMMA32_RHOS, names=LEMMA32_NAMES, n=40, keep=("rastrigin", 0.5),
            const=0.5):
    """GSAM Lemma 3.2: the first-order h~ >= 0 for small rho, and where it fails.

    Along u = g/|g|, h~ = int_0^rho u.g(w + s u) ds >= rho|g| - rho^2 M/2 (M: max |Hessian| on the
    segment), so h~ < 0 only where |g| < rho M/2: near critical points, a set that shrinks with rho.
    "Small rho" is pointwise (rho < 2|g|/M), not uniform. Returns, per landscape and rho, the
    fraction of grid points with h~ < 0, the largest |g|/(rho M/2) among them (<= 1 by the bound),
    the first rho with a failure and the grid point with the most negative h~ there; `example`
    holds the map of `keep` = (landscape, rho). `const` is the bound's constant (1/2 from the
    Taylor remainder; a wrong constant makes the check fail, see the tests).
    """
    per, example = {}, None
    for name in names:
        L = _landscapes.get(name)
        W = grid_points(L, n).reshape(-1, 2)
        g = L.grad(W)
        gn = np.linalg.norm(g, axis=-1)
        W, g, gn = W[gn > 0], g[gn > 0], gn[gn > 0]
        U = g / gn[:, None]
        frac, worst, first_point = [], [], None
        for rho in rhos:
            h = flatness.surrogate_gap(L, W, rho)
            neg = h < 0
            frac.append(float(np.mean(neg)))
            if neg.any():
                if first_point is None:
                    first_point = W[np.argmin(h)]
                M = _max_curvature_on_segment(L, W[neg], U[neg], rho)
                worst.append(float(np.max(gn[neg] / (const * rho * M))))
            else:
                worst.append(0.0)
            if (name, rho) == keep or (name == keep[0] and np.isclose(rho, keep[1])):
                example = dict(name=name, rho=rho, W=W, h=h, neg=neg)
        failing = [r for r, fr in zip(rhos, frac, strict=True) if fr > 0]
        per[name] = dict(rhos=np.asarray(rhos), frac_negative=np.array(frac),
                         bound_ratio=np.array(worst),
                         first_failing_rho=min(failing) if failing else None,
                         first_failure_point=first_point)
    if example is None:
        name, rho = keep
        L = _landscapes.get(name)
        W = grid_points(L, n).reshape(-1, 2)
        h = flatness.surrogate_gap(L, W, rho)
        example = dict(name=name, rho=rho, W=W, h=h, neg=h < 0)
    return dict(per=per, example=example,
                max_bound_ratio=max(float(np.max(p["bound_ratio"])) for p in per.values()),
                frac_at_smallest_rho=max(float(p["frac_negative"][0]) for p in per.values()))


def lemma32_at_limit(names=LEMMA32_NAMES, n=40, factor=1.0):
    """GSAM Lemma 3.2 at the largest rho its own condition certifies, point by point.

    Along u = g/|g|, h~(rho) >= rho|g| - rho^2 M(rho)/2 with M(rho) = max ||H|| on the segment
    [w, w + rho u], so h~ >= 0 whenever rho M(rho) <= 2|g|. From rho0 = 2|g|/||H(w)||, rho* =
    2|g|/M(rho0) <= rho0 satisfies it (M grows with the segment). h~ is evaluated at factor rho*
    (factor 1: the lemma says h~ >= 0 at every point; factor 2 shows how close the condition
    is to the edge). Returns per landscape the fraction of points with h~ < 0, min h~/(rho|g|)
    (0 would be the bound met with equality) and the median rho*."""
    per = {}
    for name in names:
        L = _landscapes.get(name)
        W = grid_points(L, n).reshape(-1, 2)
        g = L.grad(W)
        gn = np.linalg.norm(g, axis=-1)
        keep = gn > 1e-9
        W, g, gn = W[keep], g[keep], gn[keep]
        U = g / gn[:, None]
        h0 = np.max(np.abs(np.linalg.eigvalsh(L.hessian(W))), -1)
        rho0 = 2 * gn / h0
        rho_star = 2 * gn / _max_curvature_on_segment(L, W, U, rho0[:, None])
        rho = factor * rho_star
        h = L.value(W + rho[:, None] * U) - L.value(W)
        per[name] = dict(frac_negative=float(np.mean(h < 0)),
                         min_rel=float(np.min(h / (rho * gn))), rho_median=float(np.median(rho)),
                         rho_max=float(rho.max()))
    return dict(per=per, factor=factor, frac_negative=max(p["frac_negative"] for p in per.values()),
                min_rel=min(p["min_rel"] for p in per.values()))


LEMMA33_CASES = (("himmelblau", 0), ("ridge", 1), ("rastrigin", 0), ("quadratic", 0))


_LEMMA33_RHOS = np.geomspace(0.01, 0.5, 8)


def lemma33(rhos=_LEMMA33_RHOS, cases=LEMMA33_CASES):
    """GSAM Lemma 3.3: sigma_max ~ 2h/rho^2 at a local minimum w*, with error O(rho).

    h is the exact gap (Eq. 4's max): at w* the gradient vanishes, so the first-order w_adv = w*
    and h~ = 0 there. Taylor: 2h/rho^2 = sigma_max + O(rho) (a cubic term), O(rho^2) if w* is a
    symmetric minimum, exact on a quadratic.
    """
    out = {}
    for name, i in cases:
        L = _landscapes.get(name)
        w = refine_min(L, L.minima[i])
        sig = float(flatness.sigma_max(L, w))
        h = np.array([ball_argmax(L.value, w, rho)[0] - L.value(w) for rho in rhos])
        est = 2 * h / np.asarray(rhos) ** 2
        err = np.abs(est / sig - 1)
        out[name] = dict(minimum=w, sigma_max=sig, rhos=np.asarray(rhos), two_h_over_rho2=est,
                         rel_err=err, slope=fit_slope(rhos, err) if np.all(err > 1e-12) else None)
    return out


# ---- GSAM Sec. 4 / Fig. 2 geometry, SAM's ascent point -----------------------------------------
def _exact_fp(L, W, rho):
    """Exact f_p = max_{|d|<=rho} f(w+d), its maximiser and (Danskin) gradient grad f(w + d*)."""
    v, arg = ball_argmax(L.value, W, rho)
    return v, arg, L.grad(arg)


def gsam_geometry(name="himmelblau", start=(-1.0, -1.5), steps=20, lr=0.004, rho=0.05,
                  alpha=0.3):
    """GSAM Sec. 4 (Fig. 2): along a GSAM trajectory, the step's orthogonal part
    +lr alpha g_perp (d's component -alpha g_perp) leaves the exact f_p unchanged to first order
    and lowers the exact h = f_p - f.

    At each iterate w: g_perp (from `estimators.gsam`), the exact f_p's gradient (Danskin, from
    the exact worst point d*), c_fp = <grad f_p, g_perp/|g_perp|> against the bound
    M |d* - rho g/|g|| (M = max ||H|| on the ball; grad f_p - g_p is that far and
    <g_p, g_perp> = 0), the slope of h along
    g_perp (dh = c_fp - |g_perp| < 0) and the exact change of h over the actual orthogonal step.
    """
    from ..run import run
    L = _landscapes.get(name)
    tr = run("gsam", L, np.asarray(start, float), steps, lr=lr, rho=rho, alpha=alpha)
    W = tr.points[:-1]
    g = L.grad(W)
    u = g / np.linalg.norm(g, axis=-1, keepdims=True)
    w_adv = W + rho * u
    g_perp = estimators.gsam(L, W, rho, alpha)[1]["g_perp"]     # the code under test
    n_perp = np.linalg.norm(g_perp, axis=-1)
    e_perp = g_perp / n_perp[:, None]
    fp, arg, grad_fp = _exact_fp(L, W, rho)
    c_fp = np.sum(grad_fp * e_perp, -1)
    # M = max ||H|| over the ball (it holds the segment from w_adv to w + d*), on a polar grid
    r, a = np.linspace(0, rho, 9), np.linspace(0, 2 * np.pi, 48, endpoint=False)
    E = (r[:, None, None] * np.stack([np.cos(a), np.sin(a)], -1)[None]).reshape(-1, 2)
    M = np.max(np.abs(np.linalg.eigvalsh(L.hessian(W[:, None, :] + E))), axis=(1, 2))
    bound = M * np.linalg.norm(arg - w_adv, axis=-1)
    dh = c_fp - n_perp
    step = lr * alpha * g_perp
    h0 = fp - L.value(W)
    h1 = ball_argmax(L.value, W + step, rho)[0] - L.value(W + step)
    fp1 = ball_argmax(L.value, W + step, rho)[0]
    return dict(name=name, points=W, rho=rho, alpha=alpha, lr=lr, g_perp_norm=n_perp,
                grad_fp_norm=np.linalg.norm(grad_fp, axis=-1), c_fp=c_fp, bound=bound,
                bound_ratio=np.abs(c_fp) / bound, dh=dh, h_change=h1 - h0, fp_change=fp1 - fp,
                step_norm=np.linalg.norm(step, axis=-1))


_SAM_ASCENT_POINT_RHOS = np.geomspace(0.003, 0.03, 5)


def sam_ascent_point(rhos=_SAM_ASCENT_POINT_RHOS, names=("himmelblau", "rosenbrock",
                                                               "rastrigin"), k=4, seed=0):
    """SAM's first-order worst point w + rho g/|g| (GSAM Eq. 3) against the exact worst point in the
    ball: the angle (predicted O(rho), order 1) and the loss gap relative to R0 (predicted O(rho^2):
    f along the sphere is flat to second order at its maximum, order 2)."""
    from ._util import angle, generic_points
    out = {}
    for name in names:
        L = _landscapes.get(name)
        P = generic_points(L, k, seed)
        g = L.grad(P)
        u = g / np.linalg.norm(g, axis=-1, keepdims=True)
        ang, gap = [], []
        for rho in rhos:
            v, arg = ball_argmax(L.value, P, rho)
            ang.append(angle(rho * u, arg - P))
            gap.append((v - L.value(P + rho * u)) / (v - L.value(P)))
        ang, gap = np.array(ang), np.array(gap)
        out[name] = dict(rhos=np.asarray(rhos), angle=ang, gap=gap,
                         angle_median=np.median(ang, 1), gap_median=np.median(gap, 1),
                         angle_slope=fit_slope(rhos, np.median(ang, 1)),
                         gap_slope=fit_slope(rhos, np.median(gap, 1)))
    return out


# ---- the records (gamtoy.lemmas loops over them) ---------------------------------------------
def _judge_geo(d):
    g = d["gsam_geo"]
    return (f"max |<grad f_p, e_perp>|/bound = {g['bound_ratio'].max():.2f}; max dh/ds = "
            f"{g['dh'].max():.1e}; max exact dh = {g['h_change'].max():.1e}",
            f"ratio <= {TOL['bound']:g}; dh < 0 at every iterate",
            g["bound_ratio"].max() <= TOL["bound"] and g["dh"].max() < 0
            and g["h_change"].max() < 0)


def _judge_sam_point(d):
    s = d["sam_point"]
    return ("angle " + orders(s, "angle_slope") + "; gap " + orders(s, "gap_slope"),
            f"|order - p| <= {TOL['order']}",
            all_orders(s, "angle_slope", 1) and all_orders(s, "gap_slope", 2))


def _judge_l31(d):
    res = d["lemma31"]
    return (f"f_p = {res['f_p'][0]:.3f} <= {res['f_p'][1]:.3f}; sigma = {res['sigma_max'][0]:.1f} "
            f"> {res['sigma_max'][1]:.1f}", "exact", res["fp_le"] and res["sigma_gt"])


def _judge_l32_limit(d):
    a, b = d["lemma32_limit"], d["lemma32_limit2"]
    rho = ", ".join(f"{n} {v['rho_median']:.2g}" for n, v in a["per"].items())
    return (f"fraction h~ < 0 at rho*: {a['frac_negative']:.0%} (min h~/(rho|g|) = "
            f"{a['min_rel']:.4f}); at 2 rho*: {b['frac_negative']:.0%}; median rho*: {rho}",
            "0 at rho* (the lemma); > 0 at 2 rho* (the condition is not vacuous)",
            a["frac_negative"] == 0 and b["frac_negative"] > 0)


def _judge_l32_bound(d):
    res = d["lemma32"]
    return (f"max |g|/(rho M/2) over failures = {res['max_bound_ratio']:.2f}; first failing "
            "uniform rho: " + ", ".join(f"{n} {v['first_failing_rho']:.2g}"
                                        for n, v in res["per"].items()
                                        if v["first_failing_rho"] is not None),
            f"<= {TOL['bound']:g}", res["max_bound_ratio"] <= TOL["bound"])


def _judge_l33(d):
    l33 = d["lemma33"]
    nq = {n: v for n, v in l33.items() if n != "quadratic"}
    return (orders(nq) + "; rel. err at rho=0.01 <= "
                         f"{max(v['rel_err'][0] for v in nq.values()):.1e}",
            f"|order - p| <= {TOL['order']} (himmelblau p=1, rastrigin p=2; ridge indicative); "
            f"err < {TOL['lemma33_small']}",
            order_ok(l33["himmelblau"]["slope"], 1) and order_ok(l33["rastrigin"]["slope"], 2)
            and all(v["rel_err"][0] < TOL["lemma33_small"] for v in nq.values()))


def _checks():
    from . import plots as P

    def n(quick):
        return 30 if quick else 60

    return (
        Check("gsam_geo", lambda d: "GSAM's orthogonal step leaves f_p flat to first order and "
              f"lowers h ({len(d['gsam_geo']['c_fp'])} iterates on {d['gsam_geo']['name']})",
              "GSAM Sec. 4, Fig. 2, Alg. 1",
              "exact f_p, h (ball max), Danskin's grad f_p; bound M|delta* - rho g/|g||",
              {"gsam_geo": lambda quick: gsam_geometry()}, _judge_geo,
              ("gsam_fig2_geometry", figure(P.plot_gsam_geometry, "gsam_geo", (11, 4.2), 2))),
        Check("sam_point", "SAM's w_adv vs the exact worst point: angle O(rho), loss gap/R0 "
              "O(rho^2)", "GSAM Eq. 3 (SAM's first-order step)", "exact ball argmax of L",
              {"sam_point": lambda quick: sam_ascent_point()}, _judge_sam_point,
              ("sam_ascent_point", figure(P.plot_sam_point, "sam_point", (11, 4.2), 2))),
        Check("lemma31", "f_p(w1) <= f_p(w2) but sigma_max(w1) > sigma_max(w2) (gsam_fig1)",
              "GSAM Lemma 3.1", "exact ball max; eigvalsh",
              {"lemma31": lambda quick: lemma31()}, _judge_l31),
        Check("lemma32_limit", "first-order h >= 0 when rho <= 2|g|/M (the lemma's condition), "
              "checked at the largest such rho* at every grid point (6 landscapes)",
              "GSAM Lemma 3.2, App. A.2", "the landscape's exact values; M = max ||Hessian|| "
              "on the segment (eigvalsh)",
              {"lemma32_limit": lambda quick: lemma32_at_limit(n=n(quick)),
               "lemma32_limit2": lambda quick: lemma32_at_limit(n=n(quick), factor=2.0)},
              _judge_l32_limit),
        Check("lemma32", "h < 0 only where |g| < rho M/2 (Taylor remainder)",
              "GSAM Lemma 3.2, App. A.2", "M = max ||Hessian|| on the segment (eigvalsh)",
              {"lemma32": lambda quick: lemma32(n=n(quick))}, _judge_l32_bound,
              ("lemma32_negative_h", figure(P.plot_lemma32_map, "lemma32"))),
        Check("lemma33", "sigma_max = 2h/rho^2 + O(rho) at minima", "GSAM Lemma 3.3",
              "eigvalsh; exact h by ball max", {"lemma33": lambda quick: lemma33()}, _judge_l33,
              ("lemma33_gap", figure(P.plot_lemma33, "lemma33"))),
        Check("thm53", "GSAM's ascent along g_perp decreases the surrogate gap by a total "
              "between alpha c^2 rho0^2 eta0 |sigma|_min^2/G^2 and 2.7 alpha L^2 eta0 rho0^2",
              "GSAM Thm 5.3, Eq. 9", "none",
              {}, lambda d: ("not checked (not attempted): Eq. 9 bounds the limit T -> infinity "
                             "of a summed decrease, assuming |Hessian eigenvalues| >= "
                             "|sigma|_min > 0 along the whole run (false where eigenvalues cross "
                             "0: every built-in landscape but the quadratic) and noise variance "
                             ">= c^2; the per-step content (each orthogonal step lowers h) is "
                             "the GSAM Fig. 2 row",
                             "-", "not checked")),
    )


CHECKS = _checks()
