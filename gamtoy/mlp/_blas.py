"""Small matrices run fastest on one BLAS thread: on a small MLP, a multi-threaded BLAS spends
more on waking and syncing its threads than on the products. `one_thread()` limits BLAS to one
thread inside (threadpoolctl, a scikit-learn dependency; a no-op without it)."""
import contextlib

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover
    threadpool_limits = None


def one_thread():
    if threadpool_limits is None:  # pragma: no cover
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")
