"""An MLP with softmax cross-entropy on one flat parameter vector theta of shape (n,).

Layout of theta: for each layer l, W_l (d_{l-1} x d_l, row-major) then b_l (d_l). Two
implementations of the same loss:

- `loss_autograd(theta, X, y)`: autograd.numpy, the readable reference (tests differentiate it);
- `Model.grad / hvp / normgrad`: hand-written backpropagation and Pearlmutter's R-operator
  (exact Hessian-vector products, no finite differences). `normgrad` returns
  (g, H g/(|g|+xi)) (GAM Eq. 8) from one forward pass: the HVP reuses the activations and the
  backward pass of the gradient, which is what keeps `gam` near two gradient+HVP evaluations.

    L(theta) = -1/N sum_i log softmax(f(x_i; theta))_{y_i} + (wd/2) |theta|^2
"""
import autograd.numpy as anp
import numpy as np

from .. import validate

ACTIVATIONS = ("tanh", "relu")


class Model:
    """An MLP `sizes = (d_in, h_1, ..., n_classes)` with activation `act` and weight decay `wd`."""

    def __init__(self, sizes=(2, 16, 16, 2), act="tanh", wd=0.0):
        if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
            raise TypeError(f"sizes must be a sequence of integer widths, got {sizes!r}")
        sizes = tuple(validate.positive_int(f"sizes[{i}]", s) for i, s in enumerate(sizes))
        if len(sizes) < 2:
            raise ValueError(f"sizes must hold >= 2 positive widths, got {sizes}")
        if sizes[-1] < 2:
            raise ValueError(f"need >= 2 output classes, got sizes {sizes}")
        if act not in ACTIVATIONS:
            raise ValueError(f"unknown activation {act!r}; valid: {', '.join(ACTIVATIONS)}")
        wd = validate.real("wd", wd, low=0.0)
        self.sizes, self.act, self.wd = sizes, act, float(wd)
        self.shapes, offs = [], 0
        for a, b in zip(sizes[:-1], sizes[1:], strict=True):
            self.shapes.append((offs, a, b))
            offs += a * b + b
        self.n = offs

    def __repr__(self):
        return f"Model(sizes={self.sizes}, act={self.act!r}, wd={self.wd})"

    def params(self):
        return {"sizes": list(self.sizes), "act": self.act, "wd": self.wd}

    # ---- parameters ----------------------------------------------------------------------
    def init(self, seed=0):
        """theta_0: W ~ N(0, c/d_in) (c = 1 for tanh, 2 for ReLU), b = 0."""
        rng = np.random.default_rng(seed)
        c = 2.0 if self.act == "relu" else 1.0
        theta = np.zeros(self.n)
        for W, _ in self.unpack(theta):
            W[...] = rng.normal(0.0, np.sqrt(c / W.shape[0]), W.shape)
        return theta

    def check(self, theta, name="theta"):
        theta = np.asarray(theta, dtype=float)
        if theta.shape != (self.n,):
            raise ValueError(f"{name} must be a flat vector of shape ({self.n},) for {self}, "
                             f"got shape {theta.shape}")
        return theta

    def unpack(self, theta):
        """[(W_1, b_1), ...] as views into theta (works for autograd arrays too)."""
        out = []
        for o, a, b in self.shapes:
            out.append((theta[o:o + a * b].reshape(a, b), theta[o + a * b:o + a * b + b]))
        return out

    # ---- reference loss (autograd) -------------------------------------------------------
    def loss_autograd(self, theta, X, y):
        """L(theta) in autograd.numpy: the reference the fast derivatives are tested against."""
        a = X
        layers = self.unpack(theta)
        for i, (W, b) in enumerate(layers):
            z = anp.dot(a, W) + b
            a = z if i == len(layers) - 1 else (anp.tanh(z) if self.act == "tanh"
                                                  else anp.maximum(z, 0.0))
        m = anp.max(a, axis=1, keepdims=True)
        logp = a - m - anp.log(anp.sum(anp.exp(a - m), axis=1, keepdims=True))
        ce = -anp.mean(logp[anp.arange(len(y)), y])
        return ce + 0.5 * self.wd * anp.sum(theta * theta)

    # ---- fast exact derivatives ----------------------------------------------------------
    def logits(self, theta, X):
        a = X
        layers = self.unpack(theta)
        for i, (W, b) in enumerate(layers):
            z = a @ W + b
            a = z if i == len(layers) - 1 else self._act(z)
        return a

    def _act(self, z):
        return np.tanh(z) if self.act == "tanh" else np.maximum(z, 0.0)

    def _forward(self, theta, X, y):
        """Activations a_0..a_{L-1}, softmax p, the loss and dL/dz_L."""
        if np.shape(theta) != (self.n,):
            self.check(theta)  # the error naming the shape wanted
        layers = self.unpack(theta)
        acts = [X]
        a = X
        for W, b in layers[:-1]:
            a = self._act(a @ W + b)
            acts.append(a)
        W, b = layers[-1]
        z = a @ W + b
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        p = e / s
        rows = np.arange(len(y))
        loss = float(np.mean(np.log(s[:, 0]) - z[rows, y]))
        dz = p.copy()
        dz[rows, y] -= 1.0
        dz /= len(y)
        if self.wd:
            loss += 0.5 * self.wd * float(theta @ theta)
        return layers, acts, p, loss, dz

    def _backward(self, layers, acts, dz, out):
        """Fill `out` (flat) with dL/dtheta of the data term; return what the R-operator reuses:
        per layer dz_l, and for hidden layers da_l = dz_{l+1} W^T and the derivative act'(z_l)."""
        L = len(layers)
        dzs, das, ders = [None] * L, [None] * L, [None] * L
        for i in range(L - 1, -1, -1):
            o, a_in, a_out = self.shapes[i]
            dzs[i] = dz
            out[o:o + a_in * a_out] = (acts[i].T @ dz).ravel()
            out[o + a_in * a_out:o + a_in * a_out + a_out] = dz.sum(axis=0)
            if i:
                a = acts[i]
                das[i] = da = dz @ layers[i][0].T
                ders[i] = d1 = (1.0 - a * a) if self.act == "tanh" else (a > 0).astype(float)
                dz = da * d1
        return dzs, das, ders

    def _rop(self, layers, acts, p, back, v, out):
        """Pearlmutter's R-operator: fill `out` with H v of the data term.

        Reuses the forward activations and, from the backward pass, dz_l, da_l and act'(z_l):
        only the R-quantities (directional derivatives along v) are computed here.
        """
        dzs, das, ders = back
        N = p.shape[0]
        vl = self.unpack(v)
        L = len(layers)
        Ras, Rzs = [None], []
        for i in range(L):  # forward: R z_l = R a_{l-1} W_l + a_{l-1} V_l + Vb_l
            V, Vb = vl[i]
            Rz = acts[i] @ V
            Rz += Vb
            if i:
                Rz += Ras[i] @ layers[i][0]
            Rzs.append(Rz)
            if i < L - 1:
                Ras.append(Rz * ders[i + 1])
        Rz = Rzs[-1]  # softmax: R(p - Y)/N = p * (Rz - <p, Rz>)/N
        Rdz = p * (Rz - np.sum(p * Rz, axis=1, keepdims=True)) / N
        for i in range(L - 1, -1, -1):
            o, a_in, a_out = self.shapes[i]
            dz = dzs[i]
            g = acts[i].T @ Rdz
            if i:
                g += Ras[i].T @ dz
            out[o:o + a_in * a_out] = g.ravel()
            out[o + a_in * a_out:o + a_in * a_out + a_out] = Rdz.sum(axis=0)
            if i:
                Rda = Rdz @ layers[i][0].T
                Rda += dz @ vl[i][0].T
                if self.act == "tanh":  # R(da * (1 - a^2)) = Rda (1 - a^2) - 2 a (1 - a^2) da Rz
                    t = acts[i] * das[i]
                    t *= Rzs[i - 1]
                    t *= -2.0
                    t += Rda
                    t *= ders[i]
                    Rdz = t
                else:
                    Rdz = Rda * ders[i]

    # ---- the oracle interface on a batch (X, y) ------------------------------------------
    def value(self, theta, X, y):
        return self._forward(theta, X, y)[3]

    def value_and_grad(self, theta, X, y):
        layers, acts, p, loss, dz = self._forward(theta, X, y)
        g = np.empty(self.n)
        self._backward(layers, acts, dz, g)
        if self.wd:
            g += self.wd * theta
        return loss, g

    def grad(self, theta, X, y):
        return self.value_and_grad(theta, X, y)[1]

    def hvp(self, theta, v, X, y):
        """H(theta) v, exact (R-operator)."""
        return self.hvp_at(theta, X, y)(v)

    def hvp_at(self, theta, X, y):
        """v -> H(theta) v with the forward and backward passes at theta done once."""
        layers, acts, p, _, dz = self._forward(theta, X, y)
        back = self._backward(layers, acts, dz, np.empty(self.n))

        def hv(v):
            v = np.asarray(v, dtype=float)
            out = np.empty(self.n)
            self._rop(layers, acts, p, back, v, out)
            if self.wd:
                out += self.wd * v
            return out
        return hv

    def normgrad(self, theta, X, y, xi=1e-12):
        """(g, H g/(|g|+xi)): GAM Eq. 8 (grad of |grad L|) sharing one forward/backward pass."""
        layers, acts, p, _, dz = self._forward(theta, X, y)
        g = np.empty(self.n)
        back = self._backward(layers, acts, dz, g)
        if self.wd:
            g += self.wd * theta
        v = g / (np.sqrt(g @ g) + xi)
        f = np.empty(self.n)
        self._rop(layers, acts, p, back, v, f)
        if self.wd:
            f += self.wd * v
        return g, f

    def accuracy(self, theta, X, y):
        return float(np.mean(np.argmax(self.logits(theta, X), axis=1) == y))
