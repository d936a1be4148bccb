"""Small matrices run fastest on one BLAS thread: a multi-threaded BLAS on a shared 2-core machine
made a 64-32-10 MLP step 50x slower. `one_thread()` limits BLAS to one thread inside (threadpoolctl,
a scikit-learn dependency; a no-op without it)."""
import contextlib

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover
    threadpool_limits = None


def one_thread():
    if threadpool_limits is None:  # pragma: no cover
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")
