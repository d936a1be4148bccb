"""One figure style for the package: slide-readable fonts, >= 150 dpi PNG with an SVG beside it,
one colour-blind-safe palette (Okabe & Ito 2008) with a line style per optimizer, and one marker
convention used by every figure and widget.
"""
import contextlib
import os

from .. import _io
from ..optim import specs as _specs

DPI = 160
RC = {"font.size": 12, "axes.titlesize": 13, "axes.labelsize": 12, "legend.fontsize": 10,
      "xtick.labelsize": 10, "ytick.labelsize": 10, "figure.dpi": 100, "savefig.dpi": DPI,
      "axes.titlepad": 8, "figure.constrained_layout.use": False}

# Okabe & Ito (2008), "Color Universal Design": distinguishable under the common colour-vision
# deficiencies (tests/test_figure_style.py checks a simulated deuteranopia and protanopia)
OKABE_ITO = dict(_specs._OI)
_OI = OKABE_ITO
# one colour and one line style per optimizer, the same in every figure and widget: each is a
# field of the optimizer's record (gamtoy.optim.specs), so a line style carries identity in
# greyscale and for any colour vision
OPTIMIZER_COLORS = {name: spec.colour for name, spec in _specs.SPECS.items()}
OPTIMIZER_LINESTYLES = {name: spec.line for name, spec in _specs.SPECS.items()}
# the default colour cycle (figures that do not name an optimizer) uses the same palette
RC["axes.prop_cycle"] = __import__("cycler").cycler(
    color=[_OI[k] for k in ("blue", "orange", "bluish_green", "vermillion", "reddish_purple",
                            "sky_blue", "black", "yellow")])
# the flatness measures of GAM Fig. 1 (R0, R1, the test-loss model): three roles, three hues
MEASURE_COLORS = {"R0": _OI["blue"], "R1": _OI["vermillion"], "test": _OI["reddish_purple"]}


def srgb_to_lab(rgb):
    """CIELAB (D65) of sRGB values in [0, 1], shape (..., 3): the space where a Euclidean
    distance (Delta E 1976) of about 2 is just noticeable."""
    import numpy as np
    c = np.clip(np.asarray(rgb, float), 0, 1)
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    M = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = lin @ M.T / np.array([0.95047, 1.0, 1.08883])
    d = 6 / 29
    f = np.where(xyz > d ** 3, np.cbrt(xyz), xyz / (3 * d * d) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]),
                     200 * (f[..., 1] - f[..., 2])], -1)


# Machado, Oliveira & Fernandes (2009), severity 1.0, acting on linear RGB
CVD = {"deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413),
                        (-0.011820, 0.042940, 0.968881)),
       "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216),
                      (-0.003882, -0.048116, 1.051998))}


def simulate_cvd(rgb, kind="deuteranopia"):
    """sRGB in [0, 1], shape (..., 3), as seen with a colour-vision deficiency (Machado et al.
    2009): linearise, apply the matrix, clip, re-encode."""
    import numpy as np
    c = np.clip(np.asarray(rgb, float), 0, 1)
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    out = np.clip(lin @ np.asarray(CVD[kind]).T, 0, 1)
    return np.where(out <= 0.0031308, 12.92 * out, 1.055 * out ** (1 / 2.4) - 0.055)


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


def save_animation(anim, path, fps=10, dpi=100):
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
