"""GNP (Zhao et al., ICML 2022): the estimator's direction is the gradient of the penalised loss.

GNP minimises L(theta) + lambda |grad L(theta)| (poster, Eq. 1). Its Alg. 1 approximates the
gradient g + lambda H g/|g| with one extra gradient: d = (1-alpha) g + alpha g(theta + r g/|g|)
= g + alpha r H g/|g| + O(r^2), i.e. lambda = alpha r, and SAM is the case alpha = 1 (lambda = r).
The reference here is autograd of the penalised loss written in autograd.numpy (double backward),
independent of `gamtoy.optim.estimators`; the relative error against the penalty's gradient
must vanish like O(r) (predicted order 1).
"""
import autograd.numpy as anp
import numpy as np
from autograd import elementwise_grad

from .. import landscapes as _landscapes
from ..optim import estimators
from ._check import TOL, Check, all_orders, figure, orders
from ._util import fit_slope, generic_points

# the built-ins in autograd.numpy (asserted equal to the compiled SymPy versions in the tests)
ANP = {
    "himmelblau": lambda x, y: (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2,
    "rosenbrock": lambda x, y: (1.0 - x) ** 2 + 100.0 * (y - x ** 2) ** 2,
    "rastrigin": lambda x, y: (x ** 2 + y ** 2) / 2 + (2 - anp.cos(2 * anp.pi * x)
                                                      - anp.cos(2 * anp.pi * y)),
}


def penalised_gradient(name, P, lam):
    """grad_theta [L + lam |grad L|] at points P (..., 2), by autograd (double backward)."""
    f = ANP[name]
    fx, fy = elementwise_grad(f, 0), elementwise_grad(f, 1)

    def pen(x, y):
        return f(x, y) + lam * anp.sqrt(fx(x, y) ** 2 + fy(x, y) ** 2)

    x, y = P[..., 0], P[..., 1]
    return np.stack([elementwise_grad(pen, 0)(x, y), elementwise_grad(pen, 1)(x, y)], -1)


_GNP_PENALISED_RS = np.geomspace(1e-4, 1e-2, 5)


def gnp_penalised(rs=_GNP_PENALISED_RS, alpha=0.7, names=tuple(ANP), k=4, seed=0,
                  which="gnp"):
    """|d(r) - grad(L + lambda|grad L|)| / |lambda grad|grad L||,
    lambda = alpha r, at generic points.

    which="gnp": d from `estimators.gnp(..., alpha)` (paper variant); which="sam": d from
    `estimators.sam` with lambda = r (alpha = 1). Returns per landscape the median relative error
    per r and its fitted order (predicted 1).
    """
    a = 1.0 if which == "sam" else alpha
    out = {}
    for name in names:
        L = _landscapes.get(name)
        P = generic_points(L, k, seed)
        err = []
        for r in rs:
            if which == "sam":
                d = estimators.sam(L, P, r)[0]
            else:
                d = estimators.gnp(L, P, r, alpha)[0]
            ref = penalised_gradient(name, P, a * r)
            pen = ref - penalised_gradient(name, P, 0.0)
            err.append(np.linalg.norm(d - ref, axis=-1) / np.linalg.norm(pen, axis=-1))
        err = np.array(err)
        med = np.median(err, axis=1)
        out[name] = dict(rs=np.asarray(rs), rel_err=err, median=med, slope=fit_slope(rs, med),
                         order=1, alpha=a)
    return out


def _judge(key):
    def judge(d):
        return (orders(d[key]), f"|order - 1| <= {TOL['order']}", all_orders(d[key]))
    return judge


def _checks():
    from .plots import plot_gnp
    return (
        Check("gnp", "GNP's direction = grad(L + lambda|grad L|) + O(r), lambda = alpha r "
              "(alpha = 0.7)", "GNP Eq. 1, Alg. 1", "autograd of the penalised loss (double "
              "backward)", {"gnp": lambda quick: gnp_penalised()}, _judge("gnp"),
              ("gnp_penalised_gradient", figure(plot_gnp, "gnp"))),
        Check("gnp_sam", "SAM's direction = grad(L + r|grad L|) + O(r) (GNP with lambda = r)",
              "GNP Sec. 3", "autograd of the penalised loss",
              {"gnp_sam": lambda quick: gnp_penalised(which="sam")}, _judge("gnp_sam")),
    )


CHECKS = _checks()
