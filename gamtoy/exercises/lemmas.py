"""Exercises for notebook 03 (lemmas): checkers named check_*.

    >>> check_penalised_gradient(my_fn)   # GNP Eq. 1: grad(L + lam |grad L|)
    >>> check_surrogate_gap(my_fn)        # GSAM Eq. 4: h = f(w + rho g/|g|) - f(w)
    >>> check_lambda_max_estimate(my_fn)  # GAM Lemma 4.1: lambda_max ~ R1/rho^2
    >>> check_theta_adv(my_fn)            # GAM Eq. 8, 13: theta + rho f/|f|, f = H g/|g|
    >>> check_mean_value_point(my_fn)     # GAM Prop. 4.2's proof: L(t+e) - L(t) = grad L(t+ce).e
    >>> check_fd_hvp(my_fn)               # GAM App. D Eq. 38: (grad(t + r v) - grad(t))/r
    >>> check_g_perp(my_fn)               # GSAM Sec. 4: g_perp = g - (g.g_p/|g_p|^2) g_p
    >>> check_valley_fp_h(my_fn)          # GSAM Lemma 3.1: f_p and h of d + c u^2
    >>> check_sigma_estimate(my_fn)       # GSAM Lemma 3.3: sigma_max ~ 2h/rho^2
    >>> check_avg_sq_grad(my_fn)          # GAM Thm 4.4 / GSAM Thm 5.1: (1/T) sum |g_t|^2
"""
import numpy as np

from ._check import ExerciseError, call, compare, match, passed, scalar, tier_all

__all__ = ["check_penalised_gradient", "check_surrogate_gap", "check_lambda_max_estimate",
           "check_theta_adv", "check_mean_value_point", "check_fd_hvp", "check_g_perp",
           "check_valley_fp_h", "check_sigma_estimate", "check_avg_sq_grad"]

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

        def value(th, L=L):
            return float(L.value(np.asarray(th, float)))

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


def _minimum(name, i=0):
    from .. import landscapes
    L = landscapes.get(name)
    return L, L.minima[i]


# ---- GAM Lemma 4.1 -----------------------------------------------------------------------------
_MINIMA = (("himmelblau", 0, 0.01), ("rastrigin", 0, 0.008), ("himmelblau", 3, 0.02))


def check_lambda_max_estimate(fn):
    """fn(landscape, theta_star, rho) -> GAM Lemma 4.1's estimate R1_rho(theta*)/rho^2 of
    lambda_max at a minimum, with R1 from `gamtoy.flatness.r1`. Compared with that and with
    eigvalsh."""
    from .. import flatness
    for land, i, rho in _MINIMA:
        L, th = _minimum(land, i)
        name = f"lambda_max estimate (on {land} at its minimum {np.round(th, 3)}, rho={rho})"
        got = scalar(name, call(name, fn, L, th.copy(), rho))
        r1, r0 = float(flatness.r1(L, th, rho)), float(flatness.r0(L, th, rho))
        lam = float(flatness.lambda_max(L, th))
        hints = ((r1 / rho, "normalisation: R1 = rho max|grad L| ~ rho (rho lambda_max), divide by "
                            "rho^2."),
                 (r1, "divide R1 by rho^2 (R1 ~ rho^2 lambda_max)."),
                 (r1 / (2 * rho ** 2), "no 1/2 here: the gradient grows like H e, |H e| <= rho "
                                       "lambda_max."),
                 (2 * r0 / rho ** 2, "that is GSAM Lemma 3.3's 2 h/rho^2 (from the loss rise, R0); "
                  "Lemma 4.1 uses R1."),
                 (rho ** 2 / r1, "inverted: R1/rho^2, not rho^2/R1."))
        match(name + f" [eigvalsh lambda_max = {lam:.4g}]", got, r1 / rho ** 2, hints, rtol=1e-3)
    return passed("lambda_max estimate")


# ---- GAM Eq. 8, 13: theta_adv ------------------------------------------------------------------
def check_theta_adv(fn):
    """fn(grad, hvp, theta, rho) -> GAM's first-order steepest point theta + rho f/|f| with
    f = H g/|g| (Eq. 8, 13). Compared with `gamtoy.flatness.gam_point`."""
    from .. import flatness
    for land, theta, _ in _CASES:
        L, grad, hvp = _oracles(land)
        th = np.array(theta, float)
        for rho in (0.05, 0.3):
            name = f"theta_adv (on {land} at {theta}, rho={rho})"
            got = call(name, fn, grad, hvp, th.copy(), rho)
            g = grad(th)
            f = hvp(th, g) / np.linalg.norm(g)
            u = f / np.linalg.norm(f)
            hints = ((th + rho * g / np.linalg.norm(g), "that is SAM's w_adv (along g); GAM steps "
                      "along f = H g/|g|, the gradient of |grad L| (Eq. 8)."),
                     (th + rho * f, "normalise f: theta + rho f/|f|, on the sphere of radius rho."),
                     (th - rho * u, "sign: theta + rho f/|f| (towards a larger gradient norm)."),
                     (rho * u, "you returned the step; add theta."))
            match(name, got, flatness.gam_point(L, th, rho), hints, rtol=1e-6)
    return passed("theta_adv")


# ---- GAM Prop. 4.2's proof: the mean-value point -----------------------------------------------
_MVT_CASES = (("fig1b", (2.0, 0.0), (0.3, -0.35)), ("himmelblau", (1.0, -1.5), (0.2, 0.1)),
              ("rosenbrock", (-0.4, 0.9), (0.05, 0.02)))


def check_mean_value_point(fn):
    """fn(landscape, theta, e) -> a c in [0, 1] with grad L(theta + c e) . e = L(theta + e) -
    L(theta) (the mean value theorem, the first line of GAM Prop. 4.2's proof, Eq. 19). Any such c
    passes: the checker tests the equation, not a reference value."""
    from .. import landscapes
    for land, theta, e in _MVT_CASES:
        L = landscapes.get(land)
        name = f"mean-value point (on {land} at theta={theta}, e={e})"
        th, e = np.array(theta, float), np.array(e, float)
        c = scalar(name, call(name, fn, L, th.copy(), e.copy()))
        if not 0.0 <= c <= 1.0:
            raise ExerciseError(f"{name}: c = {c:.4g} is off the segment; the point theta + c e "
                                "must lie between theta and theta + e (0 <= c <= 1).")
        rise = float(L.value(th + e) - L.value(th))
        slope = float(L.grad(th + c * e) @ e)
        scale = np.linalg.norm(e) * max(np.linalg.norm(L.grad(th + s * e)) for s in (0.0, 0.5, 1.0))
        if abs(slope - rise) <= 1e-6 * scale + 1e-12:
            continue
        end = " c = 0 or 1 is an end of the segment; the mean-value point is usually inside." \
            if c in (0.0, 1.0) else (" Solve phi(c) = grad L(theta + c e) . e - rise = 0 (a sign "
                                     "change, then bisection).")
        raise ExerciseError(f"{name}: at c = {c:.6g}, grad L(theta + c e) . e = {slope:.6g} but "
                            f"the loss rise L(theta + e) - L(theta) = {rise:.6g}.{end}")
    return passed("mean-value point")


# ---- GAM App. D Eq. 38: the finite-difference HVP ----------------------------------------------
def check_fd_hvp(fn):
    """fn(grad, theta, v, r) -> (grad(theta + r v) - grad(theta)) / r, the forward difference of
    GAM App. D Eq. 38 (= H v + O(r), one extra gradient: grad(theta) is already known)."""
    for land, theta, _ in _CASES:
        L, grad, hvp = _oracles(land)
        th = np.array(theta, float)
        v = np.array([0.6, -0.8])
        for r in (1e-2, 1e-3):
            name = f"finite-difference HVP (on {land} at {theta}, r={r})"
            got = call(name, fn, grad, th.copy(), v.copy(), r)
            gp, g0, gm = grad(th + r * v), grad(th), grad(th - r * v)
            hints = ((gp - g0, "divide the difference by r."),
                     ((gp - g0) / r ** 2, "divide by r, not r^2."),
                     (gp / r, "subtract grad(theta): (grad(theta + r v) - grad(theta))/r."),
                     ((gm - g0) / r, "sign: step to theta + r v (that was theta - r v, which gives "
                                     "-H v)."),
                     ((gp - gm) / (2 * r), "that is the central difference (two extra gradients); "
                      "Eq. 38 is the forward one, which reuses grad(theta)."))
            match(name, got, (gp - g0) / r, hints, rtol=1e-7)
    return passed("finite-difference HVP")


# ---- GSAM Sec. 4: g_perp -----------------------------------------------------------------------
_PERP_CASES = (((0.3, -1.1), (0.9, -0.2)), ((-0.4, 0.7), (0.1, 1.3)), ((1.5, 0.2), (2.0, 2.0)))


def check_g_perp(fn):
    """fn(g, g_p) -> g_perp = g - (g . g_p / |g_p|^2) g_p, the part of g orthogonal to g_p
    (GSAM Sec. 4)."""
    for g, gp in _PERP_CASES:
        g, gp = np.array(g, float), np.array(gp, float)
        name = f"g_perp (g={g.tolist()}, g_p={gp.tolist()})"
        got = call(name, fn, g.copy(), gp.copy())
        par = (g @ gp) / (gp @ gp) * gp
        hints = ((par, "that is g_par, the part of g ALONG g_p; g_perp = g - g_par."),
                 (gp - (gp @ g) / (g @ g) * g, "you decomposed g_p along g; GSAM decomposes g "
                                               "along g_p."),
                 (g - (g @ gp) * gp, "the projection needs |g_p|^2 in the denominator (g_p is not "
                                     "a unit vector)."),
                 (g - (g @ gp) / np.linalg.norm(gp) * gp, "divide by |g_p|^2, not |g_p|."))
        got_a = np.asarray(got, float)
        if (got_a.shape == g.shape and np.all(np.isfinite(got_a))
                and abs(got_a @ gp)
                > 1e-9 * np.linalg.norm(gp) * max(np.linalg.norm(got_a), 1e-300)):
            hints = hints + ((got_a, f"g_perp . g_p = {got_a @ gp:.4g}, not 0: it is not "
                                     "orthogonal to g_p."),)
        match(name, got, g - par, hints)
    return passed("g_perp")


# ---- GSAM Lemma 3.1: f_p and h of quadratic valleys --------------------------------------------
_VALLEYS = ((np.array([-0.072, 0.0, 0.01]), np.array([1.2, 0.6, 0.4]), 0.3),
            (np.array([0.5, -0.1]), np.array([3.0, 0.25]), 0.17))


def check_valley_fp_h(fn):
    """fn(d, c, rho) -> (f_p, h): for valleys f_i(u) = d_i + c_i |u|^2 at their minima u = 0, the
    perturbed loss f_p = max_{|e|<=rho} f(e) = d + c rho^2 and the gap h = f_p - f = c rho^2
    (arrays)."""
    for d, c, rho in _VALLEYS:
        name = f"(f_p, h) of d + c u^2 (d={d.tolist()}, c={c.tolist()}, rho={rho})"
        got = call(name, fn, d.copy(), c.copy(), rho)
        fp, h = d + c * rho ** 2, c * rho ** 2
        hints = (((fp, fp), "h = f_p - f(w): subtract the valley's floor d."),
                 ((d + c * rho, c * rho), "the rise of c u^2 at |u| = rho is c rho^2, not c rho."),
                 ((d + c * rho ** 2 / 2, c * rho ** 2 / 2), "no 1/2: f = d + c u^2 (the Hessian is "
                  "2c), so the rise is c rho^2."),
                 ((h, fp), "swapped: return (f_p, h)."))
        match(name, got, (fp, h), hints)
    return passed("(f_p, h) of quadratic valleys")


# ---- GSAM Lemma 3.3 ----------------------------------------------------------------------------
def check_sigma_estimate(fn):
    """fn(landscape, w_star, rho) -> GSAM Lemma 3.3's estimate 2 h/rho^2 of sigma_max at a minimum,
    with the exact h = max_{|e|<=rho} f(w* + e) - f(w*) (= R0, `gamtoy.flatness.r0`)."""
    from .. import flatness
    for land, i, rho in _MINIMA:
        L, th = _minimum(land, i)
        name = f"sigma_max estimate (on {land} at its minimum {np.round(th, 3)}, rho={rho})"
        got = scalar(name, call(name, fn, L, th.copy(), rho))
        r0, r1 = float(flatness.r0(L, th, rho)), float(flatness.r1(L, th, rho))
        hints = ((r0 / rho ** 2, "the factor 2 is missing: h ~ (rho^2/2) sigma_max, so sigma_max ~ "
                                 "2 h/rho^2."),
                 (2 * r0 / rho, "normalisation: divide by rho^2 (h ~ rho^2 sigma_max/2)."),
                 (r1 / rho ** 2, "that is GAM Lemma 4.1's R1/rho^2; Lemma 3.3 uses the loss rise h "
                                 "= R0."),
                 (r0 * rho ** 2 / 2, "inverted: 2 h/rho^2."))
        sg = float(flatness.surrogate_gap(L, th, rho))
        if np.isclose(got, 2 * sg / rho ** 2, rtol=1e-6) and not np.isclose(got, 2 * r0 / rho ** 2,
                                                                            rtol=1e-3):
            raise ExerciseError(f"{name}: you used GSAM's first-order h (along g/|g|); at a "
                                "minimum g ~ 0 and its direction is noise: use the exact h = R0 "
                                "(flatness.r0).")
        match(name + f" [sigma_max = {float(flatness.sigma_max(L, th)):.4g}]", got,
              2 * r0 / rho ** 2,
              hints, rtol=1e-3)
    return passed("sigma_max estimate")


# ---- GAM Thm 4.4 / GSAM Thm 5.1: the measured quantity -----------------------------------------
def check_avg_sq_grad(fn):
    """fn(G) -> (1/T) sum_t |g_t|^2 for the gradients G (T, 2) along a run: the left-hand side the
    convergence theorems bound (a number)."""
    rng = np.random.default_rng(3)
    for T in (5, 40):
        G = rng.normal(size=(T, 2)) + np.array([0.4, -0.2])
        name = f"average squared gradient (T={T})"
        got = call(name, fn, G.copy())
        a = np.asarray(got, float)
        if a.shape == (2,):
            raise ExerciseError(f"{name}: shape (2,): sum the squares over the two coordinates too "
                                "(|g_t|^2 = g_t . g_t), one number.")
        got = scalar(name, got)
        n2 = np.sum(G * G, axis=1)
        hints = ((np.sum(np.mean(G, 0) ** 2), "that is |mean g|^2, the squared norm of the average "
                  "gradient; the theorems average |g_t|^2 (noise does not cancel)."),
                 (np.mean(np.sqrt(n2)),
                  "square the norms: (1/T) sum |g_t|^2, not (1/T) sum |g_t|."),
                 (np.sum(n2), "divide by T (an average, not a sum)."),
                 (np.sqrt(np.mean(n2)), "no square root: the theorems bound the mean of |g_t|^2."))
        match(name, got, np.mean(n2), hints)
    return passed("average squared gradient")


tier_all(globals(), __all__)  # tiered hints; the student's own exception named
