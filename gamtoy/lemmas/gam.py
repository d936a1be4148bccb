"""GAM (Zhang et al., CVPR 2023): Lemma 4.1, Prop. 4.2, Eq. 13/15 and App. D Eq. 38, numerically.

Each function returns a dict of numbers (and arrays for plots); `gamtoy.lemmas.table` judges them.
"""
import numpy as np

from .. import flatness as F
from .. import landscapes as _landscapes
from ..optim import estimators
from ._util import angle, ball_argmax, fit_slope, generic_points, gnorm, grid_points, refine_min

QUADRATICS = ({"a": 4.0, "b": 0.25, "angle": 30.0}, {"a": 1.0, "b": 1.0, "angle": 0.0},
              {"a": 10.0, "b": 3.0, "angle": -70.0}, {"a": 0.5, "b": 2.0, "angle": 45.0})


def lemma41_2d(rhos=(0.01, 0.1, 0.5, 1.0), quadratics=QUADRATICS):
    """GAM Lemma 4.1 (Eq. 4): lambda_max = R1/rho^2 at a 2D quadratic's minimum (exact ball max)."""
    rows = []
    for p in quadratics:
        L = _landscapes.get("quadratic", **p)
        lam = float(F.lambda_max(L, np.zeros(2)))
        for rho in rhos:
            r1 = float(F.r1(L, np.zeros(2), rho))
            rows.append(dict(params=p, rho=rho, lambda_max=lam, r1_over_rho2=r1 / rho ** 2))
    err = max(abs(r["r1_over_rho2"] / r["lambda_max"] - 1) for r in rows)
    return dict(rows=rows, max_rel_err=err)


def ascent_ball_max_norm(A, rho, restarts=8, iters=400, eta=100.0, seed=0):
    """max_{|e|<=rho} |A e| by projected ascent on |A e|^2/2, seeded random restarts."""
    rng = np.random.default_rng(seed)
    E = rng.standard_normal((restarts, A.shape[0]))
    E *= rho / np.linalg.norm(E, axis=1, keepdims=True)
    for _ in range(iters):
        E = E + eta * (E @ A.T) @ A              # ascent step on |A e|^2 / 2 (A^T A e)
        n = np.linalg.norm(E, axis=1, keepdims=True)
        E *= rho / np.maximum(n, rho)            # projection onto the ball
    return float(np.max(np.linalg.norm(E @ A.T, axis=1)))


def lemma41_nd(n=50, rho=0.1, seed=0, restarts=8, iters=400):
    """GAM Lemma 4.1 in n-D (proof Eq. 18): L = e^T A e/2 has R1 = rho max|A e| = rho^2 lambda_max.

    A = Q diag(lam) Q^T with seeded log-uniform eigenvalues in [1e-2, 10]; the numeric R1 comes from
    projected ascent with restarts, lambda_max from numpy.linalg.eigvalsh (independent references).
    """
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    A = (Q * 10 ** rng.uniform(-2, 1, n)) @ Q.T
    A = (A + A.T) / 2
    lam = float(np.linalg.eigvalsh(A)[-1])
    r1_exact = rho ** 2 * lam
    r1_num = rho * ascent_ball_max_norm(A, rho, restarts, iters, seed=seed + 1)
    return dict(n=n, rho=rho, lambda_max=lam, r1_exact=r1_exact, r1_numeric=r1_num,
                r1_over_rho2=r1_num / rho ** 2, rel_err=abs(r1_num / r1_exact - 1))


def _minimum(name, index=0, **params):
    L = _landscapes.get(name, **params)
    return L, refine_min(L, L.minima[index])


DEGRADE = (("rastrigin", 0), ("himmelblau", 0), ("ridge", 1))


def lemma41_degradation(rhos=np.geomspace(0.01, 0.5, 8), cases=DEGRADE):
    """How Lemma 4.1 degrades off quadratics: |R1/rho^2 - lambda_max|/lambda_max vs rho at minima of
    non-quadratic landscapes (Taylor: O(rho) with a cubic term, O(rho^2) at a symmetric minimum)."""
    out = {}
    for name, i in cases:
        L, w = _minimum(name, i)
        lam = float(F.lambda_max(L, w))
        r1 = np.array([rho * ball_argmax(lambda P: gnorm(L, P), w, rho)[0] for rho in rhos])
        err = np.abs(r1 / np.asarray(rhos) ** 2 / lam - 1)
        out[name] = dict(minimum=w, lambda_max=lam, rhos=np.asarray(rhos), rel_err=err,
                         slope=fit_slope(rhos, err))
    return out


def prop42(n=16, rhos=(0.05, 0.25, 0.5), names=None, keep="rastrigin"):
    """GAM Prop. 4.2: R1 >= R0 at every grid point of every landscape (exact ball maxima).

    Returns per landscape the minimum ratio R1/R0 (over points with R0 > 0) and min(R1 - R0), plus
    the maps for `keep` at the largest rho for a picture.
    """
    names = names or _landscapes.names()
    per, maps = {}, None
    for name in names:
        L = _landscapes.get(name)
        W = grid_points(L, n)
        ratios, diffs = [], []
        for rho in rhos:
            R0, R1 = F.r0(L, W, rho), F.r1(L, W, rho)
            pos = R0 > 1e-12
            ratios.append(float(np.min(R1[pos] / R0[pos])))
            diffs.append(float(np.min(R1 - R0)))
            if name == keep and rho == max(rhos):
                maps = dict(name=name, rho=rho, W=W, R0=R0, R1=R1)
        per[name] = dict(min_ratio=min(ratios), min_diff=min(diffs), ratios=ratios)
    return dict(per=per, rhos=tuple(rhos), n=n, maps=maps,
                min_ratio=min(p["min_ratio"] for p in per.values()),
                min_diff=min(p["min_diff"] for p in per.values()))


ANGLE_LANDSCAPES = ("himmelblau", "rosenbrock", "rastrigin", "ridge")


def eq13_angle(rhos=np.geomspace(1e-3, 0.1, 7), names=ANGLE_LANDSCAPES, k=4, seed=0):
    """GAM Eq. 13/15: angle between the first-order theta_adv - theta = rho f/|f| and the exact
    argmax of |grad L| over B(theta, rho), at generic points; it should vanish like O(rho)."""
    out = {}
    for name in names:
        L = _landscapes.get(name)
        P = generic_points(L, k, seed)
        ang = np.empty((len(rhos), len(P)))
        for j, rho in enumerate(rhos):
            first = F.gam_point(L, P, rho) - P
            _, arg = ball_argmax(lambda Q: gnorm(L, Q), P, rho)
            ang[j] = angle(first, arg - P)
        med = np.median(ang, axis=1)
        out[name] = dict(points=P, rhos=np.asarray(rhos), angles=ang, median=med,
                         slope=fit_slope(rhos, med))
    return out


def eq38_fd(rho_primes=np.geomspace(1e-5, 1e-1, 9), names=ANGLE_LANDSCAPES, k=4, seed=1):
    """GAM App. D Eq. 38: (g(theta + rho' g/|g|) - g(theta))/rho' -> H g/|g| at O(rho')."""
    out = {}
    for name in names:
        L = _landscapes.get(name)
        P = generic_points(L, k, seed)
        g, f = L.normgrad(P)
        u = g / np.linalg.norm(g, axis=-1, keepdims=True)
        err = np.array([np.linalg.norm((L.grad(P + r * u) - g) / r - f, axis=-1)
                        / np.linalg.norm(f, axis=-1) for r in rho_primes])
        med = np.median(err, axis=1)
        out[name] = dict(rho_primes=np.asarray(rho_primes), rel_err=err, median=med,
                         slope=fit_slope(rho_primes, med))
    return out


def gnp_fd(rs=np.geomspace(1e-5, 1e-1, 9), names=ANGLE_LANDSCAPES, k=4, seed=2):
    """GNP (Zhao et al. 2022), HVP: (g(theta + r v) - g(theta))/r = H v + O(r)."""
    out = {}
    rng = np.random.default_rng(seed)
    for name in names:
        L = _landscapes.get(name)
        P = generic_points(L, k, seed)
        v = rng.standard_normal(P.shape)
        v /= np.linalg.norm(v, axis=-1, keepdims=True)
        Hv = L.hvp(P, v)
        g = L.grad(P)
        err = np.array([np.linalg.norm((L.grad(P + r * v) - g) / r - Hv, axis=-1)
                        / np.linalg.norm(Hv, axis=-1) for r in rs])
        med = np.median(err, axis=1)
        out[name] = dict(rs=np.asarray(rs), rel_err=err, median=med, slope=fit_slope(rs, med))
    return out


def accel_theta_adv(rho_primes=np.geomspace(1e-5, 1e-1, 9), name="himmelblau", rho=0.1, k=4):
    """GAM Alg. 2 (Eq. 39) builds theta_adv from Eq. 38; its distance to Alg. 1's theta_adv (Eq. 13)
    shrinks with rho' (first order)."""
    L = _landscapes.get(name)
    P = generic_points(L, k, 3)
    exact = F.gam_point(L, P, rho)
    d = [np.max(np.linalg.norm(estimators.gam_accel(L, P, rho, rp, 0.5, 0.5, 0.3)[1]["theta_adv"]
                               - exact, axis=-1)) for rp in rho_primes]
    return dict(rho_primes=np.asarray(rho_primes), dist=np.array(d), slope=fit_slope(rho_primes, d))
