"""Schedules for lr and rho: callables t -> value, t = 1, 2, ... (the papers count from 1).

`checked(s, name, ...)` wraps a schedule so that every value it gives is checked when it is used
(an lr that reaches 0 or goes negative, a negative rho, NaN: a ValueError naming the step), and
`Schedule.check(steps)` checks a whole run before it starts.
"""
import math
import numbers

import numpy as np

from ..validate import positive_int, real


class Schedule:
    """A named schedule `fn(t)` with its largest and smallest values (for GSAM's rho ~ lr)."""

    range_known = True  # vmax and vmin are the schedule's true extremes

    def __init__(self, fn, vmax, vmin, name):
        if not callable(fn):
            raise TypeError(f"a schedule needs a callable t -> value, got {fn!r}")
        self.fn, self.vmax, self.vmin, self.name = fn, vmax, vmin, name

    def __call__(self, t):
        return self.fn(t)

    def __repr__(self):
        return self.name

    def check(self, steps):
        """Evaluate steps t = 1..steps (raising where a checked schedule is out of range)."""
        for t in range(1, positive_int("steps", steps, low=0) + 1):
            self(t)
        return self


class Constant(Schedule):
    """v at every step (checked once, when made)."""

    def __init__(self, v):
        super().__init__(lambda t: v, v, v, f"constant({v})")
        self.value = v

    def check(self, steps):
        return self


class _Checked(Schedule):
    """A schedule whose every value is checked to lie in the range allowed for `what`."""

    def __init__(self, inner, what, low, low_open):
        super().__init__(inner.fn, inner.vmax, inner.vmin, inner.name)
        self.range_known = inner.range_known
        self.inner, self.what, self.low, self.low_open = inner, what, low, low_open

    def __call__(self, t):
        v = self.fn(t)
        if isinstance(v, float) and math.isfinite(v) and (v > self.low if self.low_open
                                                          else v >= self.low):
            return v  # the common case, fast
        try:
            return real(self.what, v, low=self.low, low_open=self.low_open)
        except (TypeError, ValueError) as e:
            raise type(e)(f"the {self.what} schedule {self.name} at step t={t}: {e}") from None


def checked(s, what, low=0.0, low_open=False):
    """`s` (a number, Schedule or callable) as a schedule whose values are checked on use."""
    s = as_schedule(s, what)
    if isinstance(s, Constant):
        real(what, s.value, low=low, low_open=low_open)
        return s
    if isinstance(s, _Checked) and (s.what, s.low, s.low_open) == (what, low, low_open):
        return s
    return _Checked(s, what, low, low_open)


def constant(v):
    """v at every step."""
    return Constant(real("v", v))


def cosine(v0, total_steps, v_min=0.0):
    """Cosine decay from v0 (t = 1) to v_min (t = total_steps)."""
    v0 = real("v0", v0)
    try:
        v_min = real("v_min", v_min, high=v0)
    except ValueError as e:
        raise ValueError(f"{e}: cosine decays from v0 = {v0} down to v_min") from None
    total_steps = positive_int("total_steps", total_steps)
    T = max(total_steps - 1, 1)

    def fn(t):
        return v_min + (v0 - v_min) * 0.5 * (1 + math.cos(math.pi * min(t - 1, T) / T))
    return Schedule(fn, v0, v_min, f"cosine({v0}, {total_steps}, {v_min})")


def inv_sqrt(c):
    """c / sqrt(t): the lr and rho of GAM Thm. 4.4 and GSAM Thm. 5.1."""
    c = real("c", c)
    return Schedule(lambda t: c / math.sqrt(t), c, 0.0, f"inv_sqrt({c})")


def proportional(lr, rho_max, rho_min=0.0):
    """GSAM Alg. 1 step 0: rho_t = rho_min + (rho_max - rho_min)(lr_t - lr_min)/(lr_max - lr_min).

    lr_max and lr_min are the lr schedule's `vmax` and `vmin` (a `Schedule` made by `cosine`,
    `inv_sqrt`, `constant` or `Schedule(fn, vmax, vmin, name)`); a plain callable says neither, so
    it is refused. A constant lr gives a constant rho = rho_max.
    """
    rho_max = real("rho", rho_max, low=0.0)
    rho_min = real("rho_min", rho_min, low=0.0, high=rho_max)
    if isinstance(lr, numbers.Real) or (isinstance(lr, np.ndarray) and lr.ndim == 0):
        return constant(rho_max)
    if not isinstance(lr, Schedule) or not lr.range_known:
        raise TypeError(
            f"rho proportional to lr (GSAM Alg. 1) needs lr_max and lr_min: pass lr as a "
            f"gamtoy.optim.schedules.Schedule (cosine, inv_sqrt, constant or Schedule(fn, vmax, "
            f"vmin, name)), not the plain callable {getattr(lr, 'fn', lr)!r}")
    lr_max, lr_min = real("lr.vmax", lr.vmax), real("lr.vmin", lr.vmin, high=lr.vmax)
    span = lr_max - lr_min
    if span <= 0:
        return constant(rho_max)

    def fn(t):
        return rho_min + (rho_max - rho_min) * (lr(t) - lr_min) / span
    return Schedule(fn, rho_max, rho_min, f"proportional({lr!r}, {rho_max}, {rho_min})")


def as_schedule(v, what="value"):
    """A number as a constant schedule; a schedule (or any callable t -> value) unchanged."""
    if isinstance(v, Schedule):
        return v
    if callable(v):
        first = real(f"{what} schedule at t=1", v(1))
        s = Schedule(v, first, 0.0, getattr(v, "__name__", "schedule"))
        s.range_known = False  # vmin = 0 is a guess: proportional() refuses it
        return s
    return Constant(real(what, v))
