"""GSAM (Zhuang et al., ICLR 2022): Lemma 3.1, 3.2 and 3.3, numerically.

h below is the surrogate gap of GSAM Eq. 4: exact, h = max_{|d|<=rho} f(w+d) - f(w) (= GAM's R0),
or first order, h~ = f(w + rho g/|g|) - f(w) (`flatness.surrogate_gap`). f_p = f + h (Eq. 2).
"""
import numpy as np

from .. import flatness as F
from .. import landscapes as _landscapes
from ..optim import estimators
from ._util import ball_argmax, fit_slope, grid_points, refine_min


def lemma31(rho=None):
    """GSAM Lemma 3.1 (a counter-example): on `gsam_fig1`, f_p(w1) <= f_p(w2) yet
    sigma_max(w1) > sigma_max(w2): the perturbed loss does not order minima by sharpness, h does."""
    L = _landscapes.get("gsam_fig1") if rho is None else _landscapes.get("gsam_fig1", rho=rho)
    rho = L.rho
    W = refine_min(L, L.minima)
    f = L.value(W)
    h = F.r0(L, W, rho)
    return dict(rho=rho, minima=W, f=f, h=h, f_p=f + h, sigma_max=F.sigma_max(L, W),
                fp_le=bool(f[0] + h[0] <= f[1] + h[1]),
                sigma_gt=bool(F.sigma_max(L, W)[0] > F.sigma_max(L, W)[1]))


LEMMA32_NAMES = ("himmelblau", "rastrigin", "ridge", "rosenbrock", "gsam_fig1", "quadratic")


def _max_curvature_on_segment(L, W, U, rho, k=33):
    """max over s in [0, rho] of the Hessian's spectral norm at W + s U (sampled at k points)."""
    s = np.linspace(0, rho, k)[:, None, None]
    e = np.linalg.eigvalsh(L.hessian(W[None] + s * U[None]))
    return np.max(np.abs(e), axis=(0, -1))


def lemma32(rhos=np.geomspace(1e-3, 1.0, 10), names=LEMMA32_NAMES, n=40, keep=("rastrigin", 0.5),
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
            h = F.surrogate_gap(L, W, rho)
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
        failing = [r for r, fr in zip(rhos, frac) if fr > 0]
        per[name] = dict(rhos=np.asarray(rhos), frac_negative=np.array(frac),
                         bound_ratio=np.array(worst),
                         first_failing_rho=min(failing) if failing else None,
                         first_failure_point=first_point)
    if example is None:
        name, rho = keep
        L = _landscapes.get(name)
        W = grid_points(L, n).reshape(-1, 2)
        h = F.surrogate_gap(L, W, rho)
        example = dict(name=name, rho=rho, W=W, h=h, neg=h < 0)
    return dict(per=per, example=example,
                max_bound_ratio=max(float(np.max(p["bound_ratio"])) for p in per.values()),
                frac_at_smallest_rho=max(float(p["frac_negative"][0]) for p in per.values()))


LEMMA33_CASES = (("himmelblau", 0), ("ridge", 1), ("rastrigin", 0), ("quadratic", 0))


def lemma33(rhos=np.geomspace(0.01, 0.5, 8), cases=LEMMA33_CASES):
    """GSAM Lemma 3.3: sigma_max ~ 2h/rho^2 at a local minimum w*, with error O(rho).

    h is the exact gap (Eq. 4's max): at w* the gradient vanishes, so the first-order w_adv = w*
    and h~ = 0 there. Taylor: 2h/rho^2 = sigma_max + O(rho) (a cubic term), O(rho^2) if w* is a
    symmetric minimum, exact on a quadratic.
    """
    out = {}
    for name, i in cases:
        L = _landscapes.get(name)
        w = refine_min(L, L.minima[i])
        sig = float(F.sigma_max(L, w))
        h = np.array([ball_argmax(L.value, w, rho)[0] - L.value(w) for rho in rhos])
        est = 2 * h / np.asarray(rhos) ** 2
        err = np.abs(est / sig - 1)
        out[name] = dict(minimum=w, sigma_max=sig, rhos=np.asarray(rhos), two_h_over_rho2=est,
                         rel_err=err, slope=fit_slope(rhos, err) if np.all(err > 1e-12) else None)
    return out


# ---- GSAM Sec. 4 / Fig. 2 geometry, SAM's ascent point (issue 8) ------------------------------
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


def sam_ascent_point(rhos=np.geomspace(0.003, 0.03, 5), names=("himmelblau", "rosenbrock",
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
