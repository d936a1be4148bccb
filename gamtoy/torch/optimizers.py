"""SAM, GNP, GSAM, GAM (Alg. 1), GAMAccel (Alg. 2), SAM+GAM, GSAM+GAM as torch optimizers.

    opt = GAM(model.parameters(), torch.optim.SGD, rho=0.1, alpha=0.3, lr=0.1, momentum=0.9)
    loss = opt.step(lambda: loss_fn(model(x), y))     # no backward() in the closure

Each estimator computes a direction d exactly as `gamtoy.optim.estimators` (tested equal) and
writes it into p.grad; the base optimizer then steps. Keyword arguments that are not the
estimator's go to the base optimizer. `weight_decay` (unless the base is AdamW, whose decay is
decoupled) is applied by the estimator as an L2 term at every evaluated point: each gradient is
grad L(w) + wd w and each HVP (H + wd I) v (param-group key `l2`).
"""
import math
from collections.abc import Mapping

import torch

from ..optim import DEFAULTS
from .core import (XI, Evaluator, _number, _Overflow, check_devices, check_nonneg, laxpy_,
                   fast_cpu, lnorm, lnorm_dot, lnorm_dot_num, lnorm_num)


class Diagnostics(Mapping):
    """A step's diagnostics (0-d tensors by name), computed when first read.

    The norms and dot products behind them cost passes over parameter-sized vectors; a step
    whose diagnostics nobody reads does not pay for them. Until read (or until the next step
    replaces them) they keep the gradients they are computed from; reading them after those
    gradients were modified in place (e.g. `zero_grad(set_to_none=False)`) is an error.
    """

    def __init__(self, compute, watch=()):
        self._compute, self._watch = compute, list(watch)
        self._versions = [t._version for t in self._watch]
        self._values, self._extra = None, {}

    def __setitem__(self, key, value):
        if self._values is None:
            self._extra[key] = value
        else:
            self._values[key] = value

    def _resolve(self):
        if self._values is None:
            if any(t._version != v for t, v in zip(self._watch, self._versions)):
                raise RuntimeError("the gradients behind these diagnostics were modified in place "
                                   "after the step; read opt.diagnostics before modifying p.grad")
            with torch.no_grad():
                values = dict(self._compute())
            values.update(self._extra)
            self._values, self._compute, self._watch, self._extra = values, None, None, None
        return self._values

    def __getitem__(self, key):
        return self._resolve()[key]

    def __iter__(self):
        return iter(self._resolve())

    def __len__(self):
        return len(self._resolve())

    def __repr__(self):
        return f"Diagnostics({self._resolve()!r})"


class FlatnessOptimizer(torch.optim.Optimizer):
    """Base: an estimator (direction) + a torch base optimizer (step)."""

    name = "sgd"
    _radii = ()  # the hyper-parameters that must all be 0 for "exactly the base optimizer"

    def __init__(self, params, base_optimizer=torch.optim.SGD, *, xi=XI, model=None,
                 distributed=True, process_group=None, **kwargs):
        own = {k: kwargs.pop(k, v) for k, v in DEFAULTS[self.name][0].items()}
        for k, v in own.items():
            if k != "variant":
                check_nonneg(k, v)
        if own.get("variant", "paper") not in ("paper", "official"):
            raise ValueError(f"unknown variant {own['variant']!r}; valid: paper, official")
        for k in ("alpha", "beta"):
            if self.name == "gam_accel" and own[k] > 1:
                raise ValueError(f"GAMAccel needs 0 <= {k} <= 1 (GAM Eq. 44), got {own[k]}")
        check_nonneg("xi", xi)
        super().__init__(params, own)
        check_devices(self.param_groups)
        self.xi, self.model = float(xi), model
        self.distributed, self.process_group = distributed, process_group
        decoupled = isinstance(base_optimizer, type) and issubclass(base_optimizer, torch.optim.AdamW)
        self.base_optimizer = base_optimizer(self.param_groups, **kwargs)
        self.param_groups = self.base_optimizer.param_groups
        self.defaults.update(self.base_optimizer.defaults)
        for g in self.param_groups:
            if "l2" not in g:
                g["l2"] = 0.0 if decoupled else float(g.get("weight_decay", 0.0) or 0.0)
                if not decoupled and "weight_decay" in g:
                    g["weight_decay"] = 0.0
            check_nonneg("weight_decay", g["l2"])
        self.diagnostics = {}
        self.skipped = 0

    def hyper(self, key):
        """A hyper-parameter of the estimator (read from the first param group; norms are global)."""
        return self.param_groups[0][key]

    def direction(self, ev, diag):
        """The estimator: (loss at theta, d, diagnostics)."""
        loss, g = ev.grads()
        return loss, g, Diagnostics(lambda: {"grad_norm": lnorm(g)}, g)

    def _is_base(self):
        return all(self.hyper(k) in (0, None) for k in self._radii) and self._radii

    @torch.no_grad()
    def step(self, closure=None, accumulate=1, scaler=None, diag=True):
        """One step; `closure()` (or `closure(i)` for micro-batch i < accumulate) returns the loss.

        Returns the loss at the starting point (averaged over micro-batches and ranks).
        `scaler`: a torch.amp.GradScaler; its scale multiplies every loss, the derivatives are
        unscaled and a non-finite one skips the step and backs the scale off.
        """
        if closure is None:
            raise ValueError(f"{type(self).__name__}.step needs a closure that recomputes and returns"
                             " the loss (without calling backward())")
        self.diagnostics = {}  # releases the tensors the last step's diagnostics would read
        ev = Evaluator(self, closure, accumulate, scaler)
        try:
            if self._is_base():
                loss, d, info = FlatnessOptimizer.direction(self, ev, diag)
            else:
                loss, d, info = self.direction(ev, diag)
        except _Overflow:
            self.skipped += 1
            self._scaler_update(scaler, found_inf=True)
            return None
        finally:
            ev.finish()
        for p, dp in zip(ev.params, d):  # d: a parameter list
            p.grad = dp if dp.dtype == p.dtype else dp.to(p.dtype)
        self.base_optimizer.step()
        self._scaler_update(scaler, found_inf=False)
        info["loss"] = loss
        self.diagnostics = info
        return loss

    def _scaler_update(self, scaler, found_inf):
        """GradScaler's own rule (back off on inf, grow after growth_interval clean steps)."""
        if scaler is None or not scaler.is_enabled():
            return
        s = float(scaler.get_scale())
        if found_inf:
            self._clean = 0
            scaler.update(s * scaler.get_backoff_factor())
            return
        self._clean = getattr(self, "_clean", 0) + 1
        if self._clean >= scaler.get_growth_interval():
            self._clean = 0
            scaler.update(s * scaler.get_growth_factor())

    def state_dict(self):
        sd = super().state_dict()
        sd["base"] = self.base_optimizer.state_dict()
        return sd

    def load_state_dict(self, state_dict):
        state_dict = dict(state_dict)
        base = state_dict.pop("base")
        super().load_state_dict(state_dict)
        self.base_optimizer.load_state_dict(base)
        self.param_groups = self.base_optimizer.param_groups


def _sam_diag(loss, loss_adv, g_norm, g_p_norm, g_dot, rho, xi):
    """SAM-family diagnostics from norms and the dot product already computed (no extra pass)."""
    return {"grad_norm": g_norm, "grad_norm_p": g_p_norm, "h": loss_adv - loss,
            "cos": g_dot / (g_norm * g_p_norm + xi), "r1": g_p_norm * rho}


def _tensors(like, *xs):
    """Numbers as 0-d tensors like `like` (diagnostics are tensors whatever the device)."""
    return [x if isinstance(x, torch.Tensor)
            else torch.tensor(x, dtype=like.dtype, device=like.device) for x in xs]


def _remove_perp(h, v, alpha, xi, h_norm=None, dot=None):
    """h - alpha v_perp in place on h, v_perp = part of v orthogonal to h (GSAM Alg. 1 step 3).

    v_perp = v - h <v, h>/(|h|+xi)^2, so h - alpha v_perp = h (1 + alpha c) - alpha v.
    """
    if h_norm is None or dot is None:
        h_norm, dot = lnorm_dot_num(h, v)
    c = _number(1 + alpha * dot / (h_norm + xi) ** 2)
    if isinstance(c, torch.Tensor):
        torch._foreach_mul_(h, c)
        torch._foreach_add_(h, v, alpha=-alpha)
    else:  # per parameter: the add reads h while the multiply left it in cache
        for x, y in zip(h, v):
            x.mul_(c).add_(y, alpha=-alpha)
    return h


def _lazy_sam_diag(loss, loss_adv, g, g_p, n, rho, xi, n_p=None):
    """SAM-family diagnostics read later from g and g_p (kept, unmodified, until then)."""
    def compute():
        norm_p, dot = lnorm_dot(g_p, g)
        n_, norm_p = _tensors(g[0], n, norm_p if n_p is None else n_p)
        return _sam_diag(loss, loss_adv, n_, norm_p, dot, rho, xi)
    return Diagnostics(compute, list(g) + list(g_p))


def _ascent(ev, rho, xi):
    """(loss, g, |g|, loss_p, g_p, |g_p|, <g, g_p>): g at theta, g_p at theta + rho g/(|g|+xi)."""
    loss, g = ev.grads()
    n = lnorm_num(g)
    loss_p, g_p = ev.grads(g, rho / (n + xi))
    n_p, dot = lnorm_dot_num(g_p, g)
    return loss, g, n, loss_p, g_p, n_p, dot


class SAM(FlatnessOptimizer):
    """SAM Eq. (3) (GSAM Eq. 2-3): d = grad L(w + rho g/(|g|+xi))."""

    name, _radii = "sam", ("rho",)

    def direction(self, ev, diag):
        rho, xi = self.hyper("rho"), self.xi
        loss, g = ev.grads()
        n = lnorm_num(g)
        loss_adv, g_p = ev.grads(g, rho / (n + xi))
        return loss, g_p, _lazy_sam_diag(loss, loss_adv, g, g_p, n, rho, xi)


class GNP(FlatnessOptimizer):
    """GNP Alg. 1 lines 4-7: d = (1-alpha) g(w) + alpha g(w + rho g/(|g|+xi)).

    variant="official": g_p normalised to unit length before mixing and d clipped at norm 5.
    """

    name, _radii = "gnp", ("rho",)

    def direction(self, ev, diag):
        rho, alpha, xi = self.hyper("rho"), self.hyper("alpha"), self.xi
        loss, g = ev.grads()
        n = lnorm_num(g)
        loss_adv, g_p = ev.grads(g, rho / (n + xi))
        if self.hyper("variant") == "official":
            n_p = lnorm(g_p)
            d = torch._foreach_mul(g, 1 - alpha)
            laxpy_(d, g_p, alpha / (n_p + xi))
            torch._foreach_mul_(d, torch.clamp(5.0 / (lnorm(d) + 1e-6), max=1.0))
            return loss, d, _lazy_sam_diag(loss, loss_adv, g, g_p, n, rho, xi, n_p)
        d = torch._foreach_lerp(g, g_p, alpha)  # (1 - alpha) g + alpha g_p in one pass
        return loss, d, _lazy_sam_diag(loss, loss_adv, g, g_p, n, rho, xi)


class GSAM(FlatnessOptimizer):
    """GSAM Alg. 1 steps 1-4: d = g_p - alpha g_perp, g_perp = part of g orthogonal to g_p."""

    name, _radii = "gsam", ("rho",)

    def direction(self, ev, diag):
        rho, alpha, xi = self.hyper("rho"), self.hyper("alpha"), self.xi
        loss, g, n, loss_adv, g_p, n_p, dot = _ascent(ev, rho, xi)
        like = torch.empty((), dtype=g[0].dtype, device=g[0].device)  # not g: freed after the step
        info = Diagnostics(lambda: _sam_diag(loss, loss_adv, *_tensors(like, n, n_p, dot), rho, xi))
        return loss, _remove_perp(g_p, g, alpha, xi, n_p, dot), info


class GAM(FlatnessOptimizer):
    """GAM Alg. 1 lines 5-10 (Eq. 7-8): d = h_loss + alpha rho H(theta_adv) g_adv/(|g_adv|+xi).

    f = H g/(|g|+xi), theta_adv = theta + rho f/(|f|+xi); exact HVPs by double backward.
    h_loss = grad L(theta), or SAM's / GSAM's direction with oracle="sam" / "gsam"
    (radius rho_sam, default rho; GSAM's alpha_gsam).
    """

    name, _radii = "gam", ("rho",)

    def __init__(self, params, base_optimizer=torch.optim.SGD, *, oracle=None, **kwargs):
        if oracle not in (None, "sam", "gsam"):
            raise ValueError(f"unknown oracle {oracle!r}; valid: None, 'sam', 'gsam'")
        if oracle is not None and type(self) is GAM:
            self.name = f"{oracle}+gam"
        if oracle == "sam":
            self._radii = ("rho", "rho_sam")
        elif oracle == "gsam":
            self._radii = ("rho", "rho_sam")
        self.oracle = oracle
        super().__init__(params, base_optimizer, **kwargs)

    def direction(self, ev, diag):
        rho, alpha, xi = self.hyper("rho"), self.hyper("alpha"), self.xi
        # f = c Hg, f_adv = c_adv Hg_adv: the scalars c are folded into the next step's scalars
        loss, g, hg, c = ev.normgrads_raw()
        n = ev.gnorm
        like = torch.empty((), dtype=g[0].dtype, device=g[0].device)  # diagnostics' dtype
        f_norm = lnorm_num(hg) * c
        ev.move(hg, rho * c / (f_norm + xi))
        del hg  # not needed any more: freed before the second evaluation
        loss_adv, g_adv, hg_adv, c_adv = ev._normgrads_here()
        n_adv = ev.gnorm
        info = {}
        h_loss = g
        if self.oracle is not None:
            rho_sam = self.hyper("rho_sam")
            rho_sam = rho if rho_sam is None else rho_sam
            loss_p, g_p = ev.grads(g, rho_sam / (n + xi))
            n_p, dot = _tensors(like, *lnorm_dot_num(g_p, g))
            info.update(grad_norm_p=n_p, h_sam=(loss_p, loss), cos=(dot, n * n_p))
            h_loss = g_p
            if self.oracle == "gsam":
                h_loss = _remove_perp(g_p, g, self.hyper("alpha_gsam"), xi, n_p, dot)
        # d = h_loss + alpha rho f_adv, in place on h_loss

        def compute():
            m, m_adv = _tensors(like, n, n_adv)
            out = {"grad_norm": m, "grad_norm_adv": m_adv, "h": loss_adv - loss,
                   "r1": m_adv * rho}
            if info:
                out.update(grad_norm_p=info["grad_norm_p"], h_sam=info["h_sam"][0] - loss,
                           cos=info["cos"][0] / (info["cos"][1] + xi))
            return out
        return loss, laxpy_(h_loss, hg_adv, (rho * alpha) * c_adv), Diagnostics(compute)


class SAMGAM(GAM):
    """SAM+GAM (GAM Sec. 4.3): GAM whose oracle-loss gradient h_loss is SAM's direction."""

    name = "sam+gam"

    def __init__(self, params, base_optimizer=torch.optim.SGD, **kwargs):
        super().__init__(params, base_optimizer, oracle="sam", **kwargs)


class GSAMGAM(GAM):
    """GSAM+GAM (GAM Sec. 4.3): GAM whose oracle-loss gradient h_loss is GSAM's direction."""

    name = "gsam+gam"

    def __init__(self, params, base_optimizer=torch.optim.SGD, **kwargs):
        super().__init__(params, base_optimizer, oracle="gsam", **kwargs)


class GAMAccel(FlatnessOptimizer):
    """GAM Alg. 2 (Eq. 38-45, four gradients): d = h_+ - gamma h_-^perp.

    theta_1 = theta + rho' g0/|g0|, theta_2 = theta + rho (g1-g0)/|g1-g0|, theta_3 = theta_2 +
    rho' g2/|g2|; h_+ = alpha g1 + (1-alpha) g3, h_- = beta g0 + (1-beta) g2
    (variant="official": h_- = g0 + |1-beta| g2, as the released code).
    """

    name, _radii = "gam_accel", ("rho", "rho_prime")

    def direction(self, ev, diag):
        h = self.hyper
        rho, rho_p, alpha, beta, gamma, xi = (h("rho"), h("rho_prime"), h("alpha"), h("beta"),
                                              h("gamma"), self.xi)
        loss, g0 = ev.grads()
        n0 = lnorm_num(g0)
        loss_1, g1 = ev.grads(g0, rho_p / (n0 + xi))
        h0 = ev.scratch()  # g1 - g0, built in the work buffers (theta_1 is not needed any more)
        if fast_cpu(g0[0]):  # its norm read per parameter while still in cache
            sq, dot = 0.0, torch.dot
            for w, a, b in zip(h0, g1, g0):
                torch.sub(a, b, out=w)
                w = w.reshape(-1)
                sq += dot(w, w).item()
            s0 = rho / (math.sqrt(sq) + xi)
        else:
            for w, a, b in zip(h0, g1, g0):
                torch.sub(a, b, out=w)
            s0 = rho / (lnorm(h0) + xi)
        _, g2 = ev.grads(h0, s0)
        n2 = lnorm_num(g2)
        _, g3 = ev.grads(g2, rho_p / (n2 + xi), relative=True)  # theta_3 = theta_2 + rho' g2/|g2|

        def compute():  # from g0, g1, kept unmodified
            n1, dot = lnorm_dot(g1, g0)
            m0, m2 = _tensors(g0[0], n0, n2)
            return {"grad_norm": m0, "grad_norm_p": n1, "h": loss_1 - loss,
                    "cos": dot / (m0 * n1 + xi), "r1": m2 * rho}
        h_plus = g3  # alpha g1 + (1 - alpha) g3, in place, one pass
        if fast_cpu(g0[0]):
            # per parameter: h_+, h_- and their dot products while in cache, then
            # d = h_+ (1 + gamma c) - gamma h_- (see _remove_perp) in a second sweep
            official, b1 = h("variant") == "official", abs(1 - beta)
            sq = dt = 0.0
            dot = torch.dot
            for hp, hm, a, b in zip(h_plus, g2, g1, g0):
                hp.lerp_(a, alpha)
                if official:
                    hm.mul_(b1).add_(b)
                else:
                    hm.lerp_(b, beta)
                x = hp.reshape(-1)
                sq += dot(x, x).item()
                dt += dot(hm.reshape(-1), x).item()
            c = 1 + gamma * dt / (math.sqrt(sq) + xi) ** 2
            for hp, hm in zip(h_plus, g2):
                hp.mul_(c).add_(hm, alpha=-gamma)
            return loss, h_plus, Diagnostics(compute, g0 + g1)
        torch._foreach_lerp_(h_plus, g1, alpha)
        if h("variant") == "official":
            h_minus = g2  # g0 + |1 - beta| g2, in place
            torch._foreach_mul_(h_minus, abs(1 - beta))
            torch._foreach_add_(h_minus, g0)
        else:
            h_minus = g2  # beta g0 + (1 - beta) g2
            torch._foreach_lerp_(h_minus, g0, beta)
        return loss, _remove_perp(h_plus, h_minus, gamma, xi), Diagnostics(compute, g0 + g1)


class Gradient(FlatnessOptimizer):
    """Plain gradient d = grad L(theta) with the same closure protocol (sgd, momentum, adam)."""


CLASSES = {"sgd": Gradient, "momentum": Gradient, "adam": Gradient, "sam": SAM, "gnp": GNP,
           "gsam": GSAM, "gam": GAM, "gam_accel": GAMAccel, "sam+gam": SAMGAM,
           "gsam+gam": GSAMGAM}


def get(name, params, lr=0.1, base="sgd", **kwargs):
    """The optimizer `name` (as gamtoy.optim.get) on torch params; base in sgd, momentum, adam.

    `base` is ignored for name "momentum"/"adam" (they are their own base). Other keywords go to
    the estimator (rho, alpha, variant, ...) or the base (momentum, betas, eps, weight_decay, ...).
    """
    if name not in CLASSES:
        raise ValueError(f"unknown optimizer {name!r}; valid names: {', '.join(CLASSES)}")
    if name in ("momentum", "adam"):
        base = name
    if base == "sgd":
        base_cls = torch.optim.SGD
    elif base == "momentum":
        base_cls = torch.optim.SGD
        kwargs.setdefault("momentum", 0.9)
    elif base == "adam":
        base_cls = torch.optim.Adam
    else:
        raise ValueError(f"unknown base optimizer {base!r}; valid: sgd, momentum, adam")
    return CLASSES[name](params, base_cls, lr=lr, **kwargs)
