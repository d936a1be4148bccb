"""Atomic writes: a temporary file in the same folder, flushed (fsync) and renamed into place.

A kill at any moment leaves either the old file or the new one, never a torn one.
"""
import contextlib
import os
import tempfile


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _umask()


def _mode_for(path):
    """The permissions the new file gets: the old file's, or the default of a new one (mkstemp's
    0600 would make every figure unreadable to anyone else)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        return 0o666 & ~_UMASK


def _fsync_dir(folder):
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# callables path -> None, told of every file written through this module (the CLI's progress)
listeners = []


def _tell(path):
    for fn in list(listeners):
        with contextlib.suppress(Exception):
            fn(path)


@contextlib.contextmanager
def atomic_open(path, mode="wb"):
    """`with atomic_open(path, "w") as fh: ...` writes `path` atomically (binary by default)."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, mode) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(OSError):
            os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(folder)
    _tell(path)


def write_bytes(path, data):
    with atomic_open(path, "wb") as fh:
        fh.write(data)
    return path


def write_text(path, text):
    with atomic_open(path, "w") as fh:
        fh.write(text)
    return path


def savefig(fig, path, **kw):
    """fig.savefig to `path` atomically (the format from the extension)."""
    fmt = os.path.splitext(path)[1].lstrip(".") or "png"
    with atomic_open(path, "wb") as fh:
        fig.savefig(fh, format=fmt, **kw)
    return path


def remove_stale_temporaries(folder):
    """Delete temporary files an interrupted atomic write left in `folder`; returns their names."""
    gone = []
    try:
        names = os.listdir(folder)
    except OSError:
        return gone
    for f in names:
        if f.startswith(".") and f.endswith(".tmp"):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(folder, f))
                gone.append(f)
    return gone
