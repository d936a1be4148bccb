"""Population statistics for verdicts: intervals on fractions and on paired differences, the
verdict.

A demo's verdict is a statistic over starts or seeds with a 95% interval: `reproduces` when the
interval lies on the paper's side of 0, `contradicts` on the other side, `inconclusive` when it
covers 0. Each interval's coverage is measured by simulation in tests/test_stats.py:

- a fraction k/n: the Wilson score interval (`wilson`);
- the difference of two fractions from independent samples: Newcombe's hybrid score interval
  (Newcombe 1998, Stat. Med. 17:873, method 10; `fraction_diff`);
- the difference of two fractions over the SAME starts (paired binary outcomes, e.g. two optimizers
  run from one grid of starts): Newcombe's square-and-add interval for paired data (Newcombe 1998,
  Stat. Med. 17:2635, method 10; `paired_fraction_diff`);
- the mean of paired per-seed differences d_s = a_s - b_s: the Student t interval on the d_s
  (`paired`). Chosen by simulation (`coverage`: 4000 simulated experiments per case, seed 0;
  nominal 95%; tests/test_stats.py repeats it):

      seeds  differences  Student t  percentile bootstrap  BCa    sign-flip permutation
      5      normal         0.949      0.842                 0.846  1.000 (unbounded: 2^5 flips)
      5      t(3)           0.963      0.831                 0.815  1.000 (unbounded)
      8      normal         0.952      0.889                 0.886  0.958
      8      t(3)           0.963      0.871                 0.846  0.953

  On skewed differences every method covers less than it claims. Student t on lognormal(0, 1)
  differences: 0.83 at 5 seeds, 0.84 at 8; on exponential ones 0.88 and 0.89 (BCa 0.75-0.86,
  percentile 0.72-0.84, sign-flip at 8 seeds 0.85-0.90). A verdict from few seeds whose per-seed
  differences are skewed is less sure than its stated 95%.
"""
from __future__ import annotations

import itertools
import warnings

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as _st

from .neighbourhood import over_cells as over_cells  # the public name, kept here

Z95 = 1.959963984540054
PAIRED_METHOD = "Student t"        # the interval `paired` computes, as the tables name it
PAIRED_FRACTION_METHOD = "Newcombe paired (method 10)"
LEVEL = 0.95


def _z(level):
    return float(_st.norm.ppf(0.5 + level / 2))


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval (lo, hi) for a fraction k/n (n > 0, 0 <= k <= n)."""
    if n <= 0:
        raise ValueError(f"wilson needs n > 0, got n={n}")
    if not 0 <= k <= n:
        raise ValueError(f"wilson needs 0 <= k <= n, got k={k}, n={n}")
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return float(max(0.0, mid - half)), float(min(1.0, mid + half))


def bootstrap_ci(x: ArrayLike, stat=np.mean, n_boot: int = 2000, level: float = LEVEL,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval (lo, hi) of stat(x) over the first axis of x.

    Not used for verdicts: at 5-8 samples it covers 84-89% for a nominal 95% (module docstring)."""
    x = np.asarray(x, float)
    if x.shape[0] < 2:
        raise ValueError(f"bootstrap needs at least 2 samples, got {x.shape[0]}")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.shape[0], (n_boot, x.shape[0]))
    s = np.array([stat(x[i]) for i in idx])
    a = (1 - level) / 2
    return float(np.quantile(s, a)), float(np.quantile(s, 1 - a))


def t_interval(d: ArrayLike, level: float = LEVEL):
    """Student t interval of mean(d) over the last axis: (mean, lo, hi), each of d's leading shape.

    mean -+ t_{n-1, (1+level)/2} sd / sqrt(n). All-equal differences (sd = 0) give lo = hi = mean,
    the interval's limit as the spread goes to 0."""
    d = np.asarray(d, float)
    n = d.shape[-1]
    m = d.mean(-1)
    half = _st.t.ppf(0.5 + level / 2, n - 1) * d.std(-1, ddof=1) / np.sqrt(n)
    return m, m - half, m + half


def paired(a: ArrayLike, b: ArrayLike, level: float = LEVEL) -> dict:
    """Paired difference a - b (same seed, data, init): {"mean", "lo", "hi", "n", "sd", "method",
    "level"}, with the Student t interval of mean(a - b) (`t_interval`).

    Needs n >= 2 finite pairs. All-equal differences: lo = hi = mean (zero spread over the seeds),
    so the verdict is the sign of the mean, `inconclusive` when it is 0."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape:
        raise ValueError(f"paired samples need equal shapes, got {a.shape} and {b.shape}")
    d = (a - b).ravel()
    if d.size < 2:
        raise ValueError(f"a paired interval needs at least 2 pairs, got {d.size}")
    if not np.all(np.isfinite(d)):
        raise ValueError(f"paired samples must be finite, got differences {d}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    m, lo, hi = t_interval(d, level)
    return {"mean": float(m), "lo": float(lo), "hi": float(hi), "n": int(d.size),
            "sd": float(d.std(ddof=1)), "method": PAIRED_METHOD, "level": level}


def signflip_interval(d, level=LEVEL):
    """Sign-flip permutation interval of mean(d) over the last axis: (lo, hi), each of d's leading
    shape. It inverts the exact one-sided sign-flip tests: the bounds are the k-th smallest and
    largest of the 2^n - 1 subset means of d, k = floor((1 - level)/2 2^n) (Hartigan 1969);
    (-inf, inf) when k = 0 (n = 5 at 95%: no flip pattern is rare enough)."""
    d = np.asarray(d, float)
    n = d.shape[-1]
    k = int(np.floor((1 - level) / 2 * 2 ** n))
    if k < 1:
        return np.full(d.shape[:-1], -np.inf), np.full(d.shape[:-1], np.inf)
    S = np.array(list(itertools.product((0.0, 1.0), repeat=n)))[1:]
    means = np.sort(np.moveaxis(d @ S.T / S.sum(1), -1, 0), axis=0)
    return means[k - 1], means[-k]


def bca_interval(d, level=LEVEL, n_resamples=2000, seed=0):
    """BCa bootstrap interval of mean(d) over the last axis (`scipy.stats.bootstrap`): (lo, hi)."""
    with warnings.catch_warnings():   # degenerate resamples at small n warn; the interval stays
        warnings.simplefilter("ignore")
        r = _st.bootstrap((np.asarray(d, float),), np.mean, axis=-1, vectorized=True,
                          method="BCa", confidence_level=level, n_resamples=n_resamples,
                          batch=200, random_state=np.random.default_rng(seed))
    return r.confidence_interval.low, r.confidence_interval.high


def percentile_interval(d, level=LEVEL, n_resamples=2000, seed=0):
    """Percentile bootstrap interval of mean(d) over the last axis, vectorised: (lo, hi)."""
    d = np.asarray(d, float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, d.shape[-1], (n_resamples, d.shape[-1]))
    s = d[..., idx].mean(-1)
    a = (1 - level) / 2
    return np.quantile(s, a, axis=-1), np.quantile(s, 1 - a, axis=-1)


# the per-seed differences the coverage simulation draws: (sampler, true mean)
DISTRIBUTIONS = {
    "normal": (lambda rng, size: rng.normal(0.3, 1.0, size), 0.3),
    "t3": (lambda rng, size: rng.standard_t(3, size), 0.0),
    "lognormal": (lambda rng, size: rng.lognormal(0.0, 1.0, size), float(np.exp(0.5))),
    "exponential": (lambda rng, size: rng.exponential(1.0, size), 1.0),
}
INTERVALS = {"t": lambda d, level: t_interval(d, level)[1:], "signflip": signflip_interval,
             "bca": bca_interval, "percentile": percentile_interval}


def coverage(method: str, n: int, dist: str, n_sim: int = 4000, level: float = LEVEL,
             seed: int = 0) -> float:
    """The fraction of `n_sim` simulated experiments (n differences each from `dist`, a key of
    `DISTRIBUTIONS`) whose `method` interval (a key of `INTERVALS`) covers the true mean."""
    draw, mu = DISTRIBUTIONS[dist]
    d = draw(np.random.default_rng(seed), (n_sim, n))
    lo, hi = INTERVALS[method](d, level)
    return float(np.mean((lo <= mu) & (mu <= hi)))


def verdict(lo: float, hi: float, expected_sign: int) -> str:
    """'reproduces' if the interval lies on the paper's side of 0 (expected_sign +1 or -1),
    'contradicts' if it lies on the other side, 'inconclusive' if it covers 0 (an end point at
    exactly 0 covers it)."""
    if expected_sign not in (1, -1):
        raise ValueError(f"expected_sign must be +1 or -1, got {expected_sign}")
    if np.isnan(lo) or np.isnan(hi) or lo > hi:
        raise ValueError(f"verdict needs an interval lo <= hi, got ({lo}, {hi})")
    if lo > 0:
        return "reproduces" if expected_sign > 0 else "contradicts"
    if hi < 0:
        return "reproduces" if expected_sign < 0 else "contradicts"
    return "inconclusive"


def fraction_diff(k1: int, n1: int, k2: int, n2: int, z: float = Z95) -> dict:
    """Difference of two fractions k1/n1 - k2/n2 from INDEPENDENT samples with Newcombe's hybrid
    score (Wilson-based) 95% interval (Newcombe 1998, Stat. Med. 17:873, method 10)."""
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1, z)
    l2, u2 = wilson(k2, n2, z)
    d = p1 - p2
    lo = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return {"mean": float(d), "lo": float(lo), "hi": float(hi), "method": "Newcombe (unpaired)"}


def _wilson_v(p, n, z):
    """`wilson` of the fraction p of n, vectorised: (lo, hi)."""
    mid = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return mid - half, mid + half


def newcombe_paired(a: ArrayLike, b: ArrayLike, c: ArrayLike, d: ArrayLike,
                    z: float = Z95):
    """Newcombe's interval (Stat. Med. 17:2635, 1998, method 10) for p1 - p2 from a paired 2x2
    table: a both succeed, b only the first, c only the second, d neither. Returns (D, lo, hi);
    vectorised.

    The Wilson intervals (l_i, u_i) of p1 = (a+b)/n and p2 = (a+c)/n are squared and added with
    the correlation phi of the pairs: lo = D - sqrt((p1-l1)^2 - 2 phi (p1-l1)(u2-p2) + (u2-p2)^2),
    hi likewise; phi = (ad - bc - n/2)/sqrt(margins) when ad - bc > n/2, 0 when 0 <= ad - bc <= n/2,
    (ad - bc)/sqrt(margins) when negative, and 0 when a margin is empty."""
    a, b, c, d = (np.asarray(v, float) for v in (a, b, c, d))
    n = a + b + c + d
    p1, p2 = (a + b) / n, (a + c) / n
    (l1, u1), (l2, u2) = _wilson_v(p1, n, z), _wilson_v(p2, n, z)
    marg = (a + b) * (c + d) * (a + c) * (b + d)
    A = a * d - b * c
    num = np.where(A > n / 2, A - n / 2, np.where(A >= 0, 0.0, A))
    phi = np.divide(num, np.sqrt(marg), out=np.zeros_like(num), where=marg > 0)
    D = p1 - p2
    lo = D - np.sqrt((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2)
    hi = D + np.sqrt((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2)
    return D, lo, hi


def paired_fraction_diff(x1: ArrayLike, x2: ArrayLike, z: float = Z95) -> dict:
    """Difference of two fractions over the SAME runs, mean(x1) - mean(x2), x1, x2: one boolean
    per run (e.g. "ends flat" for two optimizers from the same starts), with Newcombe's paired
    interval (`newcombe_paired`). {"mean", "lo", "hi", "n", "b", "c", "method"}; b, c: the
    discordant runs (only x1, only x2)."""
    x1, x2 = np.asarray(x1), np.asarray(x2)
    if x1.shape != x2.shape or x1.ndim != 1 or x1.size == 0:
        raise ValueError(f"paired outcomes need two equal 1-d arrays, got {x1.shape}, {x2.shape}")
    if x1.dtype != bool or x2.dtype != bool:
        raise ValueError(f"paired outcomes must be boolean arrays, got {x1.dtype}, {x2.dtype}")
    a, b = int(np.sum(x1 & x2)), int(np.sum(x1 & ~x2))
    c, d = int(np.sum(~x1 & x2)), int(np.sum(~x1 & ~x2))
    D, lo, hi = newcombe_paired(a, b, c, d, z)
    return {"mean": float(D), "lo": float(lo), "hi": float(hi), "n": int(x1.size), "b": b, "c": c,
            "method": PAIRED_FRACTION_METHOD}


def fmt(est: float, lo: float, hi: float, digits: int = 3) -> str:
    """'0.670 [0.623, 0.714]'."""
    return f"{est:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"

