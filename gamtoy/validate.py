"""One validation for hyper-parameters everywhere (core, MLP, torch, CLI): a clear error that names
the argument, the value and what is allowed. Python and NumPy real scalars (and 0-d arrays) pass;
bools, strings, NaN and inf do not.
"""
import math
import numbers

import numpy as np


def real(name, value, low=None, high=None, low_open=False, high_open=False, allow_none=False):
    """`value` as a finite Python float in [low, high] (open ends as asked), or a clear error."""
    if value is None and allow_none:
        return None
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating,
                                                                      np.integer)):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    lo_bad = low is not None and (v <= low if low_open else v < low)
    hi_bad = high is not None and (v >= high if high_open else v > high)
    if lo_bad or hi_bad:
        lo = "" if low is None else f"{low} {'<' if low_open else '<='} "
        hi = "" if high is None else f" {'<' if high_open else '<='} {high}"
        raise ValueError(f"{name} must satisfy {lo}{name}{hi}, got {v}")
    return v


def positive_int(name, value, low=1):
    """`value` as a Python int >= low, or a clear error (bools and non-integral floats refused)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be an integer >= {low}, got {value!r} ({type(value).__name__})")
    if value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value}")
    return int(value)
