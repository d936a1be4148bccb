"""Optimizers = an estimator (direction) + a base optimizer (step) + schedules for lr and rho.

    >>> opt = gamtoy.optim.get("gam", lr=0.05, rho=0.1, alpha=0.3, base="sgd")
    >>> state = opt.init(theta)
    >>> theta, state, info = opt.update(theta, state, oracle)

Names: sgd, momentum, adam (plain gradient), sam, gnp, gsam, gam (Alg. 1, exact HVPs),
gam_accel (Alg. 2, four gradients), sam+gam and gsam+gam (GAM whose oracle-loss gradient is
SAM's / GSAM's direction). `base=` picks sgd (default), momentum or adam for any of them.
"""
import functools
import math
from typing import NamedTuple

from . import estimators, schedules
from .base import BASES, make_base
from .schedules import as_schedule

XI = 1e-12

# name -> (estimator hyper-parameters with the papers' defaults, default base); the source of
# each number is in the README's defaults table (one stated regime per optimizer)
DEFAULTS = {
    "sgd": ({}, "sgd"),
    "momentum": ({}, "momentum"),
    "adam": ({}, "adam"),
    "sam": ({"rho": 0.05}, "sgd"),
    "gnp": ({"rho": 0.1, "alpha": 0.8, "variant": "paper"}, "sgd"),
    "gsam": ({"rho": 0.04, "alpha": 0.01}, "sgd"),
    "gam": ({"rho": 0.1, "alpha": 0.3}, "sgd"),
    "gam_accel": ({"rho": 0.2, "rho_prime": 0.02, "alpha": 0.6, "beta": 0.5, "gamma": 0.03,
                   "variant": "paper"}, "sgd"),
    "sam+gam": ({"rho": 0.1, "alpha": 0.3, "rho_sam": None}, "sgd"),
    "gsam+gam": ({"rho": 0.1, "alpha": 0.3, "rho_sam": None, "alpha_gsam": 0.01}, "sgd"),
}
# gradient evaluations per step (an HVP counted as one gradient-sized pass)
COST = {"sgd": 1, "momentum": 1, "adam": 1, "sam": 2, "gnp": 2, "gsam": 2, "gam": 4,
        "gam_accel": 4, "sam+gam": 5, "gsam+gam": 5}
VARIANTS = ("paper", "official")
COMMON = {"lr", "xi", "base", "momentum", "betas", "eps", "rho_schedule", "rho_min"}


def names():
    """The optimizer names `get` accepts."""
    return list(DEFAULTS)


class State(NamedTuple):
    t: int
    base: object


class Optimizer:
    """A configured optimizer. `update(theta, state, oracle, diag=False) -> (theta, state, info)`."""

    def __init__(self, name, estimator, base, lr, rho, hyper):
        self.name, self.estimator, self.base = name, estimator, base
        self.lr, self.rho, self.hyper = lr, rho, hyper
        self.cost = COST[name]

    def __repr__(self):
        hp = ", ".join(f"{k}={v}" for k, v in self.hyper.items())
        return f"Optimizer({self.name!r}, base={self.base.name!r}, {hp})"

    def init(self, theta):
        return State(0, self.base.init(theta))

    def direction(self, oracle, theta, t=1, diag=False):
        """The estimator's direction at step t (t counts from 1), and its info dict."""
        return self.estimator(oracle, theta, self.rho(t), diag=diag)

    def update(self, theta, state, oracle, diag=False):
        t = state.t + 1
        d, info = self.direction(oracle, theta, t, diag)
        delta, bstate = self.base.step(d, state.base, self.lr(t))
        info["d"] = d
        return theta + delta, State(t, bstate), info


def _check_nonneg(name, value):
    if isinstance(value, (int, float)) and (math.isnan(value) or value < 0):
        raise ValueError(f"{name} must be non-negative, got {value}")


def get(name, lr=0.1, **hyper):
    """The optimizer `name` with the papers' defaults for every hyper-parameter not given.

    Common: lr (float or schedule t -> lr), xi (1e-12), base ('sgd' | 'momentum' | 'adam'),
    momentum (0.9), betas ((0.9, 0.999)), eps (1e-8), rho_schedule (None | 'lr': GSAM's rho
    proportional to lr, from rho down to rho_min). Per name: rho, alpha, variant, rho_prime, beta,
    gamma, rho_sam, alpha_gsam (see DEFAULTS). rho may also be a schedule.
    """
    if isinstance(name, Optimizer):
        return name
    if name not in DEFAULTS:
        raise ValueError(f"unknown optimizer {name!r}; valid names: {', '.join(names())}")
    own, default_base = DEFAULTS[name]
    unknown = set(hyper) - set(own) - COMMON
    if unknown:
        valid = sorted(set(own) | COMMON)
        raise ValueError(f"unknown hyper-parameter(s) {sorted(unknown)} for {name!r}; "
                         f"valid: {', '.join(valid)}")
    hp = {**own, **{k: v for k, v in hyper.items() if k in own}}
    xi = float(hyper.get("xi", XI))
    if not xi >= 0:
        raise ValueError(f"xi must be non-negative, got {xi}")
    lr_s = _lr_schedule(lr)
    base = make_base(hyper.get("base", default_base), momentum=hyper.get("momentum", 0.9),
                     betas=tuple(hyper.get("betas", (0.9, 0.999))), eps=hyper.get("eps", 1e-8))
    for k in ("rho", "alpha", "rho_prime", "beta", "gamma", "rho_sam", "alpha_gsam"):
        _check_nonneg(k, hp.get(k))
    for k in ("alpha", "beta"):
        if name == "gam_accel" and hp[k] > 1:
            raise ValueError(f"gam_accel needs 0 <= {k} <= 1 (GAM Eq. 44), got {hp[k]}")
    if hp.get("variant", "paper") not in VARIANTS:
        raise ValueError(f"unknown variant {hp['variant']!r}; valid: {', '.join(VARIANTS)}")
    rho_s = _rho_schedule(hp.get("rho", 0.0), hyper.get("rho_schedule"), lr_s,
                          hyper.get("rho_min", 0.0))
    est = _estimator(name, hp, xi)
    return Optimizer(name, est, base, lr_s, rho_s, {"lr": lr, **hp, "xi": xi})


def _lr_schedule(lr):
    s = as_schedule(lr)
    first = s(1)
    if not (isinstance(first, (int, float)) and first > 0 and math.isfinite(first)):
        raise ValueError(f"lr must be positive and finite, got {first}")
    return s


def _rho_schedule(rho, how, lr_s, rho_min):
    if how is None:
        s = as_schedule(rho)
        _check_nonneg("rho", s(1))
        return s
    if how == "lr":
        return schedules.proportional(lr_s, float(rho), float(rho_min))
    raise ValueError(f"unknown rho_schedule {how!r}; valid: None, 'lr'")


def _estimator(name, hp, xi):
    """A function (oracle, theta, rho_t, diag) -> (d, info) for the named optimizer."""
    E = estimators
    if name in ("sgd", "momentum", "adam"):
        return lambda o, th, rho, diag=False: E.gradient(o, th, xi, diag)
    if name == "sam":
        return lambda o, th, rho, diag=False: E.sam(o, th, rho, xi, diag)
    if name == "gnp":
        return lambda o, th, rho, diag=False: E.gnp(o, th, rho, hp["alpha"], xi, diag, hp["variant"])
    if name == "gsam":
        return lambda o, th, rho, diag=False: E.gsam(o, th, rho, hp["alpha"], xi, diag)
    if name == "gam":
        return lambda o, th, rho, diag=False: E.gam(o, th, rho, hp["alpha"], xi, diag)
    if name == "gam_accel":
        return lambda o, th, rho, diag=False: E.gam_accel(
            o, th, rho, hp["rho_prime"], hp["alpha"], hp["beta"], hp["gamma"], xi, diag,
            hp["variant"])
    # sam+gam / gsam+gam: GAM's h_loss is SAM's / GSAM's direction (GAM Sec. 4.3, "oracle loss")
    def gam_with_inner(o, th, rho, diag=False):
        r_sam = rho if hp["rho_sam"] is None else hp["rho_sam"]
        if name == "sam+gam":
            inner = functools.partial(E.sam, rho=r_sam)
        else:
            inner = functools.partial(E.gsam, rho=r_sam, alpha=hp["alpha_gsam"])
        return E.gam(o, th, rho, hp["alpha"], xi, diag, inner=inner)
    return gam_with_inner


__all__ = ["get", "names", "Optimizer", "State", "estimators", "schedules", "BASES", "COST"]
