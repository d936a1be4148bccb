"""Flatness measures on 2D landscapes, vectorised over points theta (..., 2).

Exact forms maximise over the closed ball B(theta, rho) (a polar grid, then a pattern search from
the centre and from each of the grid's highest local maxima: better than 1e-3 relative in 2D, see
`ball_max`); first-order forms are what the algorithms compute. The grid is refused beyond
`GRID_BUDGET` points per theta (rho about the landscape's whole plotting box).

    R0(theta) = max_{|e|<=rho} L(theta + e) - L(theta)           (GAM Eq. 2, GSAM f_p - f)
    R1(theta) = rho max_{|e|<=rho} |grad L(theta + e)|           (GAM Eq. 3, Def. 4.1)
    h(theta)  = L(theta + rho g/(|g|+xi)) - L(theta)              (GSAM Eq. 4, first-order R0)
    R1~(theta) = rho |grad L(theta_adv)|, theta_adv = theta + rho f/(|f|+xi), f = H g/(|g|+xi)
                                                                   (GAM Eq. 7, first-order R1)
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from . import landscapes as _landscapes
from .landscapes import Landscape, check_points
from .validate import real

XI = 1e-12


def _theta(theta):
    theta = check_points(theta, "theta")
    if not np.all(np.isfinite(theta)):
        bad = ~np.isfinite(theta).all(-1)
        i = tuple(int(k[0]) for k in np.nonzero(bad)) if theta.ndim > 1 else ()
        raise ValueError(f"theta contains NaN or inf (theta[{', '.join(map(str, i))}] = "
                         f"{theta[i].tolist()}): every measure needs finite points")
    return theta


def _prep(landscape, theta, rho):
    landscape = _landscapes.get(landscape)
    return landscape, _theta(theta), real("rho", rho, low=0.0)


def _xi(xi):
    return real("xi", xi, low=0.0)


GRID_BUDGET = 1_000_000  # polar-grid points per theta that r0/r1 may evaluate (~100 MB of arrays)
CHUNK = 400_000  # function evaluations per batch of theta (bounds the memory of a large batch)


def grid_size(rho: float, n_angle: int = 96, n_radius: int = 24, h: float | None = None) -> int:
    """(n_radius, n_angle) of ball_max's polar grid for radius rho and spacing at most h."""
    if h is not None and rho > 0:
        n_radius = max(n_radius, int(np.ceil(rho / h)) + 1)
        n_angle = max(n_angle, int(np.ceil(2 * np.pi * rho / h)))
    return n_radius, n_angle


def _check_budget(rho, points, h, budget):
    """A polar grid of more than `budget` points per theta: a ValueError with the rho that fits."""
    if points > budget:
        hint = (f"use rho <= {h * np.sqrt(budget / (2 * np.pi)):.3g} here (a ball about the "
                f"size of the landscape's plotting box)" if h is not None else
                "use a smaller rho or a coarser grid")
        raise ValueError(f"rho={rho:g} needs a polar grid of {points:,} points per "
                         f"theta, more than the budget of {budget:,} "
                         f"(gamtoy.flatness.GRID_BUDGET): {hint}")


def ball_max(fn, theta, rho, n_angle=96, n_radius=24, zooms=10, zoom_n=7, peaks=8, h=None,
             budget=GRID_BUDGET):
    """(max, argmax) of fn(points (..., 2)) -> (...) over the closed ball B(theta, rho).

    A polar grid (the centre, then rings at radii rho/(n_radius-1) .. rho, each of n_angle points;
    spacing at most `h` if given), then a pattern search from the centre and from each of the
    grid's `peaks` highest local maxima: `zooms` rounds of a `zoom_n` x `zoom_n` Cartesian window
    (points outside the ball projected onto its sphere) that moves while the best point is on its
    edge and shrinks otherwise. (Zooming on the single best cell misses the maximum when the ball
    holds several close peaks or a ridge oblique to the grid, e.g. the ripples of `fig1a`; a polar
    window degenerates at the centre, where a maximum closer to theta than the first ring, e.g.
    next to a saddle or a local maximum of L, was missed.) A grid of more than `budget` points per
    theta is refused. Returns the maximum (...,) and the maximising point (..., 2).
    """
    theta = np.asarray(theta, float)
    if rho == 0:
        return fn(theta), theta.copy()
    n_radius, n_angle = grid_size(rho, n_angle, n_radius, h)
    _check_budget(rho, n_radius * n_angle, h, budget)
    batch = theta.shape[:-1]
    n = int(np.prod(batch))
    if n == 0:  # an empty batch: empty answers (the grid's reshapes need a point)
        return np.zeros(batch), np.zeros(batch + (2,))
    per = n_radius * n_angle + (peaks + 1) * zoom_n ** 2
    step = max(1, CHUNK // per)
    if n > step:  # a large batch in chunks: the same result, bounded memory
        flat = theta.reshape(-1, 2)
        parts = [ball_max(fn, flat[i:i + step], rho, n_angle, n_radius, zooms, zoom_n, peaks,
                          None, budget) for i in range(0, n, step)]
        return (np.concatenate([p[0] for p in parts]).reshape(batch),
                np.concatenate([p[1] for p in parts]).reshape(batch + (2,)))
    r = np.linspace(0.0, rho, n_radius)[1:]
    a = np.linspace(0.0, 2 * np.pi, n_angle, endpoint=False)
    R, A = np.meshgrid(r, a, indexing="ij")
    E = np.stack([R * np.cos(A), R * np.sin(A)], -1)  # (n_radius - 1, n_angle, 2) offsets
    V = fn(theta[..., None, None, :] + E)
    V0 = fn(theta)
    # local maxima of the rings: angles wrap around, the first ring's inner neighbour is the
    # centre, the sphere is an open end
    inner = np.concatenate([np.broadcast_to(V0[..., None, None], V.shape[:-2] + (1, n_angle)),
                            V[..., :-1, :]], -2)
    outer = np.concatenate([V[..., 1:, :], np.full(V.shape[:-2] + (1, n_angle), -np.inf)], -2)
    peak = (V >= inner) & (V >= outer) & (V >= np.roll(V, 1, -1)) & (V >= np.roll(V, -1, -1))
    score = np.where(peak, V, -np.inf).reshape(V.shape[:-2] + (-1,))
    k = min(peaks, score.shape[-1])
    top = np.argpartition(score, -k, axis=-1)[..., -k:]  # (..., k) cells
    seeds = np.concatenate([np.zeros(batch + (1, 2)), E.reshape(-1, 2)[top]], -2)  # centre first
    vals = np.concatenate([np.asarray(V0, float)[..., None],
                           np.take_along_axis(V.reshape(score.shape), top, -1)], -1)
    size = max(rho / (n_radius - 1), rho * 2 * np.pi / n_angle)  # the coarsest cell side
    best_e, best_v = _pattern_search(fn, theta[..., None, :], rho, seeds, vals, size, zooms, zoom_n)
    i = np.argmax(best_v, -1)
    best_v = np.take_along_axis(best_v, i[..., None], -1)[..., 0]
    best_e = np.take_along_axis(best_e, i[..., None, None], -2)[..., 0, :]
    return best_v, theta + best_e


def _pattern_search(fn, theta, rho, best_e, best_v, size, rounds, m):
    """Refine maxima of fn(theta + e), |e| <= rho, from offsets best_e (..., k, 2): a Cartesian
    m x m window per seed, half-width `size` at first, moving while its best point is on its edge
    (and inside the ball), shrinking otherwise."""
    u = np.linspace(-1.0, 1.0, m)
    ux, uy = (w.ravel() for w in np.meshgrid(u, u, indexing="ij"))
    U = np.stack([ux, uy], -1)  # (m*m, 2)
    edge = (np.abs(ux) == 1) | (np.abs(uy) == 1)
    s = np.full(best_v.shape, float(size))
    for _ in range(rounds):
        Ez = best_e[..., None, :] + U * s[..., None, None]  # (..., k, m*m, 2)
        nz = np.sqrt(np.sum(Ez * Ez, -1))
        out = nz > rho
        Ez = np.where(out[..., None], Ez * (rho / np.where(out, nz, 1.0))[..., None], Ez)
        Vz = fn(theta[..., None, :] + Ez)
        j = np.argmax(Vz, -1)
        v2 = np.take_along_axis(Vz, j[..., None], -1)[..., 0]
        e2 = np.take_along_axis(Ez, j[..., None, None], -2)[..., 0, :]
        better = v2 > best_v
        moved = better & edge[j] & ~np.take_along_axis(out, j[..., None], -1)[..., 0]
        best_e = np.where(better[..., None], e2, best_e)
        best_v = np.where(better, v2, best_v)
        s = s * np.where(moved, 1.0, 2.0 / (m - 1))
    return best_e, best_v


def r0(landscape: str | Landscape, theta: ArrayLike, rho: float, return_argmax: bool = False
       ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Zeroth-order flatness R0 = max_{|e|<=rho} L(theta+e) - L(theta) (exact, GAM Eq. 2)."""
    L, theta, rho = _prep(landscape, theta, rho)
    vmax, arg = ball_max(L.value, theta, rho, h=_spacing(L))
    out = vmax - L.value(theta)
    return (out, arg) if return_argmax else out


def r1(landscape: str | Landscape, theta: ArrayLike, rho: float, return_argmax: bool = False
       ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
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


def sam_point(landscape: str | Landscape, theta: ArrayLike, rho: float, xi: float = XI
              ) -> np.ndarray:
    """SAM's first-order worst point w_adv = theta + rho g/(|g|+xi) (GSAM Eq. 3)."""
    L, theta, rho = _prep(landscape, theta, rho)
    xi = _xi(xi)
    g = L.grad(theta)
    return theta + rho * g / (np.sqrt(np.sum(g * g, -1, keepdims=True)) + xi)


def surrogate_gap(landscape: str | Landscape, theta: ArrayLike, rho: float, xi: float = XI
                  ) -> np.ndarray:
    """GSAM's surrogate gap h = f(w + rho g/(|g|+xi)) - f(w) (GSAM Eq. 4): first-order R0."""
    L, theta, rho = _prep(landscape, theta, rho)
    return L.value(sam_point(L, theta, rho, xi)) - L.value(theta)


def gam_point(landscape: str | Landscape, theta: ArrayLike, rho: float, xi: float = XI
              ) -> np.ndarray:
    """GAM's first-order steepest point (Eq. 7, 13): theta_adv = theta + rho f/(|f|+xi),
    f = H g/(|g|+xi)."""
    L, theta, rho = _prep(landscape, theta, rho)
    xi = _xi(xi)
    _, f = L.normgrad(theta, xi)
    return theta + rho * f / (np.sqrt(np.sum(f * f, -1, keepdims=True)) + xi)


def r1_first_order(landscape: str | Landscape, theta: ArrayLike, rho: float, xi: float = XI
                   ) -> np.ndarray:
    """GAM's first-order R1 = rho |grad L(theta_adv)| (Eq. 7, 15)."""
    L, theta, rho = _prep(landscape, theta, rho)
    return rho * _gnorm(L, gam_point(L, theta, rho, xi))


def grad_norm(landscape: str | Landscape, theta: ArrayLike) -> np.ndarray:
    """|grad L(theta)|, shape (...)."""
    L = _landscapes.get(landscape)
    return _gnorm(L, _theta(theta))


def hessian_eigs(landscape: str | Landscape, theta: ArrayLike) -> np.ndarray:
    """Eigenvalues of the exact Hessian, ascending, shape (..., 2)."""
    L = _landscapes.get(landscape)
    return np.linalg.eigvalsh(L.hessian(_theta(theta)))


def lambda_max(landscape: str | Landscape, theta: ArrayLike) -> np.ndarray:
    """Largest Hessian eigenvalue lambda_max (GAM Lemma 4.1), shape (...)."""
    return hessian_eigs(landscape, theta)[..., -1]


def sigma_max(landscape: str | Landscape, theta: ArrayLike) -> np.ndarray:
    """GSAM's dominant eigenvalue: the one of largest magnitude (Lemma 3.1, 3.3), sign kept."""
    e = hessian_eigs(landscape, theta)
    return np.where(np.abs(e[..., -1]) >= np.abs(e[..., 0]), e[..., -1], e[..., 0])


def hessian_trace(landscape: str | Landscape, theta: ArrayLike) -> np.ndarray:
    """Trace of the exact Hessian, shape (...)."""
    return np.trace(_landscapes.get(landscape).hessian(_theta(theta)), axis1=-2, axis2=-1)


def summary(landscape: str | Landscape, theta: ArrayLike, rho: float, xi: float = XI) -> dict:
    """Every measure at theta as a dict of arrays: exact and first-order side by side."""
    return {
        "R0": r0(landscape, theta, rho), "h": surrogate_gap(landscape, theta, rho, xi),
        "R1": r1(landscape, theta, rho),
        "R1_first_order": r1_first_order(landscape, theta, rho, xi),
        "grad_norm": grad_norm(landscape, theta), "lambda_max": lambda_max(landscape, theta),
        "trace": hessian_trace(landscape, theta),
    }
