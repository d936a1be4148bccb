"""Optimizers: defaults, convergence, batch independence, the papers' reductions, the official
variants, Eq. 38, zero gradients, bad input, schedules, base steppers and diagnostics."""
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

import gamtoy as gt
import gamtoy.landscapes as gl
from gamtoy import flatness, optim
from gamtoy.optim import schedules
from gamtoy.vec import Vec2

NAMES = optim.names()
BASES = list(optim.BASES)
SAM_LIKE = ["sam", "gnp", "gsam", "gam_accel", "sam+gam", "gsam+gam"]  # they record w_adv, h
GAM_LIKE = ["gam", "gam_accel", "sam+gam", "gsam+gam"]  # they record theta_adv
# a well-conditioned quadratic (explicit parameters: independent of the built-in defaults)
QUAD = gl.get("quadratic", a=4.0, b=1.0, angle=30.0)
CURVED = ["rosenbrock", "himmelblau", "ridge", "rastrigin"]  # third derivatives != 0


def one_step(opt, L, theta, diag=False):
    """(new theta, info) after one update from opt.init(theta)."""
    new, _, info = opt.update(theta, opt.init(theta), L, diag)
    return new, info


def points(L, n, rng):
    (x0, x1), (y0, y1) = L.bounds
    return np.stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)], -1)


def assert_same_trajectory(a, b, steps=15, starts=None, landscape="ridge", rtol=1e-12):
    L = gl.get(landscape)
    starts = points(L, 6, np.random.default_rng(1)) * 0.5 if starts is None else starts
    ta, tb = gt.run(a, L, starts, steps), gt.run(b, L, starts, steps)
    assert_allclose(ta.points, tb.points, rtol=rtol, atol=1e-12)


# ---- every optimizer runs and converges -------------------------------------------------
@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("name", NAMES)
def test_every_optimizer_runs_with_defaults_alone(name, base):
    opt = optim.get(name) if base == optim.DEFAULTS[name][1] else optim.get(name, base=base)
    assert opt.name == name and opt.base.name == base
    tr = gt.run(opt, "ridge", np.array([[0.5, 0.3], [-1.0, -0.2], [2.5, 0.4]]), 10)
    assert tr.points.shape == (11, 3, 2)
    assert np.all(np.isfinite(tr.points))


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("name", NAMES)
def test_converges_to_the_minimiser_of_a_quadratic(name, base):
    steps = 400
    lr = schedules.cosine(0.05 if base == "adam" else 0.1, steps)
    extra = {"rho_prime": 1e-3} if name == "gam_accel" else {}
    # GSAM's schedule (rho proportional to lr) so the perturbation also vanishes at the end
    if "rho" in optim.DEFAULTS[name][0]:
        extra["rho_schedule"] = "lr"
    opt = optim.get(name, lr=lr, base=base, **extra)
    starts = np.array([[1.5, -1.0], [-2.0, 0.5], [0.3, 2.0]])
    tr = gt.run(opt, QUAD, starts, steps)
    assert not tr.diverged.any()
    assert_allclose(tr.final, 0.0, atol=1e-4)
    assert np.all(tr.values[-1] < 1e-3 * tr.values[0])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("base", ["sgd", "adam"])
def test_each_start_in_a_batch_equals_running_it_alone(name, base):
    opt = optim.get(name, lr=0.02, base=base)
    L = gl.get("ridge")
    starts = points(L, 5, np.random.default_rng(2)) * 0.6
    batch = gt.run(opt, L, starts, 20)
    for i, s in enumerate(starts):
        alone = gt.run(opt, L, s[None], 20, fast=False)  # a batch of one
        assert_allclose(batch.points[:, i], alone.points[:, 0], rtol=1e-13, atol=1e-13)
        floats = gt.run(opt, L, s, 20)  # the Python-float path
        assert floats.points.shape == (21, 2)
        assert_allclose(batch.points[:, i], floats.points, rtol=1e-9, atol=1e-10)


# ---- reductions ---------------------------------------------------------------------------
def test_gnp_with_alpha_1_equals_sam():
    assert_same_trajectory(optim.get("gnp", lr=0.05, rho=0.07, alpha=1.0),
                           optim.get("sam", lr=0.05, rho=0.07))


def test_gnp_with_alpha_0_equals_sgd():
    assert_same_trajectory(optim.get("gnp", lr=0.05, rho=0.07, alpha=0.0),
                           optim.get("sgd", lr=0.05))


def test_gsam_with_alpha_0_equals_sam():
    assert_same_trajectory(optim.get("gsam", lr=0.05, rho=0.07, alpha=0.0),
                           optim.get("sam", lr=0.05, rho=0.07))


@pytest.mark.parametrize("base", BASES)
def test_gam_with_alpha_0_equals_its_base(base):
    assert_same_trajectory(optim.get("gam", lr=0.05, rho=0.2, alpha=0.0, base=base),
                           optim.get(base, lr=0.05))


@pytest.mark.parametrize("rho_sam", [None, 0.03])
def test_sam_plus_gam_with_alpha_0_equals_sam(rho_sam):
    assert_same_trajectory(optim.get("sam+gam", lr=0.05, rho=0.1, alpha=0.0, rho_sam=rho_sam),
                           optim.get("sam", lr=0.05, rho=0.1 if rho_sam is None else rho_sam))


def test_gsam_plus_gam_with_alpha_0_equals_gsam():
    assert_same_trajectory(
        optim.get("gsam+gam", lr=0.05, rho=0.1, alpha=0.0, rho_sam=0.04, alpha_gsam=0.5),
        optim.get("gsam", lr=0.05, rho=0.04, alpha=0.5))


@pytest.mark.parametrize("variant", ["paper", "official"])
def test_gam_accel_with_alpha_1_gamma_0_equals_sam_with_rho_prime(variant):
    assert_same_trajectory(
        optim.get("gam_accel", lr=0.05, rho=0.2, rho_prime=0.03, alpha=1.0, beta=0.3, gamma=0.0,
                  variant=variant),
        optim.get("sam", lr=0.05, rho=0.03))


def test_gam_accel_with_alpha_1_beta_1_equals_gsam_with_rho_prime_and_alpha_gamma():
    # h_+ = g1 = SAM's g_p at rho', h_- = g0 = g: d = g_p - gamma g_perp
    assert_same_trajectory(
        optim.get("gam_accel", lr=0.05, rho=0.2, rho_prime=0.03, alpha=1.0, beta=1.0, gamma=0.4),
        optim.get("gsam", lr=0.05, rho=0.03, alpha=0.4))


def test_gam_accel_with_rho_0_equals_gsam_with_rho_prime_and_alpha_gamma():
    # theta_2 = theta: g2 = g0, g3 = g1, so h_+ = g1 and h_- = g0 whatever alpha and beta
    assert_same_trajectory(
        optim.get("gam_accel", lr=0.05, rho=0.0, rho_prime=0.03, alpha=0.3, beta=0.6, gamma=0.4),
        optim.get("gsam", lr=0.05, rho=0.03, alpha=0.4), rtol=1e-10)


@pytest.mark.parametrize("name", ["sam", "gnp", "gsam", "gam"])
def test_rho_0_gives_sgd(name):
    assert_same_trajectory(optim.get(name, lr=0.05, rho=0.0), optim.get("sgd", lr=0.05))


def test_gam_accel_theta_adv_tends_to_gam_theta_adv_as_rho_prime_shrinks(rng):
    # Alg. 2 replaces H g/|g| in Alg. 1's theta_adv by the finite difference of Eq. 38-39
    L = gl.get("rosenbrock")
    theta = points(L, 8, rng)
    _, exact = one_step(optim.get("gam", rho=0.1), L, theta)
    errs = []
    for rp in (1e-2, 5e-3, 2.5e-3):
        _, info = one_step(optim.get("gam_accel", rho=0.1, rho_prime=rp), L, theta)
        errs.append(np.abs(info["theta_adv"] - exact["theta_adv"]).max())
    assert errs[0] > errs[1] > errs[2]
    assert errs[-1] < 1e-2


# ---- official variants ------------------------------------------------------------------
def test_gam_accel_official_uses_h_minus_g0_plus_abs_1_minus_beta_g2(rng):
    L = gl.get("ridge")
    theta = points(L, 6, rng)
    hp = dict(rho=0.1, rho_prime=0.02, alpha=0.4, beta=1.5 / 2, gamma=0.3)
    _, paper = one_step(optim.get("gam_accel", **hp), L, theta)
    _, official = one_step(optim.get("gam_accel", variant="official", **hp), L, theta)
    g0, g2 = L.grad(theta), L.grad(official["theta_adv"])
    assert_allclose(official["h_minus"], g0 + abs(1 - hp["beta"]) * g2, rtol=1e-12)
    assert_allclose(paper["h_minus"], hp["beta"] * g0 + (1 - hp["beta"]) * g2, rtol=1e-12)
    # d = h_+ - gamma (h_- minus its projection on h_+), in both variants
    for info in (paper, official):
        hp_, hm = info["h_plus"], info["h_minus"]
        e = hp_ / np.linalg.norm(hp_, axis=-1, keepdims=True)
        perp = hm - e * np.sum(hm * e, -1, keepdims=True)
        assert_allclose(info["d"], hp_ - hp["gamma"] * perp, rtol=1e-10, atol=1e-12)
    assert not np.allclose(paper["d"], official["d"])


def test_gam_accel_official_equals_paper_when_beta_is_1():
    hp = dict(lr=0.05, rho=0.1, rho_prime=0.02, alpha=0.4, beta=1.0, gamma=0.3)
    assert_same_trajectory(optim.get("gam_accel", **hp),
                           optim.get("gam_accel", variant="official", **hp))


def _gnp_official_by_hand(L, theta, rho, alpha):
    """The released code (norm_perturbations=True): u = g/|g|, d = (1-alpha) u + alpha g(w + r u),
    clip_by_global_norm(d, 5) - written from the landscape's own gradient, point by point."""
    out = []
    for w in theta:
        g = L.grad(w)
        u = g / np.linalg.norm(g)
        d = (1 - alpha) * u + alpha * L.grad(w + rho * u)
        n = np.linalg.norm(d)
        out.append(d * 5.0 / n if n >= 5.0 else d)
    return np.array(out)


def test_gnp_official_normalises_the_ascent_gradient_and_clips_at_norm_5(rng):
    L = gl.get("rastrigin")  # gradients from ~0 to ~80: both sides of the clip
    theta = points(L, 60, rng)
    _, info = one_step(optim.get("gnp", variant="official", rho=0.05, alpha=0.7), L, theta)
    ref = _gnp_official_by_hand(L, theta, 0.05, 0.7)
    assert_allclose(info["d"], ref, rtol=1e-10)
    n = np.linalg.norm(info["d"], axis=-1)
    assert n.max() == pytest.approx(5.0, rel=1e-12)
    assert np.any(n < 4.0)
    _, paper = one_step(optim.get("gnp", rho=0.05, alpha=0.7), L, theta)
    assert not np.allclose(paper["d"], info["d"])


def test_gnp_official_with_alpha_1_equals_sam_where_the_sam_gradient_is_below_5(rng):
    L = gl.get("rastrigin")  # |g_p| from ~0 to ~80: both sides of the clip
    theta = points(L, 200, rng)
    _, sam = one_step(optim.get("sam", rho=0.03), L, theta)
    _, off = one_step(optim.get("gnp", variant="official", rho=0.03, alpha=1.0), L, theta)
    small = np.linalg.norm(sam["d"], axis=-1) < 5.0
    assert 10 < small.sum() < len(small)  # both sides of the clip are exercised
    assert_allclose(off["d"][small], sam["d"][small], rtol=1e-12, atol=1e-14)
    big = ~small
    assert_allclose(np.linalg.norm(off["d"][big], axis=-1), 5.0, rtol=1e-12)


def test_gnp_official_docstring_documents_its_departures():
    doc = optim.estimators.gnp.__doc__
    assert "official" in doc and "clip" in doc and "normalised" in doc and "NaN" in doc


# ---- Eq. 38: the finite difference of Algorithm 2 ------------------------------------------
@pytest.mark.parametrize("name", CURVED)
def test_eq38_finite_difference_tends_to_hg_over_norm_g_at_first_order(name, rng):
    L = gl.get(name)
    theta = points(L, 6, rng)
    g = L.grad(theta)
    u = g / np.linalg.norm(g, axis=-1, keepdims=True)
    exact = L.hvp(theta, u)
    rps = 1e-3 * 0.5 ** np.arange(7)
    errs = np.array([np.linalg.norm((L.grad(theta + rp * u) - g) / rp - exact, axis=-1)
                     for rp in rps])  # (len(rps), points)
    slopes = np.polyfit(np.log(rps), np.log(errs), 1)[0]
    assert_allclose(slopes, 1.0, atol=0.15)
    assert np.median(errs[:-1] / errs[1:]) == pytest.approx(2.0, rel=0.05)


# ---- zero gradient ------------------------------------------------------------------------
@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("name", NAMES)
def test_zero_gradient_at_an_exact_minimum_gives_no_nan(name, base):
    opt = optim.get(name, base=base, variant="official") if name in ("gnp", "gam_accel") \
        else optim.get(name, base=base)
    L = gl.get("quadratic")
    for theta in (np.zeros((3, 2)), np.zeros(2), Vec2(0.0, 0.0)):
        state = opt.init(theta)
        for _ in range(3):
            theta, state, info = opt.update(theta, state, L, diag=True)
        assert_allclose(np.asarray(list(theta) if type(theta) is Vec2 else theta), 0.0, atol=0)
        for k, v in info.items():
            v = v.array() if type(v) is Vec2 else np.asarray(v)
            assert np.all(np.isfinite(v)), k
    tr = gt.run(opt, L, np.zeros((2, 2)), 5, diagnostics=True)
    assert not tr.diverged.any() and np.all(tr.points == 0)
    assert all(np.all(np.isfinite(v)) for v in tr.info.values())


# ---- bad input ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["sam", "gnp", "gsam", "gam", "gam_accel", "sam+gam", "gsam+gam"])
@pytest.mark.parametrize("rho", [-0.1, float("nan")])
def test_negative_or_nan_rho_raises_value_error_naming_rho(name, rho):
    with pytest.raises(ValueError, match="rho must be non-negative"):
        optim.get(name, rho=rho)


@pytest.mark.parametrize("name", ["gnp", "gsam", "gam", "gam_accel", "sam+gam", "gsam+gam"])
def test_negative_alpha_raises_value_error_naming_alpha(name):
    with pytest.raises(ValueError, match="alpha must be non-negative"):
        optim.get(name, alpha=-0.5)


@pytest.mark.parametrize("key,value", [("rho_prime", -0.01), ("beta", -0.1), ("gamma", -1.0)])
def test_negative_gam_accel_hyper_parameters_raise_value_error_naming_them(key, value):
    with pytest.raises(ValueError, match=f"{key} must be non-negative"):
        optim.get("gam_accel", **{key: value})


@pytest.mark.parametrize("key", ["alpha", "beta"])
def test_gam_accel_weights_above_1_raise_value_error(key):
    with pytest.raises(ValueError, match=f"{key}"):
        optim.get("gam_accel", **{key: 1.5})


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("lr", [0.0, -0.1, float("nan"), float("inf")])
def test_non_positive_or_non_finite_lr_raises_value_error_naming_lr(name, lr):
    with pytest.raises(ValueError, match="lr must be positive"):
        optim.get(name, lr=lr)


def test_lr_schedule_starting_at_zero_raises_value_error():
    with pytest.raises(ValueError, match="lr must be positive"):
        optim.get("sgd", lr=lambda t: 0.0)


def test_unknown_optimizer_raises_value_error_listing_valid_names():
    with pytest.raises(ValueError, match="unknown optimizer 'adamw'") as e:
        optim.get("adamw")
    for n in NAMES:
        assert n in str(e.value)


@pytest.mark.parametrize("name,key", [("sam", "alpha"), ("gam", "variant"), ("sgd", "rho"),
                                      ("gsam", "rho_prime"), ("gam", "lr_decay")])
def test_unknown_hyper_parameter_raises_value_error_naming_it(name, key):
    with pytest.raises(ValueError, match=f"unknown hyper-parameter.*{key}.*valid"):
        optim.get(name, **{key: 0.1})


@pytest.mark.parametrize("name", ["gnp", "gam_accel"])
def test_unknown_variant_raises_value_error_listing_variants(name):
    with pytest.raises(ValueError, match="unknown variant 'released'.*paper.*official"):
        optim.get(name, variant="released")


@pytest.mark.parametrize("name", NAMES)
def test_unknown_base_raises_value_error_listing_bases(name):
    with pytest.raises(ValueError, match="unknown base optimizer 'lion'.*sgd.*momentum.*adam"):
        optim.get(name, base="lion")


@pytest.mark.parametrize("kw,match", [({"momentum": 1.0}, "momentum"),
                                      ({"momentum": -0.1}, "momentum")])
def test_bad_momentum_raises_value_error(kw, match):
    with pytest.raises(ValueError, match=match):
        optim.get("sam", base="momentum", **kw)


@pytest.mark.parametrize("kw,match", [({"betas": (1.0, 0.999)}, "betas"), ({"eps": 0.0}, "eps")])
def test_bad_adam_settings_raise_value_error(kw, match):
    with pytest.raises(ValueError, match=match):
        optim.get("gam", base="adam", **kw)


def test_unknown_rho_schedule_raises_value_error():
    with pytest.raises(ValueError, match="unknown rho_schedule 'cosine'"):
        optim.get("gsam", rho_schedule="cosine")


def test_negative_xi_raises_value_error():
    with pytest.raises(ValueError, match="xi must be positive"):
        optim.get("sam", xi=-1e-12)


@pytest.mark.parametrize("start", [[np.nan, 0.0], [[0.0, 0.0], [np.inf, 1.0]]])
def test_nan_starts_raise_value_error(start):
    with pytest.raises(ValueError, match="starts contain NaN"):
        gt.run("gam", "ridge", start, 3)


@pytest.mark.parametrize("shape", [(), (3,), (4, 1), (2, 3)], ids=str)
def test_starts_of_wrong_shape_raise_value_error(shape):
    with pytest.raises(ValueError, match=r"starts must have shape \(\.\.\., 2\)"):
        gt.run("sam", "ridge", np.zeros(shape), 3)


# ---- schedules ----------------------------------------------------------------------------
def test_constant_schedule_is_constant():
    s = schedules.constant(0.3)
    assert [s(t) for t in (1, 2, 100)] == [0.3, 0.3, 0.3]


def test_cosine_schedule_goes_from_v0_to_v_min_through_the_midpoint():
    s = schedules.cosine(1.0, 11, v_min=0.1)
    assert s(1) == pytest.approx(1.0)
    assert s(6) == pytest.approx(0.55)
    assert s(11) == pytest.approx(0.1)
    assert s(50) == pytest.approx(0.1)
    vals = [s(t) for t in range(1, 12)]
    assert all(a >= b for a, b in zip(vals, vals[1:], strict=False))
    assert s(3) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.2)))


def test_inv_sqrt_schedule_is_c_over_sqrt_t():
    s = schedules.inv_sqrt(0.2)
    assert [s(t) for t in (1, 4, 100)] == pytest.approx([0.2, 0.1, 0.02])


def test_gsam_rho_schedule_is_proportional_to_lr():
    # lr_min > 0 and rho_min > 0: rho_t - rho_min is proportional to lr_t - lr_min (GSAM Alg. 1)
    lr = schedules.cosine(0.1, 21, v_min=0.02)
    opt = optim.get("gsam", lr=lr, rho=0.05, rho_min=0.01, rho_schedule="lr")
    assert opt.rho(1) == pytest.approx(0.05)
    assert opt.rho(11) == pytest.approx(0.03)  # lr(11) = 0.06, half-way from 0.02 to 0.1
    assert opt.rho(21) == pytest.approx(0.01)
    for t in (3, 7, 16):
        want = 0.01 + 0.04 * (lr(t) - 0.02) / 0.08
        assert opt.rho(t) == pytest.approx(want, abs=1e-15)
    opt = optim.get("gsam", lr=schedules.cosine(0.1, 21), rho=0.05, rho_schedule="lr")
    assert opt.rho(11) == pytest.approx(0.025)
    assert optim.get("gsam", lr=0.1, rho=0.05, rho_schedule="lr").rho(7) == 0.05


def test_lr_and_rho_schedules_drive_the_steps():
    # theta_{t+1} = theta_t - c/sqrt(t) g(theta_t + rho_t g/|g|) with rho_t = r/sqrt(t)
    L = QUAD
    opt = optim.get("sam", lr=schedules.inv_sqrt(0.1), rho=schedules.inv_sqrt(0.2))
    theta = np.array([1.0, -0.5])
    tr = gt.run(opt, L, theta, 4, fast=False)
    for t in range(1, 5):
        g = L.grad(theta)
        w_adv = theta + 0.2 / math.sqrt(t) * g / np.linalg.norm(g)
        theta = theta - 0.1 / math.sqrt(t) * L.grad(w_adv)
        assert_allclose(tr.points[t], theta, rtol=1e-12)


# ---- base optimizers against hand-computed steps -------------------------------------------
def _hand_grad(theta):
    return QUAD.hessian(np.zeros(2)) @ theta  # the quadratic's gradient is H theta


def test_sgd_step_is_theta_minus_lr_g():
    theta = np.array([1.0, -2.0])
    new, _ = one_step(optim.get("sgd", lr=0.1), QUAD, theta)
    assert_allclose(new, theta - 0.1 * _hand_grad(theta), rtol=1e-14)


def test_momentum_steps_are_heavy_ball_as_torch():
    opt = optim.get("momentum", lr=0.1, momentum=0.5)
    theta, v = np.array([1.0, -2.0]), np.zeros(2)
    tr = gt.run(opt, QUAD, theta, 4)
    for t in range(4):
        v = 0.5 * v + _hand_grad(theta)
        theta = theta - 0.1 * v
        assert_allclose(tr.points[t + 1], theta, rtol=1e-12)


def test_adam_first_step_is_lr_times_sign_of_g():
    theta = np.array([1.0, -2.0])
    new, _ = one_step(optim.get("adam", lr=0.01), QUAD, theta)
    g = _hand_grad(theta)
    assert_allclose(new, theta - 0.01 * g / (np.abs(g) + 1e-8), rtol=1e-12)


def test_adam_steps_match_kingma_ba():
    b1, b2, eps, lr = 0.8, 0.99, 1e-6, 0.05
    opt = optim.get("adam", lr=lr, betas=(b1, b2), eps=eps)
    theta, m, v = np.array([1.0, -2.0]), np.zeros(2), np.zeros(2)
    tr = gt.run(opt, QUAD, theta, 5)
    for t in range(1, 6):
        g = _hand_grad(theta)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        theta = theta - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        assert_allclose(tr.points[t], theta, rtol=1e-12)


def test_a_base_optimizer_steps_on_the_estimators_direction():
    # SAM with momentum: v <- mu v + g_p, theta <- theta - lr v
    opt = optim.get("sam", lr=0.1, rho=0.05, base="momentum", momentum=0.9)
    theta, v = np.array([1.0, -2.0]), np.zeros(2)
    tr = gt.run(opt, QUAD, theta, 3)
    for t in range(3):
        g = _hand_grad(theta)
        v = 0.9 * v + _hand_grad(theta + 0.05 * g / np.linalg.norm(g))
        theta = theta - 0.1 * v
        assert_allclose(tr.points[t + 1], theta, rtol=1e-12)


# ---- diagnostics --------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_diagnostics_have_the_documented_keys_and_per_point_shapes(name, rng):
    L = gl.get("ridge")
    theta = points(L, 5, rng) * 0.5
    _, info = one_step(optim.get(name), L, theta, diag=True)
    expected = {"g", "d", "f"}
    if name in SAM_LIKE:
        expected |= {"w_adv", "g_p", "h", "cos"}
    if name in GAM_LIKE:
        expected |= {"theta_adv", "r1"}
    if name in ("gsam", "gam_accel", "gsam+gam"):
        expected |= {"g_par", "g_perp"}
    assert expected <= set(info)
    for k, v in info.items():
        v = np.asarray(v)
        assert v.shape in ((5,), (5, 1), (5, 2)), (k, v.shape)
        assert np.all(np.isfinite(v)), k
    if "g_par" in info:
        assert_allclose(info["g_par"] + info["g_perp"], info["h_minus"] if name == "gam_accel"
                        else info["g"], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["sam", "gnp", "gsam"])
def test_surrogate_gap_in_diagnostics_equals_flatness_surrogate_gap(name, rng):
    L = gl.get("fig1a")
    theta = points(L, 7, rng)
    _, info = one_step(optim.get(name, rho=0.2), L, theta, diag=True)
    assert_allclose(info["h"], flatness.surrogate_gap(L, theta, 0.2), rtol=1e-12, atol=1e-14)
    assert_allclose(info["w_adv"], flatness.sam_point(L, theta, 0.2), rtol=1e-13)
    g, gp = info["g"], info["g_p"]
    cos = np.sum(g * gp, -1) / (np.linalg.norm(g, axis=-1) * np.linalg.norm(gp, axis=-1))
    assert_allclose(np.asarray(info["cos"]).reshape(-1), cos, rtol=1e-10)


def test_gam_accel_surrogate_gap_uses_rho_prime(rng):
    L = gl.get("ridge")
    theta = points(L, 7, rng)
    _, info = one_step(optim.get("gam_accel", rho=0.1, rho_prime=0.03), L, theta, diag=True)
    assert_allclose(info["h"], flatness.surrogate_gap(L, theta, 0.03), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["sam+gam", "gsam+gam"])
def test_composed_gam_surrogate_gap_uses_rho_sam(name, rng):
    L = gl.get("ridge")
    theta = points(L, 7, rng)
    _, info = one_step(optim.get(name, rho=0.1, rho_sam=0.04), L, theta, diag=True)
    assert_allclose(info["h"], flatness.surrogate_gap(L, theta, 0.04), rtol=1e-12, atol=1e-14)
    assert_allclose(info["theta_adv"], flatness.gam_point(L, theta, 0.1), rtol=1e-13)


def test_gam_diagnostics_equal_flatness_first_order_r1(rng):
    L = gl.get("gsam_fig1")
    theta = points(L, 7, rng)
    _, info = one_step(optim.get("gam", rho=0.15, alpha=0.5), L, theta, diag=True)
    assert_allclose(info["theta_adv"], flatness.gam_point(L, theta, 0.15), rtol=1e-13)
    assert_allclose(np.asarray(info["r1"]).reshape(-1), flatness.r1_first_order(L, theta, 0.15),
                    rtol=1e-12)
    # d = g + alpha rho H(theta_adv) g_adv/|g_adv| (GAM Eq. 7-8)
    g_adv = L.grad(info["theta_adv"])
    h_norm = 0.15 * L.hvp(info["theta_adv"], g_adv / np.linalg.norm(g_adv, axis=-1, keepdims=True))
    assert_allclose(info["d"], L.grad(theta) + 0.5 * h_norm, rtol=1e-10, atol=1e-12)


def test_every_optimizer_has_a_cost_in_gradient_units():
    assert set(optim.COST) == set(NAMES)
    assert optim.COST["sgd"] == 1 and optim.COST["sam"] == 2
    for n in NAMES:
        assert optim.get(n).cost == optim.COST[n]
