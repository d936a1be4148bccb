"""optim.specs: each record's defaults are what `optim.get` yields, its bounds are what `get`
refuses, and the directions `get` builds from the table equal the estimators called by hand."""
import dataclasses
import functools

import numpy as np
import pytest
from numpy.testing import assert_allclose

import gamtoy.landscapes as gl
from gamtoy import optim
from gamtoy.optim import estimators as est
from gamtoy.optim.specs import NONNEG, SPECS, Bound

NAMES = optim.names()


# ---- the records are the defaults ----------------------------------------------------------
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
