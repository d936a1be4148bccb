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
from .. import stats as _stats
from ._check import ExerciseError, call, match, passed, scalar, tier_all

__all__ = ["check_r0", "check_r1", "check_generalisation_error", "check_power_valley",
           "check_prefers", "check_segment_bound", "check_wilson"]

RTOL = 5e-3
CASES = (("fig1a", (2.0, 0.0), 0.5), ("fig1a", (-1.7, 0.3), 0.5), ("fig1b", (2.0, 0.0), 0.5),
         ("quadratic", (0.4, -0.7), 0.3), ("fig1a", (1.0, 0.4), 0.25))


def _run(name, fn, want_fn):
    for land, theta, rho in CASES:
        L = _landscapes.get(land)
        th = np.array(theta, float)
        try:
            got = fn(L, th.copy(), rho)
        except ExerciseError:
            raise
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
            return ("That is rho |grad L(theta)|, the gradient at the centre: take the max over "
                    "the ball.")
    else:
        if _close(got, want + float(L.value(th))):
            return "You returned the max of L over the ball; subtract L(theta) (GAM Eq. 2)."
        w = th + rho * L.grad(th) / max(g0, 1e-300)
        if _close(got, float(L.value(w) - L.value(th))):
            return ("That is the first-order R0 (GSAM's h: the loss at theta + rho g/|g|); the "
                    "exact R0 searches the whole ball.")
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


# ---- section 1: the test-loss model ------------------------------------------------------------
GEN_CASES = (("fig1a", (2.0, 0.0), 0.5), ("fig1a", (-2.0, 0.0), 0.3), ("fig1b", (1.6, 0.4), 0.5))


def check_generalisation_error(fn):
    """fn(landscape, theta, sigma, eps) -> test(theta) = mean_i L(theta + sigma eps_i) - L(theta),
    the Monte Carlo estimate of E L(theta + eps) - L(theta), eps ~ N(0, sigma^2 I), with the given
    standard-normal samples `eps` (n, 2). Compared with the same average (exact for these
    samples)."""
    eps = np.random.default_rng(7).standard_normal((400, 2))
    for land, theta, sigma in GEN_CASES:
        L = _landscapes.get(land)
        th = np.array(theta, float)
        name = f"test loss (on {land} at theta={theta}, sigma={sigma})"
        got = scalar(name, call(name, fn, L, th.copy(), sigma, eps.copy()))

        def v(P, L=L, th=th):
            return L.value(th + P)

        l0 = float(L.value(th))
        hints = ((np.mean(v(sigma * eps)), "you returned E L(theta + eps); subtract L(theta) (test "
                                           "minus train)."),
                 (np.mean(v(eps)) - l0, "the noise is eps ~ N(0, sigma^2 I): scale the standard "
                                        "normal samples by sigma."),
                 (np.mean(v(sigma ** 2 * eps)) - l0, "scale the samples by sigma (the standard "
                                                     "deviation), not sigma^2."),
                 (np.sum(v(sigma * eps)) - len(eps) * l0, "average over the samples (mean), not "
                                                          "sum."),
                 (l0 - np.mean(v(sigma * eps)), "sign: test(theta) = E L(theta + eps) - L(theta)."))
        match(name, got, np.mean(v(sigma * eps)) - l0, hints, rtol=1e-8)
    return passed("test loss")


# ---- section 2: a valley c |theta|^p at its minimum --------------------------------------------
POWER_CASES = ((2, 1.3, 0.5), (4, 0.7, 0.5), (4, 2.0, 0.3), (3, 0.4, 0.8))


def check_power_valley(fn):
    """fn(p, c, rho) -> (R0, R1) of L(theta) = c |theta|^p at theta = 0, analytically: the loss
    and the slope p c r^(p-1) both grow with r, so the maxima are on the sphere |e| = rho."""
    for p, c, rho in POWER_CASES:
        name = f"(R0, R1) of {c} |theta|^{p} at 0, rho={rho}"
        got = call(name, fn, p, c, rho)
        r0, r1 = c * rho ** p, p * c * rho ** p
        hints = (((r0, c * rho ** p), "R1: the slope of c r^p is p c r^(p-1); R1 = rho * that = p "
                                      "c rho^p."),
                 ((r0, p * c * rho ** (p - 1)), "R1 = rho max |grad L|: the factor rho is missing "
                                                "(GAM Eq. 3)."),
                 ((r1, r0), "swapped: return (R0, R1) in that order."),
                 ((c * rho ** (p - 1), r1), "R0 is the loss rise c rho^p, not c rho^(p-1)."))
        match(name, got, (r0, r1), hints)
    return passed("(R0, R1) of a power valley")


# ---- section 3: which valley does a measure prefer ---------------------------------------------
PREFER_CASES = ((0.1, 0.2, 1e-3, "A"), (0.31, 0.12, 1e-3, "B"), (0.5, 0.5002, 1e-3, "tie"),
                (0.5, 0.5002, 1e-5, "A"), (2.0, 1.9995, 1e-3, "tie"))


def check_prefers(fn):
    """fn(a, b, rtol) -> "A", "B" or "tie": the valley a flatness measure prefers (the smaller
    value is the flatter valley), "tie" when |a - b| <= rtol max(|a|, |b|)."""
    for a, b, rtol, want in PREFER_CASES:
        name = f"prefers(a={a}, b={b}, rtol={rtol})"
        got = call(name, fn, a, b, rtol)
        if got == want:
            continue
        if got not in ("A", "B", "tie"):
            raise ExerciseError(f"{name}: return one of 'A', 'B', 'tie', got {got!r}.")
        if want != "tie" and got != "tie":
            raise ExerciseError(f"{name}: got {got!r}, expected {want!r}: a flatter valley has the "
                                "SMALLER measure (less loss rise, less slope in the ball).")
        if want == "tie":
            raise ExerciseError(f"{name}: got {got!r}, expected 'tie': the values differ by "
                                f"{abs(a - b) / max(abs(a), abs(b)):.1e} relative, within rtol.")
        raise ExerciseError(f"{name}: got 'tie', expected {want!r}: the relative difference "
                            f"{abs(a - b) / max(abs(a), abs(b)):.1e} is above rtol (relative, "
                            "|a - b| <= rtol max(|a|, |b|)).")
    return passed("prefers")


# ---- section 4: Prop. 4.2, the loss rise along a segment ---------------------------------------
SEGMENT_CASES = (("fig1b", (2.0, 0.0), (0.3, -0.35)), ("fig1a", (-1.7, 0.3), (0.4, 0.1)),
                 ("quadratic", (0.4, -0.7), (-0.2, 0.25)))
SEGMENT_S = np.linspace(0.0, 1.0, 201)


def check_segment_bound(fn):
    """fn(landscape, theta, e) -> |e| max_{s in [0,1]} |grad L(theta + s e)| (the step of GAM
    Prop. 4.2's proof: L(theta + e) - L(theta) <= that), on the grid s = linspace(0, 1, 201)."""
    for land, theta, e in SEGMENT_CASES:
        L = _landscapes.get(land)
        name = f"segment bound (on {land} at theta={theta}, e={e})"
        th, e = np.array(theta, float), np.array(e, float)
        got = scalar(name, call(name, fn, L, th.copy(), e.copy()))
        G = np.linalg.norm(L.grad(th + SEGMENT_S[:, None] * e), axis=-1)
        ne = np.linalg.norm(e)
        want = ne * G.max()
        rise = float(L.value(th + e) - L.value(th))
        hints = ((ne * G[0], "that is the slope at theta only; take the max along the whole "
                             "segment."),
                 (ne * G[-1], "that is the slope at theta + e only; take the max along the whole "
                              "segment."),
                 (G.max(), "multiply the largest slope by the segment's length |e|."),
                 (ne ** 2 * G.max(), "the length |e| enters once, not squared."))
        if got < rise - 1e-12 and not any(np.isclose(got, w, rtol=2e-3) for w, _ in hints):
            raise ExerciseError(f"{name}: {got:.5g} is below the loss rise {rise:.5g}; it cannot "
                                "be a bound. Did you take a mean, or the slope at one point only?")
        match(name, got, want, hints, rtol=2e-3)
    return passed("segment bound")


# ---- section 5: a fraction with its 95% Wilson interval ----------------------------------------
WILSON_CASES = ((7, 30), (0, 20), (13, 17), (400, 400), (1, 3))


def check_wilson(fn):
    """fn(k, n) -> (lo, hi), the 95% Wilson score interval of the fraction k/n (z = 1.96)."""
    z = _stats.Z95
    for k, n in WILSON_CASES:
        name = f"Wilson interval of {k}/{n}"
        got = call(name, fn, k, n)
        p = k / n
        wald = z * np.sqrt(p * (1 - p) / n)
        lo1, hi1 = _stats.wilson(k, n, z=1.0)
        hints = (((p - wald, p + wald), "that is the Wald interval p +- z sqrt(p(1-p)/n): it "
                  "collapses to a point at k = 0 or k = n; use Wilson's score interval."),
                 ((max(0, p - wald), min(1, p + wald)), "that is the (clipped) Wald interval; use "
                                                        "Wilson's."),
                 ((lo1, hi1), "z = 1 is a 68% interval; 95% needs z = 1.96."),
                 ((p, p), "an interval, not the point estimate k/n."))
        match(name, got, _stats.wilson(k, n), hints, rtol=1e-4)  # z = 1.96 is fine
    return passed("Wilson interval")


tier_all(globals(), __all__)  # tiered hints; the student's own exception named
