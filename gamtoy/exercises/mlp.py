"""Exercises for notebook 04 (the MLP lab): each `check_*` runs a student's function on cases
with known answers (autograd of the full loss, exact references) and says what is wrong."""
import autograd
import autograd.numpy as anp
import numpy as np

from ._check import _fail, compare, passed, tier_all

__all__ = ["check_hvp", "check_normgrad", "check_paired_verdict", "check_mlp_surrogate_gap",
           "check_mixed_cost"]


def _cases():
    """(model, theta, X, y) with tanh / ReLU and a non-zero weight decay (wd = 0.013)."""
    from ..mlp import Model
    out = []
    for act, wd, seed in (("tanh", 0.013, 0), ("relu", 0.0, 1), ("tanh", 0.0, 2)):
        m = Model((2, 5, 4, 3), act, wd)
        rng = np.random.default_rng(seed)
        X, y = rng.normal(size=(20, 2)), rng.integers(0, 3, 20)
        out.append((m, m.init(seed) + 0.1 * rng.normal(size=m.n), X, y))
    return out


def _full_hessian(m, th, X, y):
    return autograd.hessian(lambda t: m.loss_autograd(t, X, y))(th)


def check_hvp(fn):
    """fn(model, theta, v, X, y) -> H v, the exact Hessian-vector product of the full loss
    (cross-entropy + (wd/2)|theta|^2), e.g. by the R-operator or autograd (notebook 04, Sec. 1)."""
    for m, th, X, y in _cases():
        v = np.random.default_rng(7).normal(size=m.n)
        H = _full_hessian(m, th, X, y)
        want = H @ v
        got = np.asarray(fn(m, th.copy(), v.copy(), X, y), float)
        if got.shape == want.shape and m.wd and np.allclose(got + m.wd * v, want, rtol=1e-6,
                                                            atol=1e-9):
            _fail(f"check_hvp: off by -wd * v on {m}: the weight-decay term wd * v is missing.")
        if got.shape == want.shape and not np.allclose(got, want, rtol=1e-6, atol=1e-9) and \
                np.allclose(got, want, rtol=1e-2, atol=1e-4):
            _fail(f"check_hvp: close but not exact on {m} (max error "
                  f"{np.abs(got - want).max():.1e}): a finite difference? GAM Eq. 8 needs the "
                  f"exact product (R-operator or autograd).")
        compare(f"H v on {m}", got, want)
    return passed("check_hvp")


def check_normgrad(fn):
    """fn(model, theta, X, y) -> grad |grad L| = H g/|g| (GAM Eq. 8) of the full loss, wd
    included."""
    for m, th, X, y in _cases():

        def gnorm(t, m=m, X=X, y=y):
            return anp.sqrt(anp.sum(autograd.grad(m.loss_autograd)(t, X, y) ** 2))

        want = autograd.grad(gnorm)(th)
        got = np.asarray(fn(m, th.copy(), X, y), float)
        g = autograd.grad(m.loss_autograd)(th, X, y)
        if got.shape == want.shape and m.wd and np.allclose(
                got + m.wd * g / np.linalg.norm(g), want, rtol=1e-6, atol=1e-9):
            _fail(f"check_normgrad: off by -wd g/|g| on {m}: H includes wd * I, so H g/|g| has a "
                  f"term wd * g/|g|.")
        if got.shape == want.shape and np.allclose(got, want * np.linalg.norm(g), rtol=1e-6,
                                                   atol=1e-9):
            _fail("check_normgrad: that is H g; divide by |g| (GAM Eq. 8).")
        compare(f"grad |grad L| on {m}", got, want)
    return passed("check_normgrad")


def check_paired_verdict(fn):
    """fn(a, b, expected_sign) -> 'reproduces' | 'contradicts' | 'inconclusive' from a 95%
    interval of mean(a - b) over seeds (a, b: one number per seed, paired). The package uses the
    Student t interval (`stats.paired`); a bootstrap interval passes these clear-cut cases too."""
    rng = np.random.default_rng(3)
    base = rng.normal(0.8, 0.05, 10)  # seed-to-seed spread much larger than the effect
    cases = [  # (a, b, sign, want, hint)
        (base + 0.01 + rng.normal(0, 0.001, 10), base, +1, "reproduces",
         "the seeds' spread (std 0.05) hides a consistent paired gain of 0.01: compare a - b per "
         "seed, not mean(a) against mean(b) with their stds"),
        (base + 0.01 + rng.normal(0, 0.001, 10), base, -1, "contradicts",
         "the interval lies on the other side of 0 from the paper's sign"),
        (base + rng.normal(0, 0.01, 10), base, +1, "inconclusive",
         "the interval of mean(a - b) covers 0"),
        (base - 0.02 + rng.normal(0, 0.001, 10), base, -1, "reproduces",
         "expected_sign = -1 means the paper says a < b"),
    ]
    for a, b, sign, want, hint in cases:
        got = fn(a.copy(), b.copy(), sign)
        if got not in ("reproduces", "contradicts", "inconclusive"):
            _fail(f"check_paired_verdict: return one of 'reproduces', 'contradicts', "
                  f"'inconclusive', got {got!r}.")
        if got != want:
            _fail(f"check_paired_verdict: {got!r} where {want!r} was expected "
                  f"(expected_sign={sign}, mean(a - b) = {np.mean(a - b):.4f}): {hint}.")
    return passed("check_paired_verdict")


def check_mlp_surrogate_gap(fn):
    """fn(value, grad, w, rho) -> h = L(w + rho g/|g|) - L(w), GSAM Eq. 4 (value, grad:
    callables)."""
    from ..mlp import FullBatchOracle
    for m, th, X, y in _cases():
        o = FullBatchOracle(m, X, y)
        for rho in (0.05, 0.3):
            g = o.grad(th)
            want = o.value(th + rho * g / np.linalg.norm(g)) - o.value(th)
            got = float(fn(o.value, o.grad, th.copy(), rho))
            if np.isclose(got, -want, rtol=1e-6):
                _fail("check_mlp_surrogate_gap: wrong sign: h = L(w_adv) - L(w), w_adv uphill.")
            if np.isclose(got, o.value(th + rho * g) - o.value(th), rtol=1e-6) and \
                    not np.isclose(got, want, rtol=1e-6):
                _fail("check_mlp_surrogate_gap: normalise the gradient: w_adv = w + rho g/|g|.")
            compare(f"h at rho={rho} on {m}", got, want)
    return passed("check_mlp_surrogate_gap")


def check_mixed_cost(fn):
    """fn(fraction, cost_base, cost_gam) -> gradient-sized passes per step relative to the base
    optimizer alone when GAM runs on `fraction` of the steps (GAM Table 7; sgd 1, sam 2, gam 4,
    sam+gam 5 passes per step)."""
    for fr, cb, cg in ((0.0, 1, 4), (0.1, 1, 4), (0.5, 2, 5), (1.0, 2, 5), (0.05, 1, 4)):
        want = ((1 - fr) * cb + fr * cg) / cb
        got = float(fn(fr, cb, cg))
        if np.isclose(got, want):
            continue
        if np.isclose(got, (1 - fr) * cb + fr * cg):
            _fail("check_mixed_cost: that is passes per step; divide by the base's cost.")
        if np.isclose(got, fr * cg / cb):
            _fail("check_mixed_cost: the other (1 - fraction) steps cost the base optimizer's "
                  "passes too.")
        compare(f"cost ratio at fraction {fr} (base {cb}, GAM {cg})", got, want)
    return passed("check_mixed_cost")



tier_all(globals(), __all__)  # tiered hints; the student's own exception named
