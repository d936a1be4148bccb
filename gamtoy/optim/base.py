"""Base optimizers (steppers): turn a direction d into a step. `init(theta) -> state`,
`step(d, state, lr) -> (delta, state)`; the new point is theta + delta.

Written on the same vectors as the estimators (`(..., 2)` arrays, flat `(n,)` vectors, `Vec2`).
"""
import math
from typing import NamedTuple

import numpy as np

from ..validate import real
from ..vec import Vec2


def _zeros(theta):
    return Vec2(0.0, 0.0) if type(theta) is Vec2 else np.zeros_like(theta)


def _square(v):
    return Vec2(v.x * v.x, v.y * v.y) if type(v) is Vec2 else v * v


def _adam_ratio(m, v, eps):
    if type(m) is Vec2:
        return Vec2(m.x / (math.sqrt(v.x) + eps), m.y / (math.sqrt(v.y) + eps))
    return m / (np.sqrt(v) + eps)


class SGD(NamedTuple):
    """theta <- theta - lr d (no momentum, no weight decay)."""
    name: str = "sgd"

    def init(self, theta):
        return ()

    def step(self, d, state, lr):
        return d * (-lr), state


class Momentum(NamedTuple):
    """Heavy ball as in torch.optim.SGD: v <- mu v + d; theta <- theta - lr v."""
    momentum: float = 0.9
    name: str = "momentum"

    def init(self, theta):
        return _zeros(theta)

    def step(self, d, v, lr):
        v = v * self.momentum + d
        return v * (-lr), v


class AdamState(NamedTuple):
    t: int
    m: object
    v: object


class Adam(NamedTuple):
    """Adam (Kingma & Ba 2015) on the direction d in place of the gradient."""
    betas: tuple = (0.9, 0.999)
    eps: float = 1e-8
    name: str = "adam"

    def init(self, theta):
        return AdamState(0, _zeros(theta), _zeros(theta))

    def step(self, d, s, lr):
        b1, b2 = self.betas
        t = s.t + 1
        m = s.m * b1 + d * (1 - b1)
        v = s.v * b2 + _square(d) * (1 - b2)
        mhat, vhat = m * (1 / (1 - b1 ** t)), v * (1 / (1 - b2 ** t))
        return _adam_ratio(mhat, vhat, self.eps) * (-lr), AdamState(t, m, v)


def make_base(name, momentum=0.9, betas=(0.9, 0.999), eps=1e-8):
    """The base optimizer `name` in ('sgd', 'momentum', 'adam'); its settings validated."""
    if name == "sgd":
        return SGD()
    if name == "momentum":
        return Momentum(real("momentum", momentum, low=0.0, high=1.0, high_open=True))
    if name == "adam":
        if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or len(betas) != 2:
            raise TypeError(f"adam betas must be a pair (beta1, beta2), got {betas!r}")
        b1 = real("adam betas[0]", betas[0], low=0.0, high=1.0, high_open=True)
        b2 = real("adam betas[1]", betas[1], low=0.0, high=1.0, high_open=True)
        return Adam((b1, b2), real("adam eps", eps, low=0.0, low_open=True))
    raise ValueError(f"unknown base optimizer {name!r}; valid: sgd, momentum, adam")


BASES = ("sgd", "momentum", "adam")
