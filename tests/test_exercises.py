"""The try-it exercises of notebooks 00-03: every checker passes its reference solution, and a
typical wrong answer fails with a message that names the bug. The references are also compared
with something independent (scipy, the package's schedules, brute force, eigvalsh)."""
import numpy as np
import pytest

from gamtoy import exercises as E
from gamtoy.exercises import flatness as EF
from gamtoy.exercises import lemmas as EL
from gamtoy.exercises import ridge as ER
from gamtoy.exercises import solutions as S
from gamtoy.exercises import start as ES

NEW = {ES: ["check_w_adv"],
       EF: ["check_generalisation_error", "check_power_valley", "check_prefers",
            "check_segment_bound", "check_wilson"],
       ER: ["check_rho_schedule", "check_nearest_minimum", "check_neighbourhood"],
       EL: ["check_lambda_max_estimate", "check_theta_adv", "check_mean_value_point",
            "check_fd_hvp", "check_g_perp", "check_valley_fp_h", "check_sigma_estimate",
            "check_avg_sq_grad"]}
ALL = [(m, n) for m, names in NEW.items() for n in names]


@pytest.mark.parametrize("mod,name", ALL, ids=[n for _, n in ALL])
def test_reference_passes(mod, name):
    assert name in mod.__all__
    assert "correct" in getattr(mod, name)(getattr(S, "solution_" + name))


def _norm(v):
    return np.linalg.norm(v)


# (checker, a wrong answer, words the message must contain)
WRONG = [
    (ES.check_w_adv, lambda L, t, r, xi=1e-12: t - r * L.grad(t) / _norm(L.grad(t)), "sign"),
    (ES.check_w_adv, lambda L, t, r, xi=1e-12: t + r * L.grad(t), "normalise"),
    (EF.check_generalisation_error, lambda L, t, s, e: np.mean(L.value(t + s * e)),
     "subtract L(theta)"),
    (EF.check_generalisation_error, lambda L, t, s, e: np.mean(L.value(t + e)) - L.value(t),
     "sigma"),
    (EF.check_power_valley, lambda p, c, r: (c * r ** p, c * r ** p), "p c r^(p-1)"),
    (EF.check_power_valley, lambda p, c, r: (c * r ** p, p * c * r ** (p - 1)), "factor rho"),
    (EF.check_prefers, lambda a, b, rt: "A" if a > b else "B", "SMALLER"),
    (EF.check_prefers, lambda a, b, rt: "A" if a < b else "B", "expected 'tie'"),
    (EF.check_segment_bound, lambda L, t, e: _norm(e) * _norm(L.grad(t)), "slope at theta only"),
    (EF.check_segment_bound,
     lambda L, t, e: max(_norm(L.grad(t + s * e)) for s in np.linspace(0, 1, 201)), "length |e|"),
    (EF.check_wilson, lambda k, n: (k / n - 1.96 * np.sqrt(k / n * (1 - k / n) / n),
                                    k / n + 1.96 * np.sqrt(k / n * (1 - k / n) / n)), "Wald"),
    (EF.check_wilson, lambda k, n: S.solution_check_wilson(k, n, z=1.0), "z = 1"),
    (ER.check_rho_schedule, lambda lr, lo, hi, rm: rm * lr / hi, "subtract lr_min"),
    (ER.check_rho_schedule, lambda lr, lo, hi, rm: rm * (hi - lr) / (hi - lo), "reversed"),
    (ER.check_nearest_minimum, lambda M, p, r: int(np.argmin(np.linalg.norm(M - p, axis=-1))),
     "farther than radius"),
    (ER.check_nearest_minimum, lambda M, p, r: float(np.linalg.norm(M - p, axis=-1).min()),
     "distance"),
    (ER.check_neighbourhood, lambda lr, rho, a: [(lr * f, rho, a) for f in (0.8, 1.0, 1.25)] +
     [(lr, rho * f, a) for f in (0.8, 1.25)] + [(lr, rho, a * f) for f in (0.8, 1.25)], "3^3 = 27"),
    (ER.check_neighbourhood, lambda lr, rho, a: [(lr * x, rho * y, a * z) for x in (0.8, 1.25)
                                                 for y in (0.8, 1.25) for z in (0.8, 1.25)],
     "factor 1"),
    (EL.check_lambda_max_estimate, lambda L, t, r: float(EL_flat().r1(L, t, r)) / r,
     "divide by rho^2"),
    (EL.check_lambda_max_estimate, lambda L, t, r: 2 * float(EL_flat().r0(L, t, r)) / r ** 2,
     "Lemma 3.3"),
    (EL.check_theta_adv, lambda gr, hv, t, r: t + r * gr(t) / _norm(gr(t)), "SAM's w_adv"),
    (EL.check_theta_adv, lambda gr, hv, t, r: t + r * hv(t, gr(t)) / _norm(gr(t)), "normalise f"),
    (EL.check_mean_value_point, lambda L, t, e: 0.0, "end of the segment"),
    (EL.check_mean_value_point, lambda L, t, e: 1.5, "off the segment"),
    (EL.check_fd_hvp, lambda gr, t, v, r: gr(t + r * v) - gr(t), "divide the difference by r"),
    (EL.check_fd_hvp, lambda gr, t, v, r: (gr(t + r * v) - gr(t - r * v)) / (2 * r),
     "central difference"),
    (EL.check_g_perp, lambda g, gp: (g @ gp) / (gp @ gp) * gp, "g_par"),
    (EL.check_g_perp, lambda g, gp: g - (g @ gp) * gp, "|g_p|^2"),
    (EL.check_valley_fp_h, lambda d, c, r: (d + c * r ** 2, d + c * r ** 2),
     "subtract the valley's floor"),
    (EL.check_valley_fp_h, lambda d, c, r: (d + c * r ** 2 / 2, c * r ** 2 / 2), "no 1/2"),
    (EL.check_sigma_estimate, lambda L, t, r: float(EL_flat().r0(L, t, r)) / r ** 2, "factor 2"),
    (EL.check_sigma_estimate, lambda L, t, r: float(EL_flat().r1(L, t, r)) / r ** 2, "Lemma 4.1"),
    (EL.check_avg_sq_grad, lambda G: float(np.sum(G.mean(0) ** 2)), "|mean g|^2"),
    (EL.check_avg_sq_grad, lambda G: np.mean(G * G, axis=0), "shape (2,)"),
]


def EL_flat():
    from gamtoy import flatness
    return flatness


@pytest.mark.parametrize("check,wrong,words", WRONG,
                         ids=[f"{c.__name__}-{i}" for i, (c, _, _) in enumerate(WRONG)])
def test_wrong_answer_is_named(check, wrong, words):
    with pytest.raises(E.ExerciseError) as info:
        check(wrong)
    assert words in str(info.value), str(info.value)


def test_student_exception_is_reported():
    def broken(*args):
        raise KeyError("oops")
    with pytest.raises(E.ExerciseError, match="raised KeyError"):
        EL.check_g_perp(broken)


# ---- the references against something independent ---------------------------------------------
def test_wilson_reference_matches_scipy():
    from scipy.stats import binomtest
    for k, n in EF.WILSON_CASES:
        ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert np.allclose(S.solution_check_wilson(k, n), (ci.low, ci.high), atol=1e-9)


def test_test_loss_reference_matches_gauss_hermite():
    from gamtoy import landscapes
    from gamtoy.figures.common import generalisation_error
    eps = np.random.default_rng(11).standard_normal((20000, 2))
    for land, theta, sigma in EF.GEN_CASES:
        L = landscapes.get(land)
        mc = S.solution_check_generalisation_error(L, np.array(theta), sigma, eps)
        se = np.std(L.value(np.array(theta) + sigma * eps)) / np.sqrt(len(eps))
        assert abs(mc - float(generalisation_error(L, np.array(theta), sigma))) < 4 * se


def test_power_valley_reference_matches_the_ball_search():
    import autograd.numpy as anp

    from gamtoy import flatness, landscapes
    for p, c, rho in ((2, 1.3, 0.5), (4, 0.7, 0.5)):
        L = landscapes.from_function(lambda W, p=p, c=c: c * anp.sum(W * W, -1) ** (p // 2),
                                     bounds=((-1, 1), (-1, 1)))
        r0, r1 = S.solution_check_power_valley(p, c, rho)
        assert np.isclose(float(flatness.r0(L, np.zeros(2), rho)), r0, rtol=1e-4)
        assert np.isclose(float(flatness.r1(L, np.zeros(2), rho)), r1, rtol=1e-4)


def test_rho_schedule_reference_matches_the_package_schedule():
    from gamtoy.optim import schedules
    lr = schedules.cosine(0.05, 40, 0.0025)
    rho = schedules.proportional(lr, 0.3)
    t = np.arange(1, 41)
    lrs = np.array([lr(i) for i in t])
    assert np.allclose(S.solution_check_rho_schedule(lrs, 0.0025, 0.05, 0.3), [rho(i) for i in t])


def test_neighbourhood_reference_matches_the_ridge_robustness_cells():
    from gamtoy.figures import ridge
    cells = ridge.neighbourhood()
    ref = S.solution_check_neighbourhood(ridge.RIDGE_LR, ridge.RIDGE_RHO, ridge.RIDGE_ALPHA)
    assert sorted(np.round(cells, 12).tolist()) == sorted(np.round(ref, 12).tolist())


def test_estimates_tend_to_the_hessian():
    """Lemma 4.1 and 3.3's references against eigvalsh, with an error O(rho) (the lemmas' order)."""
    from gamtoy import flatness, landscapes
    L = landscapes.get("himmelblau")
    th = L.minima[0]
    lam, sig = float(flatness.lambda_max(L, th)), float(flatness.sigma_max(L, th))
    for rho in (0.01, 0.002):
        assert abs(S.solution_check_lambda_max_estimate(L, th, rho) / lam - 1) < 20 * rho
        assert abs(S.solution_check_sigma_estimate(L, th, rho) / sig - 1) < 20 * rho
