"""GSAM (Zhuang et al., ICLR 2022): Lemma 3.1, 3.2 and 3.3, numerically.

h below is the surrogate gap of GSAM Eq. 4: exact, h = max_{|d|<=rho} f(w+d) - f(w) (= GAM's R0),
or first order, h~ = f(w + rho g/|g|) - f(w) (`flatness.surrogate_gap`). f_p = f + h (Eq. 2).
"""
import numpy as np

from .. import flatness as F
from .. import landscapes as _landscapes
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


def lemma32(rhos=np.geomspace(1e-3, 1.0, 10), names=LEMMA32_NAMES, n=40, keep=("rastrigin", 0.5)):
    """GSAM Lemma 3.2: the first-order h~ >= 0 for small rho, and where it fails.

    Along u = g/|g|, h~ = int_0^rho u.g(w + s u) ds >= rho|g| - rho^2 M/2 (M: max |Hessian| on the
    segment), so h~ < 0 only where |g| < rho M/2: near critical points, a set that shrinks with rho.
    "Small rho" is pointwise (rho < 2|g|/M), not uniform. Returns, per landscape and rho, the
    fraction of grid points with h~ < 0, the largest |g|/(rho M/2) among them (<= 1 by the bound),
    the first rho with a failure and the grid point with the most negative h~ there; `example`
    holds the map of `keep` = (landscape, rho).
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
                worst.append(float(np.max(gn[neg] / (rho * M / 2))))
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
