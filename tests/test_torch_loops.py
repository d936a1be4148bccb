"""gamtoy.torch in other people's training loops: both closure conventions, the two-step API,
torch's lr schedulers, rho proportional to lr (GSAM Alg. 1) and clipping of the direction."""
import copy
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from test_torch_optim import _setup  # noqa: E402  (the tiny MLP and its data, on the CPU)

import gamtoy.optim  # noqa: E402
import gamtoy.torch as gtt  # noqa: E402
from gamtoy.optim import schedules  # noqa: E402

F = torch.nn.functional
# non-default hyper-parameters (asymmetric values) for each optimizer
HYPER = {"sam": dict(rho=0.13), "gnp": dict(rho=0.13, alpha=0.3),
         "gsam": dict(rho=0.13, alpha=0.3), "gam_accel": dict(rho=0.07, rho_prime=0.11, alpha=0.3,
                                                               beta=0.6, gamma=0.2),
         "sam+gam": dict(rho=0.09, alpha=0.3, rho_sam=0.05),
         "gsam+gam": dict(rho=0.09, alpha=0.3, alpha_gsam=0.4), "gam": dict(rho=0.09, alpha=0.3)}
BACKWARD_OK = ["sam", "gnp", "gsam", "gam_accel", "sam+gam", "gsam+gam", "gam"]


def _vec(model):
    return torch.nn.utils.parameters_to_vector(model.parameters()).detach().clone()


def _opt(name, net, **kw):
    return gtt.get(name, net.parameters(), lr=0.1, base="momentum", weight_decay=1e-3,
                   **{**HYPER[name], **kw})


def _backward_closure(opt, model, X, y):
    """torch's convention (LBFGS): zero the grads, backward, return the loss."""
    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(model(X), y)
        loss.backward()
        return loss
    return closure


# ---- closures both ways ---------------------------------------------------------------------

@pytest.mark.parametrize("name", BACKWARD_OK)
def test_a_backward_calling_closure_takes_the_same_steps_as_a_loss_returning_one(name):
    model, X, y = _setup()
    model2 = copy.deepcopy(model)
    opt, opt2 = _opt(name, model), _opt(name, model2)
    for _ in range(4):
        a = opt.step(lambda: F.cross_entropy(model(X), y))
        b = opt2.step(_backward_closure(opt2, model2, X, y))
        assert float(a) == pytest.approx(float(b), rel=1e-12)
    torch.testing.assert_close(_vec(model2), _vec(model), rtol=1e-9, atol=1e-12)
    assert not torch.equal(_vec(model), _vec(_setup()[0]))


@pytest.mark.parametrize("name", ["sam", "gam_accel", "gsam+gam"])
def test_backward_closures_with_micro_batches_and_batchnorm_equal_the_loss_closure(name):
    model, X, y = _setup(bn=True)
    model2 = copy.deepcopy(model)
    opt, opt2 = _opt(name, model, model=model), _opt(name, model2, model=model2)
    Xs, ys = X.chunk(4), y.chunk(4)

    def closure2(i):
        opt2.zero_grad()
        loss = F.cross_entropy(model2(Xs[i]), ys[i])
        loss.backward()
        return loss.detach()  # as Lightning's closure: the loss comes back without its graph
    for _ in range(3):
        opt.step(lambda i: F.cross_entropy(model(Xs[i]), ys[i]), accumulate=4)
        opt2.step(closure2, accumulate=4)
    torch.testing.assert_close(_vec(model2), _vec(model), rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(model2[1].running_mean, model[1].running_mean, rtol=0, atol=0)


def test_a_backward_closure_with_a_grad_scaler_equals_the_loss_closure():
    model, X, y = _setup(dtype=torch.float32)
    model2 = copy.deepcopy(model)
    s1, s2 = (torch.amp.GradScaler("cpu", init_scale=64.0) for _ in range(2))
    opt, opt2 = _opt("gsam", model), _opt("gsam", model2)
    for _ in range(3):
        opt.step(lambda: F.cross_entropy(model(X), y), scaler=s1)
        opt2.step(_backward_closure(opt2, model2, X, y), scaler=s2)
    torch.testing.assert_close(_vec(model2), _vec(model), rtol=1e-6, atol=1e-7)


def _grads_by_hand_closure(model, X, y):
    """A closure that writes .grad itself (no backward() call gamtoy can see) and returns the
    loss without its graph."""
    def closure():
        loss = F.cross_entropy(model(X), y)
        grads = torch.autograd.grad(loss, list(model.parameters()))
        for p, g in zip(model.parameters(), grads, strict=True):
            p.grad = g
        return loss.detach()
    return closure


@pytest.mark.parametrize("name", ["sam", "gsam", "gam_accel"])
def test_a_closure_that_sets_grad_itself_drives_the_first_order_methods(name):
    model, X, y = _setup()
    model2 = copy.deepcopy(model)
    opt, opt2 = _opt(name, model), _opt(name, model2)
    for _ in range(3):
        opt.step(lambda: F.cross_entropy(model(X), y))
        opt2.step(_grads_by_hand_closure(model2, X, y))
    torch.testing.assert_close(_vec(model2), _vec(model), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["gam", "sam+gam", "gsam+gam"])
def test_hvp_methods_without_a_graph_say_to_return_the_loss_or_use_gam_accel(name):
    model, X, y = _setup()
    before = _vec(model)
    opt = _opt(name, model)
    with pytest.raises(RuntimeError,
                       match=r"return the loss without calling backward\(\).*GAMAccel"):
        opt.step(_grads_by_hand_closure(model, X, y))
    assert torch.equal(_vec(model), before)


# ---- the two-step API -------------------------------------------------------------------------

@pytest.mark.parametrize("name,extra", [("sam", {}), ("gnp", {}), ("gnp", {"variant": "official"}),
                                        ("gsam", {}), ("gsam", {"max_grad_norm": 0.05})])
def test_first_step_second_step_equals_step_with_a_closure(name, extra):
    model, X, y = _setup(bn=True)
    model2 = copy.deepcopy(model)
    opt, opt2 = _opt(name, model, model=model, **extra), _opt(name, model2, model=model2, **extra)
    for k in range(4):
        opt.step(lambda: F.cross_entropy(model(X), y))
        F.cross_entropy(model2(X), y).backward()
        opt2.first_step(zero_grad=True)
        F.cross_entropy(model2(X), y).backward()
        if k % 2:
            opt2.second_step(zero_grad=True)
        else:  # a loop that calls optimizer.step() itself (Hugging Face's Trainer)
            opt2.step()
            opt2.zero_grad()
    torch.testing.assert_close(_vec(model2), _vec(model), rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(model2[1].running_var, model[1].running_var, rtol=0, atol=0)


@pytest.mark.parametrize("name", ["gam", "gam_accel", "sam+gam", "gsam+gam"])
def test_methods_with_more_than_two_evaluations_refuse_first_step_naming_the_closure(name):
    model, X, y = _setup()
    opt = _opt(name, model)
    with pytest.raises(NotImplementedError, match=r"no two-step API.*opt.step\(closure\)"):
        opt.first_step(zero_grad=True)


def test_the_two_step_api_refuses_steps_out_of_order():
    model, X, y = _setup()
    opt = _opt("sam", model)
    with pytest.raises(RuntimeError, match="needs a first_step"):
        opt.second_step()
    F.cross_entropy(model(X), y).backward()
    opt.first_step()
    with pytest.raises(RuntimeError, match="after first_step: call second_step"):
        opt.step(lambda: F.cross_entropy(model(X), y))


# ---- torch's lr schedulers ------------------------------------------------------------------

def _cosine(k, lr, T):
    return lr * (1 + math.cos(math.pi * k / T)) / 2


@pytest.mark.parametrize("kind", ["cosine", "lambda", "onecycle"])
def test_a_torch_lr_scheduler_sets_the_lr_of_each_step(kind):
    """After each step of plain SGD as base: theta_new = theta - lr_t d, d the direction left in
    .grad, lr_t by hand (cosine, lambda) or torch's OneCycleLR formula (cos annealing phases)."""
    model, X, y = _setup()
    opt = gtt.SAM(model.parameters(), torch.optim.SGD, lr=0.1, rho=0.13)
    T = 6
    if kind == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=T)
        want = [_cosine(k, 0.1, T) for k in range(T)]
    elif kind == "lambda":
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: 0.7 ** k)
        want = [0.1 * 0.7 ** k for k in range(T)]
    else:
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.3, total_steps=T, pct_start=0.4,
                                                    anneal_strategy="cos", div_factor=10,
                                                    final_div_factor=100, cycle_momentum=False)
        up = 0.4 * T - 1  # torch's phase ends: step 1.4 of warm-up, then annealing to T - 1

        def onecycle(k):
            lo, hi, end = 0.03, 0.3, 0.03 / 100
            if k <= up:
                return hi + (lo - hi) * (1 + math.cos(math.pi * k / up)) / 2
            return end + (hi - end) * (1 + math.cos(math.pi * (k - up) / (T - 1 - up))) / 2
        want = [onecycle(k) for k in range(T)]
    for k in range(T):
        before = _vec(model)
        opt.step(lambda: F.cross_entropy(model(X), y))
        d = torch.cat([p.grad.reshape(-1) for p in model.parameters()])
        torch.testing.assert_close(_vec(model), before - want[k] * d, rtol=1e-12, atol=1e-14)
        sched.step()


def test_rho_proportional_to_lr_equals_the_numpy_core_step_for_step():
    """GSAM Alg. 1 with a cosine lr (torch's CosineAnnealingLR) and rho from 0.3 down to 0.03:
    parameters and rho_t equal to the NumPy core's proportional schedule."""
    from test_torch_parity import AutogradMLP, _data, _theta0, _torch_mlp
    T, lr = 6, 0.1
    X, y = _data()
    theta = _theta0()
    core = gamtoy.optim.get("gsam", lr=schedules.cosine(lr, T), rho=0.3, rho_min=0.03,
                            rho_schedule="lr", alpha=0.3)
    oracle, state = AutogradMLP(X, y), core.init(theta)
    model = _torch_mlp(theta)
    opt = gtt.GSAM(model.parameters(), torch.optim.SGD, lr=lr, rho=0.3, rho_min=0.03,
                   rho_schedule="lr", alpha=0.3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=T - 1)
    rho_core = schedules.proportional(schedules.cosine(lr, T), 0.3, 0.03)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    for t in range(1, T + 1):
        theta, state, _ = core.update(theta, state, oracle)
        opt.step(lambda: F.cross_entropy(model(Xt), yt))
        assert float(opt.diagnostics["rho"]) == pytest.approx(rho_core(t), rel=1e-12)
        np.testing.assert_allclose(_vec(model).numpy(), theta, rtol=1e-9, atol=1e-10)
        sched.step()
    assert float(opt.diagnostics["rho"]) == pytest.approx(0.03)


def test_rho_schedule_refuses_what_it_cannot_use():
    model, _, _ = _setup()
    with pytest.raises(ValueError, match="unknown rho_schedule"):
        gtt.GSAM(model.parameters(), lr=0.1, rho_schedule="cosine")
    with pytest.raises(ValueError, match="rho_min=0.5 exceeds rho=0.3"):
        gtt.GSAM(model.parameters(), lr=0.1, rho=0.3, rho_min=0.5, rho_schedule="lr")
    with pytest.raises(ValueError, match="only with rho_schedule='lr'"):
        gtt.GSAM(model.parameters(), lr=0.1, rho_min=0.01)


# ---- clipping of the direction ----------------------------------------------------------------

def _sam_by_hand(model, X, y, rho, lr, max_norm):
    """SAM Eq. 3 with autograd, then d <- d min(1, c/(|d| + 1e-6)) and theta <- theta - lr d."""
    ps = list(model.parameters())
    g = torch.autograd.grad(F.cross_entropy(model(X), y), ps)
    n = torch.sqrt(sum((x * x).sum() for x in g))
    with torch.no_grad():
        for p, x in zip(ps, g, strict=True):
            p.add_(x, alpha=float(rho / (n + 1e-12)))
    g_p = torch.autograd.grad(F.cross_entropy(model(X), y), ps)
    n_d = torch.sqrt(sum((x * x).sum() for x in g_p))
    c = min(1.0, max_norm / (float(n_d) + 1e-6))
    with torch.no_grad():
        for p, x, d in zip(ps, g, g_p, strict=True):
            p.sub_(x, alpha=float(rho / (n + 1e-12)))
            p.sub_(d, alpha=lr * c)
    return float(n_d)


@pytest.mark.parametrize("max_norm", [0.03, 100.0])
def test_max_grad_norm_clips_the_direction_before_the_base_step(max_norm):
    model, X, y = _setup()
    ref = copy.deepcopy(model)
    opt = gtt.SAM(model.parameters(), torch.optim.SGD, lr=0.1, rho=0.13, max_grad_norm=max_norm)
    for _ in range(3):
        opt.step(lambda: F.cross_entropy(model(X), y))
        n_d = _sam_by_hand(ref, X, y, 0.13, 0.1, max_norm)
        assert float(opt.diagnostics["d_norm"]) == pytest.approx(n_d, rel=1e-10)
        torch.testing.assert_close(_vec(model), _vec(ref), rtol=1e-12, atol=1e-14)
    assert (n_d > max_norm) == (max_norm < 1)  # the small bound clips, the large one does not
