"""Bad input to `gamtoy.optim` (and `gamtoy.validate`): every one a clear error naming the
argument, the value and what is allowed, before any work; good NumPy scalars accepted. Also
GSAM's rho proportional to lr against a hand computation (GSAM Alg. 1, lr_min > 0)."""
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

import gamtoy as gt
from gamtoy import optim, validate
from gamtoy.optim import schedules

RHO_NAMES = ["sam", "gnp", "gsam", "gam", "gam_accel", "sam+gam", "gsam+gam"]


# ---- the one validator -----------------------------------------------------------------------
@pytest.mark.parametrize("value", [0.1, 1, np.float32(0.1), np.float64(0.1), np.int64(2),
                                   np.array(0.25), np.array(3, dtype=np.int8)])
def test_real_accepts_python_and_numpy_real_scalars_and_0d_arrays(value):
    v = validate.real("x", value, low=0.0)
    assert type(v) is float and v == float(np.asarray(value))


@pytest.mark.parametrize("value,err,match", [
    (True, TypeError, r"x must be a real number.*got True \(bool\)"),
    (np.bool_(False), TypeError, "x must be a real number"),
    ("0.1", TypeError, r"got '0.1' \(str\)"),
    (None, TypeError, "got None"),
    (np.array([0.1, 0.2]), TypeError, "x must be a real number"),
    (1 + 2j, TypeError, "complex"),
    (float("nan"), ValueError, "x must be non-negative and finite, got nan"),
    (float("inf"), ValueError, "x must be non-negative and finite, got inf"),
    (np.float32(-1), ValueError, r"x must be non-negative \(must satisfy 0.0 <= x\), got -1.0"),
])
def test_real_refuses_bools_strings_nan_inf_and_out_of_range(value, err, match):
    with pytest.raises(err, match=match):
        validate.real("x", value, low=0.0)


def test_positive_int_and_choice():
    assert validate.positive_int("n", np.int32(3)) == 3
    for bad, err in ((2.5, TypeError), (True, TypeError), (0, ValueError), ("3", TypeError)):
        with pytest.raises(err, match="n must be an integer >= 1"):
            validate.positive_int("n", bad)
    with pytest.raises(ValueError, match="unknown mode 'x'; valid: a, b"):
        validate.choice("mode", "x", ("a", "b"))


# ---- hyper-parameters of optim.get -------------------------------------------------------------
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
    (dict(base="momentum", momentum=np.float32(1.0)), ValueError, r"momentum must be in \[0.0, 1.0\)"),
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
    ("momentum", dict(rho_schedule="lr"), "rho_schedule='lr' would be ignored: 'momentum' has no rho"),
])
def test_keywords_that_would_be_ignored_or_are_unknown_are_errors(name, kw, match):
    with pytest.raises(ValueError, match=match):
        optim.get(name, **kw)


def test_an_optimizer_with_hyper_parameters_is_refused():
    with pytest.raises(ValueError, match="hyper-parameters go with an optimizer name"):
        optim.get(optim.get("sam"), rho=0.2)


# ---- schedules, checked on every step and over a run before it starts --------------------------
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
    for t in range(5):
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


@pytest.mark.parametrize("box,match", [
    (5, "box must be \\(lo, hi\\)"), (((-5, -5, -5), (5, 5, 5)), "box must be \\(lo, hi\\)"),
    (((3, 3), (-3, -3)), "lo < hi in x and y"), (((np.nan, -5), (5, 5)), "lo < hi in x and y"),
    ("ab", "box must be")])
def test_a_bad_box_is_refused(box, match):
    # box=5 was a raw 'int' object is not subscriptable; a (3,) box ran, ignoring the third value
    with pytest.raises(ValueError, match=match):
        gt.run("sgd", "himmelblau", np.array([[0.5, 0.5]]), 3, box=box)


def test_a_negative_cosine_start_names_v0():
    with pytest.raises(ValueError, match=r"cosine decays from v0 = -0.1 down to v_min"):
        schedules.cosine(-0.1, 10)
