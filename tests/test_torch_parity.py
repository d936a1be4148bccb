"""The torch optimizers equal the NumPy core step for step (1e-9) on the same float64 MLP.

The reference oracle is an independent autograd MLP on a flat parameter vector; the torch side
is an nn.Sequential with the same weights. Every case runs on each test device and, on the CPU,
both kernel paths (`path="device"` forces the tensor-scalar branches a GPU takes). The
hyper-parameters are asymmetric and not the defaults (beta != 1 - beta, alpha != 0.5, ...), so a
swapped weight fails.
"""
import pytest

torch = pytest.importorskip("torch")
autograd = pytest.importorskip("autograd")

import autograd.numpy as anp  # noqa: E402
import numpy as np  # noqa: E402
from numpy.testing import assert_allclose  # noqa: E402

import gamtoy.optim  # noqa: E402
import gamtoy.torch as gtt  # noqa: E402
from gamtoy.torch import kernels  # noqa: E402

SIZES = (4, 8, 3)
XI = 1e-12


def _data(seed=0, n=24):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, SIZES[0]))
    y = rng.integers(0, SIZES[-1], size=n)
    return X, y


def _unpack(theta):
    out, i = [], 0
    for a, b in zip(SIZES[:-1], SIZES[1:], strict=True):
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


@pytest.fixture(params=["cpu", "device"])
def path(request, monkeypatch, device):
    """The kernel path: "cpu" (Python-number scalars where the tensor is on the CPU) or
    "device" (FORCE_DEVICE_PATH: 0-d tensor scalars and _foreach kernels, as on a GPU)."""
    if device != "cpu" and request.param == "device":
        pytest.skip("off the CPU the device path is the only one")
    monkeypatch.setattr(kernels, "FORCE_DEVICE_PATH", request.param == "device")
    return request.param


def _torch_mlp(theta, device="cpu"):
    layers = []
    for k, (a, b) in enumerate(zip(SIZES[:-1], SIZES[1:], strict=True)):
        layers.append(torch.nn.Linear(a, b).double())
        if k < len(SIZES) - 2:
            layers.append(torch.nn.Tanh())
    model = torch.nn.Sequential(*layers).to(device)
    torch.nn.utils.vector_to_parameters(torch.tensor(theta, device=device), model.parameters())
    return model


def _theta0(seed=1):
    n = sum(a * b + b for a, b in zip(SIZES[:-1], SIZES[1:], strict=True))
    return np.random.default_rng(seed).normal(size=n) * 0.7


AS = {"sam": {"rho": 0.07}, "gnp": {"rho": 0.07, "alpha": 0.7}, "gsam": {"rho": 0.07, "alpha": 0.7},
      "gam": {"rho": 0.13, "alpha": 0.7},
      "gam_accel": {"rho": 0.13, "rho_prime": 0.03, "alpha": 0.7, "beta": 0.3, "gamma": 0.4},
      "sam+gam": {"rho": 0.13, "alpha": 0.7}, "gsam+gam": {"rho": 0.13, "alpha": 0.7,
                                                            "alpha_gsam": 0.6}}
CASES = [
    ("sgd", {}), ("momentum", {}), ("adam", {}),
    ("sam", {}), ("sam", {"base": "momentum"}), ("sam", {"base": "adam"}),
    ("gnp", {}), ("gnp", {"variant": "official"}), ("gnp", {"variant": "official", "alpha": 0.2}),
    ("gnp", {"variant": "official", "rho": 0.0}),
    ("gsam", {}), ("gsam", {"base": "momentum", "weight_decay": 5e-3}),
    ("gam", {}), ("gam", {"base": "momentum", "weight_decay": 5e-3}), ("gam", {"base": "adam"}),
    ("gam_accel", {}), ("gam_accel", {"variant": "official"}),
    ("gam_accel", {"variant": "official", "beta": 0.2, "base": "momentum"}),
    ("sam+gam", {}), ("sam+gam", {"rho_sam": 0.05}),
    ("gsam+gam", {}), ("gsam+gam", {"alpha_gsam": 0.45, "weight_decay": 1e-2}),
]
NAMES_VARIANTS = [("sam", {}), ("gnp", {}), ("gnp", {"variant": "official"}), ("gsam", {}),
                  ("gam", {}), ("gam_accel", {}), ("gam_accel", {"variant": "official"}),
                  ("sam+gam", {}), ("gsam+gam", {})]


def _pair(name, hyper, lr=0.1, device="cpu"):
    """(numpy optimizer, oracle, theta0) and (torch optimizer, model, closure)."""
    X, y = _data()
    hyper = {**AS.get(name, {}), **hyper}
    wd = hyper.pop("weight_decay", 0.0)
    base = hyper.pop("base", None)
    np_opt = gamtoy.optim.get(name, lr=lr, **({"base": base} if base else {}), **hyper)
    oracle = AutogradMLP(X, y, l2=wd)
    theta = _theta0()
    model = _torch_mlp(theta, device)
    t_opt = gtt.get(name, model.parameters(), lr=lr, base=base or "sgd", weight_decay=wd, **hyper)
    Xt, yt = torch.tensor(X, device=device), torch.tensor(y, device=device)
    closure = lambda: torch.nn.functional.cross_entropy(model(Xt), yt)  # noqa: E731
    return np_opt, oracle, theta, t_opt, model, closure


def _params(model):
    return torch.nn.utils.parameters_to_vector(model.parameters()).detach().cpu().numpy()


@pytest.mark.parametrize("name,hyper", CASES, ids=[f"{n}-{h}" for n, h in CASES])
def test_torch_optimizer_equals_numpy_core_step_for_step(name, hyper, device, path):
    np_opt, oracle, theta, t_opt, model, closure = _pair(name, hyper, device=device)
    state = np_opt.init(theta)
    for _ in range(5):
        theta, state, _ = np_opt.update(theta, state, oracle)
        t_opt.step(closure)
        assert_allclose(_params(model), theta, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("name,hyper", NAMES_VARIANTS, ids=[f"{n}-{h}" for n, h in NAMES_VARIANTS])
def test_cuda_equals_cpu_in_float64(name, hyper):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    got = {}
    for device in ("cpu", "cuda"):
        _, _, _, t_opt, model, closure = _pair(name, hyper, device=device)
        for _ in range(5):
            t_opt.step(closure)
        got[device] = _params(model)
    assert_allclose(got["cuda"], got["cpu"], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["sam", "gnp", "gsam", "gam", "gam_accel", "sam+gam"])
def test_torch_diagnostics_equal_numpy_core_info(name, device, path):
    np_opt, oracle, theta, t_opt, model, closure = _pair(name, {}, device=device)
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


@pytest.mark.parametrize("hvp", ["double_backward", "forward_over_reverse", "auto"])
def test_torch_hvp_equals_autograd_hvp(hvp, device):
    np_opt, oracle, theta, t_opt, model, closure = _pair("gam", {"weight_decay": 1e-2},
                                                         device=device)
    t_opt.hvp, t_opt.model = hvp, model
    from gamtoy.torch.evaluate import Evaluator
    ev = Evaluator(t_opt, closure)
    loss, g, f = ev.normgrad()
    g_ref, f_ref = oracle.normgrad(theta, XI)
    assert_allclose(g.cpu().numpy(), g_ref, rtol=1e-11, atol=1e-13)
    assert_allclose(f.cpu().numpy(), f_ref, rtol=1e-10, atol=1e-12)
