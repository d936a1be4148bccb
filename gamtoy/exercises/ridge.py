"""Exercises for notebook 02 (the ridge): SAM's and GSAM's directions.

    SAM  (GSAM Alg. 1 steps 1-2):  w_adv = w + rho g/|g|,  g_p = grad L(w_adv)
    GSAM (GSAM Alg. 1 steps 3-4):  g_perp = g - (g . g_p / |g_p|^2) g_p,  d = g_p - alpha g_perp

`check_sam_direction(fn)`: fn(grad, w, rho) -> g_p, with `grad` a function (2,) -> (2,).
`check_gsam_direction(fn)`: fn(g, g_p, alpha) -> d.
"""
import numpy as np

from .. import landscapes as _landscapes
from ._check import ExerciseError, call, compare, match, passed, tier_all

__all__ = ["check_sam_direction", "check_gsam_direction", "check_rho_schedule",
           "check_nearest_minimum", "check_neighbourhood"]

SAM_CASES = (("ridge", (-2.9, 1.5), 0.3), ("ridge", (-1.9, 0.35), 0.17),
             ("quadratic", (0.5, -1.2), 0.4))
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
    except ExerciseError:
        raise
    except Exception as e:
        raise ExerciseError(f"{name}: your function raised {type(e).__name__}: {e}.") from e


def check_sam_direction(fn):
    """Check `fn(grad, w, rho) -> g_p = grad(w + rho grad(w)/|grad(w)|)` (SAM's direction)."""
    name = "g_p"
    for land, w, rho in SAM_CASES:
        L = _landscapes.get(land)

        def grad(p, L=L):
            return L.grad(np.asarray(p, float))

        w = np.array(w, float)
        got = _call(name, fn, grad, w.copy(), rho)
        want = _ref_sam(grad, w, rho)
        if got.shape == want.shape and np.all(np.isfinite(got)):
            g = grad(w)
            if np.allclose(got, g, rtol=1e-6):
                raise ExerciseError(f"{name}: you returned grad L(w), SGD's direction: evaluate "
                                    "the gradient at SAM's ascent point instead.")
            if np.allclose(got, grad(w - rho * g / np.linalg.norm(g)), rtol=1e-6):
                raise ExerciseError(f"{name}: sign: the ascent point is uphill from w, "
                                    "you went downhill.")
            if np.allclose(got, grad(w + rho * g), rtol=1e-6):
                raise ExerciseError(f"{name}: scale: normalise g, so that the ascent point is "
                                    "exactly rho away (|w_adv - w| = rho).")
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
                                    "h): the orthogonal part enters with a minus sign.")
            if np.allclose(got, gp - g_perp, rtol=1e-6):
                raise ExerciseError(f"{name}: scale: you left out alpha, the weight of g_perp.")
            gp_perp = gp - (gp @ g) / (g @ g) * g
            if np.allclose(got, gp - alpha * gp_perp, rtol=1e-6):
                raise ExerciseError(f"{name}: you decomposed g_p along g; GSAM decomposes g along "
                                    "g_p: split g into its parts along and across g_p.")
            if np.allclose(got, gp - alpha * (g - (g @ gp) * gp), rtol=1e-6):
                raise ExerciseError(f"{name}: the projection needs |g_p|^2 in the denominator "
                                    "(g_p is not a unit vector).")
        compare(f"{name} (g={tuple(g)}, g_p={tuple(gp)}, alpha={alpha})", got, want)
    return passed(name)


# ---- section 2: GSAM's rho schedule ------------------------------------------------------------
def _cosine(lr_max, lr_min, T):
    t = np.arange(T + 1)
    return lr_min + 0.5 * (lr_max - lr_min) * (1 + np.cos(np.pi * t / T))


RHO_CASES = ((0.05, 0.0025, 0.3, 40), (0.1, 0.01, 0.07, 25))


def check_rho_schedule(fn):
    """fn(lr, lr_min, lr_max, rho_max) -> rho_t = rho_max (lr_t - lr_min)/(lr_max - lr_min)
    (GSAM Alg. 1 step 0), elementwise on an array `lr` of learning rates."""
    for lr_max, lr_min, rho_max, T in RHO_CASES:
        lr = _cosine(lr_max, lr_min, T)
        name = f"rho_t (cosine lr {lr_max} -> {lr_min}, rho_max={rho_max})"
        got = call(name, fn, lr.copy(), lr_min, lr_max, rho_max)
        frac = (lr - lr_min) / (lr_max - lr_min)
        hints = ((rho_max * lr / lr_max, "rho_t must reach 0 when lr_t = lr_min: subtract lr_min "
                  "(and rescale so that lr_max still gives rho_max)."),
                 (rho_max * (1 - frac), "reversed: rho_t follows lr_t, so it starts at rho_max and "
                  "decays to 0 with it."),
                 (frac, "the factor rho_max is missing: rho_t goes from rho_max down to 0."),
                 (np.full_like(lr, rho_max), "rho_t is not constant: it decays with lr_t."))
        match(name, got, rho_max * frac, hints, rtol=1e-9)
    return passed("rho schedule")


# ---- section 3: where does a run end -----------------------------------------------------------
BASIN_CASES = (((-1.86, 0.26), 0.35, 2), ((3.0, 0.2), 0.35, 0), ((0.0, 1.0), 0.35, -1),
               ((-1.28, 0.335), 0.1, 3), ((-1.28, 0.335), 0.03, -1))


def check_nearest_minimum(fn):
    """fn(minima, point, radius) -> the index i of the known minimum nearest to `point` when it
    is closer than `radius`, else -1 (how `gamtoy.outcomes.classify` matches a point's Newton
    target to the landscape's known critical points). `minima` is
    the ridge's (5, 2) array of minima: 0 the flat basin, 1-4 the sharp wells."""
    M = _landscapes.get("ridge").minima
    for point, radius, want in BASIN_CASES:
        p = np.array(point, float)
        name = f"nearest minimum of {point} within {radius}"
        got = call(name, fn, M.copy(), p.copy(), radius)
        d = np.linalg.norm(M - p, axis=-1)
        if isinstance(got, (float, np.floating)) and not float(got).is_integer():
            raise ExerciseError(f"{name}: return an index (an int), got the float {got}: a "
                                "distance?")
        try:
            got = int(got)
        except (TypeError, ValueError):
            raise ExerciseError(f"{name}: return an index (an int), got {got!r}.") from None
        if got == want:
            continue
        if want == -1 and got == int(np.argmin(d)):
            raise ExerciseError(f"{name}: got {got}, expected -1: the nearest minimum is "
                                f"{d.min():.3f} away, farther than radius; check the distance.")
        if got == int(np.argmax(d)):
            raise ExerciseError(f"{name}: got {got}, the FARTHEST minimum: use argmin of the "
                                "distances.")
        if got == int(np.argmin(d)) + 1:
            raise ExerciseError(f"{name}: got {got}, expected {want}: off by one (indices start at "
                                "0).")
        raise ExerciseError(f"{name}: got {got}, expected {want} (distances {np.round(d, 3)}).")
    return passed("nearest minimum")


# ---- section 4: the neighbourhood of a setting -------------------------------------------------
FACTORS = (0.8, 1.0, 1.25)


def check_neighbourhood(fn):
    """fn(lr, rho, alpha) -> the 27 settings (lr', rho', alpha') with each of lr, rho, alpha
    multiplied by 0.8, 1 or 1.25 (every combination), as a list of 3-tuples, any order."""
    for lr, rho, alpha in ((0.05, 0.3, 0.3), (0.02, 0.11, 0.7)):
        name = f"neighbourhood of (lr={lr}, rho={rho}, alpha={alpha})"
        got = call(name, fn, lr, rho, alpha)
        try:
            A = np.asarray([tuple(map(float, c)) for c in got], float)
        except (TypeError, ValueError) as e:
            raise ExerciseError(
                f"{name}: return a list of (lr, rho, alpha) tuples ({e}).") from None
        if A.ndim != 2 or A.shape[1] != 3:
            raise ExerciseError(f"{name}: each cell is a 3-tuple (lr, rho, alpha); got shape "
                                f"{A.shape}.")
        want = np.array([(lr * a, rho * b,
                          alpha * c) for a in FACTORS for b in FACTORS for c in FACTORS])
        if len(A) == 7:
            raise ExerciseError(f"{name}: 7 cells is one factor at a time (the quick mode); the "
                                "neighbourhood is every combination, 3^3 = 27 cells.")
        if len(A) == 8:
            raise ExerciseError(f"{name}: 8 = 2^3 cells: the factor 1 (the centre value) is "
                                "missing.")
        u = np.unique(np.round(A, 12), axis=0)
        if len(u) < len(A):
            raise ExerciseError(f"{name}: {len(A) - len(u)} duplicate cells.")
        if len(A) != 27:
            raise ExerciseError(f"{name}: {len(A)} cells, expected 27 (3 factors for each of 3 "
                                "values).")

        def key(X):
            return X[np.lexsort(X.T[::-1])]

        if not np.allclose(key(A), key(want), rtol=1e-9):
            ratios = np.unique(np.round(A[:, 0] / lr, 6))
            raise ExerciseError(f"{name}: the cells are not x (0.8, 1, 1.25); lr' / lr takes "
                                f"{ratios.tolist()}.")
    return passed("neighbourhood")


tier_all(globals(), __all__)  # tiered hints; the student's own exception named
