"""Exercises for notebook 02 (the ridge): SAM's and GSAM's directions.

    SAM  (GSAM Alg. 1 steps 1-2):  w_adv = w + rho g/|g|,  g_p = grad L(w_adv)
    GSAM (GSAM Alg. 1 steps 3-4):  g_perp = g - (g . g_p / |g_p|^2) g_p,  d = g_p - alpha g_perp

`check_sam_direction(fn)`: fn(grad, w, rho) -> g_p, with `grad` a function (2,) -> (2,).
`check_gsam_direction(fn)`: fn(g, g_p, alpha) -> d.
"""
import numpy as np

from .. import landscapes as _landscapes
from ._check import ExerciseError, compare, passed

__all__ = ["check_sam_direction", "check_gsam_direction"]

SAM_CASES = (("ridge", (-2.9, 1.5), 0.3), ("ridge", (-1.9, 0.35), 0.17), ("quadratic", (0.5, -1.2), 0.4))
GSAM_CASES = (((0.3, -1.1), (0.9, -0.2), 0.3), ((-0.4, 0.7), (0.1, 1.3), 0.7),
              ((1.5, 0.2), (1.0, 1.0), 0.15))


def _ref_sam(grad, w, rho):
    g = grad(w)
    return grad(w + rho * g / np.linalg.norm(g))


def _ref_gsam(g, gp, alpha):
    g, gp = np.asarray(g, float), np.asarray(gp, float)
    g_perp = g - (g @ gp) / (gp @ gp) * gp
    return gp - alpha * g_perp


def _call(name, fn, *args):
    try:
        return np.asarray(fn(*args), float)
    except Exception as e:
        raise ExerciseError(f"{name}: your function raised {type(e).__name__}: {e}.") from e


def check_sam_direction(fn):
    """Check `fn(grad, w, rho) -> g_p = grad(w + rho grad(w)/|grad(w)|)` (SAM's direction)."""
    name = "g_p"
    for land, w, rho in SAM_CASES:
        L = _landscapes.get(land)
        grad = lambda p, L=L: L.grad(np.asarray(p, float))
        w = np.array(w, float)
        got = _call(name, fn, grad, w.copy(), rho)
        want = _ref_sam(grad, w, rho)
        if got.shape == want.shape and np.all(np.isfinite(got)):
            g = grad(w)
            if np.allclose(got, g, rtol=1e-6):
                raise ExerciseError(f"{name}: you returned grad L(w), SGD's direction: evaluate the "
                                    "gradient at the ascent point w_adv = w + rho g/|g|.")
            if np.allclose(got, grad(w - rho * g / np.linalg.norm(g)), rtol=1e-6):
                raise ExerciseError(f"{name}: sign: the ascent point is w + rho g/|g| (uphill), "
                                    "you used w - rho g/|g|.")
            if np.allclose(got, grad(w + rho * g), rtol=1e-6):
                raise ExerciseError(f"{name}: scale: normalise g: w_adv = w + rho g/|g|, so that "
                                    "|w_adv - w| = rho.")
        compare(f"{name} (on {land} at w={tuple(w)}, rho={rho})", got, want)
    return passed(name)


def check_gsam_direction(fn):
    """Check `fn(g, g_p, alpha) -> g_p - alpha g_perp` (GSAM's direction, Alg. 1 step 4)."""
    name = "d_GSAM"
    for g, gp, alpha in GSAM_CASES:
        g, gp = np.array(g, float), np.array(gp, float)
        got = _call(name, fn, g.copy(), gp.copy(), alpha)
        want = _ref_gsam(g, gp, alpha)
        if got.shape == want.shape and np.all(np.isfinite(got)):
            g_perp = g - (g @ gp) / (gp @ gp) * gp
            if np.allclose(got, gp + alpha * g_perp, rtol=1e-6):
                raise ExerciseError(f"{name}: sign: GSAM subtracts alpha g_perp (an ascent step on "
                                    "h), d = g_p - alpha g_perp.")
            if np.allclose(got, gp - g_perp, rtol=1e-6):
                raise ExerciseError(f"{name}: scale: you left out alpha (d = g_p - alpha g_perp).")
            gp_perp = gp - (gp @ g) / (g @ g) * g
            if np.allclose(got, gp - alpha * gp_perp, rtol=1e-6):
                raise ExerciseError(f"{name}: you decomposed g_p along g; GSAM decomposes g along g_p: "
                                    "g_perp = g - (g . g_p / |g_p|^2) g_p.")
            if np.allclose(got, gp - alpha * (g - (g @ gp) * gp), rtol=1e-6):
                raise ExerciseError(f"{name}: the projection needs |g_p|^2 in the denominator "
                                    "(g_p is not a unit vector).")
        compare(f"{name} (g={tuple(g)}, g_p={tuple(gp)}, alpha={alpha})", got, want)
    return passed(name)
