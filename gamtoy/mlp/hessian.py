"""Hessian tools on the flat parameter vector: dense Hessian, top-k eigenvalues, trace.

All take an oracle with `hvp_at(theta)` (or `hvp(theta, v)`) so they run on any batch.
"""
import numpy as np
from scipy.sparse.linalg import LinearOperator, eigsh

from .. import validate
from ._blas import one_thread


def _check_theta(oracle, theta):
    """theta as a finite flat vector (of the oracle's model's size, when it has one)."""
    model = getattr(oracle, "model", None)
    theta = model.check(theta) if model is not None else np.asarray(theta, dtype=float)
    if not np.all(np.isfinite(theta)):
        raise ValueError(f"theta holds {int(np.sum(~np.isfinite(theta)))} NaN/inf value(s): "
                         f"the Hessian is taken at finite parameters")
    return theta


def _hv(oracle, theta):
    return oracle.hvp_at(theta) if hasattr(oracle, "hvp_at") else (lambda v: oracle.hvp(theta, v))


def hessian_operator(oracle, theta):
    """H(theta) as a scipy `LinearOperator` (one R-operator pass per product)."""
    theta = _check_theta(oracle, theta)
    n = np.size(theta)
    hv = _hv(oracle, theta)
    return LinearOperator((n, n), matvec=lambda v: hv(np.ravel(v)), dtype=float)


def dense_hessian(oracle, theta):
    """H(theta) column by column (n HVPs), symmetrised; for small networks and tests."""
    theta = _check_theta(oracle, theta)
    n = np.size(theta)
    hv = _hv(oracle, theta)
    with one_thread():
        H = np.stack([hv(e) for e in np.eye(n)], 1)
    return 0.5 * (H + H.T)


def top_eigenvalues(oracle, theta, k=1, seed=0, tol=1e-8):
    """The k largest (algebraic, which="LA") Hessian eigenvalues, descending (GAM Fig. 3)."""
    theta = _check_theta(oracle, theta)
    n = np.size(theta)
    k = validate.positive_int("k", k)
    if not 1 <= k < n:
        raise ValueError(f"k must be in [1, {n - 1}] for eigsh on n = {n} parameters, got {k}")
    v0 = np.random.default_rng(seed).normal(size=n)
    with one_thread():
        w = eigsh(hessian_operator(oracle, theta), k=k, which="LA", v0=v0, tol=tol,
                  return_eigenvectors=False)
    return np.sort(w)[::-1]


def hutchinson_trace(oracle, theta, n_samples=100, seed=0):
    """tr H ~ mean of z^T H z over Rademacher z (Hutchinson); returns (mean, standard error)."""
    theta = _check_theta(oracle, theta)
    n_samples = validate.positive_int("n_samples", n_samples, low=2)
    rng = np.random.default_rng(seed)
    hv = _hv(oracle, theta)
    with one_thread():
        s = np.array([z @ hv(z) for z in rng.choice([-1.0, 1.0], (n_samples, np.size(theta)))])
    return float(s.mean()), float(s.std(ddof=1) / np.sqrt(n_samples))
