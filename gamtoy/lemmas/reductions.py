"""Special cases the papers state: GNP alpha=1 is SAM (GNP Alg. 1), GSAM alpha=0 is SAM (GSAM
Alg. 1), GAM alpha=0 is its base optimizer (GAM Eq. 7). Compared on whole trajectories."""
import numpy as np

from ..run import run

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
