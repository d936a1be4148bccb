"""Special cases the papers state: GNP alpha=1 is SAM (GNP Alg. 1), GSAM alpha=0 is SAM (GSAM
Alg. 1), GAM alpha=0 is its base optimizer (GAM Eq. 7). Compared on whole trajectories."""
import numpy as np

from ..run import run
from ._check import TOL, Check

PAIRS = ((("gnp", dict(alpha=1.0, rho=0.05)), ("sam", dict(rho=0.05))),
         (("gsam", dict(alpha=0.0, rho=0.05)), ("sam", dict(rho=0.05))),
         (("gam", dict(alpha=0.0, rho=0.1)), ("sgd", {})),
         (("gam", dict(alpha=0.0, rho=0.1, base="momentum")), ("momentum", {})))


def reductions(landscape="ridge", steps=100, n=25, lr=0.02, seed=0):
    """max |difference| between the trajectories of each pair in PAIRS from n seeded starts."""
    rng = np.random.default_rng(seed)
    S = rng.uniform([-3, -1.5], [3.5, 1.5], size=(n, 2))
    out = {}
    for (a, ha), (b, hb) in PAIRS:
        A = run(a, landscape, S, steps, lr=lr, **ha).points
        B = run(b, landscape, S, steps, lr=lr, **hb).points
        key = f"{a}({', '.join(f'{k}={v}' for k, v in ha.items())}) = {b}"
        out[key] = float(np.max(np.abs(A - B)))
    return out


def _judge(d):
    red = max(d["reductions"].values())
    return (f"max |diff| = {red:.1e}", f"<= {TOL['reduction']:g}",
            "identity" if red <= TOL["reduction"] else "FAILS")


CHECKS = (
    Check("reductions", "GNP(alpha=1) = SAM, GSAM(alpha=0) = SAM, GAM(alpha=0) = base "
          "(trajectories)", "GNP Alg. 1, GSAM Alg. 1, GAM Eq. 7",
          "the other optimizer (same code path)",
          {"reductions": lambda quick: reductions(steps=50 if quick else 100,
                                                  n=9 if quick else 25)},
          _judge),
)
