"""One figure style for the package: slide-readable fonts, >= 150 dpi PNG with an SVG beside it,
and one marker convention used by every figure and widget.
"""
import contextlib
import os

from .. import _io

DPI = 160
RC = {"font.size": 12, "axes.titlesize": 13, "axes.labelsize": 12, "legend.fontsize": 10,
      "xtick.labelsize": 10, "ytick.labelsize": 10, "figure.dpi": 100, "savefig.dpi": DPI,
      "axes.titlepad": 8, "figure.constrained_layout.use": False}

# one marker convention: the same meaning in every figure and widget
MARKERS = {
    "start": dict(marker="o", ms=7, mfc="white", mec="k", ls="none"),
    "end": dict(marker="s", ms=7, mec="k", ls="none"),
    "minimum": dict(marker="*", ms=11, mfc="white", mec="k", mew=0.6, ls="none"),
    "w_adv": dict(marker=".", ms=5, ls="none"),            # SAM's ascent point w + rho g/|g|
    "theta_adv": dict(marker="x", ms=5, ls="none"),        # GAM's ascent point (Eq. 8)
    "r0_exact": dict(marker="^", ms=9, mec="k", ls="none"),  # exact worst loss in the ball (R0)
    "r1_exact": dict(marker="v", ms=9, mec="k", ls="none"),  # exact steepest point in the ball (R1)
    "first_order": dict(marker="D", ms=7, mfc="none", ls="none"),  # first-order guess of either
}


@contextlib.contextmanager
def context():
    """Matplotlib rc settings of the package, as a context manager."""
    import matplotlib as mpl
    with mpl.rc_context(RC):
        yield


def save(fig, out_dir, stem, formats=("png", "svg")):
    """Write `fig` as out_dir/stem.png (DPI) and .svg, atomically; close it; return the paths."""
    import matplotlib.pyplot as plt
    paths = []
    for ext in formats:
        path = os.path.join(out_dir, f"{stem}.{ext}")
        _io.savefig(fig, path, dpi=DPI, bbox_inches="tight")
        paths.append(path)
    plt.close(fig)
    return paths


def save_animation(anim, path, fps=10, dpi=80):
    """Write a matplotlib animation as a GIF (PillowWriter) atomically: PillowWriter needs a
    file name, so it writes a hidden temporary GIF beside `path`, which is then moved into place."""
    import tempfile
    from matplotlib.animation import PillowWriter
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".gif", dir=folder)
    os.close(fd)
    try:
        anim.save(tmp, writer=PillowWriter(fps=fps), dpi=dpi)
        with open(tmp, "rb") as fh:
            _io.write_bytes(path, fh.read())
    finally:
        os.remove(tmp)
    return path
