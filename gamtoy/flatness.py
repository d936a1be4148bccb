"""Flatness measures on 2D landscapes, vectorised over points theta (..., 2).

Exact forms maximise over the closed ball B(theta, rho) (a polar grid, then a pattern search from
each of its highest local maxima: better than 1e-3 relative in 2D); first-order forms are what the
algorithms compute.

    R0(theta) = max_{|e|<=rho} L(theta + e) - L(theta)           (GAM Eq. 2, GSAM f_p - f)
    R1(theta) = rho max_{|e|<=rho} |grad L(theta + e)|           (GAM Eq. 3, Def. 4.1)
    h(theta)  = L(theta + rho g/(|g|+xi)) - L(theta)              (GSAM Eq. 4, first-order R0)
    R1~(theta) = rho |grad L(theta_adv)|, theta_adv = theta + rho f/(|f|+xi), f = H g/(|g|+xi)
                                                                   (GAM Eq. 7, first-order R1)
"""
import numpy as np

from . import landscapes as _landscapes
from .landscapes import check_points

XI = 1e-12


def _prep(landscape, theta, rho):
    landscape = _landscapes.get(landscape)
    theta = check_points(theta, "theta")
    if not np.all(np.isfinite(theta)):
        raise ValueError("theta contains NaN or inf")
    if not (np.isscalar(rho) and np.isfinite(rho) and rho >= 0):
        raise ValueError(f"rho must be a non-negative number, got {rho}")
    return landscape, theta, float(rho)


def ball_max(fn, theta, rho, n_angle=96, n_radius=24, zooms=10, zoom_n=7, peaks=8, h=None):
    """(max, argmax) of fn(points (..., 2)) -> (...) over the closed ball B(theta, rho).

    A polar grid (radii 0..rho, angles 0..2pi, spacing at most `h` if given), then a pattern
    search from each of its `peaks` highest local maxima: `zooms` rounds of a `zoom_n` x `zoom_n`
    window that moves while the best point is on its edge and shrinks otherwise. (Zooming on the
    single best cell misses the maximum when the ball holds several close peaks or a ridge
    oblique to the grid, e.g. the ripples of `fig1a`.) Returns the maximum (...,) and the
    maximising point (..., 2).
    """
    theta = np.asarray(theta, float)
    if rho == 0:
        return fn(theta), theta.copy()
    if h is not None:
        n_radius = max(n_radius, int(np.ceil(rho / h)) + 1)
        n_angle = max(n_angle, int(np.ceil(2 * np.pi * rho / h)))
    r = np.linspace(0.0, rho, n_radius)
    a = np.linspace(0.0, 2 * np.pi, n_angle, endpoint=False)
    R, A = np.meshgrid(r, a, indexing="ij")
    V = fn(theta[..., None, None, :] + np.stack([R * np.cos(A), R * np.sin(A)], -1))
    # local maxima of the polar grid: angles wrap around, radii 0 and rho are open ends
    edge = np.full(V.shape[:-2] + (1, n_angle), -np.inf)
    peak = ((V >= np.concatenate([V[..., 1:, :], edge], -2))
            & (V >= np.concatenate([edge, V[..., :-1, :]], -2))
            & (V >= np.roll(V, 1, -1)) & (V >= np.roll(V, -1, -1)))
    score = np.where(peak, V, -np.inf).reshape(V.shape[:-2] + (-1,))
    k = min(peaks, score.shape[-1])
    top = np.argpartition(score, -k, axis=-1)[..., -k:]  # (..., k) cells
    best_r, best_a = R.reshape(-1)[top], A.reshape(-1)[top]
    best_v = np.take_along_axis(V.reshape(score.shape), top, -1)
    best_r, best_a, best_v = _pattern_search(fn, theta[..., None, :], rho, best_r, best_a, best_v,
                                             r[1] - r[0], a[1] - a[0], zooms, zoom_n)
    i = np.argmax(best_v, -1)[..., None]
    best_r, best_a, best_v = (np.take_along_axis(b, i, -1)[..., 0] for b in (best_r, best_a, best_v))
    arg = theta + np.stack([best_r * np.cos(best_a), best_r * np.sin(best_a)], -1)
    return best_v, arg


def _pattern_search(fn, theta, rho, best_r, best_a, best_v, dr, da, rounds, m):
    """Refine (r, a) maxima of fn(theta + r (cos a, sin a)), each with its own window size."""
    u = np.linspace(-1.0, 1.0, m)
    ur, ua = (w.ravel() for w in np.meshgrid(u, u, indexing="ij"))
    sr, sa = np.full(best_r.shape, dr), np.full(best_a.shape, da)
    for _ in range(rounds):
        Rz = np.clip(best_r[..., None] + ur * sr[..., None], 0.0, rho)
        Az = best_a[..., None] + ua * sa[..., None]
        r2, a2, v2, i = _grid_eval(fn, theta, Rz, Az)
        better = v2 > best_v
        on_edge = (np.abs(ua[i]) == 1) | ((np.abs(ur[i]) == 1) & (r2 > 0) & (r2 < rho))
        best_r = np.where(better, r2, best_r)
        best_a = np.where(better, a2, best_a)
        best_v = np.where(better, v2, best_v)
        shrink = np.where(better & on_edge, 1.0, 2.0 / (m - 1))
        sr, sa = sr * shrink, sa * shrink
    return best_r, best_a, best_v


def _grid_eval(fn, theta, R, A):
    """fn on theta + (R cos A, R sin A), R and A (..., k): the best (R, A, value, index) per point."""
    P = theta[..., None, :] + np.stack([R * np.cos(A), R * np.sin(A)], -1)
    V = fn(P)
    i = np.argmax(V, axis=-1)
    j = i[..., None]
    return (np.take_along_axis(R, j, -1)[..., 0], np.take_along_axis(A, j, -1)[..., 0],
            np.take_along_axis(V, j, -1)[..., 0], i)


def r0(landscape, theta, rho, return_argmax=False):
    """Zeroth-order flatness R0 = max_{|e|<=rho} L(theta+e) - L(theta) (exact, GAM Eq. 2)."""
    L, theta, rho = _prep(landscape, theta, rho)
    vmax, arg = ball_max(L.value, theta, rho, h=_spacing(L))
    out = vmax - L.value(theta)
    return (out, arg) if return_argmax else out


def r1(landscape, theta, rho, return_argmax=False):
    """First-order flatness R1 = rho max_{|e|<=rho} |grad L(theta+e)| (exact, GAM Eq. 3)."""
    L, theta, rho = _prep(landscape, theta, rho)
    gmax, arg = ball_max(lambda P: _gnorm(L, P), theta, rho, h=_spacing(L))
    out = rho * gmax
    return (out, arg) if return_argmax else out


def _spacing(L):
    """The finest polar-grid spacing ball_max needs on L: 1/400 of its plotting box's side."""
    (x0, x1), (y0, y1) = L.bounds
    return min(x1 - x0, y1 - y0) / 400


def _gnorm(L, P):
    g = L.grad(P)
    return np.sqrt(np.sum(g * g, -1))


def sam_point(landscape, theta, rho, xi=XI):
    """SAM's first-order worst point w_adv = theta + rho g/(|g|+xi) (GSAM Eq. 3)."""
    L, theta, rho = _prep(landscape, theta, rho)
    g = L.grad(theta)
    return theta + rho * g / (np.sqrt(np.sum(g * g, -1, keepdims=True)) + xi)


def surrogate_gap(landscape, theta, rho, xi=XI):
    """GSAM's surrogate gap h = f(w + rho g/(|g|+xi)) - f(w) (GSAM Eq. 4): first-order R0."""
    L, theta, rho = _prep(landscape, theta, rho)
    return L.value(sam_point(L, theta, rho, xi)) - L.value(theta)


r0_first_order = surrogate_gap


def gam_point(landscape, theta, rho, xi=XI):
    """GAM's first-order steepest point theta_adv = theta + rho f/(|f|+xi), f = H g/(|g|+xi) (Eq. 7, 13)."""
    L, theta, rho = _prep(landscape, theta, rho)
    _, f = L.normgrad(theta, xi)
    return theta + rho * f / (np.sqrt(np.sum(f * f, -1, keepdims=True)) + xi)


def r1_first_order(landscape, theta, rho, xi=XI):
    """GAM's first-order R1 = rho |grad L(theta_adv)| (Eq. 7, 15)."""
    L, theta, rho = _prep(landscape, theta, rho)
    return rho * _gnorm(L, gam_point(L, theta, rho, xi))


def grad_norm(landscape, theta):
    """|grad L(theta)|, shape (...)."""
    L = _landscapes.get(landscape)
    return _gnorm(L, check_points(theta, "theta"))


def hessian_eigs(landscape, theta):
    """Eigenvalues of the exact Hessian, ascending, shape (..., 2)."""
    L = _landscapes.get(landscape)
    return np.linalg.eigvalsh(L.hessian(check_points(theta, "theta")))


def lambda_max(landscape, theta):
    """Largest Hessian eigenvalue lambda_max (GAM Lemma 4.1), shape (...)."""
    return hessian_eigs(landscape, theta)[..., -1]


def sigma_max(landscape, theta):
    """GSAM's dominant eigenvalue: the one of largest magnitude (Lemma 3.1, 3.3), sign kept."""
    e = hessian_eigs(landscape, theta)
    return np.where(np.abs(e[..., -1]) >= np.abs(e[..., 0]), e[..., -1], e[..., 0])


def hessian_trace(landscape, theta):
    """Trace of the exact Hessian, shape (...)."""
    return np.trace(_landscapes.get(landscape).hessian(check_points(theta, "theta")), axis1=-2, axis2=-1)


def summary(landscape, theta, rho, xi=XI):
    """Every measure at theta as a dict of arrays: exact and first-order side by side."""
    return {
        "R0": r0(landscape, theta, rho), "h": surrogate_gap(landscape, theta, rho, xi),
        "R1": r1(landscape, theta, rho), "R1_first_order": r1_first_order(landscape, theta, rho, xi),
        "grad_norm": grad_norm(landscape, theta), "lambda_max": lambda_max(landscape, theta),
        "trace": hessian_trace(landscape, theta),
    }
