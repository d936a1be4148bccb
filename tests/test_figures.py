"""GAM Fig. 1 and GSAM Fig. 3 claims as numbers (fractions, intervals, exact minima, titles that
match the data); figure functions return the right artist data."""
import numpy as np
import pytest

import gamtoy as gt
from gamtoy import figures as G
from gamtoy import stats
from gamtoy.figures import ridge as R

RHOS_1B = np.linspace(0.44, 0.56, 5)  # inside the analytic window (0.42, 0.59) for rho = 0.5


# ---- exact minima ------------------------------------------------------------------------
@pytest.mark.parametrize("name", gt.landscapes.names())
def test_minima_are_exact_strict_minima(name):
    L = gt.landscapes.get(name)
    M = L.minima
    assert np.all(np.linalg.norm(L.grad(M), axis=-1) < 1e-10)
    assert np.all(np.linalg.eigvalsh(L.hessian(M))[:, 0] > 0)
    # independent of the compiled gradient: the value is below a ring of points around each one
    a = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    ring = M[:, None] + 1e-3 * np.stack([np.cos(a), np.sin(a)], -1)
    assert np.all(L.value(ring) > L.value(M)[:, None])


def test_fig1a_minimum_A_was_off_by_1e5_and_is_now_exact():
    L = gt.landscapes.get("fig1a")
    assert np.linalg.norm(L.grad(np.array([-2.0, 0.0]))) > 1e-6   # the nominal point is not it
    assert np.linalg.norm(L.grad(L.minima[0])) < 1e-10
    assert np.linalg.norm(L.minima[0] - [-2.0, 0.0]) < 1e-4


# ---- GAM Fig. 1: the measures and the titles --------------------------------------------
def test_fig1a_r0_ties_at_the_landscape_rho_while_r1_and_test_prefer_A():
    d = G.rho_range_data("fig1a", rhos=[0.5])
    R0, R1, test = d["R0"][0], d["R1"][0], d["test"][0]
    assert R0[1] == pytest.approx(R0[0], rel=1e-3)
    assert R1[0] < 0.85 * R1[1]
    assert test[0] < test[1]


def test_fig1a_r0_does_not_tie_at_other_radii_and_the_title_says_so():
    d = G.rho_range_data("fig1a", n=17)
    ratio = d["R0"][:, 1] / d["R0"][:, 0]
    assert ratio.max() > 1.4           # the ripple adds to R0(B) away from r = rho
    head, tail = G.describe_rho_range(d)
    assert f"{ratio.min():.2f}-{ratio.max():.2f}" in head and "= 1.00 at rho = 0.5" in head
    art = G.plot_rho_range(d)
    assert art["title"] == head
    assert "R0 ties (within 5%)," not in head
    # every range printed is where the ordering holds on the sampled radii
    for key in d["ranges"]:
        if key != "claim":
            assert f"{key} on r in" in tail
    assert "R1 prefers A on r in 0.20-0.31, 0.39-0.80" in tail   # not on all radii


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


# ---- GAM Fig. 1: populations ---------------------------------------------------------------
@pytest.fixture(scope="module")
def fig1a_pop():
    return G.fig1_population("fig1a", n=12, steps=400)


def test_fig1_population_fractions_intervals_and_differences(fig1a_pop):
    pop = fig1a_pop
    assert pop["prefer"] == "A" and pop["R1"][0] < pop["R1"][1]
    for d in pop["per"].values():
        end = d["end"]
        assert sum(d["counts"].values()) == pop["n"] == 144
        assert d["counts"]["A"] == np.sum(end == 0) and d["counts"]["diverged"] == np.sum(end == -2)
        for c, (p, lo, hi) in d["frac"].items():
            assert (lo, hi) == stats.wilson(d["counts"][c], pop["n"]) and lo <= p <= hi
    # the difference and its verdict: the same starts, so Newcombe's paired interval of the 2x2
    # table of (gam in A, sgd in A) per start, counted here start by start
    diff = pop["compare"]["gam - sgd"]
    ga, sa = pop["per"]["gam"]["end"] == 0, pop["per"]["sgd"]["end"] == 0
    tab = [sum(1 for u, v in zip(ga, sa, strict=True) if (u, v) == w)
           for w in ((1, 1), (1, 0), (0, 1), (0, 0))]
    D, lo, hi = stats.newcombe_paired(*tab)
    assert diff["mean"] == pytest.approx(D) and (diff["lo"], diff["hi"]) == pytest.approx((lo, hi))
    counts = {nm: pop["per"][nm]["counts"]["A"] for nm in ("gam", "sgd")}
    assert diff["mean"] == pytest.approx((counts["gam"] - counts["sgd"]) / 144)
    assert diff["verdict"] == stats.verdict(diff["lo"], diff["hi"], +1)


def test_fig1a_gam_ends_in_A_more_often_than_sgd_and_sam_but_diverges_sometimes(fig1a_pop):
    c = fig1a_pop["compare"]
    assert c["gam - sgd"]["verdict"] == "reproduces" and c["gam - sam"]["verdict"] == "reproduces"
    assert c["gam_accel - sgd"]["verdict"] == "inconclusive"
    assert fig1a_pop["per"]["gam"]["counts"]["diverged"] > 0   # reported, not hidden
    md = G.fig1_population_markdown(fig1a_pop)
    assert "| gam - sgd |" in md and "inconclusive" in md


def test_fig1a_gam_leaves_b_or_diverges_and_its_step_is_unstable_in_b(fig1a_pop):
    """GAM never settles in valley B: from B's side it ends in A or diverges. The reason is
    stability: GAM's direction has Jacobian eigenvalues far above 2/lr over most of B's ball,
    while L's own Hessian there stays below 2/lr (SGD is stable in B and stays)."""
    f = G.b_side_fate(fig1a_pop)
    assert f["n"] == 72 and f["B"] == 0 and f["A"] > 0 and f["diverged"] > 0
    assert f["A"] + f["diverged"] == f["n"]
    assert G.b_side_fate(fig1a_pop, "sgd")["B"] > 0
    st = G.gam_stability("fig1a", lr=0.05, n_r=12, n_t=24)
    assert st["B"]["expanding"] > 0.5 and st["A"]["expanding"] < 0.2
    assert st["B"]["mu_max"] > 10 * st["two_over_lr"] > 10 * st["B"]["lambda_max_L"]
    text = G.gam_fate_text(fig1a_pop, st)
    assert "never settles in B" in text and f"{f['diverged']} diverge" in text
    assert "| gam - sgd |" in G.fig1_population_markdown(fig1a_pop)


# ---- GSAM Fig. 3 on the ridge: population statistics --------------------------------------
@pytest.fixture(scope="module")
def ridge_pop():
    return R.ridge_population(20, optimizers=("sgd", "sam", "gsam"))


def test_ridge_schedule_is_gsams_cosine_lr_with_rho_proportional_to_lr():
    h = R.ridge_hyper(optimizers=("sgd", "gsam", "gam_accel"), alpha=0.375)
    opt = gt.optim.get("gsam", **h["gsam"])
    T = R.RIDGE_STEPS
    assert opt.lr(1) == pytest.approx(0.05) and opt.lr(T) == pytest.approx(0.0025)
    assert opt.rho(1) == pytest.approx(0.3) and opt.rho(T) == pytest.approx(0.0, abs=1e-12)
    t = 400
    assert opt.rho(t) == pytest.approx(0.3 * (opt.lr(t) - 0.0025) / (0.05 - 0.0025))
    assert h["gsam"]["alpha"] == 0.375 <= 1
    assert h["gam_accel"]["alpha"] == pytest.approx(0.5 * 1.25)


def test_end_basin_names_minima_saddles_moving_and_divergence():
    L = gt.landscapes.get("ridge")
    M, S = L.minima, L.saddles
    b = R.end_basin(L, np.vstack([M, S, [[0.0, 0.0]]]),
                    diverged=[False] * (len(M) + len(S)) + [True])
    assert b.tolist() == list(range(len(M))) + [-3] * len(S) + [-2]
    # a point 0.2 downhill of well 2, on the slope: still moving, not well 2
    assert R.end_basin(L, (M[2] + [0.2, -0.1])[None])[0] == -1
    # 0.01 from well 2 inside its convex bowl: settling into well 2 (not converged)
    assert R.end_basin(L, (M[2] + [0.01, 0.0])[None])[0] == 2
    # 3e-8 from saddle 2 along its unstable direction (|g| ~ 6e-7): the saddle, whichever side
    v = np.linalg.eigh(L.hessian(S[1]))[1][:, 0]
    assert R.end_basin(L, np.array([S[1] + 3e-8 * v, S[1] - 3e-8 * v])).tolist() == [-3, -3]


def test_ridge_population_counts_and_wilson_intervals(ridge_pop):
    pop = ridge_pop
    assert pop["n"] == 400
    for d in pop["per"].values():
        assert sum(d["counts"].values()) == 400
        for c in R.OUTCOMES:
            k = int(np.sum(d["outcome"] == c))
            assert d["counts"][c] == k and d["frac"][c][1:] == stats.wilson(k, 400)
    # "in SGD's well" is per start: the same well SGD ends in from that start
    s, g = pop["per"]["sgd"]["basin"], pop["per"]["gsam"]["basin"]
    assert pop["per"]["gsam"]["counts"]["sgd_well"] == int(np.sum((g > 0) & (g == s)))


def test_ridge_headline_numbers(ridge_pop):
    """The numbers README and ridge_basins.md quote at the centre setting (labels by the end
    point itself: round-off cannot move a run between a saddle and a well)."""
    f = {nm: d["frac"] for nm, d in ridge_pop["per"].items()}
    k = {nm: d["counts"] for nm, d in ridge_pop["per"].items()}
    assert f["sgd"]["flat"][2] < 0.3 and f["sgd"]["sgd_well"][1] > 0.7     # SGD: sharp wells
    assert k["sam"]["other_well"] == k["sam"]["sgd_well"] == 0              # SAM: never in a well
    assert 0.25 < f["sam"]["saddle"][1] and f["sam"]["saddle"][2] < 0.4     # ... a saddle instead
    assert k["sam"]["flat"] + k["sam"]["saddle"] == 400
    assert np.all(ridge_pop["per"]["sam"]["saddle"][ridge_pop["per"]["sam"]["basin"] == -3] == 1)
    assert k["gsam"]["saddle"] > 50 and f["gsam"]["flat"][1] > 0.7          # GSAM: flat or a saddle
    c = R.claims(ridge_pop)
    assert c["sam_other"]["verdict"] == "contradicts" and c["sam_other"]["hi"] < 0.5
    assert c["sam_saddle"]["verdict"] == "reproduces" and c["sam_saddle"]["k"] == k["sam"]["saddle"]
    assert c["gsam_vs_sgd"]["verdict"] == "reproduces" and c["gsam_vs_sgd"]["lo"] > 0.4
    assert c["gsam_vs_sam"]["verdict"] == "reproduces"


def test_claims_on_a_hand_made_population():
    def per(basins):
        return {"basin": np.array(basins)}
    sgd, sam, gsam = [1, 1, 2, 0, 1, 2], [2, 1, -3, 0, 3, -3], [0, 0, 0, 0, 1, 0]
    pop = {"n": 6, "per": {"sgd": per(sgd), "sam": per(sam), "gsam": per(gsam)}}
    for nm, b in (("sgd", sgd), ("sam", sam), ("gsam", gsam)):
        o = R.outcomes(np.array(b), np.array(sgd))
        pop["per"][nm].update(outcome=o, counts={c: int(np.sum(o == c)) for c in R.OUTCOMES})
    c = R.claims(pop)
    # of the 3 starts where SGD is sharp and SAM at a minimum (0, 1, 4; saddles left out): 0, 4
    assert (c["sam_other"]["k"], c["sam_other"]["n"]) == (2, 3)
    assert (c["sam_saddle"]["k"], c["sam_saddle"]["n"]) == (2, 6)
    assert c["gsam_vs_sgd"]["mean"] == pytest.approx(5 / 6 - 1 / 6)
    assert R.summarise_verdicts(["reproduces"] * 3) == "reproduces"
    assert R.summarise_verdicts(["reproduces", "inconclusive", "contradicts"]) == \
        "mixed (1 reproduce, 1 inconclusive, 1 contradict)"


def test_neighbourhood_cells():
    full, one = R.neighbourhood(), R.neighbourhood(one_at_a_time=True)
    assert len(full) == 27 and len(one) == 7 and one[0] == (0.05, 0.3, 0.3)
    assert (0.0625, 0.24, 0.375) in full


def test_robustness_reuses_the_centre_and_reports_every_cell(ridge_pop, monkeypatch):
    calls = []
    real = R.ridge_population
    monkeypatch.setattr(R, "ridge_population", lambda n, lr, rho, alpha, steps, opts: calls.append(
        (lr, rho, alpha)) or real(4, lr, rho, alpha, 200, opts))
    rob = R.ridge_robustness(20, one_at_a_time=True, centre=ridge_pop)
    assert len(rob["cells"]) == 7 and len(calls) == 6 and (0.05, 0.3, 0.3) not in calls
    for c, word in rob["verdict"].items():
        words = [r["claims"][c]["verdict"] for r in rob["cells"]]
        assert word == R.summarise_verdicts(words)
    md = R.ridge_report_markdown(ridge_pop, rob)
    assert "x {0.8, 1.25}, one at a time beside the centre" in md and "| gsam |" in md
    assert "95% Newcombe paired (method 10) interval" in md and "400 starts per cell" in md


def test_caption_quotes_the_population(ridge_pop):
    d = R.ridge_data(optimizers=("sgd", "sam", "gsam"))
    cap = R.ridge_caption(d, ridge_pop)
    k, n, p, lo, hi = R.story_fraction(ridge_pop)
    assert f"{p:.0%} [{lo:.0%}, {hi:.0%}] of the 400 starts" in cap
    assert stats.fmt(*ridge_pop["per"]["gsam"]["frac"]["flat"], digits=2) in cap


def test_single_trajectory_is_stable_under_slider_snapping():
    """The figure's start: SGD in well 1, GSAM flat, also when lr 0.05 -> 0.0501 and the start
    moves by the explorer's slider step (0.0125)."""
    L = gt.landscapes.get("ridge")
    S = np.array(R.RIDGE_START) + np.array([[0, 0], [0.0125, 0], [-0.0125, 0], [0, 0.0125],
                                            [0, -0.0125]])
    for lr in (0.05, 0.0501):
        h = R.ridge_hyper(lr=lr, optimizers=("sgd", "gsam"))
        ends = {nm: R.end_basin(L, gt.run(nm, L, S, R.RIDGE_STEPS, **h[nm]).final) for nm in h}
        assert np.all(ends["sgd"] == 1) and np.all(ends["gsam"] == 0)
    tr = gt.run("sgd", L, np.array(R.RIDGE_START), R.RIDGE_STEPS, **R.ridge_hyper()["sgd"])
    assert gt.flatness.lambda_max(L, tr.final) > 10


# ---- plots ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ridge():
    return G.ridge_data(optimizers=("sgd", "sam", "gsam", "gam"))


def test_plot_fig1_1d_draws_the_loss_curve_and_the_fig1a_inset():
    d = G.fig1_data("fig1a", n2d=30)
    art = G.plot_fig1_1d(d)
    np.testing.assert_allclose(art["loss"].get_xydata()[:, 1], d["loss"])
    np.testing.assert_allclose(art["steepest"].get_xydata()[:, 0], d["steepest"][:, 0])
    assert "inset" in art
    assert art["worst"].get_marker() == G.style.MARKERS["r0_exact"]["marker"]


def test_plot_fig1_2d_has_a_colorbar_and_labels():
    d = G.fig1_data("fig1a", n2d=30)
    art = G.plot_fig1_2d(d)
    assert art["colorbar"] is not None and "inset" in art
    ax = art["contour"].axes
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "y"


def test_plot_fig1_bars_heights_and_title_match_the_data():
    d = G.fig1_data("fig1a", n2d=30)
    bars = G.plot_fig1_bars(d)
    np.testing.assert_allclose([b.get_height() for b in bars["B"]],
                               [d["R0"][1], d["R1"][1], d["test"][1]])
    title = bars["B"][0].axes.get_title()
    assert f"R0(B)/R0(A) = {d['R0'][1] / d['R0'][0]:.2f}" in title and "R1 prefers A" in title


def test_plot_trajectories_lines_are_the_points(ridge):
    art = G.plot_trajectories(ridge)
    np.testing.assert_allclose(art["gsam"].get_xydata(), ridge["runs"]["gsam"].points)
    np.testing.assert_allclose(art["gsam:end"].get_xydata()[0], ridge["runs"]["gsam"].final)
    assert "sam:w_adv" in art and "gam:theta_adv" in art
    assert len({art[nm].get_linestyle() + str(art[nm].get_linewidth())
                for nm in ridge["runs"]}) == 4


def test_decomposition_parts_sum_to_g(ridge):
    v = G.decomposition_data(ridge, step=20)
    np.testing.assert_allclose(v["g_par"] + v["g_perp"], v["g"], atol=1e-9)
    assert abs(np.dot(v["g_perp"], v["g_p"])) < 1e-9
    G.plot_decomposition(v)


def test_gallery_has_every_builtin():
    data = G.gallery_data(n=20)
    assert [d["name"] for d in data] == gt.landscapes.names()
    assert len(G.plot_gallery(data)) == len(data)


def test_reproduce_writes_png_svg_gifs_and_tables(tmp_path, monkeypatch):
    from gamtoy.figures import jobs as J  # the figure jobs' compute and draw steps
    def small(n=20, *a, **k):
        return R.ridge_population(4, steps=100, optimizers=("sgd", "sam", "gsam"))
    monkeypatch.setattr(J, "ridge_population", small)
    monkeypatch.setattr(J, "ridge_robustness", lambda n=20, one_at_a_time=True, centre=None:
                        R.ridge_robustness(3, steps=60, factors=(1.0,)))
    monkeypatch.setattr(J, "ridge_data",
                        lambda: R.ridge_data(steps=80, optimizers=("sgd", "sam", "gsam")))
    monkeypatch.setattr(J, "fig1_population", lambda name, n=20, steps=500:
                        G.gam_fig1.fig1_population(name, n=4, steps=50))
    monkeypatch.setattr(J, "fig1_robustness", lambda name, one_at_a_time=True, centre=None:
                        G.gam_fig1.fig1_robustness(name, n=3, steps=40,
                                                   one_at_a_time=one_at_a_time))
    monkeypatch.setattr(J, "prop42_data", lambda L, rho, n=24: G.gam_fig1.prop42_data(L, rho, n=6))
    monkeypatch.setattr(J, "rho_range_data",
                        lambda name, n=17: G.gam_fig1.rho_range_data(name, n=5))
    monkeypatch.setattr(J, "gallery_data", lambda n=100: G.trajectories.gallery_data(n=12))
    monkeypatch.setattr(J, "fig1_data", lambda name: G.gam_fig1.fig1_data(name, n1d=101, n2d=30))
    monkeypatch.setattr(J, "periods_data", lambda: G.gam_fig1.periods_data((1, 2)))
    monkeypatch.setattr(J, "lens_animation", lambda path, frames=24: G.gam_fig1.lens_animation(
        path, frames=3))
    paths = G.reproduce(str(tmp_path), quick=True)
    names = {p.split("/")[-1] for p in paths}
    for stem in ("gam_fig1a", "gam_fig1b", "ridge_trajectories", "ridge_basins",
                 "ridge_neighbourhood", "gam_fig1_population", "gam_prop42"):
        assert f"{stem}.png" in names and f"{stem}.svg" in names
    for gif in ("ridge_trajectories.gif", "gam_fig1a_lens.gif"):
        path = tmp_path / gif
        assert path.read_bytes()[:3] == b"GIF" and path.stat().st_size < 2_000_000
    md = (tmp_path / "ridge_basins.md").read_text()
    assert "Wilson" in md and "## Verdicts" in md
    import re
    fig1 = (tmp_path / "gam_fig1_population.md").read_text()
    heads = [ln for ln in fig1.splitlines() if ln.startswith("- fig1")]
    assert len(heads) == 8   # 4 comparisons x 2 landscapes, each with its cell count
    assert all(re.search(r"(holds in 5/5 cells|mixed: \w+ at the centre, same in [1-4]/5 cells)",
                         ln) for ln in heads), heads
    from PIL import Image
    dpi = Image.open(tmp_path / "ridge_basins.png").info["dpi"][0]
    assert dpi == pytest.approx(G.style.DPI, abs=1)


def test_notebooks_are_committed_without_outputs():
    import json
    import pathlib
    for nb in pathlib.Path(__file__).parent.parent.glob("notebooks/0[12]_*.ipynb"):
        cells = json.loads(nb.read_text())["cells"]
        assert all(not c.get("outputs") for c in cells if c["cell_type"] == "code"), nb.name


# ---- exercises for notebooks 01 and 02 -----------------------------------------------------
def test_exercise_references_pass():
    from gamtoy import exercises as E
    from gamtoy.exercises import solutions as S
    assert "correct" in E.check_r0(S.solution_r0)
    assert "correct" in E.check_r1(S.solution_r1)
    assert "correct" in E.check_sam_direction(S.solution_sam_direction)
    assert "correct" in E.check_gsam_direction(S.solution_gsam_direction)


@pytest.mark.parametrize("wrong, words", [
    (lambda L, th, rho: np.linalg.norm(L.grad(th)) * rho, "gradient at the centre"),
    (lambda L, th, rho: gt.flatness.r1(L, th, rho) / rho, "forgot the factor rho"),
    (lambda L, th, rho: gt.flatness.r1(L, th, rho) * rho, "twice"),
    (lambda L, th, rho: np.array([1.0, 2.0]), "one number"),
])
def test_check_r1_says_what_is_wrong(wrong, words):
    from gamtoy import exercises as E
    with pytest.raises(E.ExerciseError, match=words):
        E.check_r1(wrong)


def test_check_r0_spots_the_first_order_guess_and_the_missing_subtraction():
    from gamtoy import exercises as E
    with pytest.raises(E.ExerciseError, match="first-order R0"):
        E.check_r0(lambda L, th, rho: gt.flatness.surrogate_gap(L, th, rho))
    with pytest.raises(E.ExerciseError, match="subtract L"):
        E.check_r0(lambda L, th, rho: gt.flatness.r0(L, th, rho) + L.value(th))


@pytest.mark.parametrize("wrong, words", [
    (lambda grad, w, rho: grad(w), "SGD's direction"),
    (lambda grad, w, rho: grad(w - rho * grad(w) / np.linalg.norm(grad(w))), "sign"),
    (lambda grad, w, rho: grad(w + rho * grad(w)), "normalise"),
])
def test_check_sam_direction_says_what_is_wrong(wrong, words):
    from gamtoy import exercises as E
    with pytest.raises(E.ExerciseError, match=words):
        E.check_sam_direction(wrong)


@pytest.mark.parametrize("wrong, words", [
    (lambda g, gp, a: gp + a * (g - (g @ gp) / (gp @ gp) * gp), "sign"),
    (lambda g, gp, a: gp - (g - (g @ gp) / (gp @ gp) * gp), "left out alpha"),
    (lambda g, gp, a: gp - a * (gp - (gp @ g) / (g @ g) * g), "decomposed g_p along g"),
    (lambda g, gp, a: gp - a * (g - (g @ gp) * gp), "denominator"),
    (lambda g, gp, a: gp, "off"),
])
def test_check_gsam_direction_says_what_is_wrong(wrong, words):
    from gamtoy import exercises as E
    with pytest.raises(E.ExerciseError, match=words):
        E.check_gsam_direction(wrong)


def test_over_cells_a_claim_that_flips_in_one_cell_is_mixed():
    from gamtoy import stats
    same = stats.over_cells(["contradicts"] * 5)
    assert (same["verdict"], same["k"], same["n"]) == ("contradicts", 5, 5)
    assert same["text"] == "contradicts; holds in 5/5 cells"
    one = stats.over_cells(["reproduces", "reproduces", "inconclusive", "reproduces", "reproduces"])
    assert (one["verdict"], one["centre"], one["k"], one["n"]) == ("mixed", "reproduces", 4, 5)
    assert one["text"].startswith("mixed: reproduces at the centre, same in 4/5 cells "
                                  "(4 reproduce, 1 inconclusive, 0 contradict)")
    with pytest.raises(ValueError, match="at least one cell"):
        stats.over_cells([])


def test_fig1_neighbourhood_one_at_a_time_headlines_carry_the_cell_count(monkeypatch):
    assert G.fig1_cells((0.8, 1.0, 1.25), one_at_a_time=True) == [
        (1.0, 1.0), (0.8, 1.0), (1.25, 1.0), (1.0, 0.8), (1.0, 1.25)]
    assert len(G.fig1_cells((0.8, 1.0, 1.25))) == 9
    calls = []

    def fake(name, n=20, steps=500, lr=0.05, rho=None):   # hand-made: gam - sgd flips at lr x 1.25
        calls.append((round(lr, 6), round(rho, 6)))
        flip = "inconclusive" if lr > 0.06 else "reproduces"
        d = {"mean": 0.1, "lo": 0.02, "hi": 0.2}
        return {"compare": {"gam - sgd": dict(d, verdict=flip),
                            "gam - sam": dict(d, verdict="reproduces")}}
    monkeypatch.setattr(G.gam_fig1, "fig1_population", fake)
    centre = fake("fig1a", rho=0.5)
    calls.clear()
    rob = G.fig1_robustness("fig1a", one_at_a_time=True, centre=centre)
    assert len(rob["cells"]) == 5 and len(calls) == 4 and (0.05, 0.5) not in calls  # centre reused
    assert rob["over"]["gam - sgd"]["verdict"] == "mixed" and rob["over"]["gam - sgd"]["k"] == 4
    assert rob["over"]["gam - sam"]["verdict"] == "reproduces"
    lines = G.fig1_headline_lines(rob)
    assert "mixed: reproduces at the centre, same in 4/5 cells" in lines[0]
    assert "reproduces; holds in 5/5 cells" in lines[1] and "each x {0.8, 1.25}" in lines[1]
    md = G.fig1_robustness_markdown(rob)
    assert lines[0] in md and md.count("\n| 0.0") == 5


def test_fig1_robustness_summarises_every_cell(monkeypatch):
    rob = G.fig1_robustness("fig1a", factors=(0.8, 1.25), n=5, steps=60)
    # the centre always leads (over_cells reads it as words[0]), then the 2 x 2 product
    assert len(rob["cells"]) == 5 and (rob["cells"][0]["lr"], rob["cells"][0]["rho"]) == (0.05, 0.5)
    assert {c["rho"] for c in rob["cells"]} == {0.4, 0.5, 0.625}
    for k, word in rob["verdict"].items():
        assert word == R.summarise_verdicts([c["compare"][k]["verdict"] for c in rob["cells"]])
    assert "| gam - sgd |" in G.fig1_robustness_markdown(rob)


@pytest.mark.parametrize("call, words", [
    (lambda: R.ridge_population(0), "n"), (lambda: R.ridge_population(5, alpha=2.0), "alpha"),
    (lambda: R.ridge_population(5, lr=-0.1), "lr"),
    (lambda: R.ridge_population(5, optimizers=("sgdd",)), "sgdd"),
    (lambda: G.fig1_population("fig1a", steps=0), "steps"),
    (lambda: G.fig1_population("ridge"), "fig1a"),
])
def test_population_bad_input_is_refused_before_any_work(call, words):
    with pytest.raises(ValueError, match=words):
        call()
