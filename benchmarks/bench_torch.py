"""Step time and peak memory of the gamtoy.torch optimizers relative to torch.optim.SGD.

    python -m benchmarks.bench_torch [--rounds 40] [--block 5] [--threads N] [--no-memory]

CPU, float32, a 784-256-256-10 ReLU MLP, batch 128, every ratio from one run.

Time: the SGD baseline is the plain `torch.optim.SGD` step (zero_grad, one forward + backward,
step). Every optimizer is warmed up, then timed in `rounds` rounds; in each round every optimizer
runs a block of `block` consecutive steps (wall clock), in an order rotated from round to round,
so a change of machine load hits all of them alike. The ratio reported is the median over rounds
of (step time / SGD step time in the same round).

Memory: peak bytes of live tensor memory during one step, measured in a fresh process per
optimizer: (bytes of every tensor storage alive at the start of the step - parameters, .grad,
optimizer state, work buffers, data; found with gc and counted once per storage) + (the highest
point, during the step, of the running sum of the CPU allocator's allocations minus frees, as
recorded by torch.profiler with profile_memory=True; the recording starts one step earlier, so
frees of blocks from that step are counted). The last lines time, in the same rounds, the least
work any implementation must do (2 or 4 gradients, or 2 gradient+HVP passes, + one SGD
update): the floors the ratios are bounded by. Targets (issue 5): SAM, GNP, GSAM <= 2.2x,
GAMAccel <= 4.3x, GAM (exact HVPs) <= 5.0x.
"""
import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

import gamtoy.torch as gtt

TARGETS = {"sam": 2.2, "gnp": 2.2, "gsam": 2.2, "gam_accel": 4.3, "gam": 5.0}
NAMES = ["sgd", "sam", "gnp", "gsam", "gam_accel", "gam", "sam+gam"]


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


FLOORS = {"2 grads": (2, False), "4 grads": (4, False), "2 HVPs": (2, True)}


def _floor_stepper(k, hvp):
    """The least work of k gradient (hvp: gradient + double-backward HVP) evaluations + one SGD
    update, with no vector arithmetic: what SAM (2 grads), GAMAccel (4) and GAM (2 HVPs) must
    at least cost in any implementation."""
    model, X, y = _problem()
    params = list(model.parameters())
    opt = torch.optim.SGD(params, lr=0.01)

    def step():
        for _ in range(k):
            loss = F.cross_entropy(model(X), y)
            if hvp:
                gs = torch.autograd.grad(loss, params, create_graph=True)
                g = [x.detach() for x in gs]
                torch.autograd.grad(gs, params, grad_outputs=g)
            else:
                g = torch.autograd.grad(loss, params)
        for p, d in zip(params, g):
            p.grad = d
        opt.step()
    return step


def step_times(steppers, rounds, block, warmup=5):
    """{name: [per-step wall time of each round]}, optimizers interleaved in rotated order."""
    names = list(steppers)
    for n in names:
        for _ in range(warmup):
            steppers[n]()
    times = {n: [] for n in names}
    for r in range(rounds):
        k = r % len(names)
        for n in names[k:] + names[:k]:
            step = steppers[n]
            t0 = time.perf_counter()
            for _ in range(block):
                step()
            times[n].append((time.perf_counter() - t0) / block)
    return times


def _live_tensor_bytes():
    """Bytes of every tensor storage reachable from Python (each storage counted once)."""
    seen, total = set(), 0
    for obj in gc.get_objects():
        try:
            if not isinstance(obj, torch.Tensor) or obj.device.type == "meta":
                continue
            st = obj.untyped_storage()
        except Exception:  # noqa: BLE001 - objects that only look like tensors
            continue
        key = (st.data_ptr(), st.device)
        if st.data_ptr() and key not in seen:
            seen.add(key)
            total += st.nbytes()
    return total


def _memory_probe(name, threads=None):
    """Run in a fresh process: {"start": bytes live at the step's start, "growth": peak growth}."""
    from torch.profiler import ProfilerActivity, profile, record_function
    if threads:
        torch.set_num_threads(threads)
    step = _stepper(name)
    for _ in range(3):
        step()
    gc.collect()
    start = _live_tensor_bytes()
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step()  # its allocations are recorded, so frees of them in the next step count
        with record_function("gamtoy_measured_step"):
            step()
    events = sorted(prof.profiler.kineto_results.events(), key=lambda e: e.start_ns())
    mark = next(e for e in events if e.name() == "gamtoy_measured_step")
    t0, t1 = mark.start_ns(), mark.start_ns() + mark.duration_ns()
    live = base = peak = 0
    for e in events:
        if e.name() != "[memory]":
            continue
        if e.start_ns() > t1:
            break
        live += e.nbytes()
        if e.start_ns() < t0:
            base = peak = live
        else:
            peak = max(peak, live)
    return {"start": start, "growth": peak - base}


def peak_memory(name, threads=None):
    """Peak tensor memory (bytes) of one step of `name`, measured in a fresh process."""
    code = ("import json; from benchmarks.bench_torch import _memory_probe; "
            f"print(json.dumps(_memory_probe({name!r}, {threads!r})))")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                         timeout=300, cwd=root)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    return res["start"] + res["growth"]


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_torch")
    p.add_argument("--rounds", type=int, default=40, help="interleaved rounds; the median is kept")
    p.add_argument("--block", type=int, default=5, help="consecutive steps timed per round")
    p.add_argument("--threads", type=int, default=None,
                   help="torch threads (default: all cores, at most 2 as in the issue)")
    p.add_argument("--no-memory", action="store_true", help="skip the memory column")
    args = p.parse_args(argv)
    threads = args.threads or max(1, min(2, os.cpu_count() or 1))
    torch.set_num_threads(threads)
    steppers = {n: _stepper(n) for n in NAMES}
    steppers.update({f"floor: {k}": _floor_stepper(*v) for k, v in FLOORS.items()})
    times = step_times(steppers, args.rounds, args.block)
    sgd = times["sgd"]
    mem = {} if args.no_memory else {n: peak_memory(n, threads) for n in NAMES}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, float32 784-256-256-10 "
          f"MLP, batch 128; SGD step {statistics.median(sgd) * 1e3:.2f} ms (median), "
          f"{args.rounds} interleaved rounds x {args.block} steps")
    if mem:
        print(f"SGD peak tensor memory {mem['sgd'] / 2**20:.2f} MiB (live tensors at the step's "
              "start + peak allocator growth during it)")
    print(f"{'optimizer':<10} {'time/SGD':>9} {'[q25, q75]':>14} {'target':>7} {'time':>5} "
          f"{'memory/SGD':>11}")
    result = {}
    for n in NAMES[1:]:
        ratios = sorted(a / b for a, b in zip(times[n], sgd))
        r = statistics.median(ratios)
        q25, q75 = ratios[len(ratios) // 4], ratios[(3 * len(ratios)) // 4]
        m = mem[n] / mem["sgd"] if mem else float("nan")
        target = TARGETS.get(n)
        flag = "" if target is None else ("ok" if r <= target else "OVER")
        print(f"{n:<10} {r:>8.2f}x  [{q25:.2f}, {q75:.2f}] {target or '':>7} {flag:>5} {m:>10.2f}x")
        result[n] = {"time_ratio": r, "memory_ratio": m, "target": target,
                     "memory_bytes": mem.get(n)}
    print("least possible work, same rounds (k forward+backward passes + one SGD update, no "
          "vector math):")
    for k in FLOORS:
        r = statistics.median(a / b for a, b in zip(times[f"floor: {k}"], sgd))
        print(f"  {k:<8} {r:>6.2f}x")
        result[f"floor: {k}"] = {"time_ratio": r}
    return result


if __name__ == "__main__":
    main()
