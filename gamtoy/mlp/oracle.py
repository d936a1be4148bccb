"""Oracles: the protocol `gamtoy.optim` calls (value, grad, hvp, normgrad) on an MLP loss.

`FullBatchOracle` uses every training point. `MiniBatchOracle` holds one batch W_t and uses it
for every evaluation until `advance()` draws the next one (GAM Alg. 1 line 4: one batch per
step, so g, H g and the gradients at theta_adv all see the same W_t). The training loop calls
`advance()` once before each optimizer step; both oracles have it.
"""
import numpy as np

from .. import validate


def check_data(model, X, y, names=("X", "y")):
    """(X, y) as float inputs of shape (N, d_in) with N >= 1, finite, and integer labels in
    [0, n_classes), or a clear error naming the array (`names`) and what is allowed."""
    xn, yn = names
    X = np.asarray(X)
    if X.dtype.kind not in "fiub" or X.dtype == bool:
        raise TypeError(f"{xn} must hold real numbers, got dtype {X.dtype}")
    X = X.astype(float, copy=False)
    if X.ndim != 2 or X.shape[1] != model.sizes[0]:
        raise ValueError(f"{xn} must have shape (N, {model.sizes[0]}) for {model}, got {X.shape}")
    if len(X) == 0:
        raise ValueError(f"{xn} is empty (shape {X.shape}): need at least one example")
    bad = ~np.isfinite(X)
    if bad.any():
        raise ValueError(f"{xn} holds {int(bad.sum())} NaN/inf value(s) (first at row "
                         f"{int(np.argwhere(bad)[0, 0])}): the inputs must be finite")
    y = np.asarray(y)
    if y.shape != (len(X),) or y.dtype.kind not in "iu":
        raise ValueError(f"{yn} must be integer labels of shape ({len(X)},) like {xn}, got shape "
                         f"{y.shape} dtype {y.dtype}")
    if y.min() < 0 or y.max() >= model.sizes[-1]:
        raise ValueError(f"{yn}: labels must lie in [0, {model.sizes[-1]}) for {model.sizes[-1]} "
                         f"classes, got [{y.min()}, {y.max()}]")
    return X, y


class FullBatchOracle:
    """L over all of (X, y). `evals` counts gradient-sized passes (an HVP counts as one)."""

    def __init__(self, model, X, y):
        X, y = check_data(model, X, y)
        self.model, self.X, self.y = model, X, y
        self.Xb, self.yb = X, y
        self.evals = 0

    def advance(self):
        """Next batch (a no-op for the full batch)."""

    def value(self, theta):
        return self.model.value(self.model.check(theta), self.Xb, self.yb)

    def grad(self, theta):
        self.evals += 1
        return self.model.grad(self.model.check(theta), self.Xb, self.yb)

    def value_and_grad(self, theta):
        self.evals += 1
        return self.model.value_and_grad(self.model.check(theta), self.Xb, self.yb)

    def hvp(self, theta, v):
        self.evals += 1
        return self.model.hvp(self.model.check(theta), self.model.check(v, "v"), self.Xb, self.yb)

    def hvp_at(self, theta):
        """v -> H(theta) v with the passes at theta shared (for eigsh / Hutchinson)."""
        return self.model.hvp_at(self.model.check(theta), self.Xb, self.yb)

    def normgrad(self, theta, xi=1e-12):
        """(g, H g/(|g|+xi)): GAM Eq. 8 in one pass."""
        self.evals += 2
        return self.model.normgrad(self.model.check(theta), self.Xb, self.yb, xi)


class MiniBatchOracle(FullBatchOracle):
    """The loss on the current batch; `advance()` draws the next (seeded epoch permutations)."""

    def __init__(self, model, X, y, batch_size, seed=0):
        super().__init__(model, X, y)
        self.batch_size = validate.positive_int("batch_size", batch_size)
        if self.batch_size > len(self.X):
            raise ValueError(f"batch_size must be in [1, {len(self.X)}] (the training set's size), "
                             f"got {batch_size}")
        self.rng = np.random.default_rng(seed)
        self._perm, self._pos = np.empty(0, int), 0
        self.advance()

    def advance(self):
        if self._pos + self.batch_size > len(self._perm):
            self._perm, self._pos = self.rng.permutation(len(self.X)), 0
        idx = self._perm[self._pos:self._pos + self.batch_size]
        self._pos += self.batch_size
        self.Xb, self.yb = self.X[idx], self.y[idx]


def make_oracle(model, X, y, batch_size=None, seed=0):
    """A full-batch oracle (batch_size None or >= N) or a mini-batch one."""
    if batch_size is not None:
        batch_size = validate.positive_int("batch_size", batch_size)
    if batch_size is None or batch_size >= len(X):
        return FullBatchOracle(model, X, y)
    return MiniBatchOracle(model, X, y, batch_size, seed)
