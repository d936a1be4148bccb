"""The prepared GPU check (`make gpu-check`): one script, one GPU, a few minutes.

    python -m tools.gpu_check --out docs/benchmarks/             # on a GPU
    python -m tools.gpu_check --device cpu --quick --out /tmp/g   # the same code, tiny, CPU

Parts, each guarded (a failure is recorded with its error and the next part still runs), all
under one time budget (`--budget-s`, default 270 s; what does not fit is recorded as skipped):

- tests:  the torch tests on the device (`GAMTOY_TEST_DEVICES=<device> pytest tests/test_torch*.py`)
- parity: device vs CPU in float64 for every optimizer and variant of `gamtoy.torch.get`
          (a small MLP, same init and batch on both): max |theta_device - theta_cpu| after 3 steps
- amp:    autocast in bfloat16, and in float16 with a GradScaler: a few steps, losses finite,
          steps taken (not all skipped), parameters finite and moved
- sync:   one step with diagnostics unread under torch.cuda.set_sync_debug_mode("error"): which
          optimizers synchronise with the host inside a step (CUDA only)
- bench:  ResNet-18 (CIFAR variant) at CIFAR size, batch 128, bfloat16 autocast: step time / SGD,
          images/s, peak memory / SGD (torch.cuda.max_memory_allocated), every optimizer and both
          GAM HVP modes where GAM has the switch

Writes OUT/gpu_check_<device>.json and .md (atomically) with the date, the device model and the
torch version; exit status 1 if any part failed.
"""
import argparse
import copy
import datetime
import gc
import inspect
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import traceback

import torch
import torch.nn.functional as F
from torch import nn

from gamtoy._io import write_text
from gamtoy.optim import DEFAULTS, VARIANTS
from gamtoy.optim.specs import ON_SGD
from gamtoy.torch import models
from gamtoy.torch.optimizers import CLASSES, GAM, get

PARTS = ("tests", "parity", "amp", "sync", "bench")
GAM_FAMILY = tuple(n for n, c in CLASSES.items() if issubclass(c, GAM))  # those with an HVP
BENCH = ON_SGD
PARITY_TOL = 1e-9
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def hvp_modes():
    """GAM's HVP modes where gamtoy.torch.GAM takes `hvp=` (else none: double backward only)."""
    if "hvp" in inspect.signature(CLASSES["gam"].__init__).parameters:
        return ("double_backward", "forward_over_reverse")
    return ()


def variants(hvp=True):
    """(label, name, kwargs) for every optimizer and variant gamtoy.torch.get offers."""
    out = []
    for name in CLASSES:
        if "variant" in DEFAULTS[name][0]:
            out += [(f"{name}[{v}]", name, {"variant": v}) for v in VARIANTS]
        else:
            out.append((name, name, {}))
        if hvp and name in GAM_FAMILY:
            out += [(f"{name}[hvp={m}]", name, {"hvp": m}) for m in hvp_modes()]
    return out


class Budget:
    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def left(self):
        return self.end - time.monotonic()

    def over(self, reserve=0.0):
        return self.left() <= reserve


def _sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def _mlp(dtype, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(12, 24), nn.Tanh(), nn.Linear(24, 24), nn.ReLU(),
                         nn.Linear(24, 4)).to(dtype)


def _batch(n, dtype, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 12, generator=g, dtype=dtype), torch.randint(0, 4, (n,), generator=g)


def _takes(name, arg):
    """Whether the optimizer class behind `name` accepts the keyword `arg`."""
    import inspect

    import gamtoy.torch as gtt
    cls = getattr(gtt, "CLASSES", {}).get(name) if hasattr(gtt, "CLASSES") else None
    if cls is None:
        try:
            cls = type(get(name, [torch.nn.Parameter(torch.zeros(1))], lr=0.1))
        except Exception:
            return False
    return any(arg in inspect.signature(k.__init__).parameters
               for k in cls.__mro__ if "__init__" in vars(k))


def _opt(name, model, kw, lr=0.05):
    return get(name, model.parameters(), lr=lr, base="momentum", weight_decay=1e-3, model=model,
               **kw)


# --- the parts -------------------------------------------------------------------------------
def tests_command(dev, quick):
    """The pytest command line of the `tests` part (collection only in quick mode)."""
    files = sorted(f for f in os.listdir(os.path.join(ROOT, "tests"))
                   if f.startswith("test_torch") and f.endswith(".py"))
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE"]
    cmd += ["--collect-only"] if quick else []
    return cmd + [os.path.join("tests", f) for f in files]


def part_tests(dev, quick, budget, reserve):
    if not os.path.isdir(os.path.join(ROOT, "tests")):
        return {"status": "skipped", "why": f"no tests folder in {ROOT} (an installed package)"}
    cmd = tests_command(dev, quick)
    timeout = max(1.0, min(180.0, budget.left() - reserve))
    env = dict(os.environ, GAMTOY_TEST_DEVICES=str(dev), MPLBACKEND="Agg",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    t0 = time.monotonic()
    try:
        res = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=timeout)
        rc, output = res.returncode, res.stdout + res.stderr
    except subprocess.TimeoutExpired as e:
        rc, output = "timeout", (e.stdout or b"").decode(errors="replace") if isinstance(
            e.stdout, bytes) else (e.stdout or "")
    lines = [x for x in output.splitlines() if x.strip()]
    summary = next((x for x in reversed(lines) if re.search(r"\d+ (passed|failed|error|tests? "
                                                            r"collected)", x)), "")
    failed = [x for x in lines if x.startswith(("FAILED", "ERROR"))]
    status = "ok" if rc == 0 else "timeout" if rc == "timeout" else "failed"
    return {"status": status, "command": "python " + " ".join(cmd[1:]), "rc": rc,
            "summary": summary.strip("= "), "failed": failed[:50], "tail": lines[-15:],
            "seconds": round(time.monotonic() - t0, 1), "timeout_s": round(timeout)}


def part_parity(dev, quick, budget, reserve):
    steps = 2 if quick else 3
    X, y = _batch(32, torch.float64)
    rows = []
    for label, name, kw in variants():
        if budget.over(reserve):
            rows.append({"optimizer": label, "status": "skipped", "why": "time budget"})
            continue
        try:
            thetas = []
            ref = _mlp(torch.float64)
            for d in (torch.device("cpu"), dev):
                model = copy.deepcopy(ref).to(d)
                opt = _opt(name, model, kw)
                xb, yb = X.to(d), y.to(d)
                for _ in range(steps):
                    opt.step(lambda model=model, xb=xb, yb=yb: F.cross_entropy(model(xb), yb))
                thetas.append([p.detach().cpu() for p in model.parameters()])
            diff = max(float((a - b).abs().max()) for a, b in zip(*thetas, strict=True))
            moved = max(float((a - b.detach()).abs().max())
                        for a, b in zip(thetas[0], ref.parameters(), strict=True))
            ok = diff <= PARITY_TOL and moved > 0
            rows.append({"optimizer": label, "status": "ok" if ok else "failed",
                         "max_abs_diff": diff, "moved": moved})
        except Exception as e:
            rows.append({"optimizer": label, "status": "failed", "error": _err(e)})
    return {"status": _worst(rows), "steps": steps, "dtype": "float64", "tolerance": PARITY_TOL,
            "reference": "cpu", "rows": rows,
            **({"note": "device cpu: cpu against cpu, only the code path is checked"}
               if dev.type == "cpu" else {})}


def _amp_run(dev, name, kw, dtype, steps):
    model = _mlp(torch.float32).to(dev)
    start = [p.detach().clone() for p in model.parameters()]
    opt = _opt(name, model, kw, lr=0.02)
    scaler = torch.amp.GradScaler(dev.type) if dtype == torch.float16 else None
    X, y = _batch(64, torch.float32)
    X, y = X.to(dev), y.to(dev)

    def closure():
        with torch.autocast(dev.type, dtype=dtype):
            return F.cross_entropy(model(X), y)

    losses = [opt.step(closure, scaler=scaler) for _ in range(steps)]
    taken = [float(v) for v in losses if v is not None]
    finite = all(math.isfinite(v) for v in taken) and all(
        bool(torch.isfinite(p).all()) for p in model.parameters())
    moved = max(float((p.detach() - s).abs().max())
                for p, s in zip(model.parameters(), start, strict=True))
    ok = len(taken) >= 1 and finite and moved > 0
    return {"status": "ok" if ok else "failed", "steps": steps, "taken": len(taken),
            "skipped": steps - len(taken), "last_loss": taken[-1] if taken else None,
            "finite": finite, "moved": moved,
            "scale": float(scaler.get_scale()) if scaler is not None else None}


def part_amp(dev, quick, budget, reserve):
    steps = 3 if quick else 6
    rows = []
    for label, name, kw in variants():
        for dtype in (torch.bfloat16, torch.float16):
            tag = "bfloat16" if dtype == torch.bfloat16 else "float16+GradScaler"
            if budget.over(reserve):
                rows.append({"optimizer": label, "amp": tag, "status": "skipped",
                             "why": "time budget"})
                continue
            try:
                rows.append({"optimizer": label, "amp": tag, **_amp_run(dev, name, kw, dtype,
                                                                        steps)})
            except Exception as e:
                rows.append({"optimizer": label, "amp": tag, "status": "failed", "error": _err(e)})
    return {"status": _worst(rows), "rows": rows}


def part_sync(dev, quick, budget, reserve):
    if dev.type != "cuda":
        return {"status": "skipped", "why": "torch.cuda.set_sync_debug_mode needs CUDA"}
    X, y = _batch(64, torch.float32)
    X, y = X.to(dev), y.to(dev)
    rows = []
    for label, name, kw in variants():
        if budget.over(reserve):
            rows.append({"optimizer": label, "status": "skipped", "why": "time budget"})
            continue
        try:
            model = _mlp(torch.float32).to(dev)
            # the finite-loss guard costs one sync per step off the CPU; measure without it
            opt = _opt(name, model, {**kw, "check_finite": False} if _takes(name, "check_finite")
                       else kw)
            def closure(model=model):
                return F.cross_entropy(model(X), y)
            opt.step(closure)  # warm-up: lazy state (momentum buffers), first-call allocations
            torch.cuda.synchronize(dev)
            syncs, where = False, None
            torch.cuda.set_sync_debug_mode("error")
            try:
                opt.step(closure)  # diagnostics unread
            except RuntimeError as e:
                syncs, where = True, _err(e)
            finally:
                torch.cuda.set_sync_debug_mode(0)
            torch.cuda.synchronize(dev)
            rows.append({"optimizer": label, "status": "ok", "syncs": syncs, "where": where})
        except Exception as e:
            torch.cuda.set_sync_debug_mode(0)
            rows.append({"optimizer": label, "status": "failed", "error": _err(e)})
    return {"status": _worst(rows), "rows": rows,
            "note": "syncs=True: a host synchronisation inside a step (a finding, not a crash)"}


def _bench_one(dev, base_model, name, kw, x, y, warmup, timed, bf16=True):
    from gamtoy.torch import hvp
    hvp._AUTO.clear()  # hvp="auto" measures afresh in each row (its choice is kept per process)
    model = copy.deepcopy(base_model).to(dev)
    opt = _opt(name, model, kw, lr=0.1)
    amp = dict(device_type=dev.type, dtype=torch.bfloat16, enabled=bf16)

    def closure():
        with torch.autocast(**amp):
            return F.cross_entropy(model(x), y)

    for _ in range(warmup):
        opt.step(closure)
    _sync(dev)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    times = []
    for _ in range(timed):
        t0 = time.perf_counter()
        opt.step(closure)
        _sync(dev)
        times.append(time.perf_counter() - t0)
    peak = torch.cuda.max_memory_allocated(dev) if dev.type == "cuda" else None
    chosen = getattr(opt, "hvp_chosen", None)
    with torch.no_grad():
        loss = float(closure())
    opt = model = None  # free the device memory before the next row
    gc.collect()
    if dev.type == "cuda":
        torch.cuda.empty_cache()
    out = {"step_ms": 1e3 * statistics.median(times), "spread_ms": 1e3 * (max(times) - min(times)),
           "peak_bytes": peak, "loss_after": loss}
    if chosen:
        out["hvp_chosen"] = chosen
    return out


# the known case `_jvp_hvp_or_say` names: recorded as unsupported, not as a crash
UNSUPPORTED = "hvp='forward_over_reverse' failed inside torch.func.jvp"


def part_bench(dev, quick, budget, reserve):
    width, batch, size = (4, 4, 16) if quick else (64, 128, 32)
    warmup, timed = (1, 1) if quick else (3, 10)
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
    torch.manual_seed(0)
    base_model = models.ResNet18(10, width, 3)
    g = torch.Generator().manual_seed(2)
    x = torch.randn(batch, 3, size, size, generator=g).to(dev)
    y = torch.randint(0, 10, (batch,), generator=g).to(dev)
    # bf16 autocast for every optimizer; GAM's HVP modes also in float32 (forward-over-reverse
    # does not run under autocast with BatchNorm on torch 2.13: their balance is measured there)
    todo = [(n, n, {}, True) for n in BENCH]
    modes = hvp_modes() + ("auto",) if hvp_modes() else ()
    todo += [(f"gam[hvp={m}]", "gam", {"hvp": m}, True) for m in modes]
    if modes:
        todo += [("sgd fp32", "sgd", {}, False)]
        todo += [(f"gam[hvp={m}] fp32", "gam", {"hvp": m}, False) for m in modes]
    rows = []
    for label, name, kw, bf16 in todo:
        if budget.over(reserve):
            rows.append({"optimizer": label, "status": "skipped", "why": "time budget"})
            continue
        try:
            r = _bench_one(dev, base_model, name, kw, x, y, warmup, timed, bf16)
            r["status"] = "ok" if math.isfinite(r["loss_after"]) else "failed"
            rows.append({"optimizer": label, "autocast": "bfloat16" if bf16 else "off", **r})
        except Exception as e:
            state = "unsupported" if UNSUPPORTED in str(e) else "failed"
            rows.append({"optimizer": label, "autocast": "bfloat16" if bf16 else "off",
                         "status": state, "error": _err(e)})
    base = {a: next((r for r in rows if r["optimizer"] == s and "step_ms" in r), None)
            for a, s in (("bfloat16", "sgd"), ("off", "sgd fp32"))}
    for r in rows:
        if "step_ms" in r:
            r["images_per_s"] = batch / (r["step_ms"] / 1e3)
            sgd = base[r["autocast"]]
            if sgd is not None:
                r["time_vs_sgd"] = r["step_ms"] / sgd["step_ms"]
                if r["peak_bytes"] and sgd["peak_bytes"]:
                    r["memory_vs_sgd"] = r["peak_bytes"] / sgd["peak_bytes"]
    return {"status": _worst(rows), "model": f"ResNet-18 (CIFAR variant, width {width})",
            "batch": batch, "input": [3, size, size], "autocast": "bfloat16", "base": "momentum",
            "warmup_steps": warmup, "timed_steps": timed, "rows": rows}


PART_FUNCS = {"tests": part_tests, "parity": part_parity, "amp": part_amp, "sync": part_sync,
              "bench": part_bench}
# seconds kept for the parts after each one when the budget runs short
RESERVE = {"tests": 90.0, "parity": 60.0, "amp": 45.0, "sync": 40.0, "bench": 0.0}


def _err(e):
    """One line: the exception and the deepest gamtoy frame that its first cause passed (where
    to look: for an error re-raised with a clearer message, where the original one came from)."""
    first = (str(e).strip().splitlines() or [""])[0]
    root = e
    while root.__cause__ is not None:
        root = root.__cause__
    ours = [f for f in traceback.extract_tb(root.__traceback__)
            if os.sep + "gamtoy" + os.sep in f.filename and "gpu_check" not in f.filename]
    at = ""
    if ours:
        f = ours[-1]
        at = f" (at {os.path.relpath(f.filename, ROOT)}:{f.lineno} in {f.name}: {f.line})"
    return f"{type(e).__name__}: {first[:700]}{at}"


def _worst(rows):
    states = {r["status"] for r in rows}
    return "failed" if "failed" in states else "ok" if states <= {"ok"} else "partial"


# --- environment, output ---------------------------------------------------------------------
def environment(dev):
    env = {"date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
           "torch": torch.__version__, "python": platform.python_version(),
           "platform": platform.platform(), "device": str(dev),
           "threads": torch.get_num_threads()}
    if dev.type == "cuda":
        p = torch.cuda.get_device_properties(dev)
        env.update(model=torch.cuda.get_device_name(dev), cuda=torch.version.cuda,
                   cudnn=torch.backends.cudnn.version(),
                   memory_gib=round(p.total_memory / 2**30, 1),
                   capability=f"{p.major}.{p.minor}")
    else:
        env["model"] = platform.processor() or platform.machine() or "cpu"
    return env


def _slug(dev, env):
    if dev.type != "cuda":
        return "cpu"
    return re.sub(r"[^a-z0-9]+", "-", env["model"].lower()).strip("-") or "cuda"


def _cell(text):
    """Text for one markdown table cell: a | or a line break would end it."""
    return str(text).replace("|", "/").replace("\n", " ")


def _fmt(v, spec):
    return "" if v is None else format(v, spec)


def markdown(res):
    e = res["environment"]
    out = [f"# gamtoy GPU check: {e['model']}", "",
           f"{e['date']}; device {e['device']}; torch {e['torch']}"
           + (f", CUDA {e['cuda']}, cuDNN {e['cudnn']}" if e.get("cuda") else "")
           + f"; Python {e['python']}; {res['mode']} mode; {res['seconds']:.0f} s of a "
           f"{res['budget_s']:.0f} s budget"
           + ("." if res.get("complete") else "; INCOMPLETE (stopped during the next part)."), "",
           "`" + res["command"] + "`", "", "| part | status | seconds |", "|---|---|---|"]
    for name, p in res["parts"].items():
        why = f" ({p['why']})" if p.get("why") else ""
        error = " " + _cell(p["error"]) if p.get("error") else ""
        out.append(f"| {name} | {p['status']}{why}{error} | {p.get('seconds', '')} |")
    p = res["parts"].get("tests")
    if p and "summary" in p:
        out += ["", "## Torch tests on the device", "", f"`{p['command']}` -> rc {p['rc']}: "
                f"{p['summary']}"] + [f"- {x}" for x in p.get("failed", [])]
    p = res["parts"].get("parity")
    if p and "rows" in p:
        out += ["", f"## Parity with the CPU (float64, {p['steps']} steps, tolerance "
                f"{p['tolerance']:g})", ""] + ([p["note"], ""] if p.get("note") else []) + [
                "| optimizer | max abs param diff | status |",
                "|---|---|---|"]
        out += [f"| {r['optimizer']} | {_fmt(r.get('max_abs_diff'), '.2e')} | {r['status']}"
                f"{' ' + _cell(r.get('error', r.get('why', ''))) if r['status'] != 'ok' else ''} |"
                for r in p["rows"]]
    p = res["parts"].get("amp")
    if p and "rows" in p:
        out += ["", "## Autocast", "", "| optimizer | autocast | steps taken | last loss | "
                "status |", "|---|---|---|---|---|"]
        out += [f"| {r['optimizer']} | {r['amp']} | {r.get('taken', '')}/{r.get('steps', '')} | "
                f"{_fmt(r.get('last_loss'), '.4f')} | {r['status']}"
                f"{' ' + _cell(r.get('error', r.get('why', ''))) if r['status'] != 'ok' else ''} |"
                for r in p["rows"]]
    p = res["parts"].get("sync")
    if p and "rows" in p:
        out += ["", "## Host synchronisation inside a step (diagnostics unread)", "",
                "| optimizer | syncs | where |", "|---|---|---|"]
        out += [f"| {r['optimizer']} | {r.get('syncs', r['status'])} | "
                f"{_cell(r.get('where') or r.get('error') or '')} |"
                for r in p["rows"]]
    p = res["parts"].get("bench")
    if p and "rows" in p:
        out += ["", f"## {p['model']}, batch {p['batch']} x {'x'.join(map(str, p['input']))}, "
                f"{p['autocast']} autocast (rows marked fp32: none), base "
                f"{p['base']} (median of {p['timed_steps']} steps)", "",
                "| optimizer | step ms | time / SGD | images/s | peak MiB | memory / SGD |",
                "|---|---|---|---|---|---|"]
        for r in p["rows"]:
            if "step_ms" not in r:
                out.append(f"| {r['optimizer']} | {r['status']}: "
                           f"{_cell(r.get('error', r.get('why', '')))} | | | | |")
                continue
            mib = r["peak_bytes"] / 2**20 if r["peak_bytes"] else None
            chosen = f" (auto chose {r['hvp_chosen']})" if r.get("hvp_chosen") else ""
            out.append(f"| {r['optimizer']}{chosen} | {r['step_ms']:.1f} | "
                       f"{_fmt(r.get('time_vs_sgd'), '.2f')} | {r['images_per_s']:.0f} | "
                       f"{_fmt(mib, '.0f')} | "
                       f"{_fmt(r.get('memory_vs_sgd'), '.2f')} |")
    return "\n".join(out) + "\n"


def parse(argv=None):
    p = argparse.ArgumentParser(prog="python -m tools.gpu_check",
                                description=__doc__.split("\n")[0])
    p.add_argument("--out", default="docs/benchmarks/")
    p.add_argument("--device", default="cuda", help="cuda | cuda:N | cpu")
    p.add_argument("--quick", action="store_true", help="tiny sizes (the CPU self-test)")
    p.add_argument("--budget-s", type=float, default=270.0, help="for all parts together")
    p.add_argument("--skip", default="", help=f"comma-separated parts to skip: {','.join(PARTS)}")
    a = p.parse_args(argv)
    bad = [s for s in a.skip.split(",") if s and s not in PARTS]
    if bad:
        p.error(f"--skip {a.skip}: unknown part(s) {', '.join(bad)}; valid: {', '.join(PARTS)}")
    if not (a.budget_s > 0 and math.isfinite(a.budget_s)):
        p.error(f"--budget-s must be a positive number of seconds, got {a.budget_s}")
    try:
        a.device = torch.device(a.device)
    except (RuntimeError, ValueError) as e:
        p.error(f"--device {a.device}: {e}")
    if a.device.type not in ("cpu", "cuda") or (a.device.type == "cpu" and a.device.index):
        p.error(f"--device {a.device}: valid: cuda, cuda:N, cpu")
    if a.device.type == "cuda" and not torch.cuda.is_available():
        p.error(f"--device {a.device}: CUDA is not available to this torch ({torch.__version__});"
                " on a machine without a GPU: --device cpu --quick (make gpu-check "
                "GPU_ARGS='--device cpu --quick')")
    if a.device.type == "cuda" and (a.device.index or 0) >= torch.cuda.device_count():
        p.error(f"--device {a.device}: only {torch.cuda.device_count()} CUDA device(s)")
    out = os.path.abspath(os.path.expanduser(a.out))
    if os.path.exists(out) and not os.path.isdir(out):
        p.error(f"--out {a.out}: is a file, not a folder")
    try:  # a folder that cannot be made or written: one line now, not a traceback later
        os.makedirs(out, exist_ok=True)
        write_text(os.path.join(out, ".gpu_check_write_test"), "")
        os.remove(os.path.join(out, ".gpu_check_write_test"))
    except OSError as e:
        p.error(f"--out {a.out}: cannot write there ({e.strerror or e})")
    a.out = out
    return a


def main(argv=None):
    """Run the parts, write OUT/gpu_check_<device>.json and .md; returns (result, paths)."""
    a = parse(argv)
    os.makedirs(a.out, exist_ok=True)
    dev, budget, t_all = a.device, Budget(a.budget_s), time.monotonic()
    res = {"command": "python -m tools.gpu_check " + " ".join(
        argv if argv is not None else sys.argv[1:]), "mode": "quick" if a.quick else "full",
        "budget_s": a.budget_s, "environment": environment(dev), "parts": {}, "complete": False}
    skip = {s for s in a.skip.split(",") if s}
    stem = os.path.join(a.out, f"gpu_check_{_slug(dev, res['environment'])}")

    def write():  # after every part: a kill (timeout, crash) keeps what was measured
        res["seconds"] = round(time.monotonic() - t_all, 1)
        return (write_text(stem + ".json", json.dumps(res, indent=1) + "\n"),
                write_text(stem + ".md", markdown(res)))

    for name in PARTS:
        if name in skip:
            res["parts"][name] = {"status": "skipped", "why": "--skip"}
            continue
        if budget.over(5.0):
            res["parts"][name] = {"status": "skipped", "why": "time budget"}
            continue
        print(f"gpu_check: {name} ...", file=sys.stderr, flush=True)
        t0 = time.monotonic()
        try:
            part = PART_FUNCS[name](dev, a.quick, budget, RESERVE[name])
        except Exception as e:  # guarded: record it, run the rest
            part = {"status": "failed", "error": _err(e),
                    "traceback": traceback.format_exc().splitlines()[-8:]}
        finally:
            if dev.type == "cuda":
                torch.cuda.set_sync_debug_mode(0)
        part["seconds"] = round(time.monotonic() - t0, 1)
        res["parts"][name] = part
        print(f"gpu_check: {name}: {part['status']} ({part['seconds']} s)", file=sys.stderr,
              flush=True)
        write()
    res["complete"] = True
    return res, write()


def _cli():
    res, paths = main()
    failed = [n for n, p in res["parts"].items() if p["status"] in ("failed", "timeout")]
    other = [f"{n} {p['status']}" for n, p in res["parts"].items()
             if p["status"] not in ("ok", "skipped", "failed", "timeout")]
    said = (", ".join(f"{n} {res['parts'][n]['status']}" for n in failed) if failed
            else "no part failed"
            ) + (f" ({', '.join(other)}: see the rows)" if other else "")
    print(f"gpu_check: {said} in {res['seconds']:.0f} s; wrote {paths[0]} and {paths[1]}",
          file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(_cli())
