"""Train a model with any gamtoy.torch optimizer; metrics as JSON lines, checkpoints, flatness.

    python -m gamtoy.torch.train --model resnet18 --data cifar10:~/data/cifar-10-batches-py \\
        --optimizer gam --epochs 200 --device auto --out runs/gam

Writes OUT/metrics.jsonl (one line per epoch, then {"flatness": ...}: top Hessian eigenvalues and
Hutchinson trace of the trained model, with a progress bar) and OUT/checkpoint.pt after every
epoch, then prints a summary and the output paths. Every bad argument or input file (a folder
that is a file or unwritable, a missing or corrupt CIFAR batch, a truncated checkpoint, ...) is
one line on stderr and exit status 2, before any training.

Checkpoints are written to a temporary file beside the old one, fsynced and renamed: a kill at
any moment leaves the previous checkpoint intact. --resume continues from OUT/checkpoint.pt
(loaded with weights_only=True) exactly where the last complete epoch ended; it refuses a
checkpoint written with other settings (optimizer, model, data, hyper-parameters, batch size,
seed, ...). The learning rate follows a cosine over --epochs, set by torch's LambdaLR
(`lr_scheduler`): lr_e = lr (1 + cos(pi e / E)) / 2 for epoch e = 0..E-1. Resuming with another
--epochs E' re-plans the remaining epochs on the cosine over E' (epoch e trains at the rate a
fresh E'-epoch run uses at epoch e: a longer run restarts warm, e.g. from near 0 back to lr/2);
the epochs already done keep theirs; E' below the checkpoint's epoch is refused. A half-written
last line of metrics.jsonl (a kill during its write) is
dropped on resume with a warning. Without --resume a run starts afresh: metrics.jsonl is replaced
at the start, checkpoint.pt at the end of the first epoch.
"""
import argparse
import contextlib
import inspect
import json
import math
import os
import sys
import tempfile
import time
import warnings

import torch
from torch.nn.functional import cross_entropy
from tqdm.auto import tqdm

from .. import validate
from .._io import atomic_open, remove_stale_temporaries
from ..optim import DEFAULTS
from ..optim.specs import ON_SGD
from . import data, models
from .hessian import flatness
from .optimizers import CLASSES, get

OPTIMIZERS = ON_SGD
HVP_MODES = ("double_backward", "forward_over_reverse", "auto")
# the settings a checkpoint must share with the run that resumes it (--epochs may differ, and
# --hvp: both HVP modes compute the same step)
RESUME_KEYS = ("model", "data", "width", "optimizer", "base", "lr", "weight_decay", "rho",
               "alpha", "variant", "batch_size", "max_batches", "augment", "amp", "seed")
CHECKPOINT, METRICS = "checkpoint.pt", "metrics.jsonl"


class TrainError(Exception):
    """A run that cannot go on (e.g. its folder is full): one line from the CLI, exit status 1."""


class UsageError(TrainError):
    """A bad argument or input file: the CLI prints the message as one line and exits 2."""


class TrainWarning(UserWarning):
    """Something the run repaired or will not check (a dropped half-written metrics line, ...)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage block
        raise UsageError(message)


def parse(argv=None):
    p = _Parser(prog="python -m gamtoy.torch.train", description=__doc__.split("\n")[0])
    p.add_argument("--model", choices=models.NAMES, default="mlp")
    p.add_argument("--data", default="moons", help="moons | cifar10:PATH | cifar100:PATH")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="sam")
    p.add_argument("--base", choices=("sgd", "momentum", "adam"), default="momentum")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1, help="peak of the cosine schedule")
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--rho", type=float, default=None, help="default: the paper's (gamtoy.optim)")
    p.add_argument("--alpha", type=float, default=None, help="default: the paper's")
    p.add_argument("--variant", choices=("paper", "official"), default=None)
    p.add_argument("--hvp", choices=HVP_MODES, default=None,
                   help="GAM's Hessian-vector products (where gamtoy.torch.GAM offers the switch)")
    p.add_argument("--width", type=int, default=None, help="model width (channels / units)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    p.add_argument("--amp", action="store_true",
                   help="mixed precision: float16 + GradScaler on CUDA, bfloat16 autocast on CPU")
    p.add_argument("--augment", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--max-batches", type=int, default=None, help="per epoch (quick runs)")
    p.add_argument("--flatness-batches", type=int, default=2, help="0: no flatness step")
    p.add_argument("--eigenvalues", type=int, default=3)
    p.add_argument("--probes", type=int, default=10, help="Hutchinson probes for the trace")
    p.add_argument("--lanczos-steps", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/train")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--no-progress", action="store_true")
    return p.parse_args(argv)


def _warn(msg):
    warnings.warn(msg, TrainWarning, stacklevel=3)


def _check_numbers(args):
    """Every numeric flag in its range, or a UsageError naming the flag and the value."""
    ints = {"epochs": 1, "batch_size": 1, "width": 1, "max_batches": 1, "flatness_batches": 0,
            "eigenvalues": 1, "probes": 1, "lanczos_steps": 1, "seed": 0}
    reals = {"lr": dict(low=0, low_open=True), "weight_decay": dict(low=0),
             "rho": dict(low=0, allow_none=True), "alpha": dict(allow_none=True)}
    try:
        for k, low in ints.items():
            if getattr(args, k) is not None or k in ("epochs", "batch_size"):
                validate.positive_int("--" + k.replace("_", "-"), getattr(args, k), low=low)
        for k, kw in reals.items():
            validate.real("--" + k.replace("_", "-"), getattr(args, k), **kw)
    except (TypeError, ValueError) as e:
        raise UsageError(str(e)) from None


def _device(name):
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError) as e:
        raise UsageError(f"--device {name!r}: {e}; valid: auto, cpu, cuda, cuda:N") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise UsageError(f"--device {name}: CUDA is not available to this torch "
                             f"({torch.__version__}); use --device cpu or auto")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise UsageError(f"--device {name}: only {torch.cuda.device_count()} CUDA device(s)")
    return device


def _out_folder(flag_value):
    """The --out folder, `~` expanded, created and proven writable (or a UsageError)."""
    out = os.path.abspath(os.path.expanduser(flag_value))
    if os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"--out {flag_value}: {out} is a file, not a folder")
    try:
        os.makedirs(out, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as e:
        raise UsageError(f"--out {flag_value}: {out} is not a writable folder "
                         f"({e.strerror or e})") from None
    return out


def _data_key(spec):
    name, sep, path = spec.partition(":")
    return f"{name}:{os.path.realpath(os.path.expanduser(path))}" if sep else spec


def _config(args):
    cfg = {k: getattr(args, k) for k in RESUME_KEYS}
    cfg["data"] = _data_key(args.data)
    return cfg


def _hyper(args):
    """The estimator's keywords from the flags; a flag the optimizer does not have is an error."""
    own = DEFAULTS[args.optimizer][0]
    hyper = {}
    for k in ("rho", "alpha", "variant"):
        v = getattr(args, k)
        if v is None:
            continue
        if k not in own:
            raise UsageError(f"--{k} {v}: {args.optimizer} has no {k} (its hyper-parameters: "
                             f"{', '.join(own) or 'none'})")
        hyper[k] = v
    if args.hvp is not None:
        gam = CLASSES["gam"]
        if args.optimizer not in ("gam", "sam+gam", "gsam+gam"):
            raise UsageError(f"--hvp {args.hvp}: only gam, sam+gam and gsam+gam compute HVPs")
        if "hvp" not in inspect.signature(gam.__init__).parameters:
            raise UsageError(f"--hvp {args.hvp}: this gamtoy.torch.GAM has no hvp switch "
                             "(double backward only)")
        hyper["hvp"] = args.hvp
    return hyper


def cosine_lr(lr, epoch, epochs):
    """The rate of epoch `epoch` (0-based) of a cosine over `epochs` epochs from `lr` to 0."""
    return lr * (1 + math.cos(math.pi * epoch / epochs)) / 2


def lr_scheduler(opt, lr, epochs, start):
    """torch's LambdaLR for the cosine lr_e = lr (1 + cos(pi e / E)) / 2, at epoch `start`.

    LambdaLR is torch's closed form (CosineAnnealingLR's own step is recursive from the current
    rate): a resume with another E sets each remaining epoch's rate as a fresh E-epoch run does.
    """
    for g in opt.param_groups:
        g["initial_lr"] = lr
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda e: cosine_lr(1.0, e, epochs),
                                             last_epoch=start - 1)


def save_checkpoint(state, path):
    """torch.save into a temporary file beside `path`, fsync, rename: a kill leaves the old file."""
    with atomic_open(path, "wb") as fh:
        torch.save(state, fh)


def load_checkpoint(path, device):
    """A checkpoint dict (weights_only=True: tensors and plain data only), or a UsageError."""
    try:
        ckpt = torch.load(path, map_location=device, weights_only=True)
    except Exception as e:  # truncated zip, bad magic, refused global, ...
        first = (str(e).strip().splitlines() or [""])[0][:160]
        raise UsageError(f"--resume: {path} is unreadable, truncated or not a plain checkpoint "
                         f"({type(e).__name__}: {first}); delete it to start afresh") from None
    if not isinstance(ckpt, dict) or not {"epoch", "model", "optimizer"} <= set(ckpt) \
            or type(ckpt["epoch"]) is not int or ckpt["epoch"] < 0:
        raise UsageError(f"--resume: {path} is not a gamtoy.torch.train checkpoint")
    return ckpt


def read_metrics(path):
    """The rows of a metrics.jsonl; a torn line (a kill during a write) is dropped, with a
    warning."""
    with open(path, "rb") as fh:
        lines = [x for x in fh.read().split(b"\n") if x.strip()]
    rows, bad = [], []
    for i, line in enumerate(lines, 1):
        try:
            row = json.loads(line)
        except ValueError:
            row = None
        if isinstance(row, dict):
            rows.append(row)
        else:
            bad.append(i)
    if bad:
        which = "its last line" if bad == [len(lines)] else f"lines {bad} of {len(lines)}"
        _warn(f"{path}: {which} half-written or damaged (a kill during a write?): dropped")
    return rows


def _append(path, row):
    with open(path, "a") as fh:
        fh.write(json.dumps(row) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def _batches(X, y, bs, gen=None, limit=None):
    idx = torch.randperm(len(X), generator=gen) if gen is not None else torch.arange(len(X))
    chunks = idx.split(bs)
    return chunks[:limit] if limit else chunks


def _evaluate(model, X, y, bs, device, limit=None):
    model.eval()
    total, correct, n = 0.0, 0, 0
    with torch.no_grad():
        for b in _batches(X, y, bs, limit=limit):
            xb, yb = X[b].to(device), y[b].to(device)
            out = model(xb)
            total += float(cross_entropy(out, yb, reduction="sum"))
            correct += int((out.argmax(1) == yb).sum())
            n += len(b)
    model.train()
    return total / n, correct / n


def _flag(key):
    return "--" + key.replace("_", "-")


def _check_resumable(ckpt, args, path):
    saved = ckpt.get("config")
    if saved is None:
        _warn(f"{path} has no record of its settings (an older gamtoy): resuming unchecked")
    else:
        now = _config(args)
        diff = [k for k in RESUME_KEYS if k in saved and saved[k] != now[k]]
        if diff:
            was = " ".join(f"{_flag(k)} {saved[k]}" for k in diff)
            ask = " ".join(f"{_flag(k)} {now[k]}" for k in diff)
            raise UsageError(f"--resume: {path} was written with {was}, this run asks for {ask}; "
                             "resume with the checkpoint's settings or pass another --out")
    if ckpt["epoch"] > args.epochs:
        raise UsageError(f"--epochs {args.epochs}: {path} is at epoch {ckpt['epoch']} already; "
                         f"pass --epochs >= {ckpt['epoch']}")


def setup(argv=None):
    """Parse and check everything (flags, device, --out, data, model, optimizer, checkpoint).

    Returns the run's state; raises UsageError (one line, naming the flag or file) before any
    training starts.
    """
    args = parse(argv)
    _check_numbers(args)
    hyper = _hyper(args)
    device = _device(args.device)
    out = _out_folder(args.out)
    try:
        (Xtr, ytr), (Xte, yte), classes, image = data.load(args.data)
    except data.DataError as e:
        raise UsageError(f"--data: {e}") from None
    torch.manual_seed(args.seed)
    try:
        model = models.build(args.model, tuple(Xtr.shape[1:]), classes, args.width).to(device)
    except ValueError as e:
        raise UsageError(f"--model {args.model}: {e}") from None
    try:
        opt = get(args.optimizer, model.parameters(), lr=args.lr, base=args.base,
                  weight_decay=args.weight_decay, model=model, **hyper)
    except (TypeError, ValueError) as e:
        raise UsageError(f"--optimizer {args.optimizer}: {e}") from None
    scaler = torch.amp.GradScaler("cuda") if args.amp and device.type == "cuda" else None
    ckpt_path, metrics_path = os.path.join(out, CHECKPOINT), os.path.join(out, METRICS)
    remove_stale_temporaries(out)  # left by a kill during an atomic write
    start, rows = 0, []
    if args.resume and os.path.exists(ckpt_path):
        ckpt = load_checkpoint(ckpt_path, device)
        _check_resumable(ckpt, args, ckpt_path)
        try:
            model.load_state_dict(ckpt["model"])
            opt.load_state_dict(ckpt["optimizer"])
            if scaler is not None and "scaler" in ckpt:
                scaler.load_state_dict(ckpt["scaler"])
        except (RuntimeError, KeyError, ValueError, TypeError) as e:
            first = (str(e).strip().splitlines() or [""])[0][:160]
            raise UsageError(f"--resume: {ckpt_path} does not fit this model/optimizer "
                             f"({type(e).__name__}: {first})") from None
        start = int(ckpt["epoch"])
        if os.path.exists(metrics_path):  # the epochs up to the checkpoint; drop old flatness
            try:
                rows = [r for r in read_metrics(metrics_path)
                        if type(r.get("epoch")) is int and r["epoch"] <= start]
            except OSError as e:
                raise UsageError(f"--resume: {metrics_path} is unreadable "
                                 f"({e.strerror or e})") from None
    elif args.resume:
        _warn(f"--resume: no {CHECKPOINT} in {out}: starting afresh")
    return argparse.Namespace(
        args=args, device=device, out=out, ckpt_path=ckpt_path, metrics_path=metrics_path,
        train=(Xtr, ytr), test=(Xte, yte), image=image, model=model, opt=opt, scaler=scaler,
        start=start, rows=rows)


def _train_epoch(s, epoch):
    """One epoch of steps: (metric sums weighted by batch size, examples seen, correct, batches)."""
    args, device, model, opt = s.args, s.device, s.model, s.opt
    Xtr, ytr = s.train
    amp = args.amp and device.type in ("cuda", "cpu")
    amp_dtype = torch.float16 if device.type == "cuda" else torch.bfloat16
    gen = torch.Generator().manual_seed(args.seed * 1000 + epoch)
    sums, n_seen, correct = {}, 0, 0
    batches = _batches(Xtr, ytr, args.batch_size, gen, args.max_batches)
    bar = tqdm(batches, desc=f"epoch {epoch + 1}/{args.epochs}", disable=args.no_progress,
               file=sys.stderr)
    for b in bar:
        xb = Xtr[b]
        if s.image and args.augment:
            xb = data.augment(xb, gen)
        xb, yb = xb.to(device), ytr[b].to(device)
        first = []

        def closure(*, xb=xb, yb=yb, first=first):  # this batch's tensors, bound now
            with (torch.autocast(device.type, dtype=amp_dtype) if amp
                  else contextlib.nullcontext()):
                out = model(xb)
                if not first:
                    first.append(out.detach())  # accuracy at theta, no extra forward
                return cross_entropy(out, yb)

        loss = opt.step(closure, scaler=s.scaler)
        if loss is None:  # skipped (non-finite scaled gradient)
            continue
        correct += int((first[0].argmax(1) == yb).sum())
        n_seen += len(b)
        for k, v in opt.diagnostics.items():
            sums[k] = sums.get(k, 0.0) + float(v) * len(b)
        bar.set_postfix(loss=f"{float(loss):.4f}")
    bar.close()
    return sums, n_seen, correct, len(batches)


def _save_epoch(s, epoch, row):
    """The epoch's metrics line and checkpoint (atomically; a failure keeps the previous one)."""
    state = {"epoch": epoch + 1, "model": s.model.state_dict(), "optimizer": s.opt.state_dict(),
             "config": _config(s.args)}
    if s.scaler is not None:
        state["scaler"] = s.scaler.state_dict()
    try:
        _append(s.metrics_path, row)
        save_checkpoint(state, s.ckpt_path)
    except OSError as e:  # full disk, folder removed, ...: the previous checkpoint is kept
        kept = f"epoch {epoch}" if epoch else "none"
        raise TrainError(f"writing epoch {epoch + 1} to {s.out} failed ({e.strerror or e}); "
                         f"the checkpoint kept: {kept}; free the space and --resume") from None


def _flatness_step(s):
    """Top Hessian eigenvalues and Hutchinson trace on --flatness-batches batches (or None)."""
    args, device, (Xtr, ytr) = s.args, s.device, s.train
    if not args.flatness_batches:
        return None
    fb = [(Xtr[b].to(device), ytr[b].to(device))
          for b in _batches(Xtr, ytr, args.batch_size, limit=args.flatness_batches)]
    n = sum(p.numel() for p in s.model.parameters() if p.requires_grad)
    total = (min(args.lanczos_steps, n) + args.probes) * len(fb)
    with tqdm(total=total, desc="flatness: Lanczos + Hutchinson", unit="hvp",
              disable=args.no_progress, file=sys.stderr) as fbar:
        def loss_fn(out, y):  # one call per batch per Hessian-vector product
            fbar.update(1)
            return cross_entropy(out, y)

        flat = flatness(s.model, loss_fn, fb, k=args.eigenvalues, probes=args.probes,
                        seed=args.seed, steps=args.lanczos_steps)
    _append(s.metrics_path, {"flatness": flat, "batches": len(fb)})
    return flat


def run(s):
    """Train from epoch s.start to --epochs, then the flatness step; returns the metrics path."""
    args, opt = s.args, s.opt
    Xte, yte = s.test
    # the metrics file starts as the rows kept from before the checkpoint (atomically)
    with atomic_open(s.metrics_path, "w") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in s.rows)
    t_start, row = time.time(), None
    sched = lr_scheduler(opt, args.lr, args.epochs, s.start)
    for epoch in range(s.start, args.epochs):
        lr, t0 = opt.param_groups[0]["lr"], time.time()
        sums, n_seen, correct, n_batches = _train_epoch(s, epoch)
        test_loss, test_acc = _evaluate(s.model, Xte, yte, 512, s.device)
        row = {"epoch": epoch + 1, "train_loss": sums.get("loss", float("nan")) / max(n_seen, 1),
               "train_acc": correct / max(n_seen, 1), "test_loss": test_loss, "test_acc": test_acc,
               "lr": lr, "seconds": time.time() - t0, "skipped_steps": n_batches - n_seen,
               "diagnostics": {k: v / max(n_seen, 1) for k, v in sums.items() if k != "loss"}}
        _save_epoch(s, epoch, row)
        sched.step()
    flat = _flatness_step(s)
    _summary(s, row, flat, time.time() - t_start)
    return s.metrics_path


def _summary(s, row, flat, seconds):
    a = s.args
    span = f"epoch {a.epochs}" if s.start + 1 == a.epochs else f"epochs {s.start + 1}-{a.epochs}"
    head = f"{a.optimizer} ({a.base}) on {a.data}, {a.model}, {span}"
    if row is None:
        head = (f"{a.optimizer} ({a.base}) on {a.data}, {a.model}: nothing to train (at epoch "
                f"{a.epochs})")
        parts = []
    else:
        parts = [f"train loss {row['train_loss']:.4g} acc {row['train_acc']:.3f}",
                 f"test loss {row['test_loss']:.4g} acc {row['test_acc']:.3f}"]
    if flat is not None:
        ev = ", ".join(f"{v:.4g}" for v in flat["eigenvalues"])
        se = flat.get("trace_std_err")
        parts.append(f"top Hessian eigenvalues {ev}; trace {flat['trace']:.4g}"
                     + (f" +- {se:.2g}" if se is not None else ""))
    print(f"{head} in {seconds:.1f} s: " + "; ".join(parts) if parts else head)
    print(f"wrote {s.metrics_path} and {s.ckpt_path}")


def main(argv=None):
    """Check everything, then train; returns the path of metrics.jsonl. Bad input: UsageError."""
    return run(setup(argv))


def _cli(argv=None):
    warnings.formatwarning = lambda msg, cat, *a, **k: f"warning: {msg}\n"
    try:
        main(argv)
    except TrainError as e:
        print(f"python -m gamtoy.torch.train: error: {e}", file=sys.stderr)
        return 2 if isinstance(e, UsageError) else 1
    except KeyboardInterrupt:
        print("python -m gamtoy.torch.train: interrupted; the checkpoint of the last complete "
              "epoch is kept: continue with --resume", file=sys.stderr)
        return 130
    return 0


assert set(OPTIMIZERS) <= set(CLASSES)

if __name__ == "__main__":
    sys.exit(_cli())
