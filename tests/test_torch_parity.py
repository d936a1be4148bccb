"""The torch optimizers equal the NumPy core step for step (1e-9) on the same float64 MLP.

The reference oracle is an independent autograd MLP on a flat parameter vector; the torch side
is an nn.Sequential with the same weights, perturbed in place with double-backward HVPs.
"""
import pytest

torch = pytest.importorskip("torch")
autograd = pytest.importorskip("autograd")

import autograd.numpy as anp  # noqa: E402
import numpy as np  # noqa: E402
from numpy.testing import assert_allclose  # noqa: E402

import gamtoy.optim  # noqa: E402
import gamtoy.torch as gtt  # noqa: E402

SIZES = (4, 8, 3)
XI = 1e-12


def _data(seed=0, n=24):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, SIZES[0]))
    y = rng.integers(0, SIZES[-1], size=n)
    return X, y


def _unpack(theta):
    out, i = [], 0
    for a, b in zip(SIZES[:-1], SIZES[1:]):
        W = theta[i:i + a * b].reshape(b, a)
        i += a * b
        out.append((W, theta[i:i + b]))
        i += b
    return out


class AutogradMLP:
    """Oracle (value, grad, hvp, normgrad) of a tanh MLP with cross-entropy + l2/2 |theta|^2."""

    def __init__(self, X, y, l2=0.0):
        self.X, self.Y, self.l2 = X, np.eye(SIZES[-1])[y], l2
        self._grad = autograd.grad(self.value)

    def value(self, theta):
        h = self.X
        layers = _unpack(theta)
        for k, (W, b) in enumerate(layers):
            h = anp.dot(h, W.T) + b
            if k < len(layers) - 1:
                h = anp.tanh(h)
        lse = anp.log(anp.sum(anp.exp(h - anp.max(h, axis=1, keepdims=True)), axis=1))
        lse = lse + anp.max(h, axis=1)
        ce = anp.mean(lse - anp.sum(h * self.Y, axis=1))
        return ce + 0.5 * self.l2 * anp.dot(theta, theta)

    def grad(self, theta):
        return self._grad(theta)

    def hvp(self, theta, v):
        return autograd.grad(lambda t: anp.dot(self._grad(t), v))(theta)

    def normgrad(self, theta, xi):
        g = self.grad(theta)
        return g, self.hvp(theta, g / (np.linalg.norm(g) + xi))


def _torch_mlp(theta):
    layers = []
    for k, (a, b) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        layers.append(torch.nn.Linear(a, b).double())
        if k < len(SIZES) - 2:
            layers.append(torch.nn.Tanh())
    model = torch.nn.Sequential(*layers)
    torch.nn.utils.vector_to_parameters(torch.tensor(theta), model.parameters())
    return model


def _theta0(seed=1):
    n = sum(a * b + b for a, b in zip(SIZES[:-1], SIZES[1:]))
    return np.random.default_rng(seed).normal(size=n) * 0.7


CASES = [
    ("sgd", {}), ("momentum", {}), ("adam", {}),
    ("sam", {}), ("sam", {"base": "momentum"}), ("sam", {"base": "adam"}),
    ("gnp", {}), ("gnp", {"variant": "official"}), ("gnp", {"variant": "official", "alpha": 0.2}),
    ("gsam", {}), ("gsam", {"base": "momentum", "weight_decay": 5e-3}),
    ("gam", {}), ("gam", {"base": "momentum", "weight_decay": 5e-3}), ("gam", {"base": "adam"}),
    ("gam_accel", {}), ("gam_accel", {"variant": "official"}),
    ("gam_accel", {"variant": "official", "beta": 0.2, "base": "momentum"}),
    ("sam+gam", {}), ("sam+gam", {"rho_sam": 0.05}),
    ("gsam+gam", {}), ("gsam+gam", {"alpha_gsam": 0.6, "weight_decay": 1e-2}),
]


def _pair(name, hyper, lr=0.1):
    """(numpy optimizer, oracle, theta0) and (torch optimizer, model, closure)."""
    X, y = _data()
    hyper = dict(hyper)
    wd = hyper.pop("weight_decay", 0.0)
    base = hyper.pop("base", None)
    np_opt = gamtoy.optim.get(name, lr=lr, **({"base": base} if base else {}), **hyper)
    oracle = AutogradMLP(X, y, l2=wd)
    theta = _theta0()
    model = _torch_mlp(theta)
    t_opt = gtt.get(name, model.parameters(), lr=lr, base=base or "sgd", weight_decay=wd, **hyper)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    closure = lambda: torch.nn.functional.cross_entropy(model(Xt), yt)  # noqa: E731
    return np_opt, oracle, theta, t_opt, model, closure


@pytest.mark.parametrize("name,hyper", CASES, ids=[f"{n}-{h}" for n, h in CASES])
def test_torch_optimizer_equals_numpy_core_step_for_step(name, hyper):
    np_opt, oracle, theta, t_opt, model, closure = _pair(name, hyper)
    state = np_opt.init(theta)
    for _ in range(5):
        theta, state, _ = np_opt.update(theta, state, oracle)
        t_opt.step(closure)
        got = torch.nn.utils.parameters_to_vector(model.parameters()).detach().numpy()
        assert_allclose(got, theta, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("name", ["sam", "gnp", "gsam", "gam", "gam_accel", "sam+gam"])
def test_torch_diagnostics_equal_numpy_core_info(name):
    np_opt, oracle, theta, t_opt, model, closure = _pair(name, {})
    _, _, info = np_opt.update(theta, np_opt.init(theta), oracle, diag=True)
    loss = t_opt.step(closure)
    d = {k: float(v) for k, v in t_opt.diagnostics.items()}
    assert float(loss) == pytest.approx(float(info["f"]), rel=1e-12)
    assert d["grad_norm"] == pytest.approx(float(np.linalg.norm(info["g"])), rel=1e-10)
    if "cos" in d:
        assert d["cos"] == pytest.approx(float(np.squeeze(info["cos"])), rel=1e-10)
    if "r1" in info:
        assert d["r1"] == pytest.approx(float(np.squeeze(info["r1"])), rel=1e-10)
    if name in ("sam", "gnp", "gsam", "gam_accel"):
        assert d["h"] == pytest.approx(float(info["h"]), rel=1e-9)
    if name == "sam+gam":
        assert d["h_sam"] == pytest.approx(float(info["h"]), rel=1e-9)


def test_torch_hvp_equals_autograd_hvp():
    np_opt, oracle, theta, t_opt, model, closure = _pair("gam", {"weight_decay": 1e-2})
    from gamtoy.torch.core import Evaluator
    ev = Evaluator(t_opt, closure)
    loss, g, f = ev.normgrad()
    g_ref, f_ref = oracle.normgrad(theta, XI)
    assert_allclose(g.numpy(), g_ref, rtol=1e-11, atol=1e-13)
    assert_allclose(f.numpy(), f_ref, rtol=1e-10, atol=1e-12)
