"""Seeded synthetic classification data: two moons, spirals, Gaussian mixture.

`make_data(name, ...)` returns a `Dataset` with a train/test split, inputs standardised with the
training statistics, and optional symmetric label noise on the training labels only (a fraction
`label_noise` of them replaced by a different class drawn uniformly, as in GAM Table 6).
"""
from typing import NamedTuple

import numpy as np

NAMES = ("moons", "spirals", "gmm")


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


def make_data(name="moons", n_train=256, n_test=1024, noise=None, label_noise=0.0, seed=0,
              **kw):
    """A seeded `Dataset`. noise: input noise (default 0.2 moons, 0.05 spirals, 0.5 gmm)."""
    gens = {"moons": moons, "spirals": spirals, "gmm": gmm}
    if name not in gens:
        raise ValueError(f"unknown data set {name!r}; valid: {', '.join(NAMES)}")
    if int(n_train) < 2 or int(n_test) < 1:
        raise ValueError(f"need n_train >= 2 and n_test >= 1, got {n_train}, {n_test}")
    if not 0.0 <= label_noise < 1.0:
        raise ValueError(f"label_noise must be in [0, 1), got {label_noise}")
    noise = {"moons": 0.2, "spirals": 0.05, "gmm": 0.5}[name] if noise is None else noise
    if not noise >= 0:
        raise ValueError(f"noise must be non-negative, got {noise}")
    rng = np.random.default_rng(seed)
    X, y = gens[name](int(n_train) + int(n_test), float(noise), rng, **kw)
    k = int(y.max()) + 1 if name == "moons" else kw.get("n_classes", 2 if name == "spirals" else 3)
    Xtr, ytr, Xte, yte = X[:n_train], y[:n_train], X[n_train:], y[n_train:]
    mu, sd = Xtr.mean(0), Xtr.std(0) + 1e-12
    Xtr, Xte = (Xtr - mu) / sd, (Xte - mu) / sd
    noisy = ytr.copy()
    m = int(round(label_noise * len(ytr)))
    if m:
        idx = rng.choice(len(ytr), m, replace=False)
        noisy[idx] = (ytr[idx] + rng.integers(1, k, m)) % k
    return Dataset(Xtr, noisy, Xte, yte, ytr, int(k))
