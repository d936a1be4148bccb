"""Exercises for notebook 03 (lemmas): checkers named check_*.

    >>> check_penalised_gradient(my_fn)   # GNP Eq. 1: grad(L + lam |grad L|)
    >>> check_surrogate_gap(my_fn)        # GSAM Eq. 4: h = f(w + rho g/|g|) - f(w)
"""
import numpy as np

from ._check import ExerciseError, compare, passed

__all__ = ["check_penalised_gradient", "check_surrogate_gap"]

_CASES = (("himmelblau", (1.0, -1.5), 0.07), ("rosenbrock", (-0.4, 0.9), 0.02),
          ("rastrigin", (0.3, -0.2), 0.13))


def _oracles(name):
    from .. import landscapes
    L = landscapes.get(name)
    return L, (lambda th: L.grad(np.asarray(th, float))), \
        (lambda th, v: L.hvp(np.asarray(th, float), np.asarray(v, float)))


def check_penalised_gradient(fn):
    """fn(grad, hvp, theta, lam) -> grad_theta [L + lam |grad L|] at one point theta (2,).

    `grad(theta)` and `hvp(theta, v)` are the landscape's exact oracles. The reference is autograd
    of the penalised loss (`gamtoy.lemmas.gnp.penalised_gradient`), on three landscapes.
    """
    from ..lemmas.gnp import penalised_gradient
    for name, theta, lam in _CASES:
        L, grad, hvp = _oracles(name)
        th = np.array(theta)
        got = np.asarray(fn(grad, hvp, th.copy(), lam), float)
        want = penalised_gradient(name, th, lam)
        if got.shape != want.shape:
            raise ExerciseError(f"penalised gradient on {name}: shape {got.shape}, expected "
                                f"{want.shape} (one 2D vector).")
        g = grad(th)
        Hg = hvp(th, g)
        hints = ((g + lam * Hg, "you used H g; the gradient of |grad L| is H g/|g| (GAM Eq. 8)"),
                 (lam * Hg / np.linalg.norm(g), "the loss gradient g itself is missing"),
                 (g - lam * Hg / np.linalg.norm(g), "the penalty's sign is flipped"),
                 (g, "the penalty lam H g/|g| is missing"))
        if not np.allclose(got, want, rtol=1e-6, atol=1e-9):
            for wrong, msg in hints:
                if np.allclose(got, wrong, rtol=1e-6, atol=1e-9):
                    raise ExerciseError(f"penalised gradient on {name} at {theta}, lam={lam}: "
                                        f"{msg}.")
        compare(f"penalised gradient on {name} at {theta}, lam={lam}", got, want)
    return passed("penalised gradient")


def check_surrogate_gap(fn):
    """fn(value, grad, w, rho) -> GSAM's first-order surrogate gap h = f(w + rho g/|g|) - f(w)
    (GSAM Eq. 4) at one point w (2,), a float. Compared with `gamtoy.flatness.surrogate_gap`."""
    from .. import flatness
    for name, w, _ in _CASES:
        L, grad, _ = _oracles(name)
        w = np.array(w)
        value = lambda th: float(L.value(np.asarray(th, float)))
        for rho in (0.01, 0.2):
            got = fn(value, grad, w.copy(), rho)
            want = float(flatness.surrogate_gap(L, w, rho))
            if np.ndim(got) != 0:
                raise ExerciseError(f"surrogate gap on {name}: got shape {np.shape(got)}, "
                                    "expected a float (h is a scalar).")
            got = float(got)
            g = grad(w)
            u = g / np.linalg.norm(g)
            hints = ((value(w + rho * g) - value(w), "you stepped by rho g, not rho g/|g|"),
                     (value(w - rho * u) - value(w), "you stepped downhill (w - rho g/|g|)"),
                     (value(w + rho * u), "you forgot to subtract f(w)"),
                     (value(w) - value(w + rho * u), "the sign is flipped: h = f(w_adv) - f(w)"))
            if not np.isclose(got, want, rtol=1e-8, atol=1e-12):
                for wrong, msg in hints:
                    if np.isclose(got, wrong, rtol=1e-8, atol=1e-12):
                        raise ExerciseError(f"surrogate gap on {name} at {tuple(w)}, rho={rho}: "
                                            f"{msg}.")
            compare(f"surrogate gap on {name} at {tuple(w)}, rho={rho}", got, want, rtol=1e-8,
                    atol=1e-12)
    return passed("surrogate gap")
