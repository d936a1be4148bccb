"""gamtoy.run: shapes, the structure-of-arrays path against the (N, 2) path, divergence (frozen
and flagged, on both paths), refused steps into a NaN loss, record_every, blocks, the XY vector
type; and bad input (steps, starts, box, record_every, a record too large for memory)."""
import numpy as np
import pytest
import sympy as sp
from numpy.testing import assert_allclose, assert_array_equal

import gamtoy as gt
import gamtoy.landscapes as gl
from gamtoy import optim
from gamtoy.landscapes.symbolic import compile_landscape, x, y
from gamtoy.vec import XY, dot, norm, squeeze, unit

R = gt.run.__globals__  # the module gamtoy.run (the name gt.run is the function)
NAMES = optim.names()
# (x - 3)^2 / 2 pulls toward x = 3, but log(2 - x) makes the loss NaN for x > 2 while the
# gradient (x - 3) - 0.7/(2 - x) stays finite there: only the loss can tell the step is bad
LOGWALL = compile_landscape("logwall", (x - 3) ** 2 / 2 + 0.7 * sp.log(2 - x) + 0.3 * y ** 2,
                            ((-3, 3), (-3, 3)))


def _starts(L, n, seed):
    (x0, x1), (y0, y1) = L.bounds
    rng = np.random.default_rng(seed)
    return np.stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)], -1)


class Plain(gl.Landscape):
    """The same landscape seen only through its public (..., 2) methods: the (N, 2) path."""

    def __init__(self, L):
        self.L, self.name, self.bounds, self.minima = L, L.name, L.bounds, L.minima

    def value(self, W):
        return self.L.value(W)

    def grad(self, W):
        return self.L.grad(W)

    def normgrad(self, W, xi=1e-12):
        return self.L.normgrad(W, xi)

    def hvp(self, W, V):
        return self.L.hvp(W, V)


def points(L, n, rng):
    (x0, x1), (y0, y1) = L.bounds
    return np.stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)], -1)


# ---- shapes -----------------------------------------------------------------------------------
@pytest.mark.parametrize("batch", [(), (1,), (4,), (2, 3)], ids=str)
@pytest.mark.parametrize("steps", [0, 7])
def test_run_returns_points_of_shape_steps_plus_1_batch_2(batch, steps, rng):
    L = gl.get("ridge")
    starts = (points(L, int(np.prod(batch)), rng) * 0.5).reshape(batch + (2,))
    tr = gt.run("gam", L, starts, steps, lr=0.02)
    assert tr.points.shape == (steps + 1,) + batch + (2,)
    assert tr.values.shape == (steps + 1,) + batch
    assert tr.diverged.shape == tr.diverged_at.shape == batch
    assert tr.diverged.dtype == bool
    assert_allclose(tr.points[0], starts)
    assert_allclose(tr.values, L.value(tr.points))
    assert tr.final.shape == batch + (2,)
    assert tr.optimizer == "gam" and tr.landscape == "ridge"


@pytest.mark.parametrize("name", ["sgd", "sam", "gsam", "gam", "gam_accel", "sam+gam"])
@pytest.mark.parametrize("batch", [(), (3,), (2, 2)], ids=str)
def test_run_diagnostics_have_shapes_steps_batch_and_agree_between_paths(name, batch, rng):
    L = gl.get("ridge")
    starts = (points(L, int(np.prod(batch)), rng) * 0.5).reshape(batch + (2,))
    tr = gt.run(name, L, starts, 6, diagnostics=True, lr=0.02)
    assert {"g", "d", "f"} <= set(tr.info)
    for k, v in tr.info.items():
        assert v.shape in ((6,) + batch, (6,) + batch + (2,)), (k, v.shape)
    assert_allclose(tr["f"], tr.values[:-1], rtol=1e-12)
    flat = starts.reshape(-1, 2)
    for i, s in enumerate(flat):
        one = gt.run(name, L, s, 6, diagnostics=True, lr=0.02)  # the Python-float path
        assert set(one.info) == set(tr.info)
        for k, v in one.info.items():
            batch_k = tr.info[k].reshape((6, -1) + tr.info[k].shape[1 + len(batch):])[:, i]
            assert v.shape == batch_k.shape, k
            assert_allclose(v, batch_k, rtol=1e-9, atol=1e-10, err_msg=k)


def test_run_takes_a_name_with_hyper_parameters_or_an_optimizer():
    a = gt.run("sam", "ridge", [0.5, 0.2], 5, lr=0.03, rho=0.07)
    b = gt.run(optim.get("sam", lr=0.03, rho=0.07), "ridge", [0.5, 0.2], 5)
    assert_allclose(a.points, b.points)
    with pytest.raises(ValueError, match="hyper-parameters go with an optimizer name"):
        gt.run(optim.get("sam"), "ridge", [0.5, 0.2], 5, rho=0.1)


# ---- the XY path against the (N, 2) path -----------------------------------------------------
@pytest.mark.parametrize("base", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("name", NAMES)
def test_xy_path_equals_the_array_path_bit_for_bit_with_values_computed_apart(
        name, base, monkeypatch):
    L = gl.get("ridge")
    starts = np.concatenate([_starts(L, 7, 3) * 0.7, [[-3.4, 1.9], [3.9, -1.9]]])
    opt = optim.get(name, lr=0.37, base=base)  # large: some starts leave the box
    plain = gt.run(opt, Plain(L), starts, 12, diagnostics=True)
    # without the combined value pass every XY operation is the (N, 2) one, elementwise
    monkeypatch.setattr(R["_XYOracle"], "__init__", _no_value_pass)
    soa = gt.run(opt, L, starts, 12, diagnostics=True)
    assert_array_equal(soa.points, plain.points)
    assert_array_equal(soa.values, plain.values)
    assert_array_equal(soa.diverged_at, plain.diverged_at)
    assert set(soa.info) == set(plain.info)
    for k in soa.info:
        assert_array_equal(soa.info[k], plain.info[k], err_msg=k)


def _no_value_pass(self, L, _init=R["_XYOracle"].__init__):
    _init(self, L)
    self._vdf = self._vd12f = None


@pytest.mark.parametrize("name", ["sgd", "sam", "gsam", "gam", "gam_accel", "sam+gam"])
def test_values_from_the_gradient_pass_are_the_loss_at_the_points(name):
    L = gl.get("ridge")
    tr = gt.run(name, L, _starts(L, 9, 4) * 0.6, 15, lr=0.03)
    assert_allclose(tr.values, L.value(tr.points), rtol=1e-13, atol=1e-15)
    ref = gt.run(name, Plain(L), _starts(L, 9, 4) * 0.6, 15, lr=0.03)
    assert_allclose(tr.points, ref.points, rtol=1e-12, atol=1e-13)


def test_blocks_do_not_change_any_number(monkeypatch):
    L = gl.get("ridge")
    starts = _starts(L, 23, 5) * 0.8
    whole = gt.run("gam", L, starts, 10, diagnostics=True, lr=0.07)
    monkeypatch.setitem(R, "BLOCK", 4)
    blocked = gt.run("gam", L, starts, 10, diagnostics=True, lr=0.07)
    assert_array_equal(blocked.points, whole.points)
    assert_array_equal(blocked.values, whole.values)
    for k in whole.info:
        assert_array_equal(blocked.info[k], whole.info[k], err_msg=k)


# ---- divergence -------------------------------------------------------------------------------
# along x the step multiplies by 1 - lr a = -1.4: every start with x != 0 leaves the box
STIFF = gl.get("quadratic", a=4.0, b=0.25, angle=0.0)
# exp overflows: a non-finite gradient inside the box (OverflowError on Python floats)
EXPLODE = compile_landscape("explode", sp.exp(x ** 2) + y ** 2, ((-3, 3), (-3, 3)))
# sqrt(x) is NaN for x < 0 (ValueError on Python floats); lr = 0.6 jumps there from x = 2
ROOT = compile_landscape("root", x ** 2 - sp.sqrt(x) + y ** 2, ((-3, 3), (-3, 3)))


def _assert_frozen_and_flagged(tr, steps):
    assert np.all(np.isfinite(tr.points))
    flat_pts = tr.points.reshape(steps + 1, -1, 2)
    for i, at in enumerate(tr.diverged_at.reshape(-1)):
        if at < 0:
            continue
        assert 1 <= at <= steps
        assert np.all(flat_pts[at - 1:, i] == flat_pts[at - 1, i])


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("name", ["sgd", "sam", "gam", "gam_accel"])
def test_divergence_leaving_the_box_is_frozen_and_flagged(name, fast):
    starts = np.array([[0.5, 1.0], [0.0, 1.0], [-1.0, -2.0]])
    tr = gt.run(name, STIFF, starts, 40, lr=0.6)
    _assert_frozen_and_flagged(tr, 40)
    assert tr.diverged.tolist() == [True, False, True]
    assert tr.diverged_at[1] == -1
    lo, hi = gt.run.__globals__["divergence_box"](STIFF)
    assert np.all((tr.points >= lo) & (tr.points <= hi))
    assert np.all(np.isfinite(tr.values))
    for i, s in enumerate(starts):  # the single-start fast path agrees
        one = gt.run(name, STIFF, s, 40, lr=0.6, fast=fast)
        assert one.diverged == tr.diverged[i]
        assert one.diverged_at == tr.diverged_at[i]
        assert_allclose(one.points, tr.points[:, i], rtol=1e-12)


@pytest.mark.parametrize("landscape,start", [(EXPLODE, [27.0, 0.5]), (ROOT, [2.0, 0.5])],
                         ids=["overflow", "nan"])
@pytest.mark.parametrize("name", ["sgd", "sam", "gsam", "gam", "gam_accel"])
def test_non_finite_gradients_freeze_and_flag_on_both_paths_without_exception(
        landscape, start, name):
    other = [0.0, 0.5] if landscape is EXPLODE else [0.4, 0.5]
    batch = gt.run(name, landscape, [start, other], 10, lr=0.6)
    assert batch.diverged[0]
    _assert_frozen_and_flagged(batch, 10)
    for i, s in enumerate((start, other)):
        one = gt.run(name, landscape, s, 10, lr=0.6)  # Python floats: math raises, caught
        assert one.diverged_at == batch.diverged_at[i]
        assert np.all(np.isfinite(one.points))
        assert_allclose(one.points, batch.points[:, i], rtol=1e-12)


def test_a_diverging_start_does_not_disturb_the_others_in_its_batch():
    starts = np.array([[0.5, 1.0], [0.0, 1.0], [0.0, -2.0]])
    tr = gt.run("gsam", STIFF, starts, 30, lr=0.6)
    assert tr.diverged.tolist() == [True, False, False]
    for i in (1, 2):
        assert_allclose(tr.points[:, i], gt.run("gsam", STIFF, starts[i], 30, lr=0.6).points,
                        rtol=1e-12)


def test_custom_box_flags_a_start_that_leaves_it():
    tr = gt.run("sgd", STIFF, [[0.0, 1.0]], 40, lr=0.1, box=([-1, 0.5], [1, 2]))
    assert tr.diverged[0]
    assert np.all(tr.points[..., 1] >= 0.5)


# ---- a step into a NaN loss is refused -----------------------------------------------------
@pytest.mark.parametrize("path", ["xy", "array", "floats"])
@pytest.mark.parametrize("name", ["sgd", "sam", "gsam", "gam", "gam_accel"])
def test_a_step_where_the_loss_is_nan_is_refused_and_the_run_frozen(name, path):
    starts = np.array([[1.2, 0.4], [-2.0, 0.7]])  # the first crosses x = 2 at once (lr = 0.9)
    L = Plain(LOGWALL) if path == "array" else LOGWALL
    if path == "floats":
        runs = [gt.run(name, L, s, 8, lr=0.9) for s in starts]
        pts = np.stack([r.points for r in runs], 1)
        vals = np.stack([r.values for r in runs], 1)
        at = np.array([int(r.diverged_at) for r in runs])
        refused = np.array([bool(r.refused) for r in runs])
    else:
        tr = gt.run(name, L, starts, 8, lr=0.9)
        pts, vals, at, refused = tr.points, tr.values, tr.diverged_at, tr.refused
    assert np.all(np.isfinite(pts)) and np.all(np.isfinite(vals))
    assert np.all(pts[..., 0] < 2)  # never in the region where the loss is NaN
    assert at[0] >= 1 and refused[0]
    assert np.all(pts[at[0] - 1:, 0] == pts[at[0] - 1, 0])
    assert_allclose(vals, LOGWALL.value(pts), rtol=1e-12)
    # the refused step would have landed where the loss is NaN (checked independently)
    last = pts[at[0] - 1, 0]
    opt = optim.get(name, lr=0.9)
    nxt, _, _ = opt.update(last, opt.init(last), LOGWALL)
    with np.errstate(invalid="ignore"):
        assert np.isnan(LOGWALL.value(nxt))


@pytest.mark.parametrize("side", [(1, 0), (-1, 0), (0, 1), (0, -1)])
@pytest.mark.parametrize("path", ["xy", "array"])
def test_a_run_leaving_the_box_by_any_side_is_frozen_there(side, path):
    # a tilted plane: descent moves by lr (0.3) per step along -side; the box is [-1, 1]^2
    tilt = compile_landscape("tilt", -(side[0] * x + side[1] * y), ((-1, 1), (-1, 1)))
    L = tilt if path == "xy" else Plain(tilt)
    starts = np.array([[0.0, 0.0], [0.05, -0.05]])  # a second start, so the batch path runs
    tr = gt.run("sgd", L, starts, 8, lr=0.3, box=((-1, -1), (1, 1)))
    assert tr.diverged.all() and not tr.refused.any()
    assert tr.diverged_at.tolist() == [4, 4]  # the 4th step leaves the box (|1.2| > 1)
    assert np.all(np.abs(tr.points) <= 1.0)
    assert_allclose(tr.final[0], 0.9 * np.array(side), atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("lr,every", [(0.1, 1), (0.9, 1), (0.1, 2)])
def test_diagnostics_of_a_refused_run_are_nan_from_the_refused_step_on_either_path(
        name, lr, every):
    # each start of a batch against the same start alone on Python floats: the same info, NaN
    # from the step that was refused on (lr 0.9 from x = 1.9: the first step), finite before
    starts = np.array([[0.0, 1.0], [1.9, 0.5], [-1.0, 0.2]])
    kw = dict(diagnostics=True, lr=lr, record_every=every)
    batch = gt.run(name, LOGWALL, starts, 9, **kw)
    assert batch.diverged.any()
    for j, start in enumerate(starts):
        one = gt.run(name, LOGWALL, start, 9, fast=True, **kw)
        d = one.diverged_at[()]
        assert d == batch.diverged_at[j] and set(one.info) == set(batch.info) and one.info
        taken = one.recorded[:-1] < (d - 1 if d > 0 else 10**9)  # steps taken, not refused
        for k in one.info:
            a, b = one.info[k], batch.info[k][:, j]
            assert_allclose(b, a, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=f"{k} {j}")
            assert np.isfinite(b[taken]).all() and np.isnan(b[~taken]).all(), (k, j)


def test_a_start_that_leaves_the_box_is_not_marked_refused():
    stiff = gl.get("quadratic", a=4.0, b=0.25, angle=0.0)
    tr = gt.run("sgd", stiff, [[0.5, 1.0], [0.0, 1.0]], 40, lr=0.6)
    assert tr.diverged.tolist() == [True, False]
    assert not tr.refused.any()


# ---- an undefined gradient is not a divergence; a start at a minimum stays there --------------
def _cone():
    import autograd.numpy as anp
    return gt.landscapes.from_function(lambda W: anp.sqrt(anp.sum(W ** 2, -1)), name="cone")


def test_a_cone_run_away_from_its_tip_is_not_refused():
    tr = gt.run("sgd", _cone(), [[0.7, -0.3], [-1.1, 0.4]], 3, lr=0.05)
    assert not tr.diverged.any()
    # the cone's gradient is the unit vector W/|W|: each step moves lr towards the tip
    assert_allclose(np.linalg.norm(tr.final, axis=-1), np.linalg.norm([[0.7, -0.3], [-1.1, 0.4]],
                                                                      axis=-1) - 3 * 0.05)


def test_an_overflowing_first_step_from_a_finite_gradient_is_still_a_divergence():
    tr = gt.run("sgd", "quadratic", [[1.0, 1.0], [0.5, 0.2]], 3, lr=1e308)
    assert tr.diverged.all() and np.isfinite(tr.points).all()


@pytest.mark.parametrize("name", ["sam", "gnp", "gsam", "gam", "gam_accel", "sam+gam", "gsam+gam"])
@pytest.mark.parametrize("fast", [True, False])
def test_a_start_at_an_exact_minimum_stays_there_and_is_not_diverged(name, fast):
    tr = gt.run(name, "quadratic", np.zeros((2,) if fast else (3, 2)), 5, fast=fast)
    assert not tr.diverged.any() and np.all(tr.points == 0.0)


# ---- record_every ---------------------------------------------------------------------------
@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("every,steps", [(3, 12), (5, 13), (1, 4), (20, 7)])
def test_record_every_keeps_those_rows_of_the_full_run_and_the_last(every, steps, fast):
    L = gl.get("ridge")
    starts = np.array([0.4, -0.3]) if fast else _starts(L, 5, 6) * 0.5
    full = gt.run("gsam", L, starts, steps, diagnostics=True, lr=0.04)
    part = gt.run("gsam", L, starts, steps, diagnostics=True, lr=0.04, record_every=every)
    want = sorted(set(range(0, steps + 1, every)) | {steps})
    assert part.recorded.tolist() == want
    assert_array_equal(part.points, full.points[want])
    assert_array_equal(part.values, full.values[want])
    assert_array_equal(part.final, full.final)
    assert_array_equal(part.diverged_at, full.diverged_at)
    for k in full.info:  # info rows: the steps taken from the recorded points before the last
        assert_array_equal(part.info[k], full.info[k][want[:-1]], err_msg=k)


def test_a_long_run_with_record_every_fits_and_keeps_the_rows_asked_for():
    tr = gt.run("sgd", "quadratic", np.ones((7, 2)), 10 ** 5, record_every=3 * 10 ** 4)
    assert tr.points.shape == (5, 7, 2) and list(tr.recorded) == [0, 30000, 60000, 90000, 100000]


# ---- XY ------------------------------------------------------------------------------------
def test_xy_arithmetic_equals_the_array_arithmetic_bit_for_bit(rng):
    A, B = rng.normal(size=(6, 2)), rng.normal(size=(6, 2))
    a, b = XY.of(A), XY.of(B)
    s = rng.uniform(1, 2, size=(6, 1))
    for got, want in [(a + b, A + B), (a - b, A - B), (a * 0.7, A * 0.7), (0.7 * a, 0.7 * A),
                      (a / 0.3, A / 0.3), (a * s, A * s), (a / s, A / s), (a * b, A * B),
                      (a / b, A / B), (-a, -A), (a + 0.2, A + 0.2),
                      (np.sqrt(a * a), np.sqrt(A * A)),
                      (unit(a, 1e-12), unit(A, 1e-12))]:
        assert type(got) is XY
        assert_array_equal(got.array(), want)
    assert_array_equal(norm(a), norm(A))
    assert_array_equal(dot(a, b), dot(A, B))
    assert norm(a).shape == (6, 1) and squeeze(dot(a, b)).shape == (6,)
    z = np.zeros_like(a)
    assert type(z) is XY and np.all(z.array() == 0) and z.shape == (6, 2)


def test_finite_starts_whose_sum_overflows_are_accepted():
    big = np.array([[1e308, 0.5], [1e308, -0.5]])  # starts.sum() is inf; every entry finite
    wide = ([-np.inf, -np.inf], [np.inf, np.inf])
    tr = gt.run("sgd", gl.get("quadratic"), big, 2, lr=1e-3, box=wide)
    assert tr.points.shape == (3, 2, 2) and np.all(np.isfinite(tr.points))


# ---- bad input --------------------------------------------------------------------------------
@pytest.mark.parametrize("steps", [-1, 2.5])
def test_run_with_bad_steps_raises_value_error(steps):
    with pytest.raises(ValueError, match="steps must be a non-negative integer"):
        gt.run("sgd", "ridge", [0.0, 0.0], steps)


def test_run_on_unknown_landscape_raises_value_error_listing_names():
    with pytest.raises(ValueError, match="unknown landscape 'moon'.*ridge"):
        gt.run("sgd", "moon", [0.0, 0.0], 3)


@pytest.mark.parametrize("start", [[np.nan, 0.0], [[0.0, 0.0], [np.inf, 1.0]]])
def test_nan_starts_raise_value_error(start):
    with pytest.raises(ValueError, match="starts contain NaN"):
        gt.run("gam", "ridge", start, 3)


@pytest.mark.parametrize("shape", [(), (3,), (4, 1), (2, 3)], ids=str)
def test_starts_of_wrong_shape_raise_value_error(shape):
    with pytest.raises(ValueError, match=r"starts must have shape \(\.\.\., 2\)"):
        gt.run("sam", "ridge", np.zeros(shape), 3)


@pytest.mark.parametrize("box,match", [
    (5, "box must be \\(lo, hi\\)"), (((-5, -5, -5), (5, 5, 5)), "box must be \\(lo, hi\\)"),
    (((3, 3), (-3, -3)), "lo < hi in x and y"), (((np.nan, -5), (5, 5)), "lo < hi in x and y"),
    ("ab", "box must be")])
def test_a_bad_box_is_refused(box, match):
    # box=5 was a raw 'int' object is not subscriptable; a (3,) box ran, ignoring the third value
    with pytest.raises(ValueError, match=match):
        gt.run("sgd", "himmelblau", np.array([[0.5, 0.5]]), 3, box=box)


@pytest.mark.parametrize("fast", [False, True])
def test_a_start_where_the_loss_is_nan_raises_naming_it(fast):
    starts = np.array([[1.0, 0.0], [2.5, 0.3]]) if not fast else np.array([2.5, 0.3])
    where = r"starts\[1\]" if not fast else "starts"
    with pytest.raises(ValueError, match=rf"loss of 'logwall' is NaN at {where} = \[2.5, 0.3\]"):
        gt.run("sam", LOGWALL, starts, 5, fast=fast)


@pytest.mark.parametrize("path", ["xy", "array"])
def test_a_nan_start_in_a_later_block_is_named_by_its_batch_index_before_any_step(
        monkeypatch, path):
    # the batch path finds the NaN from its t = 0 gradient pass, block by block: the index must
    # still be the start's place in the batch, and no block may take a step first
    monkeypatch.setitem(R, "BLOCK", 7)
    L = LOGWALL if path == "xy" else Plain(LOGWALL)
    starts = np.zeros((3, 5, 2))
    starts[2, 3] = [2.5, -0.4]  # flat index 13: the second block of 7
    calls = []
    real = R["_record_info"]
    monkeypatch.setitem(R, "_record_info", lambda *a: calls.append(a) or real(*a))
    with pytest.raises(ValueError, match=r"loss of 'logwall' is NaN at starts\[2, 3\] = "
                                         r"\[2.5, -0.4\]"):
        gt.run("gsam", L, starts, 4, diagnostics=True)
    assert not calls  # nothing was recorded: no step was taken
    # and a clean batch evaluates each start's loss once, in the first gradient pass
    ok = gt.run("gsam", L, np.zeros((3, 5, 2)) + [0.5, 0.1], 4)
    assert_allclose(ok.values, LOGWALL.value(ok.points), rtol=1e-13)


def test_a_start_outside_the_box_raises_naming_it_and_the_box():
    L = gl.get("ridge")  # bounds x in [-3.5, 4], y in [-2, 2]: the box is 10 spans wider
    with pytest.raises(ValueError, match=r"starts\[0, 2\] = \[100.0, 0.0\] is outside the run's "
                                         r"box x in \[-78.5, 79\], y in \[-42, 42\]"):
        gt.run("gam", L, np.array([[[0.0, 0.0], [1.0, 1.0], [100.0, 0.0]]]), 5)
    with pytest.raises(ValueError, match=r"starts = \[0.0, 3.0\] is outside .*\(box=\)"):
        gt.run("sgd", L, [0.0, 3.0], 5, box=([-1, -1], [1, 1]))


@pytest.mark.parametrize("starts", [[0.0, 0.0], [[0.7, -0.3], [0.0, 0.0]]])
def test_a_start_where_the_gradient_is_undefined_raises_naming_it_not_diverged(starts):
    with pytest.raises(ValueError, match=r"gradient of 'cone' is \[nan, nan\] at starts.* "
                                         r"no derivative there"):
        gt.run("sgd", _cone(), starts, 4)


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "3"])
def test_bad_record_every_raises_value_error(bad):
    with pytest.raises(ValueError, match="record_every must be a positive integer"):
        gt.run("sgd", "ridge", [0.0, 0.0], 5, record_every=bad)


@pytest.mark.parametrize("fast,batch", [(True, ()), (False, (1000,))])
def test_a_run_whose_records_cannot_fit_in_memory_is_refused_with_the_memory_it_needs(fast, batch):
    starts = np.ones(batch + (2,))
    with pytest.raises(ValueError, match=r"GiB of memory.*pass .*record_every >= "):
        gt.run("sgd", "quadratic", starts, 10 ** 12, fast=fast)
