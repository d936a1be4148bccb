"""Off-screen figures for the live explorers, exact slider grids, and the readout's HTML.

Figures: a widget shows its figure as PNG bytes in an `ipywidgets.Image`, rendered at `SCALE` (2)
times the size the page shows it at, so it is crisp on HiDPI laptops (device pixel ratio 2) and
downsampled cleanly on ordinary screens. The static part (contours, axes, legend) is drawn once
and cached; an update restores it and draws only the artists registered as animated
(trajectories, markers). `invalidate(fig)` after changing anything static. `fig.savefig` still
draws everything.

Sliders: every slider is a `SelectionSlider` over an explicit grid of values that contains the
initial value exactly. The browser moves an integer index, never a float, so a value cannot snap
to a step (a `FloatLogSlider` turns lr 0.05 into 0.0501 when the page renders it, and the kernel
then re-renders a different run from the one the notebook's text describes).
"""
import html as _html
import json
import math
import struct
import zlib

import numpy as np

SCALE = 2     # pixels per CSS pixel of the PNGs (the device pixel ratio of a HiDPI laptop)
CSS_DPI = 100  # CSS pixels per figure inch in the page


def new_figure(figsize):
    """A pyplot-free Figure with an Agg canvas, rendered at SCALE x CSS_DPI (never shown twice by
    the inline backend). The page shows it at figsize x CSS_DPI CSS pixels (see `css_width`)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=figsize, dpi=SCALE * CSS_DPI)
    FigureCanvasAgg(fig)
    fig._gamtoy_blit = {"bg": None, "key": None, "animated": []}
    return fig


def css_width(fig):
    """The width (CSS pixels, as '600px') at which the page shows `fig`'s PNG."""
    return f"{round(fig.get_figwidth() * CSS_DPI)}px"


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
    """The figure as PNG bytes (fast blitted draw; see `encode_png`)."""
    return encode_png(np.asarray(draw(fig).buffer_rgba())[..., :3])


def _chunk(tag, data):
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def encode_png(rgb):
    """An (h, w, 3) uint8 array as an 8-bit RGB PNG: rows unfiltered, zlib level 1. Pillow's
    encoder tries a filter per row and takes ~90 ms for a 1160 x 860 frame; this takes ~20 ms
    (the frames are mostly flat colour, so filtering buys little)."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w, _ = rgb.shape
    raw = np.zeros((h, 3 * w + 1), np.uint8)  # a 0 (filter "none") byte before each row
    raw[:, 1:] = rgb.reshape(h, 3 * w)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + _chunk(b"IDAT", zlib.compress(raw.tobytes(), 1)) + _chunk(b"IEND", b""))


# ---------------------------------------------------------------- exact slider grids
def label(v):
    """The shortest text that reads back as exactly `v` (the slider's readout)."""
    v = float(v)
    for digits in range(4, 18):
        s = f"{v:.{digits}g}"
        if float(s) == v:
            return s
    return repr(v)


def _with(values, include):
    vals = {float(v) for v in values}
    vals |= {float(v) for v in include if v is not None}
    return sorted(vals)


def nice_step(span, n=200):
    """A step of the form {1, 2, 2.5, 5} x 10^k close to span / n."""
    raw = span / n
    k = math.floor(math.log10(raw))
    return min((m * 10.0 ** k for m in (1, 2, 2.5, 5, 10)), key=lambda s: abs(math.log(s / raw)))


def linear_grid(lo, hi, step, include=()):
    """lo, lo + step, ..., hi (each rounded to 12 decimals, so 0.1 + 0.2 reads 0.3), plus
    `include` (initial values are always on the grid)."""
    n = int(round((hi - lo) / step))
    return _with((round(lo + k * step, 12) for k in range(n + 1)), include)


def log_grid(lo, hi, include=()):
    """1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k between lo and hi, plus `include`."""
    vals = []
    for k in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1):
        for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8):
            v = float(f"{m}e{k}")
            if lo * (1 - 1e-12) <= v <= hi * (1 + 1e-12):
                vals.append(v)
    return _with(vals, include)


def slider(W, description, values, value, width="350px"):
    """A SelectionSlider over `values` (exact floats, shown with `label`) at `value`."""
    options = [(label(v), v) for v in values]
    return W.SelectionSlider(options=options, value=float(value), description=description,
                             continuous_update=True, readout=True,
                             style={"description_width": "64px"},
                             layout=W.Layout(width=width))


def set_options(s, values, value):
    """Give slider `s` a new grid and move it to `value` (observers should be held)."""
    s.options = [(label(v), v) for v in values]
    s.value = float(value)


# ---------------------------------------------------------------- readout HTML
def html_block(inner):
    """Readout HTML with normal line spacing (ipywidgets' HTML uses the 28 px widget height)."""
    return f"<div style='line-height:1.35;white-space:normal'>{inner}</div>"


def html_table(header, rows, cls="gamtoy-table"):
    """A small HTML table (header: list of str; rows: list of lists of str)."""
    cell = "padding:1px 4px;text-align:right;white-space:nowrap"
    th = "".join(f"<th style='{cell}'>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td style='{cell}'>{c}</td>" for c in r) + "</tr>"
                   for r in rows)
    return (f"<table class='{cls}' style='font-family:monospace;font-size:12px;line-height:1.3;"
            f"border-collapse:collapse;margin:2px 0'><tr>{th}</tr>{body}</table>")


def state_tag(state, renders):
    """A hidden element carrying, machine-readably, the state the readout was computed from and
    how many times the kernel has rendered (read by the browser test; shows nothing)."""
    js = _html.escape(json.dumps(state, sort_keys=True), quote=True)
    return f"<span class='gamtoy-state' data-state=\"{js}\" data-renders='{renders}' hidden></span>"


STATIC_NOTE = ("A live widget: this is its first frame. To move the sliders, run the notebook in "
               "a Jupyter kernel (Binder, `make lab`, or `gamtoy course DEST`).")


def with_first_frame(box):
    """Add the widget's current figure and a one-line note to its display data, so a page
    without a kernel (the course site, nbconvert) shows the first frame instead of "HBox(...)";
    Jupyter front ends still prefer the live widget's own view."""
    import base64
    import html
    live = box._repr_mimebundle_

    def bundle(**kw):
        data = dict(live(**kw) or {})
        png = base64.b64encode(bytes(box.image.value)).decode("ascii")
        data["text/html"] = (f"<div class='gamtoy-static'><img src='data:image/png;base64,{png}' "
                             f"style='max-width:100%;height:auto' alt='first frame of the widget'>"
                             f"<p><em>{html.escape(STATIC_NOTE)}</em></p></div>")
        return data
    box._repr_mimebundle_ = bundle
    return box
