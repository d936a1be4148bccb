"""SAM, GNP, GSAM, GAM (Alg. 1), GAMAccel (Alg. 2), SAM+GAM, GSAM+GAM as torch optimizers.

    opt = GAM(model.parameters(), torch.optim.SGD, rho=0.1, alpha=0.3, lr=0.1, momentum=0.9)
    loss = opt.step(lambda: loss_fn(model(x), y))     # the optimizer differentiates the loss

torch's closure convention (`opt.zero_grad(); loss.backward(); return loss`) gives the same
steps (see `evaluate`); SAM, GNP and GSAM also have davda54/sam's `first_step` / `second_step`.
`max_grad_norm=` clips the direction before the base step; `rho_schedule="lr"` makes rho follow
the lr that any torch.optim.lr_scheduler sets (GSAM Alg. 1).

Each estimator computes a direction d exactly as `gamtoy.optim.estimators` (tested equal) and
writes it into p.grad; the base optimizer then steps. Keyword arguments that are not the
estimator's go to the base optimizer. `weight_decay` (unless the base is AdamW, whose decay is
decoupled) is applied by the estimator as an L2 term at every evaluated point: each gradient is
grad L(w) + wd w and each HVP (H + wd I) v (param-group key `l2`). The vector arithmetic is in
`kernels` (fused sweeps, two paths: CPU numbers / device tensors).

Memory: the previous direction in p.grad is released when a step starts, and the diagnostics are
the few scalars computed inside the step (no gradient is kept between steps).
"""
from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping

import torch

from .. import validate
from ..optim import DEFAULTS
from . import kernels as K
from .evaluate import Evaluator, Overflow

XI = 1e-12
# what torch.optim optimizers take: tensors, or parameter groups (dicts with "params")
Params = Iterable[torch.Tensor] | Iterable[dict]
Base = type[torch.optim.Optimizer]  # the base optimizer's class (torch.optim.SGD, ...)

HVP_MODES = ("double_backward", "forward_over_reverse", "auto")


class Diagnostics(Mapping):
    """A step's diagnostics: 0-d tensors by name, made from scalars computed in the step (the
    tensors are built when first read; nothing parameter-sized is kept)."""

    def __init__(self, compute=None, **values):
        self._compute, self._values = compute, None
        self._extra = dict(values)

    def __setitem__(self, key, value):
        self._extra[key] = value
        if self._values is not None:
            self._values[key] = value

    def _resolve(self):
        if self._values is None:
            values = dict(self._compute()) if self._compute is not None else {}
            values.update(self._extra)
            self._values, self._compute = values, None
        return self._values

    def __getitem__(self, key):
        return self._resolve()[key]

    def __iter__(self):
        return iter(self._resolve())

    def __len__(self):
        return len(self._resolve())

    def __repr__(self):
        return f"Diagnostics({self._resolve()!r})"


def _check_base(base):
    if isinstance(base, str):
        raise TypeError(f"base_optimizer must be a torch.optim.Optimizer class, got the string "
                        f"{base!r}: pass e.g. torch.optim.SGD, or use gamtoy.torch.get(name, "
                        f"params, base={base!r})")
    if isinstance(base, torch.optim.Optimizer):
        raise TypeError(f"base_optimizer must be a class, got an instance of "
                        f"{type(base).__name__}: pass {type(base).__name__} itself and its "
                        "hyper-parameters as keywords (lr=..., momentum=...)")
    if not (isinstance(base, type) and issubclass(base, torch.optim.Optimizer)):
        raise TypeError(f"base_optimizer must be a torch.optim.Optimizer subclass, got {base!r}")


def _hyper(name, key, value):
    """One estimator hyper-parameter through gamtoy.validate (NumPy scalars accepted; bools,
    strings, NaN and inf refused)."""
    if key == "variant":
        if value not in ("paper", "official"):
            raise ValueError(f"unknown variant {value!r}; valid: paper, official")
        return value
    high = 1.0 if name == "gam_accel" and key in ("alpha", "beta") else None
    if key == "xi":  # xi > 0 keeps g/(|g| + xi) finite where g = 0, as in gamtoy.optim.get
        return validate.real(key, value, low=0.0, low_open=True)
    try:
        return validate.real(key, value, low=0.0, high=high, allow_none=key == "rho_sam")
    except ValueError:
        if high is not None:
            raise ValueError(
                f"GAMAccel needs 0 <= {key} <= 1 (GAM Eq. 44), got {value!r}") from None
        raise ValueError(f"{key} must be a non-negative finite number, got {value!r}") from None


# the base optimizers' numeric settings: checked here (torch lets lr=nan, lr=inf, lr=True and
# momentum=nan through, which turn every parameter into NaN at the first step)
_BASE_REALS = {"lr": dict(low=0.0), "momentum": dict(low=0.0), "dampening": dict(low=0.0),
               "eps": dict(low=0.0), "weight_decay": dict(low=0.0)}


def _check_base_hyper(where, d, keys=_BASE_REALS):
    """The base optimizer's numbers in `d` (keywords or a param group) through gamtoy.validate;
    a tensor lr (torch's capturable mode) is left to torch."""
    for k, kw in keys.items():
        v = d.get(k)
        if v is None or isinstance(v, torch.Tensor):
            continue
        try:
            d[k] = validate.real(k, v, **kw)
        except (TypeError, ValueError) as e:
            raise type(e)(f"{where}: {e}") from None
    betas = d.get("betas")
    if betas is not None and not isinstance(betas, torch.Tensor):
        if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or len(betas) != 2:
            raise TypeError(f"{where}: betas must be a pair (beta1, beta2), got {betas!r}")
        d["betas"] = tuple(b if isinstance(b, torch.Tensor) else
                           validate.real(f"betas[{i}]", b, low=0.0, high=1.0, high_open=True)
                           for i, b in enumerate(betas))


def check_devices(groups):
    devices = set()
    for i, g in enumerate(groups):
        ds = {p.device for p in g["params"]}
        if len(ds) > 1:
            raise ValueError(f"parameter group {i} mixes devices {sorted(map(str, ds))}: move the "
                             "model to one device before building the optimizer")
        devices |= ds
    if len(devices) > 1:
        raise ValueError(f"parameter groups are on different devices {sorted(map(str, devices))}: "
                         "gamtoy.torch optimizers need all parameters on one device")


class FlatnessOptimizer(torch.optim.Optimizer):
    """Base: an estimator (direction) + a torch base optimizer (step).

    A step whose loss is not finite at theta or at a perturbed point is skipped (parameters and
    optimizer state unchanged, `opt.diagnostics["skipped"]` True, the non-finite loss returned). On
    the CPU this check is free; off the CPU it costs one device sync per step, and
    `check_finite=False` drops it: such a step then returns a NaN loss (no step synchronises), never
    a finite loss with NaN parameters. """

    name = "sgd"
    _radii = ()  # the hyper-parameters that must all be 0 for "exactly the base optimizer"

    def __init__(self, params: Params, base_optimizer: Base = torch.optim.SGD,
                 *, xi: float = XI, model: torch.nn.Module | None = None, distributed: bool = True,
                 process_group=None, check_finite: bool = True, max_grad_norm: float | None = None,
                 rho_schedule: str | None = None, rho_min: float = 0.0, lr_min: float = 0.0,
                 **kwargs):
        _check_base(base_optimizer)
        self.max_grad_norm = validate.real("max_grad_norm", max_grad_norm, low=0.0, low_open=True,
                                           allow_none=True)
        schedule = _check_rho_schedule(self.name, rho_schedule, rho_min, lr_min, kwargs)
        own = {k: _hyper(self.name, k, kwargs.pop(k, v)) for k, v in DEFAULTS[self.name][0].items()}
        xi = _hyper(self.name, "xi", xi)
        _check_base_hyper(f"{base_optimizer.__name__} keyword", kwargs)
        super().__init__(params, own)
        self._check_groups(own)
        check_devices(self.param_groups)
        self.xi, self.model, self.check_finite = xi, model, bool(check_finite)
        self.distributed, self.process_group = distributed, process_group
        decoupled = issubclass(base_optimizer, torch.optim.AdamW)
        for i, g in enumerate(self.param_groups):
            _check_base_hyper(f"param group {i}", g)
        self.base_optimizer = base_optimizer(self.param_groups, **kwargs)
        self.param_groups = self.base_optimizer.param_groups
        self.defaults.update(self.base_optimizer.defaults)
        for g in self.param_groups:
            if "l2" not in g:
                g["l2"] = 0.0 if decoupled else float(g.get("weight_decay", 0.0) or 0.0)
                if not decoupled and "weight_decay" in g:
                    g["weight_decay"] = 0.0
            g["l2"] = validate.real("weight_decay", g["l2"], low=0.0)
        self.diagnostics = {}
        self.skipped = 0
        self._work_cache, self._pending = None, None
        # GSAM Alg. 1: rho_t from the group's lr at each step; lr_max = the lr at construction
        self.rho_schedule = schedule and (rho_min, lr_min, K.number(self.param_groups[0]["lr"]))
        self._rho_t = None

    def add_param_group(self, param_group):
        """torch's add_param_group, then the same checks as at construction (estimator
        hyper-parameters equal in every group, base numbers valid); after construction the
        group also goes to the base optimizer, which steps it."""
        if not hasattr(self, "base_optimizer"):  # during __init__
            return super().add_param_group(param_group)
        g = dict(param_group)
        _check_base_hyper(f"param group {len(self.param_groups)}", g)
        own = DEFAULTS[self.name][0]
        for k in own:
            if k in g:
                g[k] = _hyper(self.name, k, g[k])
                if g[k] != self.hyper(k):
                    raise ValueError(
                        f"param group {len(self.param_groups)} sets {k}={g[k]!r} but group 0 has "
                        f"{k}={self.hyper(k)!r}: {type(self).__name__}'s {k} is one value for all "
                        f"parameters (its norms and perturbation are global); set {k} once")
            else:
                g[k] = self.hyper(k)
        decoupled = isinstance(self.base_optimizer, torch.optim.AdamW)
        if "l2" not in g:
            g["l2"] = 0.0 if decoupled else float(g.get("weight_decay", 0.0) or 0.0)
            if not decoupled and "weight_decay" in g:
                g["weight_decay"] = 0.0
        g["l2"] = validate.real("weight_decay", g["l2"], low=0.0)
        self.base_optimizer.add_param_group(g)
        self.param_groups = self.base_optimizer.param_groups
        check_devices(self.param_groups)

    def _check_groups(self, own):
        """Per-group estimator hyper-parameters: validated, and equal in every group (the
        estimator's norms are global, so one value per step), else a clear error."""
        for i, g in enumerate(self.param_groups):
            for k in own:
                g[k] = _hyper(self.name, k, g[k])
                first = self.param_groups[0][k]
                if g[k] != first:
                    raise ValueError(
                        f"param group {i} sets {k}={g[k]!r} but group 0 has {k}={first!r}: "
                        f"{type(self).__name__}'s {k} is one value for all parameters (its norms "
                        f"and perturbation are global); set {k} once, as a keyword")

    def hyper(self, key):
        """A hyper-parameter of the estimator (equal in every param group, see _check_groups);
        rho is this step's rho_t where rho follows the lr (`rho_schedule="lr"`)."""
        if key == "rho" and self._rho_t is not None:
            return self._rho_t
        return self.param_groups[0][key]

    def scheduled_rho(self):
        """GSAM Alg. 1 step 0: rho_t = rho_min + (rho - rho_min)(lr_t - lr_min)/(lr_max - lr_min),
        lr_t group 0's lr now, lr_max its lr at construction; None without a schedule."""
        if not self.rho_schedule:
            return None
        rho, (rho_min, lr_min, lr_max) = self.param_groups[0]["rho"], self.rho_schedule
        if lr_max - lr_min <= 0:
            return rho
        lr = K.number(self.param_groups[0]["lr"])
        return rho_min + (rho - rho_min) * (lr - lr_min) / (lr_max - lr_min)

    def direction(self, ev, diag):
        """The estimator: (loss at theta, d, diagnostics)."""
        loss, g = ev.grads()
        info = {}
        if diag:
            n = K.norm(g)
            info = Diagnostics(lambda: {"grad_norm": _tensors(_like(g), n)[0]})
        return loss, g, info

    def _is_base(self):
        return bool(self._radii) and all(self.hyper(k) in (0, None) for k in self._radii)

    @torch.no_grad()
    def step(self, closure: Callable | None = None, accumulate: int = 1, scaler=None,
             diag: bool = True):
        """One step; `closure()` (or `closure(i)` for micro-batch i < accumulate) gives the loss:
        it returns the loss (the optimizer differentiates it), or, torch's convention, calls
        `opt.zero_grad()` and `loss.backward()` itself; both give the same step.

        Returns the loss at the starting point (averaged over micro-batches and ranks).
        `scaler`: a torch.amp.GradScaler; its scale multiplies every loss, the derivatives are
        unscaled and a non-finite one skips the step and backs the scale off.
        `diag=False`: no diagnostics (saves their sweeps); opt.diagnostics then has only the loss.
        Without a closure, after `first_step`: the same as `second_step(zero_grad=False)` (for
        loops that call `optimizer.step()` themselves, e.g. Hugging Face's Trainer). With a
        scaler and a backward-calling closure, call backward() on the unscaled loss.
        """
        if closure is None:
            if self._pending is not None:
                return self.second_step(zero_grad=False)
            raise ValueError(f"{type(self).__name__}.step needs a closure that recomputes the loss "
                             "(returning it, or calling loss.backward()), or a first_step before")
        self._no_pending("step(closure)")
        accumulate = validate.positive_int("accumulate", accumulate)
        if scaler is not None and not all(hasattr(scaler, k) for k in ("scale", "is_enabled",
                                                                        "get_scale", "update")):
            raise TypeError(f"scaler must be a torch.amp.GradScaler or None, got {scaler!r:.60}")
        if accumulate > 1:
            _check_indexed_closure(closure, accumulate)
        self.diagnostics = {}
        self._rho_t = self.scheduled_rho()
        ev = Evaluator(self, closure, accumulate, scaler, self._work_cache)
        for p in ev.params:  # the previous direction: released before this step's gradients
            p.grad = None
        try:
            loss, d, info = self._direction(ev, diag)
        except Overflow:
            self.skipped += 1
            self._scaler_update(scaler, found_inf=True)
            self.diagnostics = {"skipped": True}
            return None
        finally:
            self._after_evaluations(ev)
        bad = ev.nonfinite_perturbed(loss, self.check_finite)
        if bad is True:  # not finite at theta or a perturbed point: skip (parameters unchanged)
            self.skipped += 1
            self._scaler_update(scaler, found_inf=True)
            self.diagnostics = {"loss": loss, "skipped": True}
            return loss
        if bad is not False:  # check_finite=False off the CPU: a NaN loss flags it, no sync
            loss = torch.where(bad, torch.full_like(loss, float("nan")), loss)
        self._base_step(ev.params, d, info, loss)
        self._scaler_update(scaler, found_inf=False)
        return loss

    def _direction(self, ev, diag):
        if self._is_base():
            return FlatnessOptimizer.direction(self, ev, diag)
        return self.direction(ev, diag)

    def _after_evaluations(self, ev):
        """Back to theta0; keep the evaluator's work buffers and the HVP mode it used."""
        ev.finish()
        self._work_cache = ev.work_cache
        if ev.hvp_chosen is not None:
            self.hvp_chosen = ev.hvp_chosen

    def _base_step(self, params, d, info, loss=None):
        """d into .grad, clipped to max_grad_norm (the direction, after the estimator and before
        the base optimizer: `torch.nn.utils.clip_grad_norm_`'s rule), then the base step."""
        for p, dp in zip(params, d, strict=True):  # d: a parameter list
            p.grad = dp if dp.dtype == p.dtype else dp.to(p.dtype)
        info = info if isinstance(info, Diagnostics) else Diagnostics(**info)
        if self.max_grad_norm is not None:
            info["d_norm"] = torch.nn.utils.clip_grad_norm_(params, self.max_grad_norm,
                                                            foreach=True)
        self.base_optimizer.step()
        if self._rho_t is not None:
            info["rho"] = self._rho_t
        info["loss"] = loss
        info["skipped"] = False
        self.diagnostics = info

    def _no_pending(self, what):
        if self._pending is not None:
            raise RuntimeError(f"{what} after first_step: call second_step() first (the "
                               "parameters are at the perturbed point)")

    def first_step(self, zero_grad=False):
        """Two-step API (davda54/sam): `.grad` holds grad L(w); move w to the ascent point."""
        raise NotImplementedError(
            f"{type(self).__name__} has no two-step API (only SAM, GNP and GSAM take exactly two "
            "gradients per step); use opt.step(closure), whose closure may call opt.zero_grad() "
            "and loss.backward() itself")

    def second_step(self, zero_grad=False):
        """Two-step API: `.grad` holds the gradient at the perturbed point; back to w, step."""
        self.first_step()

    def _scaler_update(self, scaler, found_inf):
        """GradScaler's own rule (back off on inf, grow after growth_interval clean steps)."""
        if scaler is None or not scaler.is_enabled():
            return
        s = float(scaler.get_scale())
        if found_inf:
            self._clean = 0
            scaler.update(s * scaler.get_backoff_factor())
            return
        self._clean = getattr(self, "_clean", 0) + 1
        if self._clean >= scaler.get_growth_interval():
            self._clean = 0
            scaler.update(s * scaler.get_growth_factor())

    def _identity(self):
        return {"optimizer": type(self).__name__, "name": self.name,
                "base": type(self.base_optimizer).__name__}

    def state_dict(self):
        sd = super().state_dict()
        sd["base"] = self.base_optimizer.state_dict()
        sd["gamtoy"] = self._identity()
        return sd

    def load_state_dict(self, state_dict):
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"state_dict must be a dict from {type(self).__name__}.state_dict(), "
                            f"got a {type(state_dict).__name__}")
        state_dict = dict(state_dict)
        me = self._identity()
        if "base" not in state_dict:
            raise ValueError(f"not a gamtoy.torch state dict (no 'base' entry): a plain "
                             f"{me['base']} state loads into opt.base_optimizer.load_state_dict")
        saved = state_dict.pop("gamtoy", None)
        if saved is not None and dict(saved) != me:
            raise ValueError(f"this state dict was saved by {saved['optimizer']} "
                             f"({saved['name']!r}) on base {saved['base']}, not {me['optimizer']} "
                             f"({me['name']!r}) on base {me['base']}: build the optimizer it was "
                             "saved from to load it")
        own = set(DEFAULTS[self.name][0])
        for g in state_dict.get("param_groups", []):
            missing = own - set(g)
            if missing:
                raise ValueError(f"this state dict lacks {sorted(missing)} for {me['optimizer']}: "
                                 "it was saved by another optimizer class; build that one to load "
                                 "it")
        base = state_dict.pop("base")
        super().load_state_dict(state_dict)
        self.base_optimizer.load_state_dict(base)
        self.param_groups = self.base_optimizer.param_groups


def _check_rho_schedule(name, how, rho_min, lr_min, kwargs):
    """rho_schedule in (None, "lr"); rho_min in [0, rho]; lr_min >= 0. True for "lr"."""
    if how not in (None, "lr"):
        raise ValueError(f"unknown rho_schedule {how!r}; valid: None, 'lr'")
    rho_min = validate.real("rho_min", rho_min, low=0.0)
    lr_min = validate.real("lr_min", lr_min, low=0.0)
    if how is None:
        if rho_min or lr_min:
            raise ValueError("rho_min and lr_min are used only with rho_schedule='lr'")
        return False
    own = DEFAULTS[name][0]
    if "rho" not in own:
        raise ValueError(f"rho_schedule='lr' would be ignored: {name!r} has no rho; drop it")
    rho = kwargs.get("rho", own["rho"])
    if rho_min > rho:
        raise ValueError(f"rho_min={rho_min} exceeds rho={rho}: rho follows the lr from rho "
                         "(at the initial lr) down to rho_min (at lr_min)")
    return True


def _check_indexed_closure(closure, k):
    try:
        sig = inspect.signature(closure)
    except (TypeError, ValueError):
        return
    try:
        sig.bind(0)
    except TypeError:
        raise TypeError(f"accumulate={k} calls closure(i) for micro-batch i = 0..{k - 1}, but the "
                        "closure takes no argument: write it as lambda i: "
                        "loss_fn(model(xs[i]), ys[i])") from None


def _like(v):
    """A 0-d tensor with v's dtype and device, for the diagnostics (not v: v may be freed)."""
    return torch.empty((), dtype=v[0].dtype, device=v[0].device)


def _tensors(like, *xs):
    """Numbers as 0-d tensors like `like` (diagnostics are tensors whatever the device)."""
    return [x if isinstance(x, torch.Tensor)
            else torch.tensor(x, dtype=like.dtype, device=like.device) for x in xs]


def _sam_diag(like, loss, loss_adv, n, n_p, dot, rho, xi):
    """SAM-family diagnostics from |g|, |g_p| and <g, g_p> computed in the step."""
    def compute():
        g_norm, g_p_norm, dt = _tensors(like, n, n_p, dot)
        return {"grad_norm": g_norm, "grad_norm_p": g_p_norm, "h": loss_adv - loss,
                "cos": dt / (g_norm * g_p_norm + xi), "r1": g_p_norm * rho}
    return Diagnostics(compute)


def _grads_in(params):
    """The gradients a loop's backward left in .grad (zeros where none), as a parameter list."""
    return [torch.zeros_like(p) if p.grad is None else p.grad.detach().clone() for p in params]


class TwoStep(FlatnessOptimizer):
    """davda54/sam's two-step API for loops that own the backward pass (Lightning manual
    optimization, a Hugging Face Trainer): equal to `step(closure)` with the same two gradients.

        loss_fn(model(x), y).backward(); opt.first_step(zero_grad=True)   # w -> w + e
        loss_fn(model(x), y).backward(); opt.second_step(zero_grad=True)  # back to w, base step

    The gradients in .grad are of the loss alone (the L2 term is added here); the diagnostics
    then have "rho" (and "d_norm") only. A model= has its BatchNorm statistics restored to those
    after the first forward, as in `step`.
    """

    def combine(self, g, g_p, n, diag):
        """(d, |g_p|, <g_p, g>) from g = grad L(w) with |g| = n and g_p = grad L(w + e)."""
        return g_p, None, None

    @torch.no_grad()
    def first_step(self, zero_grad=False):
        """.grad holds grad L(w): move w to w + rho g/(|g|+xi) (SAM Eq. 3, GNP's r = rho)."""
        self._no_pending("first_step")
        self._rho_t = self.scheduled_rho()
        ev = Evaluator(self, None, work_cache=self._work_cache)
        g = ev.add_l2(_grads_in(ev.params), [p.detach() for p in ev.params])
        ev.after_eval()  # BatchNorm statistics after the forward at w
        n = K.norm(g)
        ev.move(g, self.hyper("rho") / (n + self.xi))
        self._pending = (ev, g, n)
        if zero_grad:
            self.zero_grad()

    @torch.no_grad()
    def second_step(self, zero_grad=False):
        """.grad holds grad L(w + e): back to w, the direction into .grad, the base step."""
        if self._pending is None:
            raise RuntimeError("second_step needs a first_step before it (with grad L(w) in .grad)")
        (ev, g, n), self._pending = self._pending, None
        try:
            g_p = ev.add_l2(_grads_in(ev.params), [p.detach() for p in ev.params])
        finally:
            self._after_evaluations(ev)
        d, _, _ = self.combine(g, g_p, n, False)
        self._base_step(ev.params, d, {})
        if zero_grad:
            self.zero_grad()


class SAM(TwoStep):
    """SAM Eq. (3) (GSAM Eq. 2-3): d = grad L(w + rho g/(|g|+xi)).

    The perturbed point is built in g's own storage (three parameter-sized sets at the peak:
    theta, theta + e, g_p); <g, g_p> for the diagnostics is <theta + e - theta, g_p>/s.
    """

    name, _radii = "sam", ("rho",)

    def direction(self, ev, diag):
        rho, xi = self.hyper("rho"), self.xi
        loss, g = ev.grads()
        n = K.norm(g)
        s = rho / (n + xi)
        like = _like(g)
        ev.move_into(g, s)  # g is gone: its storage holds theta + s g
        loss_adv, g_p = ev.grads_here()
        if not diag:
            return loss, g_p, {}
        n_p, (w_dot, t_dot) = K.norm_dots(g_p, [ev.point, ev.theta0])
        return loss, g_p, _sam_diag(like, loss, loss_adv, n, n_p, (w_dot - t_dot) / s, rho, xi)


class GNP(TwoStep):
    """GNP Alg. 1 lines 4-7: d = (1-alpha) g(w) + alpha g(w + rho g/(|g|+xi)) (rho is GNP's r).

    variant="official" (the released code, `training/training_core.py` with its default
    norm_perturbations=True): the *ascent* gradient is normalised, u = g/(|g|+xi), g_p is not:
    d = (1-alpha) u + alpha g_p, then clip_by_global_norm(d, 5): d <- 5 d/|d| where |d| >= 5.
    rho = 0 is not plain SGD there (d = u, clipped), so it does not take the base shortcut.
    """

    name = "gnp"

    @property
    def _radii(self):
        return () if self.hyper("variant") == "official" else ("rho",)

    def direction(self, ev, diag):
        rho, xi = self.hyper("rho"), self.xi
        loss, g = ev.grads()
        n = K.norm(g)
        loss_adv, g_p = ev.grads(g, rho / (n + xi))
        like = _like(g)
        d, n_p, dot = self.combine(g, g_p, n, diag)
        return loss, d, _sam_diag(like, loss, loss_adv, n, n_p, dot, rho, xi) if diag else {}

    def combine(self, g, g_p, n, diag):
        alpha, xi = self.hyper("alpha"), self.xi
        if self.hyper("variant") == "official":  # d = alpha g_p + (1-alpha) g/(|g|+xi), in g_p
            n_p, dot, d_norm = K.combine_(g_p, alpha, g, (1 - alpha) / (n + xi), diag, True)
            return K.clip_(g_p, 5.0, d_norm), n_p, dot
        n_p, dot = K.norm_dot(g_p, g) if diag else (None, None)
        torch._foreach_lerp_(g_p, g, 1 - alpha)  # d = g_p + (1-alpha) (g - g_p), in g_p
        return g_p, n_p, dot


class GSAM(TwoStep):
    """GSAM Alg. 1 steps 1-4: d = g_p - alpha g_perp, g_perp = part of g orthogonal to g_p."""

    name, _radii = "gsam", ("rho",)

    def direction(self, ev, diag):
        rho, xi = self.hyper("rho"), self.xi
        loss, g = ev.grads()
        n = K.norm(g)
        loss_adv, g_p = ev.grads(g, rho / (n + xi))
        like = _like(g)
        d, n_p, dot = self.combine(g, g_p, n, diag)
        return loss, d, _sam_diag(like, loss, loss_adv, n, n_p, dot, rho, xi) if diag else {}

    def combine(self, g, g_p, n, diag):
        n_p, dot = K.norm_dot(g_p, g)
        return K.remove_perp_(g_p, g, self.hyper("alpha"), self.xi, n_p, dot), n_p, dot


class GAM(FlatnessOptimizer):
    """GAM Alg. 1 lines 5-10 (Eq. 7-8): d = h_loss + alpha rho H(theta_adv) g_adv/(|g_adv|+xi).

    f = H g/(|g|+xi), theta_adv = theta + rho f/(|f|+xi). h_loss = grad L(theta), or SAM's /
    GSAM's direction with oracle="sam" / "gsam" (radius rho_sam, default rho; GSAM's alpha_gsam).
    Exact HVPs: hvp="double_backward" (default), "forward_over_reverse" (torch.func.jvp of the
    gradient; needs model=, BatchNorm buffers are passed to functional_call as copies) or "auto"
    (the faster of the two, measured once on the first step for this model, dtype and device,
    `opt.hvp_chosen`; double backward where forward-over-reverse cannot run, e.g. under
    autocast with BatchNorm). With dropout, both modes differentiate the same mask: the
    forward-over-reverse pass and auto's timing replay the random state of the gradient pass.
    """

    name, _radii = "gam", ("rho",)

    def __init__(self, params: Params, base_optimizer: Base = torch.optim.SGD,
                 *, oracle: str | None = None, hvp: str = "double_backward", **kwargs):
        if oracle not in (None, "sam", "gsam"):
            raise ValueError(f"unknown oracle {oracle!r}; valid: None, 'sam', 'gsam'")
        if hvp not in HVP_MODES:
            raise ValueError(f"unknown hvp {hvp!r}; valid: {', '.join(HVP_MODES)}")
        if oracle is not None and type(self) is GAM:
            self.name = f"{oracle}+gam"
        if oracle is not None:
            self._radii = ("rho", "rho_sam")
        self.oracle, self.hvp = oracle, hvp
        self.hvp_chosen = None if hvp == "auto" else hvp  # auto: set at the first step
        super().__init__(params, base_optimizer, **kwargs)
        if hvp == "forward_over_reverse" and self.model is None:
            raise ValueError("hvp='forward_over_reverse' needs model= (torch.func calls the model "
                             "with the parameters as inputs)")

    def direction(self, ev, diag):
        rho, alpha, xi = self.hyper("rho"), self.hyper("alpha"), self.xi
        # f = c Hg, f_adv = c_adv Hg_adv: the scalars c are folded into the next scalars
        loss, g, hg, c = ev.normgrads_raw()
        n, like = ev.gnorm, _like(g)
        ev.move(hg, rho * c / (K.norm(hg) * c + xi))  # theta_adv = theta + rho f/(|f|+xi)
        del hg  # freed before the second evaluation
        loss_adv, g_adv, hg_adv, c_adv = ev.normgrads_here()
        n_adv = ev.gnorm
        del g_adv
        h_loss, extra = g, {}
        if self.oracle is not None:
            rho_sam = rho if self.hyper("rho_sam") is None else self.hyper("rho_sam")
            loss_p, h_loss = ev.grads(g, rho_sam / (n + xi))  # SAM's g_p
            n_p, dot = K.norm_dot(h_loss, g)
            extra = {"grad_norm_p": n_p, "h_sam": loss_p, "cos": (dot, n * n_p)}
            if self.oracle == "gsam":
                K.remove_perp_(h_loss, g, self.hyper("alpha_gsam"), xi, n_p, dot)
        d = K.laxpy_(h_loss, hg_adv, (rho * alpha) * c_adv)  # h_loss + alpha rho f_adv

        def compute():
            m, m_adv = _tensors(like, n, n_adv)
            out = {"grad_norm": m, "grad_norm_adv": m_adv, "h": loss_adv - loss, "r1": m_adv * rho}
            if extra:
                n_p, (dot, den) = _tensors(like, extra["grad_norm_p"])[0], extra["cos"]
                out.update(grad_norm_p=n_p, h_sam=extra["h_sam"] - loss, cos=dot / (den + xi))
            return out
        return loss, d, Diagnostics(compute) if diag else {}


class SAMGAM(GAM):
    """SAM+GAM (GAM Sec. 4.3): GAM whose oracle-loss gradient h_loss is SAM's direction."""

    name = "sam+gam"

    def __init__(self, params: Params, base_optimizer: Base = torch.optim.SGD,
                 **kwargs):
        super().__init__(params, base_optimizer, oracle="sam", **kwargs)


class GSAMGAM(GAM):
    """GSAM+GAM (GAM Sec. 4.3): GAM whose oracle-loss gradient h_loss is GSAM's direction."""

    name = "gsam+gam"

    def __init__(self, params: Params, base_optimizer: Base = torch.optim.SGD,
                 **kwargs):
        super().__init__(params, base_optimizer, oracle="gsam", **kwargs)


class GAMAccel(FlatnessOptimizer):
    """GAM Alg. 2 (Eq. 38-45, four gradients): d = h_+ - gamma h_-^perp.

    theta_1 = theta + rho' g0/|g0|, theta_2 = theta + rho (g1-g0)/|g1-g0|, theta_3 = theta_2 +
    rho' g2/|g2|; h_+ = alpha g1 + (1-alpha) g3, h_- = beta g0 + (1-beta) g2
    (variant="official": h_- = g0 + |1-beta| g2, as the released code).
    """

    name, _radii = "gam_accel", ("rho", "rho_prime")

    def direction(self, ev, diag):
        h = self.hyper
        rho, rho_p, alpha, beta, gamma, xi = (h("rho"), h("rho_prime"), h("alpha"), h("beta"),
                                              h("gamma"), self.xi)
        loss, g0 = ev.grads()
        n0, like = K.norm(g0), _like(g0)
        loss_1, g1 = ev.grads(g0, rho_p / (n0 + xi))
        h0 = ev.scratch()  # h0 = g1 - g0 in the work buffers (theta_1 is not needed any more)
        n_h0, n1, dot = K.sub_norm_(h0, g1, g0, diag)
        _, g2 = ev.grads(h0, rho / (n_h0 + xi))  # theta_2 = theta + rho h0/|h0|
        n2 = K.norm(g2)
        _, g3 = ev.grads(g2, rho_p / (n2 + xi), relative=True)  # theta_3 = theta_2 + rho' g2/|g2|
        hp_norm, hm_dot = K.mix_(g3, g1, alpha, g2, g0, beta, h("variant") == "official")
        d = K.remove_perp_(g3, g2, gamma, xi, hp_norm, hm_dot)  # h_+ - gamma h_-^perp

        def compute():
            m0, m1, m2, dt = _tensors(like, n0, n1, n2, dot)
            return {"grad_norm": m0, "grad_norm_p": m1, "h": loss_1 - loss,
                    "cos": dt / (m0 * m1 + xi), "r1": m2 * rho}
        return loss, d, Diagnostics(compute) if diag else {}


class Gradient(FlatnessOptimizer):
    """Plain gradient d = grad L(theta) with the same closure protocol (sgd, momentum, adam)."""


CLASSES = {"sgd": Gradient, "momentum": Gradient, "adam": Gradient, "sam": SAM, "gnp": GNP,
           "gsam": GSAM, "gam": GAM, "gam_accel": GAMAccel, "sam+gam": SAMGAM,
           "gsam+gam": GSAMGAM}


def get(name: str, params: Params, lr: float = 0.1, base: str = "sgd",
        **kwargs) -> FlatnessOptimizer:
    """The optimizer `name` (as gamtoy.optim.get) on torch params; base in sgd, momentum, adam.

    `base` is ignored for name "momentum"/"adam" (they are their own base). Other keywords go to
    the estimator (rho, alpha, variant, ...) or the base (momentum, betas, eps, weight_decay, ...).
    """
    if name not in CLASSES:
        raise ValueError(f"unknown optimizer {name!r}; valid names: {', '.join(CLASSES)}")
    if "hvp" in kwargs and not issubclass(CLASSES[name], GAM):
        gams = ", ".join(n for n, c in CLASSES.items() if issubclass(c, GAM))
        raise ValueError(f"hvp={kwargs['hvp']!r}: {name} computes no HVP; only {gams} do")
    if name in ("momentum", "adam"):
        base = name
    if base == "sgd":
        base_cls = torch.optim.SGD
    elif base == "momentum":
        base_cls = torch.optim.SGD
        kwargs.setdefault("momentum", 0.9)
    elif base == "adam":
        base_cls = torch.optim.Adam
    else:
        raise ValueError(f"unknown base optimizer {base!r}; valid: sgd, momentum, adam")
    return CLASSES[name](params, base_cls, lr=lr, **kwargs)
