"""Step time and peak memory of the gamtoy.torch optimizers relative to torch.optim.SGD.

    python -m benchmarks.bench_torch [--steps 40] [--threads N]

CPU, float32, a 784-256-256-10 ReLU MLP, batch 128, all ratios from one run. Time: median of
per-step wall times after warm-up; memory: peak resident-memory growth over 5 steps, each
optimizer in a fresh process (Linux ru_maxrss; coarse, includes allocator slack). Targets (issue 5): SAM, GNP, GSAM <= 2.2x,
GAMAccel <= 4.3x, GAM (exact HVPs) <= 5.0x.
"""
import argparse
import subprocess
import sys
import statistics
import time

import torch
import torch.nn.functional as F

import gamtoy.torch as gtt

TARGETS = {"sam": 2.2, "gnp": 2.2, "gsam": 2.2, "gam_accel": 4.3, "gam": 5.0}


def _problem(seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256),
                                torch.nn.ReLU(), torch.nn.Linear(256, 10))
    X, y = torch.randn(128, 784), torch.randint(0, 10, (128,))
    return model, X, y


def _stepper(name):
    model, X, y = _problem()
    if name == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=0.01)

        def step():
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(X), y).backward()
            opt.step()
        return step
    opt = gtt.get(name, model.parameters(), lr=0.01)
    return lambda: opt.step(lambda: F.cross_entropy(model(X), y))


def step_time(step, steps, warmup=5):
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _rss_probe(name, steps=5):
    """Run in a fresh process: peak RSS growth (bytes) over `steps` steps after building."""
    import resource
    step = _stepper(name)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(steps):
        step()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024


def peak_memory(name):
    """Peak resident-memory growth during steps, measured in a fresh process (Linux ru_maxrss)."""
    code = f"from benchmarks.bench_torch import _rss_probe; print(_rss_probe({name!r}))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                         timeout=300)
    return int(out.stdout.split()[-1])


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_torch")
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds; median is kept")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    names = ["sgd", "sam", "gnp", "gsam", "gam_accel", "gam", "sam+gam"]
    steppers = {n: _stepper(n) for n in names}
    rounds = {n: [] for n in names}
    for _ in range(args.rounds):  # interleaved, so load changes hit every optimizer alike
        for n in names:
            rounds[n].append(step_time(steppers[n], args.steps))
    t = {n: statistics.median(v) for n, v in rounds.items()}
    mem = {n: peak_memory(n) for n in names}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, float32 784-256-256-10 "
          f"MLP, batch 128; SGD step {t['sgd'] * 1e3:.2f} ms, peak +{mem['sgd'] / 2**20:.2f} MiB")
    print(f"{'optimizer':<10} {'time/SGD':>9} {'target':>7} {'memory/SGD':>11}")
    result = {}
    for n in names[1:]:
        r = t[n] / t["sgd"]
        m = mem[n] / mem["sgd"] if mem["sgd"] > 0 else float("nan")  # nan: below RSS resolution
        target = TARGETS.get(n)
        flag = "" if target is None else ("ok" if r <= target else "OVER")
        print(f"{n:<10} {r:>8.2f}x {target or '':>7} {m:>10.2f}x {flag}")
        result[n] = {"time_ratio": r, "memory_ratio": m, "target": target}
    return result


if __name__ == "__main__":
    main()
