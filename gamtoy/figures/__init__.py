"""Figures: compute-once functions that return data, plot functions `plot_*(data, ax=None)`.

`reproduce(out_dir, quick=True)` writes every figure (PNG) and the ridge basin table (markdown).
"""
import os

import numpy as np

from .common import COLORS, generalisation_error, landscape_grid, plot_landscape
from .gam_fig1 import (fig1_data, periods_data, plot_fig1_1d, plot_fig1_2d, plot_fig1_bars,
                       plot_periods, plot_prop42, plot_rho_range, prop42_data, rho_range_data)
from .trajectories import (RIDGE_OPTIMIZERS, basin_grid_data, basin_of, basin_table_markdown,
                           decomposition_data, gallery_data, plot_basin_map, plot_decomposition,
                           plot_gallery, plot_trajectories, trajectory_data)
from .ridge import RIDGE_HYPER, RIDGE_START, RIDGE_STEPS, ridge_basin_data, ridge_data


def _save(fig, out_dir, name):
    path = os.path.join(out_dir, name)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt
    plt.close(fig)
    return path


def reproduce(out_dir, quick=True):
    """Write every figure to `out_dir`; returns the written paths. quick=True keeps it < 60 s."""
    import matplotlib
    if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "cairo"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    plot_gallery(gallery_data(n=100 if quick else 200))
    paths.append(_save(plt.gcf(), out_dir, "gallery.png"))

    for name in ("fig1a", "fig1b"):
        fig, ax = plt.subplots(1, 4, figsize=(20, 4))
        d = fig1_data(name)
        plot_fig1_1d(d, ax[0]), plot_fig1_2d(d, ax[1]), plot_fig1_bars(d, ax[2])
        plot_rho_range(rho_range_data(name, n=17 if quick else 41), ax[3])
        paths.append(_save(fig, out_dir, f"gam_{name}.png"))
    fig, ax = plt.subplots(figsize=(5, 4))
    plot_periods(periods_data(), ax)
    paths.append(_save(fig, out_dir, "gam_fig1a_periods.png"))
    plot_prop42(prop42_data("fig1b", 0.5, n=24 if quick else 60))
    paths.append(_save(plt.gcf(), out_dir, "gam_prop42.png"))

    d = ridge_data()
    fig, ax = plt.subplots(1, 2, figsize=(15, 5), gridspec_kw={"width_ratios": [2.2, 1]})
    plot_trajectories(d, ax[0])
    plot_decomposition(decomposition_data(d), ax[1])
    paths.append(_save(fig, out_dir, "ridge_trajectories.png"))
    g = ridge_basin_data(n=20 if quick else 40)
    plot_basin_map(g)
    paths.append(_save(plt.gcf(), out_dir, "ridge_basins.png"))
    path = os.path.join(out_dir, "ridge_basins.md")
    with open(path, "w") as fh:
        fh.write("# Ridge: where runs from a grid of starts end\n\n" + basin_table_markdown(g) + "\n")
    paths.append(path)
    return paths


__all__ = [n for n in dir() if not n.startswith("_") and n not in ("os", "np")]
