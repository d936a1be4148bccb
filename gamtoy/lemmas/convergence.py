"""GAM Thm. 4.4 and GSAM Thm. 5.1: with lr = c/sqrt(t) and rho = c'/sqrt(t), the average squared
gradient norm (1/T) sum_t E|grad|^2 <= (C1 + C2 log T)/sqrt(T) on a non-convex function.

The theorems assume noisy, bounded gradient observations; `NoisyOracle` adds seeded zero-mean noise,
uniform in a disc of radius `sigma` (bounded, as Eq. 10 asks), to every gradient the optimizer sees.
The expectation is the mean over a batch of independent starts (each its own noise).
"""
import numpy as np

from .. import landscapes as _landscapes
from .. import optim as _optim
from ..landscapes import Landscape
from ..optim import estimators
from ..optim.schedules import inv_sqrt
from ..run import run
from ._util import fit_slope


class NoisyOracle(Landscape):
    """A landscape with seeded bounded gradient noise: g~ = g + sigma sqrt(U) (cos a, sin a).

    `normgrad` (GAM's f = H g/|g|) uses the same noisy g~, as a mini-batch would; values, Hessians
    and HVPs are exact. A `Landscape` for `gamtoy.run` on (..., 2) arrays (its batched path).
    """

    def __init__(self, landscape, sigma, seed=0):
        self.L = L = _landscapes.get(landscape)
        self.sigma, self.rng = float(sigma), np.random.default_rng(seed)
        self.name, self.bounds, self.minima, self.params = L.name, L.bounds, L.minima, L.params

    def _noise(self, shape):
        r = self.sigma * np.sqrt(self.rng.uniform(size=shape[:-1]))
        a = self.rng.uniform(0, 2 * np.pi, size=shape[:-1])
        return np.stack([r * np.cos(a), r * np.sin(a)], -1)

    def value(self, W):
        return self.L.value(W)

    def hessian(self, W):
        return self.L.hessian(W)

    def grad(self, W):
        W = np.asarray(W, float)
        return self.L.grad(W) + self._noise(W.shape)

    def hvp(self, W, V):
        return self.L.hvp(W, V)

    def normgrad(self, W, xi=1e-12):
        g = self.grad(W)
        return g, self.L.hvp(W, g) / (np.linalg.norm(g, axis=-1, keepdims=True) + xi)


def _theorem_gradient(name, L, P, rho_t, alpha):
    """The gradient each theorem bounds, with the exact oracle at iterates P (steps, batch, 2):
    GSAM Thm 5.1: grad f_p(w) ~ g(w + rho g/|g|); GAM Thm 4.4: grad L + alpha grad R1 (Eq. 7)."""
    rho = rho_t[:, None, None]
    if name == "gsam":
        return estimators.sam(L, P, rho)[0]
    if name == "gam":
        return estimators.gam(L, P, rho, alpha)[0]
    return L.grad(P)


def convergence(names=("sgd", "gsam", "gam"), landscape="rastrigin", T=2000, starts=64, lr0=0.02,
                rho0=0.1, alpha=0.3, sigma=2.0, seed=0, fit_from=0.05):
    """GAM Thm 4.4 (Eq. 11), GSAM Thm 5.1: avg_T = (1/T) sum_{t<=T} mean_starts |grad(theta_t)|^2.

    Each optimizer runs with lr = lr0/sqrt(t), rho = rho0/sqrt(t), noisy (sigma > 0) or exact
    gradients. Returns per optimizer the curve, the fitted log-log slope over T in [fit_from T, T]
    (the theorems' rate log T/sqrt(T) has local slope -1/2 + 1/log T) and avg_T sqrt(T)/log(T).
    """
    L = _landscapes.get(landscape)
    rng = np.random.default_rng(seed)
    (x0, x1), (y0, y1) = L.bounds
    S = rng.uniform([x0 / 2, y0 / 2], [x1 / 2, y1 / 2], size=(starts, 2))
    Ts = np.arange(1, T + 1)
    rho_t = rho0 / np.sqrt(Ts)
    out = {}
    for i, name in enumerate(names):
        hyper = {} if name == "sgd" else dict(rho=inv_sqrt(rho0), alpha=alpha)
        opt = _optim.get(name, lr=inv_sqrt(lr0), **hyper)
        oracle = NoisyOracle(L, sigma, seed + 1 + i) if sigma > 0 else L
        tr = run(opt, oracle, S, T, box=(np.full(2, -1e3), np.full(2, 1e3)), fast=False)
        P = tr.points[:-1]                                      # theta_1 .. theta_T
        sq = np.sum(_theorem_gradient(name, L, P, rho_t, alpha) ** 2, -1).mean(1)
        sq_loss = np.sum(L.grad(P) ** 2, -1).mean(1)
        avg = np.cumsum(sq) / Ts
        avg_loss = np.cumsum(sq_loss) / Ts
        fit = Ts >= fit_from * T
        out[name] = dict(T=Ts, avg=avg, avg_grad_loss=avg_loss, slope=fit_slope(Ts[fit], avg[fit]),
                         slope_grad_loss=fit_slope(Ts[fit], avg_loss[fit]),
                         scaled=avg * np.sqrt(Ts) / np.log(Ts + 1), diverged=int(tr.diverged.sum()))
    return dict(per=out, landscape=L.name, T=T, starts=starts, lr0=lr0, rho0=rho0, sigma=sigma,
                theory_slope=-0.5)
