"""Oracles: the protocol `gamtoy.optim` calls (value, grad, hvp, normgrad) on an MLP loss.

`FullBatchOracle` uses every training point. `MiniBatchOracle` holds one batch W_t and uses it
for every evaluation until `advance()` draws the next one (GAM Alg. 1 line 4: one batch per
step, so g, H g and the gradients at theta_adv all see the same W_t). The training loop calls
`advance()` once before each optimizer step; both oracles have it.
"""
import numpy as np


class FullBatchOracle:
    """L over all of (X, y). `evals` counts gradient-sized passes (an HVP counts as one)."""

    def __init__(self, model, X, y):
        X, y = np.asarray(X, float), np.asarray(y)
        if X.ndim != 2 or X.shape[1] != model.sizes[0]:
            raise ValueError(f"X must have shape (N, {model.sizes[0]}), got {X.shape}")
        if y.shape != (len(X),) or not np.issubdtype(y.dtype, np.integer):
            raise ValueError(f"y must be integer labels of shape ({len(X)},), got {y.shape} {y.dtype}")
        if len(y) and (y.min() < 0 or y.max() >= model.sizes[-1]):
            raise ValueError(f"labels must lie in [0, {model.sizes[-1]}), got [{y.min()}, {y.max()}]")
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
        if not 1 <= int(batch_size) <= len(self.X):
            raise ValueError(f"batch_size must be in [1, {len(self.X)}], got {batch_size}")
        self.batch_size = int(batch_size)
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
    if batch_size is None or batch_size >= len(X):
        return FullBatchOracle(model, X, y)
    return MiniBatchOracle(model, X, y, batch_size, seed)
