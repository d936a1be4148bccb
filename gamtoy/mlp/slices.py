"""Loss along random directions: filter-normalised 1D/2D slices (GAM Fig. 5, after Li et al.
2018) and the count of local minima / maxima along a ray inside the ball (GAM Fig. 2)."""
import numpy as np


def filter_normalized_direction(model, theta, rng):
    """A Gaussian direction whose incoming weights per unit (columns of W_l) have the norm of
    theta's; bias directions are zero (Li et al. 2018, 'filter normalisation')."""
    d = rng.normal(size=model.n)
    for (W, _b), (D, Db) in zip(model.unpack(theta), model.unpack(d), strict=True):
        D *= np.linalg.norm(W, axis=0) / (np.linalg.norm(D, axis=0) + 1e-12)
        Db[...] = 0.0
    return d


def slice_1d(model, theta, X, y, alphas, seed=0):
    """L(theta + a d) for a in alphas, d filter-normalised."""
    d = filter_normalized_direction(model, theta, np.random.default_rng(seed))
    return np.array([model.value(theta + a * d, X, y) for a in alphas])


def slice_2d(model, theta, X, y, alphas, seed=0):
    """L(theta + a d1 + b d2) on the grid alphas x alphas (rows: b, columns: a)."""
    rng = np.random.default_rng(seed)
    d1 = filter_normalized_direction(model, theta, rng)
    d2 = filter_normalized_direction(model, theta, rng)
    return np.array([[model.value(theta + a * d1 + b * d2, X, y) for a in alphas] for b in alphas])


def count_extrema(profile):
    """(#strict local minima, #strict local maxima) among the interior points of a 1D profile."""
    p = np.asarray(profile)
    mid, left, right = p[1:-1], p[:-2], p[2:]
    return int(np.sum((mid < left) & (mid < right))), int(np.sum((mid > left) & (mid > right)))


def ray_extrema(model, theta, X, y, rho=0.1, n_dirs=100, n_steps=10, seed=0):
    """GAM Sec. 5.1: along n_dirs random unit directions, add rho/n_steps n_steps times and count
    the local minima and maxima of the training loss; arrays of shape (n_dirs,)."""
    if rho <= 0 or n_steps < 2 or n_dirs < 1:
        raise ValueError(f"need rho > 0, n_steps >= 2, n_dirs >= 1; got {rho}, {n_steps}, {n_dirs}")
    rng = np.random.default_rng(seed)
    r = np.linspace(0.0, rho, n_steps + 1)
    mins, maxs = np.zeros(n_dirs, int), np.zeros(n_dirs, int)
    for i in range(n_dirs):
        u = rng.normal(size=model.n)
        u /= np.linalg.norm(u)
        mins[i], maxs[i] = count_extrema([model.value(theta + s * u, X, y) for s in r])
    return mins, maxs
