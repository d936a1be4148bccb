"""gamtoy.landscapes: compiled derivatives against autograd, the float path against the array
path, shapes, and the get / names / from_function contract; and bad input: `from_function` checks
its function (one value per point, points independent, autograd gradient = finite difference) and
its bounds; points must be real numbers of shape (..., 2)."""
import functools

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
import sympy as sp
from numpy.testing import assert_allclose

import gamtoy.landscapes as gl
from gamtoy.landscapes import builtin, symbolic
from gamtoy.vec import Vec2

NAMES = gl.names()
BATCH_SHAPES = [(), (5,), (3, 4), (2, 1, 3)]
AUTOGRAD_NS = {k: getattr(anp, k) for k in dir(anp) if not k.startswith("_")}


class _Captured(Exception):
    pass


@functools.cache
def sympy_expr(name):
    """The SymPy expression a built-in is compiled from, captured from its own builder."""
    L = gl.get(name)

    def capture(_name, expr, *args, **kwargs):
        raise _Captured(expr)

    orig = builtin.compile_landscape
    builtin.compile_landscape = capture
    try:
        builtin.BUILDERS[name](**L.params)
    except _Captured as c:
        return c.args[0]
    finally:
        builtin.compile_landscape = orig
    raise AssertionError(f"builder of {name!r} did not call compile_landscape")


def autograd_fn(name):
    """The landscape's formula as an autograd-traceable function of one point w (2,)."""
    f = sp.lambdify((symbolic.x, symbolic.y), sympy_expr(name), modules=[AUTOGRAD_NS, "numpy"])
    return lambda w: f(w[0], w[1]) + 0.0 * w[0]


def random_points(L, n, rng):
    (x0, x1), (y0, y1) = L.bounds
    return np.stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)], -1)


def reference(fn, W):
    """Value, gradient and Hessian by autograd, one point at a time."""
    g, H = autograd.grad(fn), autograd.hessian(fn)
    return (np.array([fn(w) for w in W]), np.array([g(w) for w in W]),
            np.array([H(w) for w in W]))


# ---- analytic derivatives equal autograd ------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_compiled_value_grad_hessian_hvp_normgrad_equal_autograd(name, rng):
    L = gl.get(name)
    W = random_points(L, 12, rng)
    V = rng.normal(size=W.shape)
    f, g, H = reference(autograd_fn(name), W)
    scale = 1.0 + np.abs(H).max()
    assert_allclose(L.value(W), f, rtol=1e-10, atol=1e-10 * (1 + np.abs(f).max()))
    assert_allclose(L.grad(W), g, rtol=1e-9, atol=1e-9 * scale)
    assert_allclose(L.hessian(W), H, rtol=1e-9, atol=1e-9 * scale)
    assert_allclose(L.hvp(W, V), np.einsum("nij,nj->ni", H, V), rtol=1e-9, atol=1e-8 * scale)
    g2, f2 = L.normgrad(W)
    Hg = np.einsum("nij,nj->ni", H, g)
    assert_allclose(g2, g, rtol=1e-9, atol=1e-9 * scale)
    assert_allclose(f2, Hg / (np.linalg.norm(g, axis=-1, keepdims=True) + 1e-12),
                    rtol=1e-8, atol=1e-8 * scale)


def _hand_quadratic(p):
    c, s = np.cos(np.radians(p["angle"])), np.sin(np.radians(p["angle"]))
    return lambda w: (p["a"] * (c * w[0] + s * w[1]) ** 2
                      + p["b"] * (-s * w[0] + c * w[1]) ** 2) / 2


def _hand_rosenbrock(p):
    return lambda w: (p["a"] - w[0]) ** 2 + p["b"] * (w[1] - w[0] ** 2) ** 2


def _hand_himmelblau(p):
    return lambda w: (w[0] ** 2 + w[1] - 11) ** 2 + (w[0] + w[1] ** 2 - 7) ** 2


def _hand_rastrigin(p):
    A, k = p["A"], p["k"]
    return lambda w: ((w[0] ** 2 + w[1] ** 2) / 2
                      + A * (2 - anp.cos(k * np.pi * w[0]) - anp.cos(k * np.pi * w[1])))


HAND = {"quadratic": _hand_quadratic, "rosenbrock": _hand_rosenbrock,
        "himmelblau": _hand_himmelblau, "rastrigin": _hand_rastrigin}


@pytest.mark.parametrize("name", sorted(set(HAND) & set(NAMES)))
def test_classic_landscapes_match_their_documented_formula_and_its_autograd_derivatives(name, rng):
    L = gl.get(name)
    fn = HAND[name](L.params)
    W = random_points(L, 10, rng)
    f, g, H = reference(fn, W)
    assert_allclose(L.value(W), f, rtol=1e-12, atol=1e-12)
    assert_allclose(L.grad(W), g, rtol=1e-10, atol=1e-10)
    assert_allclose(L.hessian(W), H, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", sorted(set(HAND) & set(NAMES)))
def test_classic_landscapes_are_stationary_at_their_listed_minima(name):
    L = gl.get(name)
    assert L.minima is not None and L.minima.shape[1] == 2
    assert_allclose(L.grad(L.minima), 0.0, atol=1e-4)
    assert np.all(np.linalg.eigvalsh(L.hessian(L.minima)) > 0)


# ---- the Vec2 (Python float) path equals the array path ------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_float_path_equals_array_path(name, rng):
    L = gl.get(name)
    W = random_points(L, 8, rng)
    V = rng.normal(size=W.shape)
    g, f = L.normgrad(W)
    for w, v, gi, fi, val, grad, hvp in zip(W, V, g, f, L.value(W), L.grad(W), L.hvp(W, V),
                                            strict=True):
        p, q = Vec2(*w), Vec2(*v)
        assert isinstance(L.value(p), float)
        assert L.value(p) == pytest.approx(val, rel=1e-12, abs=1e-12)
        assert type(L.grad(p)) is Vec2
        assert_allclose(L.grad(p).array(), grad, rtol=1e-11, atol=1e-11)
        assert_allclose(L.hvp(p, q).array(), hvp, rtol=1e-10, atol=1e-10)
        gs, fs = L.normgrad(p)
        assert_allclose(gs.array(), gi, rtol=1e-11, atol=1e-11)
        assert_allclose(fs.array(), fi, rtol=1e-10, atol=1e-10)


# ---- shapes ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("batch", BATCH_SHAPES, ids=str)
def test_methods_return_batch_shapes_and_act_per_point(name, batch, rng):
    L = gl.get(name)
    W = random_points(L, int(np.prod(batch)), rng).reshape(batch + (2,))
    V = rng.normal(size=W.shape)
    flat = W.reshape(-1, 2)
    assert L.value(W).shape == batch
    assert L.grad(W).shape == batch + (2,)
    assert L.hessian(W).shape == batch + (2, 2)
    assert L.hvp(W, V).shape == batch + (2,)
    g, f = L.normgrad(W)
    assert g.shape == f.shape == batch + (2,)
    # each point computed alone gives the same numbers
    assert_allclose(L.value(W).reshape(-1), [L.value(w) for w in flat], rtol=1e-13)
    assert_allclose(L.grad(W).reshape(-1, 2), [L.grad(w) for w in flat], rtol=1e-13)
    H = L.hessian(W)
    assert_allclose(H, np.swapaxes(H, -1, -2))
    assert_allclose(L.hvp(W, V), np.einsum("...ij,...j->...i", H, V), rtol=1e-12, atol=1e-12)


def test_constant_hessian_landscape_keeps_batch_shapes():
    L = gl.get("quadratic")  # its Hessian is a constant: compiled to plain scalars
    W = np.zeros((4, 3, 2))
    assert L.hessian(W).shape == (4, 3, 2, 2)
    assert L.hvp(W, np.ones((4, 3, 2))).shape == (4, 3, 2)
    assert L.hvp(W, np.ones(2)).shape == (4, 3, 2)


# ---- get / names / from_function contract --------------------------------------------
def test_names_include_every_landscape_the_issue_asks_for():
    assert NAMES == sorted(NAMES)
    for required in ("quadratic", "rosenbrock", "fig1a", "fig1b", "gsam_fig1", "ridge"):
        assert required in NAMES
    assert "rastrigin" in NAMES or "himmelblau" in NAMES


@pytest.mark.parametrize("name", NAMES)
def test_get_returns_a_named_landscape_with_bounds_and_a_docstring(name):
    L = gl.get(name)
    assert isinstance(L, gl.Landscape)
    assert L.name == name
    (x0, x1), (y0, y1) = L.bounds
    assert x0 < x1 and y0 < y1
    assert L.__doc__ and L.__doc__.strip()
    assert gl.get(name) is L
    assert gl.get(L) is L


@pytest.mark.parametrize("name", ["fig1a", "fig1b"])
def test_gam_figure1_landscapes_carry_rho_and_two_minima(name):
    L = gl.get(name)
    assert L.rho > 0
    assert L.minima.shape == (2, 2)


def test_get_with_parameters_overrides_defaults():
    L = gl.get("quadratic", a=9.0, b=1.0, angle=0.0)
    assert L.params["a"] == 9.0
    assert_allclose(L.hessian(np.zeros(2)), [[9.0, 0.0], [0.0, 1.0]], atol=1e-12)


def _himmelblau_user(W):
    """a user landscape"""
    return (W[..., 0] ** 2 + W[..., 1] - 11) ** 2 + (W[..., 0] + W[..., 1] ** 2 - 7) ** 2


def test_from_function_gives_autograd_derivatives_with_batch_shapes(rng):
    L = gl.from_function(_himmelblau_user, bounds=((-5, 5), (-4, 4)))
    assert isinstance(L, gl.Landscape)
    assert L.bounds == ((-5.0, 5.0), (-4.0, 4.0))
    assert L.__doc__ == "a user landscape"
    W = rng.uniform(-4, 4, size=(3, 4, 2))
    V = rng.normal(size=W.shape)
    f, g, H = reference(lambda w: _himmelblau_user(w[None])[0], W.reshape(-1, 2))
    assert L.value(W).shape == (3, 4)
    assert_allclose(L.value(W).reshape(-1), f)
    assert_allclose(L.grad(W).reshape(-1, 2), g, rtol=1e-12)
    assert_allclose(L.hessian(W).reshape(-1, 2, 2), H, rtol=1e-12)
    assert_allclose(L.hvp(W, V).reshape(-1, 2), np.einsum("nij,nj->ni", H, V.reshape(-1, 2)),
                    rtol=1e-12)
    p = Vec2(*W[0, 0])
    assert_allclose(L.grad(p).array(), g[0], rtol=1e-12)


def test_from_function_on_a_builtin_formula_equals_the_builtin(rng):
    ref = gl.get("ridge")
    f = sp.lambdify((symbolic.x, symbolic.y), sympy_expr("ridge"), modules=[AUTOGRAD_NS, "numpy"])
    L = gl.from_function(lambda W: f(W[..., 0], W[..., 1]), bounds=ref.bounds)
    assert L.bounds == ref.bounds
    W = random_points(ref, 20, rng)
    assert_allclose(L.value(W), ref.value(W), rtol=1e-12, atol=1e-12)
    assert_allclose(L.grad(W), ref.grad(W), rtol=1e-9, atol=1e-9)
    assert_allclose(L.hessian(W), ref.hessian(W), rtol=1e-9, atol=1e-8)


def test_from_function_default_bounds_and_name():
    L = gl.from_function(lambda W: anp.sum(W ** 2, -1))
    (x0, x1), (y0, y1) = L.bounds
    assert x0 < x1 and y0 < y1
    assert isinstance(L.name, str)
    assert_allclose(L.grad(np.array([1.0, -2.0])), [2.0, -4.0])


# ---- bad input --------------------------------------------------------------------------------
def test_unknown_landscape_name_raises_value_error_listing_valid_names():
    with pytest.raises(ValueError, match="unknown landscape 'nope'") as e:
        gl.get("nope")
    for n in NAMES:
        assert n in str(e.value)


def test_unknown_landscape_parameter_raises_value_error_naming_it():
    with pytest.raises(ValueError, match="quadratic.*not_a_param"):
        gl.get("quadratic", not_a_param=1.0)


@pytest.mark.parametrize("shape", [(), (3,), (4, 3), (2, 1)], ids=str)
def test_points_of_wrong_shape_raise_value_error(shape):
    L = gl.get("quadratic")
    W = np.zeros(shape)
    for method in (L.value, L.grad, L.hessian, L.normgrad):
        with pytest.raises(ValueError, match=r"shape \(\.\.\., 2\)"):
            method(W)
    with pytest.raises(ValueError, match="shape"):
        L.hvp(W, np.zeros(shape))


def test_hvp_with_a_vector_of_wrong_shape_raises_value_error():
    L = gl.get("ridge")
    with pytest.raises(ValueError, match="V must have shape"):
        L.hvp(np.zeros((4, 2)), np.zeros((4, 3)))


def test_a_function_calling_np_asarray_is_refused_explaining_why():
    # np.asarray detaches W from autograd: the x-part of the gradient of x^2 + y^2 comes out 0
    with pytest.raises(ValueError,
                       match=r"autograd gradient .* finite difference .*numpy\.asarray"):
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
