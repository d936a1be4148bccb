"""GSAM Figure 3 on the `ridge` landscape, as a population statistic.

GSAM's schedule (Alg. 1, step 0): a cosine lr from lr_max down to lr_min = lr_max / 20 and
rho_t = rho_max (lr_t - lr_min)/(lr_max - lr_min), so rho decays with lr. GSAM's direction is
d = g_p - alpha g_perp (Alg. 1, step 4) with alpha = 0.3 (the paper's range: 0.01-0.3, 1 at most).

The paper's Fig. 3 claims, for one start: "SGD and SAM fall into different sharp local minima,
while GSAM reaches a flat region." Here each claim is a fraction over >= 400 starts (a grid on the
box `RIDGE_BOX` around the figure's start) with a 95% Wilson interval, in every cell of the
neighbourhood lr, rho, alpha each x `FACTORS` (27 cells); a verdict is printed as a headline only if
it is the same in every cell. Where a run ends: "flat" (the flat basin, minima[0]), "sgd_well" (the
sharp well SGD ends in from the same start), "other_well" (another sharp well), "elsewhere" (none
of the known minima), "diverged".
"""
import itertools

import numpy as np

from .. import landscapes as _landscapes
from .. import optim as _optim
from .. import stats
from ..optim import schedules
from ..run import run
from .trajectories import RIDGE_OPTIMIZERS, trajectory_data

RIDGE_START = (-2.9, 1.5)    # one start where all three claims hold at once (see the caption)
RIDGE_STEPS = 1000
RIDGE_LR = 0.05          # lr_max of the cosine schedule; lr_min = RIDGE_LR * LR_MIN_RATIO
LR_MIN_RATIO = 0.05      # 0.05 -> 0.0025 as in the GSAM-schedule check
RIDGE_RHO = 0.3          # rho_max; rho_t proportional to lr_t (GSAM Alg. 1)
RIDGE_ALPHA = 0.3        # GSAM's alpha (paper range 0.01-0.3)
RIDGE_BOX = ((-3.4, -2.6), (1.1, 1.9))   # starts: an n x n grid on this box (x, y)
FACTORS = (0.8, 1.0, 1.25)               # the neighbourhood: lr, rho, alpha each times these
HEADLINE = ("sgd", "sam", "gsam")        # the optimizers the paper's claims are about
OUTCOMES = ("flat", "sgd_well", "other_well", "elsewhere", "diverged")
# a run ends in minimum i when within this distance of it (flat basin, sharp wells)
RADIUS_FLAT, RADIUS_WELL = 0.8, 0.2


def ridge_hyper(lr=RIDGE_LR, rho=RIDGE_RHO, alpha=RIDGE_ALPHA, steps=RIDGE_STEPS,
                optimizers=RIDGE_OPTIMIZERS, alpha_factor=None):
    """{name: keywords} with GSAM's schedule: cosine lr (lr -> lr LR_MIN_RATIO over `steps`),
    rho_t proportional to lr_t from `rho`, GSAM's alpha = `alpha`. Other optimizers keep their
    own alpha (gamtoy.optim.DEFAULTS) times `alpha_factor` (default alpha / RIDGE_ALPHA), so one
    factor moves every alpha of the neighbourhood; gam_accel's alpha is capped at 1 (GAM Eq. 44)."""
    f = alpha / RIDGE_ALPHA if alpha_factor is None else alpha_factor
    out = {}
    for nm in optimizers:
        kw = {"lr": schedules.cosine(lr, steps, lr * LR_MIN_RATIO)}
        own = _optim.DEFAULTS[nm][0]
        if "rho" in own:
            kw.update(rho=rho, rho_schedule="lr")
        if nm == "gsam":
            kw["alpha"] = alpha
        elif "alpha" in own:
            kw["alpha"] = min(own["alpha"] * f, 1.0) if nm == "gam_accel" else own["alpha"] * f
        out[nm] = kw
    return out


RIDGE_HYPER = ridge_hyper()


def ridge_starts(n=20, box=RIDGE_BOX):
    """An n x n grid of starts on `box`, shape (n*n, 2)."""
    (x0, x1), (y0, y1) = box
    X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    return np.stack([X.ravel(), Y.ravel()], -1)


def end_basin(landscape, points, diverged=None):
    """Index of the known minimum each point ended in: 0 flat basin, 1.. sharp wells, -1 none of
    them, -2 diverged. Within RADIUS_FLAT of the flat basin or RADIUS_WELL of a well."""
    L = _landscapes.get(landscape)
    P = np.asarray(points, float).reshape(-1, 2)
    M = L.minima
    d = np.linalg.norm(P[:, None] - M[None], axis=-1)
    r = np.array([RADIUS_FLAT] + [RADIUS_WELL] * (len(M) - 1))
    inside = d < r
    b = np.where(inside.any(1), np.argmin(np.where(inside, d, np.inf), 1), -1)
    if diverged is not None:
        b = np.where(np.asarray(diverged).reshape(-1), -2, b)
    return b


def outcomes(basin, sgd_basin):
    """Per run the outcome name (OUTCOMES), given its end basin and SGD's from the same start."""
    b, s = np.asarray(basin), np.asarray(sgd_basin)
    out = np.full(b.shape, "elsewhere", dtype=object)
    out[b == 0] = "flat"
    out[(b > 0) & (b == s)] = "sgd_well"
    out[(b > 0) & (b != s)] = "other_well"
    out[b == -2] = "diverged"
    return out


def ridge_population(n=20, lr=RIDGE_LR, rho=RIDGE_RHO, alpha=RIDGE_ALPHA, steps=RIDGE_STEPS,
                     optimizers=RIDGE_OPTIMIZERS, box=RIDGE_BOX):
    """Every optimizer from an n x n grid of starts (vectorised), GSAM's schedule.

    {"starts", "setting": {lr, rho, alpha, steps}, "per": {name: {"basin", "final", "outcome",
    "counts": {outcome: k}, "frac": {outcome: (p, lo, hi)}}}, "n"}; SGD always runs (the
    reference for "sgd_well").
    """
    names = ["sgd"] + [nm for nm in optimizers if nm != "sgd"]
    S = ridge_starts(n, box)
    hyper = ridge_hyper(lr, rho, alpha, steps, names)
    L = _landscapes.get("ridge")
    per = {}
    for nm in names:
        tr = run(nm, L, S, steps, **hyper[nm])
        per[nm] = {"basin": end_basin(L, tr.final, tr.diverged), "final": tr.final}
    for nm in names:
        o = outcomes(per[nm]["basin"], per["sgd"]["basin"])
        k = {c: int(np.sum(o == c)) for c in OUTCOMES}
        per[nm].update(outcome=o, counts=k,
                       frac={c: (k[c] / len(S),) + stats.wilson(k[c], len(S)) for c in OUTCOMES})
    return {"starts": S, "n": len(S), "box": box, "per": {nm: per[nm] for nm in names},
            "setting": {"lr": lr, "rho": rho, "alpha": alpha, "steps": steps}}


def claims(pop):
    """The paper's two Fig. 3 claims as population statistics of one `ridge_population`.

    "sam_other": among starts where SGD and SAM both end in a sharp well, the fraction where the
    wells differ (reproduces if its interval lies above 1/2, contradicts below 1/2).
    "gsam_flat": GSAM ends flat more often than SGD and than SAM (Newcombe intervals of the
    differences; reproduces if both lie above 0, contradicts if either lies below 0).
    """
    per, n = pop["per"], pop["n"]
    bs, bm = per["sgd"]["basin"], per["sam"]["basin"]
    both = (bs > 0) & (bm > 0)
    k, m = int(np.sum(both & (bs != bm))), int(np.sum(both))
    if m:
        lo, hi = stats.wilson(k, m)
        v = "reproduces" if lo > 0.5 else "contradicts" if hi < 0.5 else "inconclusive"
        sam_other = {"k": k, "n": m, "p": k / m, "lo": lo, "hi": hi, "verdict": v}
    else:
        sam_other = {"k": 0, "n": 0, "p": float("nan"), "lo": 0.0, "hi": 1.0,
                     "verdict": "inconclusive"}
    flat = {nm: per[nm]["counts"]["flat"] for nm in per}
    d_sgd = stats.fraction_diff(flat["gsam"], n, flat["sgd"], n)
    d_sam = stats.fraction_diff(flat["gsam"], n, flat["sam"], n)
    vs = [stats.verdict(d["lo"], d["hi"], +1) for d in (d_sgd, d_sam)]
    v = "contradicts" if "contradicts" in vs else "reproduces" if vs == ["reproduces"] * 2 \
        else "inconclusive"
    return {"sam_other": sam_other,
            "gsam_flat": {"vs_sgd": d_sgd, "vs_sam": d_sam, "verdict": v}}


CLAIM_TEXT = {"sam_other": "SGD and SAM end in different sharp minima (GSAM Fig. 3)",
              "gsam_flat": "GSAM reaches the flat region more often than SGD and SAM (GSAM Fig. 3)"}


def neighbourhood(factors=FACTORS, one_at_a_time=False):
    """The (lr, rho, alpha) cells: the full product of `factors` (27 cells), or the centre and
    one factor moved at a time (7 cells) with one_at_a_time=True."""
    base = np.array([RIDGE_LR, RIDGE_RHO, RIDGE_ALPHA])
    if one_at_a_time:
        cells = [(1.0, 1.0, 1.0)] + [tuple(f if i == j else 1.0 for j in range(3))
                                      for i in range(3) for f in factors if f != 1.0]
    else:
        cells = list(itertools.product(factors, repeat=3))
    return [tuple(float(v) for v in base * np.array(c)) for c in cells]


def ridge_robustness(n=20, steps=RIDGE_STEPS, factors=FACTORS, one_at_a_time=False,
                     optimizers=HEADLINE):
    """`claims` in every cell of `neighbourhood`; {"cells": [(lr, rho, alpha, claims, fracs)],
    "verdict": {claim: word if the same in every cell, else "mixed (k/m reproduce)"}}."""
    rows = []
    for lr, rho, alpha in neighbourhood(factors, one_at_a_time):
        pop = ridge_population(n, lr, rho, alpha, steps, optimizers)
        rows.append({"lr": lr, "rho": rho, "alpha": alpha, "claims": claims(pop),
                     "flat": {nm: pop["per"][nm]["frac"]["flat"] for nm in pop["per"]}})
    verdict = {}
    for c in CLAIM_TEXT:
        words = [r["claims"][c]["verdict"] for r in rows]
        if len(set(words)) == 1:
            verdict[c] = words[0]
        else:
            verdict[c] = f"mixed ({words.count('reproduces')}/{len(words)} cells reproduce)"
    return {"cells": rows, "verdict": verdict, "factors": factors, "n": n * n, "steps": steps,
            "one_at_a_time": one_at_a_time}


def ridge_data(start=RIDGE_START, steps=RIDGE_STEPS, hyper=None, optimizers=RIDGE_OPTIMIZERS):
    """Trajectories (with diagnostics) of every optimizer from `start` on `ridge` (GSAM's schedule)."""
    return trajectory_data("ridge", np.asarray(start, float), optimizers, steps,
                           hyper or ridge_hyper(steps=steps, optimizers=optimizers))


def ridge_basin_data(n=20, steps=RIDGE_STEPS, hyper=None, optimizers=RIDGE_OPTIMIZERS):
    """The centre cell's population (kept for the old name): see `ridge_population`."""
    return ridge_population(n, steps=steps, optimizers=optimizers)


def _f(t):
    return stats.fmt(*t, digits=2)


def population_table_markdown(pop):
    """Per optimizer the fraction of runs per outcome with 95% Wilson intervals (markdown)."""
    s = pop["setting"]
    rows = ["| optimizer | flat | in SGD's well | in another sharp well | elsewhere | diverged |",
            "|---|---|---|---|---|---|"]
    for nm, d in pop["per"].items():
        rows.append(f"| {nm} | " + " | ".join(_f(d["frac"][c]) for c in OUTCOMES) + " |")
    (x0, x1), (y0, y1) = pop["box"]
    rows.append(f"\n{pop['n']} starts on a grid over x in [{x0:g}, {x1:g}], y in [{y0:g}, {y1:g}]; "
                f"cosine lr {s['lr']:g} -> {s['lr'] * LR_MIN_RATIO:g}, rho_t proportional to lr_t "
                f"from rho_max = {s['rho']:g}, GSAM alpha = {s['alpha']:g}, {s['steps']} steps. "
                "Fractions with 95% Wilson intervals; 'in SGD's well' is the well SGD ends in "
                "from the same start (SGD's own row: every sharp ending).")
    return "\n".join(rows)


def robustness_table_markdown(rob):
    """One row per (lr, rho, alpha) cell: flat fractions and both claims' statistics."""
    rows = ["| lr | rho | alpha | flat: sgd | flat: sam | flat: gsam | SAM in another well "
            "(of both sharp) | gsam - sam flat | verdicts |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rob["cells"]:
        c = r["claims"]
        so, gd = c["sam_other"], c["gsam_flat"]["vs_sam"]
        so_txt = f"{so['p']:.2f} [{so['lo']:.2f}, {so['hi']:.2f}] (n={so['n']})" if so["n"] \
            else "no run pair ends sharp"
        rows.append(f"| {r['lr']:.4g} | {r['rho']:.3g} | {r['alpha']:.3g} | "
                    f"{_f(r['flat']['sgd'])} | {_f(r['flat']['sam'])} | {_f(r['flat']['gsam'])} | "
                    f"{so_txt} | {gd['mean']:+.2f} [{gd['lo']:+.2f}, {gd['hi']:+.2f}] | "
                    f"{so['verdict']}, {c['gsam_flat']['verdict']} |")
    return "\n".join(rows)


def headline_lines(rob):
    """The claims with their verdicts and the neighbourhood they were checked on."""
    f = ", ".join(f"{v:g}" for v in rob["factors"])
    where = ("the centre and one of lr, rho, alpha moved at a time" if rob["one_at_a_time"]
             else "all combinations")
    out = []
    for c, text in CLAIM_TEXT.items():
        out.append(f"- **{text}**: {rob['verdict'][c]} over {len(rob['cells'])} cells "
                   f"(lr = {RIDGE_LR:g}, rho = {RIDGE_RHO:g}, alpha = {RIDGE_ALPHA:g}, each x {{{f}}}, "
                   f"{where}; {rob['n']} starts per cell)")
    return out


def ridge_report_markdown(pop, rob, pop_all=None):
    """ridge_basins.md: headline verdicts, the per-optimizer table, the per-cell table."""
    parts = ["# Ridge (GSAM Fig. 3): where runs end, over a population of starts", "",
             "## Verdicts (each holds in every cell of the neighbourhood, or is marked mixed)", ""]
    parts += headline_lines(rob)
    parts += ["", "## Every optimizer at the centre setting", "", population_table_markdown(pop_all or pop),
              "", "## The neighbourhood", "", robustness_table_markdown(rob), ""]
    return "\n".join(parts)
