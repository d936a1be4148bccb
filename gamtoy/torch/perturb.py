"""The perturbation: move the parameters from theta0 to a perturbed point theta0 + s v and back.

Vectors are lists of tensors, one per parameter that requires grad (a "parameter list"). A move
costs one pass and no copy of theta0: the perturbed point is written into work buffers the
optimizer keeps across steps (`Point(params, work=...)`, returned as `point.work_cache`), or into
v's own storage (`move_into`, when v is not needed after), and swapped in as the parameters'
data; going back swaps the original tensors in again, so theta0 is restored bit for bit, in its
own storage.
"""
import torch

from . import kernels as K


def no_grad(fn):
    """torch.no_grad for a method, entered only when grad mode is on (steps already run without)."""
    def wrapper(*args, **kwargs):
        if not torch.is_grad_enabled():
            return fn(*args, **kwargs)
        with torch.no_grad():
            return fn(*args, **kwargs)
    wrapper.__name__, wrapper.__doc__, wrapper.__wrapped__ = fn.__name__, fn.__doc__, fn
    return wrapper


def work_buffers(cache, params):
    """(cache, buffers): one parameter-sized buffer per parameter for the perturbed points.

    `cache` is what the previous step returned (or None): reused while the parameter list is
    unchanged (no allocation, no fresh pages per step). Working memory, not optimizer state.
    """
    key = [(id(p), p.shape, p.dtype, p.device) for p in params]
    if cache is None or cache[0] != key:
        cache = (key, [torch.empty_like(p.detach(), memory_format=torch.preserve_format)
                       for p in params])
    return cache, cache[1]


class Point:
    """Where the parameters are: theta0 or a perturbed point theta0 + e (GAM Alg. 1 line 6,
    SAM Eq. 3's w + e)."""

    def __init__(self, params, work_cache=None):
        self.params = params
        self.shapes = [p.shape for p in params]
        self.sizes = [p.numel() for p in params]
        self.theta0 = [p.data for p in params]  # the parameters' own tensors (no copy)
        self.moved = False  # True while the parameters hold a perturbed point (self.point)
        self.point = self.theta0
        self.work_cache = work_cache  # the optimizer's buffers: handed back after the step
        self._bufs = None

    def split(self, v):
        """A flat vector as a parameter list (views)."""
        return [x.view(s) for x, s in zip(torch.split(v, self.sizes), self.shapes, strict=True)]

    def _as_list(self, v):
        if v is None or isinstance(v, (list, tuple)):
            return v
        return self.split(v)

    def _set(self, values):
        for p, v in zip(self.params, values, strict=True):
            p.data = v
        self.moved = values is not self.theta0
        self.point = values

    @property
    def work(self):
        """The buffers that hold a perturbed point (kept by the optimizer across steps)."""
        if self._bufs is None:  # checked against the parameters once per step
            self.work_cache, self._bufs = work_buffers(self.work_cache, self.params)
        return self._bufs

    @no_grad
    def move(self, e, scale=1.0, relative=False):
        """Set the parameters to theta0 + scale e (relative: to the current point + scale e).

        e: a parameter list or a flat vector; e = None: back to theta0, exactly. The perturbed
        point is written in one pass into the work buffers, which become the parameters' data
        until `move(None)` swaps theta0 back in.
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

    @no_grad
    def move_into(self, v, scale):
        """Set the parameters to theta0 + scale v, built in v's own storage (v is overwritten and
        becomes the parameters' data until `move(None)`): a perturbed point with no extra memory."""
        K.point_(v, self.theta0, v, scale)
        self._set(v)

    def scratch(self):
        """The work buffers, to build a direction e in (then `move(scratch(), s)` is one pass,
        with no allocation). Their content is the current point only while nothing was written."""
        return self.work

    def theta(self):
        """The current point theta0 + e as a flat vector."""
        return K.lflat([p.detach() for p in self.params])
