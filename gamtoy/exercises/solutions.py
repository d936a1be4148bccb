"""Reference solutions to the exercises (one function per checker; the tests run each)."""


# ---- notebook 03 (lemmas) -----------------------------------------------------------------
def solution_check_penalised_gradient(grad, hvp, theta, lam):
    """grad(L + lam |grad L|) = g + lam H g/|g| (GNP Eq. 1, GAM Eq. 8)."""
    import numpy as np
    g = grad(theta)
    return g + lam * hvp(theta, g) / np.linalg.norm(g)


def solution_check_surrogate_gap(value, grad, w, rho):
    """h = f(w + rho g/|g|) - f(w) (GSAM Eq. 4)."""


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


# ---- notebook 01 (gamtoy.exercises.flatness) ----------------------------------------------
def _ball_max(fn, theta, rho, n_radius=48, n_angle=192):
    """max of fn over a polar grid of the disc |e| <= rho, refined once around the best point."""
    import numpy as np
    r = np.linspace(0.0, rho, n_radius)
    a = np.linspace(0.0, 2 * np.pi, n_angle, endpoint=False)
    R, A = np.meshgrid(r, a)
    P = theta + np.stack([R * np.cos(A), R * np.sin(A)], -1)
    V = fn(P)
    i = np.unravel_index(np.argmax(V), V.shape)
    best, c = V[i], P[i]
    h = rho / n_radius
    for _ in range(30):  # a small pattern search, kept inside the ball
        Q = c + h * np.array([[1, 0], [-1, 0], [0, 1], [0, -1], [1, 1], [-1, -1], [1, -1], [-1, 1]])
        d = Q - theta
        n = np.linalg.norm(d, axis=-1, keepdims=True)
        Q = theta + d * np.minimum(1.0, rho / np.maximum(n, 1e-300))
        v = fn(Q)
        if v.max() > best:
            best, c = v.max(), Q[np.argmax(v)]
        else:
            h /= 2
    return float(best)


def solution_r0(landscape, theta, rho):
    """R0 = max_{|e|<=rho} L(theta + e) - L(theta) (GAM Eq. 2)."""
    return _ball_max(landscape.value, theta, rho) - float(landscape.value(theta))


def solution_r1(landscape, theta, rho):
    """R1 = rho max_{|e|<=rho} |grad L(theta + e)| (GAM Eq. 3)."""
    import numpy as np
    return rho * _ball_max(lambda P: np.linalg.norm(landscape.grad(P), axis=-1), theta, rho)


# ---- notebook 02 (gamtoy.exercises.ridge) --------------------------------------------------
def solution_sam_direction(grad, w, rho):
    """g_p = grad L(w + rho g/|g|) (GSAM Alg. 1 steps 1-2)."""
    import numpy as np
    g = grad(w)
    return grad(w + rho * g / np.linalg.norm(g))


def solution_gsam_direction(g, g_p, alpha):
    """d = g_p - alpha g_perp, g_perp = g - (g . g_p/|g_p|^2) g_p (GSAM Alg. 1 steps 3-4)."""
    g_perp = g - (g @ g_p) / (g_p @ g_p) * g_p
    return g_p - alpha * g_perp


solution_check_r0, solution_check_r1 = solution_r0, solution_r1
solution_check_sam_direction, solution_check_gsam_direction = solution_sam_direction, solution_gsam_direction


def solution_check_mixed_cost(fraction, cost_base, cost_gam):
    """GAM Table 7: ((1 - f) c_base + f c_gam) / c_base."""
    return ((1 - fraction) * cost_base + fraction * cost_gam) / cost_base
