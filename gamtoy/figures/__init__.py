"""Figures: compute-once functions that return data, plot functions `plot_*(data, ax=None)`.

`reproduce(out_dir, quick=True)` writes every figure (PNG) and the ridge basin table (markdown).
"""
import os

import numpy as np

from .common import COLORS, generalisation_error, landscape_grid, plot_landscape
from .gam_fig1 import (b_side_fate, describe_rho_range, fig1_data, fig1_population,
                       fig1_population_markdown, fig1_cells, gam_fate_text, gam_stability, valley_of, fig1_headline_lines, fig1_robustness,
                       fig1_robustness_markdown,
                       lens_animation, periods_data, plot_fig1_1d, plot_fig1_2d, plot_fig1_bars,
                       plot_fig1_population, plot_periods, plot_prop42, plot_rho_range, prop42_data,
                       preference, rho_range_data)
from .trajectories import (LINESTYLES, RIDGE_OPTIMIZERS, basin_grid_data, basin_of,
                           basin_table_markdown, decomposition_data, gallery_data, plot_basin_map,
                           plot_decomposition, plot_gallery, plot_trajectories, trajectory_data)
from .ridge import (CLAIM_TEXT, FACTORS, RIDGE_ALPHA, RIDGE_BOX, RIDGE_HYPER, RIDGE_LR, RIDGE_RHO,
                    RIDGE_START, RIDGE_STEPS, claims, end_basin, neighbourhood, outcomes,
                    plot_ridge_figure, plot_ridge_population, plot_ridge_robustness,
                    population_table_markdown, ridge_animation, ridge_basin_data, ridge_caption,
                    ridge_data, ridge_hyper, ridge_population, ridge_report_markdown,
                    ridge_robustness, robustness_table_markdown, story_fraction)
from .ridge import headline_lines as ridge_headline_lines
from .sam_step import plot_sam_step, sam_step_data
from . import style


def _progress(msg, t0):
    import sys
    import time
    print(f"  [{time.time() - t0:5.1f} s] {msg}", file=sys.stderr, flush=True)


def reproduce(out_dir, quick=True):
    """Write every figure (PNG at style.DPI + SVG), the GIFs and the markdown tables to `out_dir`;
    returns the written paths. quick=True: the ridge neighbourhood is the centre and one of lr,
    rho, alpha moved at a time (7 cells), GAM Fig. 1's the centre and one of lr, rho moved at a
    time (5 cells); quick=False: all 27 (ridge) and 9 (GAM Fig. 1) cells, larger grids. Every
    verdict is printed and written with the cells it holds in. The main job runs the two halves
    (`reproduce_gam`, `reproduce_ridge`) as two jobs, side by side."""
    return reproduce_gam(out_dir, quick) + reproduce_ridge(out_dir, quick)


def _agg():
    import matplotlib
    if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "cairo"):
        matplotlib.use("Agg")


def reproduce_gam(out_dir, quick=True):
    """The gallery, the SAM-step picture and GAM Fig. 1 (fig1a, fig1b, their populations and
    neighbourhoods, the ripple periods, Prop. 4.2, the lens GIF); returns the written paths."""
    import time

    _agg()
    import matplotlib.pyplot as plt

    from .. import _io
    os.makedirs(out_dir, exist_ok=True)
    t0 = time.time()
    paths = []
    with style.context():
        plot_gallery(gallery_data(n=100 if quick else 200))
        paths += style.save(plt.gcf(), out_dir, "gallery")
        fig, ax = plt.subplots(figsize=(8, 4.5))
        plot_sam_step(sam_step_data(), ax)
        paths += style.save(fig, out_dir, "sam_step")

        pops = []
        for name in ("fig1a", "fig1b"):
            fig, ax = plt.subplots(2, 2, figsize=(15, 10), gridspec_kw={"hspace": 0.5, "wspace": 0.22})
            d = fig1_data(name)
            plot_fig1_1d(d, ax[0, 0]), plot_fig1_2d(d, ax[0, 1]), plot_fig1_bars(d, ax[1, 0])
            plot_rho_range(rho_range_data(name, n=17 if quick else 41), ax[1, 1])
            paths += style.save(fig, out_dir, f"gam_{name}")
            pops.append(fig1_population(name, n=20, steps=500))
            _progress(f"gam_{name}", t0)
        plot_fig1_population(pops)
        paths += style.save(plt.gcf(), out_dir, "gam_fig1_population")
        robs = [fig1_robustness(p["name"], one_at_a_time=quick, centre=p) for p in pops]
        _progress("GAM Fig. 1 neighbourhoods", t0)
        import sys
        print("GAM Fig. 1 populations (verdict at the centre, over the neighbourhood):", file=sys.stderr)
        for rob in robs:
            for line in fig1_headline_lines(rob):
                print("  " + line, file=sys.stderr)
        md = ("# GAM Fig. 1: where optimizers end on fig1a / fig1b\n\n"
              "## Verdicts (the centre's, with the cells of the neighbourhood it holds in; "
              "'mixed' when the cells disagree)\n\n"
              + "\n".join(line for rob in robs for line in fig1_headline_lines(rob))
              + "\n\n## Every optimizer at the centre setting\n\n"
              + "\n\n".join(fig1_population_markdown(p) for p in pops)
              + "\n\n## The neighbourhood ("
              + ("quick mode: lr and rho one at a time x {0.8, 1.25}; `reproduce(quick=False)` runs "
                 "all 9 cells of lr x rho" if quick else "lr x rho, each x {0.8, 1, 1.25}")
              + ")\n\n" + "\n\n".join(fig1_robustness_markdown(r, headlines=False) for r in robs) + "\n")
        path = os.path.join(out_dir, "gam_fig1_population.md")
        _io.write_text(path, md)
        paths.append(path)
        fig, ax = plt.subplots(figsize=(6, 4.5))
        plot_periods(periods_data(), ax)
        paths += style.save(fig, out_dir, "gam_fig1a_periods")
        plot_prop42(prop42_data("fig1b", 0.5, n=12 if quick else 60))
        paths += style.save(plt.gcf(), out_dir, "gam_prop42")
        paths.append(lens_animation(os.path.join(out_dir, "gam_fig1a_lens.gif"),
                                    frames=12 if quick else 48)["path"])
        _progress("GAM Fig. 1 population, Prop. 4.2, lens animation", t0)
    return paths


def reproduce_ridge(out_dir, quick=True):
    """GSAM Fig. 3 on the ridge: the figure, its population and neighbourhood, the table and the
    GIF; returns the written paths."""
    import time

    _agg()
    import matplotlib.pyplot as plt

    from .. import _io
    os.makedirs(out_dir, exist_ok=True)
    t0 = time.time()
    paths = []
    with style.context():
        pop = ridge_population(20)
        rob = ridge_robustness(20, one_at_a_time=quick, centre=pop)
        _progress("ridge populations", t0)
        import sys
        print("GSAM Fig. 3 on ridge (verdict over the neighbourhood):", file=sys.stderr)
        for line in ridge_headline_lines(rob):
            print("  " + line.replace("**", ""), file=sys.stderr)
        d = ridge_data()
        plot_ridge_figure(d, pop)
        paths += style.save(plt.gcf(), out_dir, "ridge_trajectories")
        plot_ridge_population(pop)
        paths += style.save(plt.gcf(), out_dir, "ridge_basins")
        plot_ridge_robustness(rob)
        paths += style.save(plt.gcf(), out_dir, "ridge_neighbourhood")
        path = os.path.join(out_dir, "ridge_basins.md")
        _io.write_text(path, ridge_report_markdown(pop, rob))
        paths.append(path)
        paths.append(ridge_animation(d, os.path.join(out_dir, "ridge_trajectories.gif"),
                                     frames=30 if quick else 60))
        _progress("ridge figures and animation", t0)
    return paths


__all__ = [n for n in dir() if not n.startswith("_") and n not in ("os", "np")]
