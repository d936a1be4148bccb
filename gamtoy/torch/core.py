"""The machinery every gamtoy.torch optimizer shares: evaluate the closure's gradient (and HVPs)
at theta + e, average over ranks, undo BatchNorm updates at perturbed points, then hand the
direction d to a torch base optimizer.

All vectors are flat: the parameters that require grad, concatenated (norms are global over all
parameters, as in every paper). Every normalisation divides by |v| + xi.
"""
import contextlib
import math

import torch
import torch.distributed as dist

XI = 1e-12


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


class _Overflow(Exception):
    """A scaled (mixed-precision) gradient was not finite: the step is skipped."""


def _is_bn(m):
    return isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.track_running_stats


class Evaluator:
    """Gradients and HVPs of the closure's loss at theta + e for one optimizer step.

    `grad(e)` -> (loss, g); `normgrad(e)` -> (loss, g, H g/(|g|+xi)) (GAM Eq. 8 in one pass).
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
        with torch.no_grad():
            self.theta0 = self.flat(self.params).clone()
        self.l2 = _l2_vector(opt.param_groups, self.theta0)
        self.e = None
        self.scale, self.scaler = 1.0, None
        if scaler is not None and scaler.is_enabled():
            self.scale, self.scaler = float(scaler.get_scale()), scaler
        self.world = _world(opt.process_group) if opt.distributed else 1
        self.model = opt.model
        self.bn_saved = None
        self.evaluations = 0

    @staticmethod
    def flat(ts):
        return torch.cat([t.reshape(-1) for t in ts])

    def split(self, v):
        return [x.view(s) for x, s in zip(torch.split(v, self.sizes), self.shapes)]

    def move(self, e):
        """Set the parameters to theta0 + e (e = None: back to theta0, exactly)."""
        with torch.no_grad():
            if e is None and self.e is None:
                return
            v = self.theta0 if e is None else self.theta0 + e
            torch._foreach_copy_(self.params, self.split(v))
            self.e = e

    def theta(self):
        return self.theta0 if self.e is None else self.theta0 + self.e

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
        return gs

    def _after_eval(self):
        self.evaluations += 1
        if self.evaluations == 1 and self.model is not None:
            # running statistics as updated by the one forward pass at theta (per micro-batch)
            self.bn_saved = [(b, b.clone()) for m in self.model.modules() if _is_bn(m)
                             for b in (m.running_mean, m.running_var, m.num_batches_tracked)
                             if b is not None]

    def _reduce(self, v, loss):
        """Average [v, loss] over ranks in one all_reduce; add the L2 term."""
        if self.world > 1:
            buf = torch.cat([v, loss.detach().reshape(1).to(v.dtype)])
            dist.all_reduce(buf, group=self.opt.process_group)
            buf /= self.world
            v, loss = buf[:-1], buf[-1]
        if self.scaler is not None and not bool(torch.isfinite(v).all()):
            raise _Overflow
        return v, loss.detach()

    def _l2(self, v, loss, theta):
        if self.l2 is None:
            return v, loss
        return v + self.l2 * theta, loss + 0.5 * torch.dot(self.l2 * theta, theta).to(loss.dtype)

    def grad(self, e=None):
        """(loss, g) at theta0 + e."""
        self.move(e)
        g, loss = None, 0.0
        for i in range(self.accumulate):
            li, scaled = self._loss(i)
            gi = self.flat(self._grads(scaled, self.params))
            g = gi if g is None else g + gi
            loss = loss + li.detach()
        g, loss = self._reduce(g / (self.accumulate * self.scale), loss / self.accumulate)
        self._after_eval()
        g, loss = self._l2(g, loss, self.theta())
        return loss, g

    def normgrad(self, e=None):
        """(loss, g, f) at theta0 + e with f = H g/(|g|+xi) (GAM Eq. 8), exact HVP (double backward)."""
        self.move(e)
        xi = self.opt.xi
        theta = self.theta()
        if self.accumulate == 1:
            # one pass with a graph; u from the rank-averaged g, then the averaged H u
            loss, scaled = self._loss(0)
            gs = self._grads(scaled, self.params, create_graph=True)
            g, loss = self._reduce(self.flat(gs).detach() / self.scale, loss)
            self._after_eval()
            g, loss = self._l2(g, loss, theta)
            u = unit(g, xi)
            f, _ = self._reduce(self._hvp(gs, u), loss)
            return loss, g, self._l2h(f, u)
        # micro-batches: the full g first, then H u summed over micro-batches (one more pass)
        loss, g = self.grad(e)
        u = unit(g, xi)
        f = None
        for i in range(self.accumulate):
            _, scaled = self._loss(i)
            gs = self._grads(scaled, self.params, create_graph=True)
            fi = self._hvp(gs, u)
            f = fi if f is None else f + fi
        f, _ = self._reduce(f / self.accumulate, loss)
        return loss, g, self._l2h(f, u)

    def _hvp(self, gs, u):
        """H u / scale from the graph of the (scaled) gradient gs."""
        keep = [i for i, gi in enumerate(gs) if gi.requires_grad]
        us = self.split(u)
        if not keep:
            return torch.zeros_like(u)
        hs = self._grads([gs[i] for i in keep], self.params, grad_outputs=[us[i] for i in keep])
        f = self.flat(hs)
        return f / self.scale if self.scale != 1.0 else f

    def _l2h(self, f, u):
        """Add the L2 term's Hessian l2 I to H u."""
        return f if self.l2 is None else f + self.l2 * u

    def finish(self):
        """Back to theta0 exactly; BatchNorm running statistics as after the first forward."""
        self.move(None)
        if self.bn_saved is not None:
            with torch.no_grad():
                for b, saved in self.bn_saved:
                    b.copy_(saved)


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


def _l2_vector(groups, theta0):
    """The flat vector of per-parameter L2 coefficients (None when all are 0)."""
    coefs = [(g.get("l2", 0.0), p.numel()) for g in groups for p in g["params"] if p.requires_grad]
    if all(c == 0 for c, _ in coefs):
        return None
    if len({c for c, _ in coefs}) == 1:
        return torch.tensor(coefs[0][0], dtype=theta0.dtype, device=theta0.device)
    return torch.cat([torch.full((n,), float(c), dtype=theta0.dtype, device=theta0.device)
                      for c, n in coefs])


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
