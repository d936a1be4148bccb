"""What every benchmark shares: pinned threads, interleaved rounds, ratios with their spread and
a verdict that does not flip with the machine's load.

No numerical library is imported here at module level: the launcher (`python -m benchmarks`)
imports this module before it sets the thread environment of each benchmark's process.

A ratio is measured in `rounds` rounds; in each round every contender runs once, in an order
rotated from round to round, so a change of load hits all of them alike; the ratio of a round
is (contender time / baseline time in the same round). Reported: the median over rounds and the
spread [q25, q75]. Verdict against a target (a ratio that must not be exceeded, or, for a
throughput, reached): `within target` when the whole spread is on the good side, `over target`
when the whole spread is on the bad side, `inconclusive` when the target is inside the spread.
"""
import os
import statistics
import sys
import time

THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
WITHIN, OVER, INCONCLUSIVE = "within target", "over target", "inconclusive"


def thread_env(threads=1):
    """The environment of a benchmark process: every BLAS / OpenMP pool at `threads`."""
    env = dict(os.environ)
    for k in THREAD_VARS:
        env[k] = str(threads)
    env["GAMTOY_BENCH_THREADS"] = str(threads)
    return env


def threads_line():
    """The thread settings this process runs with, as measured (after numpy is imported)."""
    parts = [f"{k}={os.environ.get(k, 'unset')}" for k in THREAD_VARS[:3]]
    try:
        from threadpoolctl import threadpool_info
        pools = sorted({(p.get("internal_api"), p.get("num_threads")) for p in threadpool_info()})
        parts.append("pools: " + ", ".join(f"{a} {n}" for a, n in pools) if pools
                     else "pools: none")
    except ImportError:
        parts.append("threadpoolctl not installed")
    if "torch" in sys.modules:
        parts.append(f"torch threads {sys.modules['torch'].get_num_threads()}")
    return "threads: " + "; ".join(parts)


def rounds(contenders, n_rounds, warmup=1):
    """{name: [seconds of each round]}: each contender (a no-argument callable; its wall time
    is measured) once per round, in an order rotated from round to round."""
    names = list(contenders)
    for nm in names:
        for _ in range(warmup):
            contenders[nm]()
    out = {nm: [] for nm in names}
    for r in range(n_rounds):
        k = r % len(names)
        for nm in names[k:] + names[:k]:
            t0 = time.perf_counter()
            contenders[nm]()
            out[nm].append(time.perf_counter() - t0)
    return out


def quantile(xs, q):
    """Linear-interpolated quantile of a list."""
    s = sorted(xs)
    if len(s) == 1:
        return s[0]
    pos = q * (len(s) - 1)
    i = int(pos)
    j = min(i + 1, len(s) - 1)
    return s[i] + (s[j] - s[i]) * (pos - i)


def ratio(times, base):
    """{median, lo, hi, n} of the per-round ratios times[i] / base[i] (lo, hi = q25, q75)."""
    rs = [a / b for a, b in zip(times, base, strict=True)]
    return {"median": statistics.median(rs), "lo": quantile(rs, 0.25), "hi": quantile(rs, 0.75),
            "n": len(rs)}


def verdict(r, target, higher_is_better=False):
    """`within target` / `over target` / `inconclusive` (target inside [lo, hi])."""
    if target is None:
        return ""
    if higher_is_better:
        return WITHIN if r["lo"] >= target else OVER if r["hi"] < target else INCONCLUSIVE
    return WITHIN if r["hi"] <= target else OVER if r["lo"] > target else INCONCLUSIVE


def fmt(r, digits=2):
    """'1.23 [1.20, 1.31]'."""
    return f"{r['median']:.{digits}f} [{r['lo']:.{digits}f}, {r['hi']:.{digits}f}]"


def row(name, r, target, higher_is_better=False, width=26, extra=""):
    """One table line: name, ratio [spread], target, verdict."""
    tgt = "" if target is None else (">= " if higher_is_better else "<= ") + f"{target:g}"
    v = verdict(r, target, higher_is_better)
    return f"  {name:<{width}} {fmt(r):>20} {tgt:>8}  {v:<13}{extra}"


def run_module(name, argv):
    """Import benchmarks.bench_<name> and call its main(argv); an int result is the exit code."""
    import importlib
    mod = importlib.import_module(f"benchmarks.bench_{name}")
    res = mod.main(argv)
    return res if isinstance(res, int) else 0
