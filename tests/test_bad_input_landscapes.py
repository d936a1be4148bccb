"""Bad input to `gamtoy.landscapes`: `from_function` checks its function (one value per point,
points independent, autograd gradient = finite difference) and its bounds; points must be real
numbers of shape (..., 2)."""
import autograd.numpy as anp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import gamtoy.landscapes as gl


def test_a_function_calling_np_asarray_is_refused_explaining_why():
    # np.asarray detaches W from autograd: the x-part of the gradient of x^2 + y^2 comes out 0
    with pytest.raises(ValueError, match=r"autograd gradient .* finite difference .*numpy\.asarray"):
        gl.from_function(lambda W: np.asarray(W)[..., 0] ** 2 + W[..., 1] ** 2)


def test_a_function_returning_one_number_for_a_batch_is_refused():
    with pytest.raises(ValueError, match=r"one value per point.*shape \(5, 2\).*shape \(\)"):
        gl.from_function(lambda W: anp.sum(W ** 2))


def test_a_function_mixing_points_is_refused():
    with pytest.raises(ValueError, match="act on each point independently"):
        gl.from_function(lambda W: W[..., 0] ** 2 - anp.mean(W[..., 1]))


def test_a_function_that_raises_on_a_batch_is_refused_naming_the_batch_shape():
    def fn(W):
        x, y = W  # unpacks the batch, not the coordinates
        return x ** 2 + y ** 2
    with pytest.raises(ValueError, match=r"fn failed on a batch of points W of shape \(5, 2\)"):
        gl.from_function(fn)


@pytest.mark.parametrize("bounds,match", [
    (((1, -1), (0, 1)), "xmin < xmax"),
    (((0, 1), (2, 2)), "ymin < ymax"),
    (((0, np.nan), (0, 1)), "bounds xmax must be finite"),
    (((0, np.inf), (0, 1)), "bounds xmax must be finite"),
    ((0, 1), r"bounds must be \(\(xmin, xmax\), \(ymin, ymax\)\)"),
    ("box", r"bounds must be \(\(xmin, xmax\), \(ymin, ymax\)\)"),
])
def test_bad_bounds_are_refused(bounds, match):
    with pytest.raises(ValueError, match=match):
        gl.from_function(lambda W: W[..., 0] ** 2 + W[..., 1] ** 2, bounds=bounds)


def test_bad_fn_name_and_minima_are_refused():
    with pytest.raises(TypeError, match="fn must be a callable"):
        gl.from_function(3)
    with pytest.raises(TypeError, match="name must be a string"):
        gl.from_function(lambda W: W[..., 0] ** 2, name=1)
    with pytest.raises(ValueError, match="minima must be finite points"):
        gl.from_function(lambda W: W[..., 0] ** 2, minima=[[0, np.nan]])


def test_good_functions_pass_with_nan_regions_and_exact_derivatives():
    L = gl.from_function(lambda W: anp.log(W[..., 0]) + 0.7 * W[..., 1] ** 2,
                         bounds=((-1, 3), (-2, 2)))  # NaN on half the box: allowed
    P = np.array([[0.5, 0.3], [2.0, -1.1]])
    assert_allclose(L.grad(P), np.stack([1 / P[:, 0], 1.4 * P[:, 1]], -1), rtol=1e-12)
    L = gl.from_function(lambda W: anp.sin(3 * W[..., 0]) * W[..., 1] ** 2, check=False)
    assert L.value(np.zeros(2)) == 0


@pytest.mark.parametrize("W,err", [("ab", TypeError), ([[1.0, 2.0j]], TypeError),
                                   (np.array([True, False]), TypeError),
                                   ([[1.0, "x"]], TypeError), (np.zeros(3), ValueError),
                                   (3.0, ValueError)])
def test_points_must_be_real_numbers_of_shape_dots_2(W, err):
    L = gl.get("quadratic")
    with pytest.raises(err, match=r"W must (be real numbers of|have) shape \(\.\.\., 2\)"):
        L.value(W)


@pytest.mark.parametrize("name,kw,err,match", [
    ("quadratic", dict(a=np.nan), ValueError, "landscape 'quadratic': a must be finite, got nan"),
    ("quadratic", dict(a="4"), TypeError, r"landscape 'quadratic': a must be a real number"),
    ("quadratic", dict(b=True), TypeError, r"b must be a real number, got True \(bool\)"),
    ("ridge", dict(wells=[[-2.1, 0.5], [-1.7, np.inf]]), ValueError, r"wells\[1\]\[1\] must be "
                                                                     "finite"),
    ("quadratic", dict(not_a_param=1.0), ValueError, "quadratic.*not_a_param"),
])
def test_bad_landscape_parameters_are_refused(name, kw, err, match):
    with pytest.raises(err, match=match):
        gl.get(name, **kw)


def test_landscape_parameters_accept_numpy_scalars_and_nested_lists():
    assert gl.get("quadratic", a=np.float32(2.0)) is gl.get("quadratic", a=2.0)
    L = gl.get("ridge", wells=[[-2.1, 0.54], [-1.7, 0.26]])
    assert L.params["wells"] == ((-2.1, 0.54), (-1.7, 0.26))


def test_a_function_undefined_on_all_its_bounds_is_refused():
    with pytest.raises(ValueError, match="fn is not finite at any of the probe points"):
        gl.from_function(lambda W: anp.log(-1.0 - W[..., 0] ** 2))


@pytest.mark.parametrize("W", [[[0.0, 1.0], [1.0]], np.array([["a", "b"]]),
                               np.array([[1 + 1j, 0]]), np.array([[True, False]]),
                               np.array([[None, 1.0]], dtype=object)])
def test_points_that_are_not_real_pairs_are_a_type_error_naming_w(W):
    with pytest.raises(TypeError, match=r"W must be real numbers of shape \(\.\.\., 2\)"):
        gl.get("himmelblau").value(W)


@pytest.mark.parametrize("name,kw,match", [
    ("fig1a", dict(rho=-1), "rho must be positive, got -1"),
    ("fig1a", dict(rho=0), "rho must be positive"),  # divides by rho^2: NaN everywhere
    ("fig1a", dict(periods=2.5), "periods must be a positive integer, got 2.5"),
    ("fig1b", dict(p=3.5), "p must be an even integer"),  # u^3.5 is NaN left of the valley
    ("fig1b", dict(p=3), "p must be an even integer"),
    ("gsam_fig1", dict(rho=0.0), "rho must be positive"),
])
def test_built_in_parameters_outside_their_domain_are_refused(name, kw, match):
    with pytest.raises(ValueError, match=rf"bad parameter for landscape '{name}': {match}"):
        gl.get(name, **kw)


def test_a_whole_float_count_is_the_count():
    assert gl.get("fig1a", periods=3.0) is gl.get("fig1a", periods=3)
    assert gl.get("fig1b", p=np.int64(6)).params["p"] == 6
