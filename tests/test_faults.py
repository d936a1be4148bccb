"""Fault injection: a cache that cannot run code or return damaged results, an unusable cache
folder, SIGINT during the main job and kill -9 during an atomic write (real subprocesses)."""
import errno
import json
import os
import pathlib
import pickle
import queue
import signal
import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import pytest

from gamtoy.mlp import cache

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent

RESULT = {"acc": np.arange(12, dtype=np.float32).reshape(3, 4) / 7, "n": 3, "lr": 0.1,
          "ok": True, "none": None, "opts": ("sgd", "gam"), "seeds": [0, 1],
          "eig": [np.float64(2.5), np.int32(-4), np.bool_(False)], 0.3: {"nested": (1.5, [2])},
          "label": "GAM", "big": 2 ** 70, "nan": float("nan"), "empty": np.zeros((0, 2))}


def assert_same(a, b):
    """Equal, with the same types (tuple vs list, int vs float, NumPy dtypes)."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and np.shape(a) == np.shape(b)
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, float) and a != a:
        assert b != b
    else:
        assert a == b


@pytest.fixture
def cdir(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("GAMTOY_CACHE", str(d))
    monkeypatch.setattr(cache, "_warned", set())
    return d


def _compute_counter(value=RESULT):
    calls = []

    def compute():
        calls.append(1)
        return value
    return compute, calls


def _entry(cdir):
    (p,) = cdir.glob("*.npz")
    return p


# ---- round trip ------------------------------------------------------------------------------
def test_cached_results_round_trip_exactly_with_their_types(cdir):
    compute, calls = _compute_counter()
    a = cache.cached("t", {"x": 1}, compute)
    b = cache.cached("t", {"x": 1}, compute)
    assert len(calls) == 1
    assert_same(a, RESULT)
    assert_same(b, RESULT)
    assert not list(cdir.glob("*.pkl")) and not list(cdir.glob(".*.tmp"))


def test_a_result_that_is_not_plain_data_is_returned_uncached_with_one_warning(cdir):
    compute, calls = _compute_counter({"f": object()})
    with pytest.warns(cache.CacheWarning, match="not cached: it holds a object"):
        cache.cached("obj", {}, compute)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = cache.cached("obj", {}, compute)
    assert len(calls) == 2 and isinstance(out["f"], object)


# ---- damaged entries -------------------------------------------------------------------------
def test_single_byte_corruptions_never_return_wrong_numbers(cdir):
    compute, calls = _compute_counter()
    cache.cached("fuzz", {}, compute)
    path = _entry(cdir)
    good = path.read_bytes()
    key, src = None, None
    rng = np.random.default_rng(3)
    detected, same = 0, 0
    positions = rng.choice(len(good), size=min(300, len(good)), replace=False)
    for pos in positions:
        bad = bytearray(good)
        bad[pos] ^= int(rng.integers(1, 256))
        path.write_bytes(bytes(bad))
        try:
            got = cache.loads(path, key, src)
        except Exception:
            detected += 1
            continue
        assert_same(got, RESULT)  # a byte the format does not use (e.g. a zip timestamp)
        same += 1
    assert detected == len(positions), (detected, same)  # the trailer covers every byte
    # and through cached(): a damaged entry is recomputed (with a warning), never returned
    bad = bytearray(good)
    bad[len(good) // 3] ^= 0x55
    path.write_bytes(bytes(bad))
    n = len(calls)
    with pytest.warns(cache.CacheWarning, match="is unusable"):
        out = cache.cached("fuzz", {}, compute)
    assert len(calls) == n + 1
    assert_same(out, RESULT)
    assert cache.loads(path) is not None  # rewritten, valid again


def test_truncated_entries_are_detected(cdir):
    compute, calls = _compute_counter()
    cache.cached("trunc", {}, compute)
    path = _entry(cdir)
    good = path.read_bytes()
    for n in sorted(set(np.linspace(0, len(good) - 1, 60).astype(int))):
        path.write_bytes(good[:n])
        with pytest.raises(ValueError):
            cache.loads(path)
    with pytest.warns(cache.CacheWarning):
        assert_same(cache.cached("trunc", {}, compute), RESULT)
    assert len(calls) == 2


def _plant(cdir, name, params, data):
    """Write `data` where cached(name, params, ...) will look for its entry."""
    compute, _ = _compute_counter({"real": 1})
    cache.cached(name, params, compute)
    path = _entry(cdir)
    path.write_bytes(data)
    return path


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("kind", ["pickle", "pickle_of_5", "pickle_of_none", "npz_object_array",
                                  "npy_object_array", "npz_other_members", "entry_for_other_key",
                                  "json", "empty", "directory"])
def test_planted_or_wrong_typed_entries_are_recomputed_and_run_nothing(cdir, tmp_path, kind):
    marker = tmp_path / "PWNED"
    params = {"p": 1}
    if kind == "pickle":
        data = pickle.dumps(_Evil(marker))
    elif kind == "pickle_of_5":
        data = pickle.dumps(5)
    elif kind == "pickle_of_none":
        data = pickle.dumps(None)
    elif kind in ("npz_object_array", "npy_object_array"):
        import io
        buf = io.BytesIO()
        arr = np.array([_Evil(marker)], dtype=object)
        if kind.startswith("npy"):
            np.save(buf, arr, allow_pickle=True)
        else:
            np.savez(buf, meta=arr, sha256=arr, a0=arr)
        data = buf.getvalue()
    elif kind == "npz_other_members":
        import io
        buf = io.BytesIO()
        np.savez(buf, x=np.arange(3))
        data = buf.getvalue()
    elif kind == "entry_for_other_key":
        data = cache.dumps({"real": 99}, key="another key", src=cache._source_hash())
    elif kind == "json":
        data = json.dumps({"real": 99}).encode()
    else:
        data = b""
    path = _plant(cdir, "plant", params, data)
    if kind == "directory":
        path.unlink()
        path.mkdir()
    compute, calls = _compute_counter({"real": 1})
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = cache.cached("plant", params, compute)
    assert out == {"real": 1} and calls == [1]
    assert not marker.exists(), "a planted file ran code"
    if kind != "directory":
        assert any(issubclass(x.category, cache.CacheWarning) for x in w)
        assert cache.loads(path) == {"real": 1}  # replaced by a valid entry


# ---- unusable cache folder -------------------------------------------------------------------
def _unusable(kind, tmp_path, monkeypatch):
    if kind == "regular_file":
        f = tmp_path / "cache_is_a_file"
        f.write_text("x")
        monkeypatch.setenv("GAMTOY_CACHE", str(f))
        return
    d = tmp_path / "cache"
    d.mkdir()
    monkeypatch.setenv("GAMTOY_CACHE", str(d))
    code = {"read_only": errno.EACCES, "full": errno.ENOSPC}[kind]
    if kind == "read_only" and os.geteuid() != 0:
        d.chmod(0o500)  # real; root ignores permissions, so there it is simulated below
        return

    class _Refuse:
        def __init__(self, *a, **k):
            raise OSError(code, os.strerror(code))
    monkeypatch.setattr(cache, "atomic_open", _Refuse)


@pytest.mark.parametrize("kind", ["regular_file", "read_only", "full"])
def test_an_unusable_cache_folder_warns_once_and_the_results_are_kept(kind, tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "_warned", set())
    _unusable(kind, tmp_path, monkeypatch)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        outs = [cache.cached(f"job{i}", {"i": i}, lambda i=i: {"v": np.arange(i + 1)})
                for i in range(4)]
    for i, o in enumerate(outs):
        np.testing.assert_array_equal(o["v"], np.arange(i + 1))
    msgs = [str(x.message) for x in w if issubclass(x.category, cache.CacheWarning)]
    assert len(msgs) == 1, msgs
    assert "unusable" in msgs[0] and "continuing without caching" in msgs[0]


def test_cache_off_never_touches_the_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("GAMTOY_CACHE", "off")
    monkeypatch.chdir(tmp_path)
    assert cache.cached("x", {}, lambda: 5) == 5
    assert list(tmp_path.iterdir()) == []


# ---- SIGINT during the main job ----------------------------------------------------------------
def _env(**extra):
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(HERE), env.get("PYTHONPATH", "")])
    env.update(extra)
    return env


HANG = 600  # seconds: a limit that only catches a hung child, never a slow machine


def _read_until(p, prefix, timeout=HANG):
    """The child's stdout lines up to the first that starts with `prefix` (or to its end);
    AssertionError if neither comes within `timeout` s (a hang)."""
    lines, q = [], queue.Queue()
    threading.Thread(target=lambda: [q.put(x) for x in p.stdout] + [q.put(None)],
                     daemon=True).start()
    deadline = time.time() + timeout
    while True:
        try:
            line = q.get(timeout=max(0.0, deadline - time.time()))
        except queue.Empty:
            raise AssertionError(
                f"no {prefix!r} from the child within {timeout} s: {lines}") from None
        if line is None:
            return lines
        lines.append(line)
        if line.startswith(prefix):
            return lines


def test_sigint_during_the_main_job_exits_cleanly_keeping_finished_files(tmp_path):
    sys.path.insert(0, str(HERE))
    import _fake_jobs
    p = subprocess.Popen([sys.executable, str(HERE / "_fake_jobs.py"), "reproduce", "--out",
                          str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=_env(FAKE_FILES="a.txt,b.txt,c.txt", FAKE_STALL="b.txt"))
    try:
        t0 = time.time()
        lines = _read_until(p, "STALLING b.txt")  # wait until b.txt is half written
        assert lines and lines[-1].startswith("STALLING"), lines
        assert (tmp_path / "a.txt").exists()
        m = json.loads((tmp_path / "manifest.json").read_text())
        assert m["complete"] is False and m["status"] == "running"
        p.send_signal(signal.SIGINT)
        t1 = time.time()
        out, err = p.communicate(timeout=HANG)  # generous: only a hang fails here
        print(f"[faults] child stalled after {t1 - t0:.1f} s, exited {time.time() - t1:.1f} s "
              f"after SIGINT")
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err
    assert (tmp_path / "a.txt").read_bytes() == _fake_jobs.content("a.txt")  # intact
    assert not (tmp_path / "b.txt").exists() and not (tmp_path / "c.txt").exists()
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]
    m = json.loads((tmp_path / "manifest.json").read_text())
    assert m["complete"] is False and m["status"] == "interrupted"
    assert [f["file"] for f in m["files"]] == []  # the job did not finish: nothing vouched for


# ---- kill -9 during an atomic write ------------------------------------------------------------
WRITER = r"""
import hashlib, importlib.util, sys
spec = importlib.util.spec_from_file_location("gio", sys.argv[1])
gio = importlib.util.module_from_spec(spec); spec.loader.exec_module(gio)
i = 0
print("ready", flush=True)
while True:
    i += 1
    body = (b"%d " % i) * 300000
    gio.write_bytes(sys.argv[2], hashlib.sha256(body).hexdigest().encode() + b"\n" + body)
"""


def _valid(path):
    data = path.read_bytes()
    head, _, body = data.partition(b"\n")
    import hashlib
    return hashlib.sha256(body).hexdigest().encode() == head


def test_kill_9_at_random_moments_of_atomic_writes_leaves_a_whole_file(tmp_path):
    from gamtoy import _io
    target = tmp_path / "result.bin"
    digest = __import__("hashlib").sha256(b"first").hexdigest().encode()
    _io.write_bytes(target, b"%s\nfirst" % digest)
    rng = np.random.default_rng(11)
    for _ in range(8):
        p = subprocess.Popen([sys.executable, "-c", WRITER, str(ROOT / "gamtoy" / "_io.py"),
                              str(target)], stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline().strip() == "ready"
        time.sleep(float(rng.uniform(0.0, 0.4)))
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
        p.stdout.close()
        assert _valid(target), "a kill -9 left a torn file"
    stale = _io.remove_stale_temporaries(tmp_path)
    assert all(f.endswith(".tmp") for f in stale)
    assert os.listdir(tmp_path) == ["result.bin"]


def test_an_atomic_write_that_fails_midway_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    from gamtoy import _io
    target = tmp_path / "fig.png"
    _io.write_bytes(target, b"old")
    with pytest.raises(RuntimeError):
        with _io.atomic_open(target, "wb") as fh:
            fh.write(b"half of the new")
            raise RuntimeError("the figure failed")
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["fig.png"]


def test_atomic_writes_give_normal_permissions_not_mkstemps_0600(tmp_path):
    from gamtoy import _io
    mask = os.umask(0o022)
    os.umask(mask)
    new = _io.write_text(tmp_path / "new.txt", "x")
    assert os.stat(new).st_mode & 0o777 == 0o666 & ~mask
    old = tmp_path / "old.txt"
    old.write_text("x")
    old.chmod(0o640)
    _io.write_text(old, "y")
    assert os.stat(old).st_mode & 0o777 == 0o640


def test_large_array_parameters_that_differ_in_the_middle_get_different_entries(cdir):
    a = np.zeros(5000)
    b = a.copy()
    b[2500] = 1.0  # str() of both is the same "[0. 0. 0. ... 0. 0. 0.]"
    assert str(a) == str(b)
    assert cache.cached("arr", {"x": a}, lambda: 1) == 1
    assert cache.cached("arr", {"x": b}, lambda: 2) == 2
    assert cache.cached("arr", {"x": a.copy()}, lambda: 3) == 1
