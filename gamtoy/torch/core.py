"""The machinery every gamtoy.torch optimizer shares: evaluate the closure's gradient (and HVPs)
at theta + e, average over ranks, undo BatchNorm updates at perturbed points, then hand the
direction d to a torch base optimizer.

Vectors are lists of tensors, one per parameter that requires grad (a "parameter list"); the
fused norm/dot sweeps and in-place combinations on them are in `kernels` (a CPU path with
Python-number scalars, a device path with 0-d tensors and no host sync). Norms and dot products
are global over all parameters, as in every paper; every normalisation divides by |v| + xi.

Moves cost one pass and no copy of theta0: the perturbed point theta0 + s v is written into
work buffers the optimizer keeps across steps, or into v's own storage (`move_into`, when v is
not needed after), and swapped in as the parameters' data; going back swaps the original tensors
in again, so theta0 is restored bit for bit, in its own storage.

Exact HVPs: double backward (one forward, a backward that keeps its graph, one more backward),
or forward-over-reverse (`torch.func.jvp` of `torch.func.grad`, the model called through
functional_call with copies of its buffers).
"""
import contextlib
import math
import time
import warnings

import torch
import torch.distributed as dist

from . import kernels as K

XI = 1e-12


# ---- flat vectors ---------------------------------------------------------------------------

def unit(v, xi):
    """v / (|v| + xi): the normalisation every paper uses (xi keeps v = 0 finite)."""
    return v / (torch.linalg.vector_norm(v) + xi)


def decompose(v, onto, xi):
    """Split v into parts parallel and orthogonal to `onto` (GSAM Alg. 1 step 3)."""
    e = unit(onto, xi)
    par = e * torch.dot(v, e)
    return par, v - par


def cos(u, v, xi):
    """cos of the angle between u and v (0 when either is 0)."""
    return torch.dot(u, v) / (torch.linalg.vector_norm(u) * torch.linalg.vector_norm(v) + xi)


# ---- parameter lists: the kernels live in kernels.py (names kept here for callers) ------------

lnorm, ldot, lnorm_dot, fast_cpu = K.lnorm, K.ldot, K.norm_dot, K.fast_cpu
lnorm_num, lnorm_dot_num, lscale, _number = K.norm, K.norm_dot, K.lscale, K.number
laxpy, laxpy_, lflat = K.laxpy, K.laxpy_, K.lflat


def _no_grad(fn):
    """torch.no_grad for a method, entered only when grad mode is on (steps already run without)."""
    def wrapper(*args, **kwargs):
        if not torch.is_grad_enabled():
            return fn(*args, **kwargs)
        with torch.no_grad():
            return fn(*args, **kwargs)
    wrapper.__name__, wrapper.__doc__, wrapper.__wrapped__ = fn.__name__, fn.__doc__, fn
    return wrapper


class _Overflow(Exception):
    """A scaled (mixed-precision) gradient was not finite: the step is skipped."""


def _is_bn(m):
    return isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.track_running_stats


class Evaluator:
    """Gradients and HVPs of the closure's loss at theta + e for one optimizer step.

    `grads(e)` -> (loss, g); `normgrads(e)` -> (loss, g, H g/(|g|+xi)) (GAM Eq. 8 in one pass),
    with e, g and the HVP as parameter lists. `grad` / `normgrad` return the same as flat vectors.
    The loss and its derivatives include the L2 term l2/2 |theta|^2 (weight decay), averaged over
    micro-batches and over torch.distributed ranks.
    """

    def __init__(self, opt, closure, accumulate=1, scaler=None):
        self.opt, self.closure, self.accumulate = opt, closure, int(accumulate)
        if self.accumulate < 1:
            raise ValueError(f"accumulate must be a positive integer, got {accumulate}")
        self.params = [p for g in opt.param_groups for p in g["params"] if p.requires_grad]
        if not self.params:
            raise ValueError("no parameter of this optimizer requires grad")
        self.shapes = [p.shape for p in self.params]
        self.sizes = [p.numel() for p in self.params]
        self.theta0 = [p.data for p in self.params]  # the parameters' own tensors (no copy)
        self.l2 = _l2_groups(opt.param_groups)
        self.moved = False  # True while the parameters hold a perturbed point (self.point)
        self.point = self.theta0
        self.adv_losses = []  # losses at the perturbed points (checked by `nonfinite_perturbed`)
        self._work = None
        self.gnorm = None  # |g| of the last normgrads evaluation (a number on fast_cpu)
        self.scale, self.scaler = 1.0, None
        if scaler is not None and scaler.is_enabled():
            self.scale, self.scaler = float(scaler.get_scale()), scaler
        self.world = _world(opt.process_group) if opt.distributed else 1
        self.model = opt.model
        self.bn_saved = None
        self.evaluations = 0

    @staticmethod
    def flat(ts):
        return lflat(ts)

    def split(self, v):
        return [x.view(s) for x, s in zip(torch.split(v, self.sizes), self.shapes)]

    def _as_list(self, v):
        if v is None or isinstance(v, (list, tuple)):
            return v
        return self.split(v)

    def _set(self, values):
        for p, v in zip(self.params, values):
            p.data = v
        self.moved = values is not self.theta0
        self.point = values

    @property
    def work(self):
        """The buffers that hold a perturbed point (kept by the optimizer across steps)."""
        if self._work is None:
            self._work = _work_buffers(self.opt, self.params)
        return self._work

    @_no_grad
    def move(self, e, scale=1.0, relative=False):
        """Set the parameters to theta0 + scale e (relative: to the current point + scale e).

        e: a parameter list or a flat vector; e = None: back to theta0, exactly. The perturbed
        point is written in one pass into the optimizer's work buffers, which become the
        parameters' data until `finish` (or `move(None)`) swaps theta0 back in.
        """
        e = self._as_list(e)
        if e is None:
            if self.moved:
                self._set(self.theta0)
            return
        if relative and self.moved:  # the parameters are the work buffers: add in place
            K.laxpy_(self.work, e, scale)
            return
        K.point_(self.work, self.theta0, e, scale)
        self._set(self.work)

    @_no_grad
    def move_into(self, v, scale):
        """Set the parameters to theta0 + scale v, built in v's own storage (v is overwritten and
        becomes the parameters' data until `finish`): a perturbed point with no extra memory."""
        K.point_(v, self.theta0, v, scale)
        self._set(v)

    def scratch(self):
        """The work buffers, to build a direction e in (then `move(ev.scratch(), s)` is one pass,
        with no allocation). Their content is the current point only while nothing was written."""
        return self.work

    def theta(self):
        """The current point theta0 + e as a flat vector."""
        return lflat([p.detach() for p in self.params])

    def _loss(self, i):
        ctx = self.model.no_sync() if hasattr(self.model, "no_sync") else contextlib.nullcontext()
        with torch.enable_grad(), ctx:
            before = [p.grad for p in self.params]
            loss = self.closure(i) if self.accumulate > 1 else self.closure()
            _check_loss(loss)
            if any(p.grad is not b for p, b in zip(self.params, before)):
                raise RuntimeError("the closure called backward() (a parameter's .grad is set): "
                                   "gamtoy.torch optimizers differentiate the loss themselves; "
                                   "return the loss without calling backward()")
            scaled = loss if self.scaler is None else self.scaler.scale(loss)
        return loss, scaled

    def _grads(self, out, inputs, grad_outputs=None, create_graph=False):
        gs = torch.autograd.grad(out, inputs, grad_outputs=grad_outputs, create_graph=create_graph,
                                 allow_unused=True, materialize_grads=True)
        return list(gs)

    def _after_eval(self):
        self.evaluations += 1
        if self.model is not None and self.evaluations == 1:
            # running statistics as updated by the one forward pass at theta (per micro-batch)
            self.bn_saved = [(b, b.clone()) for m in self.model.modules() if _is_bn(m)
                             for b in (m.running_mean, m.running_var, m.num_batches_tracked)
                             if b is not None]

    def _reduce(self, v, loss):
        """Average [v, loss] over ranks in one all_reduce (v a parameter list)."""
        if self.world > 1:
            buf = torch.cat([lflat(v), loss.detach().reshape(1).to(v[0].dtype)])
            dist.all_reduce(buf, group=self.opt.process_group)
            buf /= self.world
            v, loss = self.split(buf[:-1]), buf[-1]
        if self.scaler is not None and not all(bool(torch.isfinite(x).all()) for x in v):
            raise _Overflow
        return v, loss.detach()

    def _l2(self, v, loss, inplace=True):
        """v + l2 theta and loss + l2/2 |theta|^2 at the current parameters (theta0 + e)."""
        if self.l2 is None:
            return v, loss
        if not inplace:
            v = list(v)
        for c, idx in self.l2:
            ps = [self.params[i].detach() for i in idx]
            vs = [v[i] for i in idx]
            if inplace:
                torch._foreach_add_(vs, ps, alpha=c)
            else:
                for i, vi in zip(idx, torch._foreach_add(vs, ps, alpha=c)):
                    v[i] = vi
            loss = loss + (0.5 * c * ldot(ps, ps)).to(loss.dtype)
        return v, loss

    @_no_grad
    def grads(self, e=None, scale=1.0, relative=False):
        """(loss, g) at theta0 + scale e (see `move`), g a parameter list."""
        self.move(e, scale, relative)
        return self.grads_here()

    def _note(self, loss):
        if self.moved:
            self.adv_losses.append(loss)
        return loss

    def grads_here(self):
        """(loss, g) at the current point (after `move` or `move_into`)."""
        loss, g = self._grads_here()
        return self._note(loss), g

    def nonfinite_perturbed(self, loss, check=True):
        """True if the loss is not finite at theta or at a perturbed point (the step is then
        skipped: parameters stay finite), else False; off the CPU with check=False a 0-d bool
        tensor instead (no device sync)."""
        if K.fast_cpu(loss):  # numbers: no kernels (the device path when forced, as on a GPU)
            return not math.isfinite(loss.item()) or not all(math.isfinite(x.item())
                                                              for x in self.adv_losses)
        bad = ~torch.isfinite(loss)
        if self.adv_losses:
            bad = bad | ~torch.isfinite(torch.stack([x.float() for x in self.adv_losses])).all()
        return bool(bad) if check else bad

    def _grads_here(self):
        """`grads` at the current point (after `move`)."""
        if self.accumulate == 1 and self.scaler is None and self.world == 1:
            # the common case: one closure call, nothing to average, unscale or reduce
            loss, _ = self._loss(0)
            g = self._grads(loss, self.params)
            self._after_eval()
            g, loss = self._l2(g, loss.detach())
            return loss, g
        g, loss = None, 0.0
        for i in range(self.accumulate):
            li, scaled = self._loss(i)
            gi = self._grads(scaled, self.params)
            if g is None:
                g = gi
            else:
                torch._foreach_add_(g, gi)
            loss = loss + li.detach()
        div = self.accumulate * self.scale
        if div != 1:
            torch._foreach_div_(g, div)
        g, loss = self._reduce(g, loss / self.accumulate if self.accumulate > 1 else loss)
        self._after_eval()
        g, loss = self._l2(g, loss)
        return loss, g

    @_no_grad
    def normgrads_raw(self, e=None, scale=1.0, relative=False):
        """(loss, g, Hg, c) at theta0 + scale e with c = 1/(|g|+xi): f = c Hg (GAM Eq. 8).

        Exact HVP by double backward: one forward, one backward that keeps its graph and one
        double backward with grad_outputs g (H is linear: the normalisation is the scalar c,
        applied by the caller where it is needed, not as a pass over a vector).
        """
        self.move(e, scale, relative)
        return self.normgrads_here()

    def normgrads_here(self):
        """`normgrads_raw` at the current point (after `move`), by the optimizer's HVP mode."""
        mode = getattr(self.opt, "hvp", "double_backward")
        auto = mode == "auto"
        if auto:
            mode = _auto_hvp(self)
        if mode != "forward_over_reverse":
            out = self._normgrads_here()
        elif not auto:
            out = self._normgrads_for()
        else:
            rng = _rng_state(self.params)
            try:
                out = self._normgrads_for()
            except _OOM:
                raise
            except RuntimeError:  # chosen earlier, fails now (e.g. autocast): double backward,
                _AUTO[_auto_key(self)] = self.opt.hvp_chosen = "double_backward"
                _set_rng(rng)  # from the same random state (dropout masks)
                out = self._normgrads_here()
        self._note(out[0])
        return out

    def _normgrads_for(self):
        """`normgrads_raw` with forward-over-reverse HVPs: g by backward, then H g as the jvp of
        torch.func.grad along g (a functional_call of the model; buffers passed as copies made
        inside the transform, so BatchNorm's in-place updates do not break it)."""
        rng = _rng_state(self.params)
        loss, g = self._grads_here()
        self.gnorm = lnorm_num(g)
        hg = None
        with _replay_rng(rng):  # the closure runs again: with the gradient pass's dropout masks
            for i in range(self.accumulate):
                hi = _jvp_hvp_or_say(self, i, g)
                if hg is None:
                    hg = hi
                else:
                    torch._foreach_add_(hg, hi)
        if self.accumulate > 1:
            torch._foreach_div_(hg, self.accumulate)
        hg, _ = self._reduce(hg, loss)
        return loss, g, self._l2h(hg, g), 1.0 / (self.gnorm + self.opt.xi)

    def _normgrads_here(self):
        """`normgrads_raw` by double backward at the current point (after `move`)."""
        xi = self.opt.xi
        if self.accumulate == 1:
            # one pass with a graph; the HVP along the rank-averaged g, then averaged
            loss, scaled = self._loss(0)
            gs = self._grads(scaled, self.params, create_graph=True)
            g = [x.detach() for x in gs]
            if self.scale != 1.0:
                g = torch._foreach_div(g, self.scale)
            g, loss = self._reduce(g, loss)
            self._after_eval()
            g, loss = self._l2(g, loss, inplace=False)  # g shares memory with the graph
            self.gnorm = lnorm_num(g)
            hg, _ = self._reduce(self._hvp(gs, g), loss)
            return loss, g, self._l2h(hg, g), 1.0 / (self.gnorm + xi)
        # micro-batches: the full g first, then H g summed over micro-batches (one more pass)
        loss, g = self._grads_here()
        self.gnorm = lnorm_num(g)
        hg = None
        for i in range(self.accumulate):
            _, scaled = self._loss(i)
            gs = self._grads(scaled, self.params, create_graph=True)
            hi = self._hvp(gs, g)
            if hg is None:
                hg = hi
            else:
                torch._foreach_add_(hg, hi)
        torch._foreach_div_(hg, self.accumulate)
        hg, _ = self._reduce(hg, loss)
        return loss, g, self._l2h(hg, g), 1.0 / (self.gnorm + xi)

    def normgrads(self, e=None, scale=1.0, relative=False):
        """(loss, g, f) at theta0 + scale e with f = H g/(|g|+xi) (GAM Eq. 8), parameter lists."""
        loss, g, hg, c = self.normgrads_raw(e, scale, relative)
        with torch.no_grad():
            return loss, g, lscale(hg, c)

    def grad(self, e=None):
        """(loss, g) at theta0 + e, g flat (e flat, a parameter list or None)."""
        loss, g = self.grads(e)
        return loss, lflat(g)

    def normgrad(self, e=None):
        """(loss, g, f) at theta0 + e as flat vectors, f = H g/(|g|+xi) (GAM Eq. 8)."""
        loss, g, f = self.normgrads(e)
        return loss, lflat(g), lflat(f)

    def _hvp(self, gs, v):
        """H v / scale (a parameter list) from the graph of the (scaled) gradient gs."""
        keep = [i for i, gi in enumerate(gs) if gi.requires_grad]
        if not keep:
            return [torch.zeros_like(p) for p in self.params]
        hs = self._grads([gs[i] for i in keep], self.params, grad_outputs=[v[i] for i in keep])
        if self.scale != 1.0:
            torch._foreach_div_(hs, self.scale)
        return hs

    def _l2h(self, f, u):
        """Add the L2 term's Hessian l2 I to H u (in place on f)."""
        if self.l2 is not None:
            for c, idx in self.l2:
                torch._foreach_add_([f[i] for i in idx], [u[i] for i in idx], alpha=c)
        return f

    def finish(self):
        """Back to theta0 exactly; BatchNorm running statistics as after the first forward."""
        self.move(None)
        if self.bn_saved is not None:
            with torch.no_grad():
                for b, saved in self.bn_saved:
                    b.copy_(saved)


def _jvp_hvp(ev, i, v):
    """H v at the current point for micro-batch i, forward-over-reverse (torch.func.jvp of
    torch.func.grad of the closure's loss, the model called with the parameters as inputs)."""
    from torch.func import grad, jvp
    from torch.nn.utils.stateless import _reparametrize_module
    model = ev.model.module if hasattr(ev.model, "no_sync") else ev.model
    names = _param_names(model, ev.params)
    buffers = dict(model.named_buffers())

    def loss_of(ps):
        copies = {k: b.clone() for k, b in buffers.items()}  # BatchNorm updates land on copies
        with _reparametrize_module(model, {**dict(zip(names, ps)), **copies}):
            return ev.closure(i) if ev.accumulate > 1 else ev.closure()

    ps = tuple(p.detach() for p in ev.params)
    with torch.enable_grad(), warnings.catch_warnings():
        # torch's first jvp loads its decompositions with torch.jit.script (deprecated there)
        warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=DeprecationWarning)
        _, hv = jvp(grad(loss_of), (ps,), (tuple(v),))
    return list(hv)


_OOM = getattr(torch, "OutOfMemoryError", torch.cuda.OutOfMemoryError)


def _jvp_hvp_or_say(ev, i, v):
    """`_jvp_hvp`, its failure told as what it is and what to use instead."""
    try:
        return _jvp_hvp(ev, i, v)
    except _OOM:
        raise  # out of memory is what it says
    except RuntimeError as e:
        raise RuntimeError(
            "hvp='forward_over_reverse' failed inside torch.func.jvp; use hvp='double_backward', "
            "or hvp='auto', which falls back to it. Known case: torch.autocast around a model "
            "with BatchNorm, whose forward-mode derivative leaves a float32 activation that the "
            f"next layer's autocast cast misses (torch {torch.__version__}). torch said: "
            f"{str(e)[:200]}") from e


def _param_names(model, params):
    by_id = {id(p): n for n, p in model.named_parameters()}
    try:
        return [by_id[id(p)] for p in params]
    except KeyError:
        raise ValueError("hvp='forward_over_reverse' needs every optimised parameter to belong to "
                         "model= (pass the model whose parameters are optimised)") from None


_AUTO = {}  # (device type, dtype, parameter shapes) -> the faster HVP mode, measured once


def _rng_state(params):
    """The CPU and CUDA random states (for the devices of `params`): to replay dropout masks."""
    cuda = sorted({p.device.index or 0 for p in params if p.device.type == "cuda"})
    return torch.get_rng_state(), [(d, torch.cuda.get_rng_state(d)) for d in cuda]


def _set_rng(state):
    cpu, cuda = state
    torch.set_rng_state(cpu)
    for d, s in cuda:
        torch.cuda.set_rng_state(s, d)


@contextlib.contextmanager
def _replay_rng(state):
    """Run a block from the random `state`; afterwards the state is as before the block."""
    with torch.random.fork_rng(devices=[d for d, _ in state[1]]):
        _set_rng(state)
        yield


def _auto_key(ev):
    return (ev.params[0].device.type, ev.params[0].dtype, tuple(tuple(p.shape) for p in ev.params))


def _auto_hvp(ev):
    """hvp="auto": double backward without a model (or with parameters outside it, micro-batches,
    ranks, a GradScaler); otherwise both modes timed once at the first evaluation for this
    device, dtype and parameter layout, and the faster one kept (a mode that fails: not kept).
    The timing runs from the step's random state and leaves it as it was."""
    simple = ev.model is None or ev.accumulate > 1 or ev.world > 1 or ev.scaler is not None
    if not simple:
        try:
            _param_names(ev.model.module if hasattr(ev.model, "no_sync") else ev.model,
                         ev.params)
        except ValueError:
            simple = True
    if simple:
        ev.opt.hvp_chosen = "double_backward"
        return "double_backward"
    key = _auto_key(ev)
    if key not in _AUTO:
        with _replay_rng(_rng_state(ev.params)):
            _AUTO[key] = _time_hvp_modes(ev)
    ev.opt.hvp_chosen = _AUTO[key]
    return _AUTO[key]


def _time_hvp_modes(ev):
    """The faster HVP mode at the current point, each timed twice (a failing one: never)."""
    sync = (torch.cuda.synchronize if ev.params[0].device.type == "cuda" else lambda: None)
    times = {}
    _, g = ev._grads_here()
    for mode in ("double_backward", "forward_over_reverse", "double_backward",
                 "forward_over_reverse"):
        sync()
        t0 = time.perf_counter()
        if mode == "double_backward":
            with torch.enable_grad():
                loss = ev.closure()
                gs = ev._grads(loss, ev.params, create_graph=True)
                ev._hvp(gs, g)
        else:
            try:
                _jvp_hvp(ev, 0, g)
            except _OOM:
                raise
            except RuntimeError:  # e.g. autocast + BatchNorm (`_jvp_hvp_or_say`): not usable
                times[mode] = math.inf
                continue
        sync()
        times[mode] = min(times.get(mode, math.inf), time.perf_counter() - t0)
    return min(times, key=times.get)


def _work_buffers(opt, params):
    """One parameter-sized buffer per parameter for the perturbed points, kept by the optimizer.

    Reused while the parameter list is unchanged (no allocation, no fresh pages per step); it is
    working memory, not optimizer state (not in state_dict).
    """
    key = [(id(p), p.shape, p.dtype, p.device) for p in params]
    cache = getattr(opt, "_work_cache", None)
    if cache is None or cache[0] != key:
        cache = (key, [torch.empty_like(p.detach(), memory_format=torch.preserve_format)
                       for p in params])
        opt._work_cache = cache
    return cache[1]


def _check_loss(loss):
    if not isinstance(loss, torch.Tensor):
        raise TypeError(f"the closure must return the loss as a torch.Tensor, got {type(loss).__name__}"
                        " (return the loss tensor; do not call .item() or .backward())")
    if loss.numel() != 1:
        raise ValueError(f"the closure must return a scalar loss, got shape {tuple(loss.shape)} "
                         "(reduce it, e.g. loss.mean())")
    if not loss.requires_grad:
        raise ValueError("the closure's loss has no graph (requires_grad=False): compute it from the"
                         " parameters with autograd enabled, without .detach() or torch.no_grad()")


def _l2_groups(groups):
    """[(l2 coefficient, [indices into the parameter list])] for the nonzero coefficients, or None."""
    out, i = {}, 0
    for g in groups:
        c = float(g.get("l2", 0.0))
        for p in g["params"]:
            if p.requires_grad:
                if c != 0:
                    out.setdefault(c, []).append(i)
                i += 1
    return list(out.items()) or None


def _world(group):
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size(group)
    return 1


def check_nonneg(name, value):
    if value is not None and (not isinstance(value, (int, float)) or math.isnan(value) or value < 0):
        raise ValueError(f"{name} must be a non-negative number, got {value!r}")


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
