"""The figure style: a palette that stays distinguishable under simulated colour-vision
deficiencies (Machado et al. 2009, compared in CIELAB), line styles that carry identity too, the
1D SAM-step picture (its artists hold its data) and projector-sized GIFs."""
import numpy as np
import pytest

from gamtoy import figures as G
from gamtoy.figures import style

PAPER_METHODS = ("sgd", "sam", "gsam", "gnp", "gam", "gam_accel")
# Delta E 1976 above ~10 reads as a clearly different colour at a glance (2.3 is just noticeable)
MIN_DELTA_E = 15.0


def _rgb(colour):
    import matplotlib.colors as mcolors
    return np.array(mcolors.to_rgb(colour))


def _min_distance(names, colours, kind=None):
    rgb = np.array([_rgb(colours[n]) for n in names])
    if kind:
        rgb = style.simulate_cvd(rgb, kind)
    lab = style.srgb_to_lab(rgb)
    d = np.linalg.norm(lab[:, None] - lab[None], axis=-1)
    return d[np.triu_indices(len(names), 1)].min()


def test_srgb_to_lab_matches_known_values():
    # white, black and sRGB red (CIE reference values)
    lab = style.srgb_to_lab(np.array([[1, 1, 1], [0, 0, 0], [1, 0, 0]]))
    np.testing.assert_allclose(lab[0], [100, 0, 0], atol=0.05)
    np.testing.assert_allclose(lab[1], [0, 0, 0], atol=1e-9)
    np.testing.assert_allclose(lab[2], [53.24, 80.09, 67.20], atol=0.1)


def test_simulated_deuteranopia_merges_red_and_green_but_keeps_greys():
    # the matrix is the deficiency's: pure red and green come close, a grey stays itself
    rg = style.simulate_cvd(np.array([[0.8, 0.2, 0.1], [0.3, 0.6, 0.1]]), "deuteranopia")
    assert np.linalg.norm(np.diff(style.srgb_to_lab(rg), axis=0)) < 25
    grey = style.simulate_cvd(np.array([0.37, 0.37, 0.37]), "deuteranopia")
    np.testing.assert_allclose(grey, 0.37, atol=2e-3)


@pytest.mark.parametrize("kind", [None, "deuteranopia", "protanopia"])
def test_the_optimizer_colours_stay_distinguishable(kind):
    assert _min_distance(PAPER_METHODS, style.OPTIMIZER_COLORS, kind) > MIN_DELTA_E


def test_the_old_tab_colours_failed_the_same_test():
    # SGD, SAM and GSAM were tab:orange, tab:green and tab:red: under deuteranopia they merge
    old = {"sgd": "tab:orange", "sam": "tab:green", "gsam": "tab:red"}
    assert _min_distance(tuple(old), old, "deuteranopia") < MIN_DELTA_E


@pytest.mark.parametrize("kind", [None, "deuteranopia", "protanopia"])
def test_the_ridge_outcome_colours_stay_distinguishable(kind):
    from gamtoy.figures import ridge
    assert _min_distance(tuple(ridge.OUTCOME_COLOURS), ridge.OUTCOME_COLOURS, kind) > MIN_DELTA_E


def test_the_old_outcome_colours_failed_the_same_test():
    # flat (tab:green) and SGD's well (tab:orange) merged under protanopia
    old = {"flat": "tab:green", "sgd_well": "tab:orange"}
    assert _min_distance(tuple(old), old, "protanopia") < MIN_DELTA_E


def test_measure_colours_stay_distinguishable_under_deuteranopia():
    assert _min_distance(tuple(style.MEASURE_COLORS), style.MEASURE_COLORS,
                         "deuteranopia") > MIN_DELTA_E


def test_each_paper_method_has_its_own_line_style_or_colour_pair():
    pairs = {(style.OPTIMIZER_LINESTYLES[n], style.OPTIMIZER_COLORS[n]) for n in PAPER_METHODS}
    assert len(pairs) == len(PAPER_METHODS)
    # SGD and GSAM share a solid line; their colours are far apart for everyone (tested above),
    # and SAM (dashed) and GNP (dotted) differ from both by their line style too
    assert len({style.OPTIMIZER_LINESTYLES[n] for n in PAPER_METHODS}) >= 5
    assert G.COLORS is style.OPTIMIZER_COLORS and G.LINESTYLES is style.OPTIMIZER_LINESTYLES


def test_figures_are_saved_at_projector_resolution():
    assert style.DPI >= 150 and style.RC["savefig.dpi"] >= 150


def test_sam_step_data_against_finite_differences():
    d = G.sam_step_data(w=-0.93, rho=0.13, lr=0.07)
    from gamtoy.figures import sam_step as S
    h = 1e-6
    fd = (S.loss_1d(d["w"] + h) - S.loss_1d(d["w"] - h)) / (2 * h)
    assert d["g"] == pytest.approx(fd, rel=1e-6)
    assert d["w_adv"] == pytest.approx(d["w"] + 0.13 * np.sign(d["g"]))
    assert d["g_p"] == pytest.approx(float(S.grad_1d(d["w_adv"])))
    assert d["w_sam"] == pytest.approx(d["w"] - 0.07 * d["g_p"])
    fd2 = (S.grad_1d(-1.0 + h) - S.grad_1d(-1.0 - h)) / (2 * h)
    assert d["lambda"]["sharp"] == pytest.approx(float(fd2), rel=1e-4)
    with pytest.raises(ValueError, match="rho"):
        G.sam_step_data(rho=-0.1)


def test_plot_sam_step_artists_hold_the_data():
    import matplotlib.pyplot as plt
    d = G.sam_step_data()
    art = G.plot_sam_step(d)
    np.testing.assert_allclose(art["loss"].get_xdata(), d["x"])
    assert art["w"].get_xdata()[0] == d["w"] and art["w_adv"].get_xdata()[0] == d["w_adv"]
    # each tangent segment has the slope it is labelled with
    for key in ("g", "g_p"):
        x, y = art[key].get_xdata(), art[key].get_ydata()
        assert (y[1] - y[0]) / (x[1] - x[0]) == pytest.approx(d[key])
        assert f"{d[key]:.2f}" in art[key].get_label()
    assert art["w_sam"].xy[0] == pytest.approx(d["w_sam"]) \
        and art["w_sgd"].xy[0] == pytest.approx(d["w_sgd"])
    # the default step: the ascent point is steeper, so SAM's step is the longer one
    assert abs(d["g_p"]) > 1.5 * abs(d["g"])
    plt.close("all")


def test_ridge_gif_is_wider_than_a_slide_thumbnail(tmp_path):
    from PIL import Image

    from gamtoy.figures import ridge as R
    d = R.ridge_data(steps=40, optimizers=("sgd", "sam", "gsam"))
    path = R.ridge_animation(d, str(tmp_path / "r.gif"), frames=3)
    im = Image.open(path)
    assert im.size[0] >= 900
    # the static figure's colours survive the GIF's palette (nearest colour within Delta E 5)
    im.seek(im.n_frames - 1)
    pal = np.unique(np.asarray(im.convert("RGB")).reshape(-1, 3), axis=0) / 255
    lab = style.srgb_to_lab(pal)
    for nm in ("sgd", "sam", "gsam"):
        want = style.srgb_to_lab(_rgb(style.OPTIMIZER_COLORS[nm]))
        assert np.linalg.norm(lab - want, axis=-1).min() < 5, nm


def test_fig1a_says_how_big_the_test_loss_preference_is():
    # the test-loss model prefers valley A by about 3% (0.375 vs 0.387): small, and the title
    # says so
    import matplotlib.pyplot as plt
    d = G.fig1_data("fig1a", n2d=30)
    who, gap = G.preference(d["test"])
    assert who == "A" and 0.02 < gap < 0.04
    assert G.preference([0.3, 0.2]) == ("B", pytest.approx(1 / 3))
    title = G.plot_fig1_bars(d)["A"][0].axes.get_title()
    assert f"test prefers A by {gap:.1%}" in title \
        and f"{d['test'][0]:.3f} vs {d['test'][1]:.3f}" in title
    plt.close("all")


def test_mlp_figure_footer_is_inside_the_saved_png(tmp_path):
    # the verdict footer hangs below the axes: the saved PNG must hold all of it, with a margin
    from PIL import Image

    from gamtoy.mlp import plots as P
    claims = [{"paper": "GAM Fig. 3", "claim": f"claim {i} " + "long words " * 12, "what": "a - b",
               "expected_sign": 1, "estimate": 0.1, "lo": 0.05, "hi": 0.2, "n": 5,
               "verdict": "reproduces"} for i in range(3)]

    def panel(r, ax=None):
        ax.plot([0, 1], [0, 1])
    png = P.figure({"claims": claims}, [panel, panel], str(tmp_path), "footer")[0]
    img = np.asarray(Image.open(png).convert("L"), float)
    ink = np.where(img.min(axis=1) < 128)[0]           # rows with dark pixels (text, lines)
    cols = np.where(img.min(axis=0) < 128)[0]
    assert ink.max() < img.shape[0] - 3 and cols.max() < img.shape[1] - 3   # a margin below, right
    assert ink.min() > 2 and cols.min() > 2
    # and the footer is there: dark rows well below the axes' bottom third
    assert (ink > 0.75 * img.shape[0]).sum() > 20
