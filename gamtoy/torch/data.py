"""Data for the training command: two moons (generated), CIFAR-10/100 from local pickle batches.

`load(spec)` with spec "moons", "cifar10:PATH" or "cifar100:PATH" -> (train, test, classes),
each split a (X float32 tensor, y int64 tensor) pair. Nothing is downloaded.
"""
import math
import os
import pickle

import numpy as np
import torch

CIFAR = {
    "cifar10": {"url": "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
                "folder": "cifar-10-batches-py", "classes": 10, "label": b"labels",
                "train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]},
    "cifar100": {"url": "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
                 "folder": "cifar-100-python", "classes": 100, "label": b"fine_labels",
                 "train": ["train"], "test": ["test"]},
}
MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)


def moons(n=512, noise=0.15, seed=0):
    """Two interleaving half circles with Gaussian noise; labels 0/1."""
    rng = np.random.default_rng(seed)
    n0 = n // 2
    t0, t1 = rng.uniform(0, math.pi, n0), rng.uniform(0, math.pi, n - n0)
    a = np.stack([np.cos(t0), np.sin(t0)], 1)
    b = np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], 1)
    X = np.concatenate([a, b]) + rng.normal(scale=noise, size=(n, 2))
    y = np.concatenate([np.zeros(n0), np.ones(n - n0)])
    return torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.int64)


def _cifar_dir(name, path):
    info = CIFAR[name]
    for d in (path, os.path.join(path, info["folder"])):
        if all(os.path.isfile(os.path.join(d, f)) for f in info["train"] + info["test"]):
            return d
    files = ", ".join(info["train"] + info["test"])
    raise FileNotFoundError(
        f"{name}: no {files} in {path!r} or {os.path.join(path, info['folder'])!r}. Nothing is "
        f"downloaded at run time: fetch {info['url']}, extract it and pass the folder, e.g. "
        f"--data {name}:{os.path.join(path, info['folder'])}")


def _read(d, files, label):
    xs, ys = [], []
    for f in files:
        with open(os.path.join(d, f), "rb") as fh:
            batch = pickle.load(fh, encoding="bytes")
        xs.append(np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
        ys.append(np.asarray(batch[label], dtype=np.int64))
    X = torch.tensor(np.concatenate(xs), dtype=torch.float32) / 255.0
    mean, std = torch.tensor(MEAN).view(1, 3, 1, 1), torch.tensor(STD).view(1, 3, 1, 1)
    return (X - mean) / std, torch.tensor(np.concatenate(ys))


def cifar(name, path):
    """CIFAR-10/100 train and test splits from the python-pickle batches in `path`."""
    info = CIFAR[name]
    d = _cifar_dir(name, path)
    return _read(d, info["train"], info["label"]), _read(d, info["test"], info["label"])


def augment(X, generator=None):
    """CIFAR augmentation on a batch: random crop with 4-pixel zero padding, random h-flip."""
    n, c, h, w = X.shape
    padded = torch.nn.functional.pad(X, (4, 4, 4, 4))
    i = torch.randint(0, 9, (n, 1), generator=generator) + torch.arange(h)
    j = torch.randint(0, 9, (n, 1), generator=generator) + torch.arange(w)
    out = padded.gather(2, i.view(n, 1, h, 1).expand(n, c, h, w + 8))
    out = out.gather(3, j.view(n, 1, 1, w).expand(n, c, h, w))
    flip = torch.rand(n, generator=generator) < 0.5
    out[flip] = out[flip].flip(3)
    return out


def load(spec):
    """(train, test, classes, image) for "moons", "cifar10:PATH" or "cifar100:PATH"."""
    if spec == "moons":
        return moons(512, seed=0), moons(256, seed=1), 2, False
    name, _, path = spec.partition(":")
    if name in CIFAR:
        if not path:
            raise ValueError(f"--data {name} needs a folder: --data {name}:PATH")
        train, test = cifar(name, path)
        return train, test, CIFAR[name]["classes"], True
    raise ValueError(f"unknown data {spec!r}; valid: moons, cifar10:PATH, cifar100:PATH")
