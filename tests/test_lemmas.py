"""Every seed claim as a check against an independent reference (gamtoy.lemmas), each with a
wrong implementation that must make it fail, and tolerances pinned to their derivation."""
import importlib
import sys

import numpy as np
import pytest

import gamtoy as gt
from gamtoy import flatness as F
from gamtoy import lemmas as LM
from gamtoy.lemmas import _util
from gamtoy.lemmas import gam as LG
from gamtoy.lemmas import gnp as LN
from gamtoy.optim import estimators as E

TOL = LM.TOL
CONV = sys.modules["gamtoy.lemmas.convergence"]


@pytest.fixture(scope="module")
def data():
    return LM.compute_all(quick=True)


# ---- tolerances: derived, pinned; loosening one fails here ------------------------------------
def test_tolerances_are_the_values_their_derivation_gives():
    assert TOL["order"] == 0.25          # a quarter order: rejects p +- 1/2 and p +- 1
    assert TOL["bound"] == 1.0           # a theorem's bound, no slack
    assert TOL["prop42"] == 1e-9 and TOL["lemma41"] == 1e-6 and TOL["reduction"] == 1e-12
    assert TOL["lemma33_small"] == 0.01
    assert TOL["loose"] == 3.0           # a bound 3x above the measurement cannot discriminate


def test_order_window_rejects_a_half_order_error():
    for p in (1, 2):
        assert LM.order_ok(p + 0.2, p) and LM.order_ok(p - 0.2, p)
        assert not LM.order_ok(p + 0.5, p) and not LM.order_ok(p - 0.5, p)
        assert not LM.order_ok(p - 1, p)


# ---- GAM Lemma 4.1 -----------------------------------------------------------------------------
def test_r1_over_rho2_equals_lambda_max_at_quadratic_min_is_an_identity():
    out = LM.lemma41_2d()
    assert out["max_rel_err"] <= TOL["lemma41"]


def test_projected_ascent_never_exceeds_the_operator_norm(rng):
    A = rng.standard_normal((60, 60))
    val = LG.ascent_ball_max_norm(A, 0.3)
    assert val <= 0.3 * np.linalg.norm(A, 2) * (1 + 1e-12)
    assert val == pytest.approx(0.3 * np.linalg.norm(A, 2), rel=1e-6)


RHOS41 = np.geomspace(0.004, 0.04, 4)


def test_r1_over_rho2_tends_to_lambda_max_within_the_taylor_bound_at_nonquadratic_minima():
    out = LM.lemma41_minima(rhos=RHOS41)
    for name, d in out.items():
        assert np.all(F.grad_norm(name.split("[")[0], d["minimum"]) < 1e-10), name
        assert d["bound_ratio"].max() <= TOL["bound"], name
        assert LM.order_ok(d["slope"], d["order"]), (name, d["slope"], d["order"])
    assert out["rastrigin[0]"]["order"] == 2 and out["himmelblau[0]"]["order"] == 1
    # the bound is sharp: halving it (a wrong constant) would be violated
    assert max(d["bound_ratio"].max() for d in out.values()) > TOL["bound"] / 2


def test_lemma41_check_fails_for_an_r1_over_a_wrong_radius(monkeypatch):
    real = F.r1
    monkeypatch.setattr(F, "r1", lambda L, th, rho, **k: real(L, th, 1.1 * rho, **k) / 1.1)
    out = LM.lemma41_minima(rhos=RHOS41, cases=(("himmelblau", 0),))
    assert out["himmelblau[0]"]["bound_ratio"].max() > TOL["bound"]


def test_r1_over_rho2_tends_to_lambda_max_from_eigsh_at_an_mlp_minimum():
    d = LM.lemma41_mlp(rhos=np.geomspace(0.005, 0.05, 3), restarts=2, iters=150)
    assert d["grad_norm"] < 1e-10 and d["lambda_min"] > 0          # a strict minimum
    assert LM.order_ok(d["slope"], 1), d["slope"]
    assert d["rel_err"][0] < 2e-3


# ---- GAM Eq. 15: h_norm vs finite differences of the exact R1 -----------------------------------
def test_gam_h_norm_is_the_gradient_of_exact_r1_to_second_order():
    for name, d in LM.eq15_h_norm(names=("himmelblau", "rosenbrock"), k=3).items():
        assert LM.order_ok(d["slope"], 2), (name, d["slope"])


def test_eq15_check_fails_when_h_norm_skips_the_ascent_step(monkeypatch):
    real = E.gam

    def wrong(oracle, theta, rho, alpha, xi=1e-12, diag=False, inner=None):
        d, info = real(oracle, theta, rho, alpha, xi, diag, inner)
        info["h_norm"] = oracle.normgrad(theta, xi)[1] * rho      # f at theta, not theta_adv
        return d, info

    monkeypatch.setattr(E, "gam", wrong)
    d = LM.eq15_h_norm(names=("himmelblau",), k=3)["himmelblau"]
    assert not LM.order_ok(d["slope"], 2)


def test_first_order_theta_adv_fails_near_minima_a_finding():
    d = LM.eq15_failure_map(n=16)
    assert d["near_max_angle"] >= TOL["finding_angle_deg"]
    assert d["near_min_ratio"] <= TOL["finding_ratio"]
    assert np.nanmin(d["ratio"]) >= d["eig_ratio"] * 0.9            # about lambda_min/lambda_max
    assert np.all(d["ratio"] <= 1 + 1e-9)                           # R1~ never beats exact R1


def test_first_order_theta_adv_angle_to_exact_argmax_vanishes_at_first_order():
    for name, d in LM.eq13_angle(k=3).items():
        assert LM.order_ok(d["slope"], 1), name
        assert d["median"][0] < 3e-3, name


def test_refined_ball_argmax_beats_the_grid_and_sits_on_the_sphere():
    L = gt.landscapes.get("himmelblau")
    P = _util.generic_points(L, 4)
    grid, _ = F.ball_max(lambda Q: _util.gnorm(L, Q), P, 0.05)
    v, arg = _util.ball_argmax(lambda Q: _util.gnorm(L, Q), P, 0.05)
    assert np.all(v >= grid)
    np.testing.assert_allclose(np.linalg.norm(arg - P, axis=-1), 0.05, rtol=1e-12)


def test_eq38_finite_difference_error_shrinks_at_first_order_in_rho_prime():
    for name, d in LM.eq38_fd().items():
        assert LM.order_ok(d["slope"], 1), name


def test_gam_accel_theta_adv_tends_to_gam_theta_adv_at_first_order():
    d = LM.accel_theta_adv()
    assert LM.order_ok(d["slope"], 1) and d["dist"][0] < 1e-5


def test_gam_accel_gradients_combine_to_the_gradient_of_eq43s_target():
    d = LM.accel_direction(rhos=np.geomspace(1e-3, 1e-2, 3), k=3)
    assert LM.order_ok(d["slope"], 1) and d["median"][0] < 1e-4, d["median"]


def test_accel_direction_check_fails_when_alg2_uses_another_rho_prime(monkeypatch):
    real = E.gam_accel
    monkeypatch.setattr(E, "gam_accel", lambda o, th, rho, rp, *a, **k: real(o, th, rho, 1.5 * rp,
                                                                              *a, **k))
    d = LM.accel_direction(rhos=np.geomspace(1e-3, 1e-2, 3), k=3)
    assert not LM.order_ok(d["slope"], 1)


# ---- GAM Prop. 4.2 -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", gt.landscapes.names())
def test_r1_bounds_brute_force_r0_on_a_grid_of_every_landscape(name):
    out = LM.prop42_checks(n=4, rhos=(0.01, 0.05, 0.5), names=[name], small_rhos=(1e-3, 1e-2),
                           k=2)
    assert out["min_ratio"] >= 1 - TOL["prop42"]
    assert out["max_rel_err"] < 1e-3                   # the grid's error bound is small


def test_prop42_check_fails_for_an_r1_six_tenths_of_a_percent_too_low():
    out = LM.prop42_checks(n=4, names=["himmelblau", "ridge"], small_rhos=(1e-3, 1e-2), k=2,
                           r1_scale=1 - 0.006)
    assert out["min_ratio"] < 1 - TOL["prop42"]


def test_prop42_is_tight_on_a_linear_landscape_and_as_rho_vanishes():
    out = LM.prop42_checks(n=3, names=["quadratic"])
    assert np.all(np.abs(out["linear_ratio"] - 1) <= out["linear_tol"])
    assert np.all(np.abs(out["linear_ratio"] - 1) > out["linear_tol"] / 4)  # the grid's error
    assert LM.order_ok(out["gap_slope"], 1)


def test_prop42_check_fails_for_r1_without_the_max_over_the_ball(monkeypatch):
    monkeypatch.setattr(F, "r1", lambda L, th, rho, **k: rho * F.grad_norm(L, th))
    out = LM.prop42_checks(n=4, names=["himmelblau", "rastrigin"], small_rhos=(1e-3, 1e-2), k=2)
    assert out["min_ratio"] < 1 - TOL["prop42"]


@pytest.mark.parametrize("name, rho", [("rastrigin", 0.3), ("himmelblau", 0.7), ("ridge", 0.45)])
def test_brute_force_r0_error_bound_covers_the_exact_r0(name, rho):
    L = gt.landscapes.get(name)
    P = np.concatenate([_util.generic_points(L, 5), L.minima[:2]])
    bf, err = LG.r0_brute(L, P, rho, n_r=12, n_a=90)        # coarse: a visible error
    r0 = F.r0(L, P, rho)
    assert np.all(bf <= r0 + 1e-12)
    assert np.all(r0 - bf <= err)
    assert np.max((r0 - bf) / err) > 0.01                   # the bound is not vacuous


# ---- GNP -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(LN.ANP))
def test_autograd_copies_equal_the_builtin_landscapes(name, rng):
    L = gt.landscapes.get(name)
    P = rng.uniform(-1.5, 1.5, (20, 2))
    np.testing.assert_allclose(LN.ANP[name](P[:, 0], P[:, 1]), L.value(P), rtol=1e-12)


def test_gnp_direction_is_the_penalised_gradient_with_lambda_alpha_r():
    for which in ("gnp", "sam"):
        for name, d in LM.gnp_penalised(rs=np.geomspace(1e-4, 1e-2, 3), which=which, k=3).items():
            assert LM.order_ok(d["slope"], 1), (which, name, d["slope"])
            assert d["median"][0] < 1e-3


@pytest.mark.parametrize("bug", ["swapped weights", "wrong sign"])
def test_gnp_check_fails_for_a_wrong_estimator(monkeypatch, bug):
    real = E.gnp

    def wrong(oracle, theta, rho, alpha, xi=1e-12, diag=False, variant="paper"):
        if bug == "swapped weights":
            return real(oracle, theta, rho, 1 - alpha, xi, diag, variant)
        return real(oracle, theta, -rho, alpha, xi, diag, variant)

    monkeypatch.setattr(E, "gnp", wrong)
    out = LM.gnp_penalised(rs=np.geomspace(1e-4, 1e-2, 3), alpha=0.7, k=3)
    assert not any(LM.order_ok(d["slope"], 1) for d in out.values())


# ---- reductions (identities, kept as illustrations) ------------------------------------------
def test_alpha_reductions_hold_to_round_off():
    for key, diff in LM.reductions(steps=30, n=5).items():
        assert diff <= TOL["reduction"], key


# ---- GSAM Sec. 4 / Fig. 2, SAM's ascent point --------------------------------------------------
def test_gsam_orthogonal_step_keeps_fp_flat_to_first_order_and_lowers_h():
    d = LM.gsam_geometry()
    assert d["bound_ratio"].max() <= TOL["bound"]
    assert np.all(d["dh"] < 0) and np.all(d["h_change"] < 0)
    assert d["bound_ratio"].max() > TOL["bound"] / 2                # the bound is sharp


def test_gsam_geometry_check_fails_for_a_flipped_orthogonal_part(monkeypatch):
    real = E.gsam

    def wrong(oracle, theta, rho, alpha, xi=1e-12, diag=False, g=None):
        d, info = real(oracle, theta, rho, alpha, xi, diag, g)
        info["g_perp"] = -info["g_perp"]
        return d, info

    monkeypatch.setattr(E, "gsam", wrong)
    d = LM.gsam_geometry()
    assert np.any(d["dh"] > 0) and np.any(d["h_change"] > 0)


def test_sam_ascent_point_misses_the_exact_worst_point_by_first_order_angle():
    for name, d in LM.sam_ascent_point(k=3).items():
        assert LM.order_ok(d["angle_slope"], 1), name
        assert LM.order_ok(d["gap_slope"], 2), name


# ---- GSAM Lemmas 3.1-3.3 -------------------------------------------------------------------------
def test_perturbed_loss_does_not_order_minima_by_sharpness_on_gsam_fig1():
    d = LM.lemma31()
    assert d["f_p"][0] <= d["f_p"][1] and d["sigma_max"][0] > d["sigma_max"][1]
    assert d["f_p"][0] == pytest.approx(d["f_p"][2], abs=1e-3)
    assert np.all(np.diff(d["h"]) < 0) and np.all(np.diff(d["sigma_max"]) < 0)


def test_first_order_surrogate_gap_nonnegative_for_small_rho_and_fails_only_near_critical_points():
    d = LM.lemma32(rhos=(1e-3, 1e-2, 0.1, 0.5, 1.0), n=25)
    assert d["frac_at_smallest_rho"] == 0
    assert d["max_bound_ratio"] <= TOL["bound"]
    assert d["max_bound_ratio"] > TOL["bound"] / 2                  # the constant 1/2 is sharp
    assert d["per"]["rastrigin"]["frac_negative"][-1] > 0
    assert d["per"]["quadratic"]["first_failing_rho"] is None


def test_first_order_gap_is_nonnegative_at_the_largest_rho_the_lemma_certifies():
    d = LM.lemma32_at_limit(n=25)
    assert d["frac_negative"] == 0
    assert d["min_rel"] < 0.05                                       # close to the edge
    assert all(p["rho_median"] > 0.1 for p in d["per"].values())     # far above rho = 1e-3
    assert LM.lemma32_at_limit(n=25, factor=2.0)["frac_negative"] > 0   # twice rho* fails


def test_lemma32_bound_with_half_its_constant_is_violated():
    d = LM.lemma32(rhos=(1e-3, 1e-2, 0.1, 0.5, 1.0), n=25, const=0.25)
    assert d["max_bound_ratio"] > TOL["bound"]


def test_two_h_over_rho2_tends_to_sigma_max_at_first_order_in_rho():
    d = LM.lemma33()
    assert np.max(d["quadratic"]["rel_err"]) < 1e-12
    assert LM.order_ok(d["himmelblau"]["slope"], 1)
    assert LM.order_ok(d["rastrigin"]["slope"], 2)
    for name in ("himmelblau", "rastrigin", "ridge"):
        assert d[name]["rel_err"][0] < TOL["lemma33_small"], name


# ---- GAM Thm 4.4, GSAM Thm 5.1 ---------------------------------------------------------------
def test_noisy_oracle_is_unbiased_and_bounded():
    o = LM.NoisyOracle("rastrigin", sigma=2.0, seed=0)
    W = np.zeros((20000, 2)) + 0.3
    noise = o.grad(W) - o.L.grad(W)
    assert np.all(np.linalg.norm(noise, axis=-1) <= 2.0)
    np.testing.assert_allclose(noise.mean(0), 0, atol=0.03)


def test_average_squared_gradient_is_below_each_theorems_explicit_bound():
    d = LM.convergence_check(T=300, starts=12, sigma=10.0)
    for name, v in d["per"].items():
        assert v["diverged"] == 0 and v["holds"], name
        assert np.all(v["mean"] < v["bound"]), name
    assert d["constants"]["L"] == pytest.approx(1 + 4 * np.pi ** 2, rel=1e-3)   # rastrigin


def test_bounds_grow_with_the_constants_and_decay_in_T():
    T = np.array([10, 100, 1000])
    for b in (LM.bound_gsam, LM.bound_gam):
        base = b(T, 40.0, 20.0, 0.02, 0.1, 0.3, 5.0)
        assert np.all(np.diff(base) < 0)
        assert np.all(b(T, 80.0, 20.0, 0.02, 0.1, 0.3, 5.0) > base)
        assert np.all(b(T, 40.0, 40.0, 0.02, 0.1, 0.3, 5.0) > base)


def test_convergence_check_fails_when_the_step_size_does_not_decay(monkeypatch):
    from gamtoy.optim import schedules
    monkeypatch.setattr(CONV, "inv_sqrt", lambda c: schedules.constant(3 * c))
    d = LM.convergence_check(T=300, starts=8, sigma=10.0)
    assert not any(v["holds"] for v in d["per"].values())


@pytest.mark.parametrize("ci, diverged, holds, verdict", [
    ((0.02, 0.05), 0, True, "not discriminating"), ((0.2, 0.4), 0, True, "holds"),
    ((0.9, 1.1), 0, False, "inconclusive"), ((1.1, 1.3), 0, False, "FAILS"),
    ((0.02, 0.05), 2, False, "FAILS")])
def test_convergence_verdict_labels_a_loose_bound_not_discriminating(ci, diverged, holds, verdict):
    assert CONV.convergence_verdict(dict(ci=ci, diverged=diverged, holds=holds)) == verdict


def test_the_explicit_bounds_are_loose_gradient_ascent_satisfies_them_too(monkeypatch):
    """A finding, not a feature: the bounds sit 10-40x above the measurements and bound only
    stationarity, so a sign-flipped GSAM (ascent, stuck at Rastrigin's local maxima) passes."""
    real = E.gsam
    monkeypatch.setattr(E, "gsam", lambda *a, **k: (lambda d, i: (-d, i))(*real(*a, **k)))
    d = LM.convergence_check(T=300, starts=8, sigma=10.0)
    assert d["per"]["gsam"]["holds"] and d["per"]["gsam"]["ratio"].max() < 0.1


# ---- the saddle lemma (Eq. S) -----------------------------------------------------------------
SADDLE = importlib.import_module("gamtoy.lemmas.saddle")
SMALL = dict(a=(3.0, 12.0), b=(1.3, 5.0), rho=(0.2,), la=(0.07, 0.3, 0.6, 1.3, 1.7))


def test_one_sam_step_on_a_quadratic_saddle_multiplies_each_eigen_coordinate():
    """The map Eq. S is derived from, against gamtoy's SAM (angle 0: x, y are eigen-coordinates)."""
    a, b, lr, rho = 6.0, 2.5, 0.07, 0.3
    L = SADDLE.saddle_landscape(a, b, angle=0.0)
    W = np.array([[0.11, -0.04], [-0.02, 0.3], [0.5, 0.01]])
    nxt = gt.run("sam", L, W, 1, lr=lr, rho=rho).points[-1]
    g = np.linalg.norm(np.stack([-a * W[:, 0], b * W[:, 1]], -1), axis=-1)
    np.testing.assert_allclose(nxt[:, 0], W[:, 0] * (1 + lr * a - lr * a * a * rho / g), rtol=1e-9)
    # xi = 1e-12 in |g| + xi
    np.testing.assert_allclose(nxt[:, 1], W[:, 1] * (1 - lr * b - lr * b * b * rho / g), rtol=1e-9)


def test_sam_stays_at_a_quadratic_saddle_exactly_where_eq_s_predicts():
    d = LM.saddle_check(SMALL, steps=1200, starts=8)
    assert d["n_wrong"] == 0 and d["n_judged"] >= 16
    assert 0 < d["n_attract"] < d["n_judged"]                       # both outcomes occur
    assert d["decisive"] < 0.1                                      # all or none of the starts


@pytest.mark.parametrize("k", [2.0, 0.5])
def test_saddle_check_fails_for_a_threshold_a_factor_two_off(k):
    assert LM.saddle_check(SMALL, steps=1200, starts=8, k=k)["n_wrong"] > 0


def test_sgd_leaves_the_ridge_saddle_and_sam_and_gsam_converge_to_it():
    d = LM.ridge_saddle(n=3, steps=600)
    assert d["a"] == pytest.approx(20.26, abs=0.02) and d["b"] == pytest.approx(9.04, abs=0.02)
    assert np.linalg.norm(gt.landscapes.get("ridge").grad(d["saddle"])) < 1e-10
    assert d["per"]["sgd"]["k"] == 0
    assert d["per"]["sam"]["k"] == d["per"]["sam"]["n"] == d["per"]["gsam"]["k"]
    assert d["predicted"][-1] and not d["predicted"][0]             # lr a > 1 at the start


# ---- table, plots, reproduce -------------------------------------------------------------------
def test_every_row_carries_claim_paper_reference_measured_tolerance_and_verdict(data):
    rows = LM.lemma_table(data=data)
    verdicts = {r["verdict"] for r in rows}
    assert verdicts <= {"holds", "identity", "finding", "not discriminating", "not checked"}, \
        [r["claim"] for r in rows if r["verdict"] == "FAILS"]
    for r in rows:
        assert all(r[c] for c in ("claim", "reference", "against", "measured", "tolerance"))
    assert sum(r["verdict"] == "identity" for r in rows) == 2
    conv = [r for r in rows if "CI" in r["measured"]]                # the statistical rows
    assert len(conv) == 3 and all(r["verdict"] == "not discriminating" for r in conv)
    assert {r["key"] for r in rows if r["verdict"] == "not checked"} == {"prop43", "thm53"}


def test_the_table_figures_and_compute_all_loop_over_one_record_per_check(data):
    keys = [c.key for c in LM.CHECKS]
    assert len(keys) == len(set(keys)) == len(LM.lemma_table(data=data))
    for c in LM.CHECKS:
        assert set(c.compute) <= set(data), c.key
    stems = [s for s, _ in LM._figures(data)]
    assert len(stems) == len(set(stems)) == sum(c.plot is not None for c in LM.CHECKS)


def test_lemma_table_computes_only_the_missing_keys(data, monkeypatch):
    partial = {k: v for k, v in data.items() if k != "lemma31"}
    calls = []
    real = LM.lemma31
    monkeypatch.setattr(sys.modules["gamtoy.lemmas.gsam"], "lemma31",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    rows = LM.lemma_table(data=partial)
    assert calls == [1] and next(r for r in rows if r["key"] == "lemma31")["verdict"] == "holds"


def test_plots_draw_the_computed_numbers(data):
    arts = LM.plot_gnp(data["gnp"])
    np.testing.assert_allclose(arts[0].get_xydata()[:, 1], data["gnp"]["himmelblau"]["median"])
    arts = LM.plot_convergence_bound(data["conv"])
    np.testing.assert_allclose(arts[1].get_ydata(), data["conv"]["per"]["sgd"]["bound"])


def test_reproduce_writes_the_table_and_the_figures(tmp_path, monkeypatch, data):
    from gamtoy.figures import style
    real_save = style.save
    monkeypatch.setattr(LM, "compute_all", lambda quick=True: data)
    monkeypatch.setattr(style, "save", lambda fig, d, stem: real_save(fig, d, stem, ("png",)))
    paths = LM.reproduce(str(tmp_path), quick=True)
    text = open(paths[0]).read()
    assert paths[0].endswith("lemmas.md") and "| FAILS |" not in text
    assert "compared against" in text and text.count("| holds |") >= 15
    assert len(paths) >= 10 and all(p.endswith(".png") for p in paths[1:])
    assert (tmp_path / "convergence.png").exists() and (tmp_path / "lemma33_gap.png").exists()
    assert (tmp_path / "saddle_attracts_sam.png").exists()
    assert "not discriminating" in text and "not checked" in text


def test_notebook_03_is_committed_without_outputs():
    import os

    import nbformat
    path = os.path.join(os.path.dirname(__file__), "..", "notebooks", "03_lemmas.ipynb")
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    # the first code cell checks that gamtoy is installed (any Jupyter); the next imports it
    assert code[0].get("id") == "install-check" and "import gamtoy as gt" in code[1].source
    assert not any("sys.path" in c.source for c in code)
    assert all(not c.outputs and c.execution_count is None for c in code)


# ---- exercises (notebook 03) ---------------------------------------------------------------------
def test_lemma_exercises_accept_the_reference_solutions():
    from gamtoy.exercises import lemmas as X
    from gamtoy.exercises import solutions as S
    assert "correct" in X.check_penalised_gradient(S.solution_check_penalised_gradient)
    assert "correct" in X.check_surrogate_gap(S.solution_check_surrogate_gap)


@pytest.mark.parametrize("wrong, words", [
    (lambda grad, hvp, th, lam: grad(th) + lam * hvp(th, grad(th)), "H g/|g|"),
    (lambda grad, hvp, th, lam: grad(th), "missing"),
    (lambda grad, hvp, th, lam: grad(th) - lam * hvp(th, grad(th)) / np.linalg.norm(grad(th)),
     "sign"),
    (lambda grad, hvp, th, lam: np.zeros(3), "shape")])
def test_penalised_gradient_exercise_names_what_is_wrong(wrong, words):
    from gamtoy.exercises import ExerciseError
    from gamtoy.exercises import lemmas as X
    with pytest.raises(ExerciseError, match=words):
        X.check_penalised_gradient(wrong)


@pytest.mark.parametrize("wrong, words", [
    (lambda f, grad, w, rho: f(w + rho * grad(w)) - f(w), "rho g/|g|"),
    (lambda f, grad, w, rho: f(w - rho * grad(w) / np.linalg.norm(grad(w))) - f(w), "downhill"),
    (lambda f, grad, w, rho: f(w + rho * grad(w) / np.linalg.norm(grad(w))), "subtract"),
    (lambda f, grad, w, rho: np.zeros(2), "float")])
def test_surrogate_gap_exercise_names_what_is_wrong(wrong, words):
    from gamtoy.exercises import ExerciseError
    from gamtoy.exercises import lemmas as X
    with pytest.raises(ExerciseError, match=words):
        X.check_surrogate_gap(wrong)
