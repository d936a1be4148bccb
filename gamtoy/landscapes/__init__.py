"""2D synthetic landscapes: exact value, gradient, Hessian and HVP on `(..., 2)` arrays.

    >>> L = gamtoy.landscapes.get("ridge")
    >>> L.value(W), L.grad(W), L.hessian(W), L.hvp(W, V)

`get(name, **params)` returns a built-in (compiled once per parameter set), `names()` lists them,
`from_function(fn, bounds=...)` wraps any autograd-traceable `fn((..., 2)) -> (...)`.
"""
import functools

import numpy as np

from .base import DEFAULT_BOUNDS, Landscape, check_points
from .builtin import BUILDERS


def names():
    """The names of the built-in landscapes."""
    return sorted(BUILDERS)


def get(name, **params):
    """The built-in landscape `name`, with `params` overriding its defaults."""
    if isinstance(name, Landscape):
        return name
    if name not in BUILDERS:
        raise ValueError(f"unknown landscape {name!r}; valid names: {', '.join(names())}")
    key = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in params.items()))
    return _build(name, key)


@functools.lru_cache(maxsize=64)
def _build(name, key):
    try:
        return BUILDERS[name](**dict(key))
    except TypeError as e:
        raise ValueError(f"bad parameters for landscape {name!r}: {e}") from None


def from_function(fn, bounds=None, name="custom", minima=None):
    """A `Landscape` from any autograd-traceable `fn(W (..., 2)) -> (...)`.

    Derivatives come from autograd (exact, but ~ms per call: the built-ins are compiled instead).
    `fn` must act on each point independently (it is differentiated through `sum(fn(W))`).
    """
    from autograd import elementwise_grad
    import autograd.numpy as anp

    def f2(x, y):
        return fn(anp.stack([x, y], -1))

    dfx, dfy = elementwise_grad(f2, 0), elementwise_grad(f2, 1)

    def df(x, y):
        x, y = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float))
        return dfx(x, y), dfy(x, y)

    dxx, dxy, dyy = elementwise_grad(dfx, 0), elementwise_grad(dfx, 1), elementwise_grad(dfy, 1)

    def d2f(x, y):
        x, y = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float))
        return dxx(x, y), dxy(x, y), dyy(x, y)

    def f(x, y):
        return f2(np.asarray(x, float), np.asarray(y, float))

    return Landscape(name, f, df, d2f, bounds=bounds or DEFAULT_BOUNDS, minima=minima,
                     doc=fn.__doc__ or "A landscape from a user function (autograd derivatives).")


__all__ = ["Landscape", "get", "names", "from_function", "check_points"]
