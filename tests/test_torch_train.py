"""The training command on moons and on a generated CIFAR-format folder, on CPU."""
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


def _rows(path):
    with open(path) as fh:
        return [json.loads(r) for r in fh]


def _fake_cifar(folder, n=12, classes=10):
    rng = np.random.default_rng(0)
    os.makedirs(folder)
    for f in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 256, size=(n, 3072), dtype=np.uint8),
                 b"labels": rng.integers(0, classes, size=n).tolist()}
        with open(os.path.join(folder, f), "wb") as fh:
            pickle.dump(batch, fh)


def test_train_command_runs_as_a_module_on_moons(tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "gamtoy.torch.train", "--model", "mlp", "--data", "moons",
           "--optimizer", "gam", "--epochs", "1", "--width", "8", "--batch-size", "128",
           "--device", "auto", "--out", str(out), "--probes", "3", "--lanczos-steps", "10",
           "--no-progress"]
    subprocess.run(cmd, check=True, timeout=120, cwd=os.path.dirname(os.path.dirname(__file__)))
    rows = _rows(out / "metrics.jsonl")
    assert rows[0]["epoch"] == 1 and 0 <= rows[0]["test_acc"] <= 1
    assert {"grad_norm", "h", "r1"} <= set(rows[0]["diagnostics"])
    assert len(rows[-1]["flatness"]["eigenvalues"]) == 3


def test_train_resumes_from_its_checkpoint(tmp_path):
    out = str(tmp_path / "run")
    base = ["--data", "moons", "--optimizer", "sam", "--width", "8", "--batch-size", "64",
            "--out", out, "--probes", "2", "--eigenvalues", "1", "--lanczos-steps", "5",
            "--no-progress"]
    train.main(base + ["--epochs", "1"])
    train.main(base + ["--epochs", "2", "--resume"])
    rows = _rows(os.path.join(out, "metrics.jsonl"))
    assert [r.get("epoch") for r in rows] == [1, 2, None]
    ckpt = torch.load(os.path.join(out, "checkpoint.pt"), weights_only=True)
    assert ckpt["epoch"] == 2


@pytest.mark.parametrize("model,optimizer", [("resnet18", "gam_accel"), ("wrn28-2", "gsam"),
                                             ("mlp", "sgd")])
def test_train_on_a_generated_cifar_folder(tmp_path, model, optimizer):
    folder = str(tmp_path / "cifar-10-batches-py")
    _fake_cifar(folder)
    out = str(tmp_path / "run")
    train.main(["--model", model, "--data", f"cifar10:{tmp_path}", "--optimizer", optimizer,
                "--epochs", "1", "--width", "2", "--batch-size", "8", "--max-batches", "2",
                "--out", out, "--probes", "2", "--eigenvalues", "2", "--flatness-batches", "1",
                "--lanczos-steps", "4",
                "--no-progress"])
    rows = _rows(os.path.join(out, "metrics.jsonl"))
    assert rows[0]["epoch"] == 1 and np.isfinite(rows[0]["train_loss"])
    assert np.isfinite(rows[-1]["flatness"]["trace"])


def test_missing_cifar_files_say_where_to_put_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="cifar-10-python.tar.gz"):
        data.load(f"cifar10:{tmp_path}")


def test_models_have_the_expected_output_shapes():
    x = torch.zeros(2, 3, 32, 32)
    for name in models.NAMES:
        assert models.build(name, (3, 32, 32), 7, width=4)(x).shape == (2, 7)
    assert sum(p.numel() for p in models.build("resnet18", (3, 32, 32), 10).parameters()) \
        == pytest.approx(11.17e6, rel=0.01)
    assert sum(p.numel() for p in models.build("wrn28-2", (3, 32, 32), 10).parameters()) \
        == pytest.approx(1.47e6, rel=0.01)


def test_lanczos_and_hutchinson_match_the_dense_hessian():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    X, y = torch.randn(20, 3, dtype=torch.float64), torch.randint(0, 2, (20,))
    loss_fn = torch.nn.functional.cross_entropy
    params = list(model.parameters())
    theta = torch.nn.utils.parameters_to_vector(params).detach()

    def f(v):
        return loss_fn(torch.func.functional_call(model, {n: t for (n, _), t in zip(
            model.named_parameters(), _split(v, params))}, (X,)), y)

    H = torch.autograd.functional.hessian(f, theta).numpy()
    res = flatness(model, loss_fn, [(X, y)], k=2, probes=300, steps=100)
    np.testing.assert_allclose(res["eigenvalues"], np.sort(np.linalg.eigvalsh(H))[::-1][:2],
                               rtol=1e-6)
    assert res["trace"] == pytest.approx(np.trace(H), abs=4 * res["trace_std_err"] + 1e-9)


def _split(v, params):
    return [t.view_as(p) for t, p in zip(torch.split(v, [p.numel() for p in params]), params)]
