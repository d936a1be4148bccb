"""One record per optimizer: its estimator, defaults (with their source), bounds, cost, variants.

`gamtoy.optim.get` reads these records; `DEFAULTS`, `COST` and `names()` in `gamtoy.optim` are
derived from them. Adding an optimizer = one function in `estimators.py`, one `Spec` here (and
one class in `gamtoy/torch/optimizers.py` for the torch backend).
"""
import inspect
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ..validate import real
from . import estimators

VARIANTS = ("paper", "official")


@dataclass(frozen=True)
class Bound:
    """An estimator hyper-parameter's range: low <= value (<= high where high is not None).

    `source` names where a high bound comes from (e.g. "GAM Eq. 44"); `allow_none`: None is a
    valid value (e.g. rho_sam = None means "the same rho as GAM's").
    """

    low: float = 0.0
    high: float | None = None
    allow_none: bool = False
    source: str = ""

    def check(self, optimizer, key, value):
        """`value` as a float in range, or a ValueError / TypeError naming `key` and the range."""
        v = real(key, value, low=self.low, allow_none=self.allow_none)
        if v is not None and self.high is not None and v > self.high:
            raise ValueError(f"{key} must be in [{self.low:g}, {self.high:g}] for {optimizer} "
                             f"({self.source}), got {v}")
        return v


NONNEG = Bound()
WEIGHT = Bound(high=1.0, source="GAM Eq. 44")  # gam_accel's alpha and beta weigh two gradients


@dataclass(frozen=True)
class Spec:
    """One optimizer: `estimator(oracle, theta, [rho,] **defaults, xi=, diag=) -> (d, info)`.

    defaults: the estimator's hyper-parameters with the papers' values, from `source`;
    base: the default base optimizer; lr: the default learning rate; bounds: a `Bound` per
    numeric hyper-parameter; cost: gradient-sized passes per step (an HVP counts as one);
    variants: the values `variant` may take (empty: no variant); colour, line: how every
    figure and widget draws it (figures.style reads them; the paper's six methods get the
    Okabe-Ito hues, tested apart under simulated colour-vision deficiencies).
    """

    name: str
    estimator: Callable
    defaults: Mapping = field(default_factory=dict)
    source: str = ""
    bounds: Mapping = field(default_factory=dict)
    cost: int = 1
    variants: tuple = ()
    base: str = "sgd"
    lr: float = 0.1
    colour: str = "#999999"
    line: object = "-"

    def __post_init__(self):
        object.__setattr__(self, "defaults", MappingProxyType(dict(self.defaults)))
        object.__setattr__(self, "bounds", MappingProxyType(dict(self.bounds)))

    def check(self, hp):
        """The hyper-parameters `hp` with every bounded one checked against its `Bound` (a rho
        schedule is checked at each step instead)."""
        out = dict(hp)
        for key, bound in self.bounds.items():
            if key in out and not (key == "rho" and callable(out[key])):
                out[key] = bound.check(self.name, key, out[key])
        return out

    def bind(self, hp, xi):
        """The estimator as `(oracle, theta, rho_t, diag=False) -> (d, info)`, with the
        hyper-parameters `hp` (rho excepted: it comes per step) and `xi` bound.

        The values are passed by position, in the estimator's own order (keywords cost more
        per call than a one-point step's arithmetic on the fast path); a hyper-parameter the
        estimator does not take is a TypeError here, not a value silently dropped.
        """
        f, params = self.estimator, list(inspect.signature(self.estimator).parameters)
        takes_rho = "rho" in self.defaults
        i = params.index("diag")
        before = params[3 if takes_rho else 2:i]  # after (oracle, theta[, rho]), up to diag
        after = list(itertools.takewhile(hp.__contains__, params[i + 1:]))  # e.g. variant
        unused = set(hp) - set(before) - set(after) - {"rho"}
        if unused:
            raise TypeError(f"{self.name}'s estimator {f.__name__} takes no {sorted(unused)}")
        head = tuple(xi if p == "xi" else hp[p] for p in before)
        tail = tuple(hp[p] for p in after)
        if not takes_rho:  # the plain gradient: (oracle, theta, xi, diag)
            return lambda oracle, theta, rho, diag=False: f(oracle, theta, *head, diag, *tail)
        if tail:
            return lambda oracle, theta, rho, diag=False: f(oracle, theta, rho, *head, diag, *tail)
        return lambda oracle, theta, rho, diag=False: f(oracle, theta, rho, *head, diag)


_PLAIN = "torch's / Kingma & Ba's usual values"
# Okabe & Ito (2008), "Color Universal Design": the six hues that stay apart for everyone
_OI = {"black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73",
       "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00",
       "reddish_purple": "#CC79A7"}
_GAM = "GAM App. C.5.1: rho 0.1 for CIFAR-100, alpha 0.3 for ResNet-18"
_GAM_BOUNDS = {"rho": NONNEG, "alpha": NONNEG}

SPECS = {s.name: s for s in (
    Spec("sgd", estimators.gradient, source=_PLAIN, colour=_OI["vermillion"], line="-"),
    Spec("momentum", estimators.gradient, source=_PLAIN, base="momentum", colour=_OI["black"],
         line=(0, (5, 1, 1, 1))),
    Spec("adam", estimators.gradient, source=_PLAIN, base="adam", colour="#999999",
         line=(0, (2, 2))),
    Spec("sam", estimators.sam, {"rho": 0.05}, cost=2, bounds={"rho": NONNEG},
         source="SAM (Foret et al. 2021), its CIFAR value", colour=_OI["blue"], line="--"),
    Spec("gnp", estimators.gnp, {"rho": 0.1, "alpha": 0.8, "variant": "paper"}, cost=2,
         bounds={"rho": NONNEG, "alpha": NONNEG}, variants=VARIANTS,
         source="GNP's released recipes/resnet-cifar.sh (GNP_R=0.1, GNP_ALPHA=0.8)",
         colour=_OI["reddish_purple"], line=":"),
    Spec("gsam", estimators.gsam, {"rho": 0.04, "alpha": 0.01}, cost=2,
         bounds={"rho": NONNEG, "alpha": NONNEG},
         source="GSAM Table 4, ResNet-50 (SGD): rho_max 0.04, alpha 0.01",
         colour=_OI["bluish_green"], line="-"),
    Spec("gam", estimators.gam, {"rho": 0.1, "alpha": 0.3}, cost=4, bounds=_GAM_BOUNDS,
         source=_GAM, colour=_OI["orange"], line="-."),
    Spec("gam_accel", estimators.gam_accel,
         {"rho": 0.2, "rho_prime": 0.02, "alpha": 0.6, "beta": 0.5, "gamma": 0.03,
          "variant": "paper"}, cost=4, variants=VARIANTS,
         bounds={"rho": NONNEG, "rho_prime": NONNEG, "alpha": WEIGHT, "beta": WEIGHT,
                 "gamma": NONNEG},
         source="GAM's released main_cifar.py, CIFAR-100 ResNet (grad_norm_rho 0.2, grad_rho "
                "0.02, grad_beta_1 0.6, grad_beta_0 0.5, grad_gamma 0.03)",
         colour=_OI["sky_blue"], line=(0, (3, 1, 1, 1, 1, 1))),
    Spec("sam+gam", estimators.sam_gam, {"rho": 0.1, "alpha": 0.3, "rho_sam": None}, cost=5,
         bounds={**_GAM_BOUNDS, "rho_sam": Bound(allow_none=True)},
         source=_GAM + "; rho_sam = rho as in GAM App. C.4.1", colour="#A08400",
         line=(0, (6, 2))),
    Spec("gsam+gam", estimators.gsam_gam,
         {"rho": 0.1, "alpha": 0.3, "rho_sam": None, "alpha_gsam": 0.01}, cost=5,
         bounds={**_GAM_BOUNDS, "rho_sam": Bound(allow_none=True), "alpha_gsam": NONNEG},
         source=_GAM + "; rho_sam = rho as in GAM App. C.4.1; alpha_gsam GSAM's default",
         colour="#8C510A", line=(0, (1, 1))),
)}
# the optimizers on the SGD base, in SPECS' order (momentum and adam are SGD's gradient on
# another base): the torch training CLI offers these and the GPU check benchmarks them
ON_SGD = tuple(n for n, s in SPECS.items() if s.base == "sgd")
