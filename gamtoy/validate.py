"""One validation for hyper-parameters everywhere (core, MLP, torch, CLI): a clear error that names
the argument, the value and what is allowed. Python and NumPy real scalars (and 0-d arrays) pass;
bools, strings, NaN and inf do not.
"""
import math
import numbers

import numpy as np


def _allowed(name, low, high, low_open, high_open):
    """'non-negative', 'positive', 'in [0, 1)', ... for the messages."""
    if high is None and low == 0:
        return "positive" if low_open else "non-negative"
    if high is None and low is None:
        return "a real number"
    if high is None:
        return f"{'>' if low_open else '>='} {low}"
    if low is None:
        return f"{'<' if high_open else '<='} {high}"
    return f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"


def real(name, value, low=None, high=None, low_open=False, high_open=False, allow_none=False):
    """`value` as a finite Python float in [low, high] (open ends as asked), or a clear error:
    TypeError for what is not a real number (bools, strings, arrays of size > 1, None unless
    allow_none), ValueError for NaN, inf and values out of range; both name the argument, the
    value and what is allowed."""
    if value is None and allow_none:
        return None
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    allowed = _allowed(name, low, high, low_open, high_open)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating,
                                                                      np.integer)):
        none = " or None" if allow_none else ""
        what = "" if allowed == "a real number" else f" ({allowed})"
        raise TypeError(f"{name} must be a real number{what}{none}, got {value!r} "
                        f"({type(value).__name__})")
    v = float(value)
    if not math.isfinite(v):
        if low is None and high is None:
            raise ValueError(f"{name} must be finite, got {v}")
        raise ValueError(f"{name} must be {allowed} and finite, got {v}")
    lo_bad = low is not None and (v <= low if low_open else v < low)
    hi_bad = high is not None and (v >= high if high_open else v > high)
    if lo_bad or hi_bad:
        lo = "" if low is None else f"{low} {'<' if low_open else '<='} "
        hi = "" if high is None else f" {'<' if high_open else '<='} {high}"
        raise ValueError(f"{name} must be {allowed} (must satisfy {lo}{name}{hi}), got {v}")
    return v


def choice(name, value, options):
    """`value` if it is one of `options` (strings or None), else a ValueError listing them."""
    if not any(value is o or (isinstance(value, str) and value == o) for o in options):
        raise ValueError(f"unknown {name} {value!r}; valid: "
                         f"{', '.join(repr(o) if o is None else str(o) for o in options)}")
    return value


def positive_int(name, value, low=1):
    """`value` as a Python int >= low, or a clear error (bools and non-integral floats refused)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be an integer >= {low}, got {value!r} "
                        f"({type(value).__name__})")
    if value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value}")
    return int(value)
