"""Optimizers = an estimator (direction) + a base optimizer (step) + schedules for lr and rho.

    >>> opt = gamtoy.optim.get("gam", lr=0.05, rho=0.1, alpha=0.3, base="sgd")
    >>> state = opt.init(theta)
    >>> theta, state, info = opt.update(theta, state, oracle)

Names: sgd, momentum, adam (plain gradient), sam, gnp, gsam, gam (Alg. 1, exact HVPs),
gam_accel (Alg. 2, four gradients), sam+gam and gsam+gam (GAM whose oracle-loss gradient is
SAM's / GSAM's direction). `base=` picks sgd (default), momentum or adam for any of them.
"""
from __future__ import annotations

import functools
from typing import NamedTuple

from . import estimators, schedules
from .base import BASES, make_base
from .schedules import as_schedule
from ..validate import choice, real

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


def names() -> list[str]:
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

    def check_schedules(self, steps):
        """Evaluate lr and rho at t = 1..steps: a ValueError naming the first bad step now,
        before a run of `steps` steps starts (they are also checked at every step used)."""
        self.lr.check(steps)
        self.rho.check(steps)
        return self

    def direction(self, oracle, theta, t=1, diag=False):
        """The estimator's direction at step t (t counts from 1), and its info dict."""
        return self.estimator(oracle, theta, self.rho(t), diag=diag)

    def update(self, theta, state, oracle, diag=False):
        t = state.t + 1
        d, info = self.direction(oracle, theta, t, diag)
        delta, bstate = self.base.step(d, state.base, self.lr(t))
        info["d"] = d
        return theta + delta, State(t, bstate), info


# estimator hyper-parameters: (low, high, high_open, allow_none); every one also refuses bools,
# strings, NaN and inf (gamtoy.validate.real)
_RANGES = {"rho": (0.0, None, False, False), "alpha": (0.0, None, False, False),
           "rho_prime": (0.0, None, False, False), "beta": (0.0, None, False, False),
           "gamma": (0.0, None, False, False), "rho_sam": (0.0, None, False, True),
           "alpha_gsam": (0.0, None, False, False)}


def get(name: str | Optimizer, lr: float | schedules.Schedule = 0.1, **hyper) -> Optimizer:
    """The optimizer `name` with the papers' defaults for every hyper-parameter not given.

    Common: lr (float or schedule t -> lr), xi (1e-12), base ('sgd' | 'momentum' | 'adam'),
    momentum (0.9, base 'momentum' only), betas ((0.9, 0.999)) and eps (1e-8) (base 'adam' only),
    rho_schedule (None | 'lr': GSAM's rho proportional to lr, from rho down to rho_min; lr must
    then be a `schedules.Schedule`, whose vmax and vmin are lr_max and lr_min). Per name: rho,
    alpha, variant, rho_prime, beta, gamma, rho_sam, alpha_gsam (see DEFAULTS). rho may also be a
    schedule. Numbers may be Python or NumPy real scalars (or 0-d arrays); bools, strings, NaN and
    inf are refused, and so is a keyword that would be ignored (momentum= with base 'sgd', ...).
    Schedules are checked at every step they are used (lr > 0, rho >= 0).
    """
    if isinstance(name, Optimizer):
        if hyper or not (isinstance(lr, float) and lr == 0.1):
            raise ValueError("hyper-parameters go with an optimizer name, not an Optimizer")
        return name
    if not isinstance(name, str) or name not in DEFAULTS:
        raise ValueError(f"unknown optimizer {name!r}; valid names: {', '.join(names())}")
    own, default_base = DEFAULTS[name]
    unknown = set(hyper) - set(own) - COMMON
    if unknown:
        valid = sorted(set(own) | COMMON)
        raise ValueError(f"unknown hyper-parameter(s) {sorted(unknown)} for {name!r}; "
                         f"valid: {', '.join(valid)}")
    hp = {**own, **{k: v for k, v in hyper.items() if k in own}}
    xi = real("xi", hyper.get("xi", XI), low=0.0)
    base_name = hyper.get("base", default_base)
    if not isinstance(base_name, str) or base_name not in BASES:
        raise ValueError(f"unknown base optimizer {base_name!r}; valid: {', '.join(BASES)}")
    for k, only in (("momentum", "momentum"), ("betas", "adam"), ("eps", "adam")):
        if k in hyper and base_name != only:
            raise ValueError(f"{k}={hyper[k]!r} is used only with base={only!r}, but base is "
                             f"{base_name!r}: drop it or pass base={only!r}")
    how = hyper.get("rho_schedule")
    choice("rho_schedule", how, (None, "lr"))
    if how is not None and "rho" not in DEFAULTS[name][0]:
        raise ValueError(f"rho_schedule={how!r} would be ignored: {name!r} has no rho; drop it")
    if "rho_min" in hyper and how != "lr":
        raise ValueError(f"rho_min={hyper['rho_min']!r} is used only with rho_schedule='lr'")
    # lr > 0 at the first step, then >= 0 (a cosine schedule ends at 0), finite, at every step
    if not callable(lr):
        real("lr", lr, low=0.0, low_open=True)
    lr_s = schedules.checked(lr, "lr", low=0.0)
    try:
        real("lr", lr_s(1), low=0.0, low_open=True)
    except ValueError as e:
        raise ValueError(f"{e} (the lr schedule {lr_s!r} at step t=1)") from None
    base = make_base(base_name, momentum=hyper.get("momentum", 0.9),
                     betas=hyper.get("betas", (0.9, 0.999)), eps=hyper.get("eps", 1e-8))
    for k, (lo, hi, hi_open, none_ok) in _RANGES.items():
        if k in hp and not (k == "rho" and callable(hp[k])):
            hp[k] = real(k, hp[k], low=lo, high=hi, high_open=hi_open, allow_none=none_ok)
    for k in ("alpha", "beta"):
        if name == "gam_accel" and hp[k] > 1:
            raise ValueError(f"{k} must be in [0, 1] for gam_accel (GAM Eq. 44), got {hp[k]}")
    if "variant" in hp:
        choice("variant", hp["variant"], VARIANTS)
    rho_s = _rho_schedule(hp.get("rho", 0.0), how if "rho" in own else None, lr_s,
                          hyper.get("rho_min", 0.0))
    est = _estimator(name, hp, xi)
    return Optimizer(name, est, base, lr_s, rho_s, {"lr": lr, **hp, "xi": xi})


def _rho_schedule(rho, how, lr_s, rho_min):
    if how is None:
        s = schedules.checked(rho, "rho", low=0.0)
        s(1)
        return s
    if callable(rho):
        raise TypeError("rho_schedule='lr' makes rho from lr: pass rho as a number (rho_max)")
    return schedules.checked(schedules.proportional(lr_s, rho, rho_min), "rho", low=0.0)


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
