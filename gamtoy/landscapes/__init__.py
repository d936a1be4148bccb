"""2D synthetic landscapes: exact value, gradient, Hessian and HVP on `(..., 2)` arrays.

    >>> L = gamtoy.landscapes.get("ridge")
    >>> L.value(W), L.grad(W), L.hessian(W), L.hvp(W, V)

`get(name, **params)` returns a built-in (compiled once per parameter set), `names()` lists them,
`from_function(fn, bounds=...)` wraps any autograd-traceable `fn((..., 2)) -> (...)`.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import numpy as np

from .base import DEFAULT_BOUNDS, Landscape, check_points
from .builtin import BUILDERS


def names() -> list[str]:
    """The names of the built-in landscapes."""
    return sorted(BUILDERS)


# parameters with a domain (outside it the expression divides by 0, is NaN on half the plane,
# or is no longer the paper's figure): (what, check) per landscape and name
_POSITIVE = ("positive", lambda v: v > 0)
_NONNEG = ("non-negative", lambda v: v >= 0)
_COUNT = ("a positive integer", lambda v: isinstance(v, int) and v >= 1)
_EVEN = ("an even integer >= 2 (u^p must be >= 0 on both sides of the valley)",
         lambda v: isinstance(v, int) and v >= 2 and v % 2 == 0)
_DOMAINS = {
    "fig1a": {"rho": _POSITIVE, "c": _POSITIVE, "ripple": _NONNEG, "periods": _COUNT,
              "sep": _POSITIVE, "cy": _NONNEG},
    "fig1b": {"rho": _POSITIVE, "c": _POSITIVE, "ratio": _POSITIVE, "p": _EVEN, "sep": _POSITIVE,
              "cy": _NONNEG},
    "gsam_fig1": {"rho": _POSITIVE, "sep": _POSITIVE, "cy": _NONNEG},
}


def get(name: str | Landscape, **params: float) -> Landscape:
    """The built-in landscape `name`, with `params` overriding its defaults."""
    if isinstance(name, Landscape):
        return name
    if not isinstance(name, str) or name not in BUILDERS:
        raise ValueError(f"unknown landscape {name!r}; valid names: {', '.join(names())}")
    key = tuple(sorted((k, _param(name, k, v)) for k, v in params.items()))
    for k, v in key:
        what, ok = _DOMAINS.get(name, {}).get(k, (None, None))
        if ok is not None and not ok(v):
            raise ValueError(f"bad parameter for landscape {name!r}: {k} must be {what}, got {v!r}")
    return _build(name, key)


def _param(landscape, key, v):
    """A landscape parameter as a finite float (or a tuple of them, nested), or a clear error."""
    from ..validate import real
    if isinstance(v, (list, tuple)) or (isinstance(v, np.ndarray) and v.ndim > 0):
        return tuple(_param(landscape, f"{key}[{i}]", x) for i, x in enumerate(v))
    try:
        x = real(f"{key}", v)
        if isinstance(v, (int, np.integer)) or (x.is_integer() and key in ("periods", "p")):
            return int(x)  # ints stay ints (counts); 4.0 is the count 4
        return x
    except (TypeError, ValueError) as e:
        raise type(e)(f"bad parameter for landscape {landscape!r}: {e}") from None


@functools.lru_cache(maxsize=64)
def _build(name, key):
    try:
        return BUILDERS[name](**dict(key))
    except TypeError as e:
        raise ValueError(f"bad parameters for landscape {name!r}: {e}") from None


# probe points for from_function's checks, as fractions of the bounds (fixed, asymmetric)
_PROBES = np.array([[0.31, 0.62], [0.77, 0.18], [0.45, 0.83], [0.12, 0.4], [0.58, 0.29]])


def check_bounds(bounds, name="bounds"):
    """bounds as ((xmin, xmax), (ymin, ymax)) of finite floats with min < max, or a clear error."""
    from ..validate import real
    try:
        (x0, x1), (y0, y1) = bounds
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be ((xmin, xmax), (ymin, ymax)), got {bounds!r}") from None
    out = []
    for axis, (lo, hi) in zip("xy", ((x0, x1), (y0, y1)), strict=True):
        lo, hi = real(f"{name} {axis}min", lo), real(f"{name} {axis}max", hi)
        if not lo < hi:
            raise ValueError(f"{name} must have {axis}min < {axis}max, got ({lo}, {hi})")
        out.append((lo, hi))
    return tuple(out)


def from_function(fn: Callable, bounds: Sequence[Sequence[float]] | None = None,
                  name: str = "custom", minima: Sequence[Sequence[float]] | None = None,
                  check: bool = True) -> Landscape:
    """A `Landscape` from any autograd-traceable `fn(W (..., 2)) -> (...)`.

    Derivatives come from autograd (exact, but ~ms per call: the built-ins are compiled instead).
    `fn` must act on each point independently (it is differentiated through `sum(fn(W))`) and be
    written with `autograd.numpy`. With `check=True` (the default) this is verified at a few
    probe points inside `bounds`: one value per point (a function that returns a single number
    for a batch is refused), the same value for a point alone and in a batch, and the autograd
    gradient equal to a central finite difference (a function that calls `numpy.asarray`,
    `numpy.array` or in-place assignment is silently detached from autograd and its gradient
    comes out 0: refused, with that explanation).
    """
    import autograd.numpy as anp
    from autograd import elementwise_grad

    if not callable(fn):
        raise TypeError(f"fn must be a callable W (..., 2) -> (...), got {fn!r}")
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {name!r}")
    bounds = DEFAULT_BOUNDS if bounds is None else check_bounds(bounds)
    if minima is not None:
        m = np.asarray(minima, dtype=float)
        if m.size == 0 or m.size % 2 or not np.all(np.isfinite(m)):
            raise ValueError(f"minima must be finite points (k, 2), got {minima!r}")

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

    L = Landscape(name, f, df, d2f, bounds=bounds, minima=minima,
                  doc=fn.__doc__ or "A landscape from a user function (autograd derivatives).")
    if check:
        with np.errstate(all="ignore"):
            _check_function(L, fn)
    return L


def _check_function(L, fn):
    (x0, x1), (y0, y1) = L.bounds
    P = np.array([x0, y0]) + _PROBES * np.array([x1 - x0, y1 - y0])
    try:
        out = fn(P)
    except Exception as e:
        raise ValueError(f"fn failed on a batch of points W of shape {P.shape}: "
                         f"{type(e).__name__}: {e}") from e
    shape = np.shape(out)
    if shape != P.shape[:-1]:
        raise ValueError(f"fn must return one value per point: for W of shape {P.shape} it "
                         f"returned shape {shape} (expected {P.shape[:-1]}); reduce over the "
                         f"last axis only, e.g. W[..., 0] ** 2 + W[..., 1] ** 2")
    out = np.asarray(out, dtype=float)
    for i, p in enumerate(P):
        alone = np.asarray(fn(p[None]), dtype=float).reshape(-1)
        if alone.shape != (1,) or not (alone[0] == out[i] or np.isclose(
                alone[0], out[i], rtol=1e-9, atol=1e-12, equal_nan=True)):
            raise ValueError(f"fn must act on each point independently: at W = {p.tolist()} it "
                             f"gives {alone.tolist()} alone but {out[i]} in a batch")
    ok = np.isfinite(out)
    if not ok.any():
        raise ValueError(f"fn is not finite at any of the probe points {P.tolist()} inside "
                         f"bounds {L.bounds} (values {out.tolist()}): a landscape must be "
                         f"defined (finite) on most of its bounds; pass the bounds where it is")
    P = P[ok]
    try:
        g = L.grad(P)
    except Exception as e:
        raise ValueError(f"autograd could not differentiate fn ({type(e).__name__}: {e}); "
                         f"write it with autograd.numpy (import autograd.numpy as anp)") from e
    h = 1e-6 * np.array([x1 - x0, y1 - y0])
    fd = np.stack([(L.value(P + h * e) - L.value(P - h * e)) / (2 * h[k])
                   for k, e in enumerate(np.eye(2))], -1)
    scale = np.linalg.norm(fd, axis=-1)
    err = np.linalg.norm(g - fd, axis=-1)
    bad = ~(err <= 1e-4 * scale + 1e-6 * (1 + np.abs(out[ok])))
    bad &= np.all(np.isfinite(fd), -1)
    if bad.any():
        i = int(np.argmax(bad))
        zero = np.linalg.norm(g[i]) <= 1e-12 * (1 + scale[i]) or np.any(
            (np.abs(g[i]) <= 1e-12) & (np.abs(fd[i]) > 1e-6))
        why = (" (a component is exactly 0: fn probably calls numpy.asarray, numpy.array, "
               "float() or assigns into an array, which detaches it from autograd; use "
               "autograd.numpy operations only)" if zero
               else " (is fn smooth, and written with autograd.numpy?)")
        raise ValueError(f"the autograd gradient of fn at W = {P[i].tolist()} is {g[i].tolist()}, "
                         f"but a finite difference gives {fd[i].tolist()}{why}")


__all__ = ["Landscape", "get", "names", "from_function", "check_points", "check_bounds"]
