"""Results cached on disk by their parameters: `<GAMTOY_CACHE or .gamtoy_cache>/<name>-<hash>.npz`.

GAMTOY_CACHE=off disables the cache. No pickle: an entry is a NumPy `.npz` read with
`allow_pickle=False`, holding the result's arrays, a JSON description of the structure around them
(dicts, lists, tuples, Python and NumPy scalars, strings, None), the full key, a hash of the package
source and a SHA-256 checksum of all of it, followed by a SHA-256 of the file's every byte.
Reading one therefore cannot run code, and an entry that is damaged, truncated, planted, or made
for another key or another version of the code is recomputed (with a warning), never returned.
The key holds a hash of the source of `gamtoy.mlp`, `gamtoy.optim` and `gamtoy.vec`, so editing
the code that made a result never returns the stale one.

Entries are written atomically (`gamtoy._io`). A folder that cannot be used (a regular file,
read-only, a full disk) gives one warning and the computation goes on without caching: a result is
never thrown away.
"""
import hashlib
import io
import json
import os
import re
import warnings

import numpy as np

from .._io import atomic_open

VERSION = 2
FORMAT = "gamtoy-cache"
_TRAILER = b"\nGAMTOY-CACHE-SHA256:"  # then the hex SHA-256 of every byte before it
_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_warned = set()  # folders (and reasons) already warned about in this process


class CacheWarning(UserWarning):
    """The cache could not be used (the result is computed, and returned, all the same)."""


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


def _warn_once(tag, msg):
    if tag not in _warned:
        _warned.add(tag)
        warnings.warn(msg, CacheWarning, stacklevel=3)


# ---- plain-data encoding ------------------------------------------------------------------------
class _Unsupported(TypeError):
    pass


def _encode(obj, arrays):
    """obj as JSON-able data; arrays (and NumPy scalars) go to `arrays`, referenced by index."""
    if obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, (np.ndarray, np.generic)):
        a = np.asarray(obj)
        if a.dtype.hasobject:
            raise _Unsupported(f"an array of dtype object ({a.shape})")
        arrays.append(a)
        return {"A" if isinstance(obj, np.ndarray) else "S": len(arrays) - 1}
    if isinstance(obj, bool):
        return obj
    if isinstance(obj, int):
        return {"i": str(obj)}  # any size; never confused with a bool or a float
    if isinstance(obj, float):
        return {"f": obj.hex()}  # exact, NaN and inf included
    if isinstance(obj, (list, tuple)):
        return {"L" if isinstance(obj, list) else "T": [_encode(v, arrays) for v in obj]}
    if isinstance(obj, dict):
        return {"D": [[_encode(k, arrays), _encode(v, arrays)] for k, v in obj.items()]}
    raise _Unsupported(f"a {type(obj).__name__}")


def _decode(node, arrays):
    if node is None or isinstance(node, (str, bool)):
        return node
    if not (isinstance(node, dict) and len(node) == 1):
        raise ValueError(f"bad node {node!r:.60}")
    (tag, v), = node.items()
    if tag == "A":
        return arrays[v]
    if tag == "S":
        a = arrays[v]
        if a.ndim != 0:
            raise ValueError("a scalar stored as an array")
        return a[()]
    if tag == "i":
        return int(v)
    if tag == "f":
        return float.fromhex(v)
    if tag == "L":
        return [_decode(x, arrays) for x in v]
    if tag == "T":
        return tuple(_decode(x, arrays) for x in v)
    if tag == "D":
        return {_decode(k, arrays): _decode(x, arrays) for k, x in v}
    raise ValueError(f"unknown tag {tag!r}")


def _checksum(meta, arrays):
    h = hashlib.sha256(meta)
    for a in arrays:
        h.update(f"|{a.dtype.str}|{a.shape}|".encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def dumps(obj, key="", src=""):
    """The bytes of a cache entry for `obj` (a `.npz`); `_Unsupported` if obj is not plain data."""
    arrays = []
    tree = _encode(obj, arrays)
    meta = json.dumps({"format": FORMAT, "version": VERSION, "key": key, "src": src,
                       "n": len(arrays), "tree": tree}, sort_keys=True).encode()
    members = {f"a{i}": a for i, a in enumerate(arrays)}
    members["meta"] = np.frombuffer(meta, np.uint8)
    members["sha256"] = np.frombuffer(_checksum(meta, arrays).encode(), np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **members)
    body = buf.getvalue()
    return body + _TRAILER + hashlib.sha256(body).hexdigest().encode()


def loads(path, key=None, src=None):
    """The result stored in the entry at `path`; ValueError (or another Exception) if it is not a
    valid entry for `key` and `src` (None: any)."""
    with open(path, "rb") as fh:
        data = fh.read()
    n_tail = len(_TRAILER) + 64
    body, tail = data[:-n_tail], data[-n_tail:]
    if len(data) < n_tail or tail[:len(_TRAILER)] != _TRAILER or (
            tail[len(_TRAILER):] != hashlib.sha256(body).hexdigest().encode()):
        raise ValueError("the file's SHA-256 trailer is missing or does not match")
    with np.load(io.BytesIO(body), allow_pickle=False) as z:
        if not isinstance(z, np.lib.npyio.NpzFile):
            raise ValueError("not an .npz archive")
        names = set(z.files)
        meta = bytes(z["meta"]) if "meta" in names else b""
        info = json.loads(meta.decode())
        n = int(info["n"])
        if names != {"meta", "sha256"} | {f"a{i}" for i in range(n)}:
            raise ValueError(f"unexpected members {sorted(names)[:8]}")
        arrays = [z[f"a{i}"] for i in range(n)]
        stored = bytes(z["sha256"]).decode("ascii", "replace")
    if stored != _checksum(meta, arrays):
        raise ValueError("checksum mismatch")
    if info.get("format") != FORMAT or info.get("version") != VERSION:
        raise ValueError(f"format {info.get('format')!r} version {info.get('version')!r}")
    if key is not None and info.get("key") != key:
        raise ValueError("made for another key")
    if src is not None and info.get("src") != src:
        raise ValueError("made by another version of the code")
    return _decode(info["tree"], arrays)


def _key_part(v):
    """JSON for what json cannot write itself: a NumPy array by its dtype, shape and a hash of
    every element (str() would elide the middle of a large one: two arrays, one key)."""
    if isinstance(v, np.ndarray):
        a = np.ascontiguousarray(v)
        if a.dtype.hasobject:
            return {"object array": [_key_part(x) if not isinstance(x, (int, float, str))
                                     else x for x in a.ravel().tolist()], "shape": a.shape}
        return {"array": a.dtype.str, "shape": a.shape,
                "sha256": hashlib.sha256(a.tobytes()).hexdigest()}
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (set, frozenset)):
        return sorted(map(repr, v))
    return repr(v)


def cached(name, params, compute, use_cache=True):
    """compute() once per (name, params); later calls read the entry back (no pickle, checked)."""
    d = cache_dir()
    if not use_cache or d.lower() in ("off", "0", "none", ""):
        return compute()
    if not re.fullmatch(r"[A-Za-z0-9_.+-]+", str(name)):
        raise ValueError(f"cache name must be letters, digits, '_', '.', '+' or '-', got {name!r}")
    src = _source_hash()
    key = json.dumps({"v": VERSION, "src": src, "name": name, **params}, sort_keys=True,
                     default=_key_part)
    path = os.path.join(d, f"{name}-{hashlib.sha1(key.encode()).hexdigest()[:16]}.npz")
    if os.path.isfile(path):
        try:
            return loads(path, key, src)
        except Exception as e:  # damaged, truncated, planted, stale: recompute, never return it
            warnings.warn(f"cache entry {path} is unusable ({type(e).__name__}: {e}); "
                          f"recomputing", CacheWarning, stacklevel=2)
    out = compute()
    try:
        data = dumps(out, key, src)
    except _Unsupported as e:
        _warn_once(("type", name), f"result of {name!r} not cached: it holds {e} (the cache "
                   f"stores arrays, numbers, strings, None, dicts, lists and tuples)")
        return out
    try:
        os.makedirs(d, exist_ok=True)
        with atomic_open(path, "wb") as fh:
            fh.write(data)
    except OSError as e:
        _warn_once(("dir", os.path.abspath(d)), f"cache folder {d!r} is unusable "
                   f"({type(e).__name__}: {e}); continuing without caching (set GAMTOY_CACHE to "
                   f"a writable folder, or GAMTOY_CACHE=off)")
    return out
