"""Exercise for notebook 00 (start here): SAM's first-order ascent point.

    w_adv = theta + rho g/(|g| + xi),   g = grad L(theta)            (GSAM Eq. 3)

`check_w_adv(fn)`: fn(L, theta, rho, xi=1e-12) -> w_adv, shape (2,), with L a gamtoy Landscape.
Compared with `gamtoy.flatness.sam_point` on three landscapes.
"""
import numpy as np

from .. import flatness as _F
from .. import landscapes as _landscapes
from ._check import call, match, passed, tier_all

__all__ = ["check_w_adv"]

CASES = (("fig1a", (1.0, 0.7), 0.3), ("ridge", (-2.9, 1.5), 0.17), ("quadratic", (0.5, -1.2), 0.4))


def check_w_adv(fn):
    """Check `fn(L, theta, rho, xi=1e-12) -> theta + rho g/(|g| + xi)` (GSAM Eq. 3)."""
    for land, theta, rho in CASES:
        L = _landscapes.get(land)
        th = np.array(theta, float)
        name = f"w_adv (on {land} at theta={theta}, rho={rho})"
        got = call(name, fn, L, th.copy(), rho)
        g = L.grad(th)
        u = g / np.linalg.norm(g)
        hints = ((th - rho * u, "sign: the ascent point goes uphill from theta, along +g; you went "
                                "downhill."),
                 (th + rho * g, "normalise g: the ascent point must be exactly rho away from theta "
                                "(|w_adv - theta| = rho)."),
                 (rho * u, "you returned the step from theta, not the point: add theta."),
                 (th + u, "the radius rho is missing: your point is 1 away from theta, not rho."))
        match(name, got, _F.sam_point(L, th, rho), hints)
    return passed("w_adv")


tier_all(globals(), __all__)  # tiered hints; the student's own exception named
