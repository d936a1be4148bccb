"""Tiered hints for the try-it exercises: a wrong answer first gets a nudge, then a more specific
hint, and only at the third try the formula. Each checker's own diagnosis (what is wrong, on which
case) is shown every time; the counter is per checker and `reset_hints()` starts it again.

    HINTS[checker name] = (nudge, hint, formula)
"""
HINTS = {
    # notebook 00
    "check_w_adv": (
        "Which way is uphill from theta, and how far may the ascent point be from theta?",
        "The ascent point is at distance rho from theta, along the unit gradient.",
        "w_adv = theta + rho g/(|g| + xi), g = L.grad(theta) (GSAM Eq. 3)."),
    # notebook 01
    "check_r0": (
        "R0 is a maximum over the whole ball, measured from the loss at the centre.",
        "Search a polar grid of radii 0..rho and angles, refine near the best point, subtract "
        "L(theta).",
        "R0(theta) = max_{|e|<=rho} L(theta + e) - L(theta) (GAM Eq. 2)."),
    "check_r1": (
        "R1 looks at the slope, not the loss, everywhere in the ball (not only at its centre).",
        "Take the largest |grad L| over a polar grid of the disc, refine, and scale it by the "
        "radius.",
        "R1(theta) = rho max_{|e|<=rho} |grad L(theta + e)| (GAM Eq. 3)."),
    "check_generalisation_error": (
        "test(theta) is the test loss minus the train loss, the test landscape being a shifted "
        "copy.",
        "Shift theta by sigma times each standard-normal sample, average the loss, subtract "
        "L(theta).",
        "test(theta) = mean_i L(theta + sigma eps_i) - L(theta)."),
    "check_power_valley": (
        "Both the loss c r^p and its slope grow with the radius r: where in the ball are the "
        "maxima?",
        "R0 is the loss rise at r = rho; R1 is rho times the slope (the derivative in r) at r = "
        "rho.",
        "R0 = c rho^p,  R1 = rho * p c rho^(p-1) = p c rho^p (GAM Eq. 2-3)."),
    "check_prefers": (
        "A flatness measure is a sharpness: which value marks the flatter valley?",
        "Test the tie first (relative to the larger magnitude), then return the valley with the "
        "smaller value.",
        "'tie' if |a - b| <= rtol max(|a|, |b|), else 'A' if a < b else 'B'."),
    "check_segment_bound": (
        "The loss rise along a segment is at most its length times the largest slope on it.",
        "Evaluate |grad L| at theta + s e on s = linspace(0, 1, 201) and multiply the max by |e|.",
        "bound = |e| max_{s in [0,1]} |grad L(theta + s e)| (GAM Prop. 4.2's proof)."),
    "check_wilson": (
        "The Wilson interval is centred not at k/n but pulled towards 1/2, and never leaves "
        "[0, 1].",
        "With p = k/n and z = 1.96: the centre is (p + z^2/(2n))/(1 + z^2/n).",
        "(p + z^2/(2n) -+ z sqrt(p(1-p)/n + z^2/(4n^2))) / (1 + z^2/n), p = k/n, z = 1.96."),
    # notebook 02
    "check_sam_direction": (
        "SAM takes the gradient not at w but at a point rho away from w: which point?",
        "Step uphill from w by rho along the unit gradient, then evaluate grad there.",
        "g_p = grad(w + rho g/|g|), g = grad(w) (GSAM Eq. 3)."),
    "check_gsam_direction": (
        "GSAM removes from g its part along g_p, and steps against what is left.",
        "g_perp = g minus its projection on g_p (divide by |g_p|^2, not |g|^2); then d = g_p - "
        "alpha g_perp.",
        "d = g_p - alpha (g - (g.g_p/|g_p|^2) g_p) (GSAM Alg. 1 step 4)."),
    "check_rho_schedule": (
        "rho_t must be rho_max when lr is at its largest and 0 when lr is at its smallest.",
        "Rescale lr linearly so that lr_min -> 0 and lr_max -> 1, then multiply by rho_max.",
        "rho_t = rho_max (lr_t - lr_min)/(lr_max - lr_min) (GSAM Alg. 1 step 0)."),
    "check_nearest_minimum": (
        "A run that ends far from every known minimum has not ended in any of them.",
        "Find the nearest minimum's index, but return -1 when its distance is not below radius.",
        "i = argmin_i |minima_i - point|; return i if |minima_i - point| < radius else -1."),
    "check_neighbourhood": (
        "The neighbourhood moves all three settings at once, not one at a time.",
        "Every combination of the three factors (0.8, 1, 1.25) for lr, rho and alpha: 3 x 3 x 3 "
        "settings.",
        "[(lr a, rho b, alpha c) for a in F for b in F for c in F], F = (0.8, 1.0, 1.25)."),
    # notebook 03
    "check_penalised_gradient": (
        "The gradient of L + lam |grad L| has two parts: the loss's and the penalty's.",
        "The gradient of |grad L| is H g/|g|: use hvp(theta, g) and normalise by |g|.",
        "grad L + lam H g/|g| (GNP Eq. 1; GAM Eq. 8)."),
    "check_surrogate_gap": (
        "h compares the loss at SAM's ascent point with the loss at w.",
        "The ascent point is w + rho g/|g|: evaluate value there and subtract value(w).",
        "h = f(w + rho g/|g|) - f(w), the first-order surrogate gap (GSAM Eq. 4)."),
    "check_lambda_max_estimate": (
        "At a minimum R1 grows like rho^2 times the sharpness.",
        "Divide the exact R1 (flatness.r1) by the square of the radius.",
        "lambda_max ~ R1_rho(theta*)/rho^2 (GAM Lemma 4.1)."),
    "check_theta_adv": (
        "GAM's ascent direction is where |grad L| grows fastest, not where L grows fastest.",
        "f = H g/|g| (hvp(theta, g)/|g|); step rho along f/|f|.",
        "theta_adv = theta + rho f/|f|, f = H g/|g| (GAM Eq. 8, 13)."),
    "check_mean_value_point": (
        "Somewhere on the segment the slope along e equals the average slope.",
        "Find c in [0, 1] where grad L(theta + c e).e - (L(theta + e) - L(theta)) changes sign "
        "(bisection).",
        "grad L(theta + c e).e = L(theta + e) - L(theta), c in [0, 1] (GAM Eq. 19)."),
    "check_fd_hvp": (
        "A Hessian-vector product is the change of the gradient along v.",
        "Take the gradient a small step r along v, subtract the gradient at theta, divide by the "
        "step.",
        "H v ~ (grad(theta + r v) - grad(theta))/r (GAM App. D Eq. 38)."),
    "check_g_perp": (
        "g_perp is what is left of g after removing its part along g_p.",
        "The projection of g on g_p is (g.g_p/|g_p|^2) g_p; subtract it from g.",
        "g_perp = g - (g.g_p/|g_p|^2) g_p (GSAM Sec. 4)."),
    "check_valley_fp_h": (
        "At a valley's minimum the worst point of the ball is on its sphere.",
        "f_p is the loss on the sphere |u| = rho; h is how much that is above the minimum's "
        "loss d.",
        "f_p = d + c rho^2,  h_exact = f_p - f = c rho^2 (GSAM Lemma 3.1)."),
    "check_sigma_estimate": (
        "At a minimum the loss rises like (rho^2/2) times the curvature along the worst direction.",
        "Use the exact gap h_exact = R0 (flatness.r0): the first-order h has no direction at a "
        "minimum.",
        "sigma_max ~ 2 h_exact/rho^2, h_exact = max_{|e|<=rho} f(w* + e) - f(w*) "
        "(GSAM Lemma 3.3)."),
    "check_avg_sq_grad": (
        "The theorems bound an average over the run of a squared quantity.",
        "Square each gradient's norm, then average over the T steps (not the norm of the average).",
        "(1/T) sum_t |g_t|^2 (GAM Thm 4.4, GSAM Thm 5.1)."),
    # notebook 04
    "check_hvp": (
        "H v is the derivative of the gradient along v: no need to build H.",
        "Differentiate theta -> grad L(theta).v (autograd), or use the R-operator; include the "
        "weight decay.",
        "H v = grad_theta (grad L(theta) . v), L = cross-entropy + (wd/2)|theta|^2."),
    "check_normgrad": (
        "The gradient of |grad L| needs one Hessian-vector product.",
        "Take H times the unit gradient g/|g| (weight decay included in both).",
        "grad |grad L| = H g/|g| (GAM Eq. 8)."),
    "check_paired_verdict": (
        "A verdict is decided by an interval, not by the sign of a mean.",
        "Bootstrap the mean of the paired differences a - b; 'inconclusive' if the 95% interval "
        "covers 0.",
        "interval above 0 -> sign +1, below -> -1; 'reproduces' if it equals expected_sign, "
        "'contradicts' if opposite, else 'inconclusive'."),
    "check_mlp_surrogate_gap": (
        "h compares the loss at SAM's ascent point with the loss at w.",
        "The ascent point is w + rho g/|g|: evaluate value there and subtract value(w).",
        "h = L(w + rho g/|g|) - L(w) (GSAM Eq. 4)."),
    "check_mixed_cost": (
        "Count gradient-sized passes per step, averaged over the steps.",
        "A fraction of the steps costs cost_gam, the others cost_base; divide by cost_base.",
        "(fraction cost_gam + (1 - fraction) cost_base)/cost_base (GAM Table 7)."),
}

_TRIES = {}


def reset_hints(name=None):
    """Forget the tries of one checker (its name, e.g. 'check_w_adv') or of all."""
    if name is None:
        _TRIES.clear()
    else:
        _TRIES.pop(name, None)


def next_hint(name):
    """Count one more wrong try of checker `name`; its hint line ('hint k/3: ...'), the formula
    from the third try on."""
    tiers = HINTS.get(name)
    if not tiers:
        return ""
    k = _TRIES[name] = min(_TRIES.get(name, 0) + 1, len(tiers))
    label = " (the formula)" if k == len(tiers) else ""
    return f"hint {k}/{len(tiers)}{label}: {tiers[k - 1]}"
