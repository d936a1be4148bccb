"""Figures: compute-once functions that return data, plot functions `plot_*(data, ax=None)`.

The main job's two figure jobs (`gamtoy.figures.jobs`: compute, then draw) write every figure
(PNG + SVG), the GIFs and the markdown tables; `reproduce(out_dir, quick=True)` runs both.
"""
from . import style
from .common import COLORS, generalisation_error, landscape_grid, plot_landscape
from .gam_fig1 import (
                       b_side_fate,
                       describe_rho_range,
                       fig1_cells,
                       fig1_data,
                       fig1_headline_lines,
                       fig1_population,
                       fig1_population_markdown,
                       fig1_robustness,
                       fig1_robustness_markdown,
                       gam_fate_text,
                       gam_stability,
                       lens_animation,
                       periods_data,
                       plot_fig1_1d,
                       plot_fig1_2d,
                       plot_fig1_bars,
                       plot_fig1_population,
                       plot_periods,
                       plot_prop42,
                       plot_rho_range,
                       preference,
                       prop42_data,
                       rho_range_data,
                       valley_of,
)
from .jobs import compute_gam, compute_ridge, draw_gam, draw_ridge, reproduce
from .ridge import (
                       CLAIM_TEXT,
                       FACTORS,
                       RIDGE_ALPHA,
                       RIDGE_BOX,
                       RIDGE_HYPER,
                       RIDGE_LR,
                       RIDGE_RHO,
                       RIDGE_START,
                       RIDGE_STEPS,
                       claims,
                       end_basin,
                       neighbourhood,
                       outcomes,
                       plot_ridge_figure,
                       plot_ridge_population,
                       plot_ridge_robustness,
                       population_table_markdown,
                       ridge_animation,
                       ridge_caption,
                       ridge_data,
                       ridge_hyper,
                       ridge_population,
                       ridge_report_markdown,
                       ridge_robustness,
                       robustness_table_markdown,
                       story_fraction,
)
from .ridge import headline_lines as ridge_headline_lines
from .sam_step import plot_sam_step, sam_step_data
from .trajectories import (
                       LINESTYLES,
                       RIDGE_OPTIMIZERS,
                       basin_of,
                       decomposition_data,
                       gallery_data,
                       plot_decomposition,
                       plot_gallery,
                       plot_trajectories,
                       trajectory_data,
)

__all__ = [
    "b_side_fate", "basin_of", "CLAIM_TEXT", "claims", "COLORS", "compute_gam",
    "compute_ridge", "decomposition_data", "describe_rho_range", "draw_gam", "draw_ridge",
    "end_basin", "FACTORS", "fig1_cells", "fig1_data", "fig1_headline_lines",
    "fig1_population", "fig1_population_markdown", "fig1_robustness",
    "fig1_robustness_markdown", "gallery_data", "gam_fate_text", "gam_stability",
    "generalisation_error", "landscape_grid", "lens_animation", "LINESTYLES", "neighbourhood",
    "outcomes", "periods_data", "plot_decomposition", "plot_fig1_1d", "plot_fig1_2d",
    "plot_fig1_bars", "plot_fig1_population", "plot_gallery", "plot_landscape", "plot_periods",
    "plot_prop42", "plot_rho_range", "plot_ridge_figure", "plot_ridge_population",
    "plot_ridge_robustness", "plot_sam_step", "plot_trajectories", "population_table_markdown",
    "preference", "prop42_data", "reproduce", "rho_range_data", "RIDGE_ALPHA",
    "ridge_animation", "RIDGE_BOX", "ridge_caption", "ridge_data", "ridge_headline_lines",
    "RIDGE_HYPER", "ridge_hyper", "RIDGE_LR", "RIDGE_OPTIMIZERS", "ridge_population",
    "ridge_report_markdown", "RIDGE_RHO", "ridge_robustness", "RIDGE_START", "RIDGE_STEPS",
    "robustness_table_markdown", "sam_step_data", "story_fraction", "style", "trajectory_data",
    "valley_of",
]
