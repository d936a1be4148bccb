"""Schedules for lr and rho: callables t -> value, t = 1, 2, ... (the papers count from 1)."""
import math


class Schedule:
    """A named schedule `fn(t)` with its largest and smallest values (for GSAM's rho ~ lr)."""

    def __init__(self, fn, vmax, vmin, name):
        self.fn, self.vmax, self.vmin, self.name = fn, vmax, vmin, name

    def __call__(self, t):
        return self.fn(t)

    def __repr__(self):
        return self.name


def constant(v):
    """v at every step."""
    return Schedule(lambda t: v, v, v, f"constant({v})")


def cosine(v0, total_steps, v_min=0.0):
    """Cosine decay from v0 (t = 1) to v_min (t = total_steps)."""
    T = max(int(total_steps) - 1, 1)
    fn = lambda t: v_min + (v0 - v_min) * 0.5 * (1 + math.cos(math.pi * min(t - 1, T) / T))
    return Schedule(fn, v0, v_min, f"cosine({v0}, {total_steps}, {v_min})")


def inv_sqrt(c):
    """c / sqrt(t): the lr and rho of GAM Thm. 4.4 and GSAM Thm. 5.1."""
    return Schedule(lambda t: c / math.sqrt(t), c, 0.0, f"inv_sqrt({c})")


def proportional(lr, rho_max, rho_min=0.0):
    """GSAM Alg. 1 step 0: rho_t = rho_min + (rho_max - rho_min)(lr_t - lr_min)/(lr_max - lr_min)."""
    lr = as_schedule(lr)
    span = lr.vmax - lr.vmin
    if span <= 0:
        return constant(rho_max)
    fn = lambda t: rho_min + (rho_max - rho_min) * (lr(t) - lr.vmin) / span
    return Schedule(fn, rho_max, rho_min, f"proportional({lr!r}, {rho_max}, {rho_min})")


def as_schedule(v):
    """A number as a constant schedule; a schedule (or any callable t -> value) unchanged."""
    if isinstance(v, Schedule):
        return v
    if callable(v):
        first = float(v(1))
        return Schedule(v, first, 0.0, getattr(v, "__name__", "schedule"))
    return constant(float(v))
