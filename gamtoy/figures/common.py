"""Shared helpers: landscape grids, axes, contour drawing, the train/test mismatch model."""
import numpy as np

from .. import landscapes as _landscapes
from .style import OPTIMIZER_COLORS

COLORS = OPTIMIZER_COLORS  # one colour per optimizer, everywhere


def get_ax(ax=None, **subplot_kw):
    """`ax`, or a new figure's single axes."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt
    return plt.figure(figsize=(5, 4)).add_subplot(**subplot_kw)


def landscape_grid(landscape, n=150, bounds=None):
    """{"name", "X", "Y", "Z", "minima"}: the loss on an n x n grid over `bounds`."""
    L = _landscapes.get(landscape)
    X, Y, Z = L.grid(n, bounds)
    return {"name": L.name, "X": X, "Y": Y, "Z": Z, "minima": L.minima}


def plot_landscape(grid, ax=None, levels=30, log=True, minima=True, colorbar=False, labels=False,
                   title=True):
    """Filled contours of grid["Z"] (log-spaced levels above the minimum by default).

    colorbar=True adds a colorbar (labelled log(1 + L - min L) or L); labels=True names the axes.
    Returns {"contour": QuadContourSet, "minima": Line2D or None, "colorbar": Colorbar or None}.
    """
    from .style import MARKERS
    ax = get_ax(ax)
    Z = grid["Z"]
    if log:
        Z = np.log1p(Z - np.min(Z))
    cs = ax.contourf(grid["X"], grid["Y"], Z, levels=levels, cmap="viridis")
    cs.set_rasterized(True)  # SVGs stay small and quick to write (the lines and text stay vector)
    mk = None
    if minima and grid.get("minima") is not None:
        m = grid["minima"]
        (mk,) = ax.plot(m[:, 0], m[:, 1], **MARKERS["minimum"])
    cb = None
    if colorbar:
        cb = ax.figure.colorbar(cs, ax=ax, fraction=0.046, pad=0.02)
        cb.set_label("log(1 + L - min L)" if log else "L")
    if labels:
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    if title:
        ax.set_title(grid["name"])
    ax.set_aspect("equal", adjustable="box")
    return {"contour": cs, "minima": mk, "colorbar": cb}


def gauss_hermite_2d(n=12):
    """Nodes (n*n, 2) and weights (n*n,) for E[f(eps)], eps ~ N(0, I) in 2D."""
    t, w = np.polynomial.hermite_e.hermegauss(n)
    w = w / w.sum()
    T1, T2 = np.meshgrid(t, t)
    W = np.outer(w, w)
    return np.stack([T1.ravel(), T2.ravel()], -1), W.ravel()


def generalisation_error(landscape, theta, sigma, n=16):
    """Test minus train loss when the test landscape is the train one shifted by
    eps ~ N(0, sigma^2 I).

    test(theta) = E_eps L(theta + eps) - L(theta): the train/test mismatch model used for GAM's
    "generalisation error" (Figure 1, orange dotted line). Gauss-Hermite quadrature, n x n nodes.
    """
    L = _landscapes.get(landscape)
    theta = np.asarray(theta, float)
    nodes, w = gauss_hermite_2d(n)
    vals = L.value(theta[..., None, :] + sigma * nodes)
    return vals @ w - L.value(theta)


def intervals(xs, mask):
    """The maximal runs of `xs` where `mask` holds, as a list of (lo, hi)."""
    out, lo = [], None
    for xv, m in zip(xs, mask, strict=False):
        if m and lo is None:
            lo = xv
        if m:
            hi = xv
        if not m and lo is not None:
            out.append((float(lo), float(hi)))
            lo = None
    if lo is not None:
        out.append((float(lo), float(hi)))
    return out
