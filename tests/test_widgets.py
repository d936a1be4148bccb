"""Live explorers, headless: render directly and assert on artist data; set widget values; and
bad input: ExplorerState's fields (optimizers that are not a sequence of names, empty or repeated;
a run too long to redraw live; a start outside the run's box).

(Speed lives in benchmarks/bench_widgets.py; the real browser in tests/test_browser.py.)
"""
import io

import numpy as np
import pytest

import gamtoy as gt
from gamtoy import flatness as F
from gamtoy.figures import ridge as R
from gamtoy.figures.style import MARKERS
from gamtoy.optim import schedules
from gamtoy.widgets import (
    ExplorerState,
    canvas,
    explorer,
    lens,
    lens_render,
    png_bytes,
    readout_rows,
    render,
)
from gamtoy.widgets.explore import ASCENT_MARKS, MAX_STEPS

SIX = ("sgd", "sam", "gnp", "gsam", "gam", "gam_accel")


def _path(fig, name):
    return fig._gamtoy_explorer["lines"][name]["path"]


def _sliders(w):
    return {k: s for k, s in w.controls.items() if hasattr(s, "options") and k not in
            ("landscape", "base", "schedule")}


def test_render_lines_start_at_start_and_readout_is_exact():
    st = ExplorerState(landscape="ridge", optimizers=SIX, steps=120, start_x=-3.0, start_y=1.2,
                       lr=0.05, rho=0.2, alpha=0.7)
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
    rows = readout_rows(d)
    assert [r[0] for r in rows] == list(SIX) and rows[3][2] == f"{want['R1'][3]:.4g}"


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_ascent_marks_are_the_points_the_runs_record(schedule):
    """The explorer runs without per-step diagnostics and re-evaluates each estimator at every
    (steps // 30)-th point; those marks must equal what run(..., diagnostics=True) records,
    including rho_t under GSAM's schedule (rho proportional to lr)."""
    st = ExplorerState(optimizers=SIX + ("sam+gam",), steps=90, lr=0.04, rho=0.3, alpha=0.7,
                       start_x=-2.7, start_y=1.1, schedule=schedule, lr_min=0.004, rho_min=0.02)
    fig, d = render(st, text=False)
    L = gt.landscapes.get("ridge")
    every = 90 // ASCENT_MARKS
    for nm in st.optimizers:
        kw = d["hyper"][nm]
        ref = gt.run(nm, L, np.array([-2.7, 1.1]), 90, diagnostics=True, **kw)
        np.testing.assert_array_equal(d["runs"][nm].points, ref.points)
        for key in ("w_adv", "theta_adv"):
            if key not in ref.info:
                assert key not in d["ascent"][nm]
                continue
            want = ref.info[key][::every]
            np.testing.assert_allclose(d["ascent"][nm][key], want, rtol=0, atol=1e-12)
            np.testing.assert_allclose(fig._gamtoy_explorer["lines"][nm][key].get_xydata(), want,
                                       rtol=0, atol=1e-12)
    assert len(d["ascent"]["gam"]["theta_adv"]) == 30 and "w_adv" in d["ascent"]["gam_accel"]


def test_rho_and_alpha_go_only_where_they_apply():
    st = ExplorerState(optimizers=("sgd", "sam", "gsam", "gam_accel"), lr=0.03, rho=0.3,
                       alpha=2.0, steps=5, schedule="constant")
    hp = render(st)[1]["hyper"]
    assert hp["sgd"] == {"lr": 0.03}
    assert hp["sam"] == {"lr": 0.03, "rho": 0.3}
    assert hp["gsam"]["alpha"] == 2.0 and hp["gam_accel"]["alpha"] == 1.0  # GAM Eq. 44: <= 1
    assert render(ExplorerState(steps=5, base="adam"))[1]["hyper"]["gam"]["base"] == "adam"
    cos = ExplorerState(optimizers=("sgd", "gsam"), lr=0.05, rho=0.3, steps=40,
                        schedule="cosine", lr_min=0.0025, rho_min=0.01)
    hp = render(cos)[1]["hyper"]
    assert hp["gsam"]["rho_schedule"] == "lr" and hp["gsam"]["rho_min"] == 0.01
    assert hp["sgd"]["lr"](1) == 0.05 and hp["sgd"]["lr"](40) == pytest.approx(0.0025)


def test_defaults_are_the_ridge_figures_settings_read_at_call_time(monkeypatch):
    g = R.RIDGE_HYPER["gsam"]
    st = ExplorerState()
    assert (st.lr, st.rho, st.alpha) == (float(schedules.as_schedule(g["lr"]).vmax),
                                         float(schedules.as_schedule(g["rho"]).vmax),
                                         float(g.get("alpha", st.alpha)))
    assert st.steps == R.RIDGE_STEPS and (st.start_x, st.start_y) == tuple(R.RIDGE_START)
    # the figure's module is read when the state is made, not copied at import
    hyper = {**R.RIDGE_HYPER, "gsam": {"lr": schedules.cosine(0.07, 60, 0.0035), "rho": 0.25,
                                       "alpha": 0.3, "rho_schedule": "lr"}}
    monkeypatch.setattr(R, "RIDGE_HYPER", hyper)
    monkeypatch.setattr(R, "RIDGE_STEPS", 60)
    monkeypatch.setattr(R, "RIDGE_START", (-2.9, 1.3))
    st = ExplorerState(optimizers=("gsam",))
    assert (st.lr, st.lr_min, st.rho, st.alpha, st.steps, st.schedule) == (
        0.07, 0.0035, 0.25, 0.3, 60, "cosine")
    assert (st.start_x, st.start_y) == (-2.9, 1.3)
    # ... and the explorer's run is the figure's run
    want = gt.run("gsam", "ridge", np.array([-2.9, 1.3]), 60, **hyper["gsam"]).final
    np.testing.assert_array_equal(render(st)[1]["ends"]["gsam"], want)
    w = explorer(optimizers=("gsam",))
    np.testing.assert_array_equal(w.last["ends"]["gsam"], want)


def test_sliders_hold_every_initial_value_exactly():
    """The page moves an integer index over each slider's grid; the grid holds the initial
    value exactly and its label reads back as that value, so nothing can snap (issue 10: lr 0.05
    -> 0.0501, start x -3 -> -3.0125 moved plain GAM's end)."""
    odd = dict(lr=0.0537, rho=0.213, alpha=0.77, steps=333, start_x=-3.0123, start_y=1.4567)
    for init in ({}, odd):
        w = explorer(**init)
        st = w.last["state"]
        assert st == w.initial and w.renders == 1
        for k, s in _sliders(w).items():
            assert s.value == getattr(st, k), k
            labels = dict((v, lab) for lab, v in s.options)
            assert float(labels[s.value]) == s.value, (k, labels[s.value])
            assert len(set(labels.values())) == len(labels), f"{k}: duplicate labels"
        if init:
            assert all(getattr(st, k) == v for k, v in odd.items())
    w = lens(landscape="fig1a", x=1.995, y=0.013, rho=0.437)
    assert (w.last["point"] == (1.995, 0.013)).all() and w.last["rho"] == 0.437
    for s in _sliders(w).values():
        assert float(dict((v, lab) for lab, v in s.options)[s.value]) == s.value
    assert [canvas.label(v) for v in (0.05, round(0.1 + 0.2, 12), -3.0125, 1e-3)] == [
        "0.05", "0.3", "-3.0125", "0.001"]


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


def test_png_is_the_canvas_at_twice_the_css_size():
    from PIL import Image
    fig, _ = render(ExplorerState(steps=20), text=False)
    png = png_bytes(fig)
    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    np.testing.assert_array_equal(img, np.asarray(fig.canvas.buffer_rgba())[..., :3])
    assert img.shape[1] == canvas.SCALE * int(canvas.css_width(fig)[:-2])


def test_markers_follow_the_one_convention():
    fig, d = render(ExplorerState(steps=30, optimizers=("gam",)), text=False)
    ln = fig._gamtoy_explorer["lines"]["gam"]
    for key in ("w_adv", "theta_adv", "end"):
        assert ln[key].get_marker() == MARKERS[key]["marker"], key
    assert fig._gamtoy_explorer["start"].get_marker() == MARKERS["start"]["marker"]
    _, dl = lens_render("fig1a", (2.0, 0.0), 0.5, text=False)
    a = dl["artists"]
    assert a["worst"].get_marker() == MARKERS["r0_exact"]["marker"] == "^"
    assert a["steepest"].get_marker() == MARKERS["r1_exact"]["marker"] == "v"
    assert a["w_adv"].get_marker() == MARKERS["w_adv"]["marker"]
    assert a["theta_adv"].get_marker() == MARKERS["theta_adv"]["marker"]


def test_explorer_widget_wiring():
    w = explorer(steps=60, lr=0.05, rho=0.2, alpha=0.7, start_x=-3.0, start_y=1.5,
                 schedule="constant")
    fig = w.fig
    before = _path(fig, "sgd").get_xydata().copy()
    w.controls["start_x"].value = -2.0
    after = _path(w.fig, "sgd").get_xydata()
    np.testing.assert_allclose(after[0], (-2.0, 1.5))
    assert not np.allclose(before[-1], after[-1])
    assert w.last["state"].start_x == -2.0 and w.last["start"][0] == -2.0

    old_end = w.last["ends"]["sgd"].copy()
    w.controls["lr"].value = 0.01
    assert w.last["hyper"]["sgd"]["lr"] == 0.01
    assert not np.allclose(_path(w.fig, "sgd").get_xydata()[-1], old_end)

    w.controls["optimizers"]["gam"].value = False
    assert "gam" not in w.last["readout"] and not _path(w.fig, "gam").get_visible()
    w.controls["schedule"].value = "cosine"
    assert w.last["state"].schedule == "cosine" and "cosine" in w.html.value

    w.controls["landscape"].value = "himmelblau"
    L = gt.landscapes.get("himmelblau")
    (x0, x1), _ = L.bounds
    assert w.fig.axes[0].get_title() == "himmelblau"
    assert w.controls["start_x"].options[0][1] == x0 and w.controls["start_x"].options[-1][1] == x1
    np.testing.assert_allclose(_path(w.fig, "sgd").get_xydata()[0],
                               (w.controls["start_x"].value, w.controls["start_y"].value))
    assert "R0" in w.html.value and w.image.value[:4] == b"\x89PNG"
    # the readout is shown once, as HTML beside the figure (no text inside the figure)
    assert w.fig._gamtoy_explorer["text"] is None and w.html.value.count("<table") == 1


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


def test_lens_window_stays_while_the_ball_is_inside_and_follows_it_out():
    fig, d = lens_render("fig1a", (2.0, 0.0), 0.3, text=False)
    win = fig._gamtoy_lens
    for x in (2.02, 2.06, 1.97):
        fig, d = lens_render("fig1a", (x, 0.01), 0.3, fig, text=False)
        assert fig._gamtoy_lens is win  # the contour is not redrawn
    fig, d = lens_render("fig1a", (3.1, 0.4), 0.3, fig, text=False)
    assert fig._gamtoy_lens is not win
    for x, y, rho in ((3.1, 0.4, 0.3), (-1.0, 0.7, 0.05), (-1.0, 0.7, 1.7)):
        fig, d = lens_render("fig1a", (x, y), rho, fig, text=False)
        (x0, x1), (y0, y1) = d["window"]
        assert x0 <= x - rho and x + rho <= x1 and y0 <= y - rho and y + rho <= y1
        assert (x1 - x0) <= 6 * max(rho, 0.1)  # still a zoom
        np.testing.assert_allclose(fig.axes[0].get_xlim(), (x0, x1))


def test_lens_widget_wiring():
    w = lens(landscape="fig1a", x=2.0, y=0.5, rho=0.5)
    w.controls["x"].value = 1.8
    assert w.last["point"][0] == 1.8
    np.testing.assert_allclose(w.last["artists"]["point"].get_xydata()[0], (1.8, 0.5))
    r0 = w.last["R0"]
    w.controls["rho"].value = 0.2
    assert w.last["R0"] < r0 and "R1" in w.html.value and w.html.value.count("<table") == 1
    w.controls["landscape"].value = "ridge"
    assert w.last["landscape"] == "ridge" and w.controls["x"].options[-1][1] == 4.0


def test_readout_shows_a_saddle_as_a_saddle():
    """At the figure's start SAM converges to saddle 2 of the ridge: the readout gives both
    Hessian eigenvalues (lambda_min < 0) and the type; the lens says the same at that point."""
    from gamtoy.widgets import lens_data, lens_rows
    from gamtoy.widgets.explore import figure_defaults
    st = ExplorerState(**{**figure_defaults("ridge"), "optimizers": ("sgd", "sam")})
    _, d = render(st, text=False)
    L = gt.landscapes.get("ridge")
    eig = np.linalg.eigvalsh(L.hessian(d["ends"]["sam"]))
    assert d["types"] == {"sgd": "well 1", "sam": "saddle 2"}
    assert d["readout"]["sam"]["lambda_min"] == pytest.approx(eig[0]) and eig[0] < -20
    rows = {r[0]: r for r in readout_rows(d)}
    assert rows["sam"][-1] == "saddle 2" and rows["sam"][4] == f"{eig[0]:.4g}"
    ld = lens_data("ridge", L.saddles[1], 0.2)
    assert ld["type"] == "saddle 2" and ld["lambda_min"] < 0 < ld["lambda_max"]
    assert ["type of the point", "saddle 2", ""] in lens_rows(ld)


# ---- bad input --------------------------------------------------------------------------------
def test_bad_states_are_errors_naming_the_field():
    with pytest.raises(ValueError, match=r"unknown optimizer.*'gsma'.*valid names: .*gsam"):
        ExplorerState(optimizers=("sgd", "gsma"))
    with pytest.raises(ValueError, match="unknown landscape"):
        ExplorerState(landscape="nope")
    with pytest.raises(ValueError, match="lr"):
        ExplorerState(lr=0.0)
    with pytest.raises(ValueError, match="rho"):
        ExplorerState(rho=-0.1)
    with pytest.raises(ValueError, match="steps"):
        ExplorerState(steps=0)
    with pytest.raises(TypeError, match="steps"):
        ExplorerState(steps=2.5)
    with pytest.raises(ValueError, match="base"):
        ExplorerState(base="lion")
    with pytest.raises(ValueError, match="schedule"):
        ExplorerState(schedule="linear")
    with pytest.raises(ValueError, match="start_x"):
        ExplorerState(start_x=float("nan"))
    with pytest.raises(ValueError, match="unknown optimizer"):
        explorer(optimizers=("adamw",))
    with pytest.raises(ValueError, match="unknown keyword"):
        lens(landscape="fig1a", radius=0.3)
    assert ExplorerState(optimizers="gsam").optimizers == ("gsam",)


@pytest.mark.parametrize("kw,err,match", [
    (dict(optimizers=5), TypeError, "optimizers must be a name or a sequence of names"),
    (dict(optimizers=[]), ValueError, "optimizers is empty"),
    (dict(optimizers=[["sam"]]), ValueError, r"unknown optimizer\(s\) \[\['sam'\]\]"),
    (dict(optimizers=["sam", "gam", "sam"]), ValueError, r"lists \['sam'\] more than once"),
    (dict(steps=MAX_STEPS + 1), ValueError, f"steps must be <= {MAX_STEPS}"),
    (dict(start_x=1e9), ValueError, r"start_x must be in \[-"),
    (dict(start_y=-np.inf), ValueError, "start_y"),
])
def test_bad_explorer_fields_are_refused_naming_the_field(kw, err, match):
    with pytest.raises(err, match=match):
        ExplorerState(**kw)


def test_good_fields_still_pass():
    s = ExplorerState(optimizers=("sgd", "gsam"), steps=MAX_STEPS, start_x=np.float32(-2.5))
    assert s.optimizers == ("sgd", "gsam") and s.start_x == -2.5
    assert ExplorerState(optimizers="gam").optimizers == ("gam",)
