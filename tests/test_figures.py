"""GAM Fig. 1 and GSAM Fig. 3 claims as numbers; figure functions return the right artist data."""
import numpy as np
import pytest

import gamtoy as gt
from gamtoy import figures as G

RHOS_1B = np.linspace(0.44, 0.56, 5)  # inside the analytic window (0.42, 0.59) for rho = 0.5


@pytest.mark.parametrize("r", [0.5])
def test_fig1a_r0_ties_while_r1_and_test_prefer_smooth_valley_A(r):
    d = G.rho_range_data("fig1a", rhos=[r])
    R0, R1, test = d["R0"][0], d["R1"][0], d["test"][0]
    assert R0[1] == pytest.approx(R0[0], rel=1e-3)
    assert R1[0] < 0.85 * R1[1]
    assert test[0] < test[1]


def test_fig1a_r1_and_test_prefer_A_on_a_grid_of_radii():
    d = G.rho_range_data("fig1a", rhos=np.linspace(0.2, 0.8, 7))
    assert np.all(d["R1"][:, 0] < d["R1"][:, 1]) and np.all(d["test"][:, 0] < d["test"][:, 1])
    assert np.all(d["R0"][:, 1] >= d["R0"][:, 0] - 1e-9)  # B = A + a non-negative ripple


def test_fig1a_more_ripples_leave_r0_unchanged_and_raise_r1():
    d = G.periods_data((1, 2, 4))
    np.testing.assert_allclose(d["R0"], d["R0"][0], rtol=1e-3)
    assert np.all(np.diff(d["R1"]) > 0)


def test_fig1b_r0_prefers_B_but_r1_and_test_prefer_A_on_a_range_of_rho():
    d = G.rho_range_data("fig1b", rhos=RHOS_1B)
    assert np.all(d["R0"][:, 1] < d["R0"][:, 0])
    assert np.all(d["R1"][:, 0] < d["R1"][:, 1])
    assert np.all(d["test"][:, 0] < d["test"][:, 1])
    assert d["holds"]["claim"].all()


def test_fig1b_claim_range_matches_the_analytic_window():
    d = G.rho_range_data("fig1b", rhos=np.linspace(0.3, 0.7, 41))
    (lo, hi), = d["ranges"]["claim"]
    assert lo == pytest.approx(0.5 * (2 / (4 * 0.5 ** 0.5)) ** 0.5, abs=0.015)
    assert hi == pytest.approx(0.5 * (0.5 ** 0.5) ** -0.5, abs=0.015)


def test_prop42_r0_below_r1_on_the_map():
    d = G.prop42_data("fig1b", 0.5, n=8)
    assert np.all(d["R0"] <= d["R1"] + 1e-9)


def test_generalisation_error_of_a_quadratic_is_c_sigma_squared():
    L = gt.landscapes.get("quadratic", a=2.0, b=2.0)
    assert G.generalisation_error(L, np.zeros(2), 0.3) == pytest.approx(2.0 * 0.3 ** 2, rel=1e-9)


@pytest.fixture(scope="module")
def ridge():
    return G.ridge_data()


def test_ridge_sgd_ends_in_a_sharp_well_and_gsam_in_the_flat_basin(ridge):
    L = gt.landscapes.get("ridge")
    fin = {k: t.final for k, t in ridge["runs"].items()}
    assert G.basin_of(L, fin["sgd"]) == 1 and gt.flatness.lambda_max(L, fin["sgd"]) > 10
    assert G.basin_of(L, fin["gsam"]) == 0 and gt.flatness.lambda_max(L, fin["gsam"]) < 0.5


def test_ridge_sam_stalls_off_minimum_with_its_ascent_point_in_sgds_well(ridge):
    """The toy refutes 'SAM ends in a different sharp minimum': it stalls where g_p = 0, g != 0."""
    L = gt.landscapes.get("ridge")
    tr = ridge["runs"]["sam"]
    w = tr.final
    assert G.basin_of(L, w) != 0
    assert np.linalg.norm(L.grad(w)) > 0.1
    w_adv = gt.flatness.sam_point(L, w, 0.2)
    assert np.linalg.norm(w_adv - L.minima[1]) < 0.05


def test_ridge_grid_flat_fraction_gsam_above_sam_and_sgd():
    g = G.ridge_basin_data(n=20, optimizers=("sgd", "sam", "gsam"))
    f = {k: v["flat"] for k, v in g["per"].items()}
    assert g["X"].size >= 400
    assert f["gsam"] > f["sam"] + 0.2 and f["sam"] >= f["sgd"]
    assert "| gsam |" in G.basin_table_markdown(g)


def test_plot_fig1_1d_draws_the_loss_curve():
    d = G.fig1_data("fig1b", n2d=30)
    art = G.plot_fig1_1d(d)
    xy = art["loss"].get_xydata()
    np.testing.assert_allclose(xy[:, 1], d["loss"])
    np.testing.assert_allclose(art["steepest"].get_xydata()[:, 0], d["steepest"][:, 0])


def test_plot_fig1_bars_heights_are_r0_r1_test():
    d = G.fig1_data("fig1a", n2d=30)
    bars = G.plot_fig1_bars(d)
    np.testing.assert_allclose([b.get_height() for b in bars["B"]], [d["R0"][1], d["R1"][1], d["test"][1]])


def test_plot_trajectories_lines_are_the_points(ridge):
    art = G.plot_trajectories(ridge)
    np.testing.assert_allclose(art["gsam"].get_xydata(), ridge["runs"]["gsam"].points)
    assert "sam:w_adv" in art and "gam:theta_adv" in art


def test_decomposition_parts_sum_to_g(ridge):
    v = G.decomposition_data(ridge, step=20)
    np.testing.assert_allclose(v["g_par"] + v["g_perp"], v["g"], atol=1e-9)
    assert abs(np.dot(v["g_perp"], v["g_p"])) < 1e-9
    G.plot_decomposition(v)


def test_gallery_has_every_builtin():
    data = G.gallery_data(n=20)
    assert [d["name"] for d in data] == gt.landscapes.names()
    assert len(G.plot_gallery(data)) == len(data)


def test_reproduce_writes_pngs_and_table(tmp_path, monkeypatch):
    monkeypatch.setattr(G, "ridge_basin_data", lambda n=20: G.basin_grid_data(
        "ridge", ("sgd", "gsam"), 5, 50, G.RIDGE_HYPER, bounds=((-3.4, -2.4), (-1.6, 1.6))))
    monkeypatch.setattr(G, "prop42_data", lambda L, rho, n=24: G.gam_fig1.prop42_data(L, rho, n=6))
    paths = G.reproduce(str(tmp_path), quick=True)
    assert any(p.endswith(".md") for p in paths) and sum(p.endswith(".png") for p in paths) >= 7


def test_notebooks_are_committed_without_outputs():
    import json
    import pathlib
    for nb in pathlib.Path(__file__).parent.parent.glob("notebooks/0[12]_*.ipynb"):
        cells = json.loads(nb.read_text())["cells"]
        assert all(not c.get("outputs") for c in cells if c["cell_type"] == "code"), nb.name
