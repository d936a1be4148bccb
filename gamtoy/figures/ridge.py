"""GSAM Figure 3 on the `ridge` landscape, as a population statistic.

GSAM's schedule (Alg. 1, step 0): a cosine lr from lr_max down to lr_min = lr_max / 20 and
rho_t = rho_max (lr_t - lr_min)/(lr_max - lr_min), so rho decays with lr. GSAM's direction is
d = g_p - alpha g_perp (Alg. 1, step 4) with alpha = 0.3 (the paper's range: 0.01-0.3, 1 at most).

The paper's Fig. 3 claims, for one start: "SGD and SAM fall into different sharp local minima,
while GSAM reaches a flat region." Here each claim is a fraction over >= 400 starts (a grid on the
box `RIDGE_BOX` around the figure's start) with a 95% Wilson interval, in every cell of the
neighbourhood lr, rho, alpha each x `FACTORS` (27 cells); a verdict is printed as a headline only if
it is the same in every cell. Where a run ends is decided by the end point itself, its gradient
and Hessian (`gamtoy.outcomes.classify`): "flat" (the flat basin, minima[0]), "sgd_well" (the
sharp well SGD ends in from the same start), "other_well" (another sharp well), "saddle" (a
saddle point of the ridge: |grad L| ~ 1e-6, Hessian eigenvalues ~ -20 and +9; SAM, GNP, GSAM and
SAM+GAM converge to one, next to well 2), "moving" (not converged), "other_critical",
"diverged". The paper's "different sharp minima" is judged on the runs that end at minima; the
saddle endings are reported apart.
"""
import numpy as np

from .. import landscapes as _landscapes
from .. import neighbourhood as nb
from .. import optim as _optim
from .. import stats, validate
from ..neighbourhood import summarise_verdicts  # noqa: F401  (the public name, kept here)
from ..optim import schedules
from ..outcomes import GTOL, RADIUS, RIDGE_LABELS, RIDGE_OUTCOMES, Outcome, classify
from ..run import run
from .style import OKABE_ITO
from .trajectories import RIDGE_OPTIMIZERS, trajectory_data

RIDGE_START = (-2.9, 1.5)    # one start where all three claims hold at once (see the caption)
RIDGE_STEPS = 1000
RIDGE_LR = 0.05          # lr_max of the cosine schedule; lr_min = RIDGE_LR * LR_MIN_RATIO
LR_MIN_RATIO = 0.05      # lr 0.05 -> 0.0025 over the cosine schedule (GSAM Alg. 1)
RIDGE_RHO = 0.3          # rho_max; rho_t proportional to lr_t (GSAM Alg. 1)
RIDGE_ALPHA = 0.3        # GSAM's alpha (paper range 0.01-0.3)
RIDGE_BOX = ((-3.4, -2.6), (1.1, 1.9))   # starts: an n x n grid on this box (x, y)
FACTORS = (0.8, 1.0, 1.25)               # the neighbourhood: lr, rho, alpha each times these
HEADLINE = ("sgd", "sam", "gsam")        # the optimizers the paper's claims are about
OUTCOMES = RIDGE_OUTCOMES     # where a run ends: `gamtoy.outcomes` (by the end point itself)
# the other optimizers' own hyper-parameters on the ridge, stated here (not taken from
# gamtoy.optim.DEFAULTS, whose CIFAR-regime values would move this toy's populations)
RIDGE_OWN = {"gnp": {"alpha": 0.8}, "gam": {"alpha": 0.3}, "sam+gam": {"alpha": 0.3},
             "gam_accel": {"alpha": 0.5, "beta": 0.5, "gamma": 0.3, "rho_prime": 0.02}}


def ridge_hyper(lr=RIDGE_LR, rho=RIDGE_RHO, alpha=RIDGE_ALPHA, steps=RIDGE_STEPS,
                optimizers=RIDGE_OPTIMIZERS, alpha_factor=None):
    """{name: keywords} with GSAM's schedule: cosine lr (lr -> lr LR_MIN_RATIO over `steps`),
    rho_t proportional to lr_t from `rho`, GSAM's alpha = `alpha`. Other optimizers keep their
    own alpha (`RIDGE_OWN`) times `alpha_factor` (default alpha / RIDGE_ALPHA), so one
    factor moves every alpha of the neighbourhood; gam_accel's alpha is capped at 1 (GAM Eq. 44)."""
    f = alpha / RIDGE_ALPHA if alpha_factor is None else alpha_factor
    out = {}
    for nm in optimizers:
        kw = {"lr": schedules.cosine(lr, steps, lr * LR_MIN_RATIO)}
        own = {**_optim.DEFAULTS[nm][0], **RIDGE_OWN.get(nm, {})}
        kw.update({k: v for k, v in RIDGE_OWN.get(nm, {}).items() if k != "alpha"})
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
    """Where each end point is, by the point itself (`gamtoy.outcomes.classify`): i >= 0 minimum
    i (0 the flat basin, i >= 1 sharp well i), -3 a saddle (`Outcome.SADDLE`), -1 still moving,
    -4 another critical point, -2 diverged."""
    return classify(landscape, points, diverged).code


def outcomes(basin, sgd_basin):
    """Per run the outcome name (OUTCOMES), given its end code and SGD's from the same start."""
    b, s = np.asarray(basin), np.asarray(sgd_basin)
    out = np.full(b.shape, "moving", dtype=object)
    out[b == 0] = "flat"
    out[(b > 0) & (b == s)] = "sgd_well"
    out[(b > 0) & (b != s)] = "other_well"
    out[b == Outcome.SADDLE] = "saddle"
    out[b == Outcome.OTHER_CRITICAL] = "other_critical"
    out[b == Outcome.DIVERGED] = "diverged"
    return out


def ridge_population(n=20, lr=RIDGE_LR, rho=RIDGE_RHO, alpha=RIDGE_ALPHA, steps=RIDGE_STEPS,
                     optimizers=RIDGE_OPTIMIZERS, box=RIDGE_BOX):
    """Every optimizer from an n x n grid of starts (vectorised), GSAM's schedule.

    {"starts", "setting": {lr, rho, alpha, steps}, "per": {name: {"basin" (the `end_basin` codes),
    "final", "gnorm" |grad L| at the end, "eig" its Hessian's eigenvalues, "converged", "saddle"
    (which saddle, -1 none), "outcome", "counts": {outcome: k}, "frac": {outcome: (p, lo, hi)}}},
    "n"}; SGD always runs (the reference for "sgd_well").
    """
    n, steps = validate.positive_int("n", n), validate.positive_int("steps", steps)
    lr = validate.real("lr", lr, low=0, low_open=True)
    rho = validate.real("rho", rho, low=0)
    alpha = validate.real("alpha", alpha, low=0, high=1)   # GSAM's range (paper: 0.01-0.3, <= 1)
    for nm in optimizers:
        if nm not in _optim.DEFAULTS:
            raise ValueError(f"unknown optimizer {nm!r} in optimizers; "
                             f"valid: {', '.join(_optim.names())}")
    names = ["sgd"] + [nm for nm in optimizers if nm != "sgd"]
    S = ridge_starts(n, box)
    hyper = ridge_hyper(lr, rho, alpha, steps, names)
    L = _landscapes.get("ridge")
    per = {}
    for nm in names:
        tr = run(nm, L, S, steps, record_every=steps, **hyper[nm])   # the ends only
        e = classify(L, tr.final, tr.diverged)
        per[nm] = {"basin": e.code, "final": tr.final, "gnorm": e.gnorm, "saddle": e.saddle,
                   "converged": e.converged, "eig": e.eig}
    for nm in names:
        o = outcomes(per[nm]["basin"], per["sgd"]["basin"])
        k = {c: int(np.sum(o == c)) for c in OUTCOMES}
        per[nm].update(outcome=o, counts=k,
                       frac={c: (k[c] / len(S),) + stats.wilson(k[c], len(S)) for c in OUTCOMES})
    return {"starts": S, "n": len(S), "box": box, "per": {nm: per[nm] for nm in names},
            "setting": {"lr": lr, "rho": rho, "alpha": alpha, "steps": steps}}


def claims(pop):
    """The paper's Fig. 3 claims as population statistics of one `ridge_population`.

    "sam_other": among starts where SGD ends in a sharp well and SAM ends at a minimum, the
    fraction where SAM ends in a different sharp well (Wilson interval; reproduces if it lies
    above 1/2, contradicts if below 1/2); SAM's saddle endings are left out here and reported by
    "sam_saddle": the fraction of all starts where SAM converges to a saddle (Wilson interval;
    "reproduces" when some run ends at a saddle (k > 0, so its lower end is above 0), else
    "inconclusive").
    "gsam_vs_sgd", "gsam_vs_sam": GSAM's flat fraction minus SGD's / SAM's over the same starts
    (Newcombe's paired interval, `stats.paired_fraction_diff`; reproduces above 0, contradicts
    below 0, else inconclusive).
    """
    per, n = pop["per"], pop["n"]
    bs, bm = per["sgd"]["basin"], per["sam"]["basin"]
    sharp = (bs > 0) & (bm >= 0)
    k, m = int(np.sum(sharp & (bm > 0) & (bm != bs))), int(np.sum(sharp))
    if m:
        lo, hi = stats.wilson(k, m)
        v = "reproduces" if lo > 0.5 else "contradicts" if hi < 0.5 else "inconclusive"
        out = {"sam_other": {"k": k, "n": m, "p": k / m, "lo": lo, "hi": hi, "verdict": v}}
    else:
        out = {"sam_other": {"k": 0, "n": 0, "p": float("nan"), "lo": 0.0, "hi": 1.0,
                             "verdict": "inconclusive"}}
    ks = per["sam"]["counts"]["saddle"]
    lo, hi = stats.wilson(ks, n)
    out["sam_saddle"] = {"k": ks, "n": n, "p": ks / n, "lo": lo, "hi": hi,
                         "verdict": "reproduces" if ks > 0 and lo > 0 else "inconclusive"}
    flat = {nm: _flat_runs(per[nm]) for nm in ("gsam", "sgd", "sam")}
    for ref in ("sgd", "sam"):   # the same starts: a paired difference of two fractions
        d = stats.paired_fraction_diff(flat["gsam"], flat[ref])
        d["verdict"] = stats.verdict(d["lo"], d["hi"], +1)
        out[f"gsam_vs_{ref}"] = d
    return out


def _flat_runs(p):
    """One boolean per start: the run ends in the flat basin (checked against the counts)."""
    f = np.asarray(p["outcome"]) == "flat"
    if int(f.sum()) != p["counts"]["flat"]:
        raise ValueError(f"the outcome labels ({int(f.sum())} flat) disagree with the counts "
                         f"({p['counts']['flat']} flat)")
    return f


CLAIM_TEXT = {"sam_other": "SGD and SAM end in different sharp minima (of the starts where SGD "
                           "ends sharp and SAM ends at a minimum)",
              "sam_saddle": "SAM converges to a saddle of the ridge",
              "gsam_vs_sgd": "GSAM reaches the flat region more often than SGD",
              "gsam_vs_sam": "GSAM reaches the flat region more often than SAM"}


def neighbourhood(factors=FACTORS, one_at_a_time=False):
    """The (lr, rho, alpha) cells, the centre first: every combination of `factors` (27 cells), or
    the centre and one factor moved at a time (7 cells) with one_at_a_time=True."""
    return nb.cells((RIDGE_LR, RIDGE_RHO, RIDGE_ALPHA), factors, one_at_a_time)


def ridge_robustness(n=20, steps=RIDGE_STEPS, factors=FACTORS, one_at_a_time=False,
                     optimizers=HEADLINE, centre=None):
    """`claims` in every cell of `neighbourhood`; {"cells": [{lr, rho, alpha, claims, flat}],
    "verdict": {claim: `summarise_verdicts` of its cells}, "over": {claim: `over_cells`}}.
    `centre`: a population already run at the centre setting (reused, not rerun)."""
    rows = []
    for i, (lr, rho, alpha) in enumerate(neighbourhood(factors, one_at_a_time)):
        if centre is not None and i == 0:
            pop = centre
        else:
            pop = ridge_population(n, lr, rho, alpha, steps, optimizers)
        rows.append({"lr": lr, "rho": rho, "alpha": alpha, "claims": claims(pop),
                     "flat": {nm: pop["per"][nm]["frac"]["flat"] for nm in pop["per"]}})
    verdict, over = nb.verdicts_over(rows, CLAIM_TEXT, lambda r, c: r["claims"][c]["verdict"])
    return {"cells": rows, "verdict": verdict, "over": over, "factors": factors, "n": n * n,
            "steps": steps, "one_at_a_time": one_at_a_time}


def ridge_data(start=RIDGE_START, steps=RIDGE_STEPS, hyper=None, optimizers=RIDGE_OPTIMIZERS):
    """Trajectories (with diagnostics) of every optimizer from `start` on `ridge` (GSAM's
    schedule)."""
    return trajectory_data("ridge", np.asarray(start, float), optimizers, steps,
                           hyper or ridge_hyper(steps=steps, optimizers=optimizers))


def _f(t):
    return stats.fmt(*t, digits=2)


def population_table_markdown(pop):
    """Per optimizer the fraction of runs per outcome with 95% Wilson intervals (markdown), then
    each optimizer's saddle endings: which saddle, how many runs, the largest |grad L| there."""
    s = pop["setting"]
    rows = ["| optimizer | " + " | ".join(RIDGE_LABELS[c] for c in OUTCOMES) + " |",
            "|---|" + "---|" * len(OUTCOMES)]
    for nm, d in pop["per"].items():
        rows.append(f"| {nm} | " + " | ".join(_f(d["frac"][c]) for c in OUTCOMES) + " |")
    (x0, x1), (y0, y1) = pop["box"]
    rows.append(f"\n{pop['n']} starts on a grid over x in [{x0:g}, {x1:g}], y in [{y0:g}, {y1:g}]; "
                f"cosine lr {s['lr']:g} -> {s['lr'] * LR_MIN_RATIO:g}, rho_t proportional to lr_t "
                f"from rho_max = {s['rho']:g}, GSAM alpha = {s['alpha']:g}, {s['steps']} steps. "
                "Fractions with 95% Wilson intervals; 'in SGD's well' is the well SGD ends in "
                "from the same start (SGD's own row: every sharp ending). Each end point is "
                "labelled by its own gradient and Hessian (`gamtoy.outcomes`): converged when "
                f"|grad L| <= {GTOL:g}, at a critical point when its Newton step lands within "
                f"{RADIUS:g} of it.")
    rows += ["", saddle_lines(pop)]
    return "\n".join(rows)


def saddle_lines(pop):
    """Every optimizer's saddle endings at this setting, one sentence."""
    L = _landscapes.get("ridge")
    parts = []
    for nm, d in pop["per"].items():
        j = d["saddle"][d["saddle"] >= 0]
        if not len(j):
            continue
        where = ", ".join(f"{int(np.sum(j == i))} at saddle {i + 1} ({L.saddles[i][0]:.4f}, "
                          f"{L.saddles[i][1]:.4f})" for i in np.unique(j))
        g = np.nanmax(d["gnorm"][d["saddle"] >= 0])
        parts.append(f"{nm} {len(j)} ({where}; |grad L| <= {g:.1e})")
    return ("Saddle endings: " + "; ".join(parts) + ".") if parts else "Saddle endings: none."


def robustness_table_markdown(rob):
    """One row per (lr, rho, alpha) cell: flat fractions, SAM's saddle fraction and the claims."""
    rows = ["| lr | rho | alpha | flat: sgd | flat: sam | flat: gsam | SAM at a saddle | SAM in "
            "another well (of SGD sharp, SAM at a minimum) | gsam - sam flat | "
            "verdicts (4 claims) |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rob["cells"]:
        c = r["claims"]
        so, gd, sd = c["sam_other"], c["gsam_vs_sam"], c["sam_saddle"]
        so_txt = f"{so['p']:.2f} [{so['lo']:.2f}, {so['hi']:.2f}] (n={so['n']})" if so["n"] \
            else "no such start"
        rows.append(f"| {r['lr']:.4g} | {r['rho']:.3g} | {r['alpha']:.3g} | "
                    f"{_f(r['flat']['sgd'])} | {_f(r['flat']['sam'])} | {_f(r['flat']['gsam'])} | "
                    f"{_f((sd['p'], sd['lo'], sd['hi']))} | {so_txt} | "
                    f"{gd['mean']:+.2f} [{gd['lo']:+.2f}, {gd['hi']:+.2f}] | "
                    + ", ".join(c[k]["verdict"] for k in CLAIM_TEXT) + " |")
    rows.append(f"\n{rob['n']} starts per cell. Flat fractions, SAM at a saddle and SAM in "
                "another well: 95% Wilson intervals; gsam - sam: 95% "
                f"{stats.PAIRED_FRACTION_METHOD} interval (the same starts for both optimizers).")
    return "\n".join(rows)


CLAIM_INTERVAL = {"sam_other": "95% Wilson interval of the fraction",
                  "sam_saddle": "95% Wilson interval of the fraction",
                  "gsam_vs_sgd": f"95% {stats.PAIRED_FRACTION_METHOD} interval",
                  "gsam_vs_sam": f"95% {stats.PAIRED_FRACTION_METHOD} interval"}


def headline_lines(rob):
    """The claims with their verdicts, the neighbourhood they were checked on and the interval;
    SAM's saddle fraction with its interval at the centre and its range over the cells."""
    where = nb.where_text(("lr", "rho", "alpha"), (RIDGE_LR, RIDGE_RHO, RIDGE_ALPHA),
                          rob["factors"], rob["one_at_a_time"])
    out = []
    for c, text in CLAIM_TEXT.items():
        if c == "sam_saddle":
            text = _saddle_headline(rob)
        out.append(nb.headline_line(f"**{text}**", {"text": f"{rob['verdict'][c]} over "
                                                            f"{len(rob['cells'])} cells"},
                                    where, f"{rob['n']} starts", CLAIM_INTERVAL[c]))
    return out


def _saddle_headline(rob):
    ps = [r["claims"]["sam_saddle"] for r in rob["cells"]]
    mid = next((r["claims"]["sam_saddle"] for r in rob["cells"]
                if (r["lr"], r["rho"], r["alpha"]) == (RIDGE_LR, RIDGE_RHO, RIDGE_ALPHA)), ps[0])
    return (f"SAM converges to a saddle of the ridge in {mid['p']:.2f} [{mid['lo']:.2f}, "
            f"{mid['hi']:.2f}] of the starts (centre cell; "
            f"{min(p['p'] for p in ps):.2f}-{max(p['p'] for p in ps):.2f} over the cells)")


def ridge_report_markdown(pop, rob, pop_all=None):
    """ridge_basins.md: headline verdicts, the per-optimizer table, the per-cell table."""
    parts = ["# Ridge (GSAM Fig. 3): where runs end, over a population of starts", "",
             "## Verdicts (each holds in every cell of the neighbourhood, or is marked mixed)", ""]
    parts += headline_lines(rob)
    parts += ["", "## Every optimizer at the centre setting", "",
              population_table_markdown(pop_all or pop),
              "", "## The neighbourhood", "", robustness_table_markdown(rob), ""]
    return "\n".join(parts)


# ---- figures -----------------------------------------------------------------------------
WELLS_VIEW = ((-2.55, -0.85), (0.0, 0.62))   # the inset: the row of sharp wells
# Okabe-Ito: every pair stays apart under simulated deuteranopia and protanopia
# (tests/test_figure_style.py); green = flat, as in the other figures
OUTCOME_COLOURS = {"flat": OKABE_ITO["bluish_green"], "sgd_well": OKABE_ITO["vermillion"],
                   "other_well": OKABE_ITO["blue"], "saddle": OKABE_ITO["yellow"],
                   "moving": "0.85", "other_critical": OKABE_ITO["sky_blue"], "diverged": "k"}
OUTCOME_LABELS = RIDGE_LABELS


def story_fraction(pop):
    """Starts that look like the paper's picture: SGD in a sharp well, SAM neither in SGD's well
    nor flat (in another well, or at a saddle), GSAM flat: (k, n, p, lo, hi)."""
    per = pop["per"]
    ok = (per["sgd"]["basin"] > 0) & np.isin(per["sam"]["outcome"], ["other_well", "saddle"]) & \
        (per["gsam"]["outcome"] == "flat")
    k = int(np.sum(ok))
    return (k, pop["n"], k / pop["n"]) + stats.wilson(k, pop["n"])


def _end_name(L, tr):
    """Where one run ends, in words, by the end point itself (e.g. "saddle 2 (eigenvalues ...)")."""
    return classify(L, tr.final[None], np.atleast_1d(tr.diverged)).name(0, L)


def ridge_caption(data, pop):
    """What the single-trajectory figure shows, and which part of the population it is."""
    L = _landscapes.get("ridge")
    ends = {nm: _end_name(L, tr) for nm, tr in data["runs"].items()}
    k, n, p, lo, hi = story_fraction(pop)
    fl = {nm: pop["per"][nm]["frac"]["flat"] for nm in ("sgd", "sam", "gsam")}
    start = data["runs"]["sgd"].points[0]
    return (f"One start, ({start[0]:g}, {start[1]:g}): SGD -> {ends['sgd']}, SAM -> "
            f"{ends['sam']}, GSAM -> {ends['gsam']}. Starts like this one (SGD in a "
            f"sharp well, SAM in another well or at a saddle, GSAM flat) are {p:.0%} "
            f"[{lo:.0%}, {hi:.0%}] of the {n} starts. Flat fractions over "
            f"the starts: SGD {_f(fl['sgd'])}, SAM {_f(fl['sam'])}, GSAM {_f(fl['gsam'])}.")


def _wells_inset(ax, data, L, art):
    """The inset of the ridge figure: the sharp wells and the saddles, resolved, with every run
    drawn as on the main axes (the headline optimizers on top). Returns the inset axes."""
    from mpl_toolkits.axes_grid1.inset_locator import mark_inset

    from .common import landscape_grid, plot_landscape
    from .style import MARKERS
    ins = ax.inset_axes([0.47, 0.55, 0.52, 0.43])
    (x0, x1), (y0, y1) = WELLS_VIEW
    fine = landscape_grid(L, 260, WELLS_VIEW)
    plot_landscape(fine, ins, levels=40, title=False)
    order = ([nm for nm in data["runs"] if nm not in HEADLINE]
             + [nm for nm in HEADLINE if nm in data["runs"]])
    for z, nm in enumerate(order):
        tr = data["runs"][nm]
        ins.plot(tr.points[:, 0], tr.points[:, 1], color=art[nm].get_color(),
                 ls=art[nm].get_linestyle(), lw=art[nm].get_linewidth(), zorder=2 + z)
        big = nm in HEADLINE
        ins.plot(*tr.final, **{**MARKERS["end"], "mfc": art[nm].get_color(), "ms": 9 if big else 6},
                 zorder=20 + z)
    for i, m in enumerate(L.minima[1:], 1):
        ins.annotate(str(i), m, xytext=(0, 7), textcoords="offset points", ha="center", fontsize=9,
                     color="w", weight="bold")
    S = L.saddles   # the ridge's saddles (one negative Hessian eigenvalue): where SAM, GNP end
    ins.plot(S[:, 0], S[:, 1], "X", ms=8, mfc="gold", mec="k", mew=0.8, zorder=40, ls="none")
    for j, sp in enumerate(S, 1):
        ins.annotate(f"s{j}", sp, xytext=(0, -12), textcoords="offset points", ha="center",
                     fontsize=8, color="gold", weight="bold")
    ins.set_xlim(x0, x1), ins.set_ylim(y0, y1)
    ins.set_aspect("auto")
    ins.tick_params(labelsize=8)
    ins.text(0.99, 0.03, "zoom: wells 1-4, saddles s1-s4 (X)", ha="right", va="bottom", fontsize=9,
             color="w", transform=ins.transAxes)
    mark_inset(ax, ins, loc1=3, loc2=4, fc="none", ec="w", lw=0.8)
    return ins


def _ends_text(axt, data, pop, L):
    """The caption and, per end point (in words), the optimizers whose run ends there."""
    import textwrap
    axt.axis("off")
    ends = {}
    for nm, tr in data["runs"].items():
        ends.setdefault(_end_name(L, tr).split(" (")[0], []).append(nm)
    table = "\n".join(f"  {k}: {', '.join(v)}" for k, v in sorted(ends.items()))
    axt.text(0, 0.7, "\n".join(textwrap.wrap(ridge_caption(data, pop), 50))
             + "\n\nEnds of this start:\n" + table, va="top", fontsize=10,
             transform=axt.transAxes)


def plot_ridge_figure(data, pop, fig=None):
    """The slide: trajectories on the ridge (all optimizers) with an inset on the sharp wells,
    GSAM's decomposition (GSAM Fig. 2) at one step, and the caption. Returns the artists."""
    import matplotlib.pyplot as plt

    from .common import landscape_grid
    from .trajectories import decomposition_data, plot_decomposition, plot_trajectories
    if fig is None:
        fig = plt.figure(figsize=(16, 5.8))
    gs = fig.add_gridspec(2, 2, width_ratios=[2.4, 1], height_ratios=[1, 1.25], wspace=0.16,
                          hspace=0.3)
    ax = fig.add_subplot(gs[:, 0])
    L = _landscapes.get("ridge")
    big = landscape_grid(L, 420, ((-3.5, 4.0), (-1.2, 2.0)))
    art = plot_trajectories(data, ax, ascent=False, grid=big, legend=False)
    cb = fig.colorbar(ax.collections[0], ax=ax, fraction=0.025, pad=0.01)
    cb.set_label("log(1 + L - min L)")
    ax.set_xlim(-3.5, 4.0), ax.set_ylim(-1.2, 2.0)
    ax.set_xlabel("x"), ax.set_ylabel("y")
    ax.set_title("GSAM Fig. 3 on `ridge`: cosine lr 0.05 -> 0.0025, rho_t ~ lr_t (rho_max 0.3), "
                 "alpha 0.3", fontsize=12)
    ax.annotate("flat basin", L.minima[0], xytext=(0, 12), textcoords="offset points", ha="center",
                fontsize=10, color="w")
    ax.legend(loc="lower left", fontsize=9, ncol=4, framealpha=0.85)
    ins = _wells_inset(ax, data, L, art)
    # GSAM's decomposition
    axd = fig.add_subplot(gs[0, 1])
    v = decomposition_data(data, step=20)
    plot_decomposition(v, axd)
    axd.set_xlabel("x"), axd.set_ylabel("y")
    axd.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2)
    axd.set_title(f"GSAM Fig. 2 at step {v['step']}: d = g_p - alpha g_perp", fontsize=10)
    _ends_text(fig.add_subplot(gs[1, 1]), data, pop, L)
    return {"main": ax, "inset": ins, "decomposition": axd, "lines": art}


def plot_ridge_population(pop, axes=None):
    """Per optimizer: each start coloured by where its run ends; titles give the flat fraction
    with its interval. Returns {name: QuadMesh}."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch
    per = pop["per"]
    if axes is None:
        fig, axes = plt.subplots(2, 4, figsize=(15, 7.6), constrained_layout=True)
        axes = axes.ravel()
    n = int(round(np.sqrt(pop["n"])))
    S = pop["starts"].reshape(n, n, 2)
    cmap = ListedColormap([OUTCOME_COLOURS[c] for c in OUTCOMES])
    out = {}
    for ax, (nm, d) in zip(axes, per.items(), strict=False):
        code = np.array([OUTCOMES.index(o) for o in d["outcome"]]).reshape(n, n)
        out[nm] = ax.pcolormesh(S[..., 0], S[..., 1], code, cmap=cmap, vmin=-0.5,
                                vmax=len(OUTCOMES) - 0.5, shading="nearest", rasterized=True)
        p, lo, hi = d["frac"]["flat"]
        q, qlo, qhi = d["frac"]["saddle"]
        ax.set_title(f"{nm}\nflat {p:.2f} [{lo:.2f}, {hi:.2f}], "
                     f"saddle {q:.2f} [{qlo:.2f}, {qhi:.2f}]", fontsize=10)
        ax.set_xlabel("start x")
        ax.set_ylabel("start y")
        ax.set_aspect("equal")
    for ax in list(axes)[len(per):]:
        ax.axis("off")
        ax.legend(handles=[Patch(color=OUTCOME_COLOURS[c], label=OUTCOME_LABELS[c])
                           for c in OUTCOMES],
                  loc="center", title="the run ends in", fontsize=10)
    s = pop["setting"]
    axes[0].figure.suptitle(f"Ridge: where runs from {pop['n']} starts end (lr {s['lr']:g}, "
                            f"rho_max {s['rho']:g}, GSAM alpha {s['alpha']:g}, {s['steps']} steps)",
                            fontsize=13)
    return out


def plot_ridge_robustness(rob, ax=None):
    """Flat fraction (95% Wilson) of SGD, SAM, GSAM in every cell of the neighbourhood."""
    import matplotlib.pyplot as plt

    from .common import COLORS
    if ax is None:
        ax = plt.subplots(figsize=(max(8, 0.45 * len(rob["cells"]) + 3), 4.6),
                          constrained_layout=True)[1]
    xs = np.arange(len(rob["cells"]))
    out = {}
    for j, nm in enumerate(HEADLINE):
        P = np.array([r["flat"][nm] for r in rob["cells"]])
        err = np.clip([P[:, 0] - P[:, 1], P[:, 2] - P[:, 0]], 0, None)
        out[nm] = ax.errorbar(xs + (j - 1) * 0.22, P[:, 0], yerr=err,
                              fmt="o", ms=4, capsize=2, color=COLORS[nm], label=nm)
    labels = [f"{r['lr'] / RIDGE_LR:g}/{r['rho'] / RIDGE_RHO:g}/{r['alpha'] / RIDGE_ALPHA:g}"
              for r in rob["cells"]]
    ax.set_xticks(xs, labels, rotation=90, fontsize=8)
    ax.set_xlabel("cell: lr / rho / alpha, each as a multiple of (0.05, 0.3, 0.3)")
    ax.set_ylabel("fraction ending flat")
    ax.set_ylim(0, 1.05)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=10)
    ax.set_title(f"Flat fraction in each cell of the neighbourhood ({rob['n']} starts per cell)")
    return out


def ridge_animation(data, path, frames=40, fps=10, dpi=100):
    """A GIF of the trajectories growing (matplotlib.animation, PillowWriter), 1000 px wide for a
    projector, with the static figure's colours and line styles (COLORS, LINESTYLES). Returns the
    path (written atomically)."""
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation

    from . import style
    from .common import COLORS, landscape_grid
    from .style import MARKERS, context
    from .trajectories import LINESTYLES, LINEWIDTHS
    L = _landscapes.get("ridge")
    with context():
        fig, ax = plt.subplots(figsize=(10, 4.6))
        g = landscape_grid(L, 300, ((-3.5, 4.0), (-1.2, 2.0)))
        # the static figure's 30 filled levels as an image (cheap to redraw): few background
        # colours, so the GIF's 256-colour palette keeps the optimizers' colours exact
        z = np.log1p(g["Z"] - g["Z"].min())
        edges = np.linspace(z.min(), z.max(), 31)
        zq = edges[np.clip(np.digitize(z, edges) - 1, 0, 29)]
        ax.imshow(zq, origin="lower", cmap="viridis", aspect="equal",
                  extent=(-3.5, 4.0, -1.2, 2.0), interpolation="nearest")
        ax.plot(L.minima[:, 0], L.minima[:, 1], **MARKERS["minimum"])
        ax.set_xlim(-3.5, 4.0), ax.set_ylim(-1.2, 2.0)
        ax.set_xlabel("x"), ax.set_ylabel("y")
        runs = data["runs"]
        first = next(iter(runs.values()))
        ax.plot(*first.points[0], **MARKERS["start"])
        lines = {nm: ax.plot([], [], color=COLORS.get(nm, "k"), ls=LINESTYLES.get(nm, "-"),
                             lw=LINEWIDTHS.get(nm, 1.6), label=nm)[0] for nm in runs}
        heads = {nm: ax.plot([], [], **{**MARKERS["end"], "mfc": COLORS.get(nm, "k")})[0]
                 for nm in runs}
        ax.legend(loc="lower left", fontsize=11, ncol=len(runs), framealpha=0.9)
        title = ax.set_title("", fontsize=13)
        steps = first.points.shape[0] - 1
        idx = np.unique(np.round(np.linspace(0, steps, frames)).astype(int))

        def draw(t):
            for nm, tr in runs.items():
                lines[nm].set_data(tr.points[: t + 1, 0], tr.points[: t + 1, 1])
                heads[nm].set_data([tr.points[t, 0]], [tr.points[t, 1]])
            title.set_text(f"ridge, GSAM's schedule: step {t} / {steps}")
            return list(lines.values()) + list(heads.values()) + [title]

        fig.tight_layout()
        anim = FuncAnimation(fig, draw, frames=idx, blit=False)
        style.save_animation(anim, path, fps=fps, dpi=dpi)
        plt.close(fig)
    return path
