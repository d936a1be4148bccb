"""Seeded classification data: two moons, spirals, Gaussian mixture, and scikit-learn's 8x8 digits.

`make_data(name, ...)` returns a `Dataset` with a train/test split, inputs standardised with the
training statistics, and optional symmetric label noise on the training labels only (a fraction
`label_noise` of them replaced by a different class drawn uniformly, as in GAM Table 6).
`digits` is the real data set that ships inside scikit-learn (`sklearn.datasets.load_digits`:
1797 images of 8x8 pixels, 10 classes, no download); a seeded permutation splits it.
"""
import functools
import importlib.util
import os
from typing import NamedTuple

import numpy as np

from .. import validate

NAMES = ("moons", "spirals", "gmm", "digits")
N_DIGITS = 1797  # images in sklearn.datasets.load_digits


class Dataset(NamedTuple):
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    y_train_clean: np.ndarray
    n_classes: int


def moons(n, noise, rng):
    """Two interleaving half circles (labels 0/1) plus Gaussian noise of std `noise`."""
    y = rng.integers(0, 2, n)
    t = rng.uniform(0, np.pi, n)
    X = np.where(y[:, None] == 0,
                 np.stack([np.cos(t), np.sin(t)], 1),
                 np.stack([1 - np.cos(t), 0.5 - np.sin(t)], 1))
    return X + rng.normal(0, noise, X.shape), y


def spirals(n, noise, rng, n_classes=2, turns=1.5):
    """`n_classes` interleaved Archimedean spirals."""
    y = rng.integers(0, n_classes, n)
    r = rng.uniform(0.1, 1.0, n)
    phi = 2 * np.pi * (turns * r + y / n_classes)
    X = np.stack([r * np.cos(phi), r * np.sin(phi)], 1)
    return X + rng.normal(0, noise, X.shape), y


def gmm(n, noise, rng, n_classes=3, dim=2):
    """`n_classes` isotropic Gaussians (std `noise`) with means on the unit circle."""
    y = rng.integers(0, n_classes, n)
    ang = 2 * np.pi * np.arange(n_classes) / n_classes
    mu = np.zeros((n_classes, dim))
    mu[:, 0], mu[:, 1] = np.cos(ang), np.sin(ang)
    return mu[y] + rng.normal(0, noise, (n, dim)), y


@functools.lru_cache(maxsize=1)
def load_digits():
    """(X, y) of `sklearn.datasets.load_digits()`: (1797, 64) pixels in [0, 16], labels 0-9.

    Read from the file scikit-learn ships (`sklearn/datasets/data/digits.csv.gz`, what
    load_digits reads) without importing `sklearn.datasets` (a slow import); load_digits itself
    if the file is not where it is expected. Read-only arrays."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None:
        raise ImportError("the digits data set needs scikit-learn: pip install scikit-learn")
    path = os.path.join(spec.submodule_search_locations[0], "datasets", "data", "digits.csv.gz")
    if os.path.isfile(path):
        data = np.loadtxt(path, delimiter=",")
        X, y = data[:, :-1], data[:, -1].astype(np.int64)
    else:  # pragma: no cover - another scikit-learn layout
        from sklearn.datasets import load_digits as _load
        X, y = _load(return_X_y=True)
        X, y = np.asarray(X, float), np.asarray(y, np.int64)
    if X.shape != (N_DIGITS, 64):
        raise ValueError(f"unexpected digits data shape {X.shape} from {path}")
    X.flags.writeable = False
    y.flags.writeable = False
    return X, y


def digits(n, noise, rng):
    """`n` of scikit-learn's 8x8 digit images (64 pixels in [0, 16], labels 0-9) in a seeded order;
    `noise` adds Gaussian pixel noise (0 by default)."""
    X, y = load_digits()
    idx = rng.permutation(len(y))[:n]
    X = X[idx].astype(float)
    if noise:
        X = X + rng.normal(0, noise, X.shape)
    return X, y[idx].copy()


_GENS = {"moons": moons, "spirals": spirals, "gmm": gmm, "digits": digits}
_NOISE = {"moons": 0.2, "spirals": 0.05, "gmm": 0.5, "digits": 0.0}


def make_data(name="moons", n_train=256, n_test=1024, noise=None, label_noise=0.0, seed=0,
              **kw):
    """A seeded `Dataset`. noise: input noise (default 0.2 moons, 0.05 spirals, 0.5 gmm, 0 digits).

    For `digits`, n_train + n_test <= 1797 (the images scikit-learn ships)."""
    if name not in _GENS:
        raise ValueError(f"unknown data set {name!r}; valid: {', '.join(NAMES)}")
    n_train = validate.positive_int("n_train", n_train, low=2)
    n_test = validate.positive_int("n_test", n_test, low=1)
    seed = validate.positive_int("seed", seed, low=0)
    label_noise = validate.real("label_noise", label_noise, low=0.0, high=1.0, high_open=True)
    noise = validate.real("noise", _NOISE[name] if noise is None else noise, low=0.0)
    if name == "digits":
        if kw:
            raise ValueError(f"digits takes no extra keyword arguments, got {sorted(kw)}")
        if n_train + n_test > N_DIGITS:
            raise ValueError(f"digits has {N_DIGITS} images: need n_train + n_test <= {N_DIGITS}, "
                             f"got n_train={n_train}, n_test={n_test}")
    for k in ("n_classes", "dim"):
        if k in kw:
            kw[k] = validate.positive_int(k, kw[k], low=2)
    rng = np.random.default_rng(seed)
    X, y = _GENS[name](n_train + n_test, noise, rng, **kw)
    k = {"moons": 2, "digits": 10}.get(name) or kw.get("n_classes", 2 if name == "spirals" else 3)
    Xtr, ytr, Xte, yte = X[:n_train], y[:n_train], X[n_train:], y[n_train:]
    mu, sd = Xtr.mean(0), Xtr.std(0)
    sd = np.where(sd > 1e-8, sd,
                  1.0)  # a constant training pixel (digits' borders) stays 0, not 1/eps
    Xtr, Xte = (Xtr - mu) / sd, (Xte - mu) / sd
    noisy = ytr.copy()
    m = int(round(label_noise * len(ytr)))
    if m:
        idx = rng.choice(len(ytr), m, replace=False)
        noisy[idx] = (ytr[idx] + rng.integers(1, k, m)) % k
    return Dataset(Xtr, noisy, Xte, yte, ytr, int(k))
