"""Train a model with any gamtoy.torch optimizer; metrics as JSON lines, checkpoints, flatness.

    python -m gamtoy.torch.train --model resnet18 --data cifar10:~/data/cifar-10-batches-py \\
        --optimizer gam --epochs 200 --device auto --out runs/gam

Writes OUT/metrics.jsonl (one line per epoch, then {"flatness": ...}: top Hessian eigenvalues and
Hutchinson trace of the trained model) and OUT/checkpoint.pt after every epoch; with --resume
a run continues from its checkpoint (loaded with weights_only=True).
"""
import argparse
import contextlib
import json
import os
import time

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from . import data, models
from .hessian import flatness
from .optimizers import CLASSES, get

OPTIMIZERS = ("sgd", "sam", "gnp", "gsam", "gam", "gam_accel", "sam+gam", "gsam+gam")


def parse(argv=None):
    p = argparse.ArgumentParser(prog="python -m gamtoy.torch.train", description=__doc__.split("\n")[0])
    p.add_argument("--model", choices=models.NAMES, default="mlp")
    p.add_argument("--data", default="moons", help="moons | cifar10:PATH | cifar100:PATH")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="sam")
    p.add_argument("--base", choices=("sgd", "momentum", "adam"), default="momentum")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--rho", type=float, default=None, help="default: the paper's (gamtoy.optim)")
    p.add_argument("--alpha", type=float, default=None, help="default: the paper's")
    p.add_argument("--variant", choices=("paper", "official"), default=None)
    p.add_argument("--width", type=int, default=None, help="model width (channels / units)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    p.add_argument("--amp", action="store_true",
                   help="mixed precision: float16 + GradScaler on CUDA, bfloat16 autocast on CPU")
    p.add_argument("--augment", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--max-batches", type=int, default=None, help="per epoch (quick runs)")
    p.add_argument("--flatness-batches", type=int, default=2)
    p.add_argument("--eigenvalues", type=int, default=3)
    p.add_argument("--probes", type=int, default=10, help="Hutchinson probes for the trace")
    p.add_argument("--lanczos-steps", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/train")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--no-progress", action="store_true")
    return p.parse_args(argv)


def _device(name):
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


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
            total += float(F.cross_entropy(out, yb, reduction="sum"))
            correct += int((out.argmax(1) == yb).sum())
            n += len(b)
    model.train()
    return total / n, correct / n


def main(argv=None):
    args = parse(argv)
    torch.manual_seed(args.seed)
    device = _device(args.device)
    (Xtr, ytr), (Xte, yte), classes, image = data.load(args.data)
    model = models.build(args.model, tuple(Xtr.shape[1:]), classes, args.width).to(device)
    hyper = {k: getattr(args, k) for k in ("rho", "alpha", "variant")
             if getattr(args, k) is not None}
    if args.optimizer == "sgd":
        hyper = {}
    opt = get(args.optimizer, model.parameters(), lr=args.lr, base=args.base,
              weight_decay=args.weight_decay, model=model, **hyper)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(args.epochs, 1))
    amp = args.amp and device.type in ("cuda", "cpu")
    amp_dtype = torch.float16 if device.type == "cuda" else torch.bfloat16
    scaler = torch.amp.GradScaler("cuda") if args.amp and device.type == "cuda" else None
    os.makedirs(args.out, exist_ok=True)
    ckpt_path = os.path.join(args.out, "checkpoint.pt")
    metrics_path = os.path.join(args.out, "metrics.jsonl")
    start = 0
    if args.resume and os.path.exists(ckpt_path):
        ckpt = torch.load(ckpt_path, map_location=device, weights_only=True)
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
        start = ckpt["epoch"]
        if os.path.exists(metrics_path):  # keep the epochs up to the checkpoint, drop old flatness
            with open(metrics_path) as fh:
                rows = [r for r in fh if json.loads(r).get("epoch", start + 1) <= start]
            with open(metrics_path, "w") as fh:
                fh.writelines(rows)
    elif os.path.exists(metrics_path):
        os.remove(metrics_path)

    for epoch in range(start, args.epochs):
        gen = torch.Generator().manual_seed(args.seed * 1000 + epoch)
        t0, sums, n_seen, correct = time.time(), {}, 0, 0
        batches = _batches(Xtr, ytr, args.batch_size, gen, args.max_batches)
        bar = tqdm(batches, desc=f"epoch {epoch + 1}/{args.epochs}", disable=args.no_progress)
        for b in bar:
            xb = Xtr[b]
            if image and args.augment:
                xb = data.augment(xb, gen)
            xb, yb = xb.to(device), ytr[b].to(device)
            first = []

            def closure():
                ctx = torch.autocast(device.type, dtype=amp_dtype) if amp else contextlib.nullcontext()
                with ctx:
                    out = model(xb)
                    if not first:
                        first.append(out.detach())  # accuracy at theta, no extra forward
                    return F.cross_entropy(out, yb)

            loss = opt.step(closure, scaler=scaler)
            if loss is None:  # skipped (non-finite scaled gradient)
                continue
            correct += int((first[0].argmax(1) == yb).sum())
            n_seen += len(b)
            for k, v in opt.diagnostics.items():
                sums[k] = sums.get(k, 0.0) + float(v) * len(b)
            bar.set_postfix(loss=f"{float(loss):.4f}")
        sched.step()
        test_loss, test_acc = _evaluate(model, Xte, yte, 512, device)
        row = {"epoch": epoch + 1, "train_loss": sums.get("loss", float("nan")) / max(n_seen, 1),
               "train_acc": correct / max(n_seen, 1), "test_loss": test_loss, "test_acc": test_acc,
               "lr": opt.param_groups[0]["lr"], "seconds": time.time() - t0,
               "diagnostics": {k: v / max(n_seen, 1) for k, v in sums.items() if k != "loss"}}
        with open(metrics_path, "a") as fh:
            fh.write(json.dumps(row) + "\n")
        torch.save({"epoch": epoch + 1, "model": model.state_dict(), "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict()}, ckpt_path)

    fb = [(Xtr[b].to(device), ytr[b].to(device))
          for b in _batches(Xtr, ytr, args.batch_size, limit=args.flatness_batches)]
    flat = flatness(model, F.cross_entropy, fb, k=args.eigenvalues, probes=args.probes,
                    seed=args.seed, steps=args.lanczos_steps)
    with open(metrics_path, "a") as fh:
        fh.write(json.dumps({"flatness": flat, "batches": len(fb)}) + "\n")
    return metrics_path


assert set(OPTIMIZERS) <= set(CLASSES)

if __name__ == "__main__":
    main()
