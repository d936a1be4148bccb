"""The MLP lab's derivatives, oracles and Hessian tools against independent references."""
import autograd
import numpy as np
import pytest
from numpy.testing import assert_allclose

import gamtoy.optim as optim
from gamtoy.mlp import (FullBatchOracle, MiniBatchOracle, Model, dense_hessian, hutchinson_trace,
                        make_data, make_oracle, top_eigenvalues, train)


def small(act="tanh", wd=0.0, k=3, seed=0):
    m = Model((2, 5, 4, k), act, wd)
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(24, 2)), rng.integers(0, k, 24)
    return m, m.init(seed), X, y


@pytest.mark.parametrize("act,wd", [("tanh", 0.0), ("relu", 0.0), ("tanh", 0.01)])
def test_gradient_equals_autograd_and_finite_differences(act, wd):
    m, th, X, y = small(act, wd)
    g = m.grad(th, X, y)
    assert_allclose(g, autograd.grad(m.loss_autograd)(th, X, y), rtol=1e-10, atol=1e-12)
    e = np.random.default_rng(1).normal(size=m.n)
    h = 1e-6
    fd = (m.value(th + h * e, X, y) - m.value(th - h * e, X, y)) / (2 * h)
    assert g @ e == pytest.approx(fd, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("act,wd", [("tanh", 0.0), ("relu", 0.0), ("tanh", 0.01)])
def test_hvp_equals_dense_autograd_hessian_and_finite_differences(act, wd):
    m, th, X, y = small(act, wd)
    v = np.random.default_rng(2).normal(size=m.n)
    H = autograd.hessian(lambda t: m.loss_autograd(t, X, y))(th)
    Hv = m.hvp(th, v, X, y)
    assert_allclose(Hv, H @ v, rtol=1e-9, atol=1e-12)
    h = 1e-5
    fd = (m.grad(th + h * v, X, y) - m.grad(th - h * v, X, y)) / (2 * h)
    assert_allclose(Hv, fd, rtol=1e-5, atol=1e-7)


def test_normgrad_is_gradient_of_gradient_norm_gam_eq8():
    m, th, X, y = small()
    g, f = m.normgrad(th, X, y, xi=0.0)
    gn = autograd.grad(lambda t: autograd.numpy.sqrt(
        autograd.numpy.sum(autograd.grad(m.loss_autograd)(t, X, y) ** 2)))(th)
    assert_allclose(g, m.grad(th, X, y), rtol=1e-12)
    assert_allclose(f, gn, rtol=1e-8, atol=1e-12)


def test_eigsh_top_eigenvalues_equal_dense_ones():
    m, th, X, y = small()
    orc = FullBatchOracle(m, X, y)
    H = dense_hessian(orc, th)
    dense = np.sort(np.linalg.eigvalsh(H))[::-1]
    assert_allclose(top_eigenvalues(orc, th, k=3), dense[:3], rtol=1e-7, atol=1e-9)


def test_hutchinson_trace_within_four_standard_errors_of_dense_trace():
    m, th, X, y = small()
    orc = FullBatchOracle(m, X, y)
    tr, se = hutchinson_trace(orc, th, n_samples=400, seed=3)
    assert abs(tr - np.trace(dense_hessian(orc, th))) < 4 * se


def test_minibatch_oracle_keeps_one_batch_until_advance():
    m, th, X, y = small()
    orc = MiniBatchOracle(m, X, y, batch_size=8, seed=0)
    g1, g2 = orc.grad(th), orc.grad(th)
    assert_allclose(g1, g2)
    b = orc.Xb.copy()
    orc.advance()
    assert not np.array_equal(b, orc.Xb)
    seen = np.concatenate([orc.Xb] + [(orc.advance(), orc.Xb)[1] for _ in range(1)])
    assert len(np.unique(seen, axis=0)) == 16  # one epoch permutation: no repeats


def test_bad_inputs_raise_clear_value_errors():
    m, th, X, y = small()
    with pytest.raises(ValueError, match="flat vector"):
        FullBatchOracle(m, X, y).grad(th[:-1])
    with pytest.raises(ValueError, match="activation"):
        Model((2, 3, 2), "sigmoid")
    with pytest.raises(ValueError, match="labels"):
        FullBatchOracle(m, X, y + 5)
    with pytest.raises(ValueError, match="batch_size"):
        MiniBatchOracle(m, X, y, 0)
    with pytest.raises(ValueError, match="unknown data set"):
        make_data("circles")
    with pytest.raises(ValueError, match="label_noise"):
        make_data("moons", label_noise=1.0)
    with pytest.raises(ValueError, match="k must be"):
        top_eigenvalues(FullBatchOracle(m, X, y), th, k=m.n)


def test_label_noise_flips_the_requested_fraction_to_other_classes():
    ds = make_data("gmm", n_train=200, label_noise=0.4, seed=1, n_classes=4)
    assert np.mean(ds.y_train != ds.y_train_clean) == pytest.approx(0.4)
    assert ds.X_train.mean(0) == pytest.approx([0, 0], abs=1e-12)


@pytest.mark.parametrize("name", optim.names())
def test_every_optimizer_trains_the_mlp(name):
    ds = make_data("moons", n_train=64, n_test=64, seed=0)
    m = Model((2, 8, 2))
    orc = make_oracle(m, ds.X_train, ds.y_train)
    l0 = orc.value(m.init(0))
    out = train(m, ds, optim.get(name, lr=0.1), steps=60, batch_size=32, seed=0)
    assert out["loss"] < l0
    assert np.isfinite(out["theta"]).all()


def test_divergence_raises_instead_of_returning_nan():
    ds = make_data("moons", n_train=32, n_test=8)
    with pytest.raises(FloatingPointError, match="diverged"):
        with np.errstate(all="ignore"):
            train(Model((2, 8, 8, 2), "relu"), ds, optim.get("sgd", lr=1e150), steps=20,
                  eval_every=1)
