"""GSAM Figure 3 on the `ridge` landscape: the default start, hyper-parameters and data builders."""
import numpy as np

from .trajectories import RIDGE_OPTIMIZERS, basin_grid_data, trajectory_data

RIDGE_START = (-3.0, 1.5)
RIDGE_STEPS = 800
# lr = 0.05 for all; rho = 0.2 (SAM, GNP, GSAM, GAM family); GSAM alpha = 2
RIDGE_HYPER = {"sgd": {"lr": 0.05}, "sam": {"lr": 0.05, "rho": 0.2},
               "gsam": {"lr": 0.05, "rho": 0.2, "alpha": 2.0},
               "gnp": {"lr": 0.05, "rho": 0.2}, "gam": {"lr": 0.05, "rho": 0.2},
               "gam_accel": {"lr": 0.05, "rho": 0.2}, "sam+gam": {"lr": 0.05, "rho": 0.2}}


def ridge_data(start=RIDGE_START, steps=RIDGE_STEPS, hyper=None, optimizers=RIDGE_OPTIMIZERS):
    """Trajectories (with diagnostics) of every optimizer from `start` on `ridge`."""
    return trajectory_data("ridge", np.asarray(start, float), optimizers, steps, hyper or RIDGE_HYPER)


def ridge_basin_data(n=20, steps=RIDGE_STEPS, hyper=None, optimizers=RIDGE_OPTIMIZERS):
    """n x n starts on the valley's upstream part, (x, y) in [-3.4, -2.4] x [-1.6, 1.6]."""
    return basin_grid_data("ridge", optimizers, n, steps, hyper or RIDGE_HYPER,
                           bounds=((-3.4, -2.4), (-1.6, 1.6)), rho_measure=0.2)
