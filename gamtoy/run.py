"""Trajectories: run an optimizer from a batch of starts on a landscape, vectorised over starts.

A start whose next point is non-finite or leaves a generous box, or lands where the loss is NaN
or infinite, is frozen at its last good point and flagged in `diverged` (that step is refused):
never a NaN in `.points` or `.values`, never an exception. A start that is not finite, lies
outside the box, or where the loss is NaN is a `ValueError` before any step.

On a built-in (compiled) landscape the batch moves as two contiguous arrays (`gamtoy.vec.XY`)
in blocks of `BLOCK` starts (the temporaries stay in the CPU cache, so the cost per point is
flat from 1k to 100k starts), each point's loss comes from the pass that computes its gradient,
and the records are preallocated. Any other oracle (e.g. a `Landscape` subclass with noisy
gradients) runs on `(N, 2)` arrays, the whole batch at once.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from . import landscapes as _landscapes
from . import optim as _optim
from .landscapes import Landscape, check_points
from .vec import XY, Vec2

# the box is the landscape's bounds widened by this many spans on each side
BOX_SPANS = 10.0
# starts stepped together on the XY path: the compiled derivatives keep ~30 temporaries of BLOCK
# doubles alive (~4 MB at 16384: in the L3 cache; 100k starts at once are not), and each NumPy
# call is long enough that Python's per-call overhead stays small (benchmarks/bench_core.py
# compares blocks with the whole batch)
BLOCK = 16384


@dataclass
class Trajectory:
    """points (R, *batch, 2), values (R, *batch), diverged (*batch) bool, diverged_at (*batch)
    int (the step that failed, -1 if none), info {key: (R', *batch, ...)}.

    R = steps + 1 rows (the point after every step) unless `record_every` was given: then
    `recorded` holds the step number of each row (0, k, 2k, ..., and always the last step), and
    info rows are the steps taken from the recorded points before the last. `refused` (*batch)
    bool: the run stopped because its step `diverged_at` landed where the loss is NaN or
    infinite (False: it left the box or became non-finite).
    """

    points: np.ndarray
    values: np.ndarray
    diverged: np.ndarray
    diverged_at: np.ndarray
    info: dict = field(default_factory=dict)
    optimizer: str = ""
    landscape: str = ""
    recorded: np.ndarray = None
    refused: np.ndarray = None

    def __post_init__(self):
        if self.recorded is None:
            self.recorded = np.arange(len(self.points))
        if self.refused is None:
            self.refused = np.zeros(np.shape(self.diverged), bool)

    @property
    def final(self):
        """The last points, (*batch, 2)."""
        return self.points[-1]

    def __getitem__(self, key):
        return self.info[key]


def divergence_box(landscape):
    """(lo, hi): the landscape's bounds widened by BOX_SPANS spans on each side. A run's step
    that leaves this box is refused, and a start outside it is an error."""
    (x0, x1), (y0, y1) = landscape.bounds
    sx, sy = (x1 - x0) * BOX_SPANS, (y1 - y0) * BOX_SPANS
    return np.array([x0 - sx, y0 - sy]), np.array([x1 + sx, y1 + sy])




def _recorded_steps(steps, every):
    r = list(range(0, steps + 1, every))
    if r[-1] != steps:
        r.append(steps)
    return np.array(r)


def run(opt: str | _optim.Optimizer, landscape: str | Landscape, starts: ArrayLike, steps: int,
        diagnostics: bool = False, box: tuple | None = None, fast: bool | None = None,
        progress: bool = False, record_every: int = 1, **hyper) -> Trajectory:
    """Run `opt` (an Optimizer, or a name with `**hyper`) for `steps` steps from `starts` (..., 2).

    Returns a `Trajectory`. `diagnostics=True` records each step's info (g, g_p, w_adv,
    theta_adv, h, cos, ...). `box=(lo, hi)` overrides the divergence box. `fast` (default: when
    there is a single start) runs on Python floats, without NumPy's per-call overhead.
    `record_every=k` keeps every k-th point (and the last): memory for long runs of many starts.
    `progress=True`: a tqdm bar over point-steps on the batch path (one start on Python floats
    takes milliseconds and shows none).
    """
    if hyper and not isinstance(opt, str):
        raise ValueError("hyper-parameters go with an optimizer name, not an Optimizer")
    opt = _optim.get(opt, **hyper)
    landscape = _landscapes.get(landscape)
    starts = check_points(starts, "starts")
    with np.errstate(over="ignore"):  # a sum of finite values may overflow: then the mask says
        bad = None if np.isfinite(starts.sum()) else ~np.isfinite(starts).all(-1)
    if bad is not None and bad.any():
        i = _index(bad)
        raise ValueError(f"starts contain NaN or inf: {_named(i)} = {starts[i].tolist()}")
    steps = _count("steps", steps, 0, "a non-negative integer")
    record_every = _count("record_every", record_every, 1, "a positive integer")
    opt.check_schedules(steps)  # a schedule out of range at any step: an error before the run
    lo, hi = divergence_box(landscape) if box is None else _check_box(box)
    fast = starts.size == 2 if fast is None else fast
    one = fast and starts.size == 2
    # the loss at the starts: checked here for one start; the batch path checks it at t = 0 from
    # the pass that computes the first gradient (one pass over the starts, not two)
    _check_starts(landscape, starts, lo, hi, box is None, loss=one)
    batch = starts.shape[:-1]
    _check_memory(steps, record_every, int(np.prod(batch)), one, diagnostics)
    rec = _recorded_steps(steps, record_every)
    with np.errstate(all="ignore"):
        if one:
            pts, vals, div_at, refused, info = _run_one(opt, landscape, starts.reshape(2), steps,
                                                        diagnostics, lo, hi)
            pts, vals = pts[rec], vals[rec]
            info = {k: v[rec[:-1]] for k, v in info.items()}
        else:
            soa = landscape.compiled() is not None
            pts, vals, div_at, refused, info = _run_batch(
                opt, _XYOracle(landscape) if soa else landscape,
                starts.reshape(-1, 2), steps, diagnostics, lo, hi, progress, rec, soa, batch)
    points = pts.reshape((len(rec),) + batch + (2,))
    values = vals.reshape((len(rec),) + batch)
    div_at = div_at.reshape(batch)
    info = {k: v.reshape((v.shape[0],) + batch + v.shape[2:]) for k, v in info.items()}
    return Trajectory(points, values, div_at >= 0, div_at, info, opt.name, landscape.name,
                      rec, refused.reshape(batch))


def _check_box(box):
    """box=(lo, hi) as two (2,) arrays with lo < hi (infinite ends allowed: no box), or a clear
    error."""
    try:
        lo, hi = (np.asarray(b, dtype=float) for b in box)
        ok = lo.shape == hi.shape == (2,)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"box must be (lo, hi), two points (x, y), e.g. ((-5, -5), (5, 5)); "
                         f"got {box!r:.80}")
    if not np.all(lo < hi):  # NaN fails too
        raise ValueError(f"box must have lo < hi in x and y (no NaN), got lo={lo.tolist()}, "
                         f"hi={hi.tolist()}")
    return lo, hi


# float64 numbers kept per start and recorded row: the point (2) and its loss (1); diagnostics
# add about ten more (g, g_p, w_adv, theta_adv: 2 each; h, cos, ...)
_PER_ROW, _PER_ROW_DIAG = 3, 13


def _memory_limit():
    """The machine's physical memory in bytes (None where the OS does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _check_memory(steps, every, n, one, diag):
    """A run whose records cannot fit in this machine's memory: a ValueError now, naming the
    memory it would need and the `record_every` that fits, instead of a bare MemoryError."""
    limit = _memory_limit()
    if limit is None:
        return
    # one start on Python floats records every step before keeping every k-th
    rows = steps + 1 if one else steps // every + 1 + (steps % every != 0)
    per = (_PER_ROW_DIAG if diag else _PER_ROW) * 8 * max(n, 1)
    need = rows * per
    if need <= limit // 2:
        return
    k = f"record_every >= {math.ceil(2 * steps * per / limit):,}"
    hint = f"fast=False and {k} (one start on the fast path records every step)" if one else k
    raise ValueError(f"steps={steps:,} from {n:,} start(s) would record {rows:,} rows: "
                     f"{need / 2**30:,.1f} GiB of memory, more than half of this machine's "
                     f"{limit / 2**30:,.1f} GiB; pass {hint}")


def _count(name, v, low, what):
    try:
        ok = not isinstance(v, (bool, np.bool_)) and int(v) == v and v >= low
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise ValueError(f"{name} must be {what}, got {v!r}")
    return int(v)


def _index(mask):
    """The index of the first True in `mask` (a tuple, () for a 0-d mask)."""
    return tuple(int(i[0]) for i in np.nonzero(mask)) if np.ndim(mask) else ()


def _named(i):
    return f"starts[{', '.join(map(str, i))}]" if i else "starts"


def _check_starts(landscape, starts, lo, hi, default_box, loss=True):
    x, y = starts[..., 0], starts[..., 1]
    if not (lo[0] <= x.min(initial=lo[0]) and x.max(initial=hi[0]) <= hi[0]
            and lo[1] <= y.min(initial=lo[1]) and y.max(initial=hi[1]) <= hi[1]):
        i = _index(~np.all((starts >= lo) & (starts <= hi), axis=-1))
        how = ("the landscape's bounds widened by BOX_SPANS = "
               f"{BOX_SPANS:g} spans; pass box=(lo, hi) to change it") if default_box else "box="
        raise ValueError(f"{_named(i)} = {starts[i].tolist()} is outside the run's box "
                         f"x in [{lo[0]:g}, {hi[0]:g}], y in [{lo[1]:g}, {hi[1]:g}] ({how})")
    if not loss:
        return
    with np.errstate(all="ignore"):
        f = np.asarray(landscape.value(starts), float)
        nan = None if not np.isnan(f.sum()) else np.broadcast_to(np.isnan(f), starts.shape[:-1])
    if nan is not None and nan.any():
        _nan_start(landscape.name, starts, _index(nan))


def _nan_start(name, starts, i):
    raise ValueError(f"the loss of {name!r} is NaN at {_named(i)} = {starts[i].tolist()}: start "
                     "where the landscape is defined")


def _check_first_step(oracle, starts, batch, c0, new, f):
    """A first step that is not finite from a start where the loss is finite: a ValueError when
    the gradient there is not finite (no derivative at that point, e.g. a cone's tip), which is
    not a divergence. A finite gradient with a non-finite step (overflow) stays a divergence."""
    s = new.x + new.y if type(new) is XY else np.sum(new, -1)
    if _isfinite(_sum(s)):
        return
    landscape = getattr(oracle, "L", oracle)
    for j in np.flatnonzero(~np.isfinite(s) & np.isfinite(f)):
        i = np.unravel_index(c0 + int(j), batch)
        _undefined_gradient(landscape, starts.reshape(batch + (2,)), i, f[j])


def _undefined_gradient(landscape, starts, i, f):
    g = np.asarray(landscape.grad(np.asarray(starts[i], float)), float)
    if not np.all(np.isfinite(g)):
        raise ValueError(f"the gradient of {landscape.name!r} is {g.tolist()} at {_named(i)} = "
                         f"{starts[i].tolist()}, where the loss is {float(f):g}: the landscape "
                         "has no derivative there (a kink, or a cone's tip); start elsewhere or "
                         "smooth the function")


def _full(v, like):
    """A compiled component (an array, or a number where it is constant) as an array like `like`."""
    if type(v) is np.ndarray and v.shape == like.shape:
        return v
    return np.broadcast_to(np.asarray(v, float), like.shape)


class _XYOracle:
    """A compiled landscape's oracle (`Landscape.compiled()`) on `XY` vectors. The first
    gradient pass at `current` (the point a step starts from) also returns the loss there
    (`current_value`)."""

    def __init__(self, L):
        self.L, self.name = L, L.name
        self._f, self._df, self._d2f, self._d12f, self._vdf, self._vd12f = L.compiled()
        self.current, self.f = None, None

    def value(self, W):
        if type(W) is not XY:
            return self.L.value(W)
        if W is self.current and self.f is not None:
            return self.f
        return _full(self._f(W.x, W.y), W.x)

    def current_value(self):
        if self.f is None:
            self.f = self.value(XY(self.current.x, self.current.y))
        return self.f

    def grad(self, W):
        if W is self.current and self.f is None and self._vdf is not None:
            f, gx, gy = self._vdf(W.x, W.y)
            self.f = _full(f, W.x)
        else:
            gx, gy = self._df(W.x, W.y)
        return XY(_full(gx, W.x), _full(gy, W.x))

    def normgrad(self, W, xi=1e-12):
        if W is self.current and self.f is None and self._vd12f is not None:
            f, gx, gy, hxx, hxy, hyy = self._vd12f(W.x, W.y)
            self.f = _full(f, W.x)
        else:
            gx, gy, hxx, hxy, hyy = self._d12f(W.x, W.y)
        gx, gy = _full(gx, W.x), _full(gy, W.x)
        s = 1.0 / (np.sqrt(gx * gx + gy * gy) + xi)
        # gx, gy have the batch shape: so have these, even where the Hessian is constant
        return XY(gx, gy), XY((hxx * gx + hxy * gy) * s, (hxy * gx + hyy * gy) * s)

    def hvp(self, W, V):
        hxx, hxy, hyy = self._d2f(W.x, W.y)
        return XY(_full(hxx * V.x + hxy * V.y, W.x), _full(hxy * V.x + hyy * V.y, W.x))


class _ArrayOracle:
    """Any oracle on (N, 2) arrays; the loss at a step's start point is one more `value` call."""

    def __init__(self, oracle):
        self.oracle, self.current, self.f = oracle, None, None

    def current_value(self):
        if self.f is None:
            self.f = np.broadcast_to(np.asarray(self.oracle.value(self.current), float),
                                     self.current.shape[:-1])
        return self.f


def _first_steps(opt, oracle, starts, steps, diag, soa, batch):
    """t = 0 of every block, before any block moves: its gradient pass gives the loss at the
    starts, so a start where it is NaN (or whose gradient is undefined) is an error before any
    step is taken, and the starts are evaluated once. Per block: (slice, theta, ops, the oracle
    that knows the current point, the first step, the loss at the starts)."""
    n = starts.shape[0]
    block = BLOCK if soa else max(n, 1)
    first = []
    for c0 in range(0, n, block):
        sl = slice(c0, min(c0 + block, n))
        if soa:
            theta, ops, current = XY.of(starts[sl]), _XY_OPS, oracle
        else:
            theta, ops, current = starts[sl].copy(), _ARRAY_OPS, _ArrayOracle(oracle)
        current.current, current.f = theta, None
        step = opt.update(theta, opt.init(theta), oracle, diag) if steps else None
        f = current.current_value()
        if np.isnan(f.sum()):
            nan = np.isnan(f)
            if nan.any():
                _nan_start(oracle.name, starts.reshape(batch + (2,)),
                           np.unravel_index(c0 + int(np.argmax(nan)), batch))
        if steps:
            _check_first_step(oracle, starts, batch, c0, step[0], f)
        first.append((sl, theta, ops, current, step, f))
    return first


def _progress_bar(progress, total, desc):
    """A tqdm bar over point-steps, or None (progress=False)."""
    if not progress:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=desc, unit="pt")


def _run_batch(opt, oracle, starts, steps, diag, lo, hi, progress, rec, soa, batch):
    n = starts.shape[0]
    R = len(rec)
    points = np.empty((R, n, 2))
    values = np.empty((R, n))
    div_at = np.full(n, -1)
    refused = np.zeros(n, bool)
    info = {}
    row_of = [-1] * (steps + 1)
    for r, t in enumerate(rec):
        row_of[t] = r
    box = (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))
    need_finite = not all(np.isfinite(box))
    bar = _progress_bar(progress, steps * n, f"{opt.name} on {oracle.name}")
    first = _first_steps(opt, oracle, starts, steps, diag, soa, batch)
    for sl, theta, ops, current, step, f in first:
        active = None  # None: every start of the block still moves
        state = None  # each step's new state (step 1 was taken in _first_steps)
        prev = prev_f = None
        for t in range(steps + 1):
            if t > 0:
                current.current, current.f = theta, None
                if t < steps:
                    step = opt.update(theta, state, oracle, diag)
                f = current.current_value()
            if t < steps:
                new, state, step_info = step
            # the step that led here is refused if it left the box, is not finite or the loss
            # is NaN / infinite here: the start stays at its last good point (t = 0: the start,
            # checked above); one reduction per coordinate while nothing fails
            if t > 0 and not (ops.fine(theta, box, need_finite) and _isfinite(_sum(f))):
                inside = ops.inside(theta, box, need_finite)
                bad = ~(inside & np.isfinite(f))
                if active is not None:
                    bad &= active
                if bad.any():
                    div_at[sl][bad] = t
                    refused[sl][bad & inside] = True
                    active = ~bad if active is None else active & ~bad
                    theta = ops.where(active, theta, prev)
                    f = np.where(active, f, prev_f)
                    if diag and row_of[t - 1] >= 0:  # the refused step's info: NaN, as one start's
                        _nan_info(info, row_of[t - 1], sl, bad)
            r = row_of[t]
            if r >= 0:
                ops.record(points[r, sl], theta)
                values[r, sl] = f
                if diag and t < steps:
                    _record_info(info, step_info, r, R - 1, n, sl)
                    if active is not None:  # a frozen start takes no more steps: NaN info
                        _nan_info(info, r, sl, ~active)
            if t == steps:
                break
            prev, prev_f = theta, f
            theta = new if active is None else ops.where(active, new, theta)
            if bar is not None:
                bar.update(sl.stop - sl.start)
    if bar is not None:
        bar.close()
    return points, values, div_at, refused, info


_min, _max, _sum, _isfinite = np.minimum.reduce, np.maximum.reduce, np.add.reduce, math.isfinite


class _XY_OPS:
    @staticmethod
    def where(mask, a, b):
        return XY(np.where(mask, a.x, b.x), np.where(mask, a.y, b.y))

    @staticmethod
    def record(row, v):
        row[:, 0] = v.x
        row[:, 1] = v.y

    @staticmethod
    def fine(v, box, need_finite):
        """Every point inside the box (min / max are NaN if any coordinate is NaN: not fine).
        The ufuncs' reduce directly: at 1k starts a step is short enough for the wrappers of
        ndarray.min / .sum to show."""
        x0, x1, y0, y1 = box
        x, y = v.x, v.y
        ok = x0 <= _min(x) and _max(x) <= x1 and y0 <= _min(y) and _max(y) <= y1
        return ok and (not need_finite or _isfinite(_sum(x) + _sum(y)))

    @staticmethod
    def inside(v, box, need_finite):
        # comparisons with NaN are False: a NaN point is outside
        x0, x1, y0, y1 = box
        ok = (v.x >= x0) & (v.x <= x1) & (v.y >= y0) & (v.y <= y1)
        if need_finite:
            ok &= np.isfinite(v.x) & np.isfinite(v.y)
        return ok


class _ARRAY_OPS:
    @staticmethod
    def where(mask, a, b):
        return np.where(mask[:, None], a, b)

    @staticmethod
    def record(row, v):
        row[...] = v

    @staticmethod
    def fine(v, box, need_finite):
        return bool(np.all(_ARRAY_OPS.inside(v, box, need_finite)))

    @staticmethod
    def inside(v, box, need_finite):
        x0, x1, y0, y1 = box
        ok = (v[:, 0] >= x0) & (v[:, 0] <= x1) & (v[:, 1] >= y0) & (v[:, 1] <= y1)
        if need_finite:
            ok &= np.all(np.isfinite(v), axis=-1)
        return ok


def _record_info(info, step_info, r, rows, n, sl):
    """Store one step's diagnostics of the block `sl` in preallocated (rows, n, ...) arrays."""
    m = sl.stop - sl.start
    for k, v in step_info.items():
        if type(v) is XY:
            if k not in info:
                info[k] = np.full((rows, n, 2), np.nan)
            info[k][r, sl, 0] = v.x
            info[k][r, sl, 1] = v.y
            continue
        v = np.asarray(v, float)
        if v.ndim == 2 and v.shape[-1] == 1:
            v = v[:, 0]
        if v.ndim == 0 or v.shape[0] != m:
            continue  # not per point (e.g. a constant): as before, left out
        if k not in info:
            info[k] = np.full((rows, n) + v.shape[1:], np.nan)
        info[k][r, sl] = v


def _nan_info(info, r, sl, mask):
    """Row r of the block `sl`'s diagnostics: NaN where `mask` (steps not taken)."""
    for v in info.values():
        v[r, sl][mask] = np.nan


def _run_one(opt, landscape, start, steps, diag, lo, hi):
    """One start on Python floats (`Vec2`); the same math as the batch path."""
    theta = Vec2(float(start[0]), float(start[1]))
    points = np.empty((steps + 1, 2))
    values = np.empty(steps + 1)
    points[0] = start
    values[0] = _value_one(landscape, theta)
    state = opt.init(theta)
    div_at, refused, infos, shape_of = -1, False, [], None
    for t in range(steps):
        fnew, info = None, None
        try:
            new, state, info = opt.update(theta, state, landscape, diag)
            ok = (lo[0] <= new.x <= hi[0]) and (lo[1] <= new.y <= hi[1])  # False for NaN
        except (OverflowError, ValueError, ZeroDivisionError):
            ok = False
        if ok:
            fnew = _value_one(landscape, new)
            if not np.isfinite(fnew):
                ok, refused = False, True
        if not ok:
            if t == 0 and np.isfinite(values[0]):
                _undefined_gradient(landscape, start, (), values[0])
            div_at = t + 1
            points[t + 1:] = (theta.x, theta.y)
            values[t + 1:] = values[t]
            if diag and info is not None:  # the refused step's keys: NaN rows, as in a batch
                shape_of = {k: np.shape(_as_np(v)) for k, v in info.items()}
            break
        if diag:
            infos.append({k: _as_np(v) for k, v in info.items()})
        theta = new
        points[t + 1] = (theta.x, theta.y)
        values[t + 1] = fnew
    info = _stack_one(infos, steps, shape_of)
    return points, values, np.array([div_at]), np.array([refused]), info


def _value_one(landscape, theta):
    try:
        return float(landscape.value(theta))
    except (OverflowError, ValueError, ZeroDivisionError):
        # math raises where NumPy gives inf / NaN: ask NumPy which
        return float(np.asarray(landscape.value(np.array([theta.x, theta.y])), float))


def _as_np(v):
    return v.array() if type(v) is Vec2 else float(v)


def _stack_one(infos, steps, shape_of=None):
    """Per-step info of one start as arrays (steps, 1, ...); steps after a failure are NaN
    (`shape_of`: the keys and shapes of a refused first step, when no step was taken)."""
    if not infos and not shape_of:
        return {}
    out = {}
    shapes = {k: np.shape(v) for k, v in infos[0].items()} if infos else shape_of
    for k, shape in shapes.items():
        arr = np.full((steps,) + shape, np.nan)
        if infos:
            arr[: len(infos)] = [i[k] for i in infos]
        out[k] = arr[:, None]
    return out
