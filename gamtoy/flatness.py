"""Flatness measures on 2D landscapes, vectorised over points theta (..., 2).

Exact forms maximise over the closed ball B(theta, rho) (dense polar grid, then two zoomed grids
around the best cell: ~1e-6 relative in 2D); first-order forms are what the algorithms compute.

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


def ball_max(fn, theta, rho, n_angle=96, n_radius=24, zooms=2, zoom_n=16):
    """(max, argmax) of fn(points (..., 2)) -> (...) over the closed ball B(theta, rho).

    A polar grid (radii 0..rho, angles 0..2pi), then `zooms` finer grids around the best cell.
    Returns the maximum (...,) and the maximising point (..., 2).
    """
    theta = np.asarray(theta, float)
    if rho == 0:
        return fn(theta), theta.copy()
    r = np.linspace(0.0, rho, n_radius)
    a = np.linspace(0.0, 2 * np.pi, n_angle, endpoint=False)
    dr, da = r[1] - r[0], a[1] - a[0]
    R, A = (m.ravel() for m in np.meshgrid(r, a, indexing="ij"))
    best_r, best_a, best_v = _grid_eval(fn, theta, R, A)
    for _ in range(zooms):
        u = np.linspace(-1.0, 1.0, zoom_n)
        ur, ua = (m.ravel() for m in np.meshgrid(u * dr, u * da, indexing="ij"))
        Rz = np.clip(best_r[..., None] + ur, 0.0, rho)
        Az = best_a[..., None] + ua
        r2, a2, v2 = _grid_eval(fn, theta, Rz, Az)
        better = v2 > best_v
        best_r = np.where(better, r2, best_r)
        best_a = np.where(better, a2, best_a)
        best_v = np.maximum(v2, best_v)
        dr, da = dr * 2 / (zoom_n - 1), da * 2 / (zoom_n - 1)
    arg = theta + np.stack([best_r * np.cos(best_a), best_r * np.sin(best_a)], -1)
    return best_v, arg


def _grid_eval(fn, theta, R, A):
    """Evaluate fn on theta + (R cos A, R sin A); R, A are (k,) or (..., k). Best per point."""
    P = theta[..., None, :] + np.stack([R * np.cos(A), R * np.sin(A)], -1)
    V = fn(P)
    i = np.argmax(V, axis=-1)[..., None]
    Rb = np.broadcast_to(R, V.shape)
    Ab = np.broadcast_to(A, V.shape)
    return (np.take_along_axis(Rb, i, -1)[..., 0], np.take_along_axis(Ab, i, -1)[..., 0],
            np.take_along_axis(V, i, -1)[..., 0])


def r0(landscape, theta, rho, return_argmax=False):
    """Zeroth-order flatness R0 = max_{|e|<=rho} L(theta+e) - L(theta) (exact, GAM Eq. 2)."""
    L, theta, rho = _prep(landscape, theta, rho)
    vmax, arg = ball_max(L.value, theta, rho)
    out = vmax - L.value(theta)
    return (out, arg) if return_argmax else out


def r1(landscape, theta, rho, return_argmax=False):
    """First-order flatness R1 = rho max_{|e|<=rho} |grad L(theta+e)| (exact, GAM Eq. 3)."""
    L, theta, rho = _prep(landscape, theta, rho)
    gmax, arg = ball_max(lambda P: _gnorm(L, P), theta, rho)
    out = rho * gmax
    return (out, arg) if return_argmax else out


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
