"""Reference solutions to the exercises (one function per checker; the tests run each)."""


# ---- notebook 04 (gamtoy.exercises.mlp) ---------------------------------------------------
def solution_check_hvp(model, theta, v, X, y):
    """H v of the full loss by autograd (forward-over-reverse would do as well)."""
    import autograd
    import autograd.numpy as anp
    g = autograd.grad(lambda t: model.loss_autograd(t, X, y))
    return autograd.grad(lambda t: anp.dot(g(t), v))(theta)


def solution_check_normgrad(model, theta, X, y):
    """GAM Eq. 8: H g/|g|, with the model's exact HVP (the R-operator; wd included)."""
    import numpy as np
    g = model.grad(theta, X, y)
    return model.hvp(theta, g / np.linalg.norm(g), X, y)


def solution_check_paired_verdict(a, b, expected_sign):
    """The verdict of the bootstrap interval of the paired difference a - b."""
    from gamtoy import stats
    p = stats.paired(a, b)
    return stats.verdict(p["lo"], p["hi"], expected_sign)


def solution_check_surrogate_gap(value, grad, w, rho):
    """GSAM Eq. 4: h = L(w + rho g/|g|) - L(w)."""
    import numpy as np
    g = grad(w)
    return value(w + rho * g / np.linalg.norm(g)) - value(w)


def solution_check_mixed_cost(fraction, cost_base, cost_gam):
    """GAM Table 7: ((1 - f) c_base + f c_gam) / c_base."""
    return ((1 - fraction) * cost_base + fraction * cost_gam) / cost_base
