"""Bad input to the MLP lab found by the outside check of issue 9: an optimizer or mix that is
not one, parameters of the wrong shape or NaN given to the Hessian tools or the loss."""
import numpy as np
import pytest

import gamtoy.mlp as M
from gamtoy import optim


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
