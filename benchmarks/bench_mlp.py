"""MLP lab: per-step time of each optimizer / SGD on a 2-64-64-2 MLP, 512 points, full batch.

    python -m benchmarks mlp        (or: python -m benchmarks.bench_mlp [--rounds N] [--steps N])

Targets (issue 4): SAM, GSAM, GNP <= 2.2x; gam_accel <= 4.2x; gam (exact HVPs) <= 5.0x. The
optimizers are timed in interleaved rounds (rotated order; each a block of `steps` steps); each
ratio is the median over rounds of (optimizer time / SGD time in the same round), with its
spread [q25, q75] and the verdict. One BLAS thread: `python -m benchmarks` sets it before numpy
loads; run directly, threadpoolctl limits the pools already loaded.
"""
import argparse
import statistics
import sys
import time

import numpy as np

from gamtoy import optim
from gamtoy.mlp import Model, make_data, make_oracle

from ._harness import OVER, ratio, rounds, row, threads_line, verdict

TARGETS = {"sam": 2.2, "gsam": 2.2, "gnp": 2.2, "gam_accel": 4.2, "gam": 5.0}
NAMES = ("sgd", "sam", "gsam", "gnp", "gam_accel", "gam")


def time_steps(opt, oracle, theta, steps):
    state = opt.init(theta)
    t0 = time.perf_counter()
    for _ in range(steps):
        oracle.advance()
        theta, state, _ = opt.update(theta, state, oracle)
    return (time.perf_counter() - t0) / steps


def measure(names=NAMES, n_rounds=15, steps=40, sizes=(2, 64, 64, 2), n=512, seed=0):
    """{name: [seconds per step of each round]} in interleaved rounds."""
    data = make_data("moons", n_train=n, n_test=1, seed=seed)
    model = Model(sizes, "tanh")
    oracle = make_oracle(model, data.X_train, data.y_train)
    theta = model.init(seed)
    opts = {k: optim.get(k, lr=0.05) for k in names}
    c = {k: (lambda o=opts[k]: time_steps(o, oracle, theta, steps)) for k in names}
    for k in names:  # warm-up
        time_steps(opts[k], oracle, theta, 5)
    t = rounds(c, n_rounds, warmup=0)
    return {k: [x / steps for x in v] for k, v in t.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks mlp",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=15, help="interleaved rounds (15)")
    ap.add_argument("--steps", type=int, default=40, help="steps per optimizer and round (40)")
    args = ap.parse_args([] if argv is None else argv)
    try:
        from threadpoolctl import threadpool_limits
        limits = threadpool_limits(limits=1)
    except ImportError:
        limits = None
    print(threads_line())
    per = measure(n_rounds=args.rounds, steps=args.steps)
    sgd = per["sgd"]
    print(f"per-step time on a 2-64-64-2 tanh MLP, 512 points (full batch): SGD "
          f"{statistics.median(sgd) * 1e6:.0f} us; {args.rounds} interleaved rounds x "
          f"{args.steps} steps; time / SGD, median [q25, q75]")
    print(f"  {'optimizer':<26} {'time / SGD':>20} {'target':>8}  {'verdict':<13}  us/step")
    over = False
    for k in NAMES[1:]:
        r = ratio(per[k], sgd)
        over |= verdict(r, TARGETS.get(k)) == OVER
        print(row(k, r, TARGETS.get(k), extra=f"  {np.median(per[k]) * 1e6:7.0f}"))
    if limits is not None:
        limits.restore_original_limits()
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
