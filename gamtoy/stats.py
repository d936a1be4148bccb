"""Population statistics for verdicts: intervals on fractions, paired bootstrap, the verdict word.

A demo's verdict is a statistic over starts or seeds with a 95% interval; "inconclusive" when the
interval covers zero (or, for a fraction comparison, the two intervals' difference does).
"""
import numpy as np

Z95 = 1.959963984540054


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval (lo, hi) for a fraction k/n (n > 0)."""
    if n <= 0:
        raise ValueError(f"wilson needs n > 0, got n={n}")
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return float(max(0.0, mid - half)), float(min(1.0, mid + half))


def bootstrap_ci(x: "np.typing.ArrayLike", stat=np.mean, n_boot: int = 2000,
                 level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval (lo, hi) of stat(x) over the first axis of x."""
    x = np.asarray(x, float)
    if x.shape[0] < 2:
        raise ValueError(f"bootstrap needs at least 2 samples, got {x.shape[0]}")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.shape[0], (n_boot, x.shape[0]))
    s = np.array([stat(x[i]) for i in idx])
    a = (1 - level) / 2
    return float(np.quantile(s, a)), float(np.quantile(s, 1 - a))


def paired(a: "np.typing.ArrayLike", b: "np.typing.ArrayLike", n_boot: int = 2000,
           seed: int = 0) -> dict:
    """Paired difference a - b (same seed, data, init): {"mean", "lo", "hi", "n"} with a bootstrap CI."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape:
        raise ValueError(f"paired samples need equal shapes, got {a.shape} and {b.shape}")
    d = a - b
    lo, hi = bootstrap_ci(d, n_boot=n_boot, seed=seed)
    return {"mean": float(d.mean()), "lo": lo, "hi": hi, "n": int(d.size)}


def verdict(lo: float, hi: float, expected_sign: int) -> str:
    """'reproduces' if the interval lies on the paper's side of 0 (expected_sign +1 or -1),
    'contradicts' if it lies on the other side, 'inconclusive' if it covers 0."""
    if expected_sign not in (1, -1):
        raise ValueError(f"expected_sign must be +1 or -1, got {expected_sign}")
    if lo > 0:
        return "reproduces" if expected_sign > 0 else "contradicts"
    if hi < 0:
        return "reproduces" if expected_sign < 0 else "contradicts"
    return "inconclusive"


def fraction_diff(k1: int, n1: int, k2: int, n2: int, z: float = Z95) -> dict:
    """Difference of two fractions k1/n1 - k2/n2 with a Newcombe (Wilson-based) 95% interval."""
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1, z)
    l2, u2 = wilson(k2, n2, z)
    d = p1 - p2
    lo = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return {"mean": float(d), "lo": float(lo), "hi": float(hi)}


def fmt(est: float, lo: float, hi: float, digits: int = 3) -> str:
    """'0.670 [0.623, 0.714]'."""
    return f"{est:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def over_cells(words) -> dict:
    """A claim's verdict over the cells of a neighbourhood of settings (words[0]: the centre cell).

    {"verdict", "centre", "k", "n", "text"}: `verdict` is the centre's word when every cell agrees
    (a headline, text 'reproduces; holds in 5/5 cells'), else 'mixed' (text 'mixed: inconclusive
    at the centre, same in 3/5 cells (1 reproduce, 3 inconclusive, 1 contradict)')."""
    words = list(words)
    if not words:
        raise ValueError("over_cells needs the verdict of at least one cell, got none")
    n, centre = len(words), words[0]
    k = words.count(centre)
    if k == n:
        return {"verdict": centre, "centre": centre, "k": k, "n": n,
                "text": f"{centre}; holds in {k}/{n} cells"}
    c = {w: words.count(w) for w in ("reproduces", "inconclusive", "contradicts")}
    return {"verdict": "mixed", "centre": centre, "k": k, "n": n,
            "text": f"mixed: {centre} at the centre, same in {k}/{n} cells ({c['reproduces']} "
                    f"reproduce, {c['inconclusive']} inconclusive, {c['contradicts']} contradict)"}
