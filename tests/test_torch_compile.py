"""torch.compile: a compiled model steps like the eager one (SAM, GNP, GSAM, GAMAccel), and GAM
says in its own words why its double backward cannot run compiled. Compiling is slow on a CPU:
one small model, compiled once for the module."""
import copy
import shutil

import pytest

torch = pytest.importorskip("torch")

import gamtoy.torch as gtt  # noqa: E402

F = torch.nn.functional
HYPER = {"sam": dict(rho=0.13), "gnp": dict(rho=0.13, alpha=0.3), "gsam": dict(rho=0.13, alpha=0.3),
         "gam_accel": dict(rho=0.07, rho_prime=0.11, alpha=0.3)}


@pytest.fixture(scope="module")
def compiled():
    """(eager module, its compiled wrapper, theta0, X, y), float32."""
    if shutil.which("gcc") is None and shutil.which("cc") is None:
        pytest.skip("torch.compile on the CPU needs a C compiler (gcc)")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
    theta0 = [p.detach().clone() for p in model.parameters()]
    return model, torch.compile(model), theta0, torch.randn(32, 5), torch.randint(0, 3, (32,))


def _reset(model, theta0):
    with torch.no_grad():
        for p, t in zip(model.parameters(), theta0, strict=True):
            p.copy_(t)


def _vec(model):
    return torch.nn.utils.parameters_to_vector(model.parameters()).detach().clone()


def test_a_compiled_model_takes_the_eager_steps_with_the_first_order_methods(compiled):
    model, fast, theta0, X, y = compiled
    for name, hyper in HYPER.items():
        eager = copy.deepcopy(model)
        _reset(eager, theta0)
        opt = gtt.get(name, eager.parameters(), lr=0.1, base="momentum", **hyper)
        for _ in range(3):
            opt.step(lambda eager=eager: F.cross_entropy(eager(X), y))
        _reset(model, theta0)
        opt = gtt.get(name, model.parameters(), lr=0.1, base="momentum", **hyper)
        for _ in range(3):
            opt.step(lambda: F.cross_entropy(fast(X), y))
        torch.testing.assert_close(_vec(model), _vec(eager), rtol=1e-5, atol=1e-6, msg=name)


@pytest.mark.parametrize("name", ["gam", "sam+gam"])
def test_gam_through_a_compiled_model_says_so_and_names_the_alternatives(compiled, name):
    model, fast, theta0, X, y = compiled
    _reset(model, theta0)
    opt = gtt.get(name, model.parameters(), lr=0.1)
    with pytest.raises(RuntimeError, match=r"cannot run through a torch.compile'd model.*GAMAccel"):
        opt.step(lambda: F.cross_entropy(fast(X), y))
    torch.testing.assert_close(_vec(model), torch.cat([t.reshape(-1) for t in theta0]))
