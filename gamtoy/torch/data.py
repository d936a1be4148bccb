"""Data for the training command: two moons (generated), CIFAR-10/100 from local pickle batches.

`load(spec)` with spec "moons", "cifar10:PATH" or "cifar100:PATH" -> (train, test, classes),
each split a (X float32 tensor, y int64 tensor) pair. Nothing is downloaded; `~` in PATH is
expanded. The CIFAR python-pickle batches are read by a restricted unpickler (`read_batch`) that
builds only plain containers and NumPy arrays: a planted file cannot run code. A missing, corrupt
or malformed batch raises `DataError` naming the file.
"""
import io
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


class DataError(ValueError):
    """A data file that is missing, corrupt, malformed or refused; the message names the file."""


class MissingData(DataError, FileNotFoundError):
    """No CIFAR batches where the --data folder points."""


def _numpy_global(module, name):
    """The NumPy function `module.name` (numpy 1 pickles say numpy.core, numpy 2 numpy._core)."""
    core = getattr(np, "_core", None) or np.core
    return getattr(getattr(core, module), name)


# (module, name) -> the callable: all a CIFAR batch needs, nothing that can run code.
# _reconstruct/_frombuffer/scalar build arrays and scalars from bytes and a dtype;
# _codecs.encode turns the str a protocol-2 pickle of bytes holds back into bytes.
_ALLOWED = {("numpy", "ndarray"): lambda: np.ndarray, ("numpy", "dtype"): lambda: np.dtype,
            ("_codecs", "encode"): lambda: __import__("codecs").encode}
for _core in ("numpy.core", "numpy._core"):
    _ALLOWED[(f"{_core}.multiarray", "_reconstruct")] = lambda: _numpy_global("multiarray",
                                                                               "_reconstruct")
    _ALLOWED[(f"{_core}.multiarray", "scalar")] = lambda: _numpy_global("multiarray", "scalar")
    _ALLOWED[(f"{_core}.numeric", "_frombuffer")] = lambda: _numpy_global("numeric", "_frombuffer")


class _BatchUnpickler(pickle.Unpickler):
    """pickle.Unpickler that resolves only the globals in _ALLOWED (containers need none)."""

    def __init__(self, fh, path):
        super().__init__(fh, encoding="bytes")
        self.path = path

    def find_class(self, module, name):
        make = _ALLOWED.get((module, name))
        if make is None:
            raise DataError(f"{self.path}: refused: the pickle asks for {module}.{name}; a CIFAR "
                            f"batch holds only dicts, lists, bytes/str and NumPy arrays")
        return make()

    def persistent_load(self, pid):
        raise DataError(f"{self.path}: refused: the pickle holds a persistent id")


def read_batch(path, label=b"labels"):
    """(data uint8 (n, 3, 32, 32), labels int64 (n,)) from one CIFAR python-pickle batch, safely."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise MissingData(f"{path}: missing CIFAR batch") from None
    except OSError as e:
        raise DataError(f"{path}: unreadable ({e.strerror or e})") from None
    try:
        batch = _BatchUnpickler(io.BytesIO(raw), path).load()
    except DataError:
        raise
    except Exception as e:  # truncated or damaged: EOFError, UnpicklingError, ValueError, ...
        raise DataError(f"{path}: corrupt or truncated pickle ({type(e).__name__}: {e})") from None
    if not isinstance(batch, dict):
        raise DataError(f"{path}: not a CIFAR batch (a {type(batch).__name__}, not a dict)")
    batch = {k.encode() if isinstance(k, str) else k: v for k, v in batch.items()}
    want = label if isinstance(label, bytes) else label.encode()
    if b"data" not in batch or want not in batch:
        raise DataError(f"{path}: not a CIFAR batch (keys {sorted(map(repr, batch))}; need "
                        f"b'data' and {want!r})")
    data, labels = batch[b"data"], batch[want]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
            or data.shape[1] != 3072:
        desc = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise DataError(f"{path}: b'data' must be a uint8 array of shape (n, 3072), got {desc}")
    try:
        labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    except (TypeError, ValueError) as e:
        raise DataError(f"{path}: {want!r} must be a list of integers ({e})") from None
    if len(labels) != len(data):
        raise DataError(f"{path}: {len(data)} images but {len(labels)} labels")
    return data.reshape(-1, 3, 32, 32), labels


def _cifar_dir(name, path):
    info = CIFAR[name]
    files = info["train"] + info["test"]
    nested = os.path.join(path, info["folder"])
    for d in (path, nested):
        if all(os.path.isfile(os.path.join(d, f)) for f in files):
            return d
    if not os.path.isdir(path):
        where = f"{path!r} is not a folder"
    else:
        d = nested if os.path.isdir(nested) else path
        missing = [f for f in files if not os.path.isfile(os.path.join(d, f))]
        where = f"{os.path.join(d, missing[0])} missing" + (
            f" (and {len(missing) - 1} more of {', '.join(files)})" if len(missing) > 1 else "")
    raise MissingData(
        f"{name}: {where}. Nothing is downloaded at run time: fetch {info['url']}, extract it "
        f"and pass the folder, e.g. --data {name}:{nested}")


def _read(d, files, label, classes):
    xs, ys = [], []
    for f in files:
        x, y = read_batch(os.path.join(d, f), label)
        if len(y) and (y.min() < 0 or y.max() >= classes):
            raise DataError(f"{os.path.join(d, f)}: labels must lie in [0, {classes}), got "
                            f"{y.min()}..{y.max()}")
        xs.append(x)
        ys.append(y)
    X = torch.tensor(np.concatenate(xs), dtype=torch.float32) / 255.0
    mean, std = torch.tensor(MEAN).view(1, 3, 1, 1), torch.tensor(STD).view(1, 3, 1, 1)
    return (X - mean) / std, torch.tensor(np.concatenate(ys))


def cifar(name, path):
    """CIFAR-10/100 train and test splits from the python-pickle batches in `path`."""
    info = CIFAR[name]
    d = _cifar_dir(name, os.path.expanduser(path))
    return tuple(_read(d, info[s], info["label"], info["classes"]) for s in ("train", "test"))


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
            raise DataError(f"--data {name} needs a folder: --data {name}:PATH")
        train, test = cifar(name, path)
        return train, test, CIFAR[name]["classes"], True
    raise DataError(f"unknown data {spec!r}; valid: moons, cifar10:PATH, cifar100:PATH")
