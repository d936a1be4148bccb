"""Plots for the lemma checks: `plot_*(data, ax=None)` draws what a compute function returned and
returns the artists (lines, images), so tests can read their data."""
import numpy as np


def _ax(ax):
    if ax is None:
        import matplotlib.pyplot as plt
        ax = plt.subplots(figsize=(5, 3.6))[1]
    return ax


def _no_minor_labels(ax):
    """Log axes: label only the decades (minor labels like 3e-3 4e-3 collide)."""
    from matplotlib.ticker import NullFormatter
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_minor_formatter(NullFormatter())


def _loglog(ax, x, ys, labels, xlabel, ylabel, title, ref_slope=None):
    arts = [ax.loglog(x, y, "o-", ms=3, label=lab)[0] for y, lab in zip(ys, labels, strict=True)]
    if ref_slope is not None:
        y0 = np.max([y[-1] for y in ys])
        arts += ax.loglog(x, y0 * (np.asarray(x) / x[-1]) ** ref_slope, "k--", lw=1,
                          label=f"slope {ref_slope:g}")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend(fontsize=7)
    _no_minor_labels(ax)
    return arts


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


def _order_panel(ax, per, xkey, ykey, xlabel, ylabel, title, order_key="order"):
    """log-log of per-case curves with the predicted order drawn as a dashed reference."""
    arts = []
    for name, d in per.items():
        arts += ax.loglog(d[xkey], d[ykey], "o-", ms=3,
                          label=f"{name}: fit {d['slope']:.2f}, theory {d[order_key]}")
        x = np.asarray(d[xkey])
        arts += ax.loglog(x, d[ykey][-1] * (x / x[-1]) ** d[order_key], "k--", lw=0.8, alpha=0.6)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend(fontsize=7)
    _no_minor_labels(ax)
    return arts


def plot_lemma41_minima(data, ax=None):
    """GAM Lemma 4.1 at non-quadratic minima (`gam.lemma41_minima`, + `lemma41_mlp` if given)."""
    ax = _ax(ax)
    per = {k: v for k, v in data.items() if k != "mlp"}
    arts = _order_panel(ax, per, "rhos", "rel_err", r"$\rho$",
                        r"$|R^{(1)}/\rho^2-\lambda_{max}|/\lambda_{max}$",
                        "GAM Lemma 4.1 at non-quadratic minima")
    if "mlp" in data:
        m = data["mlp"]
        arts += ax.loglog(m["rhos"], m["rel_err"], "s-", ms=4, color="k",
                          label=f"MLP ({m['n']} params, eigsh): fit {m['slope']:.2f}, theory 1")
        ax.legend(fontsize=7)
    return arts


def plot_eq15(data, ax=None):
    """GAM's h_norm vs finite differences of the exact R1 (`gam.eq15_h_norm`)."""
    return _order_panel(_ax(ax), data, "rhos", "median", r"$\rho$",
                        r"$|h_{norm}-\nabla_{FD}R^{(1)}|/|\nabla_{FD}R^{(1)}|$",
                        "GAM Eq. 7/15: h_norm vs FD of exact R1")


def plot_eq15_failure(data, axs):
    """Two maps around a minimum (`gam.eq15_failure_map`): the angle between first-order
    theta_adv and the exact steepest point, and first-order R1 / exact R1; colorbars, the ball."""
    from ..figures.style import MARKERS
    P, w, rho = data["P"], data["minimum"], data["rho"]
    arts = []
    for ax, Z, lab, cmap in ((axs[0], data["angle_deg"], "angle (deg)", "magma"),
                             (axs[1], data["ratio"], r"$\tilde R^{(1)}/R^{(1)}$", "viridis")):
        im = ax.pcolormesh(P[..., 0], P[..., 1], Z, shading="auto", cmap=cmap)
        ax.figure.colorbar(im, ax=ax, label=lab)
        t = np.linspace(0, 2 * np.pi, 200)
        ax.plot(w[0] + rho * np.cos(t), w[1] + rho * np.sin(t), "w--", lw=1,
                label=r"$|\theta-\theta^*|=\rho$")
        ax.plot(*w, **MARKERS["minimum"], label="minimum")
        ax.set(xlabel="x", ylabel="y", aspect="equal")
        ax.legend(fontsize=7, loc="lower right")
        arts.append(im)
    axs[0].set_title(f"{data['name']}, rho={rho}: max {data['near_max_angle']:.0f} deg near min")
    axs[1].set_title(f"first-order/exact R1: min {data['near_min_ratio']:.2f}")
    return arts


def plot_gnp(data, ax=None):
    """GNP's direction vs autograd of L + lambda|grad L| (`gnp.gnp_penalised`)."""
    a = next(iter(data.values()))["alpha"]
    return _order_panel(_ax(ax), data, "rs", "median", "r",
                        r"$|d-\nabla(L+\lambda|\nabla L|)|/|\lambda\nabla|\nabla L||$",
                        f"GNP (alpha={a:g}) vs autograd, lambda = alpha r")


def plot_gsam_geometry(data, axs):
    """GSAM Fig. 2 along a trajectory (`gsam.gsam_geometry`): the first-order change of f_p
    against its bound, and the change of h over each orthogonal step (all negative)."""
    t = np.arange(len(data["c_fp"]))
    arts = axs[0].semilogy(t, np.abs(data["c_fp"]), "o-", ms=3,
                           label=r"$|\langle\nabla f_p,\hat g_\perp\rangle|$")
    arts += axs[0].semilogy(t, data["bound"], "k--", label=r"bound $M|\delta^*-\rho g/|g||$")
    arts += axs[0].semilogy(t, data["g_perp_norm"], "s-", ms=3, label=r"$|g_\perp|$ (h's slope)")
    axs[0].set(xlabel="step", ylabel="directional derivative",
               title=f"GSAM on {data['name']}: f_p flat along g_perp")
    axs[0].legend(fontsize=7)
    arts += axs[1].plot(t, data["h_change"], "o-", ms=3, label=r"$\Delta h$ (exact)")
    arts += axs[1].plot(t, data["fp_change"], "s-", ms=3, label=r"$\Delta f_p$ (exact)")
    axs[1].axhline(0, color="k", lw=0.8)
    axs[1].set(xlabel="step", ylabel=r"change over $+\eta\alpha g_\perp$",
               title=rf"$\alpha$={data['alpha']}, $\rho$={data['rho']}: h falls")
    axs[1].legend(fontsize=7)
    return arts


def plot_sam_point(data, axs):
    """SAM's first-order ascent point vs the exact worst point (`gsam.sam_ascent_point`)."""
    arts = []
    for name, d in data.items():
        arts += axs[0].loglog(d["rhos"], d["angle_median"], "o-", ms=3,
                              label=f"{name}: fit {d['angle_slope']:.2f}, theory 1")
        arts += axs[1].loglog(d["rhos"], d["gap_median"], "o-", ms=3,
                              label=f"{name}: fit {d['gap_slope']:.2f}, theory 2")
    axs[0].set(xlabel=r"$\rho$", ylabel="angle (rad)", title="SAM's w_adv vs exact worst point")
    axs[1].set(xlabel=r"$\rho$", ylabel=r"$(f(w+\delta^*)-f(w_{adv}))/R^{(0)}$",
               title="loss gap, relative to R0")
    for ax in axs:
        ax.legend(fontsize=7)
        _no_minor_labels(ax)
    return arts


def plot_convergence_bound(data, ax=None):
    """Measured average squared gradient (mean over starts) against each theorem's explicit
    bound (`convergence.convergence_check`), SGD as the control."""
    ax = _ax(ax)
    arts = []
    colors = {"sgd": "0.4", "gsam": "C0", "gam": "C3"}
    for name, d in data["per"].items():
        c = colors.get(name)
        arts += ax.loglog(d["T"], d["mean"], "o-", ms=3, color=c, label=f"{name} measured")
        arts += ax.loglog(d["T"], d["bound"], "--", color=c,
                          label=f"{name} bound (max ratio {d['ratio'].max():.2f})")
    ax.set(xlabel="T", ylabel=r"$\frac{1}{T}\sum_{t\leq T}E|\nabla|^2$",
           title=f"GAM Thm 4.4 / GSAM Thm 5.1 on {data['landscape']}, sigma={data['sigma']:g}")
    ax.legend(fontsize=7, ncol=2)
    return arts


def _boundary_lb(la, rb_of_la):
    """lb solving lb^2 = c (2 - lb), c = la * rb_of_la: the curve R_B = rb_of_la (Eq. S)."""
    c = la * rb_of_la
    return (-c + np.sqrt(c * c + 8 * c)) / 2


def plot_saddle_map(data, ax=None, ridge=None):
    """Eq. S on quadratic saddles (`saddle.saddle_check`): observed stays (filled) and escapes
    (crosses) over (lr a, lr b), the predicted region's boundary, and the ridge's schedule."""
    ax = _ax(ax)
    rows = data["rows"]
    arts = []
    for obs, m, lab in ((True, "o", "observed: stays"), (False, "x", "observed: escapes")):
        pts = np.array([(r["la"], r["lb"]) for r in rows if r["observed"] == obs])
        if len(pts):
            arts += ax.loglog(pts[:, 0], pts[:, 1], m, ms=5, ls="none", mfc="none" if obs else None,
                              color="C0" if obs else "C3", label=lab)
    la = np.geomspace(0.02, 2.0, 200)
    lb1 = _boundary_lb(la, 1.0)
    hi = la > 1
    arts += ax.loglog(la, lb1, "k-", lw=1.2, label=r"$R_B=1$ (Eq. S)")
    arts += ax.loglog(la[hi], _boundary_lb(la[hi], la[hi] / (2 + la[hi])), "k--", lw=1.2,
                      label=r"$R_B=\eta a/(2+\eta a)$")
    arts += ax.loglog([1, 1], [1e-3, _boundary_lb(1.0, 1 / 3)], "k:", lw=1.2, label=r"$\eta a=1$")
    if ridge is not None:
        arts += ax.loglog(ridge["lr_t"] * ridge["a"], ridge["lr_t"] * ridge["b"], "-", color="C2",
                          lw=3, alpha=0.6, label="ridge saddle, SAM's schedule")
    ax.set(xlabel=r"$\eta a$ (lr x |negative eigenvalue|)", ylabel=r"$\eta b$",
           title=f"SAM at a quadratic saddle: {data['n_wrong']} of {data['n_judged']} disagree",
           ylim=(5e-3, 2.5))
    ax.legend(fontsize=7, loc="lower right")
    return arts


def plot_ridge_saddle(data, axs):
    """SGD, SAM and GSAM near the ridge's saddle (`saddle.ridge_saddle`): paths over the contours,
    and the median distance to the saddle per step."""
    from .. import landscapes
    w, r = data["saddle"], 0.45
    L = landscapes.get("ridge")
    u = np.linspace(-r, r, 121)
    X, Y = np.meshgrid(u + w[0], u + w[1])
    arts = [axs[0].contour(X, Y, L.value(np.stack([X, Y], -1)), 25, linewidths=0.5, cmap="Greys")]
    colors = dict(sgd="0.3", sam="C0", gsam="C1")
    for nm, p in sorted(data["per"].items(), key=lambda kv: kv[0] == "sam"):   # SAM on top
        arts += axs[0].plot(p["path"][:, 0], p["path"][:, 1], "-", lw=0.6, alpha=0.8,
                            color=colors.get(nm),
                            label=f"{nm}: {p['k']}/{p['n']} end at the saddle")
        arts += axs[1].semilogy(p["median_dist"], color=colors.get(nm), label=nm)
    arts += axs[0].plot(*w, "k+", ms=12, mew=2, label="saddle")
    ev = data["eigenvalues"]
    axs[0].set(xlim=(w[0] - r, w[0] + r), ylim=(w[1] - r, w[1] + r), aspect="equal",
               xlabel="x", ylabel="y",
               title=f"ridge saddle, eigenvalues {ev[0]:.1f}, {ev[1]:.1f}")
    axs[0].legend(fontsize=7, loc="lower left")
    axs[1].set(xlabel="step", ylabel="median distance to the saddle",
               title=f"Eq. S predicts a trap from step {data['first_attracting_step']} "
               f"(lr < 1/a = {data['lr_threshold']:.3f})")
    axs[1].legend(fontsize=7)
    return arts
