"""Every lemma of GAM, GSAM and GNP's finite-difference HVP, asserted on numbers (gamtoy.lemmas)."""
import numpy as np
import pytest

import gamtoy as gt
from gamtoy import flatness as F
from gamtoy import lemmas as LM
from gamtoy.lemmas import _util

TOL = LM.TOL


# ---- GAM Lemma 4.1 -------------------------------------------------------------------------
def test_r1_over_rho2_equals_lambda_max_at_quadratic_min():
    out = LM.lemma41_2d()
    assert out["max_rel_err"] <= TOL["lemma41"]
    for r in out["rows"]:
        assert r["r1_over_rho2"] == pytest.approx(r["lambda_max"], rel=TOL["lemma41"])


def test_r1_over_rho2_equals_lambda_max_on_50d_quadratic_by_projected_ascent():
    out = LM.lemma41_nd(n=50)
    assert out["r1_exact"] == pytest.approx(out["rho"] ** 2 * out["lambda_max"])
    assert out["rel_err"] <= TOL["lemma41_nd"]


def test_projected_ascent_never_exceeds_the_operator_norm(rng):
    A = rng.standard_normal((60, 60))
    val = LM.gam.ascent_ball_max_norm(A, 0.3)
    assert val <= 0.3 * np.linalg.norm(A, 2) * (1 + 1e-12)
    assert val == pytest.approx(0.3 * np.linalg.norm(A, 2), rel=1e-6)


def test_lemma41_error_off_quadratic_minima_is_at_most_first_order_in_rho():
    out = LM.lemma41_degradation()
    for name, d in out.items():
        assert np.all(F.grad_norm(name, d["minimum"]) < 1e-10)
        assert d["slope"] >= TOL["order_min"], name
    assert out["himmelblau"]["slope"] == pytest.approx(1.0, abs=0.1)   # a cubic term: O(rho)
    assert out["rastrigin"]["slope"] == pytest.approx(2.0, abs=0.15)   # symmetric: O(rho^2)


# ---- GAM Prop. 4.2 ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", gt.landscapes.names())
def test_r1_bounds_r0_on_a_grid_of_every_landscape(name):
    out = LM.prop42(n=10, rhos=(0.05, 0.5), names=[name])
    assert out["min_ratio"] >= 1 - TOL["prop42"]
    assert out["min_diff"] >= 0


# ---- GAM Eq. 13/15, App. D Eq. 38, GNP -------------------------------------------------------
def test_first_order_theta_adv_angle_to_exact_argmax_vanishes_at_first_order():
    lo, hi = TOL["slope"]
    for name, d in LM.eq13_angle(k=3).items():
        assert lo <= d["slope"] <= hi, name
        assert np.all(np.diff(d["median"]) > 0), name
        assert d["median"][0] < 3e-3, name


def test_refined_ball_argmax_beats_the_grid_and_sits_on_the_sphere():
    L = gt.landscapes.get("himmelblau")
    P = _util.generic_points(L, 4)
    grid, _ = F.ball_max(lambda Q: _util.gnorm(L, Q), P, 0.05)
    v, arg = _util.ball_argmax(lambda Q: _util.gnorm(L, Q), P, 0.05)
    assert np.all(v >= grid)
    np.testing.assert_allclose(np.linalg.norm(arg - P, axis=-1), 0.05, rtol=1e-12)


def test_eq38_finite_difference_error_shrinks_at_first_order_in_rho_prime():
    lo, hi = TOL["fd_slope"]
    for name, d in LM.eq38_fd().items():
        assert lo <= d["slope"] <= hi, name
        assert np.all(np.diff(d["median"]) > 0), name


def test_gam_accel_theta_adv_tends_to_gam_theta_adv_at_first_order():
    d = LM.accel_theta_adv()
    lo, hi = TOL["fd_slope"]
    assert lo <= d["slope"] <= hi
    assert d["dist"][0] < 1e-5


def test_gnp_finite_difference_hvp_converges_at_first_order_in_r():
    lo, hi = TOL["fd_slope"]
    for name, d in LM.gnp_fd().items():
        assert lo <= d["slope"] <= hi, name


# ---- reductions --------------------------------------------------------------------------------
def test_gnp_alpha_1_equals_sam_and_gsam_alpha_0_equals_sam_exactly():
    out = LM.reductions(steps=50, n=9)
    assert out["gnp(alpha=1.0, rho=0.05) = sam"] == 0.0
    assert out["gsam(alpha=0.0, rho=0.05) = sam"] == 0.0


def test_gam_alpha_0_equals_its_base_optimizer():
    for key, diff in LM.reductions(steps=50, n=9).items():
        if key.startswith("gam"):
            assert diff <= TOL["reduction"], key


# ---- GSAM Lemmas 3.1-3.3 -------------------------------------------------------------------------
def test_perturbed_loss_does_not_order_minima_by_sharpness_on_gsam_fig1():
    d = LM.lemma31()
    assert d["f_p"][0] <= d["f_p"][1] and d["sigma_max"][0] > d["sigma_max"][1]
    assert d["f_p"][0] == pytest.approx(d["f_p"][2], abs=1e-3)          # f_p(w1) = f_p(w3)
    assert np.all(np.diff(d["h"]) < 0) and np.all(np.diff(d["sigma_max"]) < 0)  # h orders them


def test_first_order_surrogate_gap_nonnegative_for_small_rho_and_fails_only_near_critical_points():
    d = LM.lemma32(rhos=(1e-3, 1e-2, 0.1, 0.5, 1.0), n=25)
    assert d["frac_at_smallest_rho"] == 0
    assert d["max_bound_ratio"] <= 1                                    # |g| < rho M / 2
    assert d["per"]["rastrigin"]["frac_negative"][-1] > 0               # it does fail at large rho
    assert d["per"]["quadratic"]["first_failing_rho"] is None  # never on a quadratic


def test_two_h_over_rho2_tends_to_sigma_max_at_first_order_in_rho():
    d = LM.lemma33()
    assert np.max(d["quadratic"]["rel_err"]) < 1e-12
    assert d["himmelblau"]["slope"] == pytest.approx(1.0, abs=0.15)
    assert d["rastrigin"]["slope"] >= TOL["order_min"]
    for name in ("himmelblau", "rastrigin", "ridge"):
        assert d[name]["rel_err"][0] < TOL["lemma33_small"], name


# ---- GAM Thm 4.4, GSAM Thm 5.1 ---------------------------------------------------------------
def test_noisy_oracle_is_unbiased_and_bounded():
    o = LM.NoisyOracle("rastrigin", sigma=2.0, seed=0)
    W = np.zeros((20000, 2)) + 0.3
    noise = o.grad(W) - o.L.grad(W)
    assert np.all(np.linalg.norm(noise, axis=-1) <= 2.0)
    np.testing.assert_allclose(noise.mean(0), 0, atol=0.03)


def test_average_squared_gradient_decays_like_inverse_sqrt_T_with_decaying_lr_and_rho():
    d = LM.convergence(names=("gsam", "gam"), T=800, starts=24, sigma=10.0)
    for name, v in d["per"].items():
        assert v["diverged"] == 0
        assert abs(v["slope"] + 0.5) <= TOL["conv_slope"], name


# ---- table, plots, reproduce -------------------------------------------------------------------
def test_plots_draw_the_computed_numbers():
    d = LM.eq38_fd()
    arts = LM.plot_finite_difference(d)
    np.testing.assert_allclose(arts[0].get_xydata()[:, 1], d["himmelblau"]["median"])


def test_reproduce_writes_a_table_where_every_claim_holds(tmp_path):
    paths = LM.reproduce(str(tmp_path), quick=True)
    text = open(paths[0]).read()
    assert paths[0].endswith("lemmas.md") and len(paths) >= 5
    assert "| NO |" not in text and text.count("| yes |") >= 12
    assert all(p.endswith(".png") for p in paths[1:])


def test_notebook_03_is_committed_without_outputs():
    import os
    import nbformat
    path = os.path.join(os.path.dirname(__file__), "..", "notebooks", "03_lemmas.ipynb")
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "import gamtoy as gt" in code[0].source and "sys.path" not in code[0].source
    assert all(not c.outputs and c.execution_count is None for c in code)
