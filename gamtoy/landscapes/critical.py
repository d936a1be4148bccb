"""Critical points of a 2D landscape (grad L = 0): minima, saddles, maxima, typed by the Hessian.

Found by Newton's method on grad L = 0 from a grid over the landscape's bounds (and from the known
minima), polished to |grad L| < `GTOL`, deduplicated, and typed by the signs of the Hessian's two
eigenvalues (`eigvalsh`). The known minima (`Landscape.minima`) come first, in their order.
"""
from dataclasses import dataclass

import numpy as np

GTOL = 1e-10          # |grad L| of a polished critical point
SAME = 1e-6           # two polished points closer than this are one critical point
KINDS = ("minimum", "saddle", "maximum", "degenerate")


@dataclass(frozen=True)
class CriticalPoint:
    """One critical point: `point` (2,), `kind` (one of KINDS), Hessian `eigenvalues` (ascending),
    `name` ("flat basin", "well 1", "saddle 2", ...), `index` in `Landscape.critical_points`."""
    point: np.ndarray
    kind: str
    eigenvalues: np.ndarray
    name: str
    index: int

    def __repr__(self):
        x, y = self.point
        lo, hi = self.eigenvalues
        return (f"CriticalPoint({self.name!r}, {self.kind}, ({x:.6g}, {y:.6g}), "
                f"eig ({lo:.4g}, {hi:.4g}))")


def hessian_kind(eig, rel=1e-8):
    """The type of a critical point from its Hessian eigenvalues (..., 2) ascending: an array of
    KINDS' indices (0 minimum, 1 saddle, 2 maximum, 3 degenerate: an eigenvalue within `rel` of
    the larger one's size from 0)."""
    eig = np.asarray(eig, float)
    tiny = rel * np.maximum(np.abs(eig).max(-1), 1e-300)
    lo, hi = eig[..., 0], eig[..., 1]
    k = np.full(lo.shape, 3)
    k[(lo > tiny) & (hi > tiny)] = 0
    k[(lo < -tiny) & (hi > tiny)] = 1
    k[(lo < -tiny) & (hi < -tiny)] = 2
    return k


def newton(L, P, iters=80, max_step=0.1):
    """Damped Newton on grad L = 0 from each row of P (k, 2): each step is H^-1 g clipped to
    length `max_step`. Rows whose Hessian is singular or whose iterate is not finite become NaN."""
    P = np.array(P, float).reshape(-1, 2)
    with np.errstate(all="ignore"):
        for _ in range(iters):
            g, H = L.grad(P), L.hessian(P)
            det = H[:, 0, 0] * H[:, 1, 1] - H[:, 0, 1] ** 2
            ok = np.isfinite(det) & (np.abs(det) > 1e-300)
            s = np.full_like(P, np.nan)
            s[ok] = np.linalg.solve(H[ok], g[ok][..., None])[..., 0]
            n = np.linalg.norm(s, axis=-1, keepdims=True)
            P = P - s * np.minimum(1.0, max_step / np.where(n > 0, n, 1.0))
            if np.all(~np.isfinite(P[:, 0]) | (n[:, 0] < 1e-15)):
                break
    return P


def find(L, n=121, extra=(), margin=0.05):
    """Every critical point Newton reaches from an n x n grid over L.bounds and from `extra`
    points (L.minima first): (points (k, 2), eigenvalues (k, 2)), deduplicated, |grad| < GTOL,
    inside the bounds widened by `margin` spans; the rows of `extra` that polish stay first."""
    (x0, x1), (y0, y1) = L.bounds
    X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    extra = np.asarray(extra, float).reshape(-1, 2)
    P = newton(L, np.vstack([extra, np.stack([X.ravel(), Y.ravel()], -1)]))
    with np.errstate(all="ignore"):
        g = np.linalg.norm(L.grad(np.nan_to_num(P)), axis=-1)
    sx, sy = margin * (x1 - x0), margin * (y1 - y0)
    inside = ((P[:, 0] >= x0 - sx) & (P[:, 0] <= x1 + sx) & (P[:, 1] >= y0 - sy)
              & (P[:, 1] <= y1 + sy))
    keep = np.isfinite(P).all(-1) & (g < GTOL) & inside
    out = []
    for p in P[keep]:
        if all(np.linalg.norm(p - q) > SAME for q in out):
            out.append(p)
    pts = np.array(out).reshape(-1, 2)
    return pts, np.linalg.eigvalsh(L.hessian(pts)) if len(pts) else np.zeros((0, 2))


def critical_points(L, minimum_names=None, n=121):
    """The records (`CriticalPoint`) of L: its known minima first (named by `minimum_names`, else
    "minimum i"), then other minima, saddles (named "saddle j", left to right), maxima and
    degenerate points found by `find`."""
    M = np.zeros((0, 2)) if L.minima is None else L.minima
    pts, eig = find(L, n=n, extra=M)
    kind = hessian_kind(eig)
    known = [int(np.argmin(np.linalg.norm(pts - m, axis=-1))) for m in M]
    if any(np.linalg.norm(pts[i] - m) > SAME for i, m in zip(known, M, strict=True)):
        raise RuntimeError(f"{L.name}: a known minimum is not among the polished critical points")
    names = list(minimum_names or [f"minimum {i}" for i in range(len(M))])
    order = known + sorted((i for i in range(len(pts)) if i not in known),
                           key=lambda i: (kind[i], pts[i, 0], pts[i, 1]))
    out, count = [], {k: 0 for k in KINDS}
    for j, i in enumerate(order):
        kd = KINDS[kind[i]]
        if j < len(M):
            name = names[j]
        else:
            count[kd] += 1
            name = f"{kd} {count[kd] + (len(M) - 1 if kd == 'minimum' else 0)}"
        out.append(CriticalPoint(pts[i].copy(), kd, eig[i].copy(), name, j))
    return tuple(out)
