"""Core speed: throughput of every optimizer, the live-widget budget, and measured per-step cost.

    python -m benchmarks core

(1) 10,000 starts x 100 steps on `ridge` in point-steps/s (target: gam >= 2 M/s);
(2) one start, six optimizers x 300 steps on `ridge`, median over repeats (target <= 150 ms);
(3) gradient evaluations per step counted by a wrapping oracle, against `gamtoy.optim.COST`.
"""
import statistics
import time

import numpy as np

import gamtoy as gt
from gamtoy import optim

THROUGHPUT_TARGET = 2e6  # gam, point-steps/s
WIDGET_TARGET = 0.150  # s, six optimizers x 300 steps, one start
WIDGET_OPTIMIZERS = ("sgd", "sam", "gsam", "gnp", "gam", "gam_accel")


def _starts(L, n, seed=0):
    (x0, x1), (y0, y1) = L.bounds
    rng = np.random.default_rng(seed)
    # the inner half of the plotting box: trajectories that mostly stay finite
    cx, cy, sx, sy = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 4, (y1 - y0) / 4
    return np.stack([rng.uniform(cx - sx, cx + sx, n), rng.uniform(cy - sy, cy + sy, n)], -1)


def throughput(n=10_000, steps=100, repeats=3, lr=0.02):
    """{name: point-steps per second} for every optimizer (best of `repeats`)."""
    L = gt.landscapes.get("ridge")
    starts = _starts(L, n)
    out = {}
    for name in optim.names():
        opt = optim.get(name, lr=lr)
        gt.run(opt, L, starts[:16], 3)  # warm up
        best = float("inf")
        for _ in range(repeats):
            t = time.perf_counter()
            gt.run(opt, L, starts, steps)
            best = min(best, time.perf_counter() - t)
        out[name] = n * steps / best
    return out


def widgets(steps=300, repeats=15, lr=0.02):
    """Median seconds to recompute six single-start trajectories (the live-widget path)."""
    L = gt.landscapes.get("ridge")
    opts = [optim.get(name, lr=lr) for name in WIDGET_OPTIMIZERS]
    start = _starts(L, 1, seed=1)[0]
    for o in opts:
        gt.run(o, L, start, 5)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        for o in opts:
            gt.run(o, L, start, steps)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


class CountingOracle:
    """Wraps a landscape and counts gradient-sized passes: grad, hvp, normgrad (grad + HVP)."""

    def __init__(self, landscape):
        self.L = landscape
        self.grads = self.hvps = self.values = 0

    def _points(self, W):
        return 1 if not hasattr(W, "shape") else int(np.prod(W.shape[:-1]))

    def value(self, W):
        self.values += self._points(W)
        return self.L.value(W)

    def grad(self, W):
        self.grads += self._points(W)
        return self.L.grad(W)

    def hvp(self, W, V):
        self.hvps += self._points(W)
        return self.L.hvp(W, V)

    def normgrad(self, W, xi=1e-12):
        n = self._points(W)
        self.grads += n
        self.hvps += n
        return self.L.normgrad(W, xi)


def measured_cost(n=64, steps=5):
    """{name: (gradients, HVPs) per point-step} counted on `ridge`, diagnostics off."""
    L = gt.landscapes.get("ridge")
    starts = _starts(L, n)
    out = {}
    for name in optim.names():
        opt = optim.get(name, lr=0.02)
        oracle = CountingOracle(L)
        theta, state = starts, opt.init(starts)
        for _ in range(steps):
            theta, state, _ = opt.update(theta, state, oracle)
        out[name] = (oracle.grads / (n * steps), oracle.hvps / (n * steps))
    return out


def main():
    print("(1) throughput: 10,000 starts x 100 steps on ridge (point-steps/s)")
    tp = throughput()
    cost = measured_cost()
    print(f"  {'optimizer':<10} {'M/s':>7} {'vs 2M':>6} {'grads':>6} {'hvps':>5} "
          f"{'units':>6} {'COST':>5}")
    for name, rate in tp.items():
        g, h = cost[name]
        units = g + h
        flag = "" if units == optim.COST[name] else "  <- differs from COST"
        print(f"  {name:<10} {rate / 1e6:7.2f} {rate / THROUGHPUT_TARGET:6.2f} {g:6.1f} {h:5.1f} "
              f"{units:6.1f} {optim.COST[name]:5d}{flag}")
    print(f"  gam: {tp['gam'] / 1e6:.2f} M point-steps/s = {tp['gam'] / THROUGHPUT_TARGET:.2f} x "
          f"target ({'ok' if tp['gam'] >= THROUGHPUT_TARGET else 'BELOW TARGET'})")
    print("(2) live widgets: one start, sgd/sam/gsam/gnp/gam/gam_accel x 300 steps on ridge")
    w = widgets()
    print(f"  median {w * 1e3:.1f} ms = {w / WIDGET_TARGET:.2f} x the 150 ms budget "
          f"({'ok' if w <= WIDGET_TARGET else 'OVER BUDGET'})")
    print("(3) per-step cost in gradient units: grads + HVPs counted by a wrapping oracle "
          "(an HVP = one gradient-sized pass); see the table above")


if __name__ == "__main__":
    main()
