"""The basin map figure: every start classified by gamtoy.outcomes from its own run's end point."""
import numpy as np
import pytest

import gamtoy as gt
from gamtoy.figures import basin_map
from gamtoy.outcomes import classify


def test_basin_map_data_classifies_each_start_by_its_own_run():
    hyper = {"sgd": {"lr": 0.05}, "gsam": {"lr": 0.05, "rho": 0.2, "alpha": 0.7}}
    d = basin_map.basin_map_data(n=9, steps=40, optimizers=("sgd", "gsam"), hyper=hyper)
    assert d["X"].shape == d["Y"].shape == (9, 9)
    for nm, p in d["per"].items():
        assert p["basin"].shape == (9, 9)
        for i, j in [(0, 0), (4, 7), (8, 2)]:  # a few starts run alone (Python floats)
            tr = gt.run(nm, "ridge", [d["X"][i, j], d["Y"][i, j]], 40, **hyper[nm])
            want = (basin_map.DIVERGED if tr.diverged
                    else int(classify("ridge", tr.final[None]).code[0]))
            assert p["basin"][i, j] == want
        assert p["flat"] == pytest.approx(np.mean(p["basin"] == 0))
        assert sum(p["fractions"].values()) == pytest.approx(1.0)


def test_plot_basin_map_grid_draws_one_image_per_optimizer():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    d = basin_map.basin_map_data(n=6, steps=5, optimizers=("sgd", "sam"),
                                 hyper={"sgd": {"lr": 0.05}, "sam": {"lr": 0.05}})
    images = basin_map.plot_basin_map_grid(d, contours=False)
    assert set(images) == {"sgd", "sam"}
    assert images["sgd"].get_array().shape == (6, 6)
    plt.close("all")


def test_two_workers_give_the_same_map_as_one_process():
    hyper = {"sgd": {"lr": 0.05}, "gam": {"lr": 0.05, "rho": 0.2}, "sam": {"lr": 0.05}}
    kw = dict(n=7, steps=30, optimizers=("sgd", "gam", "sam"), hyper=hyper)
    one = basin_map.basin_map_data(workers=1, **kw)
    two = basin_map.basin_map_data(workers=2, **kw)
    for nm in kw["optimizers"]:
        np.testing.assert_array_equal(one["per"][nm]["basin"], two["per"][nm]["basin"])


# ---- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [0, 1, -3, 2.5, True, "20"])
def test_a_grid_size_that_is_not_an_integer_of_at_least_2_is_refused_before_any_run(n):
    with pytest.raises(ValueError, match=r"n must be an integer >= 2"):
        basin_map.basin_map_data(n=n)


def test_an_unknown_optimizer_or_negative_steps_is_refused():
    with pytest.raises(ValueError, match="unknown optimizer 'nope'"):
        basin_map.basin_map_data(n=3, optimizers=("nope",), workers=1)
    with pytest.raises(ValueError, match="steps must be a non-negative integer"):
        basin_map.basin_map_data(n=3, steps=-1, optimizers=("sgd",), workers=1)
