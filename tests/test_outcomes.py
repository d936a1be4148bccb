"""Critical points of the landscapes, and end points labelled by what they are.

The critical points are checked against finite differences (an independent gradient and Hessian);
the labels against round-off: the ridge's population tables must not change (every count within 1
run, every verdict the same) when the starts move by a few ulps, when the run takes the other code
path (arrays instead of XY vectors, another block size), under another np.errstate and thread count.
"""
import importlib

import numpy as np
import pytest

import gamtoy as gt
from gamtoy import outcomes as O
from gamtoy.figures import basin_map
from gamtoy.figures import gam_fig1 as G
from gamtoy.figures import ridge as R
from gamtoy.landscapes import Landscape, critical

run_mod = importlib.import_module("gamtoy.run")   # the module (gamtoy.run is also the function)
LANDSCAPES = ["ridge", "fig1a", "fig1b", "gsam_fig1", "himmelblau", "quadratic", "rosenbrock"]


def fd_grad(L, P, h=1e-6):
    e = np.eye(2) * h
    return np.stack([(L.value(P + e[i]) - L.value(P - e[i])) / (2 * h) for i in range(2)], -1)


def fd_hessian(L, P, h=1e-4):
    """Central differences of the loss itself (not of L.grad): independent of the compiled
    derivatives."""
    e = np.eye(2) * h
    H = np.empty(P.shape[:-1] + (2, 2))
    for i in range(2):
        for j in range(2):
            H[..., i, j] = (L.value(P + e[i] + e[j]) - L.value(P + e[i] - e[j])
                            - L.value(P - e[i] + e[j]) + L.value(P - e[i] - e[j])) / (4 * h * h)
    return H


@pytest.mark.parametrize("name", LANDSCAPES)
def test_critical_points_are_critical_and_typed_by_an_independent_hessian(name):
    L = gt.landscapes.get(name)
    cps = L.critical_points
    P = np.array([c.point for c in cps])
    assert np.all(np.linalg.norm(L.grad(P), axis=-1) < 1e-10)
    scale = np.abs(L.value(P)).max() + 1
    np.testing.assert_allclose(fd_grad(L, P), 0, atol=1e-7 * scale)
    eig = np.linalg.eigvalsh(fd_hessian(L, P))
    want = np.array([c.eigenvalues for c in cps])
    np.testing.assert_allclose(eig, want, rtol=1e-3, atol=1e-3 * np.abs(want).max())
    kinds = np.where(eig[:, 0] > 0, "minimum", np.where(eig[:, 1] < 0, "maximum", "saddle"))
    assert [c.kind for c in cps if c.kind != "degenerate"] == \
        [k for k, c in zip(kinds, cps, strict=True) if c.kind != "degenerate"]
    # the known minima come first, in their order, and the saddles accessor lists the saddles
    np.testing.assert_allclose(P[:len(L.minima)], L.minima, atol=1e-9)
    assert len(L.saddles) == sum(c.kind == "saddle" for c in cps)
    assert [c.index for c in cps] == list(range(len(cps)))


def test_known_counts_and_the_ridge_saddle():
    """Himmelblau has 4 minima, 4 saddles and 1 maximum (a textbook count); the ridge has 4
    saddles beside its 4 wells, one of them the point SAM converges to (issue: (-1.7831, 0.2040),
    eigenvalues -20.3 and +9.0)."""
    kinds = [c.kind for c in gt.landscapes.get("himmelblau").critical_points]
    assert (kinds.count("minimum"), kinds.count("saddle"), kinds.count("maximum")) == (4, 4, 1)
    L = gt.landscapes.get("ridge")
    assert [c.name for c in L.critical_points[:2]] == ["flat basin", "well 1"]
    assert len(L.saddles) == 4
    s = L.critical_points[len(L.minima) + 1]
    assert s.name == "saddle 2" and s.kind == "saddle"
    np.testing.assert_allclose(s.point, [-1.7831, 0.2040], atol=1e-4)
    np.testing.assert_allclose(s.eigenvalues, [-20.3, 9.0], atol=0.1)


def test_a_finer_search_finds_no_other_critical_point_on_the_ridge():
    L = gt.landscapes.get("ridge")
    fine, _ = critical.find(L, n=241, extra=L.minima)
    coarse = np.array([c.point for c in L.critical_points])
    assert len(fine) == len(coarse)
    assert np.max(np.min(np.linalg.norm(fine[:, None] - coarse[None], axis=-1), 1)) < 1e-6


def test_hessian_kind_boundaries():
    k = critical.hessian_kind(np.array([[0.3, 2.0], [-0.3, 2.0], [-2.0, -0.3], [0.0, 2.0],
                                        [-2.0, 0.0], [-2.0, 1e-12], [1e-12, 2.0]]))
    # an eigenvalue within 1e-8 of the larger: degenerate
    assert k.tolist() == [0, 1, 2, 3, 3, 3, 3]


def test_classify_labels_points_by_their_own_gradient_and_hessian():
    L = gt.landscapes.get("himmelblau")
    cps = L.critical_points
    P = np.array([c.point for c in cps] + [[0.3, 0.7], [np.nan, 0.0]])
    e = O.classify(L, P, diverged=[False] * (len(cps) + 1) + [False])
    assert e.code.tolist() == [0, 1, 2, 3, -3, -3, -3, -3, -4, -1, -2]
    assert e.saddle.tolist() == [-1] * 4 + [0, 1, 2, 3] + [-1] * 3
    assert e.kind[8] == 2 and e.critical[8] == 8 and "maximum 1" in e.name(8, L)
    assert "still moving" in e.name(9, L) and e.gnorm[9] > O.GTOL and not e.converged[9]
    with pytest.raises(ValueError, match="one flag per point"):
        O.classify(L, P, diverged=[True])
    with pytest.raises(ValueError, match="gtol"):
        O.classify(L, P, gtol=0)


# ---- round-off robustness ---------------------------------------------------------------------
def table(pop):
    return ({nm: d["counts"] for nm, d in pop["per"].items()},
            {k: v["verdict"] for k, v in R.claims(pop).items()})


# GAM's direction is far from Lipschitz at lr's scale (rho H g/|g| at the ascent point; its
# Jacobian reaches 1e2-1e4 where 2/lr = 40), so GAM and SAM+GAM amplify round-off in their own
# trajectories: SAM+GAM's runs 1 ulp apart separate to 1e-2 within ~90 steps as they cross the
# wells (2-4 of 400 endings move, flat <-> saddle); GAM's endings in well 1 vs well 2 move by
# up to 33 of 400 between the XY and the array path. That is the dynamics, not the label: their
# counts get these measured margins; every verdict must still be identical.
CHAOTIC = {"sam+gam": 8, "gam": 40}


def assert_same_tables(a, b):
    (ca, va), (cb, vb) = a, b
    assert va == vb
    for nm in ca:
        for c in ca[nm]:
            tol = CHAOTIC.get(nm, 1)
            assert abs(ca[nm][c] - cb[nm][c]) <= tol, (nm, c, ca[nm][c], cb[nm][c])


OPTS = ("sgd", "sam", "gsam", "gnp", "gam", "sam+gam")


@pytest.fixture(scope="module")
def centre():
    return table(R.ridge_population(20, optimizers=OPTS))


def test_ridge_tables_survive_starts_moved_by_a_few_ulps(centre, monkeypatch):
    real = R.ridge_starts
    for k in (3, -3):
        def moved(n, box, k=k):
            S = real(n, box)
            for _ in range(abs(k)):
                S = np.nextafter(S, np.sign(k) * np.inf)
            return S
        monkeypatch.setattr(R, "ridge_starts", moved)
        assert_same_tables(centre, table(R.ridge_population(20, optimizers=OPTS)))


def test_ridge_tables_survive_the_array_path_and_another_block_size(centre, monkeypatch):
    monkeypatch.setattr(run_mod, "BLOCK", 37)
    assert_same_tables(centre, table(R.ridge_population(20, optimizers=OPTS)))
    monkeypatch.setattr(Landscape, "compiled", lambda self: None)  # the (N, 2) array path
    assert_same_tables(centre, table(R.ridge_population(20, optimizers=OPTS)))


def test_ridge_tables_survive_errstate_and_thread_count(centre):
    from threadpoolctl import threadpool_limits
    with np.errstate(all="raise"), threadpool_limits(limits=2):
        assert_same_tables(centre, table(R.ridge_population(20, optimizers=OPTS)))


def fig1_table(pop):
    return ({nm: d["counts"] for nm, d in pop["per"].items()},
            {k: v["verdict"] for k, v in pop["compare"].items()})


def test_fig1_populations_survive_round_off(monkeypatch):
    want = fig1_table(G.fig1_population("fig1a", n=12, steps=300))
    monkeypatch.setattr(run_mod, "BLOCK", 23)
    assert_same_tables(want, fig1_table(G.fig1_population("fig1a", n=12, steps=300)))
    monkeypatch.setattr(Landscape, "compiled", lambda self: None)  # the (N, 2) array path
    with np.errstate(all="raise"):
        assert_same_tables(want, fig1_table(G.fig1_population("fig1a", n=12, steps=300)))


def test_basin_map_survives_round_off(monkeypatch):
    kw = {"n": 10, "steps": 200, "optimizers": ("sgd", "sam"), "workers": 1}
    a = basin_map.basin_map_data(**kw)
    monkeypatch.setattr(Landscape, "compiled", lambda self: None)  # the (N, 2) array path
    b = basin_map.basin_map_data(**kw)
    for nm in a["per"]:
        assert np.sum(a["per"][nm]["basin"] != b["per"][nm]["basin"]) <= 1


# ---- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize("points", [np.array([1.0, 2.0, 3.0]), np.float64(0.3), np.zeros((4, 3))])
def test_points_not_of_shape_n_by_2_are_refused_naming_the_shape(points):
    with pytest.raises(ValueError, match=r"points must be end points of shape \(\.\.\., 2\)"):
        O.classify("ridge", points)


def test_a_nan_end_point_is_a_diverged_run_not_an_error():
    ends = O.classify("ridge", np.array([[np.nan, 0.2], [-1.78309, 0.203988]]))
    assert int(ends.code[0]) == int(O.Outcome.DIVERGED)
    assert int(ends.code[1]) == int(O.Outcome.SADDLE)


def test_an_unknown_landscape_or_a_bad_tolerance_is_refused():
    with pytest.raises(ValueError, match="unknown landscape 'nope'"):
        O.classify("nope", np.zeros((1, 2)))
    with pytest.raises(ValueError, match="gtol and radius must be > 0"):
        O.classify("ridge", np.zeros((1, 2)), gtol=0.0)
