"""Vectors the algorithms act on: NumPy arrays (norms over the last axis), `Vec2` or `XY`.

Every estimator in `gamtoy.optim` is written with `+ - *  /`, `norm` and `dot` only, so the
same code moves a batch of 2D points `(..., 2)`, one flat MLP parameter vector `(n,)`, a
single 2D point held as two Python floats (`Vec2`: no NumPy per-call overhead on one point;
used for live widgets), or a batch of 2D points held as two contiguous arrays (`XY`, structure
of arrays: `sqrt(x*x + y*y)` on two contiguous arrays, not a norm over the last axis of an
`(N, 2)` array; used by `gamtoy.run`). Norms are per point:
`norm(v)` has shape `(..., 1)` for arrays and `XY` so it broadcasts against `v`.
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


class XY:
    """A batch of 2D vectors as two arrays `x`, `y` of the batch shape (structure of arrays).

    The arithmetic the estimators and base optimizers use, component by component: `+ -` with
    another `XY` or a number, `* /` with a number, a per-point scalar (shape `(..., 1)`, as
    `norm`/`dot` return) or another `XY`; NumPy ufuncs (`np.sqrt(v)`) and `np.zeros_like(v)`.
    Every operation is elementwise, so each point's numbers are those of the `(..., 2)` path
    (`norm` and `dot` sum x*x + y*y in the same order as a sum over the last axis).
    """

    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y

    @classmethod
    def of(cls, W):
        """W (..., 2) as contiguous components."""
        W = np.asarray(W, float)
        return cls(np.ascontiguousarray(W[..., 0]), np.ascontiguousarray(W[..., 1]))

    @property
    def shape(self):
        return np.shape(self.x) + (2,)

    def array(self):
        """The points as one (..., 2) array."""
        return np.stack([self.x, self.y], -1)

    def _scalar(self, s):
        # a per-point scalar (..., 1) acts on both components as (...)
        if type(s) is np.ndarray and s.ndim > self.x.ndim:
            return s[..., 0]
        return s

    def __add__(self, o):
        if type(o) is XY:
            return XY(self.x + o.x, self.y + o.y)
        o = self._scalar(o)
        return XY(self.x + o, self.y + o)

    __radd__ = __add__

    def __sub__(self, o):
        if type(o) is XY:
            return XY(self.x - o.x, self.y - o.y)
        o = self._scalar(o)
        return XY(self.x - o, self.y - o)

    def __rsub__(self, o):
        o = self._scalar(o)
        return XY(o - self.x, o - self.y)

    def __mul__(self, s):
        if type(s) is XY:
            return XY(self.x * s.x, self.y * s.y)
        s = self._scalar(s)
        return XY(self.x * s, self.y * s)

    __rmul__ = __mul__

    def __truediv__(self, s):
        if type(s) is XY:
            return XY(self.x / s.x, self.y / s.y)
        s = self._scalar(s)
        return XY(self.x / s, self.y / s)

    def __rtruediv__(self, s):
        s = self._scalar(s)
        return XY(s / self.x, s / self.y)

    def __neg__(self):
        return XY(-self.x, -self.y)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or kwargs or ufunc.nout != 1:
            return NotImplemented
        cx = [i.x if type(i) is XY else self._scalar(i) for i in inputs]
        cy = [i.y if type(i) is XY else self._scalar(i) for i in inputs]
        return XY(ufunc(*cx), ufunc(*cy))

    def __array_function__(self, func, _types, args, kwargs):
        if func is np.zeros_like and not kwargs and len(args) == 1:
            return XY(np.zeros_like(self.x), np.zeros_like(self.y))
        return NotImplemented

    def __repr__(self):
        return f"XY(x={self.x!r}, y={self.y!r})"


def norm(v):
    """Euclidean norm per point: a float for `Vec2`, shape `(..., 1)` for arrays and `XY`."""
    if type(v) is Vec2:
        return math.sqrt(v.x * v.x + v.y * v.y)
    if type(v) is XY:
        return np.sqrt(v.x * v.x + v.y * v.y)[..., None]
    return np.sqrt(np.sum(v * v, axis=-1, keepdims=True))


def dot(u, v):
    """Inner product per point: a float for `Vec2`, shape `(..., 1)` for arrays and `XY`."""
    if type(u) is Vec2:
        return u.x * v.x + u.y * v.y
    if type(u) is XY:
        return (u.x * v.x + u.y * v.y)[..., None]
    return np.sum(u * v, axis=-1, keepdims=True)


def unit(v, xi):
    """v / (|v| + xi): the normalisation every paper uses (xi keeps v = 0 finite)."""
    return v / (norm(v) + xi)


def decompose(v, onto, xi):
    """Split v into parts parallel and orthogonal to `onto` (GSAM Alg. 1 step 3)."""
    e = unit(onto, xi)
    par = e * dot(v, e)
    return par, v - par


def squeeze(s):
    """A per-point scalar (`(..., 1)` array or float) as `(...)` / float."""
    if isinstance(s, float):
        return s
    s = np.asarray(s)
    return s[..., 0] if s.ndim else s
