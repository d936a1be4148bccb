"""Shared checking for the try-it exercises: say *what* is wrong, not only "wrong"."""
import numpy as np


class ExerciseError(AssertionError):
    """Raised by a checker; its message says what is wrong and how to look for it."""


def _fail(msg):
    raise ExerciseError(msg)


def compare(name, got, want, rtol=1e-6, atol=1e-9):
    """Compare a student's array with the reference; diagnose shape, NaN, sign, scale, direction."""
    got = np.asarray(got, dtype=float)
    want = np.asarray(want, dtype=float)
    if got.shape != want.shape:
        _fail(f"{name}: shape {got.shape}, expected {want.shape}.")
    if not np.all(np.isfinite(got)):
        _fail(f"{name}: contains NaN or inf; did you divide by |g| without + xi?")
    if np.allclose(got, want, rtol=rtol, atol=atol):
        return True
    if np.allclose(got, -want, rtol=rtol, atol=atol):
        _fail(f"{name}: right size, wrong sign (you have -{name}).")
    ng, nw = np.linalg.norm(got), np.linalg.norm(want)
    if ng > 0 and nw > 0:
        cos = float(np.sum(got * want) / (ng * nw))
        if cos > 1 - 1e-8:
            _fail(f"{name}: right direction, wrong length ({ng:.4g} instead of {nw:.4g}).")
        _fail(f"{name}: off: |got| = {ng:.4g}, |expected| = {nw:.4g}, cos(angle) = {cos:.4f}.")
    _fail(f"{name}: {got!r} instead of {want!r}.")


def passed(name):
    """The message a checker returns on success."""
    return f"{name}: correct."


def call(name, fn, *args):
    """Run the student's function; an exception becomes an ExerciseError naming the case."""
    try:
        return fn(*args)
    except ExerciseError:
        raise
    except Exception as e:  # the student's error, shown with what it was called with
        raise ExerciseError(f"{name}: your function raised {type(e).__name__}: {e}.") from e


def match(name, got, want, hints=(), rtol=1e-6, atol=1e-9, hint_rtol=1e-4):
    """Like `compare`, but first recognise known wrong answers: `hints` is a sequence of
    (wrong value, message); a `got` equal to one of them (within `hint_rtol`) fails with its
    message."""
    g = np.asarray(got, dtype=float)
    w = np.asarray(want, dtype=float)
    if g.shape == w.shape and np.all(np.isfinite(g)) and not np.allclose(g, w, rtol=rtol,
                                                                         atol=atol):
        for wrong, msg in hints:
            wrong = np.asarray(wrong, dtype=float)
            if wrong.shape == g.shape and np.allclose(g, wrong, rtol=max(rtol, hint_rtol),
                                                      atol=atol):
                _fail(f"{name}: {msg}")
    return compare(name, g, w, rtol=rtol, atol=atol)


def scalar(name, got):
    """The student's answer as one float, or a message saying it is not one number."""
    a = np.asarray(got, dtype=float)
    if a.shape not in ((), (1,)):
        _fail(f"{name}: return one number (a float), got shape {a.shape}.")
    return float(a.reshape(()))


class StudentError(ExerciseError):
    """The student's own function raised: named, with its message, instead of a raw traceback."""


def _guarded(fn):
    """`fn` with every exception it raises (not an ExerciseError) turned into a StudentError."""
    if not callable(fn) or isinstance(fn, type):
        return fn

    def guarded(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ExerciseError:
            raise
        except Exception as e:
            raise StudentError(f"your function raised {type(e).__name__}: {e}") from e
    return guarded


def tiered(checker):
    """A checker that names the student's own exception (StudentError) and adds one tiered hint
    per wrong try (`hints.HINTS`: a nudge, then a hint, the formula last)."""
    import functools

    from .hints import next_hint

    @functools.wraps(checker)
    def wrapper(fn, *args, **kwargs):
        try:
            return checker(_guarded(fn), *args, **kwargs)
        except StudentError as e:
            raise StudentError(f"{checker.__name__}: {e} (fix the error first; "
                               f"the traceback is in err.__cause__)") from e.__cause__
        except ExerciseError as e:
            hint = next_hint(checker.__name__)
            raise ExerciseError(f"{e}\n{hint}" if hint else str(e)) from None
    wrapper.checker = checker
    return wrapper


def tier_all(namespace, names):
    """Wrap the checkers `names` of a module's namespace with `tiered` (in place)."""
    for n in names:
        if not getattr(namespace[n], "checker", None):
            namespace[n] = tiered(namespace[n])
