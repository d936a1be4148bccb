"""Plots for the lemma checks: `plot_*(data, ax=None)` draws what a compute function returned and
returns the artists (lines, images), so tests can read their data."""
import numpy as np


def _ax(ax):
    if ax is None:
        import matplotlib.pyplot as plt
        ax = plt.subplots(figsize=(5, 3.6))[1]
    return ax


def _loglog(ax, x, ys, labels, xlabel, ylabel, title, ref_slope=None):
    arts = [ax.loglog(x, y, "o-", ms=3, label=lab)[0] for y, lab in zip(ys, labels)]
    if ref_slope is not None:
        y0 = np.max([y[-1] for y in ys])
        arts += ax.loglog(x, y0 * (np.asarray(x) / x[-1]) ** ref_slope, "k--", lw=1,
                          label=f"slope {ref_slope:g}")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend(fontsize=7)
    return arts


def plot_lemma41(data, ax=None):
    """|R1/rho^2 - lambda_max|/lambda_max vs rho at minima (`gam.lemma41_degradation`)."""
    ax = _ax(ax)
    names = list(data)
    return _loglog(ax, data[names[0]]["rhos"], [data[n]["rel_err"] for n in names],
                   [f"{n} (slope {data[n]['slope']:.2f})" for n in names], r"$\rho$",
                   r"$|R^{(1)}/\rho^2-\lambda_{max}|/\lambda_{max}$",
                   "GAM Lemma 4.1 off quadratics",
                   ref_slope=1)


def plot_prop42(data, ax=None):
    """The ratio R1/R0 over the plane (`gam.prop42`'s kept maps): >= 1 everywhere."""
    ax = _ax(ax)
    m = data["maps"]
    ratio = m["R1"] / np.maximum(m["R0"], 1e-300)
    X, Y = m["W"][..., 0], m["W"][..., 1]
    im = ax.pcolormesh(X, Y, ratio, shading="auto", cmap="viridis")
    ax.figure.colorbar(im, ax=ax, label=r"$R^{(1)}/R^{(0)}$")
    ax.set(title=f"GAM Prop. 4.2 on {m['name']}, rho={m['rho']}: min ratio {ratio.min():.3f}",
           xlabel="x", ylabel="y")
    return [im]


def plot_eq13_angle(data, ax=None):
    """Median angle between first-order and exact steepest directions vs rho (`gam.eq13_angle`)."""
    ax = _ax(ax)
    names = list(data)
    return _loglog(ax, data[names[0]]["rhos"], [data[n]["median"] for n in names],
                   [f"{n} (slope {data[n]['slope']:.2f})" for n in names], r"$\rho$",
                   "angle (rad)", r"GAM Eq. 13/15: $\theta^{adv}$ vs exact argmax", ref_slope=1)


def plot_finite_difference(data, ax=None, key="rho_primes", title="GAM Eq. 38"):
    """Relative error of a finite-difference HVP vs its step (`gam.eq38_fd` or `gam.gnp_fd`)."""
    ax = _ax(ax)
    names = list(data)
    key = key if key in data[names[0]] else "rs"
    return _loglog(ax, data[names[0]][key], [data[n]["median"] for n in names],
                   [f"{n} (slope {data[n]['slope']:.2f})" for n in names], "step",
                   "relative error", title, ref_slope=1)


def plot_lemma32(data, ax=None):
    """Fraction of grid points with first-order h < 0 vs rho, per landscape (`gsam.lemma32`)."""
    ax = _ax(ax)
    arts = []
    for name, p in data["per"].items():
        arts += ax.semilogx(p["rhos"], p["frac_negative"], "o-", ms=3, label=name)
    ax.set(xlabel=r"$\rho$", ylabel=r"fraction with $\tilde h<0$", title="GSAM Lemma 3.2")
    ax.legend(fontsize=7)
    return arts


def plot_lemma32_map(data, ax=None):
    """Where h~ < 0 on one landscape (`gsam.lemma32`'s example): near its critical points."""
    ax = _ax(ax)
    e = data["example"]
    W, neg = e["W"], e["neg"]
    from .. import landscapes
    X, Y, Z = landscapes.get(e["name"]).grid(150)
    arts = [ax.contour(X, Y, Z, 20, linewidths=0.5, cmap="Greys")]
    arts += ax.plot(W[neg, 0], W[neg, 1], "r.", ms=3, label=r"$\tilde h<0$")
    ax.set(title=f"GSAM Lemma 3.2 fails on {e['name']}, rho={e['rho']}", xlabel="x", ylabel="y")
    ax.legend(fontsize=7)
    return arts


def plot_lemma33(data, ax=None):
    """|2h/rho^2 - sigma_max|/sigma_max vs rho at local minima (`gsam.lemma33`)."""
    ax = _ax(ax)
    names = [n for n in data if data[n]["slope"] is not None]
    return _loglog(ax, data[names[0]]["rhos"], [data[n]["rel_err"] for n in names],
                   [f"{n} (slope {data[n]['slope']:.2f})" for n in names], r"$\rho$",
                   r"$|2h/\rho^2-\sigma_{max}|/\sigma_{max}$", "GSAM Lemma 3.3", ref_slope=1)


def plot_convergence(data, ax=None):
    """avg_T |grad|^2 vs T with lr, rho ~ 1/sqrt(t) (`convergence.convergence`)."""
    ax = _ax(ax)
    per = data["per"]
    names = list(per)
    return _loglog(ax, per[names[0]]["T"], [per[n]["avg"] for n in names],
                   [f"{n} (slope {per[n]['slope']:.2f})" for n in names], "T",
                   r"$\frac{1}{T}\sum_t E|\nabla|^2$",
                   f"GAM Thm 4.4 / GSAM Thm 5.1 on {data['landscape']}", ref_slope=-0.5)
