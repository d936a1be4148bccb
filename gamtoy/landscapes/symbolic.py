"""Compile one SymPy expression in (x, y) to a `Landscape` with exact derivatives.

The expression is differentiated once, symbolically, and lambdified with common-subexpression
elimination twice: for NumPy arrays (batches) and for Python floats (`math`, single points).
"""
import sympy as sp

from .base import Landscape

x, y = sp.symbols("x y", real=True)


class SymbolicLandscape(Landscape):
    """A `Landscape` compiled from one SymPy expression; its `compiled()` oracle also has the
    loss from the gradient's pass (`value_df`, `value_d12f`).

    `value_with`: () -> (value_df, value_d12f), compiled on first call.
    """

    def __init__(self, *args, value_with, **kwargs):
        super().__init__(*args, **kwargs)
        self.value_with = value_with

    def compiled(self):
        c = super().compiled()
        if c is None:
            return None
        value_df, value_d12f = self.value_with()
        return c._replace(value_df=value_df, value_d12f=value_d12f)


def _compile(exprs, module):
    return sp.lambdify((x, y), exprs, modules=[module], cse=True)


def compile_landscape(name, expr, bounds, minima=None, doc="", params=None):
    """A `Landscape` whose value, gradient and Hessian come from `expr` (a SymPy expression)."""
    gx, gy = sp.diff(expr, x), sp.diff(expr, y)
    hxx, hxy, hyy = sp.diff(gx, x), sp.diff(gx, y), sp.diff(gy, y)
    fns = {}
    for mod in ("numpy", "math"):
        fns[mod] = (_compile(expr, mod), _compile((gx, gy), mod), _compile((hxx, hxy, hyy), mod),
                    _compile((gx, gy, hxx, hxy, hyy), mod))
    f, df, d2f, d12f = fns["numpy"]
    fs, dfs, d2fs, d12fs = fns["math"]
    return SymbolicLandscape(name, f, df, d2f, bounds=bounds, minima=minima, doc=doc,
                             f_scalar=fs, df_scalar=dfs, d2f_scalar=d2fs, params=params,
                             d12f=d12f, d12f_scalar=d12fs,
                             value_with=_lazy_value_with(expr, (gx, gy), (hxx, hxy, hyy)))


def _lazy_value_with(expr, grad, hess):
    """() -> (f with (gx, gy), f with (gx, gy, hxx, hxy, hyy)) for NumPy, each one CSE pass
    (compiled on first call): `gamtoy.run` takes the loss at each point from the pass that
    computes its gradient, a small part of a gradient's cost instead of a separate value."""
    cache = []

    def get():
        if not cache:
            cache.append((_compile((expr,) + grad, "numpy"),
                          _compile((expr,) + grad + hess, "numpy")))
        return cache[0]
    return get


def step(u, k):
    """A smooth step from 0 (u << 0) to 1 (u >> 0) of sharpness k; tanh never overflows."""
    return (1 + sp.tanh(k * u)) / 2


def blend(pieces, cuts, k):
    """Join valleys f_0..f_m along x: f_i holds between cuts[i-1] and cuts[i] (smooth steps)."""
    out = pieces[0]
    for f, c in zip(pieces[1:], cuts, strict=True):
        s = step(x - c, k)
        out = (1 - s) * out + s * f
    return out


