"""Per-step time of each optimizer relative to SGD on a 2-64-64-2 MLP, 512 points, full batch.

    python -m benchmarks.bench_mlp

Targets (issue 4): SAM, GSAM, GNP <= 2.2x; gam_accel <= 4.2x; gam (exact HVPs) <= 5.0x. All
ratios come from one run: the optimizers are timed in interleaved rounds and each ratio is the
median over rounds of (optimizer time / SGD time in the same round), so machine load cancels.
"""
import os
import time

# one BLAS thread: on a shared 2-core machine, threaded BLAS on 64x64 products measures the
# other processes more than the optimizers (set before numpy loads; ignored if it already has)
for _k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_k, "1")

import numpy as np  # noqa: E402

from gamtoy import optim  # noqa: E402
from gamtoy.mlp import Model, make_data, make_oracle  # noqa: E402

TARGETS = {"sam": 2.2, "gsam": 2.2, "gnp": 2.2, "gam_accel": 4.2, "gam": 5.0}


def time_steps(opt, oracle, theta, steps):
    state = opt.init(theta)
    t0 = time.perf_counter()
    for _ in range(steps):
        oracle.advance()
        theta, state, _ = opt.update(theta, state, oracle)
    return (time.perf_counter() - t0) / steps


def measure(names=("sgd", "sam", "gsam", "gnp", "gam_accel", "gam"), rounds=15, steps=40,
            sizes=(2, 64, 64, 2), n=512, seed=0):
    """{name: (median ratio to SGD, median seconds per step)}."""
    data = make_data("moons", n_train=n, n_test=1, seed=seed)
    model = Model(sizes, "tanh")
    oracle = make_oracle(model, data.X_train, data.y_train)
    theta = model.init(seed)
    opts = {k: optim.get(k, lr=0.05) for k in names}
    for k in names:  # warm-up
        time_steps(opts[k], oracle, theta, 5)
    per = {k: [] for k in names}
    for _ in range(rounds):
        for k in names:
            per[k].append(time_steps(opts[k], oracle, theta, steps))
    sgd = np.array(per["sgd"])
    return {k: (float(np.median(np.array(v) / sgd)), float(np.median(v))) for k, v in per.items()}


def main():
    res = measure()
    print("per-step time on a 2-64-64-2 tanh MLP, 512 points (full batch), ratio to SGD")
    print(f"{'optimizer':<10} {'ratio':>6} {'target':>7} {'us/step':>8}")
    ok = True
    for k, (r, s) in res.items():
        tgt = TARGETS.get(k)
        flag = "" if tgt is None else ("ok" if r <= tgt else "SLOW")
        ok &= tgt is None or r <= tgt
        print(f"{k:<10} {r:6.2f} {'' if tgt is None else f'<={tgt}':>7} {s * 1e6:8.0f} {flag}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
