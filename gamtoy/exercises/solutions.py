"""Reference solutions to the exercises (one function per checker; the tests run each)."""


# ---- notebook 03 (lemmas) -----------------------------------------------------------------
def solution_check_penalised_gradient(grad, hvp, theta, lam):
    """grad(L + lam |grad L|) = g + lam H g/|g| (GNP Eq. 1, GAM Eq. 8)."""
    import numpy as np
    g = grad(theta)
    return g + lam * hvp(theta, g) / np.linalg.norm(g)


def solution_check_surrogate_gap(value, grad, w, rho):
    """h = f(w + rho g/|g|) - f(w) (GSAM Eq. 4)."""
    import numpy as np
    g = grad(w)
    return value(w + rho * g / np.linalg.norm(g)) - value(w)
