"""Estimators: each computes a descent *direction* d from an oracle; a base optimizer steps.

An oracle has `grad(theta)`, `value(theta)`, `hvp(theta, v)` and `normgrad(theta, xi)` ->
(g, H g / (|g| + xi)) (GAM Eq. 8 in one pass); `theta` is a `(..., 2)` array, a flat vector or a
`Vec2`. Every estimator returns `(d, info)`; with `diag=True`, `info` also holds what figures
draw (losses, surrogate gap h, cos of the angle between g and g_p, parallel/orthogonal parts);
per-point scalars (f, h, cos, r1) have the batch shape `(...)`.

    SAM   (Foret et al. 2021):  w_adv = w + rho g/(|g|+xi);  d = g(w_adv)
    GNP   (Zhao et al. 2022):   d = (1-alpha) g(w) + alpha g(w + rho g/(|g|+xi))
    GSAM  (Zhuang et al. 2022): d = g_p - alpha g_perp,  g_perp = part of g(w) orthogonal to g_p
    GAM   (Zhang et al. 2023):  d = h_loss + alpha rho H(theta_adv) g_adv/(|g_adv|+xi),
                                theta_adv = theta + rho f/(|f|+xi), f = H g/(|g|+xi)
    SAM+GAM, GSAM+GAM (GAM Sec. 4.3): GAM with h_loss = SAM's / GSAM's direction
"""
import functools

import numpy as np

from ..vec import decompose, dot, norm, squeeze, unit


def _cos(u, v, xi):
    return squeeze(dot(u, v) / (norm(u) * norm(v) + xi))


def _gap(oracle, w, w_adv, info):
    """GSAM Eq. 4: the surrogate gap h = f(w_adv) - f(w)."""
    info["f"] = f = oracle.value(w)
    info["h"] = oracle.value(w_adv) - f


def gradient(oracle, theta, xi=1e-12, diag=False):
    """Plain gradient d = grad L(theta) (the SGD / momentum / Adam oracle)."""
    g = oracle.grad(theta)
    info = {"g": g}
    if diag:
        info["f"] = oracle.value(theta)
    return g, info


def sam(oracle, theta, rho, xi=1e-12, diag=False, g=None):
    """SAM Eq. (3) (GSAM Eq. 2-3): d = grad L(w + rho g/(|g|+xi)). `g`: grad L(w) if known."""
    g = oracle.grad(theta) if g is None else g
    w_adv = theta + unit(g, xi) * rho
    g_p = oracle.grad(w_adv)
    info = {"g": g, "w_adv": w_adv, "g_p": g_p}
    if diag:
        _gap(oracle, theta, w_adv, info)
        info["cos"] = _cos(g, g_p, xi)
    return g_p, info


def gnp(oracle, theta, rho, alpha, xi=1e-12, diag=False, variant="paper"):
    """GNP Alg. 1 lines 4-7: d = (1-alpha) g(w) + alpha g(w + r g/(|g|+xi)), r = rho.

    alpha = 1 is SAM. variant="official" follows the released JAX code (training/training_core.py
    with its default norm_perturbations=True), which departs in two ways: the *ascent* gradient
    is normalised, u = g/(|g|+xi), and g_p = g(w + r u) is not, d = (1-alpha) u + alpha g_p; then
    clip_by_global_norm(d, 5) on every step: d <- 5 d/|d| where |d| >= 5 (no epsilon). The
    released code divides by |g| with no epsilon (NaN at g = 0); here u divides by |g| + xi.
    """
    g = oracle.grad(theta)
    u = unit(g, xi)
    w_adv = theta + u * rho
    g_p = oracle.grad(w_adv)
    if variant == "official":
        d = u * (1 - alpha) + g_p * alpha
        d = d * _clip_factor(norm(d), 5.0)
    else:
        d = g * (1 - alpha) + g_p * alpha
    info = {"g": g, "w_adv": w_adv, "g_p": g_p}
    if diag:
        _gap(oracle, theta, w_adv, info)
        info["cos"] = _cos(g, g_p, xi)
    return d, info


def _clip_factor(n, max_norm):
    """optax.clip_by_global_norm's factor per point: max_norm/|d| where |d| >= max_norm, else 1."""
    if isinstance(n, float):
        return max_norm / n if n >= max_norm else 1.0
    n = np.asarray(n, dtype=float)
    return np.where(n >= max_norm, max_norm / np.where(n >= max_norm, n, 1.0), 1.0)


def gsam(oracle, theta, rho, alpha, xi=1e-12, diag=False, g=None):
    """GSAM Alg. 1 steps 1-4: d = g_p - alpha g_perp, g = g_par + g_perp projected on g_p."""
    g = oracle.grad(theta) if g is None else g
    w_adv = theta + unit(g, xi) * rho
    g_p = oracle.grad(w_adv)
    g_par, g_perp = decompose(g, g_p, xi)
    info = {"g": g, "w_adv": w_adv, "g_p": g_p, "g_par": g_par, "g_perp": g_perp}
    if diag:
        _gap(oracle, theta, w_adv, info)
        info["cos"] = _cos(g, g_p, xi)
    return g_p - g_perp * alpha, info


def gam(oracle, theta, rho, alpha, xi=1e-12, diag=False, inner=None):
    """GAM Alg. 1 lines 5-10 (Eq. 7-8): d = h_loss + alpha h_norm.

    f = H g/(|g|+xi) (line 6), theta_adv = theta + rho f/(|f|+xi) (line 7),
    h_norm = rho H(theta_adv) g_adv/(|g_adv|+xi) (line 8). h_loss is the oracle loss gradient
    (line 5): grad L(theta) by default, or the direction of `inner` (e.g. SAM's, for SAM+GAM).
    """
    g, f = oracle.normgrad(theta, xi)
    theta_adv = theta + unit(f, xi) * rho
    g_adv, f_adv = oracle.normgrad(theta_adv, xi)
    h_norm = f_adv * rho
    if inner is None:
        h_loss, info = g, {"g": g}
        if diag:
            info["f"] = oracle.value(theta)
    else:
        h_loss, info = inner(oracle, theta, xi=xi, diag=diag, g=g)  # g reused: 5 passes, not 6
    info.update(theta_adv=theta_adv, h_loss=h_loss, h_norm=h_norm,
                grad_norm_adv=squeeze(norm(g_adv)))
    if diag:
        info["r1"] = squeeze(norm(g_adv)) * rho  # GAM Eq. 3 at the first-order theta_adv
    return h_loss + h_norm * alpha, info


def sam_gam(oracle, theta, rho, alpha, rho_sam=None, xi=1e-12, diag=False):
    """GAM Sec. 4.3 with SAM as the oracle loss: GAM Alg. 1 whose h_loss (line 5) is SAM's
    direction (SAM Eq. 3) at radius rho_sam (None: GAM's rho, as in GAM App. C.4.1)."""
    inner = functools.partial(sam, rho=rho if rho_sam is None else rho_sam)
    return gam(oracle, theta, rho, alpha, xi, diag, inner=inner)


def gsam_gam(oracle, theta, rho, alpha, rho_sam=None, alpha_gsam=0.01, xi=1e-12, diag=False):
    """GAM Sec. 4.3 with GSAM as the oracle loss: GAM Alg. 1 whose h_loss (line 5) is GSAM's
    direction (GSAM Alg. 1) at radius rho_sam (None: GAM's rho) and alpha_gsam."""
    inner = functools.partial(gsam, rho=rho if rho_sam is None else rho_sam, alpha=alpha_gsam)
    return gam(oracle, theta, rho, alpha, xi, diag, inner=inner)


def gam_accel(oracle, theta, rho, rho_prime, alpha, beta, gamma, xi=1e-12, diag=False,
              variant="paper"):
    """GAM Alg. 2 (accelerated, four gradients; Eq. 38-45): d = h_+ - gamma h_-^perp.

    g0 = g(theta), g1 = g(theta + rho' g0/|g0|), theta_2 = theta + rho (g1-g0)/|g1-g0| (Eq. 39),
    g2 = g(theta_2), g3 = g(theta_2 + rho' g2/|g2|), h_+ = alpha g1 + (1-alpha) g3,
    h_- = beta g0 + (1-beta) g2 (Eq. 45). variant="official" follows the released code:
    h_- = g0 + |1-beta| g2 (its `grad_beta_2`; h_+ there has free weights beta_1, beta_3, which
    alpha, 1-alpha parameterise here).
    """
    g0 = oracle.grad(theta)
    theta_1 = theta + unit(g0, xi) * rho_prime
    g1 = oracle.grad(theta_1)
    h0 = g1 - g0
    theta_2 = theta + unit(h0, xi) * rho
    g2 = oracle.grad(theta_2)
    theta_3 = theta_2 + unit(g2, xi) * rho_prime
    g3 = oracle.grad(theta_3)
    h_plus = g1 * alpha + g3 * (1 - alpha)
    if variant == "official":
        h_minus = g0 + g2 * abs(1 - beta)
    else:
        h_minus = g0 * beta + g2 * (1 - beta)
    h_par, h_perp = decompose(h_minus, h_plus, xi)
    info = {"g": g0, "w_adv": theta_1, "theta_adv": theta_2, "g_p": g1, "h_plus": h_plus,
            "h_minus": h_minus, "g_par": h_par, "g_perp": h_perp}
    if diag:
        _gap(oracle, theta, theta_1, info)
        info["cos"] = _cos(g0, g1, xi)
        info["r1"] = squeeze(norm(g2)) * rho
    return h_plus - h_perp * gamma, info
