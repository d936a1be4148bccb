"""Every lemma of GAM (CVPR 2023), GSAM (ICLR 2022) and GNP (ICML 2022), each checked against an
independent reference (eigvalsh / eigsh, brute force over the ball, autograd of a penalised loss,
finite differences of the exact R1, the theorems' explicit bounds), with its tolerance and verdict.

    >>> data = gamtoy.lemmas.compute_all(quick=True)      # numbers and arrays, one dict per claim
    >>> rows = gamtoy.lemmas.lemma_table(data=data)       # claim, paper, reference, measured, ...
    >>> gamtoy.lemmas.reproduce("figures/")               # lemmas.md + PNG plots

Each claim is one `Check` record (`_check.Check`: key, claim, paper and equation, reference,
compute, judge, plot) next to its compute function in `gam`, `gnp`, `gsam`, `saddle`,
`convergence`, `reductions`; plots in `plots`. `CHECKS` lists them in the table's order.
Identities (true by construction: a quadratic's R1, alpha-reductions that hold by code) are kept
as illustrations and labelled "identity"; they are not evidence.
"""
import os

from ._check import FINDING, LOOSE, TOL, Check, order_ok
from .convergence import CHECKS as _CONVERGENCE
from .convergence import NoisyOracle, bound_gam, bound_gsam, convergence, convergence_check
from .gam import CHECKS as _GAM
from .gam import (
    accel_direction,
    accel_theta_adv,
    eq13_angle,
    eq15_failure_map,
    eq15_h_norm,
    eq38_fd,
    gnp_fd,
    lemma41_2d,
    lemma41_degradation,
    lemma41_minima,
    lemma41_mlp,
    lemma41_nd,
    prop42,
    prop42_checks,
)
from .gnp import CHECKS as _GNP
from .gnp import gnp_penalised
from .gsam import CHECKS as _GSAM
from .gsam import gsam_geometry, lemma31, lemma32, lemma32_at_limit, lemma33, sam_ascent_point
from .plots import (
    plot_convergence_bound,
    plot_eq13_angle,
    plot_eq15,
    plot_eq15_failure,
    plot_finite_difference,
    plot_gnp,
    plot_gsam_geometry,
    plot_lemma32,
    plot_lemma32_map,
    plot_lemma33,
    plot_lemma41_minima,
    plot_prop42,
    plot_ridge_saddle,
    plot_saddle_map,
    plot_sam_point,
)
from .reductions import CHECKS as _REDUCTIONS
from .reductions import reductions
from .saddle import CHECKS as _SADDLE
from .saddle import predict_attracts, ridge_saddle, saddle_check

# every check, in the table's order; a new check is one `Check` record next to its compute
# function, in its module's CHECKS
CHECKS = _GAM + _GNP + _REDUCTIONS + _GSAM + _SADDLE + _CONVERGENCE


def _computes(checks=CHECKS):
    """{data key: fn(quick)} over the checks (a key shared by two checks is computed once)."""
    out = {}
    for c in checks:
        out.update(c.compute)
    return out


def compute_all(quick=True, data=None):
    """Run every check's compute functions; `quick` uses smaller grids and shorter runs (the same
    claims). `data`: results already computed (kept; only the missing keys are computed)."""
    return _complete(quick, data)


def _complete(quick, data):
    import numpy as np
    out = dict(data or {})
    for key, fn in _computes().items():
        if key not in out:
            out[key] = fn(quick)
    out.setdefault("rhos_quick", np.asarray(quick))
    return out


def lemma_table(quick=True, data=None):
    """Rows (dicts: key, claim, reference (paper & eq.), against (the independent reference),
    measured, tolerance, verdict ("holds", "FAILS", "identity", "finding", "not
    discriminating", "inconclusive", "not checked"), holds), one per `Check` in CHECKS. Keys
    missing from `data` are computed."""
    d = _complete(quick, data)
    return [c.row(d) for c in CHECKS]


def to_markdown(rows):
    """The table as GitHub markdown."""
    cols = ("claim", "reference", "against", "measured", "tolerance", "verdict")
    out = ["| claim | paper | compared against | measured | tolerance | verdict |",
           "|---|---|---|---|---|---|"]
    out += ["| " + " | ".join(str(r[c]).replace("|", "\\|") for c in cols) + " |" for r in rows]
    return "\n".join(out) + "\n"


def _figures(data):
    """(stem, draw()) for every check's figure."""
    return tuple((c.plot[0], (lambda draw: lambda: draw(data))(c.plot[1]))
                 for c in CHECKS if c.plot)


def reproduce(out_dir, quick=True):
    """Write `lemmas.md` (the table) and the lemma plots (PNG + SVG, `figures.style`) to out_dir;
    return the paths of lemmas.md and the PNGs."""
    from .. import _io
    from ..figures import style
    os.makedirs(out_dir, exist_ok=True)
    data = compute_all(quick)
    rows = lemma_table(quick, data)
    md = os.path.join(out_dir, "lemmas.md")
    _io.write_text(md, "# Lemmas, numerically (`gamtoy.lemmas`)\n\n"
                   "Each claim is compared against an independent reference; rows marked "
                   "`identity` hold by construction and are illustrations, `finding` rows report "
                   "where the toy departs from a first-order approximation, `not discriminating` "
                   "rows hold by a margin too wide to tell a right quantity from a wrong one (not "
                   "a verification), `not checked` rows say why.\n\n"
                   + to_markdown(rows))
    paths = [md]
    with style.context():
        for stem, draw in _figures(data):
            fig = draw()
            fig.tight_layout()
            paths.append(style.save(fig, out_dir, stem)[0])
    return paths


__all__ = ["compute_all", "lemma_table", "to_markdown", "reproduce", "order_ok", "lemma41_2d",
           "lemma41_nd", "lemma41_minima", "lemma41_mlp", "lemma41_degradation", "prop42",
           "prop42_checks", "eq13_angle", "eq15_h_norm", "eq15_failure_map", "eq38_fd",
           "accel_theta_adv", "gnp_fd", "gnp_penalised", "reductions", "gsam_geometry",
           "sam_ascent_point", "lemma31", "lemma32", "lemma33", "convergence",
           "convergence_check", "bound_gam", "bound_gsam", "NoisyOracle", "TOL", "CHECKS", "Check",
           "lemma32_at_limit", "accel_direction", "predict_attracts", "saddle_check",
           "ridge_saddle", "FINDING", "LOOSE", "plot_convergence_bound", "plot_eq13_angle",
           "plot_eq15", "plot_eq15_failure", "plot_finite_difference", "plot_gnp",
           "plot_gsam_geometry", "plot_lemma32", "plot_lemma32_map", "plot_lemma33",
           "plot_lemma41_minima", "plot_prop42", "plot_ridge_saddle", "plot_saddle_map",
           "plot_sam_point"]
