"""The `Landscape` class: a 2D loss with exact value, gradient, Hessian and HVP.

A landscape is built from component functions of two coordinates, each valid for NumPy arrays
of any (same) shape: `f(x, y)`, `df(x, y) -> (gx, gy)`, `d2f(x, y) -> (hxx, hxy, hyy)`.
Optional `*_scalar` versions of the same math on Python floats serve single points (`Vec2`).
Public methods take `W` of shape `(..., 2)`; the oracle methods used by `gamtoy.optim` also
take a `Vec2`.
"""
from typing import NamedTuple

import numpy as np

from ..vec import Vec2

DEFAULT_BOUNDS = ((-3.0, 3.0), (-3.0, 3.0))


def check_points(W, name="W"):
    """W as a float array of shape (..., 2), or a ValueError naming the problem."""
    if isinstance(W, np.ndarray) and W.dtype == float:
        pass
    elif isinstance(W, (str, bytes)) or (isinstance(W, np.ndarray) and W.dtype.kind in "bcOUS"):
        raise TypeError(f"{name} must be real numbers of shape (..., 2), got {W!r:.80}")
    else:
        try:
            if np.iscomplexobj(W):
                raise TypeError("complex numbers")
            W = np.asarray(W, dtype=float)
        except (TypeError, ValueError) as e:
            raise TypeError(f"{name} must be real numbers of shape (..., 2), got {W!r:.80} "
                            f"({e})") from None
    if W.ndim == 0 or W.shape[-1] != 2:
        raise ValueError(f"{name} must have shape (..., 2) (2D points), got shape {W.shape}")
    return W


class Compiled(NamedTuple):
    """A landscape's oracle as functions of two coordinate arrays: f -> L, df -> (gx, gy),
    d2f -> (hxx, hxy, hyy), d12f -> (gx, gy, hxx, hxy, hyy); value_df and value_d12f (None
    where not compiled) also return L first, from the same pass."""
    f: object
    df: object
    d2f: object
    d12f: object
    value_df: object = None
    value_d12f: object = None


class Landscape:
    """A 2D loss surface. `value/grad/hessian/hvp` take `(..., 2)` arrays.

    Attributes: `name`, `bounds` ((xmin, xmax), (ymin, ymax)) for plots, `minima` (an array
    `(k, 2)` of known minima, or None), `minimum_names` (one name per known minimum, or None),
    `params` (the parameters it was built with). `critical_points` (minima, saddles, maxima as
    `CriticalPoint` records, found and typed on first use) and `saddles` (an array `(j, 2)`).
    """

    def __init__(self, name, f, df, d2f, bounds=DEFAULT_BOUNDS, minima=None, doc="",
                 f_scalar=None, df_scalar=None, d2f_scalar=None, params=None, d12f=None,
                 d12f_scalar=None):
        self.name = name
        self._f, self._df, self._d2f = f, df, d2f
        self._fs = f_scalar or f
        self._dfs = df_scalar or df
        self._d2fs = d2f_scalar or d2f
        # gradient and Hessian together (shared subexpressions), for normgrad
        self._d12f = d12f or (lambda x, y: tuple(df(x, y)) + tuple(d2f(x, y)))
        self._d12fs = d12f_scalar or (lambda x, y: tuple(self._dfs(x, y)) + tuple(self._d2fs(x, y)))
        self.bounds = tuple(tuple(float(b) for b in ax) for ax in bounds)
        self.minima = None if minima is None else np.asarray(minima, dtype=float).reshape(-1, 2)
        self.params = dict(params or {})
        self.minimum_names = None
        self._critical = None
        self.__doc__ = doc or self.__class__.__doc__

    def __repr__(self):
        p = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"Landscape({self.name!r}{', ' + p if p else ''})"

    @property
    def critical_points(self):
        """Every critical point in the bounds (grad L = 0, |grad L| < 1e-10, Newton-polished),
        typed by its Hessian's eigenvalues: the known `minima` first (in their order), then other
        minima, saddles, maxima (`gamtoy.landscapes.critical`). Computed once, on first use."""
        if self._critical is None:
            from .critical import critical_points
            self._critical = critical_points(self, self.minimum_names)
        return self._critical

    @property
    def saddles(self):
        """The saddle points among `critical_points`, shape (j, 2)."""
        points = [c.point for c in self.critical_points if c.kind == "saddle"]
        return np.array(points).reshape(-1, 2)

    # ---- public, (..., 2) arrays -------------------------------------------------------
    def value(self, W):
        """L(W), shape (...)."""
        if type(W) is Vec2:
            return float(self._fs(W.x, W.y))
        W = check_points(W)
        return np.broadcast_to(np.asarray(self._f(W[..., 0], W[..., 1]), float), W.shape[:-1])

    def grad(self, W):
        """grad L(W), shape (..., 2)."""
        if type(W) is Vec2:
            gx, gy = self._dfs(W.x, W.y)
            return Vec2(float(gx), float(gy))
        W = check_points(W)
        return self._stack(self._df(W[..., 0], W[..., 1]), W.shape[:-1])

    def hessian(self, W):
        """Hessian of L at W, shape (..., 2, 2)."""
        W = check_points(W)
        hxx, hxy, hyy = (np.broadcast_to(np.asarray(h, float), W.shape[:-1])
                         for h in self._d2f(W[..., 0], W[..., 1]))
        return np.stack([np.stack([hxx, hxy], -1), np.stack([hxy, hyy], -1)], -2)

    def hvp(self, W, V):
        """Hessian-vector product H(W) V, shape (..., 2)."""
        if type(W) is Vec2:
            hxx, hxy, hyy = self._d2fs(W.x, W.y)
            return Vec2(hxx * V.x + hxy * V.y, hxy * V.x + hyy * V.y)
        W = check_points(W)
        V = check_points(V, "V")
        try:
            shape = np.broadcast_shapes(W.shape, V.shape)
        except ValueError:
            raise ValueError(f"V of shape {V.shape} does not broadcast against W of shape "
                             f"{W.shape}") from None
        hxx, hxy, hyy = self._d2f(W[..., 0], W[..., 1])
        out = np.stack([hxx * V[..., 0] + hxy * V[..., 1], hxy * V[..., 0] + hyy * V[..., 1]], -1)
        # a constant Hessian compiles to plain scalars: keep W's batch shape all the same
        return out if out.shape == shape else np.broadcast_to(out, shape).copy()

    # ---- oracle extras used by gamtoy.optim ---------------------------------------------
    def value_and_grad(self, W):
        return self.value(W), self.grad(W)

    def normgrad(self, W, xi=1e-12):
        """(g, H g / (|g| + xi)): the gradient and grad|grad L| (GAM Eq. 8), from one pass."""
        if type(W) is Vec2:
            gx, gy, hxx, hxy, hyy = self._d12fs(W.x, W.y)
            s = 1.0 / ((gx * gx + gy * gy) ** 0.5 + xi)
            return Vec2(float(gx), float(gy)), Vec2((hxx * gx + hxy * gy) * s,
                                                    (hxy * gx + hyy * gy) * s)
        W = check_points(W)
        x, y = W[..., 0], W[..., 1]
        shape = W.shape[:-1]
        gx, gy, hxx, hxy, hyy = self._d12f(x, y)
        gx, gy = (np.broadcast_to(np.asarray(g, float), shape) for g in (gx, gy))
        s = 1.0 / (np.sqrt(gx * gx + gy * gy) + xi)
        return (np.stack([gx, gy], -1),
                np.stack([(hxx * gx + hxy * gy) * s, (hxy * gx + hyy * gy) * s], -1))

    def compiled(self):
        """The functions of (x, y) arrays behind the oracle, as a `Compiled`, or None when a
        subclass overrides value, grad, normgrad or hvp (then those methods are the oracle)."""
        if any(getattr(type(self), m) is not getattr(Landscape, m)
               for m in ("value", "grad", "normgrad", "hvp")):
            return None
        return Compiled(self._f, self._df, self._d2f, self._d12f)

    @staticmethod
    def _stack(parts, shape):
        return np.stack([np.broadcast_to(np.asarray(p, float), shape) for p in parts], -1)

    # ---- plotting helper ---------------------------------------------------------------
    def grid(self, n=200, bounds=None):
        """(X, Y, Z) on an n x n grid over `bounds` (default: self.bounds)."""
        (x0, x1), (y0, y1) = bounds or self.bounds
        X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
        return X, Y, self.value(np.stack([X, Y], -1))
