"""The loss evaluation: gradients (and, through `hvp`, Hessian-vector products) of the closure's
loss at the current point, with micro-batches, a GradScaler, the average over torch.distributed
ranks and the L2 term l2/2 |theta|^2 (weight decay) of each parameter group.

Two closure conventions give the same numbers:

* backward-free (gamtoy's): `closure()` returns the loss and the optimizer differentiates it;
* torch's (LBFGS, Lightning's automatic optimization): `closure()` calls `opt.zero_grad()` and
  `loss.backward()` itself. While the closure runs, `Tensor.backward` and
  `torch.autograd.backward` record the tensor they are called on instead of differentiating it
  (one backward per closure call: `.grad` is written by the step, not by the closure), so the
  optimizer differentiates the very loss the closure built, with a graph where an HVP needs one.
  A closure that sets `.grad` some other way gives its gradients (first-order methods only).
"""
import contextlib
import math

import torch
import torch.distributed as dist

from . import hvp as H
from . import kernels as K
from .perturb import Point, no_grad


class SetGrads(list):
    """The gradients a closure wrote into .grad itself (a parameter list)."""


class Overflow(Exception):
    """A scaled (mixed-precision) gradient was not finite: the step is skipped."""


NEEDS_GRAPH = ("{method} needs the loss's graph for its exact Hessian-vector products (GAM "
               "Alg. 1), but the closure set .grad without a backward() that gamtoy can see: "
               "return the loss without calling backward() (opt.step(lambda: loss_fn(...))), or "
               "use GAMAccel (first-order, takes any closure)")


@contextlib.contextmanager
def capture_backward():
    """While the block runs, `loss.backward(gradient)` and `torch.autograd.backward` append the
    scalar they would differentiate (loss, or <loss, gradient>) to the yielded list instead."""
    called = []
    tensor_backward, autograd_backward = torch.Tensor.backward, torch.autograd.backward

    def record(tensors, gradient=None, *args, **kwargs):
        ts = [tensors] if isinstance(tensors, torch.Tensor) else list(tensors)
        gs = gradient if isinstance(gradient, (list, tuple)) else [gradient] * len(ts)
        called.extend(t if g is None else (t * g).sum() for t, g in zip(ts, gs, strict=False))

    def autograd_record(tensors, grad_tensors=None, *args, **kwargs):
        record(tensors, grad_tensors)

    torch.Tensor.backward, torch.autograd.backward = record, autograd_record
    try:
        yield called
    finally:
        torch.Tensor.backward, torch.autograd.backward = tensor_backward, autograd_backward


def check_loss(loss):
    if not isinstance(loss, torch.Tensor):
        raise TypeError("the closure must return the loss as a torch.Tensor, got "
                        f"{type(loss).__name__}"
                        " (return the loss tensor, or call loss.backward() on it)")
    if loss.numel() != 1:
        raise ValueError(f"the closure must return a scalar loss, got shape {tuple(loss.shape)} "
                         "(reduce it, e.g. loss.mean())")
    if not loss.requires_grad:
        raise ValueError("the closure's loss has no graph (requires_grad=False): compute it from "
                         "the parameters with autograd enabled, without .detach() or "
                         "torch.no_grad()")


def _is_bn(m):
    return isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.track_running_stats


def l2_groups(groups):
    """[(l2 coefficient, [indices into the parameter list])] for the nonzero coefficients, or
    None."""
    out, i = {}, 0
    for g in groups:
        c = float(g.get("l2", 0.0))
        for p in g["params"]:
            if p.requires_grad:
                if c != 0:
                    out.setdefault(c, []).append(i)
                i += 1
    return list(out.items()) or None


def world_size(opt):
    if opt.distributed and dist.is_available() and dist.is_initialized():
        return dist.get_world_size(opt.process_group)
    return 1


class Evaluator(Point):
    """Gradients and HVPs of the closure's loss at theta0 + e for one optimizer step.

    `grads(e)` -> (loss, g); `normgrads(e)` -> (loss, g, H g/(|g|+xi)) (GAM Eq. 8 in one pass),
    with e, g and the HVP as parameter lists. `grad` / `normgrad` return the same as flat vectors.
    The loss and its derivatives include the L2 term l2/2 |theta|^2 (weight decay), averaged over
    micro-batches and over torch.distributed ranks. After the step the optimizer reads
    `work_cache` (its buffers) and `hvp_chosen` (the HVP mode used, None if none).
    """

    def __init__(self, opt, closure, accumulate=1, scaler=None, work_cache=None):
        params = [p for g in opt.param_groups for p in g["params"] if p.requires_grad]
        if not params:
            raise ValueError("no parameter of this optimizer requires grad")
        super().__init__(params, work_cache)
        self.closure, self.accumulate = closure, int(accumulate)
        self.xi, self.model = opt.xi, opt.model
        self.hvp_mode, self.hvp_chosen = getattr(opt, "hvp", None), None
        self.process_group = opt.process_group
        self.l2 = l2_groups(opt.param_groups)
        self.adv_losses = []  # losses at the perturbed points (checked by `nonfinite_perturbed`)
        self.gnorm = None  # |g| of the last normgrads evaluation (a number on fast_cpu)
        self.scale, self.scaler = 1.0, None
        if scaler is not None and scaler.is_enabled():
            self.scale, self.scaler = float(scaler.get_scale()), scaler
        self.world = world_size(opt)
        self.bn_saved = None
        self.evaluations = 0

    @staticmethod
    def flat(ts):
        return K.lflat(ts)

    def call_closure(self, i):
        """(loss, set_grads) from closure(i) (closure() without micro-batches), either convention:
        the loss to differentiate, or set_grads, the .grad the closure wrote itself (else None)."""
        before = [p.grad for p in self.params]
        with capture_backward() as called:
            out = self.closure(i) if self.accumulate > 1 else self.closure()
        if called:
            return sum(called[1:], called[0]), None
        if any(p.grad is not b for p, b in zip(self.params, before, strict=True)):
            set_grads = SetGrads(torch.zeros_like(p) if p.grad is None else p.grad
                                 for p in self.params)
            for p in self.params:
                p.grad = None
            return out, set_grads
        return out, None

    def _loss(self, i, graph=True):
        """(loss, scaled loss or the closure's own gradients) of micro-batch i at the current point;
        graph=False also takes a closure that wrote .grad itself."""
        ctx = self.model.no_sync() if hasattr(self.model, "no_sync") else contextlib.nullcontext()
        with torch.enable_grad(), ctx:
            loss, set_grads = self.call_closure(i)
            if set_grads is not None:
                if not isinstance(loss, torch.Tensor):
                    check_loss(loss)  # the closure must still return the loss
                if graph:
                    raise RuntimeError(NEEDS_GRAPH.format(method="this optimizer"))
                if self.scale != 1.0:  # the closure's gradients are of the unscaled loss
                    set_grads = SetGrads(torch._foreach_mul(set_grads, self.scale))
                return loss.detach().reshape(()), set_grads
            check_loss(loss)
            scaled = loss if self.scaler is None else self.scaler.scale(loss)
        return loss, scaled

    def _grads(self, out, inputs, grad_outputs=None, create_graph=False):
        if isinstance(out, SetGrads):  # the closure's own gradients
            return out
        gs = torch.autograd.grad(out, inputs, grad_outputs=grad_outputs, create_graph=create_graph,
                                 allow_unused=True, materialize_grads=True)
        return list(gs)

    def after_eval(self):
        self.evaluations += 1
        if self.model is not None and self.evaluations == 1:
            # running statistics as updated by the one forward pass at theta (per micro-batch)
            self.bn_saved = [(b, b.clone()) for m in self.model.modules() if _is_bn(m)
                             for b in (m.running_mean, m.running_var, m.num_batches_tracked)
                             if b is not None]

    def reduce(self, v, loss):
        """Average [v, loss] over ranks in one all_reduce (v a parameter list)."""
        if self.world > 1:
            buf = torch.cat([K.lflat(v), loss.detach().reshape(1).to(v[0].dtype)])
            dist.all_reduce(buf, group=self.process_group)
            buf /= self.world
            v, loss = self.split(buf[:-1]), buf[-1]
        if self.scaler is not None and not all(bool(torch.isfinite(x).all()) for x in v):
            raise Overflow
        return v, loss.detach()

    def add_l2(self, v, u, inplace=True):
        """v + l2 u in each parameter group with an L2 coefficient l2: the L2 term's gradient
        (u = theta) or its Hessian times u (the term is l2/2 |theta|^2, Hessian l2 I)."""
        if self.l2 is None:
            return v
        if not inplace:
            v = list(v)
        for c, idx in self.l2:
            vs, us = [v[i] for i in idx], [u[i] for i in idx]
            if inplace:
                torch._foreach_add_(vs, us, alpha=c)
            else:
                for i, vi in zip(idx, torch._foreach_add(vs, us, alpha=c), strict=True):
                    v[i] = vi
        return v

    def with_l2(self, v, loss, inplace=True):
        """v + l2 theta and loss + l2/2 |theta|^2 at the current parameters (theta0 + e)."""
        if self.l2 is None:
            return v, loss
        theta = [p.detach() for p in self.params]
        for c, idx in self.l2:
            ps = [theta[i] for i in idx]
            loss = loss + (0.5 * c * K.ldot(ps, ps)).to(loss.dtype)
        return self.add_l2(v, theta, inplace), loss

    @no_grad
    def grads(self, e=None, scale=1.0, relative=False):
        """(loss, g) at theta0 + scale e (see `move`), g a parameter list."""
        self.move(e, scale, relative)
        return self.grads_here()

    def note(self, loss):
        if self.moved:
            self.adv_losses.append(loss)
        return loss

    def grads_here(self):
        """(loss, g) at the current point (after `move` or `move_into`)."""
        loss, g = self.plain_grads()
        return self.note(loss), g

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

    def plain_grads(self):
        """(loss, g) at the current point, not noted as a perturbed loss."""
        if self.accumulate == 1 and self.scaler is None and self.world == 1:
            # the common case: one closure call, nothing to average, unscale or reduce
            loss, out = self._loss(0, graph=False)
            g = self._grads(out, self.params)
            self.after_eval()
            g, loss = self.with_l2(g, loss.detach())
            return loss, g
        g, loss = None, 0.0
        for i in range(self.accumulate):
            li, scaled = self._loss(i, graph=False)
            gi = self._grads(scaled, self.params)
            if g is None:
                g = gi
            else:
                torch._foreach_add_(g, gi)
            loss = loss + li.detach()
        div = self.accumulate * self.scale
        if div != 1:
            torch._foreach_div_(g, div)
        g, loss = self.reduce(g, loss / self.accumulate if self.accumulate > 1 else loss)
        self.after_eval()
        g, loss = self.with_l2(g, loss)
        return loss, g

    @no_grad
    def normgrads_raw(self, e=None, scale=1.0, relative=False):
        """(loss, g, Hg, c) at theta0 + scale e with c = 1/(|g|+xi): f = c Hg (GAM Eq. 8), by the
        optimizer's HVP mode (see `hvp`)."""
        self.move(e, scale, relative)
        return self.normgrads_here()

    def normgrads_here(self):
        """`normgrads_raw` at the current point (after `move`)."""
        out = H.normgrads(self, self.hvp_mode or "double_backward")
        self.note(out[0])
        return out

    def normgrads(self, e=None, scale=1.0, relative=False):
        """(loss, g, f) at theta0 + scale e with f = H g/(|g|+xi) (GAM Eq. 8), parameter lists."""
        loss, g, hg, c = self.normgrads_raw(e, scale, relative)
        with torch.no_grad():
            return loss, g, K.lscale(hg, c)

    def grad(self, e=None):
        """(loss, g) at theta0 + e, g flat (e flat, a parameter list or None)."""
        loss, g = self.grads(e)
        return loss, K.lflat(g)

    def normgrad(self, e=None):
        """(loss, g, f) at theta0 + e as flat vectors, f = H g/(|g|+xi) (GAM Eq. 8)."""
        loss, g, f = self.normgrads(e)
        return loss, K.lflat(g), K.lflat(f)

    def finish(self):
        """Back to theta0 exactly; BatchNorm running statistics as after the first forward."""
        self.move(None)
        if self.bn_saved is not None:
            with torch.no_grad():
                for b, saved in self.bn_saved:
                    b.copy_(saved)
