"""torch optimizers: step time / torch.optim.SGD beside the least possible work (floors), on an MLP
and a small BatchNorm ResNet-18, and peak memory / SGD on the MLP.

    python -m benchmarks torch   (or: python -m benchmarks.bench_torch [--rounds 20] [--block 5]
                                      [--threads N] [--no-memory] [--no-resnet] [--compile])

CPU, float32. Problems: the 784-256-256-10 ReLU MLP, batch 128; the CIFAR ResNet-18 of
gamtoy.torch.models (BatchNorm, width 8), batch 32 at 3 x 32 x 32.

Time: the SGD baseline is the plain `torch.optim.SGD` step (zero_grad, one forward + backward,
step). Every contender is warmed up, then timed in `rounds` rounds; in each round every contender
runs a block of `block` consecutive steps, in an order rotated from round to round, so a change
of machine load hits all of them alike. Reported: the median over rounds of (step time / SGD step
time in the same round) and its spread [q25, q75], with the verdict `within target`, `over
target` or `inconclusive` (target inside the spread). The floors, timed in the same rounds, are
the least work any implementation must do (2 or 4 gradients, or 2 gradient + HVP passes, + one
SGD update). Targets: MLP (issue 5) SAM, GNP, GSAM <= 2.2x, GAMAccel <= 4.3x, GAM (exact HVPs)
<= 5.0x; ResNet: 1.10 x the optimizer's floor (2 grads; 4 grads; 2 HVPs), measured in the run.
--compile adds "NAME compiled" rows: the same step with the model through torch.compile (SGD
too), as time / eager SGD. Only the public API of gamtoy.torch is used (`gamtoy.torch.get`);
GAM's `hvp=` modes are timed where the constructor takes them.

Memory: peak bytes of live tensor memory during one step, measured in a fresh process per
optimizer: (bytes of every tensor storage alive at the start of the step - parameters, .grad,
optimizer state, work buffers, data; found with gc and counted once per storage) + (the highest
point, during the step, of the running sum of the CPU allocator's allocations minus frees, as
recorded by torch.profiler with profile_memory=True; the recording starts one step earlier, so
frees of blocks from that step are counted).
"""
import argparse
import gc
import json
import os
import statistics
import subprocess
import sys

import torch
import torch.nn.functional as F

import gamtoy.torch as gtt

from ._harness import OVER, ratio, rounds, row, threads_line, verdict

REQUIRES = ("torch",)
TARGETS = {"sam": 2.2, "gnp": 2.2, "gsam": 2.2, "gam_accel": 4.3, "gam": 5.0}
NAMES = ["sgd", "sam", "gnp", "gsam", "gam_accel", "gam", "sam+gam"]
FLOORS = {"2 grads": (2, False), "4 grads": (4, False), "2 HVPs": (2, True)}
FLOOR_OF = {"sam": "2 grads", "gnp": "2 grads", "gsam": "2 grads", "gam_accel": "4 grads",
            "gam": "2 HVPs"}
FLOOR_SLACK = 1.10  # ResNet target: this times the optimizer's floor
PROBLEMS = {"mlp": "784-256-256-10 ReLU MLP, batch 128",
            "resnet": "ResNet-18 (BatchNorm, width 8), batch 32 x 3 x 32 x 32"}


def _problem(kind="mlp", seed=0):
    torch.manual_seed(seed)
    if kind == "mlp":
        model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                    torch.nn.Linear(256, 256), torch.nn.ReLU(),
                                    torch.nn.Linear(256, 10))
        X, y = torch.randn(128, 784), torch.randint(0, 10, (128,))
    else:
        from gamtoy.torch.models import build
        model = build("resnet18", (3, 32, 32), 10, width=8)
        X, y = torch.randn(32, 3, 32, 32), torch.randint(0, 10, (32,))
    return model, X, y


def _stepper(name, kind="mlp", compiled=False, **kw):
    """One step of `name` on a fresh problem; compiled: through torch.compile(model)."""
    model, X, y = _problem(kind)
    net = torch.compile(model) if compiled else model
    if name == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=0.01)

        def step():
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(net(X), y).backward()
            opt.step()
        return step
    if kw.get("hvp") == "forward_over_reverse":
        kw["model"] = model
    opt = gtt.get(name, model.parameters(), lr=0.01, **kw)
    return lambda: opt.step(lambda: F.cross_entropy(net(X), y))


def _floor_stepper(k, hvp, kind="mlp"):
    """The least work of k gradient (hvp: gradient + double-backward HVP) evaluations + one SGD
    update, with no vector arithmetic: what SAM (2 grads), GAMAccel (4) and GAM (2 HVPs) must
    at least cost in any implementation."""
    model, X, y = _problem(kind)
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
        for p, d in zip(params, g, strict=True):
            p.grad = d
        opt.step()
    return step


COMPILED = ["sgd", "sam", "gnp", "gsam", "gam_accel"]  # GAM's double backward does not compile


def contenders(kind, block, compiled=False):
    """{label: callable running `block` steps}: SGD, every optimizer, GAM's HVP modes, floors;
    compiled: also the first-order ones through torch.compile(model) (compiled here, once)."""
    steppers = {n: _stepper(n, kind) for n in NAMES}
    if compiled:
        for n in COMPILED:
            steppers[f"{n} compiled"] = _stepper(n, kind, compiled=True)
            steppers[f"{n} compiled"]()
    for mode in ("forward_over_reverse", "auto"):
        try:
            steppers[f"gam hvp={mode}"] = _stepper("gam", kind, hvp=mode)
            steppers[f"gam hvp={mode}"]()
        except (TypeError, ValueError, RuntimeError) as e:  # not offered (yet) by gamtoy.torch
            steppers.pop(f"gam hvp={mode}", None)
            print(f"  (gam hvp={mode!r} not timed: {type(e).__name__}: {str(e)[:80]})")
    steppers.update({f"floor: {k}": _floor_stepper(*v, kind=kind) for k, v in FLOORS.items()})

    def blocked(f):
        def run():
            for _ in range(block):
                f()
        return run
    return {k: blocked(f) for k, f in steppers.items()}


def step_times(kind, n_rounds, block, compiled=False):
    """{label: [per-step seconds of each round]}, contenders interleaved in rotated order."""
    c = contenders(kind, block, compiled)
    for f in c.values():  # warm-up: a few steps each
        f()
    t = rounds(c, n_rounds, warmup=0)
    return {k: [x / block for x in v] for k, v in t.items()}


def _live_tensor_bytes():
    """Bytes of every tensor storage reachable from Python (each storage counted once)."""
    seen, total = set(), 0
    for obj in gc.get_objects():
        try:
            if not isinstance(obj, torch.Tensor) or obj.device.type == "meta":
                continue
            st = obj.untyped_storage()
            key = (st.data_ptr(), st.device)  # fake tensors (torch.compile): no data pointer
        except Exception:  # noqa: BLE001 - objects that only look like tensors
            continue
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
    p = argparse.ArgumentParser(prog="python -m benchmarks torch")
    p.add_argument("--rounds", type=int, default=20, help="interleaved rounds (MLP; ResNet: half)")
    p.add_argument("--block", type=int, default=5, help="consecutive steps timed per round (MLP)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch threads (default: $GAMTOY_BENCH_THREADS, set by python -m "
                        "benchmarks, else 1)")
    p.add_argument("--no-memory", action="store_true", help="skip the memory column")
    p.add_argument("--no-resnet", action="store_true", help="the MLP only")
    p.add_argument("--compile", action="store_true",
                   help="also time the first-order optimizers with torch.compile(model) (MLP; "
                        "compiling takes minutes on a CPU)")
    args = p.parse_args([] if argv is None else argv)
    threads = args.threads or int(os.environ.get("GAMTOY_BENCH_THREADS", "1"))
    torch.set_num_threads(threads)
    print(f"torch {torch.__version__}; {threads_line()}")
    over = False
    result = {}
    kinds = ["mlp"] + ([] if args.no_resnet else ["resnet"])
    for kind in kinds:
        n_rounds = args.rounds if kind == "mlp" else max(3, args.rounds // 2)
        block = args.block if kind == "mlp" else max(1, args.block // 3)
        times = step_times(kind, n_rounds, block, args.compile and kind == "mlp")
        sgd = times["sgd"]
        mem = {}
        if kind == "mlp" and not args.no_memory:
            mem = {n: peak_memory(n, threads) for n in NAMES}
        print(f"\n{PROBLEMS[kind]}: SGD step {statistics.median(sgd) * 1e3:.2f} ms (median), "
              f"{n_rounds} interleaved rounds x {block} steps; time / SGD, median [q25, q75]")
        if mem:
            print(f"  SGD peak tensor memory {mem['sgd'] / 2**20:.2f} MiB (live tensors at the "
                  "step's start + peak allocator growth during it)")
        floors = {k: ratio(times[f"floor: {k}"], sgd) for k in FLOORS}
        print(f"  {'optimizer':<26} {'time / SGD':>20} {'target':>8}  {'verdict':<13}"
              f"{'  memory/SGD' if mem else ''}")
        for n in [k for k in times if k != "sgd" and not k.startswith("floor")]:
            r = ratio(times[n], sgd)
            base = n.split(" ")[0]
            if n.endswith("compiled"):
                target = None  # measured, no target (time / eager SGD)
            elif kind == "mlp":
                target = TARGETS.get(base)
            else:
                fl = FLOOR_OF.get(base)
                target = round(FLOOR_SLACK * floors[fl]["median"], 2) if fl else None
            over |= verdict(r, target) == OVER
            m = f"  {mem[n] / mem['sgd']:10.2f}x" if n in mem else ""
            print(row(n, r, target, extra=m))
            result[f"{kind}: {n}"] = {**r, "target": target,
                                      "memory_ratio": mem[n] / mem["sgd"] if n in mem else None}
        print("  least possible work, same rounds (k forward+backward passes + one SGD update):")
        for k, r in floors.items():
            print(row(f"floor: {k}", r, None))
            result[f"{kind}: floor: {k}"] = r
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
