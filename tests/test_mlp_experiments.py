"""Each MLP experiment in quick mode: headline numbers against tolerances from the seeds' spread."""
import matplotlib.pyplot as plt
import numpy as np
import pytest

from gamtoy.mlp import experiments as E
from gamtoy.mlp import plots as P


@pytest.fixture(scope="module", autouse=True)
def _cache(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("GAMTOY_CACHE", str(tmp_path_factory.mktemp("cache")))
    yield
    mp.undo()


def _note_matches(r):
    assert isinstance(r["reproduces"], bool)
    assert ("NOT" in r["note"]) != r["reproduces"]


def test_label_noise_lowers_accuracy_beyond_the_seed_spread():
    r = E.label_noise()
    m, s = r["mean"], r["std"]
    assert m.shape == (4, 4) and np.all((0 <= m) & (m <= 1))
    assert np.all(m[:, 0] - m[:, -1] > 2 * (s[:, 0] + s[:, -1]))
    _note_matches(r)
    assert len(P.plot_label_noise(r)) == 4


def test_hessian_spectrum_hutchinson_agrees_with_dense_trace():
    r = E.hessian_spectrum()
    assert np.all(np.abs(r["trace"] - r["trace_dense"]) < 4 * r["trace_se"] + 1e-9)
    assert np.all(np.diff(r["eig"], axis=-1) <= 1e-12)  # descending
    assert np.all(r["lam_max_mean"] > 0)
    _note_matches(r)
    P.plot_hessian_spectrum(r)


def test_gam_fraction_cost_grows_with_the_fraction_of_gam_steps():
    r = E.gam_fraction()
    rm, rs = r["cost_ratio_mean"], r["cost_ratio_std"]
    assert np.allclose(rm[:, 0], 1.0)
    assert np.all(rm[:, -1] > rm[:, 1])
    assert np.all(rm[:, -1] > 1.0 + 2 * rs[:, -1] / np.sqrt(len(r["config"]["seeds"])))
    assert np.all(r["acc_std"] < 0.5)
    _note_matches(r)
    P.plot_gam_fraction(r)


def test_minima_density_counts_alternate_along_each_ray():
    r = E.minima_density()
    assert np.all(np.abs(r["mins"] - r["maxs"]) <= 1)
    assert 0 <= r["frac_mean"] <= 1 and r["frac_std"] >= 0
    _note_matches(r)
    P.plot_minima_density(r)


def test_landscape_slices_pass_through_the_trained_loss():
    r = E.landscape_slices()
    c, c2 = len(r["alphas"]) // 2, len(r["alphas2d"]) // 2
    assert r["alphas"][c] == 0
    np.testing.assert_allclose(r["slice1d"][:, :, c], r["loss"], rtol=1e-12)
    np.testing.assert_allclose(r["slice2d"][:, c2, c2], r["loss"][:, 0], rtol=1e-12)
    assert np.all(np.isfinite(r["sharpness_mean"]))
    _note_matches(r)
    P.plot_slices_1d(r), P.plot_slices_2d(r)


def test_gsam_lambda_max_and_surrogate_gap_estimate_are_positive():
    r = E.gsam_lambda_max()
    assert np.all(r["lam_max"] > 0) and np.all(np.isfinite(r["est"]))
    assert r["reproduces"] == bool(np.all(np.abs(r["ratio_mean"] - 1) < 0.5))
    P.plot_gsam_lambda_max(r)


def test_gsam_cos_is_a_cosine_and_sam_stays_aligned_on_average():
    r = E.gsam_cos()
    assert np.all(np.abs(r["cos"]) <= 1 + 1e-9)
    assert np.all(r["late_mean"] - 2 * r["late_std"] > 0)
    _note_matches(r)
    P.plot_gsam_cos(r)


def test_gsam_gap_is_finite_and_reported_per_alpha():
    r = E.gsam_gap_vs_alpha()
    assert r["h"].shape[0] == len(r["alphas"]) and np.all(np.isfinite(r["h"]))
    _note_matches(r)
    P.plot_gsam_gap(r)


def test_gnp_sweep_alpha_08_equals_the_table_row_and_alpha_0_is_sgd():
    r = E.gnp_sweep()
    i = list(r["alphas"]).index(0.8)
    np.testing.assert_array_equal(r["sweep"][i], r["table"][0])
    cfg = r["config"]
    sgd = [E.fit("sgd", cfg, s)["test_acc"] for s in cfg["seeds"]]
    np.testing.assert_allclose(r["sweep"][0], sgd)
    _note_matches(r)
    P.plot_gnp_sweep(r)


def test_cache_returns_the_same_numbers_without_recomputing(monkeypatch):
    a = E.minima_density()
    monkeypatch.setattr(E, "fit", lambda *a, **k: (_ for _ in ()).throw(AssertionError))
    b = E.minima_density()
    np.testing.assert_array_equal(a["mins"], b["mins"])


def test_reproduce_writes_one_png_per_experiment(tmp_path, monkeypatch):
    paths = E.reproduce(str(tmp_path), quick=True)
    assert len(paths) == len(E.EXPERIMENTS)
    assert all(p.endswith(".png") and (tmp_path / p.split("/")[-1]).stat().st_size > 0
               for p in paths)
    plt.close("all")
