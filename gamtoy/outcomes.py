"""Where a run ends, decided by the end point itself: its gradient and its Hessian.

One set of outcome codes for the ridge tables, GAM Fig. 1's populations, the basin map and the
widgets (`Outcome`): a code i >= 0 is minimum i of `landscape.minima` (on `ridge`: 0 the flat
basin, i >= 1 sharp well i); negative codes are the other endings.

The rule (`classify`), for each end point p with gradient g and Hessian H:
- diverged (the run's own flag, or p not finite): `DIVERGED`;
- the Newton target q = p - H^-1 g (where p's own quadratic model puts the critical point) lies
  within `RADIUS` of a known critical point c (`landscape.critical_points`), and
  - |g| <= `GTOL` (converged): c's code (minimum i, or `SADDLE` with c's saddle index),
  - |g| > GTOL but H positive definite and c a known minimum: that minimum, flagged not converged
    (still settling into it: e.g. SGD in the flat basin, whose curvature is ~0.2);
- |g| <= GTOL at another critical point (one of `critical_points` past the known minima and
  saddles, or none of them): `OTHER_CRITICAL`, typed by H's eigenvalues;
- otherwise `MOVING` (still moving), reported with its |g|.
No flow is run from the end point, so round-off cannot decide which side of a saddle it leaves by.
"""
import enum
from dataclasses import dataclass

import numpy as np

from . import landscapes as _landscapes
from .landscapes.critical import KINDS, hessian_kind

GTOL = 1e-4      # |grad L| at or below which a run has converged
RADIUS = 1e-2    # a Newton target this close to a known critical point is that point


class Outcome(enum.IntEnum):
    """Negative outcome codes; a code i >= 0 is minimum i of `landscape.minima`."""
    MOVING = -1           # not converged, and not settling into a known minimum
    DIVERGED = -2         # the run's loss or point left the finite numbers / the run's box
    SADDLE = -3           # converged at a known saddle (which one: `Ends.saddle`)
    OTHER_CRITICAL = -4   # converged at a critical point not among the known ones (`Ends.kind`)


# the ridge tables' outcomes: a minimum is split into the flat basin, the sharp well SGD ends in
# from the same start, and another sharp well
RIDGE_OUTCOMES = ("flat", "sgd_well", "other_well", "saddle", "moving", "other_critical",
                  "diverged")
RIDGE_LABELS = {"flat": "flat basin", "sgd_well": "SGD's sharp well",
                "other_well": "another sharp well", "saddle": "a saddle",
                "moving": "still moving", "other_critical": "another critical point",
                "diverged": "diverged"}


@dataclass
class Ends:
    """`classify`'s answer, one entry per end point: `code` (minimum i >= 0, or an `Outcome`),
    `saddle` (the saddle's index in `landscape.saddles`, -1 if none), `critical` (index in
    `landscape.critical_points`, -1 if none), `converged` (|g| <= GTOL), `gnorm` |g|, `eig` the
    Hessian's eigenvalues (ascending, (n, 2)), `kind` (KINDS of the Hessian at the point)."""
    code: np.ndarray
    saddle: np.ndarray
    critical: np.ndarray
    converged: np.ndarray
    gnorm: np.ndarray
    eig: np.ndarray
    kind: np.ndarray

    def name(self, i, landscape):
        """The end of run i in words, e.g. "well 2", "saddle 2 (eigenvalues -20.3, 9.04)",
        "still moving (|g| 3.1e-02)"."""
        return describe(landscape, int(self.code[i]), int(self.critical[i]), self.gnorm[i],
                        self.eig[i], int(self.kind[i]))


def describe(landscape, code, critical, gnorm, eig, kind):
    """One end point in words (see `Ends.name`)."""
    L = _landscapes.get(landscape)
    lo, hi = eig
    ev = f"eigenvalues {lo:.3g}, {hi:.3g}"
    if code == Outcome.DIVERGED:
        return "diverged"
    if code == Outcome.MOVING:
        return f"still moving (|g| {gnorm:.1e}, {ev})"
    if code == Outcome.OTHER_CRITICAL:
        what = L.critical_points[critical].name if critical >= 0 else f"an unlisted {KINDS[kind]}"
        return f"{what} ({ev})"
    name = L.critical_points[critical].name
    return f"{name} ({ev})" if code == Outcome.SADDLE else (
        name if gnorm <= GTOL else f"{name}, still settling (|g| {gnorm:.1e})")


def _newton_target(P, g, H):
    """p - H^-1 g per row (NaN where H is singular)."""
    det = H[:, 0, 0] * H[:, 1, 1] - H[:, 0, 1] ** 2
    q = np.full_like(P, np.nan)
    ok = np.isfinite(det) & (np.abs(det) > 1e-300)
    q[ok] = P[ok] - np.linalg.solve(H[ok], g[ok][..., None])[..., 0]
    return q


def classify(landscape, points, diverged=None, gtol=GTOL, radius=RADIUS):
    """Label each end point (points (..., 2), flattened to (n, 2)) by its own gradient and Hessian
    (the rule in the module's docstring); `diverged` (n,) the runs' own flags. Returns `Ends`."""
    if not (gtol > 0 and radius > 0):
        raise ValueError(f"gtol and radius must be > 0, got gtol={gtol!r}, radius={radius!r}")
    L = _landscapes.get(landscape)
    P = np.asarray(points, float)
    if P.ndim == 0 or P.shape[-1] != 2:
        raise ValueError(f"points must be end points of shape (..., 2), got shape {P.shape}")
    P = P.reshape(-1, 2)
    div = ~np.isfinite(P).all(-1)  # a NaN or inf end point is a diverged run
    if diverged is not None:
        d = np.asarray(diverged, bool).reshape(-1)
        if d.shape != div.shape:
            raise ValueError(f"diverged must have one flag per point ({len(P)}), got {d.shape}")
        div |= d
    Q = np.where(div[:, None], 0.0, P)
    with np.errstate(all="ignore"):
        g, H = L.grad(Q), L.hessian(Q)
        gn = np.linalg.norm(g, axis=-1)
        eig = np.linalg.eigvalsh(H)
        q = _newton_target(Q, g, H)
    kind = hessian_kind(eig)
    cps = L.critical_points
    C = np.array([c.point for c in cps]).reshape(-1, 2)
    dist = np.linalg.norm(q[:, None] - C[None], axis=-1) if len(C) else np.full((len(P), 0), np.inf)
    near = np.argmin(dist, 1) if len(C) else np.full(len(P), -1)
    hit = np.take_along_axis(dist, near[:, None], 1)[:, 0] <= radius if len(C) else near >= 0
    conv = gn <= gtol
    nmin = 0 if L.minima is None else len(L.minima)
    is_saddle = np.array([c.kind == "saddle" for c in cps] + [False])[near]
    saddle_no = np.cumsum([c.kind == "saddle" for c in cps]) - 1 if len(C) else np.zeros(0, int)
    code = np.full(len(P), int(Outcome.MOVING))
    crit = np.where(hit, near, -1)
    known_min = hit & (near < nmin)
    code[conv & known_min] = near[conv & known_min]
    code[~conv & known_min & (kind == 0)] = near[~conv & known_min & (kind == 0)]
    code[conv & hit & is_saddle] = int(Outcome.SADDLE)
    other = conv & ~known_min & ~(hit & is_saddle)
    code[other] = int(Outcome.OTHER_CRITICAL)
    code[div] = int(Outcome.DIVERGED)
    crit[(code == Outcome.MOVING) | (code == Outcome.DIVERGED)] = -1
    saddle = np.where(code == Outcome.SADDLE, saddle_no[np.maximum(near, 0)] if len(C) else -1, -1)
    return Ends(code, saddle, crit, conv & ~div, np.where(div, np.nan, gn), eig, kind)
