"""Live explorers, headless: render directly and assert on artist data; set widget values."""
import time

import numpy as np
import pytest

import gamtoy as gt
from gamtoy import flatness as F
from gamtoy.widgets import ExplorerState, explorer, lens, lens_render, png_bytes, render

SIX = ("sgd", "sam", "gnp", "gsam", "gam", "gam_accel")


def _path(fig, name):
    return fig._gamtoy_explorer["lines"][name]["path"]


def test_render_lines_start_at_start_and_readout_is_exact():
    st = ExplorerState(landscape="ridge", optimizers=SIX, steps=120, start_x=-3.0, start_y=1.2)
    fig, d = render(st)
    L = gt.landscapes.get("ridge")
    ends = np.array([d["ends"][nm] for nm in SIX])
    for nm in SIX:
        xy = _path(fig, nm).get_xydata()
        assert xy.shape == (121, 2)
        np.testing.assert_allclose(xy[0], (-3.0, 1.2))
        np.testing.assert_allclose(xy[-1], d["ends"][nm])
        np.testing.assert_allclose(fig._gamtoy_explorer["lines"][nm]["end"].get_xydata()[0],
                                   d["ends"][nm])
    want = {"R0": F.r0(L, ends, 0.2), "R1": F.r1(L, ends, 0.2),
            "h": F.surrogate_gap(L, ends, 0.2), "lambda_max": F.lambda_max(L, ends)}
    for k, v in want.items():
        np.testing.assert_allclose([d["readout"][nm][k] for nm in SIX], v, rtol=1e-9, atol=1e-12)
    assert "gam_accel" in d["table"] and "R0" in d["table"]
    # ascent points: SAM's w_adv markers are the recorded w_adv, every steps // 30 steps
    w = fig._gamtoy_explorer["lines"]["sam"]["w_adv"].get_xydata()
    np.testing.assert_allclose(w, d["runs"]["sam"].info["w_adv"][::4])
    assert len(fig._gamtoy_explorer["lines"]["gam"]["theta_adv"].get_xydata()) > 0


def test_rho_and_alpha_go_only_where_they_apply():
    st = ExplorerState(optimizers=("sgd", "sam", "gsam", "gam_accel"), rho=0.3, alpha=2.0, steps=5)
    hp = render(st)[1]["hyper"]
    assert hp["sgd"] == {"lr": 0.05}
    assert hp["sam"] == {"lr": 0.05, "rho": 0.3}
    assert hp["gsam"]["alpha"] == 2.0 and hp["gam_accel"]["alpha"] == 1.0  # GAM Eq. 44: <= 1
    assert render(ExplorerState(steps=5, base="adam"))[1]["hyper"]["gam"]["base"] == "adam"


def test_render_reuses_the_figure_and_only_moves_lines():
    fig, _ = render(ExplorerState(steps=50))
    ax, contour = fig.axes[0], fig._gamtoy_explorer
    fig2, d = render(ExplorerState(steps=80, start_x=-2.5, optimizers=("sgd", "gsam")), fig)
    assert fig2 is fig and fig.axes[0] is ax and fig._gamtoy_explorer is contour
    assert _path(fig, "gsam").get_xydata().shape == (81, 2)
    assert _path(fig, "gsam").get_xydata()[0, 0] == -2.5
    assert not _path(fig, "sam").get_visible() and set(d["readout"]) == {"sgd", "gsam"}
    render(ExplorerState(landscape="himmelblau", steps=10), fig)
    assert fig.axes[0].get_title() == "himmelblau"
    assert png_bytes(fig)[:8] == b"\x89PNG\r\n\x1a\n"


def test_explorer_widget_wiring():
    w = explorer(steps=60)
    fig = w.fig
    before = _path(fig, "sgd").get_xydata().copy()
    w.controls["start_x"].value = -2.0
    after = _path(w.fig, "sgd").get_xydata()
    np.testing.assert_allclose(after[0], (-2.0, 1.5))
    assert not np.allclose(before[-1], after[-1])
    assert w.last["state"].start_x == -2.0 and w.last["start"][0] == -2.0

    old_end = w.last["ends"]["sgd"].copy()
    w.controls["lr"].value = 0.01
    assert w.last["hyper"]["sgd"]["lr"] == pytest.approx(0.01)
    assert not np.allclose(_path(w.fig, "sgd").get_xydata()[-1], old_end)

    w.controls["optimizers"]["gam"].value = False
    assert "gam" not in w.last["readout"] and not _path(w.fig, "gam").get_visible()

    w.controls["landscape"].value = "himmelblau"
    L = gt.landscapes.get("himmelblau")
    (x0, x1), _ = L.bounds
    assert w.fig.axes[0].get_title() == "himmelblau" and w.controls["start_x"].min == x0
    np.testing.assert_allclose(_path(w.fig, "sgd").get_xydata()[0],
                               (w.controls["start_x"].value, w.controls["start_y"].value))
    assert "R0" in w.html.value and w.image.value[:4] == b"\x89PNG"


@pytest.mark.parametrize("name,point,rho",
                         [("fig1a", (2.0, 0.5), 0.5), ("ridge", (-2.0, 0.6), 0.3)])
def test_lens_worst_and_steepest_points(name, point, rho):
    fig, d = lens_render(name, point, rho)
    L = gt.landscapes.get(name)
    p = np.asarray(point)
    worst = d["artists"]["worst"].get_xydata()[0]
    steep = d["artists"]["steepest"].get_xydata()[0]
    assert np.linalg.norm(worst - p) <= rho * (1 + 1e-9)
    assert np.linalg.norm(steep - p) <= rho * (1 + 1e-9)
    assert L.value(worst) - L.value(p) == pytest.approx(d["R0"], rel=1e-9, abs=1e-12)
    assert rho * np.linalg.norm(L.grad(steep)) == pytest.approx(d["R1"], rel=1e-9)
    assert d["R0"] == pytest.approx(float(F.r0(L, p, rho)))
    assert d["R0"] <= d["R1"] + 1e-9  # GAM Prop. 4.2
    ball = d["artists"]["ball"].get_xydata()
    np.testing.assert_allclose(np.linalg.norm(ball - p, axis=1), rho)
    np.testing.assert_allclose(d["artists"]["w_adv"].get_xydata()[0], F.sam_point(L, p, rho))
    np.testing.assert_allclose(d["artists"]["theta_adv"].get_xydata()[0], F.gam_point(L, p, rho))


def test_lens_widget_wiring():
    w = lens(landscape="fig1a", x=2.0, y=0.5, rho=0.5)
    w.controls["x"].value = 1.8
    assert w.last["point"][0] == 1.8
    np.testing.assert_allclose(w.last["artists"]["point"].get_xydata()[0], (1.8, 0.5))
    r0 = w.last["R0"]
    w.controls["rho"].value = 0.2
    assert w.last["R0"] < r0 and "R1" in w.html.value
    w.controls["landscape"].value = "ridge"
    assert w.last["landscape"] == "ridge" and w.controls["x"].max == 4.0


def test_render_is_live():
    """Six optimizers x 300 steps, readout and PNG: the median must stay well under a second
    (about 80 ms on the 2-core dev machine; the generous bound keeps CI from flaking)."""
    fig, _ = render(ExplorerState(), text=False)
    png_bytes(fig)
    ts = []
    for k in range(5):
        t = time.perf_counter()
        render(ExplorerState(lr=0.04 + 0.002 * k), fig, text=False)
        png_bytes(fig)
        ts.append(time.perf_counter() - t)
    assert np.median(ts) < 0.5
