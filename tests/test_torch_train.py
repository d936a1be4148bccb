"""The training command on moons and on a generated CIFAR-format folder, on CPU (and CUDA)."""
import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from gamtoy.torch import data, models, train  # noqa: E402
from gamtoy.torch.hessian import flatness  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["--data", "moons", "--device", "cpu", "--width", "4", "--batch-size", "128",
        "--flatness-batches", "0", "--no-progress"]


pytestmark = pytest.mark.usefixtures("torch_one_thread")


def _tiny(device):
    """TINY on `device` (the tests that train take the device fixture)."""
    return [device if a == "cpu" and TINY[i - 1] == "--device" else a for i, a in enumerate(TINY)]


def _env(**extra):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
               OMP_NUM_THREADS="1")
    env.update(extra)
    return env


def _rows(path):
    with open(path) as fh:
        return [json.loads(r) for r in fh]


def _fake_cifar(folder, n=12, classes=10, protocol=pickle.DEFAULT_PROTOCOL):
    rng = np.random.default_rng(0)
    os.makedirs(folder)
    for f in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 256, size=(n, 3072), dtype=np.uint8),
                 b"labels": rng.integers(0, classes, size=n).tolist(),
                 b"batch_label": f.encode(), b"filenames": [b"x.png"] * n}
        with open(os.path.join(folder, f), "wb") as fh:
            pickle.dump(batch, fh, protocol=protocol)
    return folder


def _same_weights(path_a, path_b):
    a = torch.load(path_a, weights_only=True)["model"]
    b = torch.load(path_b, weights_only=True)["model"]
    return a.keys() == b.keys() and all(torch.equal(a[k].cpu(), b[k].cpu()) for k in a)


def test_resume_with_more_epochs_equals_a_fresh_run_on_the_longer_cosine(tmp_path, device):
    """--epochs 1, then --resume --epochs 3: bit-equal to a fresh 3-epoch run (epoch 0 has the
    peak rate in both schedules); the rates are torch's CosineAnnealingLR over 3 epochs."""
    base = TINY + ["--optimizer", "sam", "--device", device, "--lr", "0.3"]
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    train.main(base + ["--out", a, "--epochs", "1"])
    train.main(base + ["--out", a, "--epochs", "3", "--resume"])
    train.main(base + ["--out", b, "--epochs", "3"])
    rows_a = _rows(os.path.join(a, "metrics.jsonl"))
    rows_b = _rows(os.path.join(b, "metrics.jsonl"))
    assert [r["epoch"] for r in rows_a] == [1, 2, 3]
    assert _same_weights(os.path.join(a, "checkpoint.pt"), os.path.join(b, "checkpoint.pt"))
    assert [r["train_loss"] for r in rows_a] == [r["train_loss"] for r in rows_b]
    p = torch.nn.Parameter(torch.zeros(1))
    sgd = torch.optim.SGD([p], lr=0.3)
    sched, want = torch.optim.lr_scheduler.CosineAnnealingLR(sgd, T_max=3), []
    for _ in range(3):
        want.append(sgd.param_groups[0]["lr"])
        sgd.step()
        sched.step()
    np.testing.assert_allclose([r["lr"] for r in rows_a], want, rtol=1e-12)


def test_resume_drops_a_half_written_last_metrics_line_with_a_warning(tmp_path, device):
    out = str(tmp_path / "run")
    base = _tiny(device) + ["--optimizer", "gsam", "--alpha", "0.7", "--out", out]
    train.main(base + ["--epochs", "2"])
    metrics = os.path.join(out, "metrics.jsonl")
    with open(metrics, "a") as fh:
        fh.write('{"epoch": 3, "train_lo')  # a kill during the append of epoch 3
    with pytest.warns(train.TrainWarning, match="last line half-written"):
        train.main(base + ["--epochs", "3", "--resume"])
    assert [r["epoch"] for r in _rows(metrics)] == [1, 2, 3]


def test_resume_refuses_other_settings_and_fewer_epochs(tmp_path, device):
    out = str(tmp_path / "run")
    train.main(_tiny(device) + ["--optimizer", "gam", "--rho", "0.07", "--out", out,
                                "--epochs", "2"])
    with pytest.raises(train.UsageError, match=r"--optimizer gam.*--optimizer sam"):
        train.main(_tiny(device) + ["--optimizer", "sam", "--rho", "0.07", "--out", out,
                                    "--epochs", "3", "--resume"])
    with pytest.raises(train.UsageError, match=r"--rho 0.07.*--rho 0.08"):
        train.main(_tiny(device) + ["--optimizer", "gam", "--rho", "0.08", "--out", out,
                                    "--epochs", "3", "--resume"])
    with pytest.raises(train.UsageError, match=r"--epochs 1: .* at epoch 2 already"):
        train.main(_tiny(device) + ["--optimizer", "gam", "--rho", "0.07", "--out", out,
                                    "--epochs", "1", "--resume"])


def test_hvp_flag_reaches_gam_where_gam_has_the_switch(tmp_path, device):
    import inspect
    argv = _tiny(device) + ["--optimizer", "sam+gam", "--hvp", "forward_over_reverse", "--out",
                   str(tmp_path / "run")]
    if "hvp" in inspect.signature(train.CLASSES["gam"].__init__).parameters:
        train.main(argv)
        assert [r["epoch"] for r in _rows(tmp_path / "run" / "metrics.jsonl")] == [1]
    else:
        with pytest.raises(train.UsageError, match="--hvp forward_over_reverse: .* no hvp"):
            train.main(argv)
    with pytest.raises(train.UsageError, match=r"--hvp auto: only gam, sam\+gam and gsam\+gam"):
        train.main(_tiny(device) + ["--optimizer", "gam_accel", "--hvp", "auto",
                                    "--out", str(tmp_path)])


def test_a_full_disk_during_a_checkpoint_write_keeps_the_previous_one(tmp_path, monkeypatch,
                                                                       device):
    import errno
    out, calls, real_save = str(tmp_path / "run"), [], torch.save

    def save(obj, fh, *a, **k):
        calls.append(obj["epoch"])
        if len(calls) == 2:
            fh.write(b"PK\x03\x04 partial")
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(obj, fh, *a, **k)

    monkeypatch.setattr(torch, "save", save)
    with pytest.raises(train.TrainError, match=r"writing epoch 2 .*\(No space left on device\).*"
                                               r"kept: epoch 1"):
        train.main(_tiny(device) + ["--out", out, "--epochs", "3"])
    monkeypatch.undo()
    assert torch.load(os.path.join(out, "checkpoint.pt"), weights_only=True)["epoch"] == 1
    assert not [f for f in os.listdir(out) if f.endswith(".tmp")]
    train.main(_tiny(device) + ["--out", out, "--epochs", "3", "--resume"])
    assert [r["epoch"] for r in _rows(os.path.join(out, "metrics.jsonl"))] == [1, 2, 3]


# one child process (one torch import) runs command lines through the CLI entry point: the
# good one first, then every bad one, then a bad one through `python -m`'s path (runpy)
_DRIVER = r"""
import contextlib, io, json, runpy, sys, traceback
from gamtoy.torch import train
res = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = train._cli(argv)
        except BaseException:
            traceback.print_exc()
            rc = "raised"
    res.append({"rc": rc, "stdout": out.getvalue(), "stderr": err.getvalue()})
print(json.dumps(res))
sys.argv = ["train", "--epochs", "-1"]  # the real `python -m` entry point: its exit status
import warnings; warnings.simplefilter("ignore", RuntimeWarning)  # runpy: already imported
runpy.run_module("gamtoy.torch.train", run_name="__main__")
"""


def _bad_cases(tmp_path, home):
    afile = tmp_path / "a_file"
    afile.write_text("x")
    corrupt = _fake_cifar(str(tmp_path / "corrupt"))
    with open(os.path.join(corrupt, "data_batch_3"), "r+b") as fh:
        fh.truncate(200)
    missing = _fake_cifar(str(tmp_path / "missing"))
    os.remove(os.path.join(missing, "test_batch"))
    evil = _fake_cifar(str(tmp_path / "evil"))
    marker = tmp_path / "pwned"
    with open(os.path.join(evil, "data_batch_2"), "wb") as fh:
        pickle.dump(_Evil(f"touch {marker}"), fh)
    ckpt = str(tmp_path / "ckpt")
    train.main(TINY + ["--optimizer", "sam", "--out", ckpt])
    trunc = str(tmp_path / "trunc")
    os.makedirs(trunc)
    with open(os.path.join(ckpt, "checkpoint.pt"), "rb") as fh:
        blob = fh.read()
    with open(os.path.join(trunc, "checkpoint.pt"), "wb") as fh:
        fh.write(blob[:len(blob) // 2])
    planted = str(tmp_path / "planted")  # a checkpoint whose unpickling would run a command
    os.makedirs(planted)
    torch.save({"epoch": 1, "model": _Evil(f"touch {marker}"), "optimizer": {}},
               os.path.join(planted, "checkpoint.pt"))
    fresh = str(tmp_path / "fresh")
    cases = [  # (argv, what the one line must name)
        (["--out", str(afile)], "--out"),
        (["--out", "/proc/gamtoy-no-such/run"], "--out"),
        (["--epochs", "-1", "--out", fresh], "--epochs"),
        (["--epochs", "abc", "--out", fresh], "--epochs"),
        (["--batch-size", "0", "--out", fresh], "--batch-size"),
        (["--lr", "nan", "--out", fresh], "--lr"),
        (["--rho", "-0.1", "--out", fresh], "--rho"),
        (["--optimizer", "sam", "--alpha", "0.7", "--out", fresh], "--alpha"),
        (["--optimizer", "adamw", "--out", fresh], "--optimizer"),
        (["--model", "vgg16", "--out", fresh], "--model"),
        (["--model", "resnet18", "--out", fresh], "--model resnet18"),
        (["--data", "imagenet:/x", "--out", fresh], "--data"),
        (["--data", f"cifar10:{missing}", "--out", fresh], os.path.join(missing, "test_batch")),
        (["--data", f"cifar10:{corrupt}", "--out", fresh], os.path.join(corrupt, "data_batch_3")),
        (["--data", f"cifar10:{evil}", "--out", fresh], os.path.join(evil, "data_batch_2")),
        (["--out", trunc, "--resume"], os.path.join(trunc, "checkpoint.pt")),
        (["--out", planted, "--resume"], os.path.join(planted, "checkpoint.pt")),
        (["--optimizer", "gam", "--out", ckpt, "--resume"], "--optimizer sam"),
        (["--device", "cuda:7" if torch.cuda.is_available() else "cuda", "--out", fresh],
         "--device"),
        (["--device", "tpu9", "--out", fresh], "--device"),
        (["--max-batches", "0", "--out", fresh], "--max-batches"),
        (["--data", "cifar10:~/no-such", "--out", fresh], str(home / "no-such")),
    ]
    return cases, marker, fresh


class _Evil:
    def __init__(self, cmd):
        self.cmd = cmd

    def __reduce__(self):
        return (os.system, (self.cmd,))


def test_the_cli_trains_with_a_flatness_bar_and_refuses_every_bad_argument_in_one_line(
        tmp_path, device):
    """Good: a CIFAR-format folder, `~` in --data and --out (HOME=tmp_path), a flatness bar, a
    summary. Bad: exit status 2, one line on stderr naming the flag or file, no traceback, no
    training started, the planted pickle never ran."""
    home = tmp_path
    _fake_cifar(str(home / "data" / "cifar-10-batches-py"), n=16)
    good = ["--model", "mlp", "--data", "cifar10:~/data", "--optimizer", "gam", "--epochs", "1",
            "--width", "8", "--batch-size", "16", "--device", device, "--out", "~/run",
            "--probes", "3", "--lanczos-steps", "10"]
    cases, marker, fresh = _bad_cases(tmp_path, home)
    argvs = [good] + [TINY + argv for argv, _ in cases]
    res = subprocess.run([sys.executable, "-c", _DRIVER, json.dumps(argvs)], capture_output=True,
                         text=True, timeout=300, cwd=ROOT, env=_env(HOME=str(home)))
    assert res.returncode == 2 and res.stderr.count("\n") == 1, res.stderr
    assert "--epochs must be an integer >= 1, got -1" in res.stderr
    ok, *bad = json.loads(res.stdout.splitlines()[-1])

    assert ok["rc"] == 0, ok["stderr"]
    out = home / "run"
    rows = _rows(out / "metrics.jsonl")
    assert rows[0]["epoch"] == 1 and 0 <= rows[0]["test_acc"] <= 1
    assert {"grad_norm", "h", "r1"} <= set(rows[0]["diagnostics"])
    assert len(rows[-1]["flatness"]["eigenvalues"]) == 3
    assert "flatness: Lanczos + Hutchinson" in ok["stderr"]  # the tqdm bar of the flatness step
    assert "top Hessian eigenvalues" in ok["stdout"] and "test loss" in ok["stdout"]
    assert f"wrote {out / 'metrics.jsonl'}" in ok["stdout"]

    for (argv, names), got in zip(cases, bad, strict=True):
        lines = got["stderr"].splitlines()
        assert got["rc"] == 2 and len(lines) == 1, (argv, got)
        assert "Traceback" not in got["stderr"] and names in lines[0], (argv, lines)
    assert not marker.exists()  # neither planted pickle ran
    assert not os.path.exists(os.path.join(fresh, "metrics.jsonl"))  # nothing trained


@pytest.mark.parametrize("model,optimizer,amp", [("resnet18", "gam_accel", False),
                                                 ("wrn28-2", "gsam", False), ("mlp", "sgd", False),
                                                 ("resnet18", "gam", True)])
def test_train_on_a_generated_cifar_folder(tmp_path, model, optimizer, amp, device):
    _fake_cifar(str(tmp_path / "cifar-10-batches-py"), n=8)
    out = str(tmp_path / "run")
    train.main(["--model", model, "--data", f"cifar10:{tmp_path}", "--optimizer", optimizer,
                "--epochs", "1", "--width", "2", "--batch-size", "4", "--max-batches", "2",
                "--out", out, "--probes", "2", "--eigenvalues", "2", "--flatness-batches", "1",
                "--lanczos-steps", "3", "--device", device, "--no-progress"]
               + (["--amp"] if amp else []))
    rows = _rows(os.path.join(out, "metrics.jsonl"))
    assert rows[0]["epoch"] == 1 and np.isfinite(rows[0]["train_loss"])
    assert rows[0]["skipped_steps"] < 2  # at least one step taken (GradScaler on CUDA)
    assert np.isfinite(rows[-1]["flatness"]["trace"])


@pytest.mark.parametrize("protocol", [2, 4, 5, "numpy1"])
def test_restricted_unpickler_reads_cifar_batches_as_plain_pickle_does(tmp_path, protocol):
    folder = _fake_cifar(str(tmp_path / "c"), n=5, protocol=2 if protocol == "numpy1" else protocol)
    path = os.path.join(folder, "data_batch_4")
    if protocol == "numpy1":  # the released CIFAR files name numpy 1's module numpy.core
        with open(path, "rb") as fh:
            blob = fh.read()
        assert b"cnumpy._core.multiarray\n_reconstruct\n" in blob
        with open(path, "wb") as fh:
            fh.write(blob.replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))
    x, y = data.read_batch(path)
    with open(path, "rb") as fh:
        ref = pickle.load(fh, encoding="bytes")  # trusted here: we wrote it
    np.testing.assert_array_equal(x, ref[b"data"].reshape(-1, 3, 32, 32))
    np.testing.assert_array_equal(y, ref[b"labels"])


@pytest.mark.parametrize("payload", ["system", "eval", "getattr"])
def test_a_planted_pickle_is_refused_naming_the_file_and_never_runs(tmp_path, payload):
    marker = tmp_path / "pwned"
    path = str(tmp_path / "data_batch_1")
    if payload == "system":
        blob = pickle.dumps({b"data": _Evil(f"touch {marker}"), b"labels": []})
    elif payload == "eval":
        blob = (b"cbuiltins\neval\n(V__import__('os').system('touch " + str(marker).encode()
                + b"')\ntR.")
    else:
        blob = b"cbuiltins\ngetattr\n(cnumpy\nndarray\nV__reduce__\ntR."
    with open(path, "wb") as fh:
        fh.write(blob)
    with pytest.raises(data.DataError, match=rf"{path}: refused: .*(system|eval|getattr)"):
        data.read_batch(path)
    assert not marker.exists()


def test_corrupt_malformed_and_missing_batches_name_the_file(tmp_path):
    folder = _fake_cifar(str(tmp_path / "c"), n=4)
    path = os.path.join(folder, "data_batch_1")
    with open(path, "r+b") as fh:
        fh.truncate(100)
    with pytest.raises(data.DataError, match=rf"{path}: corrupt or truncated"):
        data.load(f"cifar10:{folder}")
    with open(path, "wb") as fh:
        pickle.dump({b"data": np.zeros((4, 3072), np.uint8), b"labels": [0, 1, 2, 10]}, fh)
    with pytest.raises(data.DataError, match=rf"{path}: labels must lie in \[0, 10\)"):
        data.load(f"cifar10:{folder}")
    with open(path, "wb") as fh:
        pickle.dump([1, 2], fh)
    with pytest.raises(data.DataError, match=rf"{path}: not a CIFAR batch"):
        data.load(f"cifar10:{folder}")
    os.remove(path)
    with pytest.raises(FileNotFoundError, match=rf"{path} missing.*cifar-10-python.tar.gz"):
        data.load(f"cifar10:{folder}")


def test_missing_cifar_files_say_where_to_put_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="cifar-10-python.tar.gz"):
        data.load(f"cifar10:{tmp_path}")


def test_models_have_the_expected_output_shapes(device):
    x = torch.zeros(2, 3, 32, 32, device=device)
    for name in models.NAMES:
        assert models.build(name, (3, 32, 32), 7, width=4).to(device)(x).shape == (2, 7)
    assert sum(p.numel() for p in models.build("resnet18", (3, 32, 32), 10).parameters()) \
        == pytest.approx(11.17e6, rel=0.01)
    assert sum(p.numel() for p in models.build("wrn28-2", (3, 32, 32), 10).parameters()) \
        == pytest.approx(1.47e6, rel=0.01)


def test_lanczos_and_hutchinson_match_the_dense_hessian(device):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(),
                                torch.nn.Linear(4, 2)).double()
    X, y = torch.randn(20, 3, dtype=torch.float64), torch.randint(0, 2, (20,))
    model, X, y = model.to(device), X.to(device), y.to(device)
    loss_fn = torch.nn.functional.cross_entropy
    params = list(model.parameters())
    theta = torch.nn.utils.parameters_to_vector(params).detach()

    def f(v):
        return loss_fn(torch.func.functional_call(model, {n: t for (n, _), t in zip(
            model.named_parameters(), _split(v, params), strict=True)}, (X,)), y)

    H = torch.autograd.functional.hessian(f, theta).cpu().numpy()
    res = flatness(model, loss_fn, [(X, y)], k=2, probes=300, steps=100)
    np.testing.assert_allclose(res["eigenvalues"], np.sort(np.linalg.eigvalsh(H))[::-1][:2],
                               rtol=1e-6)
    assert res["trace"] == pytest.approx(np.trace(H), abs=4 * res["trace_std_err"] + 1e-9)


def _split(v, params):
    pieces = torch.split(v, [p.numel() for p in params])
    return [t.view_as(p) for t, p in zip(pieces, params, strict=True)]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_a_read_only_out_folder_is_refused_before_any_work(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(train.UsageError, match=r"--out .*not a writable folder"):
            train.main(TINY + ["--out", str(ro)])
        with pytest.raises(train.UsageError, match=r"--out .*not a writable folder"):
            train.main(TINY + ["--out", str(ro / "sub")])
    finally:
        ro.chmod(0o700)
