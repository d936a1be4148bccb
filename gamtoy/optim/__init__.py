"""Optimizers = an estimator (direction) + a base optimizer (step) + schedules for lr and rho.

    >>> opt = gamtoy.optim.get("gam", lr=0.05, rho=0.1, alpha=0.3, base="sgd")
    >>> state = opt.init(theta)
    >>> theta, state, info = opt.update(theta, state, oracle)

Names: sgd, momentum, adam (plain gradient), sam, gnp, gsam, gam (Alg. 1, exact HVPs),
gam_accel (Alg. 2, four gradients), sam+gam and gsam+gam (GAM whose oracle-loss gradient is
SAM's / GSAM's direction). `base=` picks sgd (default), momentum or adam for any of them.
"""
from __future__ import annotations

from typing import NamedTuple

from ..validate import choice, real
from . import estimators, schedules
from .base import BASES, make_base
from .specs import SPECS, VARIANTS, Bound, Spec

XI = 1e-12

# name -> (estimator hyper-parameters with the papers' defaults, default base), from SPECS
DEFAULTS = {n: (dict(s.defaults), s.base) for n, s in SPECS.items()}
# gradient evaluations per step (an HVP counted as one gradient-sized pass), from SPECS
COST = {n: s.cost for n, s in SPECS.items()}
COMMON = {"lr", "xi", "base", "momentum", "betas", "eps", "rho_schedule", "rho_min"}
# keywords of one base optimizer only: a ValueError with any other base
_BASE_ONLY = {"momentum": "momentum", "betas": "adam", "eps": "adam"}


def names() -> list[str]:
    """The optimizer names `get` accepts."""
    return list(SPECS)


class State(NamedTuple):
    t: int
    base: object


class Optimizer:
    """A configured optimizer.

    `update(theta, state, oracle, diag=False) -> (theta, state, info)`.
    """

    def __init__(self, name, estimator, base, lr, rho, hyper):
        self.name, self.estimator, self.base = name, estimator, base
        self.lr, self.rho, self.hyper = lr, rho, hyper
        self.cost = SPECS[name].cost

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


def get(name: str | Optimizer, lr: float | schedules.Schedule | None = None,
        **hyper) -> Optimizer:
    """The optimizer `name` with the papers' defaults for every hyper-parameter not given.

    Common: lr (None: the spec's default, 0.1; a float or a schedule t -> lr), xi (1e-12, > 0:
    the normalisations' g/(|g|+xi)), base ('sgd' | 'momentum' | 'adam'), momentum (0.9, base
    'momentum' only), betas ((0.9, 0.999)) and eps (1e-8) (base 'adam' only), rho_schedule
    (None | 'lr': GSAM's rho proportional to lr, from rho down to rho_min; lr must then be a
    `schedules.Schedule`, whose vmax and vmin are lr_max and lr_min). Per name: rho, alpha,
    variant, rho_prime, beta, gamma, rho_sam, alpha_gsam (see `specs.SPECS`: defaults, their
    source and bounds). rho may also be a schedule. Numbers may be Python or NumPy real scalars
    (or 0-d arrays); bools, strings, NaN and inf are refused, and so is a keyword that would be
    ignored (momentum= with base 'sgd', ...). Schedules are checked at every step they are used
    (lr > 0, rho >= 0). An `Optimizer` is returned as it is (with no lr or hyper-parameter).
    """
    if isinstance(name, Optimizer):
        if hyper or lr is not None:
            raise ValueError("hyper-parameters go with an optimizer name, not an Optimizer")
        return name
    spec = _spec(name)
    hp = _own(spec, hyper)
    # xi > 0 keeps g/(|g| + xi) finite where g = 0 (a start at an exact minimum): xi = 0 is 0/0
    xi = real("xi", hyper.get("xi", XI), low=0.0, low_open=True)
    base_name = _base_name(spec, hyper)
    how = _schedule_kind(spec, hyper)
    lr = spec.lr if lr is None else lr
    lr_s = _lr_schedule(lr)
    base = make_base(base_name, momentum=hyper.get("momentum", 0.9),
                     betas=hyper.get("betas", (0.9, 0.999)), eps=hyper.get("eps", 1e-8))
    hp = spec.check(hp)
    if "variant" in hp:
        choice("variant", hp["variant"], spec.variants)
    rho_s = _rho_schedule(hp.get("rho", 0.0), how, lr_s, hyper.get("rho_min", 0.0))
    return Optimizer(spec.name, spec.bind(hp, xi), base, lr_s, rho_s, {"lr": lr, **hp, "xi": xi})


def _spec(name):
    if not isinstance(name, str) or name not in SPECS:
        raise ValueError(f"unknown optimizer {name!r}; valid names: {', '.join(names())}")
    return SPECS[name]


def _own(spec, hyper):
    """The spec's defaults overridden by `hyper`; a keyword neither the estimator's nor common
    is an error naming the valid ones."""
    unknown = set(hyper) - set(spec.defaults) - COMMON
    if unknown:
        valid = sorted(set(spec.defaults) | COMMON)
        raise ValueError(f"unknown hyper-parameter(s) {sorted(unknown)} for {spec.name!r}; "
                         f"valid: {', '.join(valid)}")
    return {**spec.defaults, **{k: v for k, v in hyper.items() if k in spec.defaults}}


def _base_name(spec, hyper):
    """The base optimizer's name; a keyword of another base (momentum= with 'sgd') is an error."""
    base_name = hyper.get("base", spec.base)
    if not isinstance(base_name, str) or base_name not in BASES:
        raise ValueError(f"unknown base optimizer {base_name!r}; valid: {', '.join(BASES)}")
    for k, only in _BASE_ONLY.items():
        if k in hyper and base_name != only:
            raise ValueError(f"{k}={hyper[k]!r} is used only with base={only!r}, but base is "
                             f"{base_name!r}: drop it or pass base={only!r}")
    return base_name


def _schedule_kind(spec, hyper):
    """rho_schedule (None or 'lr'), refused where it or rho_min would be ignored."""
    how = hyper.get("rho_schedule")
    choice("rho_schedule", how, (None, "lr"))
    if how is not None and "rho" not in spec.defaults:
        raise ValueError(f"rho_schedule={how!r} would be ignored: {spec.name!r} has no rho; "
                         "drop it")
    if "rho_min" in hyper and how != "lr":
        raise ValueError(f"rho_min={hyper['rho_min']!r} is used only with rho_schedule='lr'")
    return how


def _lr_schedule(lr):
    """lr as a checked schedule: > 0 at the first step, then >= 0 (a cosine schedule ends at 0),
    finite, at every step."""
    if not callable(lr):
        real("lr", lr, low=0.0, low_open=True)
    lr_s = schedules.checked(lr, "lr", low=0.0)
    try:
        real("lr", lr_s(1), low=0.0, low_open=True)
    except ValueError as e:
        raise ValueError(f"{e} (the lr schedule {lr_s!r} at step t=1)") from None
    return lr_s


def _rho_schedule(rho, how, lr_s, rho_min):
    if how is None:
        s = schedules.checked(rho, "rho", low=0.0)
        s(1)
        return s
    if callable(rho):
        raise TypeError("rho_schedule='lr' makes rho from lr: pass rho as a number (rho_max)")
    return schedules.checked(schedules.proportional(lr_s, rho, rho_min), "rho", low=0.0)


__all__ = ["get", "names", "Optimizer", "State", "estimators", "schedules", "specs", "BASES",
           "COST", "DEFAULTS", "SPECS", "VARIANTS", "XI", "Spec", "Bound"]
