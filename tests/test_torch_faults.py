"""gamtoy.torch under faults and bad input (issue 9, torch): a non-finite loss at a perturbed
point, closures that give no loss, wrong base optimizers, micro-batch closures without an
index, state dicts of another optimizer, hyper-parameters that are not finite reals, per-group
hyper-parameters."""
import copy
import io

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gamtoy as gt  # noqa: E402
import gamtoy.torch as gtt  # noqa: E402
from gamtoy.torch import kernels  # noqa: E402

NAMES = ["sam", "gnp", "gsam", "gam", "gam_accel", "sam+gam", "gsam+gam"]
F = torch.nn.functional


def _setup(device, dtype=torch.float64):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
    X, y = torch.randn(32, 5, dtype=dtype), torch.randint(0, 3, (32,))
    return model.to(dtype).to(device), X.to(device), y.to(device)


def _vec(model):
    return torch.nn.utils.parameters_to_vector(model.parameters()).detach().clone().cpu()


def _nan_off_theta(model, X, y):
    """A closure whose loss is finite at the first call (theta) and NaN at every later one."""
    calls = [0]

    def closure():
        calls[0] += 1
        loss = F.cross_entropy(model(X), y)
        return loss if calls[0] == 1 else loss * float("nan")
    return closure


@pytest.mark.parametrize("forced", [False, True], ids=["cpu-path", "device-path"])
@pytest.mark.parametrize("name", NAMES)
def test_a_non_finite_loss_at_a_perturbed_point_skips_the_step(name, forced, device, monkeypatch):
    monkeypatch.setattr(kernels, "FORCE_DEVICE_PATH", forced)
    model, X, y = _setup(device)
    opt = gtt.get(name, model.parameters(), lr=0.1, base="momentum", model=model)
    opt.step(lambda: F.cross_entropy(model(X), y))  # momentum state exists
    before = _vec(model)
    state = copy.deepcopy(opt.base_optimizer.state_dict())
    loss = opt.step(_nan_off_theta(model, X, y))
    assert torch.isfinite(loss)
    assert torch.equal(_vec(model), before)
    assert opt.diagnostics["skipped"] is True and opt.skipped == 1
    after = opt.base_optimizer.state_dict()["state"]
    for k, v in state["state"].items():
        assert torch.equal(after[k]["momentum_buffer"], v["momentum_buffer"])
    opt.step(lambda: F.cross_entropy(model(X), y))  # the next good step goes on
    assert opt.diagnostics["skipped"] is False and not torch.equal(_vec(model), before)


def test_with_a_grad_scaler_the_scaler_skips_and_backs_off(device):
    model, X, y = _setup(device, torch.float32)
    scaler = torch.amp.GradScaler(device, init_scale=256.0)
    opt = gtt.SAM(model.parameters(), lr=0.1)
    before = _vec(model)
    assert opt.step(_nan_off_theta(model, X, y), scaler=scaler) is None
    assert torch.equal(_vec(model), before) and opt.skipped == 1
    assert scaler.get_scale() == 128.0


def test_without_the_check_a_bad_step_returns_a_nan_loss_never_a_finite_one(device):
    model, X, y = _setup(device)
    opt = gtt.SAM(model.parameters(), lr=0.1, check_finite=False)
    loss = opt.step(_nan_off_theta(model, X, y))
    finite_params = bool(torch.isfinite(_vec(model)).all())
    assert finite_params or not bool(torch.isfinite(loss))


def test_a_closure_that_neither_returns_a_loss_nor_calls_backward_is_an_error(device):
    model, X, y = _setup(device)
    opt = gtt.GSAM(model.parameters(), lr=0.1)
    before = _vec(model)
    with pytest.raises(TypeError, match=r"return the loss tensor, or call loss.backward\(\)"):
        opt.step(lambda: None)
    assert torch.equal(_vec(model), before)


def test_a_base_optimizer_instance_or_string_is_an_error_naming_the_fix(device):
    model, _, _ = _setup(device)
    with pytest.raises(TypeError, match="got an instance of SGD: pass SGD itself"):
        gtt.SAM(model.parameters(), torch.optim.SGD(model.parameters(), lr=0.1), lr=0.1)
    with pytest.raises(TypeError, match=r"got the string 'sgd'.*torch.optim.SGD"):
        gtt.SAM(model.parameters(), "sgd", lr=0.1)
    with pytest.raises(TypeError, match="Optimizer subclass"):
        gtt.SAM(model.parameters(), len, lr=0.1)


def test_accumulate_with_a_closure_without_an_index_is_an_error(device):
    model, X, y = _setup(device)
    opt = gtt.GAM(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match=r"closure takes no argument.*lambda i"):
        opt.step(lambda: F.cross_entropy(model(X), y), accumulate=2)
    for bad, err in ((0, ValueError), (True, TypeError), (1.5, TypeError)):
        with pytest.raises(err, match="accumulate"):
            opt.step(lambda i: F.cross_entropy(model(X), y), accumulate=bad)


def _saved(opt):
    buf = io.BytesIO()
    torch.save(opt.state_dict(), buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


def test_a_state_dict_of_another_class_or_base_is_an_error(device):
    model, X, y = _setup(device)
    gam = gtt.GAM(model.parameters(), lr=0.1)
    gam.step(lambda: F.cross_entropy(model(X), y))
    with pytest.raises(ValueError, match=r"saved by GAM \('gam'\) on base SGD, not SAM"):
        gtt.SAM(model.parameters(), lr=0.1).load_state_dict(_saved(gam))
    sam = gtt.SAM(model.parameters(), torch.optim.SGD, lr=0.1)
    with pytest.raises(ValueError, match="on base SGD, not SAM .* on base Adam"):
        gtt.SAM(model.parameters(), torch.optim.Adam, lr=0.1).load_state_dict(_saved(sam))
    plain = torch.optim.SGD(model.parameters(), lr=0.1).state_dict()
    with pytest.raises(ValueError, match="not a gamtoy.torch state dict"):
        gtt.SAM(model.parameters(), lr=0.1).load_state_dict(plain)
    old = _saved(sam)
    del old["gamtoy"]  # a state dict from before the identity was saved
    with pytest.raises(ValueError, match=r"lacks \['alpha'\]"):
        gtt.GSAM(model.parameters(), lr=0.1).load_state_dict(old)
    gtt.SAM(model.parameters(), lr=0.1).load_state_dict(_saved(sam))  # its own loads


@pytest.mark.parametrize("value", [np.float32(0.05), np.float64(0.05), np.array(0.05), 0.05])
def test_numpy_real_scalars_are_accepted_as_hyper_parameters(value, device):
    model, X, y = _setup(device)
    opt = gtt.GSAM(model.parameters(), lr=0.1, rho=value, alpha=np.float32(0.25))
    assert type(opt.hyper("rho")) is float and opt.hyper("rho") == pytest.approx(0.05)
    opt.step(lambda: F.cross_entropy(model(X), y))


@pytest.mark.parametrize("key", ["rho", "alpha"])
@pytest.mark.parametrize("value,err", [(True, TypeError), ("0.1", TypeError),
                                       (float("nan"), ValueError), (float("inf"), ValueError),
                                       (np.float32(-1), ValueError)])
def test_bools_strings_nan_inf_and_negatives_are_refused(key, value, err, device):
    model, _, _ = _setup(device)
    with pytest.raises(err, match=key):
        gtt.GSAM(model.parameters(), lr=0.1, **{key: value})


def test_gam_accel_weights_above_1_are_refused(device):
    model, _, _ = _setup(device)
    with pytest.raises(ValueError, match=r"0 <= beta <= 1 \(GAM Eq. 44\)"):
        gtt.GAMAccel(model.parameters(), lr=0.1, beta=np.float32(1.5))


def test_per_group_rho_equal_in_every_group_is_honoured_and_differing_is_refused(device):
    model, X, y = _setup(device)
    groups = [{"params": model[0].parameters(), "rho": 0.11},
              {"params": model[2].parameters(), "rho": 0.11, "lr": 0.05}]
    opt = gtt.SAM(groups, lr=0.1)
    assert opt.hyper("rho") == 0.11
    model2 = copy.deepcopy(model)
    ref = gtt.SAM([{"params": model2[0].parameters()},
                   {"params": model2[2].parameters(), "lr": 0.05}], lr=0.1, rho=0.11)
    opt.step(lambda: F.cross_entropy(model(X), y))
    ref.step(lambda: F.cross_entropy(model2(X), y))
    assert torch.equal(_vec(model), _vec(model2))
    with pytest.raises(ValueError, match=r"param group 1 sets rho=0.2 but group 0 has rho=0.05"):
        gtt.SAM([{"params": model[0].parameters()},
                 {"params": model[2].parameters(), "rho": 0.2}], lr=0.1)
    with pytest.raises(ValueError, match="rho must be a non-negative finite number"):
        gtt.SAM([{"params": model[0].parameters(), "rho": float("nan")}], lr=0.1)


@pytest.mark.parametrize("kw,err,match", [
    ({"lr": float("nan")}, ValueError, "lr"), ({"lr": float("inf")}, ValueError, "lr"),
    ({"lr": True}, TypeError, "lr"), ({"lr": "0.1"}, TypeError, "lr"),
    ({"lr": -1.0}, ValueError, "lr must be non-negative"),
    ({"momentum": float("nan")}, ValueError, "momentum"),
    ({"weight_decay": float("nan")}, ValueError, "weight_decay")])
def test_base_optimizer_numbers_torch_lets_through_are_refused(kw, err, match, device):
    # torch.optim.SGD accepts lr=nan, lr=inf, lr=True and momentum=nan: every parameter NaN
    model, _, _ = _setup(device)
    with pytest.raises(err, match=match):
        gtt.SAM(model.parameters(), torch.optim.SGD, rho=0.05, **{"lr": 0.1, **kw})
    with pytest.raises(err, match=match):
        gtt.get("gam", model.parameters(), base="momentum", **{"lr": 0.1, **kw})


def test_a_param_group_with_a_nan_lr_is_refused(device):
    model, _, _ = _setup(device)
    with pytest.raises(ValueError, match=r"param group 1: lr"):
        gtt.SAM([{"params": model[0].parameters()},
                 {"params": model[2].parameters(), "lr": float("nan")}], lr=0.1)


def test_add_param_group_is_checked_and_stepped_like_the_first(device):
    model, X, y = _setup(device)
    opt = gtt.SAM(model[0].parameters(), lr=0.1, rho=0.07)
    with pytest.raises(ValueError, match=r"sets rho=0.5 but group 0 has rho=0.07"):
        opt.add_param_group({"params": model[2].parameters(), "rho": 0.5})
    with pytest.raises(ValueError, match="lr"):
        opt.add_param_group({"params": model[2].parameters(), "lr": float("inf")})
    opt.add_param_group({"params": model[2].parameters(), "lr": 0.05})
    model2 = copy.deepcopy(model)
    ref = gtt.SAM([{"params": model2[0].parameters()},
                   {"params": model2[2].parameters(), "lr": 0.05}], lr=0.1, rho=0.07)
    opt.step(lambda: F.cross_entropy(model(X), y))
    ref.step(lambda: F.cross_entropy(model2(X), y))
    assert torch.equal(_vec(model), _vec(model2))


def test_a_state_dict_that_is_not_a_mapping_is_refused(device):
    model, _, _ = _setup(device)
    with pytest.raises(TypeError, match="state_dict must be a dict"):
        gtt.SAM(model.parameters(), lr=0.1).load_state_dict(5)


@pytest.mark.parametrize("name", ["sgd", "sam", "gam"])
def test_a_nan_loss_at_theta_skips_the_step_parameters_stay_finite(name, device):
    # the loss was NaN at theta itself: every parameter became NaN (the NaN loss returned)
    model, X, y = _setup(device)
    opt = gtt.get(name, model.parameters(), lr=0.1, base="momentum")
    before = _vec(model)
    loss = opt.step(lambda: F.cross_entropy(model(X), y) * float("nan"))
    assert not bool(torch.isfinite(loss)) and opt.diagnostics["skipped"] is True
    assert torch.equal(_vec(model), before) and opt.skipped == 1
    opt.step(lambda: F.cross_entropy(model(X), y))
    assert opt.diagnostics["skipped"] is False and bool(torch.isfinite(_vec(model)).all())


def test_a_scaler_that_is_not_a_grad_scaler_is_a_type_error(device):
    model, X, y = _setup(device)
    opt = gtt.SAM(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match="scaler must be a torch.amp.GradScaler or None"):
        opt.step(lambda: F.cross_entropy(model(X), y), scaler="x")


@pytest.mark.parametrize("cls", ["SAM", "GSAM", "GAMAccel"])
@pytest.mark.parametrize("xi", [0.0, -1e-12])
def test_xi_at_or_below_zero_is_refused_as_in_the_core(cls, xi, device):
    model, _, _ = _setup(device)
    with pytest.raises(ValueError, match="xi must be positive"):
        getattr(gtt, cls)(model.parameters(), lr=0.1, xi=xi)
    with pytest.raises(ValueError, match="xi must be positive"):
        gt.optim.get(cls.lower().replace("gamaccel", "gam_accel"), xi=xi)
