"""Off-screen figures for the live explorers: a cached background plus blitted artists, as PNG.

A widget shows its figure as PNG bytes in an `ipywidgets.Image` (works in any front end, and
headless). The static part (contours, axes, legend) is drawn once and cached; an update restores
it and draws only the artists registered as animated (trajectories, markers, readout text).
`invalidate(fig)` after changing anything static. `fig.savefig` still draws everything.
"""
import io

import numpy as np


def new_figure(figsize):
    """A pyplot-free Figure with an Agg canvas (never shown twice by the inline backend)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=figsize, dpi=72)
    FigureCanvasAgg(fig)
    fig._gamtoy_blit = {"bg": None, "key": None, "animated": []}
    return fig


def _cache(fig):
    if not hasattr(fig, "_gamtoy_blit"):
        fig._gamtoy_blit = {"bg": None, "key": None, "animated": []}
    return fig._gamtoy_blit


def animate(fig, artists):
    """Register `artists` as redrawn on every update (left out of the cached background)."""
    c = _cache(fig)
    for a in artists:
        a.set_animated(True)
        c["animated"].append(a)
    c["bg"] = None


def invalidate(fig, forget=False):
    """Drop the cached background (and, with forget=True, the animated artists too)."""
    c = _cache(fig)
    c["bg"] = None
    if forget:
        c["animated"] = []


def draw(fig):
    """Draw `fig` on its Agg canvas: restore the cached background and blit the animated artists."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    c, canvas = _cache(fig), fig.canvas
    key = (fig.bbox.width, fig.bbox.height, fig.dpi)
    if c["bg"] is None or c["key"] != key:
        canvas.draw()  # animated artists are skipped here
        c["bg"], c["key"] = canvas.copy_from_bbox(fig.bbox), key
    else:
        canvas.restore_region(c["bg"])
    for a in c["animated"]:
        if a.get_visible():
            (a.axes or fig).draw_artist(a)
    return canvas


def png_bytes(fig):
    """The figure as PNG bytes (fast blitted draw, light compression)."""
    from PIL import Image
    canvas = draw(fig)
    buf = io.BytesIO()
    Image.fromarray(np.asarray(canvas.buffer_rgba())).save(buf, format="png", compress_level=1)
    return buf.getvalue()


def set_range(slider, lo, hi, value, step=None):
    """Move a slider to [lo, hi] and `value` without tripping min <= value <= max validation."""
    slider.min, slider.max = min(slider.min, lo), max(slider.max, hi)
    if step is not None:
        slider.step = step
    slider.value = min(max(value, lo), hi)
    slider.min, slider.max = lo, hi


def html_table(header, rows):
    """A small HTML table (header: list of str; rows: list of lists of str)."""
    th = "".join(f"<th style='padding:0 8px'>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td style='padding:0 8px;text-align:right'>{c}</td>"
                                    for c in r) + "</tr>" for r in rows)
    return f"<table style='font-family:monospace'><tr>{th}</tr>{body}</table>"
