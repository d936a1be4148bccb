"""gamtoy.optim: defaults, convergence, batch independence, the papers' reductions, the official
variants, Eq. 38, zero gradients, schedules (GSAM's rho proportional to lr against a hand
computation, Alg. 1), base steppers, diagnostics; optim.specs (each record's defaults are what
`optim.get` yields, its bounds are what `get` refuses, the table's directions equal the estimators
called by hand); and bad input: every one a clear error naming the argument, the value and what is
allowed, before any work, good NumPy scalars accepted."""
import dataclasses
import functools
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

import gamtoy as gt
import gamtoy.landscapes as gl
from gamtoy import flatness, optim
from gamtoy.optim import estimators as est
from gamtoy.optim import schedules
from gamtoy.optim.specs import NONNEG, SPECS, Bound
from gamtoy.vec import Vec2

NAMES = optim.names()
BASES = list(optim.BASES)
SAM_LIKE = ["sam", "gnp", "gsam", "gam_accel", "sam+gam", "gsam+gam"]  # they record w_adv, h
GAM_LIKE = ["gam", "gam_accel", "sam+gam", "gsam+gam"]  # they record theta_adv
# a well-conditioned quadratic (explicit parameters: independent of the built-in defaults)
QUAD = gl.get("quadratic", a=4.0, b=1.0, angle=30.0)
CURVED = ["rosenbrock", "himmelblau", "ridge", "rastrigin"]  # third derivatives != 0
RHO_NAMES = ["sam", "gnp", "gsam", "gam", "gam_accel", "sam+gam", "gsam+gam"]


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


"""Optimizers: defaults, convergence, batch independence, the papers' reductions, the official
variants, Eq. 38, zero gradients, bad input, schedules, base steppers and diagnostics."""


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


def test_rho_proportional_to_lr_with_lr_min_above_0_is_gsam_alg_1_by_hand():
    # GSAM Alg. 1 step 0: rho_t = rho_min + (rho_max - rho_min)(lr_t - lr_min)/(lr_max - lr_min).
    # lr by hand: cosine from 0.1 (t = 1) to 0.02 (t = 41); rho from 0.07 down to 0.015.
    lr_max, lr_min, rho_max, rho_min, T = 0.1, 0.02, 0.07, 0.015, 41
    opt = optim.get("gsam", lr=schedules.cosine(lr_max, T, v_min=lr_min), rho=rho_max,
                    rho_min=rho_min, rho_schedule="lr")
    for t, want in ((1, 0.07), (41, 0.015), (60, 0.015)):  # the ends need no formula
        assert opt.rho(t) == pytest.approx(want, abs=1e-15)
    for t in (6, 21, 33):
        lr_t = lr_min + (lr_max - lr_min) * 0.5 * (1 + math.cos(math.pi * (t - 1) / (T - 1)))
        assert opt.lr(t) == pytest.approx(lr_t, rel=1e-14)
        want = rho_min + (rho_max - rho_min) * (lr_t - lr_min) / (lr_max - lr_min)
        assert opt.rho(t) == pytest.approx(want, rel=1e-12)
        # lr / lr_max (a common slip) differs from it far beyond the tolerance:
        assert abs(rho_min + (rho_max - rho_min) * lr_t / lr_max - want) > 1e-4
    # at t = 21 (the cosine's midpoint) rho is the middle of [rho_min, rho_max]
    assert opt.rho(21) == pytest.approx((rho_max + rho_min) / 2, rel=1e-12)
    # and the step uses it: GSAM's w_adv = w + rho_t g/|g| at step 21 (state t = 20)
    L = gt.landscapes.get("quadratic", a=3.0, b=0.4, angle=25.0)
    theta = np.array([0.8, -0.3])
    _, _, info = opt.update(theta, optim.State(20, opt.base.init(theta)), L)
    g = L.grad(theta)
    assert_allclose(info["w_adv"], theta + 0.0425 * g / np.linalg.norm(g), rtol=1e-12)


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


# ---- optim.specs: the records are the defaults ------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_each_records_defaults_equal_what_get_yields(name):
    spec = SPECS[name]
    opt = optim.get(name)
    assert opt.hyper == {"lr": spec.lr, **spec.defaults, "xi": optim.XI}
    assert opt.base.name == spec.base and opt.cost == spec.cost
    assert opt.lr(1) == spec.lr == 0.1
    assert opt.rho(1) == spec.defaults.get("rho", 0.0)


def test_defaults_cost_and_names_are_derived_from_the_records():
    assert optim.names() == list(SPECS)
    assert optim.DEFAULTS == {n: (dict(s.defaults), s.base) for n, s in SPECS.items()}
    assert optim.COST == {n: s.cost for n, s in SPECS.items()}


@pytest.mark.parametrize("name", NAMES)
def test_every_record_names_its_source_bounds_every_number_and_lists_its_variants(name):
    spec = SPECS[name]
    assert spec.source
    numbers = {k for k, v in spec.defaults.items() if not isinstance(v, str)}
    assert set(spec.bounds) == numbers
    assert ("variant" in spec.defaults) == bool(spec.variants)
    assert spec.defaults.get("variant", "paper") in (spec.variants or ("paper",))
    with pytest.raises(TypeError):
        spec.defaults["rho"] = 1.0  # read-only: one place holds each default


def test_lr_none_is_the_records_default_and_an_optimizer_takes_no_lr():
    assert optim.get("sam", lr=None).hyper["lr"] == 0.1
    opt = optim.get("sam", lr=0.07)
    assert optim.get(opt) is opt
    # no sentinel: lr=0.1 (the default's value) with an Optimizer is refused like any other lr
    for lr in (0.1, 0.3):
        with pytest.raises(ValueError, match="hyper-parameters go with an optimizer name"):
            optim.get(opt, lr=lr)


# ---- the bounds are enforced from the records -------------------------------------------------
def test_gam_accel_weights_are_at_most_1_from_its_record_gam_eq_44():
    assert SPECS["gam_accel"].bounds["alpha"] == Bound(high=1.0, source="GAM Eq. 44")
    optim.get("gam_accel", alpha=1.0, beta=0.0)  # the edges are allowed
    with pytest.raises(ValueError, match=r"beta must be in \[0, 1\] for gam_accel \(GAM Eq. 44\), "
                                         r"got 1.3"):
        optim.get("gam_accel", beta=1.3)


def test_a_changed_bound_in_the_record_changes_what_get_refuses(monkeypatch):
    optim.get("gam", alpha=0.37)
    spec = SPECS["gam"]
    capped = dataclasses.replace(spec, bounds={**spec.bounds,
                                               "alpha": Bound(high=0.25, source="a test cap")})
    monkeypatch.setitem(SPECS, "gam", capped)
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 0.25\] for gam \(a test cap\), "
                                         r"got 0.37"):
        optim.get("gam", alpha=0.37)
    optim.get("gam", alpha=0.25)
    # and lifting gam_accel's Eq. 44 cap lets alpha = 1.3 through
    accel = SPECS["gam_accel"]
    monkeypatch.setitem(SPECS, "gam_accel", dataclasses.replace(
        accel, bounds={**accel.bounds, "alpha": NONNEG}))
    assert optim.get("gam_accel", alpha=1.3).hyper["alpha"] == 1.3


def test_a_changed_default_in_the_record_is_what_get_yields(monkeypatch):
    spec = SPECS["gsam"]
    monkeypatch.setitem(SPECS, "gsam", dataclasses.replace(
        spec, defaults={**spec.defaults, "alpha": 0.23}, lr=0.03))
    opt = optim.get("gsam")
    assert opt.hyper["alpha"] == 0.23 and opt.lr(1) == 0.03


def test_a_variant_outside_the_records_list_is_refused(monkeypatch):
    monkeypatch.setitem(SPECS, "gnp", dataclasses.replace(SPECS["gnp"], variants=("paper",)))
    with pytest.raises(ValueError, match="unknown variant 'official'; valid: paper"):
        optim.get("gnp", variant="official")


# ---- parity: the table's directions equal the estimators called by hand -----------------------
XI = 1e-9
RHO, ALPHA = 0.13, 0.37


def by_hand(name, L, th):
    """The direction of `name` at th, each estimator called with explicit positional values."""
    return {
        "sgd": lambda: est.gradient(L, th, XI),
        "momentum": lambda: est.gradient(L, th, XI),
        "adam": lambda: est.gradient(L, th, XI),
        "sam": lambda: est.sam(L, th, RHO, XI),
        "gnp": lambda: est.gnp(L, th, RHO, ALPHA, XI, False, "official"),
        "gsam": lambda: est.gsam(L, th, RHO, ALPHA, XI),
        "gam": lambda: est.gam(L, th, RHO, ALPHA, XI),
        "gam_accel": lambda: est.gam_accel(L, th, RHO, 0.03, ALPHA, 0.61, 0.2, XI, False,
                                           "official"),
        "sam+gam": lambda: est.gam(L, th, RHO, ALPHA, XI, False,
                                   inner=functools.partial(est.sam, rho=0.07)),
        "gsam+gam": lambda: est.gam(L, th, RHO, ALPHA, XI, False,
                                    inner=functools.partial(est.gsam, rho=0.07, alpha=0.41)),
    }[name]()


def through_get(name):
    given = {"rho": RHO, "alpha": ALPHA, "variant": "official", "rho_prime": 0.03, "beta": 0.61,
             "gamma": 0.2, "rho_sam": 0.07, "alpha_gsam": 0.41}
    return optim.get(name, xi=XI, **{k: v for k, v in given.items() if k in SPECS[name].defaults})


@pytest.mark.parametrize("name", NAMES)
def test_the_tables_direction_equals_the_estimator_called_by_hand(name):
    L = gl.get("ridge")
    th = np.array([[0.4, -0.3], [-1.1, 0.6], [1.7, 0.2]])
    d, info = through_get(name).direction(L, th)
    d_ref, info_ref = by_hand(name, L, th)
    assert_allclose(d, d_ref, rtol=1e-13, atol=1e-15)
    assert set(info) == set(info_ref)


@pytest.mark.parametrize("name", ["sam+gam", "gsam+gam"])
def test_gam_with_an_inner_optimizer_uses_gams_rho_when_rho_sam_is_none(name):
    L = gl.get("himmelblau")
    th = np.array([[0.7, 1.9], [-2.2, 0.4]])
    inner = (functools.partial(est.sam, rho=RHO) if name == "sam+gam"
             else functools.partial(est.gsam, rho=RHO, alpha=0.01))
    d, _ = optim.get(name, rho=RHO, alpha=ALPHA).direction(L, th)
    assert_allclose(d, est.gam(L, th, RHO, ALPHA, optim.XI, inner=inner)[0], rtol=1e-13)


def test_a_record_whose_defaults_the_estimator_does_not_take_is_a_type_error(monkeypatch):
    spec = SPECS["sam"]
    monkeypatch.setitem(SPECS, "sam", dataclasses.replace(
        spec, defaults={**spec.defaults, "alpha": 0.3}, bounds={**spec.bounds, "alpha": NONNEG}))
    with pytest.raises(TypeError, match=r"sam's estimator sam takes no \['alpha'\]"):
        optim.get("sam")


# ---- bad input: hyper-parameters --------------------------------------------------------------
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


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("lr", [0.0, -0.1, float("nan"), float("inf")])
def test_non_positive_or_non_finite_lr_raises_value_error_naming_lr(name, lr):
    with pytest.raises(ValueError, match="lr must be positive"):
        optim.get(name, lr=lr)


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


@pytest.mark.parametrize("name", ["gsam", "gam", "gnp"])
def test_numpy_negative_alpha_is_refused(name):
    with pytest.raises(ValueError, match=r"alpha must be non-negative.*got -1.0"):
        optim.get(name, alpha=np.float32(-1))


@pytest.mark.parametrize("name", RHO_NAMES)
@pytest.mark.parametrize("rho,err,match", [
    (float("inf"), ValueError, "rho must be non-negative and finite, got inf"),
    (np.float64(np.nan), ValueError, "rho must be non-negative and finite"),
    (True, TypeError, r"rho must be a real number.*bool"),
    ("0.05", TypeError, r"rho must be a real number.*str"),
    (np.array([0.1, 0.2]), TypeError, "rho must be a real number"),
])
def test_bad_rho_is_refused_with_its_name_and_value(name, rho, err, match):
    with pytest.raises(err, match=match):
        optim.get(name, rho=rho)


@pytest.mark.parametrize("kw", [dict(rho=np.float32(0.05), alpha=np.array(0.7)),
                                dict(rho=np.array(0.05), alpha=np.float64(0.7))])
def test_numpy_scalars_and_0d_arrays_are_accepted_and_give_the_same_steps(kw):
    a = gt.run("gsam", "ridge", [0.4, -0.3], 5, lr=np.float32(0.03), **kw)
    b = gt.run("gsam", "ridge", [0.4, -0.3], 5, lr=float(np.float32(0.03)),
               rho=float(np.asarray(kw["rho"])), alpha=float(np.asarray(kw["alpha"])))
    assert_allclose(a.points, b.points, rtol=0, atol=0)


@pytest.mark.parametrize("kw,err,match", [
    (dict(lr=True), TypeError, "lr must be a real number"),
    (dict(lr="0.1"), TypeError, "lr must be a real number"),
    (dict(lr=np.float32(-0.1)), ValueError, "lr must be positive"),
    (dict(xi=float("inf")), ValueError, "xi must be positive and finite"),
    (dict(xi=-1e-12), ValueError, "xi must be positive"),
    (dict(xi=0.0), ValueError, "xi must be positive"),
    (dict(base="momentum", momentum=np.float32(1.0)), ValueError,
     r"momentum must be in \[0.0, 1.0\)"),
    (dict(base="momentum", momentum=True), TypeError, "momentum must be a real number"),
    (dict(base="adam", betas=(0.9, float("nan"))), ValueError, r"betas\[1\] must be in"),
    (dict(base="adam", betas=0.9), TypeError, r"betas must be a pair"),
    (dict(base="adam", betas=(0.9, 0.99, 0.1)), TypeError, r"betas must be a pair"),
    (dict(base="adam", eps=0.0), ValueError, "eps must be positive"),
    (dict(base=3), ValueError, "unknown base optimizer 3"),
    (dict(rho_sam=-0.1), ValueError, "rho_sam must be non-negative"),
])
def test_bad_common_settings_are_refused(kw, err, match):
    name = "sam+gam" if "rho_sam" in kw else "gam"
    with pytest.raises(err, match=match):
        optim.get(name, **kw)


@pytest.mark.parametrize("key", ["alpha", "beta"])
def test_gam_accel_weights_are_between_0_and_1(key):
    with pytest.raises(ValueError, match=rf"{key} must be in \[0, 1\] for gam_accel.*got 1.5"):
        optim.get("gam_accel", **{key: np.float32(1.5)})


@pytest.mark.parametrize("name,kw,match", [
    ("sam", dict(momentum=0.5), r"momentum=0.5 is used only with base='momentum'.*'sgd'"),
    ("gam", dict(base="adam", momentum=0.5), r"momentum=0.5 is used only with base='momentum'"),
    ("sgd", dict(betas=(0.9, 0.99)), r"betas=\(0.9, 0.99\) is used only with base='adam'"),
    ("gsam", dict(base="momentum", eps=1e-6), r"eps=1e-06 is used only with base='adam'"),
    ("gsam", dict(rho_min=0.01), r"rho_min=0.01 is used only with rho_schedule='lr'"),
    ("sam", dict(alpha=0.3), r"unknown hyper-parameter\(s\) \['alpha'\] for 'sam'"),
    ("gnp", dict(variant=3), "unknown variant 3; valid: paper, official"),
    ("gsam", dict(rho_schedule="cos"), "unknown rho_schedule 'cos'; valid: None, lr"),
    ("momentum", dict(rho_schedule="lr"),
     "rho_schedule='lr' would be ignored: 'momentum' has no rho"),
])
def test_keywords_that_would_be_ignored_or_are_unknown_are_errors(name, kw, match):
    with pytest.raises(ValueError, match=match):
        optim.get(name, **kw)


def test_an_optimizer_with_hyper_parameters_is_refused():
    with pytest.raises(ValueError, match="hyper-parameters go with an optimizer name"):
        optim.get(optim.get("sam"), rho=0.2)


# ---- bad input: schedules, checked on every step and over a run before it starts --------------
def test_a_decreasing_lr_that_goes_negative_is_an_error_naming_the_step_before_the_run():
    L = gt.landscapes.get("quadratic")
    for fast in (True, False):
        with pytest.raises(ValueError, match=r"lr schedule .* at step t=6: lr must be "
                                             r"non-negative.*got -0.0"):
            gt.run("sgd", L, [1.0, 1.0], 50, lr=lambda t: 0.1 - 0.02 * t, fast=fast)
    opt = optim.get("sgd", lr=lambda t: 0.1 - 0.02 * t)  # the first step is fine
    with pytest.raises(ValueError, match="at step t=6"):
        opt.check_schedules(10)
    state, theta = opt.init(np.ones(2)), np.ones(2)
    for _t in range(5):
        theta, state, _ = opt.update(theta, state, L)
    with pytest.raises(ValueError, match="at step t=6"):  # also when stepping by hand
        opt.update(theta, state, L)


@pytest.mark.parametrize("bad", [lambda t: float("nan") if t > 3 else 0.1,
                                 lambda t: np.inf if t == 2 else 0.1,
                                 lambda t: "0.1" if t == 4 else 0.1,
                                 lambda t: np.array([0.1, 0.1]) if t == 3 else 0.1])
def test_lr_schedules_giving_nan_inf_or_non_numbers_are_refused(bad):
    with pytest.raises((ValueError, TypeError), match=r"lr schedule .* at step t=\d"):
        gt.run("sam", "ridge", [0.1, 0.2], 8, lr=bad)


def test_a_negative_rho_schedule_is_refused_at_its_step():
    with pytest.raises(ValueError, match=r"rho schedule .* at step t=3: rho must be non-negative"):
        gt.run("gam", "ridge", [[0.1, 0.2]], 8, lr=0.01, rho=lambda t: 0.2 - 0.1 * t)


def test_lr_schedule_that_starts_at_zero_is_refused():
    with pytest.raises(ValueError, match=r"lr must be positive.*at step t=1"):
        optim.get("sgd", lr=lambda t: 0.0 * t)


@pytest.mark.parametrize("rho_min,match", [(-1.0, r"rho_min must be in \[0.0, 0.1\].*-1.0"),
                                           (0.2, r"rho_min must be in \[0.0, 0.1\].*0.2"),
                                           (np.nan, "rho_min must be .* and finite")])
def test_rho_min_outside_0_rho_is_refused(rho_min, match):
    with pytest.raises(ValueError, match=match):
        optim.get("gsam", lr=schedules.cosine(0.1, 20, 0.02), rho=0.1, rho_min=rho_min,
                  rho_schedule="lr")


def test_rho_proportional_to_a_plain_callable_lr_is_refused_its_range_is_unknown():
    with pytest.raises(TypeError, match="needs lr_max and lr_min"):
        optim.get("gsam", lr=lambda t: 0.1 / t, rho_schedule="lr")


@pytest.mark.parametrize("call,err,match", [
    (lambda: schedules.cosine(0.1, 0), ValueError, "total_steps must be an integer >= 1"),
    (lambda: schedules.cosine(0.1, 10.5), TypeError, "total_steps must be an integer"),
    (lambda: schedules.cosine(0.1, 10, v_min=0.2), ValueError, r"v_min must be <= 0.1"),
    (lambda: schedules.cosine(np.nan, 10), ValueError, "v0 must be finite"),
    (lambda: schedules.constant("a"), TypeError, "v must be a real number"),
    (lambda: schedules.inv_sqrt(np.inf), ValueError, "c must be finite"),
    (lambda: schedules.proportional(schedules.cosine(0.1, 5), -0.1), ValueError, "rho must be"),
    (lambda: schedules.Schedule(3, 1, 0, "x"), TypeError, "needs a callable"),
])
def test_schedule_constructors_validate_their_arguments(call, err, match):
    with pytest.raises(err, match=match):
        call()


def test_a_negative_cosine_start_names_v0():
    with pytest.raises(ValueError, match=r"cosine decays from v0 = -0.1 down to v_min"):
        schedules.cosine(-0.1, 10)
