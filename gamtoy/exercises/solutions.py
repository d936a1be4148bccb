"""Reference solutions to the exercises (one function per checker; the tests run each)."""


# ---- notebook 03 (lemmas) -----------------------------------------------------------------
def solution_check_penalised_gradient(grad, hvp, theta, lam):
    """grad(L + lam |grad L|) = g + lam H g/|g| (GNP Eq. 1, GAM Eq. 8)."""
    import numpy as np
    g = grad(theta)
    return g + lam * hvp(theta, g) / np.linalg.norm(g)


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
    """The verdict of the 95% Student t interval of the paired difference a - b (`stats.paired`)."""
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
solution_check_sam_direction = solution_sam_direction
solution_check_gsam_direction = solution_gsam_direction


def solution_check_mixed_cost(fraction, cost_base, cost_gam):
    """GAM Table 7: ((1 - f) c_base + f c_gam) / c_base."""
    return ((1 - fraction) * cost_base + fraction * cost_gam) / cost_base


# ---- notebook 00 (gamtoy.exercises.start) --------------------------------------------------
def solution_check_w_adv(L, theta, rho, xi=1e-12):
    """w_adv = theta + rho g/(|g| + xi) (GSAM Eq. 3)."""
    import numpy as np
    g = L.grad(theta)
    return theta + rho * g / (np.linalg.norm(g) + xi)


# ---- notebook 01, more (gamtoy.exercises.flatness) -----------------------------------------
def solution_check_generalisation_error(landscape, theta, sigma, eps):
    """test(theta) = mean_i L(theta + sigma eps_i) - L(theta) (the Monte Carlo test-loss model)."""
    import numpy as np
    return float(np.mean(landscape.value(theta + sigma * eps)) - landscape.value(theta))


def solution_check_power_valley(p, c, rho):
    """L = c |theta|^p at 0: R0 = c rho^p, R1 = rho * p c rho^(p-1) = p c rho^p."""
    return c * rho ** p, p * c * rho ** p


def solution_check_prefers(a, b, rtol):
    """The smaller measure is the flatter valley; a tie within a relative tolerance."""
    if abs(a - b) <= rtol * max(abs(a), abs(b)):
        return "tie"
    return "A" if a < b else "B"


def solution_check_segment_bound(landscape, theta, e):
    """|e| max_s |grad L(theta + s e)| on s = linspace(0, 1, 201) (GAM Prop. 4.2's proof)."""
    import numpy as np
    s = np.linspace(0.0, 1.0, 201)[:, None]
    return float(np.linalg.norm(e) * np.linalg.norm(landscape.grad(theta + s * e), axis=-1).max())


def solution_check_wilson(k, n, z=1.959963984540054):
    """The Wilson score interval (centre and half-width shrunk towards 1/2)."""
    import numpy as np
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, mid - half), min(1.0, mid + half)


# ---- notebook 02, more (gamtoy.exercises.ridge) --------------------------------------------
def solution_check_rho_schedule(lr, lr_min, lr_max, rho_max):
    """rho_t = rho_max (lr_t - lr_min)/(lr_max - lr_min) (GSAM Alg. 1 step 0)."""
    return rho_max * (lr - lr_min) / (lr_max - lr_min)


def solution_check_nearest_minimum(minima, point, radius):
    """The index of the nearest minimum if it is within `radius`, else -1."""
    import numpy as np
    d = np.linalg.norm(minima - point, axis=-1)
    i = int(np.argmin(d))
    return i if d[i] < radius else -1


def solution_check_neighbourhood(lr, rho, alpha, factors=(0.8, 1.0, 1.25)):
    """Every combination of the three factors on (lr, rho, alpha): 27 cells."""
    import itertools
    return [(lr * a, rho * b, alpha * c) for a, b, c in itertools.product(factors, repeat=3)]


# ---- notebook 03, more (gamtoy.exercises.lemmas) -------------------------------------------
def solution_check_lambda_max_estimate(landscape, theta_star, rho):
    """GAM Lemma 4.1: lambda_max ~ R1_rho(theta*)/rho^2."""
    from gamtoy import flatness
    return float(flatness.r1(landscape, theta_star, rho)) / rho ** 2


def solution_check_theta_adv(grad, hvp, theta, rho):
    """GAM Eq. 8, 13: f = H g/|g|, theta_adv = theta + rho f/|f|."""
    import numpy as np
    g = grad(theta)
    f = hvp(theta, g) / np.linalg.norm(g)
    return theta + rho * f / np.linalg.norm(f)


def solution_check_mean_value_point(landscape, theta, e):
    """A root of phi(c) = grad L(theta + c e) . e - (L(theta + e) - L(theta)) on [0, 1]: a sign
    change on a grid, then Brent's method."""
    import numpy as np
    from scipy.optimize import brentq
    rise = float(landscape.value(theta + e) - landscape.value(theta))

    def phi(c):
        return float(landscape.grad(theta + c * e) @ e) - rise

    cs = np.linspace(0.0, 1.0, 101)
    v = np.array([phi(c) for c in cs])
    i = int(np.flatnonzero(np.sign(v[:-1]) != np.sign(v[1:]))[0])
    return brentq(phi, cs[i], cs[i + 1], xtol=1e-14)


def solution_check_fd_hvp(grad, theta, v, r):
    """GAM App. D Eq. 38: H v ~ (grad(theta + r v) - grad(theta))/r."""
    return (grad(theta + r * v) - grad(theta)) / r


def solution_check_g_perp(g, g_p):
    """GSAM Sec. 4: g_perp = g - (g . g_p/|g_p|^2) g_p."""
    return g - (g @ g_p) / (g_p @ g_p) * g_p


def solution_check_valley_fp_h(d, c, rho):
    """GSAM Lemma 3.1: f_p = d + c rho^2, h = c rho^2 at the minima of d + c u^2."""
    return d + c * rho ** 2, c * rho ** 2


def solution_check_sigma_estimate(landscape, w_star, rho):
    """GSAM Lemma 3.3: sigma_max ~ 2 h/rho^2 with the exact h = R0 at the minimum."""
    from gamtoy import flatness
    return 2 * float(flatness.r0(landscape, w_star, rho)) / rho ** 2


def solution_check_avg_sq_grad(G):
    """(1/T) sum_t |g_t|^2."""
    import numpy as np
    return float(np.mean(np.sum(G * G, axis=1)))


# notebook 04 checks the same h on an MLP oracle
solution_check_mlp_surrogate_gap = solution_check_surrogate_gap
