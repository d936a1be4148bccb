"""Exercises for notebook 01 (first-order flatness): write R0 and R1 yourself.

    R0(theta) = max_{|e|<=rho} L(theta + e) - L(theta)           (GAM Eq. 2)
    R1(theta) = rho max_{|e|<=rho} |grad L(theta + e)|           (GAM Eq. 3)

Your function gets `(landscape, theta, rho)` (a gamtoy Landscape, a point of shape (2,), a radius)
and returns a float. The checker compares with `gamtoy.flatness` (exact: a polar grid then a
pattern search) on a few points of `fig1a`, `fig1b` and `quadratic`, within `RTOL`.
"""
import numpy as np

from .. import flatness as _F
from .. import landscapes as _landscapes
from ._check import ExerciseError, passed

__all__ = ["check_r0", "check_r1"]

RTOL = 5e-3
CASES = (("fig1a", (2.0, 0.0), 0.5), ("fig1a", (-1.7, 0.3), 0.5), ("fig1b", (2.0, 0.0), 0.5),
         ("quadratic", (0.4, -0.7), 0.3), ("fig1a", (1.0, 0.4), 0.25))


def _run(name, fn, want_fn):
    for land, theta, rho in CASES:
        L = _landscapes.get(land)
        th = np.array(theta, float)
        try:
            got = fn(L, th.copy(), rho)
        except Exception as e:  # the student's error, shown with the case that raised it
            raise ExerciseError(f"{name}: your function raised {type(e).__name__}: {e} "
                                f"on {land} at theta={theta}, rho={rho}.") from e
        got = np.asarray(got, float)
        if got.shape not in ((), (1,)):
            raise ExerciseError(f"{name}: return one number (a float), got shape {got.shape}.")
        got = float(got.reshape(()))
        want = float(want_fn(L, th, rho))
        if not np.isfinite(got):
            raise ExerciseError(f"{name}: got {got} on {land} at theta={theta}.")
        if abs(got - want) <= RTOL * abs(want) + 1e-9:
            continue
        where = f"on {land} at theta={theta}, rho={rho}: got {got:.5g}, expected {want:.5g}"
        hints = _hints(name, L, th, rho, got, want)
        raise ExerciseError(f"{name}: wrong {where}. {hints}")
    return passed(name)


def _close(a, b):
    return abs(a - b) <= 2 * RTOL * max(abs(b), 1e-12)


def _hints(name, L, th, rho, got, want):
    g0 = float(np.linalg.norm(L.grad(th)))
    if got < 0:
        return "A maximum over a ball that contains theta cannot be below its value at theta: sign?"
    if name == "R1":
        if _close(got, want / rho):
            return "Scale: you forgot the factor rho in front of the max (GAM Eq. 3)."
        if _close(got, want * rho):
            return "Scale: you multiplied by rho twice (or by rho^2)."
        if _close(got, rho * g0):
            return "That is rho |grad L(theta)|, the gradient at the centre: take the max over the ball."
    else:
        if _close(got, want + float(L.value(th))):
            return "You returned the max of L over the ball; subtract L(theta) (GAM Eq. 2)."
        w = th + rho * L.grad(th) / max(g0, 1e-300)
        if _close(got, float(L.value(w) - L.value(th))):
            return ("That is the first-order R0 (GSAM's h: the loss at theta + rho g/|g|); the exact R0 "
                    "searches the whole ball.")
    if got < want:
        return ("Too small: your search misses the maximiser. Search the whole disc (radii 0..rho, "
                "not only the circle |e| = rho), with a finer grid.")
    return "Too large: are all your points inside the ball |e| <= rho?"


def check_r0(fn):
    """Check `fn(landscape, theta, rho) -> R0(theta)` (GAM Eq. 2) on a few cases."""
    return _run("R0", fn, lambda L, th, rho: _F.r0(L, th, rho))


def check_r1(fn):
    """Check `fn(landscape, theta, rho) -> R1(theta)` (GAM Eq. 3) on a few cases."""
    return _run("R1", fn, lambda L, th, rho: _F.r1(L, th, rho))
