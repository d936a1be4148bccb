"""Vectors the algorithms act on: NumPy arrays (norms over the last axis) or `Vec2`.

Every estimator in `gamtoy.optim` is written with `+ - *  /`, `norm` and `dot` only, so the
same code moves a batch of 2D points `(..., 2)`, one flat MLP parameter vector `(n,)`, or a
single 2D point held as two Python floats (`Vec2`, ~20x less per-call overhead than NumPy on
one point; used for live widgets). Norms are per point: `norm(v)` has shape `(..., 1)` for
arrays so it broadcasts against `v`.
"""
import math

import numpy as np


class Vec2:
    """A 2D vector of two Python floats with just the arithmetic the estimators use."""

    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __add__(self, o):
        return Vec2(self.x + o.x, self.y + o.y)

    def __sub__(self, o):
        return Vec2(self.x - o.x, self.y - o.y)

    def __mul__(self, s):
        return Vec2(self.x * s, self.y * s)

    __rmul__ = __mul__

    def __truediv__(self, s):
        return Vec2(self.x / s, self.y / s)

    def __neg__(self):
        return Vec2(-self.x, -self.y)

    def __iter__(self):
        yield self.x
        yield self.y

    def __repr__(self):
        return f"Vec2({self.x!r}, {self.y!r})"

    def array(self):
        return np.array([self.x, self.y])


def norm(v):
    """Euclidean norm per point: a float for `Vec2`, shape `(..., 1)` for arrays."""
    if type(v) is Vec2:
        return math.sqrt(v.x * v.x + v.y * v.y)
    return np.sqrt(np.sum(v * v, axis=-1, keepdims=True))


def dot(u, v):
    """Inner product per point: a float for `Vec2`, shape `(..., 1)` for arrays."""
    if type(u) is Vec2:
        return u.x * v.x + u.y * v.y
    return np.sum(u * v, axis=-1, keepdims=True)


def unit(v, xi):
    """v / (|v| + xi): the normalisation every paper uses (xi keeps v = 0 finite)."""
    return v / (norm(v) + xi)


def decompose(v, onto, xi):
    """Split v into parts parallel and orthogonal to `onto` (GSAM Alg. 1 step 3)."""
    e = unit(onto, xi)
    par = e * dot(v, e)
    return par, v - par


def as_array(v):
    """A NumPy array for a `Vec2` (or an array unchanged)."""
    return v.array() if type(v) is Vec2 else v


def squeeze(s):
    """A per-point scalar (`(..., 1)` array or float) as `(...)` / float."""
    if isinstance(s, float):
        return s
    s = np.asarray(s)
    return s[..., 0] if s.ndim else s
