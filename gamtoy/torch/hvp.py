"""The HVP modes: (loss, g, H g, 1/(|g|+xi)) at the evaluator's current point, GAM Eq. 8's
f = H g/(|g|+xi) with the scalar left to the caller.

* "double_backward": one forward, a backward that keeps its graph, one more backward with
  grad_outputs g;
* "forward_over_reverse": `torch.func.jvp` of `torch.func.grad`, the model called through
  functional_call with copies of its buffers (needs model=);
* "auto": the faster of the two, timed once per device, dtype and parameter layout; double
  backward where forward-over-reverse cannot run (e.g. autocast with BatchNorm).

`ev` is a `gamtoy.torch.evaluate.Evaluator`; the mode used is left in `ev.hvp_chosen`.
"""
import contextlib
import math
import time
import warnings

import torch

from . import kernels as K

_OOM = getattr(torch, "OutOfMemoryError", torch.cuda.OutOfMemoryError)
_AUTO = {}  # (device type, dtype, parameter shapes) -> the faster HVP mode, measured once


def normgrads(ev, mode):
    """(loss, g, Hg, 1/(|g|+xi)) at the current point by HVP mode `mode`."""
    auto = mode == "auto"
    if auto:
        mode = auto_mode(ev)
    ev.hvp_chosen = mode
    if mode != "forward_over_reverse":
        return double_backward(ev)
    if not auto:
        return forward_over_reverse(ev)
    rng = _rng_state(ev.params)
    try:
        return forward_over_reverse(ev)
    except _OOM:
        raise
    except RuntimeError:  # chosen earlier, fails now (e.g. autocast): double backward,
        _AUTO[_auto_key(ev)] = ev.hvp_chosen = "double_backward"
        _set_rng(rng)  # from the same random state (dropout masks)
        return double_backward(ev)


def hvp_from_graph(ev, gs, v):
    """H v / scale (a parameter list) from the graph of the (scaled) gradient gs."""
    keep = [i for i, gi in enumerate(gs) if gi.requires_grad]
    if not keep:
        return [torch.zeros_like(p) for p in ev.params]
    hs = ev._grads([gs[i] for i in keep], ev.params, grad_outputs=[v[i] for i in keep])
    if ev.scale != 1.0:
        torch._foreach_div_(hs, ev.scale)
    return hs


def _sum_micro(ev, hvp_of):
    """H g averaged over micro-batches (hvp_of(i): micro-batch i's H g)."""
    hg = None
    for i in range(ev.accumulate):
        hi = hvp_of(i)
        if hg is None:
            hg = hi
        else:
            torch._foreach_add_(hg, hi)
    if ev.accumulate > 1:
        torch._foreach_div_(hg, ev.accumulate)
    return hg


def _finish(ev, loss, g, hg):
    hg, _ = ev.reduce(hg, loss)
    return loss, g, ev.add_l2(hg, g), 1.0 / (ev.gnorm + ev.xi)


COMPILED = ("GAM's exact Hessian-vector products (double backward) cannot run through a "
            "torch.compile'd model (its compiled backward frees its buffers: torch {v}); step GAM "
            "with the eager model (compiled.__dict__['_orig_mod']), or use GAMAccel, whose four "
            "gradients run compiled")


def graph_grads(ev, scaled):
    """The gradient of the (scaled) loss with its graph kept (for an HVP), or gamtoy's message
    where a compiled model's backward cannot keep one."""
    try:
        return ev._grads(scaled, ev.params, create_graph=True)
    except RuntimeError as e:
        if "donated buffer" in str(e):
            raise RuntimeError(COMPILED.format(v=torch.__version__)) from None
        raise


def double_backward(ev):
    """`normgrads` by double backward at the current point."""
    if ev.accumulate == 1:
        # one pass with a graph; the HVP along the rank-averaged g, then averaged
        loss, scaled = ev._loss(0)
        gs = graph_grads(ev, scaled)
        g = [x.detach() for x in gs]
        if ev.scale != 1.0:
            g = torch._foreach_div(g, ev.scale)
        g, loss = ev.reduce(g, loss)
        ev.after_eval()
        g, loss = ev.with_l2(g, loss, inplace=False)  # g shares memory with the graph
        ev.gnorm = K.norm(g)
        return _finish(ev, loss, g, hvp_from_graph(ev, gs, g))
    # micro-batches: the full g first, then H g summed over micro-batches (one more pass)
    loss, g = ev.plain_grads()
    ev.gnorm = K.norm(g)

    def hvp_of(i):
        return hvp_from_graph(ev, graph_grads(ev, ev._loss(i)[1]), g)
    return _finish(ev, loss, g, _sum_micro(ev, hvp_of))


def forward_over_reverse(ev):
    """`normgrads` with forward-over-reverse HVPs: g by backward, then H g as the jvp of
    torch.func.grad along g (a functional_call of the model; buffers passed as copies made
    inside the transform, so BatchNorm's in-place updates do not break it)."""
    rng = _rng_state(ev.params)
    loss, g = ev.plain_grads()
    ev.gnorm = K.norm(g)
    with _replay_rng(rng):  # the closure runs again: with the gradient pass's dropout masks
        hg = _sum_micro(ev, lambda i: _jvp_hvp_or_say(ev, i, g))
    return _finish(ev, loss, g, hg)


def _unwrap(model):
    return model.module if hasattr(model, "no_sync") else model


def _jvp_hvp(ev, i, v):
    """H v at the current point for micro-batch i, forward-over-reverse (torch.func.jvp of
    torch.func.grad of the closure's loss, the model called with the parameters as inputs)."""
    from torch.func import grad, jvp
    from torch.nn.utils.stateless import _reparametrize_module
    model = _unwrap(ev.model)
    names = param_names(model, ev.params)
    buffers = dict(model.named_buffers())

    def loss_of(ps):
        copies = {k: b.clone() for k, b in buffers.items()}  # BatchNorm updates land on copies
        with _reparametrize_module(model, {**dict(zip(names, ps, strict=True)), **copies}):
            loss, own = ev.call_closure(i)
        if own is not None:
            from .evaluate import NEEDS_GRAPH
            raise ValueError(NEEDS_GRAPH.format(method="hvp='forward_over_reverse'"))
        return loss

    ps = tuple(p.detach() for p in ev.params)
    with torch.enable_grad(), warnings.catch_warnings():
        # torch's first jvp loads its decompositions with torch.jit.script (deprecated there)
        warnings.filterwarnings("ignore", message=".*torch.jit.script.*",
                                category=DeprecationWarning)
        _, hv = jvp(grad(loss_of), (ps,), (tuple(v),))
    return list(hv)


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


def param_names(model, params):
    by_id = {id(p): n for n, p in model.named_parameters()}
    try:
        return [by_id[id(p)] for p in params]
    except KeyError:
        raise ValueError("hvp='forward_over_reverse' needs every optimised parameter to belong to "
                         "model= (pass the model whose parameters are optimised)") from None


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


def auto_mode(ev):
    """hvp="auto": double backward without a model (or with parameters outside it, micro-batches,
    ranks, a GradScaler); otherwise both modes timed once at the first evaluation for this
    device, dtype and parameter layout, and the faster one kept (a mode that fails: not kept).
    The timing runs from the step's random state and leaves it as it was."""
    simple = ev.model is None or ev.accumulate > 1 or ev.world > 1 or ev.scaler is not None
    if not simple:
        try:
            param_names(_unwrap(ev.model), ev.params)
        except ValueError:
            simple = True
    if simple:
        return "double_backward"
    key = _auto_key(ev)
    if key not in _AUTO:
        with _replay_rng(_rng_state(ev.params)):
            _AUTO[key] = _time_hvp_modes(ev)
    return _AUTO[key]


def _time_hvp_modes(ev):
    """The faster HVP mode at the current point, each timed twice (a failing one: never)."""
    sync = (torch.cuda.synchronize if ev.params[0].device.type == "cuda" else lambda: None)
    times = {}
    _, g = ev.plain_grads()
    for mode in ("double_backward", "forward_over_reverse", "double_backward",
                 "forward_over_reverse"):
        sync()
        t0 = time.perf_counter()
        if mode == "double_backward":
            with torch.enable_grad():
                gs = ev._grads(ev._loss(0)[1], ev.params, create_graph=True)
                hvp_from_graph(ev, gs, g)
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
