"""Every lemma of GAM (CVPR 2023), GSAM (ICLR 2022) and GNP's finite-difference HVP, numerically.

    >>> data = gamtoy.lemmas.compute_all(quick=True)      # numbers and arrays, one dict per claim
    >>> rows = gamtoy.lemmas.lemma_table(data=data)  # claim, reference, measured, tolerance, holds
    >>> gamtoy.lemmas.reproduce("figures/")               # lemmas.md + PNG plots

Compute functions live in `gam`, `gsam`, `convergence`, `reductions`; plots in `plots`.
"""
import os

from .convergence import NoisyOracle, convergence
from .gam import (accel_theta_adv, eq13_angle, eq38_fd, gnp_fd, lemma41_2d, lemma41_degradation,
                  lemma41_nd, prop42)
from .gsam import lemma31, lemma32, lemma33
from .plots import (plot_convergence, plot_eq13_angle, plot_finite_difference, plot_lemma32,
                    plot_lemma32_map, plot_lemma33, plot_lemma41, plot_prop42)
from .reductions import reductions

# tolerances stated in the table, the notebook and the tests
TOL = dict(lemma41=1e-6, lemma41_nd=1e-8, order_min=0.8, prop42=1e-9, slope=(0.8, 1.2),
           fd_slope=(0.9, 1.1), reduction=1e-12, conv_slope=0.15, lemma33_small=0.01)


def compute_all(quick=True):
    """Run every check; `quick` uses smaller grids and shorter runs (the same claims)."""
    return dict(
        lemma41_2d=lemma41_2d(), lemma41_nd=lemma41_nd(n=50 if quick else 200),
        lemma41_deg=lemma41_degradation(),
        prop42=prop42(n=12 if quick else 24, rhos=(0.05, 0.5) if quick else (0.05, 0.25, 0.5)),
        eq13=eq13_angle(), eq38=eq38_fd(), accel=accel_theta_adv(), gnp=gnp_fd(),
        reductions=reductions(), lemma31=lemma31(), lemma32=lemma32(n=30 if quick else 60),
        lemma33=lemma33(),
        conv=convergence(T=1000 if quick else 4000, starts=32 if quick else 64, sigma=10.0),
        conv_exact=convergence(T=1000 if quick else 4000, starts=32 if quick else 64, sigma=0.0))


def _slopes(d, key="slope"):
    return ", ".join(f"{n} {v[key]:.2f}" for n, v in d.items() if v.get(key) is not None)


def _row(claim, ref, measured, tol, holds):
    return dict(claim=claim, reference=ref, measured=measured, tolerance=tol, holds=bool(holds))


def lemma_table(quick=True, data=None):
    """Rows (dicts: claim, reference, measured, tolerance, holds), one per claim checked."""
    d = compute_all(quick) if data is None else data
    lo, hi = TOL["slope"]
    flo, fhi = TOL["fd_slope"]
    deg = d["lemma41_deg"]
    l32, l31, l33 = d["lemma32"], d["lemma31"], d["lemma33"]
    conv, conv0 = d["conv"]["per"], d["conv_exact"]["per"]
    eq13_small = max(float(v["median"][0]) for v in d["eq13"].values())
    red = max(d["reductions"].values())
    l33_nq = {n: v for n, v in l33.items() if n != "quadratic"}
    return [
        _row("lambda_max = R1/rho^2 at a quadratic minimum (2D, 4 quadratics x 4 rho)",
             "GAM Lemma 4.1, Eq. 4", f"max rel. err {d['lemma41_2d']['max_rel_err']:.1e}",
             f"<= {TOL['lemma41']:g}", d["lemma41_2d"]["max_rel_err"] <= TOL["lemma41"]),
        _row(f"lambda_max = R1/rho^2, n = {d['lemma41_nd']['n']} quadratic (projected ascent)",
             "GAM Lemma 4.1, Eq. 18", f"rel. err {d['lemma41_nd']['rel_err']:.1e}",
             f"<= {TOL['lemma41_nd']:g}", d["lemma41_nd"]["rel_err"] <= TOL["lemma41_nd"]),
        _row("off quadratics, |R1/rho^2 - lambda_max| = O(rho) at minima (fitted order)",
             "GAM Lemma 4.1 (Taylor)", _slopes(deg), f">= {TOL['order_min']}",
             all(v["slope"] >= TOL["order_min"] for v in deg.values())),
        _row("R1 >= R0 at every grid point of every built-in landscape",
             "GAM Prop. 4.2", f"min R1/R0 = {d['prop42']['min_ratio']:.4f}",
             f">= 1 - {TOL['prop42']:g}", d["prop42"]["min_ratio"] >= 1 - TOL["prop42"]),
        _row("angle(first-order theta_adv, exact argmax |grad L|) = O(rho)",
             "GAM Eq. 13, 15", _slopes(d["eq13"]) + f"; angle at rho=1e-3 <= {eq13_small:.1e}",
             f"slope in [{lo}, {hi}]", all(lo <= v["slope"] <= hi for v in d["eq13"].values())),
        _row("finite-difference grad|grad L| error = O(rho')", "GAM App. D, Eq. 38",
             _slopes(d["eq38"]), f"slope in [{flo}, {fhi}]",
             all(flo <= v["slope"] <= fhi for v in d["eq38"].values())),
        _row("Alg. 2's theta_adv -> Alg. 1's theta_adv at O(rho')", "GAM Alg. 2, Eq. 39",
             f"slope {d['accel']['slope']:.2f}", f"in [{flo}, {fhi}]",
             flo <= d["accel"]["slope"] <= fhi),
        _row("(g(theta + r v) - g(theta))/r = H v + O(r)", "GNP, Hessian-vector product",
             _slopes(d["gnp"]), f"slope in [{flo}, {fhi}]",
             all(flo <= v["slope"] <= fhi for v in d["gnp"].values())),
        _row("GNP(alpha=1) = SAM, GSAM(alpha=0) = SAM, GAM(alpha=0) = base (100-step trajectories)",
             "GNP Alg. 1, GSAM Alg. 1, GAM Eq. 7", f"max |diff| = {red:.1e}",
             f"<= {TOL['reduction']:g} (round-off)",
             red <= TOL["reduction"]),
        _row("f_p(w1) <= f_p(w2) but sigma_max(w1) > sigma_max(w2) (gsam_fig1)", "GSAM Lemma 3.1",
             f"f_p = {l31['f_p'][0]:.3f} <= {l31['f_p'][1]:.3f}; sigma = {l31['sigma_max'][0]:.1f} "
             f"> {l31['sigma_max'][1]:.1f}", "exact", l31["fp_le"] and l31["sigma_gt"]),
        _row("first-order h >= 0 for small rho (grids, 6 landscapes)", "GSAM Lemma 3.2",
             f"fraction h<0 at rho=1e-3: {l32['frac_at_smallest_rho']:.0%}; first failing rho: "
             + ", ".join(f"{n} {v['first_failing_rho']:.2g}" for n, v in l32["per"].items()
                         if v["first_failing_rho"] is not None), "0 at rho = 1e-3",
             l32["frac_at_smallest_rho"] == 0),
        _row("h < 0 only where |g| < rho M/2 (near critical points)", "GSAM Lemma 3.2 (bound)",
             f"max |g|/(rho M/2) over failures = {l32['max_bound_ratio']:.2f}", "<= 1",
             l32["max_bound_ratio"] <= 1),
        _row("sigma_max = 2h/rho^2 + O(rho) at minima (fitted order; exact on quadratic)",
             "GSAM Lemma 3.3", _slopes(l33_nq) + "; rel. err at rho=0.01 <= "
             f"{max(v['rel_err'][0] for v in l33_nq.values()):.1e}",
             f"order >= {TOL['order_min']} (himmelblau, rastrigin); err < {TOL['lemma33_small']}",
             all(l33[n]["slope"] >= TOL["order_min"] for n in ("himmelblau", "rastrigin"))
             and all(v["rel_err"][0] < TOL["lemma33_small"] for v in l33_nq.values())),
        _row(f"avg_T E|grad|^2 ~ log T/sqrt(T), noisy gradients (sigma={d['conv']['sigma']:g}, "
             f"{d['conv']['landscape']})", "GAM Thm 4.4, GSAM Thm 5.1",
             "slopes " + _slopes(conv), f"-0.5 +- {TOL['conv_slope']}",
             all(abs(v["slope"] + 0.5) <= TOL["conv_slope"] for v in conv.values())),
        _row("same, exact gradients: faster than the bound (not tight)",
             "GAM Thm 4.4, GSAM Thm 5.1", "slopes " + _slopes(conv0), "<= -0.5",
             all(v["slope"] <= -0.5 for v in conv0.values())),
    ]


def to_markdown(rows):
    """The table as GitHub markdown."""
    out = ["| claim | paper | measured | tolerance | holds |", "|---|---|---|---|---|"]
    cells = ("claim", "reference", "measured", "tolerance")
    out += ["| " + " | ".join(str(r[c]).replace("|", "\\|") for c in cells)
            + f" | {'yes' if r['holds'] else 'NO'} |" for r in rows]
    return "\n".join(out) + "\n"


FIGURES = (("lemma41_degradation.png", plot_lemma41, "lemma41_deg"),
           ("prop42_ratio.png", plot_prop42, "prop42"),
           ("eq13_angle.png", plot_eq13_angle, "eq13"),
           ("eq38_finite_difference.png", plot_finite_difference, "eq38"),
           ("lemma32_negative_h.png", plot_lemma32_map, "lemma32"),
           ("lemma33_gap.png", plot_lemma33, "lemma33"),
           ("convergence.png", plot_convergence, "conv"))


def reproduce(out_dir, quick=True):
    """Write `lemmas.md` (the table) and the lemma plots to out_dir; return the paths."""
    import matplotlib.pyplot as plt
    os.makedirs(out_dir, exist_ok=True)
    data = compute_all(quick)
    rows = lemma_table(quick, data)
    md = os.path.join(out_dir, "lemmas.md")
    with open(md, "w") as fh:
        fh.write("# Lemmas, numerically (`gamtoy.lemmas`)\n\n" + to_markdown(rows))
    paths = [md]
    for fname, plot, key in FIGURES:
        fig, ax = plt.subplots(figsize=(5.5, 4))
        plot(data[key], ax=ax)
        fig.tight_layout()
        p = os.path.join(out_dir, fname)
        fig.savefig(p, dpi=110)
        plt.close(fig)
        paths.append(p)
    return paths


__all__ = ["compute_all", "lemma_table", "to_markdown", "reproduce", "lemma41_2d", "lemma41_nd",
           "lemma41_degradation", "prop42", "eq13_angle", "eq38_fd", "accel_theta_adv", "gnp_fd",
           "reductions", "lemma31", "lemma32", "lemma33", "convergence", "NoisyOracle", "TOL"]
