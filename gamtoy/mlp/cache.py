"""Results cached on disk by their parameters: `<GAMTOY_CACHE or ./.gamtoy_cache>/<name>-<hash>.pkl`.

GAMTOY_CACHE=off disables the cache. The key holds a hash of the source of `gamtoy.mlp` and
`gamtoy.optim`, so editing the code that made a result never returns the stale one.
"""
import hashlib
import json
import os
import pickle

VERSION = 1
_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _source_hash():
    """A hash of the .py files whose change would change a cached result."""
    h = hashlib.sha1()
    for sub in ("mlp", "optim"):
        folder = os.path.join(_PKG, sub)
        for f in sorted(os.listdir(folder)):
            if f.endswith(".py"):
                with open(os.path.join(folder, f), "rb") as fh:
                    h.update(fh.read())
    with open(os.path.join(_PKG, "vec.py"), "rb") as fh:
        h.update(fh.read())
    return h.hexdigest()[:12]


def cache_dir():
    return os.environ.get("GAMTOY_CACHE", os.path.join(os.getcwd(), ".gamtoy_cache"))


def cached(name, params, compute, use_cache=True):
    """compute() once per (name, params); later calls read the pickle."""
    d = cache_dir()
    if not use_cache or d.lower() in ("off", "0", "none", ""):
        return compute()
    key = json.dumps({"v": VERSION, "src": _source_hash(), "name": name, **params}, sort_keys=True, default=str)
    path = os.path.join(d, f"{name}-{hashlib.sha1(key.encode()).hexdigest()[:16]}.pkl")
    if os.path.exists(path):
        try:
            with open(path, "rb") as fh:
                return pickle.load(fh)
        except (OSError, EOFError, pickle.UnpicklingError):
            pass  # a corrupt entry is recomputed
    out = compute()
    os.makedirs(d, exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as fh:
        pickle.dump(out, fh)
    os.replace(tmp, path)
    return out
