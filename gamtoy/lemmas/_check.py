"""The `Check` record every lemma row is made of, the tolerances and the verdict helpers.

A check names its claim, the paper and equation, the independent reference, the compute
functions it needs (data key -> fn(quick)), a judge (data -> measured, tolerance, verdict) and
optionally a figure (stem, draw(data) -> fig). `gamtoy.lemmas` loops over the records.
"""
from collections.abc import Callable
from dataclasses import dataclass, field

# Tolerances, each derived from the theory it checks (the tests pin these values: loosening one
# makes a test fail):
#   order:  a fitted log-log slope must lie within 1/4 of the order the Taylor expansion predicts
#           (an integer p): it rejects the neighbouring orders p +- 1 and a half-order floor.
#   bound:  measured / theoretical bound <= 1 (Taylor remainders, Lemma 3.2's rho M/2, the
#           theorems' constants); no slack.
#   prop42: R1 >= R0_upper (1 - 1e-9): R0_upper is the brute-force R0 plus its error bound
#           (`gam.r0_brute`), so the grid's error cannot favour passing; 1e-9 is R1's round-off.
#   identity: round-off (1e-6 relative for a quadratic's ball search, 1e-12 for trajectories).
#   lemma33_small: 2h/rho^2 within 1% of sigma_max at rho = 0.01 (O(rho) with a constant <= 1).
#   loose: a bound more than this many times the measurement cannot tell a right quantity from
#          a wrong one of the same size (the convergence rows): "not discriminating".
TOL = dict(order=0.25, bound=1.0, prop42=1e-9, lemma41=1e-6, lemma41_nd=1e-8, reduction=1e-12,
           lemma33_small=0.01, finding_angle_deg=60.0, finding_ratio=0.5, loose=3.0)

FINDING = "finding"
LOOSE = "not discriminating"
VERDICTS = ("holds", "FAILS", "identity", FINDING, LOOSE, "inconclusive", "not checked")


@dataclass(frozen=True)
class Check:
    """One claim: key, claim (str or fn(data) -> str), paper and equation, the independent
    reference, compute ({data key: fn(quick) -> dict}), judge (fn(data) -> (measured,
    tolerance, verdict: bool or a word of VERDICTS)) and plot ((stem, fn(data) -> fig) or None)."""
    key: str
    claim: object
    paper: str
    reference: str
    compute: dict
    judge: Callable
    plot: tuple = None
    extra: dict = field(default_factory=dict)

    def row(self, data):
        """The table row (claim, reference, against, measured, tolerance, verdict, holds)."""
        measured, tol, verdict = self.judge(data)
        claim = self.claim(data) if callable(self.claim) else self.claim
        if isinstance(verdict, bool) or hasattr(verdict, "dtype"):
            verdict = "holds" if bool(verdict) else "FAILS"
        if verdict not in VERDICTS:
            raise ValueError(f"check {self.key!r}: unknown verdict {verdict!r}")
        return dict(key=self.key, claim=claim, reference=self.paper, against=self.reference,
                    measured=measured, tolerance=tol, verdict=verdict, holds=verdict != "FAILS")


def order_ok(slope, order, tol=None):
    """|fitted order - predicted order| <= TOL['order']."""
    return abs(slope - order) <= (TOL["order"] if tol is None else tol)


def orders(per, key="slope"):
    """'name slope, ...' for a dict of per-case results."""
    return ", ".join(f"{n} {v[key]:.2f}" for n, v in per.items())


def all_orders(per, key="slope", order="order"):
    """Every case's fitted order within TOL['order'] of its predicted order (a key or a number)."""
    return all(order_ok(v[key], v[order] if isinstance(order, str) else order)
               for v in per.values())


def figure(plot, key, size=(6, 4.2), n=1, **kw):
    """A draw(data) -> fig for plot(data[key], ax or axs)."""
    def draw(data):
        import matplotlib.pyplot as plt
        fig, axs = plt.subplots(1, n, figsize=size)
        plot(data[key], axs, **kw) if n > 1 else plot(data[key], ax=axs, **kw)
        return fig
    return draw
