"""Plot functions for the experiments (`ax=None`, return the artists) and `reproduce`."""
import os

import numpy as np

from .lab import LABEL


def _ax(ax):
    if ax is None:
        import matplotlib.pyplot as plt
        ax = plt.figure(figsize=(5, 3.5)).add_subplot()
    return ax


def _band(ax, x, m, s, label):
    line, = ax.plot(x, m, label=label)
    return [line, ax.fill_between(x, m - s, m + s, alpha=0.2, color=line.get_color())]


def plot_label_noise(r, ax=None):
    """GAM Table 6 as curves: test accuracy against label noise, one per optimizer."""
    ax = _ax(ax)
    art = []
    for i, o in enumerate(r["opts"]):
        art.append(ax.errorbar(100 * r["noise"], r["mean"][i], r["std"][i], marker="o",
                               capsize=3, label=LABEL.get(o, o)))
    ax.set(xlabel="label noise (%)", ylabel="test accuracy", title="GAM Table 6 (toy)")
    ax.legend(fontsize=8)
    return art


def plot_hessian_spectrum(r, ax=None):
    """GAM Fig. 3: top eigenvalues (markers) per optimizer; trace in the labels."""
    ax = _ax(ax)
    art = []
    for i, o in enumerate(r["opts"]):
        m, s = r["eig"][i].mean(0), r["eig"][i].std(0)
        lbl = f"{LABEL.get(o, o)} (tr {r['trace_mean'][i]:.2f})"
        art.append(ax.errorbar(np.arange(1, r["k"] + 1), m, s, marker="o", capsize=3, label=lbl))
    ax.set(xlabel="eigenvalue index", ylabel="Hessian eigenvalue", title="GAM Fig. 3 (toy)")
    ax.legend(fontsize=8)
    return art


def plot_gam_fraction(r, ax=None):
    """GAM Fig. 4: accuracy against the fraction of GAM steps; measured cost in the labels."""
    ax = _ax(ax)
    art = []
    for a, b in enumerate(r["bases"]):
        art += _band(ax, r["fractions"], r["acc_mean"][a], r["acc_std"][a],
                     f"{LABEL.get(b, b)}+GAM (cost x{r['cost_ratio_mean'][a, -1]:.1f} at 1)")
    ax.set(xlabel="fraction of steps with GAM", ylabel="test accuracy", xscale="symlog",
           title="GAM Table 7 / Fig. 4 (toy)")
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
    ax.set(xlabel=f"number within rho = {r['rho']}", ylabel="directions",
           title="GAM Fig. 2 (toy)")
    ax.legend(fontsize=8)
    return art


def plot_slices_1d(r, ax=None):
    """GAM Fig. 5 (1D): loss along a filter-normalised direction, mean and std over seeds."""
    ax = _ax(ax)
    art = []
    for i, o in enumerate(r["opts"]):
        art += _band(ax, r["alphas"], r["slice1d"][i].mean(0), r["slice1d"][i].std(0),
                     LABEL.get(o, o))
    ax.set(xlabel="step along direction", ylabel="training loss", title="GAM Fig. 5 (toy, 1D)")
    ax.legend(fontsize=8)
    return art


def plot_slices_2d(r, i=0, ax=None):
    """GAM Fig. 5 (2D): contours of the loss around optimizer i's solution."""
    ax = _ax(ax)
    a = r["alphas2d"]
    cs = ax.contour(a, a, r["slice2d"][i], levels=15)
    ax.set(xlabel="d1", ylabel="d2", title=f"{LABEL.get(r['opts'][i], r['opts'][i])} (toy, 2D)")
    return [cs]


def plot_gsam_lambda_max(r, ax=None):
    """GSAM Fig. 4: 2h/rho^2 against lambda_max, with y = x."""
    ax = _ax(ax)
    art = []
    for i, rho in enumerate(r["rhos"]):
        art.append(ax.scatter(r["lam_max"][i], r["est"][i], label=f"rho = {rho}"))
    lim = [0, max(r["lam_max"].max(), r["est"].max()) * 1.1]
    art += ax.plot(lim, lim, "k--", lw=1, label="y = x")
    ax.set(xlabel="lambda_max (eigsh)", ylabel="2h / rho^2", title="GSAM Fig. 4 (toy)")
    ax.legend(fontsize=8)
    return art


def plot_gsam_cos(r, ax=None):
    """GSAM Fig. 8: cos(g, g_p) per step."""
    ax = _ax(ax)
    art = []
    t = np.arange(1, r["cos_mean"].shape[1] + 1)
    for i, o in enumerate(r["opts"]):
        art += _band(ax, t, r["cos_mean"][i], r["cos_std"][i], LABEL.get(o, o))
    ax.set(xlabel="step", ylabel="cos(g, g_p)", title="GSAM Fig. 8 (toy)")
    ax.legend(fontsize=8)
    return art


def plot_gsam_gap(r, ax=None):
    """GSAM Fig. 9: surrogate gap h per step for each alpha."""
    ax = _ax(ax)
    art = []
    t = np.arange(1, r["h"].shape[2] + 1)
    for i, a in enumerate(r["alphas"]):
        art += _band(ax, t, r["h"][i].mean(0), r["h"][i].std(0), f"alpha = {a}")
    ax.set(xlabel="step", ylabel="surrogate gap h", yscale="log", title="GSAM Fig. 9 (toy)")
    ax.legend(fontsize=8)
    return art


def plot_gnp_sweep(r, ax=None):
    """GNP's alpha sweep, with GAM Table 5's rows as horizontal lines."""
    ax = _ax(ax)
    art = [ax.errorbar(r["alphas"], r["sweep_mean"], r["sweep_std"], marker="o", capsize=3,
                       label="GNP")]
    for name, m in zip(r["table_rows"][1:], r["table_mean"][1:]):
        art.append(ax.axhline(m, ls="--", lw=1, label=name, color="C1" if "exact" in name else "C2"))
    ax.set(xlabel="alpha", ylabel="test accuracy", title="GNP sweep / GAM Table 5 (toy)")
    ax.legend(fontsize=8)
    return art


def reproduce(out_dir, quick=True):
    """Run every MLP experiment (quick or full) and write one PNG each; return their paths."""
    import matplotlib.pyplot as plt

    from . import experiments as E
    jobs = [("mlp_label_noise", E.label_noise, [plot_label_noise]),
            ("mlp_hessian_spectrum", E.hessian_spectrum, [plot_hessian_spectrum]),
            ("mlp_gam_fraction", E.gam_fraction, [plot_gam_fraction]),
            ("mlp_minima_density", E.minima_density, [plot_minima_density]),
            ("mlp_slices", E.landscape_slices, [plot_slices_1d, plot_slices_2d]),
            ("mlp_gsam_lambda_max", E.gsam_lambda_max, [plot_gsam_lambda_max]),
            ("mlp_gsam_cos", E.gsam_cos, [plot_gsam_cos]),
            ("mlp_gsam_gap", E.gsam_gap_vs_alpha, [plot_gsam_gap]),
            ("mlp_gnp_sweep", E.gnp_sweep, [plot_gnp_sweep])]
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for name, fn, plots in jobs:
        r = fn(quick=quick, progress=not quick)
        fig, axes = plt.subplots(1, len(plots), figsize=(5 * len(plots), 3.8), squeeze=False)
        for p, ax in zip(plots, axes[0]):
            p(r, ax=ax)
        fig.text(0.01, 0.005, r["note"][:150], fontsize=6)
        fig.tight_layout(rect=(0, 0.03, 1, 1))
        path = os.path.join(out_dir, f"{name}.png")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths
