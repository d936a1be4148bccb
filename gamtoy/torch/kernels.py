"""The hot-path kernels of gamtoy.torch: fused norm/dot sweeps and in-place combinations of
parameter lists (one tensor per parameter that requires grad).

Norms and dot products are global over all parameters. Two paths compute them:

* the CPU path (float32/float64 on the CPU): per parameter, scalars accumulated as Python
  numbers (`.item()` costs no device sync there) and handed to the next kernel as numbers;
* the device path (any other device or dtype): `torch._foreach_*` kernels with 0-d tensor
  scalars, so that no step synchronises host and device.

`FORCE_DEVICE_PATH = True` (or the environment variable GAMTOY_FORCE_DEVICE_PATH=1 at import)
makes the CPU take the device path too: the tests run every optimizer both ways on the CPU, so a
bug in a branch that only a GPU would otherwise reach fails there.
"""
import math
import os

import torch

FORCE_DEVICE_PATH = os.environ.get("GAMTOY_FORCE_DEVICE_PATH", "") not in ("", "0")


def fast_cpu(t):
    """True where scalars go to the kernels as Python numbers: CPU float32/float64 tensors,
    unless FORCE_DEVICE_PATH."""
    return (not FORCE_DEVICE_PATH and t.device.type == "cpu"
            and t.dtype in (torch.float32, torch.float64))


def number(s):
    """s as a Python number where that costs no device sync (CPU tensors), else unchanged."""
    if isinstance(s, torch.Tensor) and s.device.type == "cpu" and not FORCE_DEVICE_PATH:
        return s.item()
    return s


# ---- norms and dot products -----------------------------------------------------------------

def lnorm(v):
    """Global 2-norm of a parameter list as a 0-d tensor (one _foreach_norm, no sync)."""
    return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(v)))


def ldot(u, v):
    """Global dot product of two parameter lists (a 0-d tensor)."""
    return torch.stack([torch.dot(a.reshape(-1), b.reshape(-1)) for a, b in zip(u, v,
                                                                                strict=True)]).sum()


def norm(v):
    """|v|: a Python number on the CPU path, a 0-d tensor on the device path."""
    if not fast_cpu(v[0]):
        return lnorm(v)
    sq = 0.0
    for x in v:
        x = x.reshape(-1)
        sq += torch.dot(x, x).item()
    return math.sqrt(sq)


def norm_dot(a, b):
    """(|a|, <a, b>) in one sweep (a read once, while in cache); numbers or 0-d tensors."""
    dot = torch.dot
    if not fast_cpu(a[0]):
        parts = []
        for x, y in zip(a, b, strict=True):
            x = x.reshape(-1)
            parts += (dot(x, x), dot(y.reshape(-1), x))
        sq, dt = torch.stack(parts).view(-1, 2).sum(0).unbind()
        return sq.sqrt(), dt
    sq = dt = 0.0
    for x, y in zip(a, b, strict=True):
        x = x.reshape(-1)
        sq += dot(x, x).item()
        dt += dot(y.reshape(-1), x).item()
    return math.sqrt(sq), dt


def norm_dots(a, bs):
    """(|a|, [<a, b> for b in bs]) in one sweep over a."""
    dot = torch.dot
    k = len(bs)
    if not fast_cpu(a[0]):
        parts = []
        for i, x in enumerate(a):
            x = x.reshape(-1)
            parts.append(dot(x, x))
            parts += [dot(b[i].reshape(-1), x) for b in bs]
        s = torch.stack(parts).view(-1, k + 1).sum(0).unbind()
        return s[0].sqrt(), list(s[1:])
    sq, dts = 0.0, [0.0] * k
    for i, x in enumerate(a):
        x = x.reshape(-1)
        sq += dot(x, x).item()
        for j, b in enumerate(bs):
            dts[j] += dot(b[i].reshape(-1), x).item()
    return math.sqrt(sq), dts


# ---- combinations ---------------------------------------------------------------------------

def lscale(v, s):
    """v * s as a new list (s a number or a 0-d tensor)."""
    return torch._foreach_mul(v, s)


def laxpy(x, v, s):
    """x + s v as a new list in one pass (s a number or a 0-d tensor)."""
    s = number(s)
    if isinstance(s, torch.Tensor):
        return torch._foreach_add(x, torch._foreach_mul(v, s))
    return torch._foreach_add(x, v, alpha=s)


def laxpy_(x, v, s):
    """x += s v in place (s a number or a 0-d tensor); returns x."""
    s = number(s)
    if isinstance(s, torch.Tensor):
        torch._foreach_add_(x, torch._foreach_mul(v, s))
    else:
        torch._foreach_add_(x, v, alpha=s)
    return x


def point_(out, base, v, s):
    """out = base + s v in one pass per parameter (out may be v itself: then no new memory)."""
    s = number(s)
    if isinstance(s, torch.Tensor):  # a device scalar: no sync, two passes
        if out is v:
            torch._foreach_mul_(out, s)
            torch._foreach_add_(out, base)
        else:
            torch._foreach_copy_(out, base)
            torch._foreach_add_(out, torch._foreach_mul(v, s))
        return out
    for w, t, x in zip(out, base, v, strict=True):
        torch.add(t, x, alpha=s, out=w)
    return out


def sub_norm_(out, a, b, stats=True):
    """out = a - b; returns (|out|, |a|, <a, b>) from one sweep (on the CPU path a, b and out are
    read while in cache); without `stats`, |a| and <a, b> are None."""
    dot = torch.dot
    if not fast_cpu(a[0]):
        na, dt = norm_dot(a, b) if stats else (None, None)
        for w, x, y in zip(out, a, b, strict=True):
            torch.sub(x, y, out=w)
        return lnorm(out), na, dt
    sq = sa = dt = 0.0
    for w, x, y in zip(out, a, b, strict=True):
        torch.sub(x, y, out=w)
        w, x = w.reshape(-1), x.reshape(-1)
        sq += dot(w, w).item()
        if stats:
            sa += dot(x, x).item()
            dt += dot(y.reshape(-1), x).item()
    if not stats:
        return math.sqrt(sq), None, None
    return math.sqrt(sq), math.sqrt(sa), dt


def combine_(x, a, y, c, stats=True, out_norm=False):
    """x <- a x + c y in place. Returns (|x|, <x, y>) of x before the update (if `stats`, else
    None, None) and |x| after it (if `out_norm`, else None), from one sweep on the CPU path."""
    dot = torch.dot
    if not fast_cpu(x[0]):
        n, dt = norm_dot(x, y) if stats else (None, None)
        torch._foreach_mul_(x, a)
        laxpy_(x, y, c)
        return n, dt, (lnorm(x) if out_norm else None)
    sq = dt = sq2 = 0.0
    c = number(c)
    for u, v in zip(x, y, strict=True):
        f = u.reshape(-1)
        if stats:
            sq += dot(f, f).item()
            dt += dot(v.reshape(-1), f).item()
        u.mul_(a).add_(v, alpha=c)
        if out_norm:
            sq2 += dot(f, f).item()
    return ((math.sqrt(sq), dt) if stats else (None, None)) + \
        ((math.sqrt(sq2) if out_norm else None),)


def remove_perp_(h, v, alpha, xi, h_norm=None, dot=None):
    """h - alpha v_perp in place on h, v_perp = the part of v orthogonal to h (GSAM Alg. 1 step 3).

    v_perp = v - h <v, h>/(|h|+xi)^2, so h - alpha v_perp = h (1 + alpha c) - alpha v.
    """
    if h_norm is None or dot is None:
        h_norm, dot = norm_dot(h, v)
    c = number(1 + alpha * dot / (h_norm + xi) ** 2)
    if isinstance(c, torch.Tensor):
        torch._foreach_mul_(h, c)
        torch._foreach_add_(h, v, alpha=-alpha)
    else:  # per parameter: the add reads h while the multiply left it in cache
        for x, y in zip(h, v, strict=True):
            x.mul_(c).add_(y, alpha=-alpha)
    return h


def mix_(hp, a, alpha, hm, b, beta, official=False):
    """GAM Eq. 45 in place: hp <- alpha a + (1-alpha) hp, hm <- beta b + (1-beta) hm
    (official: hm <- b + |1-beta| hm); returns (|hp|, <hm, hp>), on the CPU path in the same
    sweep."""
    b1 = abs(1 - beta)
    if not fast_cpu(hp[0]):
        torch._foreach_lerp_(hp, a, alpha)
        if official:
            torch._foreach_mul_(hm, b1)
            torch._foreach_add_(hm, b)
        else:
            torch._foreach_lerp_(hm, b, beta)
        return norm_dot(hp, hm)
    sq = dt = 0.0
    dot = torch.dot
    for x, xa, y, yb in zip(hp, a, hm, b, strict=True):
        x.lerp_(xa, alpha)
        if official:
            y.mul_(b1).add_(yb)
        else:
            y.lerp_(yb, beta)
        x = x.reshape(-1)
        sq += dot(x, x).item()
        dt += dot(y.reshape(-1), x).item()
    return math.sqrt(sq), dt


def clip_(d, max_norm, d_norm=None):
    """optax.clip_by_global_norm in place: d <- max_norm d/|d| where |d| >= max_norm (no
    epsilon)."""
    n = norm(d) if d_norm is None else d_norm
    if isinstance(n, torch.Tensor):
        torch._foreach_mul_(d, torch.where(n >= max_norm, max_norm / n, torch.ones_like(n)))
    elif n >= max_norm:
        torch._foreach_mul_(d, max_norm / n)
    return d


def lflat(v):
    """The parameter list as one flat vector (a copy)."""
    return torch.cat([t.reshape(-1) for t in v])
