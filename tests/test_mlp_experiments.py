"""The MLP miniatures in quick mode: each claim's verdict against its interval, the intervals
against the raw per-seed numbers, and each experiment's headline numbers against independent
references."""
import matplotlib.pyplot as plt
import numpy as np
import pytest
from scipy import stats as st

import gamtoy.optim as optim
from gamtoy.mlp import experiments as E
from gamtoy.mlp import lab
from gamtoy.mlp import plots as P
from gamtoy.mlp.model import Model
from gamtoy.mlp.verdicts import paired_claim, table, threshold_claim


@pytest.fixture(scope="module", autouse=True)
def _cache(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("GAMTOY_CACHE", str(tmp_path_factory.mktemp("cache")))
    yield
    mp.undo()
    plt.close("all")


_RESULTS = {}


def result(name):
    if name not in _RESULTS:
        _RESULTS[name] = getattr(E, name)(quick=True)
    return _RESULTS[name]


def _rule(lo, hi, sign):
    """The verdict rule written out (not gamtoy.stats.verdict)."""
    if lo <= 0 <= hi:
        return "inconclusive"
    return "reproduces" if (lo > 0) == (sign > 0) else "contradicts"


def _check_claims(r, diffs):
    """Every claim: verdict = rule(interval); estimate = mean of the recomputed per-seed
    differences; the interval inside [min d, max d] and around the mean."""
    assert r["verdict"] == r["claims"][0]["verdict"]
    assert r["interval"] == (r["claims"][0]["lo"], r["claims"][0]["hi"])
    assert r["reproduces"] == (r["verdict"] == "reproduces")
    assert len(diffs) == len(r["claims"])
    for c, d in zip(r["claims"], diffs, strict=True):
        d = np.asarray(d, float)
        assert c["verdict"] == _rule(c["lo"], c["hi"], c["expected_sign"]), c
        assert c["n"] == len(d) == len(r["config"]["seeds"]) >= 5
        assert c["estimate"] == pytest.approx(d.mean(), abs=1e-12)
        if np.ptp(d) > 0:
            ci = st.ttest_1samp(d, 0.0).confidence_interval(0.95)   # the Student t interval
            assert (c["lo"], c["hi"]) == pytest.approx((ci.low, ci.high), rel=1e-9, abs=1e-12)
        else:   # every seed the same difference: the documented point interval
            assert c["lo"] == c["hi"] == pytest.approx(d[0])
        assert c["method"] == "Student t"
        assert c["verdict"].upper() in r["note"] and c["paper"] in r["note"]


# ---- the verdict logic itself -----------------------------------------------------------
def test_paired_verdict_sees_a_consistent_gain_hidden_in_the_seed_spread():
    rng = np.random.default_rng(11)
    b = rng.normal(0.8, 0.05, 9)  # seed spread 0.05 >> the effect 0.007
    a = b + 0.007 + rng.normal(0, 0.001, 9)
    assert abs(a.mean() - b.mean()) < a.std()  # unpaired: the means sit inside one std
    c = paired_claim("P", "a beats b", a, b, +1, "a - b")
    assert c["verdict"] == "reproduces" and 0 < c["lo"] < 0.007 < c["hi"]
    assert paired_claim("P", "a below b", a, b, -1, "a - b")["verdict"] == "contradicts"
    d = np.array([0.01, -0.012, 0.004, -0.003, 0.008, -0.009, 0.001, 0.002, -0.002])
    noise = paired_claim("P", "x", b + d, b, +1, "a - b")
    assert noise["lo"] < 0 < noise["hi"] and noise["verdict"] == "inconclusive"
    assert "covers 0" in noise["note"]


def test_quick_mode_changes_the_note_but_never_the_verdict():
    rng = np.random.default_rng(2)
    a, b = rng.normal(1.0, 0.3, 6), rng.normal(0.7, 0.3, 6)
    q, f = (paired_claim("P", "c", a, b, +1, "a - b", quick=k) for k in (True, False))
    assert (q["verdict"], q["lo"], q["hi"]) == (f["verdict"], f["lo"], f["hi"])
    assert "quick mode" in q["note"] and "quick mode" not in f["note"]


def test_threshold_claim_is_the_paired_claim_against_a_constant():
    x = np.array([0.93, 0.95, 0.91, 0.97, 0.94])
    c = threshold_claim("GSAM Fig. 8", "cos > 0.9", x, 0.9, +1, "min cos")
    assert c["estimate"] == pytest.approx(x.mean() - 0.9)
    assert c["verdict"] == "reproduces"
    # the t interval of mean(x) is [0.912, 0.968]: 0.96 lies inside it, 0.975 above it
    assert threshold_claim("G", "c", x, 0.96, +1, "m")["verdict"] == "inconclusive"
    assert threshold_claim("G", "c", x, 0.975, +1, "m")["verdict"] == "contradicts"


def test_claims_refuse_non_finite_or_unpaired_values():
    with pytest.raises(ValueError, match="non-finite"):
        paired_claim("P", "c", [1.0, np.nan, 2.0], [1.0, 1.0, 1.0], +1, "d")
    with pytest.raises(ValueError, match="one value per seed"):
        paired_claim("P", "c", [1.0, 2.0], [1.0, 1.0, 1.0], +1, "d")


# ---- each experiment: its claims against the raw numbers --------------------------------
def test_label_noise_lowers_accuracy_and_gam_claim_is_paired_over_noisy_levels():
    r = result("label_noise")
    acc = r["acc"]  # (opts, noise, seeds), best test accuracy during training
    assert acc.shape == (2, 2, 5) and np.all((0 <= acc) & (acc <= 1))
    assert np.all(r["acc_final"] <= acc + 1e-12)  # the best is at least the last
    assert np.all(acc[:, 0] > acc[:, -1])  # 40% label noise costs accuracy on every seed
    i, j = r["opts"].index("gam"), r["opts"].index("sgd")
    _check_claims(r, [acc[i, 1] - acc[j, 1]])
    assert len(P.plot_label_noise(r)) == 2 and len(P.plot_paired_intervals(r)) == 3


def test_label_noise_runs_on_sklearn_digits_with_ten_classes():
    r = result("label_noise_digits")
    assert r["config"]["data"] == "digits" and r["config"]["sizes"] == (64, 32, 10)
    assert np.all(r["acc"][:, 0].mean(-1) > 0.8)  # chance 0.1
    i, j = r["opts"].index("gam"), r["opts"].index("sgd")
    _check_claims(r, [r["acc"][i, 1] - r["acc"][j, 1]])


def test_hessian_spectrum_claims_are_paired_log_ratios_and_traces_agree():
    r = result("hessian_spectrum")
    dense = np.isfinite(r["trace_dense"])
    assert dense[:, 0].all() and dense.sum() == len(r["opts"])  # quick: dense on the first seed
    assert np.all(np.abs(r["trace"] - r["trace_dense"])[dense] < 4 * r["trace_se"][dense])
    assert np.all(np.diff(r["eig"], axis=-1) <= 1e-12)  # descending
    lam, tr = r["eig"][:, :, 0], r["trace"]
    i = {o: k for k, o in enumerate(r["opts"])}
    _check_claims(r, [np.log(lam[i["gam"]] / lam[i["sgd"]]), np.log(tr[i["gam"]] / tr[i["sgd"]]),
                      np.log(lam[i["sam+gam"]] / lam[i["sam"]]),
                      np.log(tr[i["sam+gam"]] / tr[i["sam"]])])
    P.plot_hessian_spectrum(r), P.plot_claim_intervals(r)


def test_hessian_spectrum_on_digits_uses_hutchinson_for_2410_parameters():
    r = result("hessian_spectrum_digits")
    assert np.all(np.isnan(r["trace_dense"])) and np.all(r["trace_se"] > 0)
    lam = r["eig"][:, :, 0]
    _check_claims(r, [np.log(lam[1] / lam[0]), np.log(r["trace"][1] / r["trace"][0])])


class _Counting(Model):
    """A Model that counts its own backward and R-operator passes (independent of the oracles'
    `evals` counter)."""

    def __init__(self, *a):
        super().__init__(*a)
        self.passes = 0

    def _backward(self, *a):
        self.passes += 1
        return super()._backward(*a)

    def _rop(self, *a):
        self.passes += 1
        return super()._rop(*a)


def test_gam_fraction_cost_is_counted_gradient_passes_not_time(monkeypatch):
    """GAM Table 7's cost as gradient-sized passes per step, counted by a Model that counts its own
    backward and R-operator passes; no clock."""
    models = []

    def setup(c, s, label_noise=0.0):
        model, ds = lab.setup(c, s, label_noise)
        models.append(_Counting(model.sizes, model.act, model.wd))
        return models[-1], ds

    monkeypatch.setattr(E, "setup", setup)
    fr, steps = (0.0, 0.1, 0.5, 1.0), 20
    r = E.gam_fraction(fractions=fr, bases=("sgd",), use_cache=False, steps=steps, seeds=(3, 4))
    counted = np.array([m.passes for m in models]).reshape(len(fr), 2) / steps
    np.testing.assert_array_equal(r["evals_per_step"][0], counted)
    gam_steps = np.floor(steps * np.array(fr))
    want = ((steps - gam_steps) * optim.COST["sgd"] + gam_steps * optim.COST["gam"]) / steps
    np.testing.assert_allclose(counted.mean(-1), want)
    np.testing.assert_allclose(r["cost_ratio_counted"][0], [1.0, 1.3, 2.5, 4.0])
    np.testing.assert_allclose(r["cost_ratio_counted"], r["cost_ratio_formula"])


def test_gam_fraction_claim_and_plot():
    r = result("gam_fraction")
    b = r["acc"][0]
    _check_claims(r, [b[list(r["fractions"]).index(0.1)] - b[0]])
    assert np.all(r["acc_std"] < 0.5)
    P.plot_gam_fraction(r)


def test_minima_density_counts_alternate_and_claim_is_against_one_half():
    r = result("minima_density")
    assert np.all(np.abs(r["mins"] - r["maxs"]) <= 1)
    _check_claims(r, [(r["mins"] >= 2).mean(1) - 0.5])        # "more than one" minimum
    P.plot_minima_density(r)


def test_landscape_slices_pass_through_the_trained_loss():
    r = result("landscape_slices")
    c, c2 = len(r["alphas"]) // 2, len(r["alphas2d"]) // 2
    assert r["alphas"][c] == 0
    np.testing.assert_allclose(r["slice1d"][:, :, c], r["loss"], rtol=1e-12)
    np.testing.assert_allclose(r["slice2d"][:, c2, c2], r["loss"][:, 0], rtol=1e-12)
    s = r["sharpness"]
    i = {o: k for k, o in enumerate(r["opts"])}
    _check_claims(r, [s[i["gam"]] - s[i["sgd"]], s[i["sam+gam"]] - s[i["sam"]]])
    P.plot_slices_1d(r), P.plot_slices_2d(r)


def test_gsam_fig4_sweeps_alpha_at_fixed_rho_and_alpha_0_is_sam():
    r = result("gsam_lambda_max")
    assert list(r["alphas"]) == [0.0, 0.3, 0.6] and r["rho"] == 0.05
    assert np.all(r["lam_max"] > 0) and np.all(np.isfinite(r["est"]))
    _check_claims(r, [np.log(r["lam_max"][-1] / r["lam_max"][0]), r["est"][-1] - r["est"][0]])
    cfg = r["config"]
    sam = lab.fit("sam", cfg, cfg["seeds"][0], rho=0.05)  # GSAM with alpha = 0 is SAM
    gsam0 = lab.fit("gsam", cfg, cfg["seeds"][0], rho=0.05, alpha=0.0)
    np.testing.assert_allclose(gsam0["theta"], sam["theta"], rtol=1e-10, atol=1e-12)
    P.plot_gsam_lambda_max(r)


def test_gsam_fig8_claim_is_the_minimum_cosine_against_the_papers_0_9():
    r = result("gsam_cos")
    assert np.all(np.abs(r["cos"]) <= 1 + 1e-9)
    assert r["threshold"] == 0.9
    low = r["cos"].min(axis=2)
    _check_claims(r, [low[0] - 0.9, low[1] - 0.9])
    assert r["claims"][0]["claim"].endswith("GSAM training")
    P.plot_gsam_cos(r)


def test_gsam_fig9_gap_claim_is_paired_over_the_last_fifth():
    r = result("gsam_gap_vs_alpha")
    assert r["h"].shape[:2] == (3, 5) and np.all(np.isfinite(r["h"]))
    tail = r["h"].shape[2] // 5
    h = r["h"][:, :, -tail:].mean(2)
    _check_claims(r, [h[-1] - h[0]])
    P.plot_gsam_gap(r)


def test_gnp_sweep_alpha_0_is_sgd_and_claims_are_paired():
    r = result("gnp_sweep")
    a = list(r["alphas"])
    np.testing.assert_array_equal(r["sweep"][a.index(0.8)], r["table"][0])
    cfg = r["config"]
    sgd = [lab.fit("sgd", cfg, s)["test_acc"] for s in cfg["seeds"]]
    np.testing.assert_allclose(r["sweep"][a.index(0.0)], sgd)
    _check_claims(r, [r["sweep"][a.index(0.8)] - r["sweep"][a.index(0.0)],
                      r["table"][2] - r["table"][0]])
    assert "best alpha by mean" in r["note"] and r["best_vs_08"]["lo"] <= r["best_vs_08"]["hi"]
    P.plot_gnp_sweep(r), P.plot_claim_intervals(r)


# ---- configuration as the papers state it -----------------------------------------------
def test_sam_gam_uses_one_rho_for_sam_and_gam_as_gam_app_c41(monkeypatch):
    """GAM App. C.4.1: 'we apply the same rho for both GAM and SAM'. Record what the experiments
    pass to optim.get."""
    seen = []
    real_get = optim.get

    def spy(name, **kw):
        seen.append((name, kw))
        return real_get(name, **kw)
    monkeypatch.setattr(lab.optim, "get", spy)
    lab.clear_memo()
    E.hessian_spectrum(use_cache=False, steps=3, seeds=(0, 1), k=2, n_hutch=4)
    E.landscape_slices(use_cache=False, steps=3, seeds=(0, 1), n=5)
    rho = {n: kw.get("rho") for n, kw in seen}
    sg = [kw for n, kw in seen if n == "sam+gam"]
    assert sg and all(kw.get("rho_sam") in (None, kw["rho"]) for kw in sg)
    assert rho["sam"] == rho["gam"] == rho["sam+gam"] == lab.RHO
    opt = lab.make_opt("sam+gam", lab.config())
    assert opt.hyper["rho_sam"] in (None, opt.hyper["rho"])
    lab.clear_memo()


def test_full_mode_runs_at_least_eight_seeds_and_configs_are_validated():
    assert len(lab.config(False)["seeds"]) >= 8
    assert len(lab.config(False, data="digits")["seeds"]) >= 8
    with pytest.raises(ValueError, match="unknown config"):
        lab.config(True, step=3)
    with pytest.raises(ValueError, match="distinct seeds"):
        lab.config(True, seeds=(1, 1))
    with pytest.raises(TypeError, match="batch_size"):
        lab.config(True, batch_size=8.5)
    with pytest.raises(ValueError, match="unknown data set"):
        lab.config(True, data="mnist")


def test_cache_returns_the_same_numbers_without_recomputing(monkeypatch):
    a = result("minima_density")
    lab.clear_memo()
    monkeypatch.setattr(E, "fit", lambda *a, **k: (_ for _ in ()).throw(AssertionError))
    b = E.minima_density()
    np.testing.assert_array_equal(a["mins"], b["mins"])
    assert b["claims"] == a["claims"]


def test_every_experiment_has_a_figure_and_reproduce_writes_png_svg_and_the_verdict_table(
        tmp_path):
    assert set(E.FIGURES) == set(E.EXPERIMENTS)
    names = ("minima_density", "gsam_cos")
    paths = E.reproduce(str(tmp_path), quick=True, names=names)
    stems = [E.FIGURES[n][0] for n in names]
    assert sorted(p.split("/")[-1] for p in paths) == sorted(
        [f"{s}.{e}" for s in stems for e in ("png", "svg")] + ["mlp_verdicts.md"])
    md = (tmp_path / "mlp_verdicts.md").read_text()
    import re
    for n in names:
        for c in result(n)["claims"]:
            row = [ln for ln in md.splitlines() if c["claim"] in ln]
            assert len(row) == 1 and c["verdict"] in row[0]
            assert re.search(r"(holds in \d/3 cells|same in \d/3 cells|the only cell run)",
                             row[0]), row[0]
    from PIL import Image
    with Image.open(tmp_path / "mlp_gsam_cos.png") as im:
        dpi = im.info.get("dpi", (0, 0))[0]
    assert round(dpi) == 160
    assert table({"x": result("gsam_cos")}).count("\n") == 2 + len(result("gsam_cos")["claims"])


def _claim(verdict, name="c0"):
    return {"paper": "P", "claim": name, "what": "a - b", "expected_sign": 1, "estimate": 0.1,
            "lo": 0.05, "hi": 0.2, "n": 5, "verdict": verdict}


def test_neighbourhood_a_claim_that_flips_in_one_lr_cell_is_mixed():
    """Hand-made verdicts: claim c0 reproduces at the centre and at lr x 0.8, not at lr x 1.25."""
    calls = []

    def fake_run(name, quick, lr):
        calls.append((name, round(lr, 6)))
        return {"claims": [_claim("inconclusive" if lr > 0.11 else "reproduces"),
                           _claim("contradicts", "c1")]}
    res = {"x": {"config": {"lr": 0.1},
                 "claims": [_claim("reproduces"), _claim("contradicts", "c1")]},
           "y": {"config": {"lr": 0.1}, "claims": [_claim("inconclusive", "c2")]}}
    E.neighbourhood(res, run=fake_run)
    assert calls == [("x", 0.08), ("x", 0.125)]      # y: inconclusive at the centre, not rerun
    c0, c1 = res["x"]["claims"]
    assert [d["verdict"] for d in c0["cells"]] == ["reproduces", "reproduces", "inconclusive"]
    assert c0["over"]["verdict"] == "mixed" and res["x"]["verdict_over_cells"] == "mixed"
    assert "same in 2/3 cells" in c0["over"]["text"]
    assert c1["over"]["text"] == "contradicts; holds in 3/3 cells"
    assert res["y"]["claims"][0]["over"]["text"].startswith(
        "inconclusive at the centre (the only cell")
    md = table(res)
    assert "**mixed** (reproduces at the centre, same in 2/3 cells" in md
    assert "**contradicts** (holds in 3/3 cells)" in md
    assert "**reproduces**" not in md
    foot = " ".join(P.verdict_lines({"claims": [c0]}, width=400))
    assert foot.startswith("[mixed]") and "2/3 cells" in foot and "lr 0.1, 0.08, 0.125" in foot
    assert any("[mixed] x: P: c0: mixed" in ln and "(lr 0.1, 0.08, 0.125; 5 seeds, 95% Student t "
               "interval)" in ln for ln in E.headline_lines(res))


def test_plots_and_their_helpers_do_not_import_the_experiments():
    """Data flows one way: experiments compute, plots draw (no import cycle)."""
    import ast
    import inspect

    from gamtoy.mlp import verdicts
    for mod in (P, lab, verdicts):
        tree = ast.parse(inspect.getsource(mod))
        names = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        names += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        assert not [n for n in names if "experiments" in n], (mod.__name__, names)


def test_quick_mode_runs_the_edge_experiments_on_eight_seeds():
    """The experiments with a claim near 0 at 5 seeds run 8 in quick mode; a given seeds wins."""
    assert len(lab.EDGE_SEEDS) == 8
    assert lab.edge_seeds("gsam_cos", True, {"lr": 0.2}) == {"lr": 0.2, "seeds": lab.EDGE_SEEDS}
    assert lab.edge_seeds("gsam_cos", True, {"seeds": (0, 1)}) == {"seeds": (0, 1)}
    assert lab.edge_seeds("gsam_cos", False, {}) == {}
    assert lab.edge_seeds("label_noise", True, {}) == {}
    assert len(result("gsam_cos")["config"]["seeds"]) == 8
    assert len(result("hessian_spectrum_digits")["config"]["seeds"]) == 5
