"""SAM, GNP, GSAM, GAM (Alg. 1), GAMAccel (Alg. 2), SAM+GAM, GSAM+GAM as torch optimizers.

    opt = GAM(model.parameters(), torch.optim.SGD, rho=0.1, alpha=0.3, lr=0.1, momentum=0.9)
    loss = opt.step(lambda: loss_fn(model(x), y))     # no backward() in the closure

Each estimator computes a direction d exactly as `gamtoy.optim.estimators` (tested equal) and
writes it into p.grad; the base optimizer then steps. Keyword arguments that are not the
estimator's go to the base optimizer. `weight_decay` (unless the base is AdamW, whose decay is
decoupled) is applied by the estimator as an L2 term at every evaluated point: each gradient is
grad L(w) + wd w and each HVP (H + wd I) v (param-group key `l2`).
"""
import torch

from ..optim import DEFAULTS
from .core import XI, Evaluator, _Overflow, check_devices, check_nonneg, cos, decompose, unit

_norm = torch.linalg.vector_norm


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
        loss, g = ev.grad()
        return loss, g, {"grad_norm": _norm(g)}

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
        for p, dp in zip(ev.params, ev.split(d.to(ev.theta0.dtype))):
            p.grad = dp.to(p.dtype)
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


def _sam_diag(info, loss, loss_adv, g, g_p, rho, xi):
    info.update(grad_norm=_norm(g), grad_norm_p=_norm(g_p), h=loss_adv - loss, cos=cos(g, g_p, xi),
                r1=_norm(g_p) * rho)
    return info


class SAM(FlatnessOptimizer):
    """SAM Eq. (3) (GSAM Eq. 2-3): d = grad L(w + rho g/(|g|+xi))."""

    name, _radii = "sam", ("rho",)

    def direction(self, ev, diag):
        rho = self.hyper("rho")
        loss, g = ev.grad()
        loss_adv, g_p = ev.grad(unit(g, self.xi) * rho)
        return loss, g_p, _sam_diag({}, loss, loss_adv, g, g_p, rho, self.xi)


class GNP(FlatnessOptimizer):
    """GNP Alg. 1 lines 4-7: d = (1-alpha) g(w) + alpha g(w + rho g/(|g|+xi)).

    variant="official": g_p normalised to unit length before mixing and d clipped at norm 5.
    """

    name, _radii = "gnp", ("rho",)

    def direction(self, ev, diag):
        rho, alpha = self.hyper("rho"), self.hyper("alpha")
        loss, g = ev.grad()
        loss_adv, g_p = ev.grad(unit(g, self.xi) * rho)
        if self.hyper("variant") == "official":
            d = g * (1 - alpha) + unit(g_p, self.xi) * alpha
            d = d * torch.clamp(5.0 / (_norm(d) + 1e-6), max=1.0)
        else:
            d = g * (1 - alpha) + g_p * alpha
        return loss, d, _sam_diag({}, loss, loss_adv, g, g_p, rho, self.xi)


class GSAM(FlatnessOptimizer):
    """GSAM Alg. 1 steps 1-4: d = g_p - alpha g_perp, g_perp = part of g orthogonal to g_p."""

    name, _radii = "gsam", ("rho",)

    def direction(self, ev, diag):
        rho, alpha = self.hyper("rho"), self.hyper("alpha")
        loss, g = ev.grad()
        loss_adv, g_p = ev.grad(unit(g, self.xi) * rho)
        _, g_perp = decompose(g, g_p, self.xi)
        return loss, g_p - g_perp * alpha, _sam_diag({}, loss, loss_adv, g, g_p, rho, self.xi)


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
        loss, g, f = ev.normgrad()
        loss_adv, g_adv, f_adv = ev.normgrad(unit(f, xi) * rho)
        h_norm = f_adv * rho
        info = {"grad_norm": _norm(g), "grad_norm_adv": _norm(g_adv), "h": loss_adv - loss,
                "r1": _norm(g_adv) * rho}
        h_loss = g
        if self.oracle is not None:
            rho_sam = self.hyper("rho_sam")
            rho_sam = rho if rho_sam is None else rho_sam
            loss_p, g_p = ev.grad(unit(g, xi) * rho_sam)
            h_loss = g_p
            if self.oracle == "gsam":
                _, g_perp = decompose(g, g_p, xi)
                h_loss = g_p - g_perp * self.hyper("alpha_gsam")
            info.update(grad_norm_p=_norm(g_p), h_sam=loss_p - loss, cos=cos(g, g_p, xi))
        return loss, h_loss + h_norm * alpha, info


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
        loss, g0 = ev.grad()
        loss_1, g1 = ev.grad(unit(g0, xi) * rho_p)
        e2 = unit(g1 - g0, xi) * rho
        _, g2 = ev.grad(e2)
        _, g3 = ev.grad(e2 + unit(g2, xi) * rho_p)
        h_plus = g1 * alpha + g3 * (1 - alpha)
        if h("variant") == "official":
            h_minus = g0 + g2 * abs(1 - beta)
        else:
            h_minus = g0 * beta + g2 * (1 - beta)
        _, h_perp = decompose(h_minus, h_plus, xi)
        info = {"grad_norm": _norm(g0), "grad_norm_p": _norm(g1), "h": loss_1 - loss,
                "cos": cos(g0, g1, xi), "r1": _norm(g2) * rho}
        return loss, h_plus - h_perp * gamma, info


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
