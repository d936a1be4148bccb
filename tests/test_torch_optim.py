"""gamtoy.torch optimizers: BatchNorm, accumulation, state_dict, mixed precision, bad input."""
import copy
import io

import pytest

torch = pytest.importorskip("torch")

import gamtoy.torch as gtt  # noqa: E402

NAMES = ["sam", "gnp", "gsam", "gam", "gam_accel", "sam+gam", "gsam+gam"]
F = torch.nn.functional


def _setup(seed=0, bn=False, dtype=torch.float64, n=32, device="cpu"):
    torch.manual_seed(seed)
    layers = [torch.nn.Linear(5, 16)]
    if bn:
        layers.append(torch.nn.BatchNorm1d(16))
    layers += [torch.nn.Tanh(), torch.nn.Linear(16, 3)]
    model = torch.nn.Sequential(*layers).to(dtype)
    X = torch.randn(n, 5, dtype=dtype)
    y = torch.randint(0, 3, (n,))
    return model.to(device), X.to(device), y.to(device)


def _vec(model):
    return torch.nn.utils.parameters_to_vector(model.parameters()).detach().clone().cpu()


@pytest.mark.parametrize("name", NAMES)
def test_batchnorm_running_stats_updated_once_per_step_as_one_forward(name, device):
    model, X, y = _setup(bn=True, device=device)
    ref = copy.deepcopy(model)
    opt = gtt.get(name, model.parameters(), lr=0.1, model=model)
    opt.step(lambda: F.cross_entropy(model(X), y))
    ref(X)  # one forward pass at the starting point
    bn, bn_ref = model[1], ref[1]
    torch.testing.assert_close(bn.running_mean, bn_ref.running_mean, rtol=0, atol=0)
    torch.testing.assert_close(bn.running_var, bn_ref.running_var, rtol=0, atol=0)
    assert int(bn.num_batches_tracked) == 1


@pytest.mark.parametrize("name", ["sam", "gam", "gam_accel", "gsam+gam"])
def test_accumulating_micro_batches_equals_one_batch(name, device):
    model, X, y = _setup(device=device)
    model2 = copy.deepcopy(model)
    opt = gtt.get(name, model.parameters(), lr=0.1, base="momentum", weight_decay=1e-3)
    opt2 = gtt.get(name, model2.parameters(), lr=0.1, base="momentum", weight_decay=1e-3)
    Xs, ys = X.chunk(4), y.chunk(4)
    for _ in range(3):
        opt.step(lambda: F.cross_entropy(model(X), y))
        opt2.step(lambda i: F.cross_entropy(model2(Xs[i]), ys[i]), accumulate=4)
    torch.testing.assert_close(_vec(model2), _vec(model), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["sam", "gam", "gam_accel"])
def test_state_dict_round_trip_continues_identically(name, device):
    model, X, y = _setup(device=device)
    opt = gtt.get(name, model.parameters(), lr=0.05, base="adam", rho=0.07)
    closure = lambda: F.cross_entropy(model(X), y)  # noqa: E731
    for _ in range(2):
        opt.step(closure)
    buf = io.BytesIO()
    torch.save({"model": model.state_dict(), "opt": opt.state_dict()}, buf)
    buf.seek(0)
    saved = torch.load(buf, weights_only=True)
    model2, _, _ = _setup(seed=5, device=device)
    model2.load_state_dict(saved["model"])
    opt2 = gtt.get(name, model2.parameters(), lr=0.9, base="adam")
    opt2.load_state_dict(saved["opt"])
    assert opt2.param_groups[0]["rho"] == 0.07 and opt2.param_groups[0]["lr"] == 0.05
    assert opt2.param_groups is opt2.base_optimizer.param_groups
    for _ in range(2):
        opt.step(closure)
        opt2.step(lambda: F.cross_entropy(model2(X), y))
    torch.testing.assert_close(_vec(model2), _vec(model), rtol=0, atol=0)


@pytest.mark.parametrize("name", NAMES)
def test_rho_zero_is_exactly_the_base_optimizer(name, device):
    model, X, y = _setup(device=device)
    model2 = copy.deepcopy(model)
    kw = {"rho_prime": 0.0} if name == "gam_accel" else {}
    opt = gtt.get(name, model.parameters(), lr=0.1, base="momentum", rho=0.0, **kw)
    base = torch.optim.SGD(model2.parameters(), lr=0.1, momentum=0.9)
    if name == "gnp":  # the official variant has no base shortcut (d = g/|g|, tested below)
        assert gtt.get(name, model.parameters(), rho=0.0, variant="official")._is_base() is False
    for _ in range(3):
        opt.step(lambda: F.cross_entropy(model(X), y))
        base.zero_grad()
        F.cross_entropy(model2(X), y).backward()
        base.step()
    assert torch.equal(_vec(model), _vec(model2))


def test_weight_decay_is_l2_at_every_point_and_decoupled_for_adamw(device):
    model, X, y = _setup(device=device)
    opt = gtt.SAM(model.parameters(), torch.optim.SGD, lr=0.1, weight_decay=0.01)
    assert opt.param_groups[0]["l2"] == 0.01 and opt.param_groups[0]["weight_decay"] == 0.0
    opt = gtt.SAM(model.parameters(), torch.optim.AdamW, lr=0.1, weight_decay=0.01)
    assert opt.param_groups[0]["l2"] == 0.0 and opt.param_groups[0]["weight_decay"] == 0.01


@pytest.mark.parametrize("name", NAMES)
def test_zero_gradient_gives_no_nan(name, device):
    model, X, y = _setup(device=device)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    opt = gtt.get(name, model.parameters(), lr=0.1)
    before = _vec(model)
    opt.step(lambda: (model(X) ** 2).sum() * 0.0 + sum(p.sum() for p in model.parameters()) * 0.0)
    assert torch.isfinite(_vec(model)).all()
    assert torch.equal(_vec(model), before)
    assert all(torch.isfinite(torch.as_tensor(v)).all() for v in opt.diagnostics.values())


def test_parameters_without_requires_grad_are_skipped(device):
    model, X, y = _setup(device=device)
    model[0].weight.requires_grad_(False)
    frozen = model[0].weight.detach().clone()
    opt = gtt.GAM(model.parameters(), lr=0.1)
    opt.step(lambda: F.cross_entropy(model(X), y))
    assert torch.equal(model[0].weight, frozen)
    assert not torch.equal(model[2].weight.grad, torch.zeros_like(model[2].weight))


def test_unused_parameter_gets_zero_direction(device):
    model, X, y = _setup(device=device)
    extra = torch.nn.Parameter(torch.ones(3, dtype=torch.float64, device=device))
    opt = gtt.GAM(list(model.parameters()) + [extra], lr=0.1)
    opt.step(lambda: F.cross_entropy(model(X), y))
    assert torch.equal(extra.detach(), torch.ones(3, dtype=torch.float64, device=device))


def test_bad_input_gives_clear_errors(device):
    model, X, y = _setup(device=device)
    opt = gtt.SAM(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="scalar loss"):
        opt.step(lambda: F.cross_entropy(model(X), y, reduction="none"))
    with pytest.raises(ValueError, match="no graph"):
        opt.step(lambda: F.cross_entropy(model(X), y).detach())
    with pytest.raises(TypeError, match="torch.Tensor"):
        opt.step(lambda: F.cross_entropy(model(X), y).item())
    with pytest.raises(ValueError, match="closure"):
        opt.step()
    for k in ("rho", "alpha"):
        with pytest.raises(ValueError, match=f"{k} must be a non-negative finite number"):
            gtt.GSAM(model.parameters(), lr=0.1, **{k: -0.1})
    with pytest.raises(ValueError, match="variant"):
        gtt.GNP(model.parameters(), lr=0.1, variant="nope")
    with pytest.raises(ValueError, match="unknown optimizer"):
        gtt.get("adagrad", model.parameters())
    meta = torch.nn.Parameter(torch.zeros(2, device="meta"))
    with pytest.raises(ValueError, match="mixes devices"):
        gtt.SAM([{"params": list(model.parameters()) + [meta]}], lr=0.1)
    # a failed step leaves the parameters where they were
    before = _vec(model)
    with pytest.raises(ValueError):
        gtt.GAM(model.parameters(), lr=0.1).step(lambda: model(X).sum(dim=1))
    assert torch.equal(_vec(model), before)


@pytest.mark.parametrize("name", ["sam", "gam", "gam_accel"])
def test_autocast_bfloat16_on_cpu_steps_close_to_float32(name, device):
    model, X, y = _setup(dtype=torch.float32, device=device)
    model2 = copy.deepcopy(model)
    opt = gtt.get(name, model.parameters(), lr=0.1)
    opt2 = gtt.get(name, model2.parameters(), lr=0.1)

    def amp_closure():
        with torch.autocast(device, dtype=torch.bfloat16):
            return F.cross_entropy(model2(X), y)

    opt.step(lambda: F.cross_entropy(model(X), y))
    opt2.step(amp_closure)
    assert all(p.dtype == torch.float32 for p in model2.parameters())
    torch.testing.assert_close(_vec(model2), _vec(model), rtol=0, atol=2e-2)


def test_grad_scaler_unscales_and_skips_a_non_finite_step(device):
    model, X, y = _setup(dtype=torch.float32, device=device)
    model2 = copy.deepcopy(model)
    scaler = torch.amp.GradScaler(device, init_scale=1024.0, growth_interval=2)
    opt = gtt.GAM(model.parameters(), lr=0.1)
    opt2 = gtt.GAM(model2.parameters(), lr=0.1)
    opt.step(lambda: F.cross_entropy(model(X), y), scaler=scaler)
    opt2.step(lambda: F.cross_entropy(model2(X), y))
    torch.testing.assert_close(_vec(model), _vec(model2), rtol=1e-5, atol=1e-6)
    before = _vec(model)
    assert opt.step(lambda: F.cross_entropy(model(X), y) * float("inf"), scaler=scaler) is None
    assert torch.equal(_vec(model), before) and opt.skipped == 1
    assert scaler.get_scale() == 512.0


def _grad(model, X, y):
    params = list(model.parameters())
    return list(torch.autograd.grad(F.cross_entropy(model(X), y), params))


@torch.no_grad()
def _shift(model, v, s):
    for p, x in zip(model.parameters(), v, strict=True):
        p.add_(x, alpha=s)


def _gnorm(v):
    return float(torch.sqrt(sum((x * x).sum() for x in v)))


def test_gnp_official_step_equals_a_hand_computation_from_autograd_gradients(device):
    # released code: u = g/|g|, d = (1-alpha) u + alpha g(theta + r u), clipped at global norm 5
    model, X, y = _setup(device=device)
    ref = copy.deepcopy(model)
    lr, r, alpha = 0.1, 0.07, 0.7
    opt = gtt.GNP(model.parameters(), lr=lr, rho=r, alpha=alpha, variant="official")
    for _ in range(3):
        g = _grad(ref, X, y)
        n = _gnorm(g)
        u = [x / n for x in g]
        _shift(ref, u, r)
        g_p = _grad(ref, X, y)
        _shift(ref, u, -r)
        d = [(1 - alpha) * a + alpha * b for a, b in zip(u, g_p, strict=True)]
        nd = _gnorm(d)
        if nd >= 5.0:
            d = [x * 5.0 / nd for x in d]
        _shift(ref, d, -lr)
        opt.step(lambda: F.cross_entropy(model(X), y))
        torch.testing.assert_close(_vec(model), _vec(ref), rtol=1e-10, atol=1e-12)


def test_gnp_official_clips_the_direction_at_norm_5_and_alpha_1_is_sam_below_it(device):
    model, X, y = _setup(device=device)
    with torch.no_grad():  # large logits: |g_p| well above 5
        model[-1].weight.mul_(40.0)
    opt = gtt.GNP(model.parameters(), lr=0.1, rho=0.05, alpha=1.0, variant="official")
    opt.step(lambda: F.cross_entropy(model(X), y))
    assert _gnorm([p.grad for p in model.parameters()]) == pytest.approx(5.0, rel=1e-12)
    model, X, y = _setup(device=device)
    model2 = copy.deepcopy(model)
    off = gtt.GNP(model.parameters(), lr=0.1, rho=0.05, alpha=1.0, variant="official")
    sam = gtt.SAM(model2.parameters(), lr=0.1, rho=0.05)
    for _ in range(3):
        off.step(lambda: F.cross_entropy(model(X), y))
        sam.step(lambda: F.cross_entropy(model2(X), y))
        assert _gnorm([p.grad for p in model2.parameters()]) < 5.0
    torch.testing.assert_close(_vec(model), _vec(model2), rtol=1e-12, atol=1e-14)


def test_gnp_official_with_rho_0_is_not_sgd_but_mixes_the_unit_gradient(device):
    model, X, y = _setup(device=device)
    ref = copy.deepcopy(model)
    opt = gtt.GNP(model.parameters(), lr=0.1, rho=0.0, alpha=0.7, variant="official")
    opt.step(lambda: F.cross_entropy(model(X), y))
    g = _grad(ref, X, y)  # g_p = g at rho = 0: d = 0.3 g/|g| + 0.7 g (|d| < 5), not g
    d = [0.3 * x / _gnorm(g) + 0.7 * x for x in g]
    assert _gnorm(d) < 5.0
    _shift(ref, d, -0.1)
    torch.testing.assert_close(_vec(model), _vec(ref), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["gam", "gsam+gam"])
def test_hvp_modes_give_equal_steps_on_a_batchnorm_model(name, device):
    got = {}
    for hvp in ("double_backward", "forward_over_reverse", "auto"):
        model, X, y = _setup(bn=True, device=device)
        opt = gtt.get(name, model.parameters(), lr=0.1, base="momentum", model=model, hvp=hvp,
                      rho=0.13, alpha=0.7, weight_decay=1e-3)
        for _ in range(3):
            opt.step(lambda model=model, X=X, y=y: F.cross_entropy(model(X), y))
        got[hvp] = (_vec(model), model[1].running_mean.clone().cpu(),
                    int(model[1].num_batches_tracked))
        if hvp == "auto":
            assert opt.hvp_chosen in ("double_backward", "forward_over_reverse")
    for hvp in ("forward_over_reverse", "auto"):
        torch.testing.assert_close(got[hvp][0], got["double_backward"][0], rtol=1e-6, atol=1e-9)
        torch.testing.assert_close(got[hvp][1], got["double_backward"][1], rtol=0, atol=0)
        assert got[hvp][2] == 3


def test_forward_over_reverse_under_autocast_with_batchnorm_is_told_and_auto_falls_back(device):
    # torch's forward-mode AD through BatchNorm under autocast leaves a float32 activation that
    # the next layer's cast misses (torch 2.13, CPU bf16): a clear error naming the way out,
    # and hvp="auto" takes double backward (same step, same BatchNorm statistics)
    got = {}
    for hvp in ("double_backward", "forward_over_reverse", "auto"):
        model, X, y = _setup(bn=True, dtype=torch.float32, device=device)
        opt = gtt.get("gam", model.parameters(), lr=0.1, model=model, hvp=hvp, rho=0.13, alpha=0.7)

        def closure(model=model, X=X, y=y):
            with torch.autocast(torch.device(device).type, dtype=torch.bfloat16):
                return F.cross_entropy(model(X), y)
        try:
            opt.step(closure)
        except RuntimeError as e:
            assert hvp == "forward_over_reverse", e
            assert "use hvp='double_backward', or hvp='auto'" in str(e)
            continue
        got[hvp] = (_vec(model), model[1].running_mean.clone().cpu())
        if hvp == "auto" and "forward_over_reverse" not in got:
            assert opt.hvp_chosen == "double_backward"
    for hvp in got:
        torch.testing.assert_close(got[hvp][0], got["double_backward"][0], rtol=1e-2, atol=1e-3)
        torch.testing.assert_close(got[hvp][1], got["double_backward"][1], rtol=0, atol=0)


def _dropout_setup(device, seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.Tanh(), torch.nn.Dropout(0.3),
                                torch.nn.Linear(16, 3)).double().to(device)
    X = torch.randn(32, 5, dtype=torch.float64).to(device)
    return model, X, torch.randint(0, 3, (32,)).to(device)


@pytest.mark.parametrize("name", ["gam", "sam+gam"])
def test_with_dropout_every_hvp_mode_takes_the_same_steps_and_leaves_the_same_random_state(
        name, device):
    # forward-over-reverse runs the closure again and auto times both modes: both replay the
    # gradient pass's random state, so H is taken under the same dropout mask as g
    got = {}
    for hvp in ("double_backward", "forward_over_reverse", "auto"):
        from gamtoy.torch import hvp as hvp_modes
        hvp_modes._AUTO.clear()
        model, X, y = _dropout_setup(device)
        opt = gtt.get(name, model.parameters(), lr=0.1, model=model, hvp=hvp, rho=0.13, alpha=0.7)
        torch.manual_seed(7)
        for _ in range(3):
            opt.step(lambda model=model, X=X, y=y: F.cross_entropy(model(X), y))
        got[hvp] = (_vec(model), torch.get_rng_state())
    for hvp in ("forward_over_reverse", "auto"):
        torch.testing.assert_close(got[hvp][0], got["double_backward"][0], rtol=1e-6, atol=1e-9)
        assert torch.equal(got[hvp][1], got["double_backward"][1]), hvp


def test_auto_says_what_it_chose_and_takes_double_backward_where_the_other_cannot_run(device):
    from gamtoy.torch import hvp as hvp_modes
    model, X, y = _setup(device=device)
    closure = lambda: F.cross_entropy(model(X), y)  # noqa: E731
    opt = gtt.GAM(model.parameters(), lr=0.1, hvp="auto")  # no model=: no choice to make
    assert opt.hvp_chosen is None
    opt.step(closure)
    assert opt.hvp_chosen == "double_backward"
    # a parameter outside model=: forward-over-reverse cannot call it; auto does not try
    extra = torch.nn.Parameter(torch.ones((), dtype=torch.float64, device=device))
    opt = gtt.GAM(list(model.parameters()) + [extra], lr=0.1, hvp="auto", model=model)
    opt.step(lambda: F.cross_entropy(model(X) * extra, y))
    assert opt.hvp_chosen == "double_backward"
    # a cached choice of forward-over-reverse that fails later (autocast with BatchNorm): the
    # step falls back to double backward, equal to a double-backward step, and says so
    steps = {}
    for hvp in ("double_backward", "auto"):
        hvp_modes._AUTO.clear()
        model, X, y = _setup(bn=True, dtype=torch.float32, device=device)
        opt = gtt.get("gam", model.parameters(), lr=0.1, model=model, hvp=hvp, rho=0.13)
        params = list(model.parameters())
        hvp_modes._AUTO[(params[0].device.type, params[0].dtype,
                    tuple(tuple(p.shape) for p in params))] = "forward_over_reverse"

        def amp(model=model, X=X, y=y):
            with torch.autocast(torch.device(device).type, dtype=torch.bfloat16):
                return F.cross_entropy(model(X), y)
        opt.step(amp)
        steps[hvp] = _vec(model)
        if hvp == "auto":
            assert opt.hvp_chosen == "double_backward"
    torch.testing.assert_close(steps["auto"], steps["double_backward"], rtol=0, atol=0)


def test_forward_over_reverse_needs_the_model(device):
    model, X, y = _setup(device=device)
    with pytest.raises(ValueError, match="needs model="):
        gtt.GAM(model.parameters(), lr=0.1, hvp="forward_over_reverse")
    with pytest.raises(ValueError, match="unknown hvp"):
        gtt.GAM(model.parameters(), lr=0.1, hvp="finite_difference")
    for name in ("sam", "gam_accel", "sgd"):  # gamtoy's message, not the base optimizer's
        with pytest.raises(ValueError, match=rf"hvp='auto': {name} computes no HVP; only gam, "
                                             r"sam\+gam, gsam\+gam do"):
            gtt.get(name, model.parameters(), hvp="auto")


@pytest.mark.parametrize("name", NAMES)
def test_torch_defaults_are_the_core_defaults(name, device):
    from gamtoy.optim import DEFAULTS
    model, X, y = _setup(device=device)
    opt = gtt.get(name, model.parameters())
    core = gamtoy_optim_get(name)
    for k, v in DEFAULTS[name][0].items():
        assert opt.param_groups[0][k] == v == core.hyper[k], k


def gamtoy_optim_get(name):
    import gamtoy.optim
    return gamtoy.optim.get(name)


def _peak_sets(name):
    """Peak tensor memory of one step, in parameter-sized sets (data excluded)."""
    from tools.memory import peak_tensor_bytes
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(100, 100), torch.nn.Tanh(),
                                torch.nn.Linear(100, 10))
    X, y = torch.randn(2, 100), torch.randint(0, 10, (2,))
    params = list(model.parameters())
    if name == "sgd":
        opt = torch.optim.SGD(params, lr=0.1)

        def step():
            opt.zero_grad()
            F.cross_entropy(model(X), y).backward()
            opt.step()
    else:
        opt = gtt.get(name, params, lr=0.1)
        step = lambda: opt.step(lambda: F.cross_entropy(model(X), y))  # noqa: E731
    peak = peak_tensor_bytes(step, params)["peak"] - X.numel() * 4 - y.numel() * 8
    return peak / sum(p.numel() * p.element_size() for p in params)


def test_peak_memory_in_parameter_sized_sets_is_at_most_the_best_peers(device):
    # SGD holds theta and g (2 sets); davda54/sam adds a copy of theta (3). Here: SAM 3 (theta + e
    # built in g's storage, g_p), GSAM and GNP 4 (theta, work, g, g_p), GAMAccel 6 (theta, work,
    # g0..g3): the direction of the last step and the diagnostics' gradients are not kept
    if device != "cpu":
        pytest.skip("the CPU allocator is measured")
    import gc
    for name, sets in {"sgd": 2, "sam": 3, "gsam": 4, "gam_accel": 6}.items():
        gc.collect()
        assert _peak_sets(name) == pytest.approx(sets, abs=0.12), name


@pytest.mark.parametrize("name", NAMES)
def test_no_parameter_sized_tensor_is_kept_between_steps(name, device):
    # the diagnostics are scalars; p.grad holds the direction; nothing else survives a step
    # but the work buffers (GSAM, GAM, GAMAccel: one parameter-sized set, reused)
    model, X, y = _setup(device=device)
    opt = gtt.get(name, model.parameters(), lr=0.1, model=model)
    opt.step(lambda: F.cross_entropy(model(X), y))
    d = dict(opt.diagnostics)
    assert all(torch.as_tensor(v).numel() == 1 for v in d.values())
    assert all(c.__closure__ is None or all(not isinstance(x.cell_contents, list)
                                             for x in c.__closure__)
               for c in [getattr(opt.diagnostics, "_compute", None)] if c is not None)
