"""Shared configuration for the experiments: quick (CI) and full settings, one training run."""
import numpy as np

from .. import optim
from .data import make_data
from .model import Model
from .train import train

QUICK = dict(data="moons", sizes=(2, 16, 16, 2), act="tanh", wd=0.0, n_train=128, steps=250,
             lr=0.1, base="momentum", batch_size=None, seeds=(0, 1, 2))
FULL = dict(QUICK, sizes=(2, 64, 64, 2), n_train=512, steps=3000, batch_size=64,
            seeds=(0, 1, 2, 3, 4))
# the optimizers of GAM Table 6 / Fig. 3 / Fig. 5, with hyper-parameters scaled to the toy
HYPER = {"sgd": {}, "sam": {"rho": 0.05}, "gam": {"rho": 0.1, "alpha": 0.3},
         "sam+gam": {"rho": 0.1, "alpha": 0.3, "rho_sam": 0.05}, "gsam": {"rho": 0.05, "alpha": 0.3},
         "gnp": {"rho": 0.05, "alpha": 0.8}}
LABEL = {"sgd": "SGD", "sam": "SAM", "gam": "SGD+GAM", "sam+gam": "SAM+GAM", "gsam": "GSAM",
         "gnp": "GNP"}


def config(quick=True, **over):
    """The quick (CI) or full configuration, with overrides."""
    cfg = dict(QUICK if quick else FULL)
    bad = set(over) - set(cfg) - {"data_kw"}
    if bad:
        raise ValueError(f"unknown config key(s) {sorted(bad)}; valid: {sorted(cfg)}")
    cfg.update(over)
    cfg["seeds"] = tuple(cfg["seeds"])
    if len(cfg["seeds"]) < 2:
        raise ValueError("need >= 2 seeds to report a spread")
    return cfg


def setup(cfg, seed, label_noise=0.0):
    """(model, data) for one seed of a configuration."""
    ds = make_data(cfg["data"], n_train=cfg["n_train"], label_noise=label_noise, seed=seed,
                   **cfg.get("data_kw", {}))
    sizes = tuple(cfg["sizes"][:-1]) + (ds.n_classes,)
    return Model(sizes, cfg["act"], cfg["wd"]), ds


def make_opt(name, cfg, **hyper):
    hp = {**HYPER.get(name, {}), **hyper}
    return optim.get(name, lr=cfg["lr"], base=cfg["base"], **hp)


def fit(name, cfg, seed, label_noise=0.0, diag=False, mix=None, progress=False, **hyper):
    """Train optimizer `name` on one seed; the `train` result plus model and data."""
    model, ds = setup(cfg, seed, label_noise)
    out = train(model, ds, make_opt(name, cfg, **hyper), cfg["steps"], cfg["batch_size"], seed,
                diag=diag, mix=mix, progress=progress)
    return dict(out, model=model, data=ds)


def _ms(a, axis=-1):
    a = np.asarray(a, float)
    return a.mean(axis), a.std(axis, ddof=1)


def _key(cfg, **kw):
    return {**cfg, **kw}
