"""Plot functions for the MLP experiments: each takes a result dict (from `experiments`, which this
module never imports), draws into `ax=None` and returns the artists. `figure` puts several into one
figure with the verdicts and intervals as a footer and saves it (PNG 160 dpi + SVG)."""
import textwrap

import numpy as np

from .lab import LABEL
from .verdicts import fmt

VERDICT_COLOR = {"reproduces": "#009E73", "contradicts": "#D55E00",
                 "inconclusive": "0.45"}  # Okabe-Ito


def _ax(ax):
    if ax is None:
        import matplotlib.pyplot as plt
        ax = plt.figure(figsize=(5, 3.5)).add_subplot()
    return ax


def _band(ax, x, m, s, label, **kw):
    line, = ax.plot(x, m, label=label, **kw)
    return [line, ax.fill_between(x, m - s, m + s, alpha=0.2, color=line.get_color())]


def _lbl(o):
    return LABEL.get(o, o)


def _opt(o):
    """The optimizer's colour and line style of every figure (gamtoy.figures.style)."""
    from ..figures.style import OPTIMIZER_COLORS, OPTIMIZER_LINESTYLES
    return {"color": OPTIMIZER_COLORS.get(o), "ls": OPTIMIZER_LINESTYLES.get(o, "-")}


def plot_label_noise(r, ax=None):
    """GAM Table 6 as curves: (best) test accuracy against label noise, mean +- std over seeds."""
    ax = _ax(ax)
    art = []
    for i, o in enumerate(r["opts"]):
        art.append(ax.errorbar(100 * r["noise"], r["mean"][i], r["std"][i], marker="o",
                               capsize=3, label=_lbl(o), **_opt(o)))
    ax.set(xlabel="label noise (%)", ylabel="best test accuracy",
           title=f"GAM Table 6 ({r.get('data_name', '')})")
    ax.legend(fontsize=8)
    return art


def plot_paired_intervals(r, ax=None):
    """The paired difference acc(SGD+GAM) - acc(SGD) per noise level with its 95% interval."""
    ax = _ax(ax)
    x = 100 * r["noise"]
    est = np.array([c["estimate"] for c in r["per_level"]])
    lo = np.array([c["lo"] for c in r["per_level"]])
    hi = np.array([c["hi"] for c in r["per_level"]])
    art = [ax.axhline(0, color="k", lw=0.8)]
    for xi, e, a, b, c in zip(x, est, lo, hi, r["per_level"], strict=False):
        art.append(ax.errorbar([xi], [e], [[e - a], [b - e]], marker="s", capsize=4,
                               color=VERDICT_COLOR[c["verdict"]]))
    ax.set(xlabel="label noise (%)", ylabel="acc(SGD+GAM) - acc(SGD)",
           title="paired difference, 95% Student t CI")
    return art


def plot_claim_intervals(r, ax=None):
    """Every claim of a result: its paired estimate and 95% interval against 0, coloured by
    verdict (green reproduces, red contradicts, grey inconclusive)."""
    ax = _ax(ax)
    cl = r["claims"]
    y = np.arange(len(cl))[::-1]
    art = [ax.axvline(0, color="k", lw=0.8)]
    for yi, c in zip(y, cl, strict=True):
        e = c["estimate"]
        art.append(ax.errorbar([e], [yi], xerr=[[e - c["lo"]], [c["hi"] - e]], marker="o",
                               capsize=4, color=VERDICT_COLOR[c["verdict"]]))
    ax.set_yticks(y, [textwrap.fill(c["what"], 30) for c in cl], fontsize=7)
    ax.locator_params(axis="x", nbins=5)
    ax.set(xlabel="paired difference (95% Student t CI over the seeds)", title="claims")
    return art


def plot_hessian_spectrum(r, ax=None):
    """GAM Fig. 3: top eigenvalues (mean +- std over seeds) per optimizer; trace in the labels."""
    ax = _ax(ax)
    art = []
    for i, o in enumerate(r["opts"]):
        m, s = r["eig"][i].mean(0), r["eig"][i].std(0, ddof=1)
        lbl = f"{_lbl(o)} (tr {r['trace_mean'][i]:.2f})"
        art.append(ax.errorbar(np.arange(1, r["k"] + 1), m, s, marker="o", capsize=3, label=lbl,
                               **_opt(o)))
    ax.set_xticks(np.arange(1, r["k"] + 1))
    ax.set(xlabel="eigenvalue index", ylabel="Hessian eigenvalue",
           title=f"GAM Fig. 3 ({r.get('data_name', '')})")
    ax.legend(fontsize=8)
    return art


def plot_gam_fraction(r, ax=None):
    """GAM Table 7: accuracy against the fraction of GAM steps; counted cost in the labels."""
    ax = _ax(ax)
    art = []
    for a, b in enumerate(r["bases"]):
        art += _band(ax, r["fractions"], r["acc_mean"][a], r["acc_std"][a],
                     f"{_lbl(b)}+GAM (cost x{r['cost_ratio_counted'][a, -1]:.1f} at 1, "
                     f"counted)", marker="o")
    ax.set(xlabel="fraction of steps with GAM", ylabel="test accuracy", title="GAM Table 7")
    ax.set_xscale("symlog", linthresh=0.05)
    ax.legend(fontsize=8)
    return art


def plot_minima_density(r, ax=None):
    """GAM Fig. 2: histograms of local minima / maxima per ray."""
    ax = _ax(ax)
    hi = int(max(r["mins"].max(), r["maxs"].max())) + 2
    bins = np.arange(hi) - 0.5
    art = [ax.hist(r["mins"].ravel(), bins, alpha=0.6, label="local minima")[2],
           ax.hist(r["maxs"].ravel(), bins, alpha=0.6, label="local maxima")[2]]
    ax.set_xticks(np.arange(hi - 1))
    ax.set(xlabel=f"number within rho = {r['rho']}", ylabel="directions (all seeds)",
           title="GAM Fig. 2")
    ax.legend(fontsize=8)
    return art


def plot_slices_1d(r, ax=None):
    """GAM Fig. 5 (1D): loss along a filter-normalised direction, mean and std over seeds."""
    ax = _ax(ax)
    art = []
    for i, o in enumerate(r["opts"]):
        art += _band(ax, r["alphas"], r["slice1d"][i].mean(0), r["slice1d"][i].std(0, ddof=1),
                     _lbl(o), **_opt(o))
    ax.set(xlabel="step along direction", ylabel="training loss", title="GAM Fig. 5 (1D)")
    ax.legend(fontsize=8)
    return art


def plot_slices_2d(r, i=0, ax=None):
    """GAM Fig. 5 (2D): contours of the loss around optimizer i's solution (first seed)."""
    ax = _ax(ax)
    a = r["alphas2d"]
    cs = ax.contour(a, a, r["slice2d"][i], levels=15)
    ax.set(xlabel="d1", ylabel="d2", title=f"{_lbl(r['opts'][i])} (2D, seed 0)")
    return [cs]


def plot_gsam_lambda_max(r, ax=None):
    """GSAM Fig. 4: lambda_max (eigsh) and 2h/rho^2 against alpha at fixed rho, mean +- std."""
    ax = _ax(ax)
    a = r["alphas"]
    art = _band(ax, a, r["lam_max"].mean(1), r["lam_max"].std(1, ddof=1), "lambda_max (eigsh)",
                marker="o")
    art += _band(ax, a, r["est"].mean(1), r["est"].std(1, ddof=1), "2h / rho^2", marker="s")
    ax.set(xlabel="alpha", ylabel="dominant eigenvalue", title=f"GSAM Fig. 4 (rho = {r['rho']})")
    ax.legend(fontsize=8)
    return art


def plot_gsam_cos(r, ax=None):
    """GSAM Fig. 8: cos(g, g_p) per step, mean +- std over seeds, and the paper's 0.9."""
    ax = _ax(ax)
    art = []
    t = np.arange(1, r["cos_mean"].shape[1] + 1)
    for i, o in enumerate(r["opts"]):
        art += _band(ax, t, r["cos_mean"][i], r["cos_std"][i], _lbl(o), **_opt(o))
    art.append(ax.axhline(r["threshold"], color="k", ls="--", lw=1, label="0.9 (paper)"))
    ax.set(xlabel="step", ylabel="cos(g, g_p)", title="GSAM Fig. 8")
    ax.legend(fontsize=8)
    return art


def plot_gsam_gap(r, ax=None):
    """GSAM Fig. 9: surrogate gap h per step for each alpha."""
    ax = _ax(ax)
    art = []
    t = np.arange(1, r["h"].shape[2] + 1)
    for i, a in enumerate(r["alphas"]):
        art += _band(ax, t, r["h"][i].mean(0), r["h"][i].std(0, ddof=1), f"alpha = {a}")
    top = np.quantile(r["h"].mean(1), 0.98)
    ax.set(xlabel="step", ylabel="surrogate gap h (mean +- std)", title="GSAM Fig. 9",
           ylim=(min(0.0, float(np.min(r["h"].mean(1) - r["h"].std(1)))), 1.5 * top))
    ax.legend(fontsize=8)
    return art


def plot_gnp_sweep(r, ax=None):
    """GNP's alpha sweep, with GAM Table 5's rows as horizontal lines."""
    ax = _ax(ax)
    art = [ax.errorbar(r["alphas"], r["sweep_mean"], r["sweep_std"], marker="o", capsize=3,
                       label="GNP")]
    for name, m in zip(r["table_rows"][1:], r["table_mean"][1:], strict=False):
        art.append(ax.axhline(m, ls="--", lw=1, label=name,
                              color="C1" if "exact" in name else "C2"))
    ax.set(xlabel="alpha", ylabel="test accuracy", title="GNP sweep / GAM Table 5")
    ax.legend(fontsize=8)
    return art


def verdict_lines(r, width=110):
    """One wrapped line per claim: '[verdict] claim: what = est [lo, hi], n seeds'."""
    out = []
    for c in r["claims"]:
        s = (f"[{c['verdict']}] {c['paper']}: {c['claim']}: {c['what']} = "
             f"{fmt(c)} (paper {'>' if c['expected_sign'] > 0 else '<'} 0,"
             f" {c['n']} seeds, paired, 95% {c.get('method', 'Student t')} CI)")
        if "over" in c:
            lrs = ", ".join(f"{d['lr']:.3g}" for d in c["cells"])
            s = (s.replace(f"[{c['verdict']}]", f"[{c['over']['verdict']}]", 1)
                 + f"; {c['over']['text']} (lr " + lrs + ")")
        out.append(textwrap.fill(s, width, subsequent_indent="    "))
    return out


def figure(r, fns, out_dir=None, stem=None):
    """One figure with a panel per plot function and the verdicts as a footer (not clipped: saved
    with a tight bounding box). With out_dir and stem: saved as PNG + SVG, the paths returned;
    otherwise the figure is returned."""
    import matplotlib.pyplot as plt

    from ..figures import style  # the package's one figure style (imported only to draw)
    with style.context():
        fig, axes = plt.subplots(1, len(fns), figsize=(5.4 * len(fns), 4.0), squeeze=False)
        for p, ax in zip(fns, axes[0], strict=True):
            p(r, ax=ax)
        fig.tight_layout()
        lines = verdict_lines(r, width=int(60 * len(fns)))
        fig.text(0.01, -0.02, "\n".join(lines), fontsize=8, va="top", ha="left", family="monospace")
        if out_dir is None:
            return fig
        return style.save(fig, out_dir, stem)
