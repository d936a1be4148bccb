"""Bad input to `gamtoy.flatness`: rho and theta validated like every hyper-parameter; a rho whose
exact search would exceed the grid budget is refused at once (it took 15 s and 1.7 GB per point
at rho = 15); large batches are searched in chunks with the same result."""
import time

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gamtoy import flatness

MEASURES = [flatness.r0, flatness.r1, flatness.surrogate_gap, flatness.r1_first_order,
            flatness.sam_point, flatness.gam_point, flatness.summary]


@pytest.mark.parametrize("fn", MEASURES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("rho,err,match", [
    (-0.1, ValueError, r"rho must be non-negative \(must satisfy 0.0 <= rho\), got -0.1"),
    (float("inf"), ValueError, "rho must be non-negative and finite, got inf"),
    (np.float32(np.nan), ValueError, "rho must be non-negative and finite, got nan"),
    (True, TypeError, r"rho must be a real number.*\(bool\)"),
    ("0.1", TypeError, r"rho must be a real number.*\(str\)"),
    (None, TypeError, "rho must be a real number"),
    (np.array([0.1, 0.2]), TypeError, "rho must be a real number"),
])
def test_bad_rho_is_refused(fn, rho, err, match):
    with pytest.raises(err, match=match):
        fn("quadratic", np.zeros(2), rho)


@pytest.mark.parametrize("rho", [np.float32(0.3), np.array(0.3), 0.3])
def test_numpy_rho_gives_the_same_numbers(rho):
    theta = np.array([0.4, -0.7])
    assert flatness.r0("ridge", theta, rho) == flatness.r0("ridge", theta, float(rho))


@pytest.mark.parametrize("fn", [flatness.r0, flatness.r1])
def test_a_rho_beyond_the_grid_budget_is_refused_at_once_saying_what_is_allowed(fn):
    t = time.perf_counter()
    with pytest.raises(ValueError, match=r"rho=15 needs a polar grid of [\d,]+ points per theta, "
                                         r"more than the budget of 1,000,000.*use rho <= 5.98"):
        fn("quadratic", np.zeros((3, 2)), 15.0)
    assert time.perf_counter() - t < 5  # refused before the work, not after it


@pytest.mark.parametrize("theta,err,match", [
    (np.array([[0.0, np.nan]]), ValueError, "theta contains NaN"),
    (np.zeros((4, 3)), ValueError, r"theta must have shape \(\.\.\., 2\)"),
    ("ab", TypeError, "theta must be real numbers"),
])
def test_bad_theta_is_refused(theta, err, match):
    with pytest.raises(err, match=match):
        flatness.r0("quadratic", theta, 0.1)


def test_a_large_batch_is_searched_in_chunks_with_the_same_result(monkeypatch, rng):
    theta = rng.uniform(-2, 2, (3, 5, 2))
    whole = flatness.r1("rastrigin", theta, 0.2, return_argmax=True)
    monkeypatch.setattr(flatness, "CHUNK", 1)  # one theta per chunk
    parts = flatness.r1("rastrigin", theta, 0.2, return_argmax=True)
    assert parts[0].shape == (3, 5) and parts[1].shape == (3, 5, 2)
    assert_allclose(parts[0], whole[0], rtol=0, atol=0)
    assert_allclose(parts[1], whole[1], rtol=0, atol=0)


@pytest.mark.parametrize("fn", [flatness.surrogate_gap, flatness.sam_point, flatness.gam_point,
                                flatness.r1_first_order, flatness.summary],
                         ids=lambda f: f.__name__)
@pytest.mark.parametrize("xi,err", [(-1.0, ValueError), (float("nan"), ValueError),
                                    (True, TypeError)])
def test_bad_xi_is_refused_not_a_wrong_or_nan_measure(fn, xi, err):
    # xi = -1 gave h = 4.6 and xi = nan a NaN without a word
    with pytest.raises(err, match="xi"):
        fn("himmelblau", np.array([[0.5, 0.5]]), 0.1, xi=xi)


@pytest.mark.parametrize("fn", [flatness.grad_norm, flatness.hessian_eigs, flatness.lambda_max,
                                flatness.sigma_max, flatness.hessian_trace],
                         ids=lambda f: f.__name__)
def test_the_curvature_helpers_refuse_nan_theta_too(fn):
    with pytest.raises(ValueError, match=r"theta contains NaN or inf \(theta\[1\] = \[inf, 0.0\]\)"):
        fn("himmelblau", np.array([[0.5, 0.5], [np.inf, 0.0]]))


@pytest.mark.parametrize("fn", MEASURES, ids=lambda f: f.__name__)
def test_an_empty_batch_gives_empty_answers(fn):
    # r0/r1 crashed on theta of shape (0, 2) (a reshape of the empty grid)
    out = fn("himmelblau", np.zeros((0, 2)), 0.2)
    for v in (out.values() if isinstance(out, dict) else [out]):
        assert np.shape(v)[0] == 0
