"""The machinery every gamtoy.torch optimizer shares: evaluate the closure's gradient (and HVPs)
at theta + e, average over ranks, undo BatchNorm updates at perturbed points, then hand the
direction d to a torch base optimizer.

Vectors in the hot path are lists of tensors, one per parameter that requires grad (a
"parameter list"), combined with `torch._foreach_*` ops: no flat copies, no per-step
concatenation. Norms and dot products are global over all parameters, as in every paper, and
every normalisation divides by |v| + xi. On the CPU (float32/64) norms and dot products are
summed as Python numbers (`lnorm_num`, `lnorm_dot_num`): the scalars built from them go to the
next kernels as numbers, with no scalar-tensor kernels in between. The flat helpers (`unit`,
`decompose`, `cos`, `Evaluator.grad`/`normgrad`) remain for callers who want one vector.

Moves cost one pass and no copy of theta0: the perturbed point theta0 + s v is written into
work buffers the optimizer keeps across steps (`torch.add(..., out=)`: no allocation) and
swapped in as the parameters' data; going back swaps the original tensors in again, so theta0
is restored bit for bit, in its own storage. On the CPU a scalar s is passed to the kernels as a
number (`.item()` costs no device sync there); on other devices it stays a tensor, so no step
synchronises with the device.
"""
import contextlib
import math

import torch
import torch.distributed as dist

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


# ---- parameter lists (the hot path) ---------------------------------------------------------

def lnorm(v):
    """Global 2-norm of a parameter list: one _foreach_norm, then the norm of the norms."""
    return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(v)))


def ldot(u, v):
    """Global dot product of two parameter lists (a 0-d tensor)."""
    return torch.stack([torch.dot(a.reshape(-1), b.reshape(-1)) for a, b in zip(u, v)]).sum()


def lnorm_dot(a, b):
    """(|a|, <a, b>) of two parameter lists in one sweep (a is read while still in cache)."""
    dot = torch.dot
    parts = []
    for x, y in zip(a, b):
        x = x.reshape(-1)
        parts += (dot(x, x), dot(y.reshape(-1), x))
    sq, dt = torch.stack(parts).view(-1, 2).sum(0).unbind()
    return sq.sqrt(), dt


def fast_cpu(t):
    """True for CPU float32/float64 tensors: their scalars go to the kernels as Python numbers
    (no device sync) and their dot products accumulate in at least single precision."""
    return t.device.type == "cpu" and t.dtype in (torch.float32, torch.float64)


def lnorm_num(v):
    """`lnorm` as a Python number on the CPU, float32/64 (one dot per parameter, no stack or
    norm kernels); a 0-d tensor on other devices (no sync)."""
    if not fast_cpu(v[0]):
        return lnorm(v)
    dot = torch.dot
    sq = 0.0
    for x in v:
        x = x.reshape(-1)
        sq += dot(x, x).item()
    return math.sqrt(sq)


def lnorm_dot_num(a, b):
    """`lnorm_dot` as Python numbers on the CPU, float32/64 (no stack/sum/sqrt kernels: the
    scalars go straight into the next kernels as numbers); 0-d tensors elsewhere (no sync)."""
    if not fast_cpu(a[0]):
        return lnorm_dot(a, b)
    dot = torch.dot
    sq = dt = 0.0
    for x, y in zip(a, b):
        x = x.reshape(-1)
        sq += dot(x, x).item()
        dt += dot(y.reshape(-1), x).item()
    return math.sqrt(sq), dt


def lscale(v, s):
    """v * s as a new list (s a number or a 0-d tensor)."""
    return torch._foreach_mul(v, s)


def _number(s):
    """s as a Python number when that costs no device sync (CPU tensors), else s unchanged."""
    if isinstance(s, torch.Tensor) and s.device.type == "cpu":
        return s.item()
    return s


def laxpy(x, v, s):
    """x + s v as a new list in one pass (s a number or a 0-d tensor)."""
    s = _number(s)
    if isinstance(s, torch.Tensor):
        return torch._foreach_add(x, torch._foreach_mul(v, s))
    return torch._foreach_add(x, v, alpha=s)


def laxpy_(x, v, s):
    """x += s v in place (s a number or a 0-d tensor); returns x."""
    s = _number(s)
    if isinstance(s, torch.Tensor):
        torch._foreach_add_(x, torch._foreach_mul(v, s))
    else:
        torch._foreach_add_(x, v, alpha=s)
    return x


def lflat(v):
    """The parameter list as one flat vector (a copy)."""
    return torch.cat([t.reshape(-1) for t in v])


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
        self.moved = False  # True while the parameters hold a perturbed point (self.work)
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
        s = _number(scale)
        if relative and self.moved:  # the parameters are the work buffers: add in place
            laxpy_(self.work, e, s)
            return
        if isinstance(s, torch.Tensor):  # a device scalar: no sync, two passes
            if e is self.work:  # e was built in the work buffers (see `scratch`)
                torch._foreach_mul_(self.work, s)
                torch._foreach_add_(self.work, self.theta0)
            else:
                torch._foreach_copy_(self.work, self.theta0)
                laxpy_(self.work, e, s)
        else:
            for w, t, v in zip(self.work, self.theta0, e):
                torch.add(t, v, alpha=s, out=w)
        self._set(self.work)

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
            loss = self.closure(i) if self.accumulate > 1 else self.closure()
            _check_loss(loss)
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
        return self._grads_here()

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
        return self._normgrads_here()

    def _normgrads_here(self):
        """`normgrads_raw` at the current point (after `move`)."""
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
