"""Shared numerics for the lemma checks: slopes, refined minima, refined ball maxima, angles."""
import numpy as np

from .. import flatness
from .. import landscapes as _landscapes


def fit_slope(x, y):
    """Least-squares slope of log y against log x (the order of a power law y ~ x^p); NaN when
    fewer than two points are positive."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = (x > 0) & (y > 0) & np.isfinite(y)
    if ok.sum() < 2:
        return float("nan")          # no power law to fit (e.g. a sign change): no order
    return float(np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)[0])


def refine_min(landscape, w0, iters=30):
    """Newton's method from w0 (..., 2) with the exact Hessian: a local minimum to ~1e-14."""
    L = _landscapes.get(landscape)
    w = np.array(w0, float)
    for _ in range(iters):
        w = w - np.linalg.solve(L.hessian(w), L.grad(w)[..., None])[..., 0]
    return w


def gnorm(L, P):
    """|grad L(P)| over the last axis."""
    g = L.grad(P)
    return np.sqrt(np.sum(g * g, -1))


def unit_vectors(a):
    """(cos a, sin a) stacked on a new last axis."""
    return np.stack([np.cos(a), np.sin(a)], -1)


def ball_argmax(fn, theta, rho, iters=80):
    """(max, argmax) of fn over B(theta, rho): flatness.ball_max, then golden-section search along
    the sphere when the maximiser lies on it (angles to ~1e-12 rad instead of ~1e-4)."""
    theta = np.asarray(theta, float)
    v, arg = flatness.ball_max(fn, theta, rho, zooms=4)
    d = arg - theta
    on_sphere = np.sqrt(np.sum(d * d, -1)) >= rho * (1 - 1e-9)
    a0 = np.arctan2(d[..., 1], d[..., 0])
    lo, hi = a0 - 2e-3, a0 + 2e-3
    phi = (np.sqrt(5) - 1) / 2

    def f(a):
        return fn(theta + rho * unit_vectors(a))

    c, e = hi - phi * (hi - lo), lo + phi * (hi - lo)
    fc, fe = f(c), f(e)
    for _ in range(iters):
        left = fc > fe
        hi, lo = np.where(left, e, hi), np.where(left, lo, c)
        c, e = hi - phi * (hi - lo), lo + phi * (hi - lo)
        fc, fe = f(c), f(e)
    a = (lo + hi) / 2
    va = f(a)
    better = on_sphere & (va >= v)
    arg = np.where(better[..., None], theta + rho * unit_vectors(a), arg)
    return np.where(better, va, v), arg


def angle(u, v):
    """The angle (radians) between u and v (..., n), stable for tiny angles."""
    u = u / np.linalg.norm(u, axis=-1, keepdims=True)
    v = v / np.linalg.norm(v, axis=-1, keepdims=True)
    return 2 * np.arctan2(np.linalg.norm(u - v, axis=-1), np.linalg.norm(u + v, axis=-1))


def grid_points(landscape, n):
    """An n x n grid over the landscape's bounds, shape (n, n, 2)."""
    (x0, x1), (y0, y1) = landscape.bounds
    X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    return np.stack([X, Y], -1)


def generic_points(landscape, k, seed=0, min_norm=0.1):
    """k seeded random points inside the bounds where |g| and |f| = |H g|/|g| exceed min_norm."""
    L = _landscapes.get(landscape)
    rng = np.random.default_rng(seed)
    (x0, x1), (y0, y1) = L.bounds
    P = rng.uniform([x0, y0], [x1, y1], size=(20 * k, 2))
    g, f = L.normgrad(P)
    ok = (np.linalg.norm(g, axis=-1) > min_norm) & (np.linalg.norm(f, axis=-1) > min_norm)
    return P[ok][:k]
