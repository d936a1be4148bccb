"""Core speed: gamtoy.run against plain NumPy steps, every optimizer's throughput, the widget path.

    python -m benchmarks core        (or: python -m benchmarks.bench_core [--rounds N] [--quick])

(1) `gamtoy.run` (records, divergence checks, the loss at every point) against plain NumPy steps
    of the same algorithm (written here, independent of gamtoy.optim, on two contiguous arrays,
    nothing recorded) at 1k, 10k and 100k starts on `ridge`, for sgd, sam, gsam and gam: the ratio
    run throughput / plain throughput in interleaved rounds (target >= 0.8). The plain steps run
    on the whole batch (as one writes them) and in blocks of `gamtoy.run.BLOCK` starts (what
    keeps the temporaries in the CPU cache); the verdict is against the faster of the two, the
    NumPy limit. Then run's cost per point-step at 1k and at 100k / at 10k (flat: <= 1.25, the
    issue's goal "flat from 1k to 100k"), with the plain steps' own ratio beside it: at 1k both
    pay NumPy's per-call overhead, so 1k / 10k reads over target for run and plain alike. Last,
    what sgd's run does beyond its plain steps, timed apart (the loss in the gradient pass, the
    divergence checks; the rest is mostly the records).
(2) Every optimizer's throughput at 10,000 starts x 100 steps (target gam >= 2 M point-steps/s).
(3) One start, six optimizers x 300 steps on `ridge` (the live-widget path; target <= 150 ms).
(4) Gradient evaluations per step counted by a wrapping oracle, against `gamtoy.optim.COST`.
"""
import argparse
import statistics
import sys
import time

import numpy as np

import gamtoy as gt
from gamtoy import optim
from gamtoy.run import BLOCK

from ._harness import OVER, fmt, quantile, rounds, row, threads_line, verdict

RUN_TARGET = 0.8  # run throughput / plain NumPy steps' throughput, at least
FLAT_TARGET = 1.25  # run's cost per point-step at 1k or 100k / at 10k, at most
THROUGHPUT_TARGET = 2e6  # gam, point-steps/s
WIDGET_TARGET = 0.150  # s, six optimizers x 300 steps, one start
WIDGET_OPTIMIZERS = ("sgd", "sam", "gsam", "gnp", "gam", "gam_accel")
XI = 1e-12
HYPER = {"sgd": {}, "sam": {"rho": 0.05}, "gsam": {"rho": 0.05, "alpha": 0.3},
         "gam": {"rho": 0.1, "alpha": 0.3}}
LR = 0.02


def _starts(L, n, seed=0):
    (x0, x1), (y0, y1) = L.bounds
    rng = np.random.default_rng(seed)
    # the inner half of the plotting box: trajectories that mostly stay finite
    cx, cy, sx, sy = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 4, (y1 - y0) / 4
    return np.stack([rng.uniform(cx - sx, cx + sx, n), rng.uniform(cy - sy, cy + sy, n)], -1)


# ---- plain NumPy steps: the papers' updates on x, y arrays, the compiled derivatives only ------
def plain_steps(name, L, x, y, steps, lr=LR, rho=0.1, alpha=0.3):
    """`steps` steps of `name` from (x, y), nothing recorded or checked: the NumPy limit.

    SAM:  w_adv = w + rho g/(|g|+xi), w <- w - lr g(w_adv)              (Foret et al., Eq. 3)
    GSAM: d = g_p - alpha g_perp, g_perp = g - (g.e) e, e = g_p/(|g_p|+xi)  (Zhuang et al. Alg. 1)
    GAM:  f = H g/(|g|+xi), t = w + rho f/(|f|+xi), d = g + alpha rho H(t) g(t)/(|g(t)|+xi)
          (Zhang et al. Alg. 1, Eq. 7-8)
    """
    df, d12f = L.compiled().df, L.compiled().d12f
    for _ in range(steps):
        if name == "sgd":
            dx, dy = df(x, y)
        elif name in ("sam", "gsam"):
            gx, gy = df(x, y)
            u = rho / (np.sqrt(gx * gx + gy * gy) + XI)
            px, py = df(x + gx * u, y + gy * u)
            if name == "sam":
                dx, dy = px, py
            else:
                v = 1.0 / (np.sqrt(px * px + py * py) + XI)
                ex, ey = px * v, py * v
                c = gx * ex + gy * ey
                dx, dy = px - (gx - ex * c) * alpha, py - (gy - ey * c) * alpha
        elif name == "gam":
            gx, gy, hxx, hxy, hyy = d12f(x, y)
            s = 1.0 / (np.sqrt(gx * gx + gy * gy) + XI)
            fx, fy = (hxx * gx + hxy * gy) * s, (hxy * gx + hyy * gy) * s
            u = rho / (np.sqrt(fx * fx + fy * fy) + XI)
            ax, ay, hxx, hxy, hyy = d12f(x + fx * u, y + fy * u)
            s = alpha * rho / (np.sqrt(ax * ax + ay * ay) + XI)
            dx, dy = gx + (hxx * ax + hxy * ay) * s, gy + (hxy * ax + hyy * ay) * s
        else:
            raise ValueError(f"no plain reference for {name!r}")
        x, y = x - dx * lr, y - dy * lr
    return x, y


def plain_blocks(name, L, x, y, steps, block=BLOCK, **hyper):
    out = [plain_steps(name, L, x[i:i + block], y[i:i + block], steps, **hyper)
           for i in range(0, len(x), block)]
    return np.concatenate([o[0] for o in out]), np.concatenate([o[1] for o in out])


def check_plain_equals_run(L, n=64, steps=5):
    """The plain steps are the same algorithm: run's points to 1e-9 (not a speed claim)."""
    S = _starts(L, n, seed=3)
    for name, hp in HYPER.items():
        x, y = plain_steps(name, L, S[:, 0].copy(), S[:, 1].copy(), steps, **hp)
        tr = gt.run(name, L, S, steps, lr=LR, **hp)
        err = np.max(np.abs(tr.final - np.stack([x, y], -1)))
        assert err < 1e-9, (name, err)


def run_vs_plain(sizes=(1_000, 10_000, 100_000), n_rounds=7, point_steps=1_000_000,
                 names=("sgd", "sam", "gsam", "gam")):
    """{(name, n): {"run", "plain", "blocks": [seconds per round], "steps"}}: per optimizer, the
    three implementations at every size interleaved in the same rounds (so are the sizes)."""
    L = gt.landscapes.get("ridge")
    out = {}
    for name in names:
        hp = HYPER[name]
        opt = optim.get(name, lr=LR, **hp)
        c, steps_of = {}, {}
        for n in sizes:
            S = _starts(L, n)
            x, y = S[:, 0].copy(), S[:, 1].copy()
            steps = steps_of[n] = max(2, point_steps // n)
            c["run", n] = lambda S=S, steps=steps, opt=opt: gt.run(opt, L, S, steps)
            c["plain", n] = lambda x=x, y=y, steps=steps, name=name, hp=hp: plain_steps(
                name, L, x, y, steps, **hp)
            c["blocks", n] = lambda x=x, y=y, steps=steps, name=name, hp=hp: plain_blocks(
                name, L, x, y, steps, **hp)
        res = rounds(c, n_rounds)
        for n in sizes:
            out[name, n] = {k: res[k, n] for k in ("run", "plain", "blocks")}
            out[name, n]["steps"] = steps_of[n]
    return out


def throughput(n=10_000, steps=100, n_rounds=3):
    """{name: [point-steps/s per round]} for every optimizer, interleaved rounds."""
    L = gt.landscapes.get("ridge")
    starts = _starts(L, n)
    opts = {name: optim.get(name, lr=LR) for name in optim.names()}
    c = {name: (lambda o=o: gt.run(o, L, starts, steps)) for name, o in opts.items()}
    res = rounds(c, n_rounds)
    return {name: [n * steps / t for t in ts] for name, ts in res.items()}


def widgets(steps=300, repeats=15):
    """Seconds per repeat to recompute six single-start trajectories (the live-widget path)."""
    L = gt.landscapes.get("ridge")
    opts = [optim.get(name, lr=LR) for name in WIDGET_OPTIMIZERS]
    start = _starts(L, 1, seed=1)[0]
    for o in opts:
        gt.run(o, L, start, 5)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        for o in opts:
            gt.run(o, L, start, steps)
        times.append(time.perf_counter() - t)
    return times


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
        opt = optim.get(name, lr=LR)
        oracle = CountingOracle(L)
        theta, state = starts, opt.init(starts)
        for _ in range(steps):
            theta, state, _ = opt.update(theta, state, oracle)
        out[name] = (oracle.grads / (n * steps), oracle.hvps / (n * steps))
    return out


def _stats(xs):
    return {"median": statistics.median(xs), "lo": quantile(xs, 0.25), "hi": quantile(xs, 0.75),
            "n": len(xs)}


def _best_plain(r):
    """The faster plain implementation's times (whole batch or blocks)."""
    plain, blocks = r["plain"], r["blocks"]
    return plain if statistics.median(plain) <= statistics.median(blocks) else blocks


def _extras(L, n_rounds, n=10_000, steps=100):
    """What sgd's run does that its plain steps do not, in ns per point-step at n starts: the
    loss in the gradient pass (value-and-gradient minus gradient, on the same points) and the
    divergence checks, timed apart. The rest is mostly the records: writing them is cheap, but
    a new Trajectory's arrays are fresh pages, whose first touch costs 2-20 ns per point-step
    on these virtual machines depending on the allocator's state (measured apart)."""
    S = _starts(L, n)
    x, y = S[:, 0].copy(), S[:, 1].copy()
    df, vdf = L.compiled().df, L.compiled().value_df
    box = (-80.0, 80.0, -40.0, 40.0)
    opt = optim.get("sgd", lr=LR)

    def checks():
        for _ in range(steps):
            ok = box[0] <= x.min() and x.max() <= box[1] and box[2] <= y.min() and y.max() <= box[3]
            ok = ok and np.isfinite(x.sum())

    c = {"run": lambda: gt.run(opt, L, S, steps),
         "plain": lambda: plain_steps("sgd", L, x, y, steps),
         "df": lambda: [df(x, y) for _ in range(steps)],
         "vdf": lambda: [vdf(x, y) for _ in range(steps)], "checks": checks}
    t = {k: statistics.median(v) / (steps * n) * 1e9 for k, v in rounds(c, n_rounds).items()}
    return (f"run {t['run']:.1f}, plain {t['plain']:.1f}; the loss in the gradient pass "
            f"{t['vdf'] - t['df']:.1f}, checks {t['checks']:.1f}; the records, the rest")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks core",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds (7; --quick: 3)")
    ap.add_argument("--quick", action="store_true", help="1k and 10k starts only, 3 rounds")
    args = ap.parse_args([] if argv is None else argv)
    if args.rounds is not None and args.rounds < 1:
        ap.error(f"--rounds must be >= 1, got {args.rounds}")
    print(threads_line())
    over = False
    L = gt.landscapes.get("ridge")
    check_plain_equals_run(L)
    sizes = (1_000, 10_000) if args.quick else (1_000, 10_000, 100_000)
    n_rounds = args.rounds or (3 if args.quick else 7)
    print(f"(1) gamtoy.run vs plain NumPy steps on ridge, {n_rounds} interleaved rounds, "
          f"~1 M point-steps per timing; run / plain throughput, median [q25, q75]; plain = the "
          f"faster of whole batch and blocks of {BLOCK}")
    res = run_vs_plain(sizes, n_rounds)
    print(f"  {'optimizer, starts':<26} {'run / plain':>20} {'target':>8}  {'verdict':<13}"
          f"  run M/s   plain M/s (whole, blocks)")
    per_point = {}
    for (name, n), r in res.items():
        pts = n * r["steps"]
        # throughput ratio = time ratio inverted
        ratios = [b / a for a, b in zip(r["run"], _best_plain(r), strict=True)]
        rr = _stats(ratios)
        over |= verdict(rr, RUN_TARGET, True) == OVER

        def mps(ts, pts=pts):
            return pts / statistics.median(ts) / 1e6
        print(row(f"{name}, {n:,}", rr, RUN_TARGET, True,
                  extra=f"  {mps(r['run']):6.2f}   {mps(r['plain']):6.2f}, "
                        f"{mps(r['blocks']):6.2f}"))
        per_point[name, n] = [t / pts for t in r["run"]]
    if len(sizes) > 1:
        mid = 10_000 if 10_000 in sizes else sizes[-1]
        print(f"  cost per point-step at n starts / at {mid:,} (flat: <= {FLAT_TARGET}), run "
              f"beside plain (its best of whole and blocks): NumPy's per-call overhead is in "
              f"both; ns per point-step of run at {' / '.join(f'{n:,}' for n in sizes)}:")
        for name in HYPER:
            for n in sizes:
                if n == mid:
                    continue
                rr = _stats([x / y for x, y in zip(per_point[name, n], per_point[name, mid],
                                                   strict=True)])
                pl = statistics.median(_best_plain(res[name, n])) / res[name, n]["steps"] / n
                pm = statistics.median(_best_plain(res[name, mid])) / res[name, mid]["steps"] / mid
                over |= verdict(rr, FLAT_TARGET) == OVER
                ns = " / ".join(f"{statistics.median(per_point[name, k]) * 1e9:.0f}"
                                for k in sizes)
                print(row(f"{name}, {n:,} / {mid:,}", rr, FLAT_TARGET,
                          extra=f"  plain {pl / pm:4.2f}; {ns}"))
        print("  sgd's run beyond its plain steps, ns per point-step at 10,000 starts x 100 steps "
              f"(medians of {n_rounds} rounds): " + _extras(L, n_rounds))
    print("(2) throughput: 10,000 starts x 100 steps on ridge, M point-steps/s, median [q25, q75] "
          "over interleaved rounds")
    tp = throughput(n_rounds=2 if args.quick else 3)
    cost = measured_cost()
    print(f"  {'optimizer':<10} {'M/s':>20}  {'grads':>5} {'hvps':>5} {'units':>5} {'COST':>5}")
    for name, rates in tp.items():
        g, h = cost[name]
        flag = "" if g + h == optim.COST[name] else "  <- differs from COST"
        s = _stats([x / 1e6 for x in rates])
        print(f"  {name:<10} {fmt(s):>20}  {g:5.1f} {h:5.1f} {g + h:5.1f} "
              f"{optim.COST[name]:5d}{flag}")
    g = _stats(tp["gam"])
    v = verdict({k: x for k, x in g.items()}, THROUGHPUT_TARGET, True)
    over |= v == OVER
    print(f"  gam: {g['median'] / 1e6:.2f} M point-steps/s [{g['lo'] / 1e6:.2f}, "
          f"{g['hi'] / 1e6:.2f}], target >= {THROUGHPUT_TARGET / 1e6:g} M: {v}")
    print("(3) live widgets: one start, sgd/sam/gsam/gnp/gam/gam_accel x 300 steps on ridge")
    w = _stats(widgets(repeats=7 if args.quick else 15))
    v = verdict(w, WIDGET_TARGET)
    over |= v == OVER
    print(f"  {w['median'] * 1e3:.1f} ms [{w['lo'] * 1e3:.1f}, {w['hi'] * 1e3:.1f}], target <= "
          f"{WIDGET_TARGET * 1e3:.0f} ms: {v}")
    print("(4) per-step cost in gradient units: grads + HVPs counted by a wrapping oracle "
          "(an HVP = one gradient-sized pass); see the table in (2)")
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
