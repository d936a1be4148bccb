"""The figures' two jobs of the main job (`python -m gamtoy reproduce`), each a compute step that
returns data and a draw step that writes the files: GAM Fig. 1 with the gallery and the SAM step
(`compute_gam`, `draw_gam`), and GSAM Fig. 3 on the ridge (`compute_ridge`, `draw_ridge`).

quick=True: the ridge neighbourhood is the centre and one of lr, rho, alpha moved at a time
(7 cells), GAM Fig. 1's the centre and one of lr, rho moved at a time (5 cells); quick=False:
all 27 (ridge) and 9 (GAM Fig. 1) cells, larger grids.
"""
import os
import sys
import time

from .. import _io
from . import style
from .gam_fig1 import (
    fig1_data,
    fig1_headline_lines,
    fig1_population,
    fig1_population_markdown,
    fig1_robustness,
    fig1_robustness_markdown,
    lens_animation,
    periods_data,
    plot_fig1_1d,
    plot_fig1_2d,
    plot_fig1_bars,
    plot_fig1_population,
    plot_periods,
    plot_prop42,
    plot_rho_range,
    prop42_data,
    rho_range_data,
)
from .ridge import headline_lines as ridge_headline_lines
from .ridge import (
    plot_ridge_figure,
    plot_ridge_population,
    plot_ridge_robustness,
    ridge_animation,
    ridge_data,
    ridge_population,
    ridge_report_markdown,
    ridge_robustness,
)
from .sam_step import plot_sam_step, sam_step_data
from .trajectories import gallery_data, plot_gallery

FIG1 = ("fig1a", "fig1b")


def _progress(msg, t0):
    print(f"  [{time.time() - t0:5.1f} s] {msg}", file=sys.stderr, flush=True)


def _pyplot():
    """matplotlib.pyplot on a file backend (the jobs draw no windows)."""
    import matplotlib
    if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "cairo"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def compute_gam(quick=True):
    """The data of the gallery, the SAM step and GAM Fig. 1 (fig1a, fig1b, their populations and
    neighbourhoods, the ripple periods, Prop. 4.2); the verdicts are printed to stderr."""
    t0 = time.time()
    data = {"quick": quick, "gallery": gallery_data(n=100 if quick else 200),
            "sam_step": sam_step_data(), "fig1": {}, "pops": []}
    for name in FIG1:
        data["fig1"][name] = (fig1_data(name), rho_range_data(name, n=17 if quick else 41))
        data["pops"].append(fig1_population(name, n=20, steps=500))
        _progress(f"gam_{name}", t0)
    data["robs"] = [fig1_robustness(p["name"], one_at_a_time=quick, centre=p)
                    for p in data["pops"]]
    _progress("GAM Fig. 1 neighbourhoods", t0)
    print("GAM Fig. 1 populations (verdict at the centre, over the neighbourhood):",
          file=sys.stderr)
    for rob in data["robs"]:
        for line in fig1_headline_lines(rob):
            print("  " + line, file=sys.stderr)
    data["periods"] = periods_data()
    data["prop42"] = prop42_data("fig1b", 0.5, n=12 if quick else 60)
    return data


def fig1_markdown(pops, robs, quick):
    """gam_fig1_population.md: the verdicts, every optimizer at the centre, the neighbourhood."""
    cells = ("quick mode: lr and rho one at a time x {0.8, 1.25}; `reproduce(quick=False)` runs "
             "all 9 cells of lr x rho" if quick else "lr x rho, each x {0.8, 1, 1.25}")
    return ("# GAM Fig. 1: where optimizers end on fig1a / fig1b\n\n"
            "## Verdicts (the centre's, with the cells of the neighbourhood it holds in; "
            "'mixed' when the cells disagree)\n\n"
            + "\n".join(line for rob in robs for line in fig1_headline_lines(rob))
            + "\n\n## Every optimizer at the centre setting\n\n"
            + "\n\n".join(fig1_population_markdown(p) for p in pops)
            + f"\n\n## The neighbourhood ({cells})\n\n"
            + "\n\n".join(fig1_robustness_markdown(r, headlines=False) for r in robs) + "\n")


def draw_gam(data, out_dir):
    """Write compute_gam's figures (PNG + SVG), its markdown table and the lens GIF to `out_dir`;
    the written paths."""
    plt = _pyplot()
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    with style.context():
        plot_gallery(data["gallery"])
        paths += style.save(plt.gcf(), out_dir, "gallery")
        fig, ax = plt.subplots(figsize=(8, 4.5))
        plot_sam_step(data["sam_step"], ax)
        paths += style.save(fig, out_dir, "sam_step")
        for name, (d, rho_range) in data["fig1"].items():
            fig, ax = plt.subplots(2, 2, figsize=(15, 10),
                                   gridspec_kw={"hspace": 0.5, "wspace": 0.22})
            plot_fig1_1d(d, ax[0, 0]), plot_fig1_2d(d, ax[0, 1]), plot_fig1_bars(d, ax[1, 0])
            plot_rho_range(rho_range, ax[1, 1])
            paths += style.save(fig, out_dir, f"gam_{name}")
        plot_fig1_population(data["pops"])
        paths += style.save(plt.gcf(), out_dir, "gam_fig1_population")
        path = os.path.join(out_dir, "gam_fig1_population.md")
        paths.append(_io.write_text(path, fig1_markdown(data["pops"], data["robs"],
                                                        data["quick"])))
        fig, ax = plt.subplots(figsize=(6, 4.5))
        plot_periods(data["periods"], ax)
        paths += style.save(fig, out_dir, "gam_fig1a_periods")
        plot_prop42(data["prop42"])
        paths += style.save(plt.gcf(), out_dir, "gam_prop42")
        paths.append(lens_animation(os.path.join(out_dir, "gam_fig1a_lens.gif"),
                                    frames=12 if data["quick"] else 48)["path"])
    return paths


def compute_ridge(quick=True):
    """GSAM Fig. 3 on the ridge: the trajectories, the population and its neighbourhood; the
    verdicts are printed to stderr."""
    t0 = time.time()
    pop = ridge_population(20)
    rob = ridge_robustness(20, one_at_a_time=quick, centre=pop)
    _progress("ridge populations", t0)
    print("GSAM Fig. 3 on ridge (verdict over the neighbourhood):", file=sys.stderr)
    for line in ridge_headline_lines(rob):
        print("  " + line.replace("**", ""), file=sys.stderr)
    return {"quick": quick, "pop": pop, "rob": rob, "ridge": ridge_data()}


def draw_ridge(data, out_dir):
    """Write compute_ridge's figures, its markdown table and GIF to `out_dir`; the paths."""
    plt = _pyplot()
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    with style.context():
        plot_ridge_figure(data["ridge"], data["pop"])
        paths += style.save(plt.gcf(), out_dir, "ridge_trajectories")
        plot_ridge_population(data["pop"])
        paths += style.save(plt.gcf(), out_dir, "ridge_basins")
        plot_ridge_robustness(data["rob"])
        paths += style.save(plt.gcf(), out_dir, "ridge_neighbourhood")
        paths.append(_io.write_text(os.path.join(out_dir, "ridge_basins.md"),
                                    ridge_report_markdown(data["pop"], data["rob"])))
        paths.append(ridge_animation(data["ridge"], os.path.join(out_dir, "ridge_trajectories.gif"),
                                     frames=30 if data["quick"] else 60))
    return paths


def reproduce(out_dir, quick=True):
    """Write every figure of the package's two figure jobs to `out_dir`; the written paths."""
    return (draw_gam(compute_gam(quick), out_dir)
            + draw_ridge(compute_ridge(quick), out_dir))
