"""torch.distributed: 2 gloo processes on half batches equal 1 process on the whole batch."""
import datetime
import os
import socket
import time

import pytest

torch = pytest.importorskip("torch")

import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402

import gamtoy.torch as gtt  # noqa: E402

NAMES = ["sam", "gsam", "gam", "gam_accel", "sam+gam"]
STEPS = 3


def _problem():
    g = torch.Generator().manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 12), torch.nn.Tanh(), torch.nn.Linear(12, 3))
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    X = torch.randn(16, 5, generator=g)
    y = torch.randint(0, 3, (16,), generator=g)
    return model.double(), X.double(), y


def _train(model, X, y, name, accumulate=1, backward=False):
    """STEPS steps; backward=True: torch's closure convention (zero_grad, loss.backward())."""
    opt = gtt.get(name, model.parameters(), lr=0.1, base="momentum", weight_decay=1e-3,
                  model=model)
    F = torch.nn.functional
    Xs, ys = X.chunk(accumulate), y.chunk(accumulate)

    def micro(i):
        loss = F.cross_entropy(model(Xs[i]), ys[i])
        if backward:
            opt.zero_grad()
            loss.backward()
        return loss
    for _ in range(STEPS):
        if accumulate == 1:
            opt.step(lambda: F.cross_entropy(model(X), y))
        else:
            opt.step(micro, accumulate=accumulate)
    return torch.nn.utils.parameters_to_vector(model.parameters()).detach()


def _worker(rank, world, port, out):
    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(port)
    dist.init_process_group("gloo", rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=60))
    try:
        torch.set_num_threads(1)
        result = {}
        for wrap in (False, True):
            for name in NAMES:
                model, X, y = _problem()
                half = slice(rank * 8, rank * 8 + 8)
                if wrap:  # DDP wrapper: evaluations run under no_sync, one all_reduce each
                    model = torch.nn.parallel.DistributedDataParallel(model)
                result[name, wrap] = _train(model, X[half], y[half], name, 2 if wrap else 1)
                if wrap:
                    model = torch.nn.parallel.DistributedDataParallel(_problem()[0])
                    result[name, "backward"] = _train(model, X[half], y[half], name, 2, True)
        if rank == 0:
            torch.save(result, out)
    finally:
        dist.destroy_process_group()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_two_processes(tmp_path):
    out = str(tmp_path / "ddp.pt")
    ctx = mp.spawn(_worker, args=(2, _free_port(), out), nprocs=2, join=False)
    deadline = time.time() + 120
    while not ctx.join(timeout=5):
        if time.time() > deadline:
            for p in ctx.processes:
                p.kill()
            pytest.fail("the 2-process gloo run did not finish in 120 s")
    return torch.load(out, weights_only=True)


def test_two_gloo_processes_equal_one_process_on_the_concatenated_batch(tmp_path, device):
    """Bare module, and DDP-wrapped with 2 micro-batches per rank (closures returning the loss,
    or calling loss.backward() themselves); the gradient that sets the
    perturbation (and every HVP) is the one averaged over ranks."""
    if device != "cpu":
        pytest.skip("gloo runs on CPU tensors (NCCL needs 2 GPUs)")
    got = _run_two_processes(tmp_path)
    start = torch.nn.utils.parameters_to_vector(_problem()[0].parameters()).detach()
    for name in NAMES:
        model, X, y = _problem()
        want = _train(model, X, y, name)
        assert not torch.allclose(want, start)
        for wrap in (False, True, "backward"):
            torch.testing.assert_close(got[name, wrap], want, rtol=0, atol=1e-6,
                                       msg=f"{name}, wrapped={wrap}")
