"""The training loop: any `gamtoy.optim` optimizer on an MLP oracle, one batch per step."""
import time

import numpy as np
from tqdm.auto import tqdm

from .. import optim, validate
from ..vec import squeeze
from ._blas import one_thread
from .data import Dataset, make_data
from .model import Model
from .oracle import check_data, make_oracle

DIAG_KEYS = ("cos", "h", "r1")


def _scalar(x):
    return float(np.asarray(squeeze(x)).reshape(-1)[0])


def train(model, data, opt, steps=300, batch_size=None, seed=0, theta0=None, eval_every=None,
          diag=False, progress=False, mix=None):
    """Train `model` on `data` (a Dataset) with `opt` (an Optimizer or a name).

    Each step: `oracle.advance()` (next batch), then `opt.update`. mix=(other, fraction): use
    `opt` on an evenly spaced `fraction` of the steps and `other` on the rest (GAM Table 7; both
    must share a stateless base such as sgd). Returns a dict: theta, history (step, loss,
    train_acc, test_acc, and with diag=True the estimator's cos / h / r1 per step), test_acc,
    train_acc, time_per_step (s). Raises FloatingPointError if the loss becomes non-finite.
    """
    with one_thread():
        return _train(model, data, opt, steps, batch_size, seed, theta0, eval_every, diag,
                      progress, mix)


def _train(model, data, opt, steps, batch_size, seed, theta0, eval_every, diag, progress, mix):
    opt = optim.get(opt)  # a name (with the papers' defaults) or an Optimizer; else a clear error
    steps = validate.positive_int("steps", steps)
    seed = validate.positive_int("seed", seed, low=0)
    if eval_every is not None:
        eval_every = validate.positive_int("eval_every", eval_every)
    if not isinstance(data, Dataset) and not all(hasattr(data, k) for k in Dataset._fields[:4]):
        raise TypeError(f"data must be a gamtoy.mlp.Dataset (make_data), got {type(data).__name__}")
    check_data(model, data.X_train, data.y_train, ("data.X_train", "data.y_train"))
    check_data(model, data.X_test, data.y_test, ("data.X_test", "data.y_test"))
    oracle = make_oracle(model, data.X_train, data.y_train, batch_size, seed)
    theta = model.init(seed) if theta0 is None else model.check(theta0, "theta0").copy()
    if not np.all(np.isfinite(theta)):
        raise ValueError("theta0 holds NaN/inf: the starting parameters must be finite")
    loss0 = model.value(theta, oracle.X, oracle.y)
    if not np.isfinite(loss0):
        raise ValueError(f"the training loss at the start is {loss0} (inputs too large for the "
                         f"softmax?): nothing to train")
    state = opt.init(theta)
    use = _schedule(steps, mix)
    other = None
    if mix is not None:
        other = optim.get(mix[0])
        ostate = other.init(theta)
    every = eval_every or max(1, steps // 20)
    hist = {k: [] for k in ("step", "loss", "train_acc", "test_acc")}
    dg = {k: [] for k in DIAG_KEYS}
    elapsed = 0.0
    for t in tqdm(range(1, steps + 1), disable=not progress, desc=opt.name, leave=False):
        oracle.advance()
        t0 = time.perf_counter()
        if use[t - 1]:
            theta, state, info = opt.update(theta, state, oracle, diag=diag)
        else:
            theta, ostate, info = other.update(theta, ostate, oracle, diag=diag)
        elapsed += time.perf_counter() - t0
        if diag:
            for k in DIAG_KEYS:
                dg[k].append(_scalar(info[k]) if k in info else np.nan)
        if t % every == 0 or t == steps:
            loss = model.value(theta, data.X_train, data.y_train)
            if not np.isfinite(loss) or not np.all(np.isfinite(theta)):
                raise FloatingPointError(f"{opt.name} diverged at step {t} (loss {loss}); "
                                         f"lower lr or rho")
            hist["step"].append(t)
            hist["loss"].append(loss)
            hist["train_acc"].append(model.accuracy(theta, data.X_train, data.y_train))
            hist["test_acc"].append(model.accuracy(theta, data.X_test, data.y_test))
    history = {k: np.array(v) for k, v in hist.items()}
    if diag:
        history.update({k: np.array(v) for k, v in dg.items()})
    return {"theta": theta, "history": history, "test_acc": history["test_acc"][-1],
            "train_acc": history["train_acc"][-1], "loss": history["loss"][-1],
            "time_per_step": elapsed / steps, "oracle_evals": oracle.evals}


def _schedule(steps, mix):
    """Which steps use the main optimizer: all, or an evenly spaced fraction."""
    if mix is None:
        return np.ones(steps, bool)
    if isinstance(mix, (str, bytes)) or not hasattr(mix, "__len__") or len(mix) != 2:
        raise TypeError(f"mix must be a pair (other optimizer, fraction of steps for opt), "
                        f"got {mix!r:.80}")
    frac = validate.real("mix fraction", mix[1], low=0.0, high=1.0)
    k = np.floor(np.arange(1, steps + 1) * frac) - np.floor(np.arange(steps) * frac)
    return k > 0


def quick_setup(data="moons", sizes=(2, 16, 16, 2), act="tanh", wd=0.0, n_train=256,
                label_noise=0.0, seed=0):
    """(model, data) with the lab's small defaults."""
    ds = make_data(data, n_train=n_train, label_noise=label_noise, seed=seed)
    sizes = tuple(sizes[:-1]) + (ds.n_classes,)
    return Model(sizes, act, wd), ds
