"""The MLP lab's derivatives, oracles and Hessian tools against independent references; and bad
input: an optimizer or mix that is not one, data, widths and counts, parameters of the wrong shape
or NaN given to the Hessian tools or the loss."""
import autograd
import numpy as np
import pytest
from numpy.testing import assert_allclose

import gamtoy.mlp as M
import gamtoy.optim as optim
from gamtoy.mlp import (
    FullBatchOracle,
    MiniBatchOracle,
    Model,
    dense_hessian,
    hutchinson_trace,
    make_data,
    make_oracle,
    top_eigenvalues,
    train,
)


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


@pytest.mark.parametrize("act,wd", [("tanh", 0.0), ("tanh", 0.013), ("relu", 0.037)])
def test_normgrad_is_gradient_of_gradient_norm_of_the_full_loss_gam_eq8(act, wd):
    """GAM Eq. 8 against autograd of |grad L| where L includes (wd/2)|theta|^2: dropping the
    weight-decay term wd * g/|g| from `normgrad` fails here."""
    m, th, X, y = small(act, wd, seed=4)
    g, f = m.normgrad(th, X, y, xi=0.0)
    gn = autograd.grad(lambda t: autograd.numpy.sqrt(
        autograd.numpy.sum(autograd.grad(m.loss_autograd)(t, X, y) ** 2)))(th)
    assert_allclose(g, m.grad(th, X, y), rtol=1e-12)
    assert_allclose(f, gn, rtol=1e-8, atol=1e-12)
    if wd:  # the weight-decay part is visible at this tolerance
        assert np.abs(wd * g / np.linalg.norm(g)).max() > 1e3 * np.abs(f - gn).max()
    orc = FullBatchOracle(m, X, y)
    g2, f2 = orc.normgrad(th, xi=0.0)
    assert_allclose(f2, gn, rtol=1e-8, atol=1e-12)


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


def test_digits_are_sklearns_images_standardised_with_training_statistics():
    from sklearn.datasets import load_digits
    X, y = load_digits(return_X_y=True)
    ds = make_data("digits", n_train=300, n_test=200, seed=5)
    assert ds.X_train.shape == (300, 64) and ds.X_test.shape == (200, 64) and ds.n_classes == 10
    assert set(np.unique(ds.y_train)) == set(range(10))
    # undo the standardisation: every row is one of scikit-learn's images, with its label
    raw = gamtoy_data().load_digits()[0]
    rng = np.random.default_rng(5)
    idx = rng.permutation(len(y))[:500]
    np.testing.assert_array_equal(raw, X)
    np.testing.assert_array_equal(np.concatenate([ds.y_train, ds.y_test]), y[idx])
    mu, sd = X[idx[:300]].mean(0), X[idx[:300]].std(0)
    sd = np.where(sd > 1e-8, sd, 1.0)
    assert_allclose(ds.X_test, (X[idx[300:]] - mu) / sd, atol=1e-9)
    assert np.all(np.isfinite(ds.X_test))
    with pytest.raises(ValueError, match="1797"):
        make_data("digits", n_train=1000, n_test=1000)


def gamtoy_data():
    import gamtoy.mlp.data as d
    return d


def test_an_mlp_learns_digits_well_above_chance():
    ds = make_data("digits", n_train=400, n_test=400, seed=1)
    m = Model((64, 32, 10))
    out = train(m, ds, optim.get("sgd", lr=0.2, base="momentum"), steps=60, seed=1)
    assert out["test_acc"] > 0.8  # chance is 0.1


# ---- bad input --------------------------------------------------------------------------------
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


def test_data_of_every_split_is_validated_like_the_training_data():
    """Issue 9: test labels and shapes are checked like the training ones, before training."""
    m = Model((2, 8, 2))
    ds = make_data("moons", n_train=32, n_test=16, seed=0)
    bad = {
        "data.X_test": ds._replace(X_test=ds.X_test[:, :1]),
        "data.y_test": ds._replace(y_test=ds.y_test + 2),
    }
    for name, d in bad.items():
        with pytest.raises(ValueError, match=name.replace(".", r"\.")):
            train(m, d, "sgd", steps=5)
    with pytest.raises(ValueError, match=r"data\.y_test.*integer"):
        train(m, ds._replace(y_test=ds.y_test.astype(float)), "sgd", steps=5)
    with pytest.raises(ValueError, match=r"data\.y_test.*shape"):
        train(m, ds._replace(y_test=ds.y_test[:-1]), "sgd", steps=5)


def test_empty_and_nan_training_sets_are_reported_as_such_not_as_divergence():
    m = Model((2, 8, 2))
    ds = make_data("moons", n_train=32, n_test=16, seed=0)
    empty = ds._replace(X_train=ds.X_train[:0], y_train=ds.y_train[:0])
    with pytest.raises(ValueError, match="empty"):
        train(m, empty, "sgd", steps=5)
    X = ds.X_train.copy()
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN") as e:
        train(m, ds._replace(X_train=X), "sgd", steps=5)
    assert "diverged" not in str(e.value) and "X_train" in str(e.value)
    with pytest.raises(ValueError, match="empty"):
        FullBatchOracle(m, np.zeros((0, 2)), np.zeros(0, int))
    with pytest.raises(ValueError, match="X_test.*NaN"):
        X = ds.X_test.copy()
        X[0, 0] = np.inf
        train(m, ds._replace(X_test=X), "sgd", steps=5)


def test_non_integer_widths_batch_sizes_and_counts_are_errors():
    with pytest.raises(TypeError, match=r"sizes\[1\]"):
        Model((2, 16.5, 2))
    with pytest.raises(TypeError, match=r"sizes\[1\]"):
        Model((2, True, 2))
    with pytest.raises(ValueError, match=r"sizes\[1\]"):
        Model((2, 0, 2))
    with pytest.raises(TypeError, match="wd"):
        Model((2, 3, 2), wd="0.1")
    m = Model((2, 8, 2))
    ds = make_data("moons", n_train=32, n_test=16, seed=0)
    for bs in (2.5, "8", True):
        with pytest.raises(TypeError, match="batch_size"):
            train(m, ds, "sgd", steps=5, batch_size=bs)
    with pytest.raises(ValueError, match="batch_size"):
        train(m, ds, "sgd", steps=5, batch_size=0)
    with pytest.raises(TypeError, match="steps"):
        train(m, ds, "sgd", steps=5.5)
    with pytest.raises(TypeError, match="n_train"):
        make_data("moons", n_train=10.5)
    with pytest.raises(ValueError, match="n_test"):
        make_data("moons", n_test=0)
    with pytest.raises(ValueError, match="label_noise"):
        make_data("moons", label_noise=float("nan"))
    assert Model((np.int64(2), np.int32(8), 2)).sizes == (2, 8, 2)


@pytest.fixture(scope="module")
def lab():
    model, data = M.quick_setup("moons", sizes=(2, 8, 2), n_train=32)
    return model, data


@pytest.mark.parametrize("opt,match", [(5, "unknown optimizer 5"), (None, "unknown optimizer None"),
                                       ("foo", "unknown optimizer 'foo'")])
def test_train_refuses_what_is_not_an_optimizer(lab, opt, match):
    # opt=5 was AttributeError: 'int' object has no attribute 'init'
    model, data = lab
    with pytest.raises(ValueError, match=match):
        M.train(model, data, opt, steps=2)


@pytest.mark.parametrize("mix,err,match", [(5, TypeError, "mix must be a pair"),
                                           ("sgd", TypeError, "mix must be a pair"),
                                           ((7, 0.3), ValueError, "unknown optimizer 7"),
                                           (("sgd", 1.5), ValueError, "mix fraction")])
def test_train_refuses_a_bad_mix(lab, mix, err, match):
    model, data = lab
    with pytest.raises(err, match=match):
        M.train(model, data, optim.get("gam", lr=0.1), steps=4, mix=mix)


@pytest.mark.parametrize("fn", [M.top_eigenvalues, M.hutchinson_trace, M.dense_hessian,
                                M.hessian_operator], ids=lambda f: f.__name__)
def test_the_hessian_tools_refuse_nan_or_misshapen_theta(lab, fn):
    # a NaN theta gave ARPACK error -9999 from top_eigenvalues
    model, data = lab
    orc = M.make_oracle(model, data.X_train, data.y_train)
    theta = model.init(0)
    theta[3] = np.nan
    with pytest.raises(ValueError, match=r"theta holds 1 NaN/inf value\(s\)"):
        fn(orc, theta)
    with pytest.raises(ValueError, match=rf"theta must be a flat vector of shape \({model.n},\)"):
        fn(orc, np.zeros(3))


def test_the_model_loss_names_the_shape_it_wants(lab):
    model, data = lab
    with pytest.raises(ValueError, match=rf"theta must be a flat vector of shape \({model.n},\)"):
        model.value(np.zeros(3), data.X_train, data.y_train)
