"""Live explorers (ipywidgets, imported lazily): the trajectory explorer and the flatness lens.

    from gamtoy.widgets import explorer, lens, render, lens_render, ExplorerState
    explorer(landscape="ridge")          # sliders for lr, rho, alpha, steps, start; checkboxes
    lens(landscape="fig1a", rho=0.5)     # the ball, its worst and steepest points, R0, R1, h

`render(state, fig=None)` and `lens_render(landscape, point, rho, fig=None)` are the pure parts:
they return (fig, data) and are what the tests and notebooks assert on. Both widgets put the
figure (a PNG at twice the CSS size: crisp at device pixel ratio 2) beside the controls, show the
readout once, and run every slider over an exact grid holding its initial value.
"""
from .canvas import png_bytes
from .explore import ExplorerState, explorer, figure_defaults, readout, readout_rows, render
from .lens import lens, lens_data, lens_render, lens_rows

__all__ = ["ExplorerState", "render", "explorer", "readout", "readout_rows", "figure_defaults",
           "lens", "lens_render", "lens_data", "lens_rows", "png_bytes"]
