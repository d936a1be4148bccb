"""No host synchronisation inside a step on the device path, checked on the CPU.

On a GPU, reading a device tensor on the host (`.item()`, `bool()`, `float()`, `.tolist()`,
`.numpy()`) waits for the device: `make gpu-check` runs one step per optimizer under
`torch.cuda.set_sync_debug_mode("error")`. Here the same device path (0-d tensor scalars and
`_foreach` kernels, `kernels.FORCE_DEVICE_PATH`) runs on the CPU with those reads made to raise,
so a read slipped into a kernel or an optimizer fails in CI, GPU or not. torch's own base
optimizers are exempt: Adam keeps its step counter as a CPU tensor on every device, and reading
it waits for nothing.
"""
import sys

import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402

from gamtoy.torch import get, kernels  # noqa: E402
from tools.gpu_check import _batch, _mlp, _opt, _takes, variants  # noqa: E402

pytestmark = pytest.mark.usefixtures("torch_one_thread")
READS = ("item", "__bool__", "__float__", "__int__", "__index__", "tolist", "numpy")


class HostRead(AssertionError):
    pass


@pytest.fixture
def no_host_reads(monkeypatch):
    """A switch: while on, a host read of a tensor outside torch.optim raises HostRead."""
    on = [False]
    for name in READS:
        real = getattr(torch.Tensor, name)

        def read(self, *a, _real=real, _name=name, **k):
            if on[0] and "torch/optim" not in (
                    sys._getframe(1).f_code.co_filename.replace("\\", "/")):
                raise HostRead(f"Tensor.{_name}() inside a step")
            return _real(self, *a, **k)
        monkeypatch.setattr(torch.Tensor, name, read)
    monkeypatch.setattr(kernels, "FORCE_DEVICE_PATH", True)
    return on


@pytest.mark.parametrize("label,name,kw", variants(), ids=[v[0] for v in variants()])
@pytest.mark.parametrize("base", ["momentum", "adam"])
def test_a_step_with_diagnostics_unread_reads_nothing_on_the_host(no_host_reads, label, name, kw,
                                                                   base):
    X, y = _batch(32, torch.float32)
    model = _mlp(torch.float32)
    kw = {**kw, "check_finite": False} if _takes(name, "check_finite") else dict(kw)
    opt = get(name, model.parameters(), lr=0.01, base=base, weight_decay=1e-3, model=model, **kw)
    closure = lambda: F.cross_entropy(model(X), y)  # noqa: E731
    opt.step(closure)  # the first step: lazy state, hvp="auto"'s one-time timing
    before = [p.detach().clone() for p in model.parameters()]
    no_host_reads[0] = True
    try:
        loss = opt.step(closure)
    finally:
        no_host_reads[0] = False
    # the step happened, and its diagnostics are there to be read afterwards
    assert any(not torch.equal(a, p) for a, p in zip(before, model.parameters(), strict=True))
    assert torch.isfinite(loss) and not opt.diagnostics["skipped"]
    assert all(torch.isfinite(torch.as_tensor(v)).all() for k, v in opt.diagnostics.items()
               if k != "skipped")


def test_the_switch_catches_a_host_read(no_host_reads, monkeypatch):
    # a kernel that reads a norm on the host (as the CPU path does) must be caught
    real = kernels.norm

    def reading_norm(v):
        return float(real(v))
    monkeypatch.setattr(kernels, "norm", reading_norm)
    X, y = _batch(32, torch.float32)
    model = _mlp(torch.float32)
    opt = _opt("sam", model, {"check_finite": False})
    no_host_reads[0] = True
    with pytest.raises(HostRead, match="inside a step"):
        opt.step(lambda: F.cross_entropy(model(X), y))
