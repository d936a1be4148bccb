"""Real faults against the training command: kill -9 during checkpoint writes and mid-epoch.

A "zygote" child imports torch once and forks one training process per attempt (a torch
import costs seconds on a loaded box, a fork milliseconds). The training process writes its
checkpoints slowly (torch.save serialises to memory, then the bytes go out in 20 chunks over
SLOW_SAVE_S seconds), prints SAVING/SAVED markers, and is killed with SIGKILL at a random moment
inside a write (three times), then once at a random moment of training. After
every kill the checkpoint must load (weights_only=True) at the last completed epoch, and the
run resumed to the end must equal, bit for bit, a run that was never interrupted.
"""
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

import pytest

torch = pytest.importorskip("torch")

from gamtoy.torch import train  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SLOW_SAVE_S = 0.6
ARGS = ["--data", "moons", "--device", "cpu", "--optimizer", "gsam", "--alpha", "0.7",
        "--width", "6", "--batch-size", "64", "--flatness-batches", "0", "--no-progress",
        "--epochs", "9"]

_CHILD = r"""
import io, json, os, sys, time
import torch
from gamtoy.torch import train

torch.set_num_threads(1)
torch.optim.SGD([torch.zeros(1, requires_grad=True)])  # its lazy torch._dynamo import, before forks
real_save, delay = torch.save, float(os.environ["SLOW_SAVE_S"])


def slow_save(obj, f, *a, **k):  # the same bytes, written slowly
    buf = io.BytesIO()
    real_save(obj, buf, *a, **k)
    blob = buf.getvalue()
    fh = open(f, "wb") if isinstance(f, (str, os.PathLike)) else f
    print("SAVING", obj["epoch"], flush=True)
    step = len(blob) // 20 + 1
    for i in range(0, len(blob), step):
        fh.write(blob[i:i + step])
        fh.flush()
        time.sleep(delay / 20)
    if fh is not f:
        fh.close()


torch.save = slow_save
atomic_save = train.save_checkpoint


def save_checkpoint(state, path):
    atomic_save(state, path)
    print("SAVED", state["epoch"], flush=True)


train.save_checkpoint = save_checkpoint
for line in sys.stdin:  # one JSON argv per line -> one forked training process
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        try:
            rc = train._cli(json.loads(line))
        except BaseException:
            import traceback
            traceback.print_exc()
            rc = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(rc)
    print("PID", pid, flush=True)
    print("EXIT", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), flush=True)
"""


pytestmark = pytest.mark.usefixtures("torch_one_thread")


class _Zygote:
    def __init__(self, script):
        env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
                   OMP_NUM_THREADS="1", SLOW_SAVE_S=str(SLOW_SAVE_S))
        self.proc = subprocess.Popen([sys.executable, script], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                     cwd=ROOT)
        self.pid = None
        self.watchdog = threading.Timer(240, self._abort)  # a hung child fails, never blocks
        self.watchdog.start()

    def _abort(self):
        for pid in (self.pid, self.proc.pid):
            if pid is not None:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)

    def start(self, argv):
        self.pid = None
        self.proc.stdin.write((json.dumps(argv) + "\n").encode())
        self.proc.stdin.flush()

    def wait_for(self, word, count):
        """Read markers until the count-th `word`; returns the epochs SAVED so far."""
        saved, seen = [], 0
        for line in self.proc.stdout:
            tag, _, value = line.decode().strip().partition(" ")
            if tag == "PID":
                self.pid = int(value)
            elif tag == "SAVED":
                saved.append(int(value))
            elif tag == "EXIT":
                raise AssertionError(f"training ended (status {value}) before its {count}th "
                                     f"{word}")
            if tag == word:
                seen += 1
                if seen == count and self.pid is not None:
                    return saved
        raise AssertionError(f"zygote died: {self.proc.stderr.read().decode()}")

    def kill(self):
        """SIGKILL the training process (forked by the zygote, started by this test)."""
        os.kill(self.pid, signal.SIGKILL)
        for line in self.proc.stdout:
            tag, _, value = line.decode().strip().partition(" ")
            if tag == "EXIT":
                assert int(value) == -signal.SIGKILL
                return
        raise AssertionError("zygote died")

    def close(self):
        self.watchdog.cancel()
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def _temporaries(out):
    return [f for f in os.listdir(out) if f.endswith(".tmp")]


def test_kill_9_during_checkpoint_writes_and_mid_epoch_loses_nothing(tmp_path):
    seed = random.randrange(10**6)
    rng = random.Random(seed)
    script = tmp_path / "child.py"
    script.write_text(_CHILD)
    out = str(tmp_path / "run")
    ckpt = os.path.join(out, "checkpoint.pt")
    done, mid_write = 0, 0
    zygote = _Zygote(str(script))
    try:
        for attempt in range(3):  # killed inside its second checkpoint write, at a random moment
            zygote.start(ARGS + ["--out", out] + (["--resume"] if attempt else []))
            saved = zygote.wait_for("SAVING", 2)
            time.sleep(rng.uniform(0, 0.8 * SLOW_SAVE_S))
            zygote.kill()
            mid_write += bool(_temporaries(out))  # the write was cut: its temporary file is left
            epoch = torch.load(ckpt, weights_only=True)["epoch"]  # the previous one, intact
            assert epoch in (saved[-1], saved[-1] + 1), (seed, saved, epoch)
            assert epoch > done, (seed, epoch, done)
            done = epoch
        assert mid_write >= 1, f"seed {seed}: no kill landed inside a write"
        zygote.start(ARGS + ["--out", out, "--resume"])  # killed at a random moment of training
        zygote.wait_for("SAVED", 1)
        time.sleep(rng.uniform(0, 0.3))
        zygote.kill()
        assert torch.load(ckpt, weights_only=True)["epoch"] >= done + 1
    finally:
        zygote.close()

    train.main(ARGS + ["--out", out, "--resume"])
    assert not _temporaries(out)  # stale temporaries of the kills removed
    ref = str(tmp_path / "ref")
    train.main(ARGS + ["--out", ref])
    got, want = (torch.load(os.path.join(d, "checkpoint.pt"), weights_only=True)
                 for d in (out, ref))
    assert got["epoch"] == want["epoch"] == 9
    for k in want["model"]:
        assert torch.equal(got["model"][k], want["model"][k]), (seed, k)
    rows = train.read_metrics(os.path.join(out, "metrics.jsonl"))
    ref_rows = train.read_metrics(os.path.join(ref, "metrics.jsonl"))
    assert [r["epoch"] for r in rows] == list(range(1, 10))
    assert [r["train_loss"] for r in rows] == [r["train_loss"] for r in ref_rows]
