"""The papers' network experiments in miniature, each claim checked over seeds.

Each `fn(quick=True, ...)` returns a dict of numbers per optimizer and seed, the `config`, and
`claims`: one dict per claim of the paper (see `verdicts.py`) with the paired difference between two
optimizers (same seed: same data, same init, same batches), its 95% Student t interval and a
verdict, `reproduces` / `contradicts` / `inconclusive`, decided by the interval. The first claim is
the headline: `verdict`, `interval`, `estimate`, `note` (and `reproduces`, the same as a flag).
Full mode runs >= 8 seeds; quick mode (CI) runs 5 (8 for `lab.EDGE_EXPERIMENTS`) with shorter
training, and says `inconclusive` whenever its interval covers 0. Results are cached on disk by
their parameters (`cache.py`); the figures are drawn by `plots.py` (which imports nothing from
here); `reproduce` writes both.
"""
import os

import numpy as np

from .. import _io, optim, stats, validate
from .. import neighbourhood as nb
from . import plots
from .cache import cached
from .experiments_gsam import gnp_sweep, gsam_cos, gsam_gap_vs_alpha, gsam_lambda_max  # noqa: F401
from .hessian import dense_hessian, hutchinson_trace, top_eigenvalues
from .lab import (  # noqa: F401
    EDGE_EXPERIMENTS,
    FULL,
    HYPER,
    LABEL,
    QUICK,
    _key,
    _ms,
    config,
    edge_seeds,
    fit,
    make_opt,
    setup,
)
from .oracle import make_oracle
from .slices import ray_extrema, slice_1d, slice_2d
from .train import train
from .verdicts import headline, paired_claim, table, threshold_claim

_GMM = {"n_classes": 4, "noise": 0.35}


def _opts_pairs(opts):
    """(GAM variant, its base) pairs present in opts: (gam, sgd) and (sam+gam, sam)."""
    return [(g, b) for g, b in (("gam", "sgd"), ("sam+gam", "sam")) if g in opts and b in opts]


# ---- GAM Table 6: label noise --------------------------------------------------------------
def label_noise(quick=True, noise=None, opts=None, use_cache=True, progress=False, **over):
    """GAM Table 6 / App. C.2: test accuracy on clean test labels when a fraction of the training
    labels is flipped. As the paper (following its refs. [3, 42]) the best test accuracy during
    training is reported (`acc`; the last one is `acc_final`). Claim: SGD+GAM > SGD (and
    SAM+GAM > SAM), averaged over the noisy levels, paired by seed."""
    digits = over.get("data") == "digits"
    if not digits:
        over.setdefault("data", "gmm")
        over.setdefault("data_kw", _GMM)
        over.setdefault("sizes", (2, 16, 16, 4) if quick else (2, 64, 64, 4))
    noise = tuple(noise or ((0.0, 0.4) if quick else (0.0, 0.2, 0.4, 0.6)))
    opts = tuple(opts or (("sgd", "gam") if quick else ("sgd", "sam", "gam", "sam+gam")))
    if "sgd" not in opts or "gam" not in opts or not any(nz > 0 for nz in noise):
        raise ValueError(f"label_noise needs 'sgd' and 'gam' in opts and a noise level > 0, got "
                         f"opts={opts}, noise={noise}")
    cfg = config(quick, **over)

    def run():
        best, final = [], []
        for o in opts:
            b, f = [], []
            for nz in noise:
                runs = [fit(o, cfg, s, label_noise=nz, progress=progress) for s in cfg["seeds"]]
                b.append([float(r["history"]["test_acc"].max()) for r in runs])
                f.append([float(r["test_acc"]) for r in runs])
            best.append(b), final.append(f)
        return {"acc": np.array(best), "acc_final": np.array(final)}
    r = cached("label_noise", _key(cfg, noise=noise, opts=opts), run, use_cache)
    acc = r["acc"]  # (opts, noise, seeds)
    mean, std = _ms(acc)
    i = {o: j for j, o in enumerate(opts)}
    noisy = [j for j, nz in enumerate(noise) if nz > 0]
    tag = "digits" if digits else cfg["data"]
    claims = [paired_claim("GAM Table 6", f"{LABEL[g]} beats {LABEL[b]} under label noise ({tag})",
                           acc[i[g]][noisy].mean(0), acc[i[b]][noisy].mean(0), +1,
                           f"acc({LABEL[g]}) - acc({LABEL[b]}), mean over noise "
                           f"{[noise[j] for j in noisy]}", quick)
              for g, b in _opts_pairs(opts)]
    per_level = [paired_claim("GAM Table 6", f"noise {nz}", acc[i["gam"], j], acc[i["sgd"], j], +1,
                              "acc(SGD+GAM) - acc(SGD)", quick) for j, nz in enumerate(noise)]
    out = dict(noise=np.array(noise), opts=opts, **r, mean=mean, std=std, per_level=per_level,
               config=cfg, data_name=tag)
    return headline(out, claims)


def label_noise_digits(quick=True, use_cache=True, progress=False, **over):
    """GAM Table 6 on scikit-learn's 8x8 digits (a 64-32-10 MLP in quick mode)."""
    return label_noise(quick, use_cache=use_cache, progress=progress, **{"data": "digits", **over})


# ---- GAM Fig. 3: Hessian spectrum -------------------------------------------------------
def hessian_spectrum(quick=True, opts=None, k=5, n_hutch=64, use_cache=True, progress=False,
                     **over):
    """GAM Fig. 3: top-k Hessian eigenvalues (eigsh, which='LA') and trace (Hutchinson with n_hutch
    Rademacher probes, the same probes for every optimizer of a seed) of the full training loss at
    the end of training; the dense trace beside it when n <= 1500 (quick mode: first seed only).
    Claims: log lambda_max(SGD+GAM) - log lambda_max(SGD) < 0, the same for the trace, and
    SAM+GAM against SAM; paired by seed (logs: the eigenvalues spread over a factor of several)."""
    opts = tuple(opts or (("sgd", "gam") if over.get("data") == "digits" and quick
                          else ("sgd", "gam", "sam", "sam+gam")))
    name = "hessian_spectrum_digits" if over.get("data") == "digits" else "hessian_spectrum"
    cfg = config(quick, **edge_seeds(name, quick, over))

    def run():
        eig, tr, tr_se, tr_dense = [], [], [], []
        for o in opts:
            e, t, se, td = [], [], [], []
            for s in cfg["seeds"]:
                f = fit(o, cfg, s, progress=progress)
                orc = make_oracle(f["model"], f["data"].X_train, f["data"].y_train)
                e.append(top_eigenvalues(orc, f["theta"], k, seed=s))
                m, sd = hutchinson_trace(orc, f["theta"], n_hutch, seed=s)
                t.append(m), se.append(sd)
                dense = f["model"].n <= 1500 and (not quick or s == cfg["seeds"][0])
                td.append(float(np.trace(dense_hessian(orc, f["theta"]))) if dense else np.nan)
            eig.append(e), tr.append(t), tr_se.append(se), tr_dense.append(td)
        return {"eig": np.array(eig), "trace": np.array(tr), "trace_se": np.array(tr_se),
                "trace_dense": np.array(tr_dense)}
    r = cached("hessian_spectrum", _key(cfg, opts=opts, k=k, n_hutch=n_hutch, quick=quick), run,
               use_cache)
    lam = r["eig"][:, :, 0]
    trace = r["trace"]
    lam_mean, lam_std = _ms(lam)
    tr_mean, tr_std = _ms(trace)
    i = {o: j for j, o in enumerate(opts)}
    tag = cfg["data"]
    claims = []
    for g, b in _opts_pairs(opts):
        lg, lb = np.log(lam[i[g]]), np.log(lam[i[b]])  # lambda_max > 0 at a trained minimum
        claims.append(paired_claim("GAM Fig. 3", f"{LABEL[g]} has a smaller lambda_max than "
                                   f"{LABEL[b]} ({tag})", lg, lb, -1,
                                   f"log lambda_max({LABEL[g]}) - log lambda_max({LABEL[b]})",
                                   quick))
        if np.all(trace > 0):
            claims.append(paired_claim("GAM Fig. 3", f"{LABEL[g]} has a smaller Hessian trace than "
                                       f"{LABEL[b]} ({tag})", np.log(trace[i[g]]),
                                       np.log(trace[i[b]]), -1,
                                       f"log tr H({LABEL[g]}) - log tr H({LABEL[b]})", quick))
    out = dict(opts=opts, k=k, **r, lam_max_mean=lam_mean, lam_max_std=lam_std,
               trace_mean=tr_mean, trace_std=tr_std, config=cfg, data_name=tag)
    return headline(out, claims)


def hessian_spectrum_digits(quick=True, use_cache=True, progress=False, **over):
    """GAM Fig. 3 on scikit-learn's 8x8 digits (2410 parameters: Hutchinson trace)."""
    return hessian_spectrum(quick, use_cache=use_cache, progress=progress,
                            **{"data": "digits", **over})


# ---- GAM Table 7 / Fig. 4: GAM on a fraction of the iterations ---------------------------
def gam_fraction(quick=True, fractions=None, bases=None, alpha=0.3, use_cache=True,
                 progress=False, **over):
    """GAM Table 7: accuracy and cost when GAM is used on an evenly spaced fraction of the steps.
    The cost is counted, not timed: gradient-sized passes per step (an HVP counts as one), relative
    to the base optimizer alone. Claim: GAM on 10% of the steps beats the base optimizer alone."""
    fractions = tuple(fractions or ((0.0, 0.1, 1.0) if quick else (0.0, 0.05, 0.1, 0.5, 1.0)))
    bases = tuple(bases or (("sgd",) if quick else ("sgd", "sam")))
    if fractions[0] != 0.0 or 0.1 not in fractions:
        raise ValueError(f"fractions must start at 0.0 and contain 0.1, got {fractions}")
    cfg = config(quick, **over)

    def run():
        acc = np.zeros((len(bases), len(fractions), len(cfg["seeds"])))
        evals, tps = np.zeros_like(acc), np.zeros_like(acc)
        for a, b in enumerate(bases):
            for j, fr in enumerate(fractions):
                for n, s in enumerate(cfg["seeds"]):
                    gam = make_opt("gam" if b == "sgd" else b + "+gam", cfg, alpha=alpha)
                    model, ds = setup(cfg, s)
                    f = train(model, ds, gam, cfg["steps"], cfg["batch_size"], s,
                              mix=(make_opt(b, cfg), fr), progress=progress)
                    acc[a, j, n] = f["test_acc"]
                    evals[a, j, n] = f["oracle_evals"] / cfg["steps"]
                    tps[a, j, n] = f["time_per_step"]
        return {"acc": acc, "evals_per_step": evals, "time_per_step": tps}
    r = cached("gam_fraction", _key(cfg, fractions=fractions, bases=bases, alpha=alpha), run,
               use_cache)
    counted = r["evals_per_step"] / r["evals_per_step"][:, :1, :]
    formula = np.array([[1 + fr * (optim.COST["gam" if b == "sgd" else b + "+gam"] - optim.COST[b])
                         / optim.COST[b] for fr in fractions] for b in bases])
    am, asd = _ms(r["acc"])
    j1, jall = fractions.index(0.1), len(fractions) - 1
    claims, similar = [], []
    for a, b in enumerate(bases):
        g = LABEL["gam"] if b == "sgd" else LABEL[b + "+gam"]
        claims.append(paired_claim("GAM Table 7", f"{g} on 10% of the steps beats {LABEL[b]}",
                                   r["acc"][a, j1], r["acc"][a, 0], +1,
                                   f"acc({g}^0.1) - acc({LABEL[b]})", quick))
        similar.append(equivalence(r["acc"][a, j1], r["acc"][a, jall],
                                   f"acc({g}^0.1) - acc({g}^1)"))
    out = dict(fractions=np.array(fractions), bases=bases, **r, acc_mean=am, acc_std=asd,
               cost_ratio_counted=counted.mean(-1), cost_ratio_formula=formula, similar=similar,
               config=cfg)
    out = headline(out, claims)
    out["note"] += "".join(" | " + e["note"] for e in similar)
    return out


# "about as good": the paired accuracy difference's 95% interval inside +-1 accuracy point
EQUIVALENCE_MARGIN = 0.01


def equivalence(a, b, what, margin=EQUIVALENCE_MARGIN):
    """GAM Table 7's "GAM on 10% of the steps is about as good as on all" as an equivalence:
    'equivalent' if the paired interval of mean(a - b) lies inside [-margin, margin], 'different'
    if it lies wholly outside, else 'inconclusive' (the interval of `stats.paired`)."""
    p = stats.paired(a, b)
    if -margin <= p["lo"] and p["hi"] <= margin:
        v = "equivalent"
    elif p["lo"] > margin or p["hi"] < -margin:
        v = "different"
    else:
        v = "inconclusive"
    note = (f"GAM Table 7: about as good as on all steps - {v.upper()}: {what} = {p['mean']:.3g} "
            f"[{p['lo']:.3g}, {p['hi']:.3g}] (equivalence margin +-{margin:g}, paired over "
            f"{p['n']} seeds)")
    return dict(p, what=what, margin=margin, verdict=v, note=note)


# ---- GAM Fig. 2: density of local minima ------------------------------------------------
def minima_density(quick=True, rho=0.1, n_dirs=None, n_steps=10, opt="sam", use_cache=True,
                   progress=False, **over):
    """GAM Fig. 2 / Sec. 5.1: numbers of local minima / maxima of the training loss along random
    rays of length rho (steps of rho/n_steps) from a SAM-trained minimum. Claim: most rays hold
    more than one local minimum within rho (the paper's words; per-seed fraction of rays with
    >= 2 minima, against 0.5)."""
    cfg = config(quick, **over)
    n_dirs = n_dirs or (30 if quick else 100)

    def run():
        mins, maxs = [], []
        for s in cfg["seeds"]:
            f = fit(opt, cfg, s, progress=progress)
            a, b = ray_extrema(f["model"], f["theta"], f["data"].X_train, f["data"].y_train,
                               rho, n_dirs, n_steps, seed=s)
            mins.append(a), maxs.append(b)
        return {"mins": np.array(mins), "maxs": np.array(maxs)}
    r = cached("minima_density", _key(cfg, rho=rho, n_dirs=n_dirs, n_steps=n_steps, opt=opt),
               run, use_cache)
    frac = (r["mins"] >= 2).mean(axis=1)
    fm, fs = _ms(frac)
    claims = [threshold_claim("GAM Fig. 2", f"most rays from a {LABEL.get(opt, opt)} minimum hold "
                              f"more than one local minimum within rho = {rho}", frac, 0.5, +1,
                              "fraction of rays with >= 2 local minima", quick)]
    out = dict(**r, frac_with_min=frac, frac_mean=fm, frac_std=fs, rho=rho, config=cfg)
    return headline(out, claims)


# ---- GAM Fig. 5: loss-landscape slices --------------------------------------------------
def landscape_slices(quick=True, opts=("sgd", "gam", "sam", "sam+gam"), span=1.0, n=None,
                     use_cache=True, progress=False, **over):
    """GAM Fig. 5: training loss along 1D (per seed) and 2D (first seed) filter-normalised
    random directions; `sharpness` = mean of L(+-span/2) - L(0) over the 1D slices.
    Claim: SGD+GAM's sharpness is below SGD's (and SAM+GAM's below SAM's), paired by seed."""
    opts = tuple(opts)
    cfg = config(quick, **edge_seeds("landscape_slices", quick, over))
    n = n or (21 if quick else 41)
    alphas = np.linspace(-span, span, n)

    def run():
        one, two, loss = [], [], []
        for o in opts:
            p, l0 = [], []
            for s in cfg["seeds"]:
                f = fit(o, cfg, s, progress=progress)
                X, y = f["data"].X_train, f["data"].y_train
                p.append(slice_1d(f["model"], f["theta"], X, y, alphas, seed=100 + s))
                l0.append(f["model"].value(f["theta"], X, y))
                if s == cfg["seeds"][0]:
                    two.append(slice_2d(f["model"], f["theta"], X, y, alphas[::2], seed=100 + s))
            one.append(p), loss.append(l0)
        return {"slice1d": np.array(one), "slice2d": np.array(two), "loss": np.array(loss)}
    r = cached("landscape_slices", _key(cfg, opts=opts, span=span, n=n), run, use_cache)
    h = [int(np.argmin(np.abs(alphas - v))) for v in (-span / 2, span / 2)]
    sharp = 0.5 * (r["slice1d"][:, :, h[0]] + r["slice1d"][:, :, h[1]]) - r["loss"]
    sm, ss = _ms(sharp)
    i = {o: j for j, o in enumerate(opts)}
    claims = [paired_claim("GAM Fig. 5", f"{LABEL[g]} ends flatter than {LABEL[b]}",
                           sharp[i[g]], sharp[i[b]], -1,
                           f"sharpness({LABEL[g]}) - sharpness({LABEL[b]})", quick)
              for g, b in _opts_pairs(opts)]
    out = dict(opts=opts, alphas=alphas, alphas2d=alphas[::2], **r, sharpness=sharp,
               sharpness_mean=sm, sharpness_std=ss, config=cfg)
    return headline(out, claims)


EXPERIMENTS = ("label_noise", "label_noise_digits", "hessian_spectrum", "hessian_spectrum_digits",
               "gam_fraction", "minima_density", "landscape_slices", "gsam_lambda_max", "gsam_cos",
               "gsam_gap_vs_alpha", "gnp_sweep")
# experiment -> (figure stem, plot functions)
FIGURES = {
    "label_noise": ("mlp_label_noise", [plots.plot_label_noise, plots.plot_paired_intervals]),
    "label_noise_digits": ("mlp_label_noise_digits",
                           [plots.plot_label_noise, plots.plot_paired_intervals]),
    "hessian_spectrum": ("mlp_hessian_spectrum",
                         [plots.plot_hessian_spectrum, plots.plot_claim_intervals]),
    "hessian_spectrum_digits": ("mlp_hessian_spectrum_digits",
                                [plots.plot_hessian_spectrum, plots.plot_claim_intervals]),
    "gam_fraction": ("mlp_gam_fraction", [plots.plot_gam_fraction, plots.plot_claim_intervals]),
    "minima_density": ("mlp_minima_density", [plots.plot_minima_density]),
    "landscape_slices": ("mlp_slices", [plots.plot_slices_1d, plots.plot_slices_2d]),
    "gsam_lambda_max": ("mlp_gsam_lambda_max", [plots.plot_gsam_lambda_max]),
    "gsam_cos": ("mlp_gsam_cos", [plots.plot_gsam_cos]),
    "gsam_gap_vs_alpha": ("mlp_gsam_gap", [plots.plot_gsam_gap]),
    "gnp_sweep": ("mlp_gnp_sweep", [plots.plot_gnp_sweep, plots.plot_claim_intervals]),
}


LR_FACTORS = (0.8, 1.25)   # the neighbourhood of every headline: lr x these, beside the centre


def neighbourhood(results, quick=True, factors=LR_FACTORS, progress=False, run=None):
    """The claims' verdicts over lr x `factors` one at a time beside the centre (the results given).

    Rule (cost): an experiment is rerun at the other lr only when one of its claims is not
    `inconclusive` at the centre (an inconclusive claim is no headline; its neighbourhood is not
    needed to say so); each rerun is cached like the centre (`cache.cached`, the lr in its key).
    Adds to each claim `cells` ([{lr, verdict}], the centre first) and `over`
    (`neighbourhood.over_cells`: the centre's verdict when every cell agrees, else 'mixed'), and to
    each result `verdict_over_cells` (the headline claim's). `run(name, quick, lr)`: the experiment
    runner (default: this module's function of that name). Returns `results` (updated in place)."""
    factors = tuple(validate.real("factors[i]", f, low=0, low_open=True) for f in factors)
    run = run or (lambda name, quick, lr: globals()[name](quick=quick, progress=progress, lr=lr))
    lr_cells = [c[0] for c in nb.factor_cells(1, factors, one_at_a_time=True)[1:]]
    for name, r in results.items():
        lr = r["config"]["lr"]
        others = []
        if needs_cells(r["claims"]):
            others = [(lr * f, run(name, quick, lr * f)) for f in lr_cells]
        for c in r["claims"]:
            cells = [{"lr": lr, "verdict": c["verdict"]}]
            for lr_f, rf in others:
                same = [d for d in rf["claims"] if (d["claim"], d["what"]) == (c["claim"],
                                                                               c["what"])]
                cells.append({"lr": lr_f, "verdict": same[0]["verdict"] if same else "absent"})
            c["cells"] = cells
            c["over"] = nb.over_cells([d["verdict"] for d in cells])
            if not others:
                c["over"]["text"] = (f"{c['verdict']} at the centre (the only cell run, as the "
                                     "experiment has no decisive claim there: not a headline)")
        r["verdict_over_cells"] = r["claims"][0]["over"]["verdict"]
    return results


def needs_cells(claims):
    """An experiment is rerun at the other lr when ANY of its claims is decisive (not
    `inconclusive`) at the centre: that claim is a headline candidate."""
    return any(c["verdict"] != "inconclusive" for c in claims)


def headline_lines(results):
    """One line per claim: its verdict over the cells, the lrs they were run at, the number of
    seeds and the interval."""
    out = []
    for name, r in results.items():
        for c in r["claims"]:
            lrs = ", ".join(f"{d['lr']:.3g}" for d in c.get("cells", []))
            how = f"{c['n']} seeds, 95% {c.get('method', stats.PAIRED_METHOD)} interval"
            out.append(f"[{c.get('over', {}).get('verdict', c['verdict'])}] {name}: {c['paper']}: "
                       f"{c['claim']}: {c.get('over', {}).get('text', c['verdict'])} (lr {lrs}; "
                       f"{how})")
    return out


def run_all(quick=True, names=EXPERIMENTS, progress=False):
    """{name: result} for the named experiments."""
    return {n: globals()[n](quick=quick, progress=progress) for n in names}


def reproduce(out_dir, quick=True, names=EXPERIMENTS):
    """Run the MLP experiments (quick or full; all by default) at the centre and, for those with a
    claim not inconclusive there, at lr x `LR_FACTORS` (`neighbourhood`); write one figure each
    (PNG + SVG) with its verdicts, intervals and cell counts, and `mlp_verdicts.md`, the table of
    every claim; print the headlines; return the paths."""
    import sys
    os.makedirs(out_dir, exist_ok=True)
    results = neighbourhood(run_all(quick, names, progress=not quick), quick,
                            progress=not quick)
    paths = []
    for name, r in results.items():
        stem, fns = FIGURES[name]
        paths += plots.figure(r, fns, out_dir, stem)
    mode = (f"quick (CI: 5 seeds, 8 for {', '.join(EDGE_EXPERIMENTS)}; short training)" if quick
            else "full (>= 8 seeds)")
    f = ", ".join(f"{v:g}" for v in LR_FACTORS)
    md = ("# MLP miniatures: verdicts\n\n"
          f"Mode: {mode}. Each row is a paired difference over seeds (same seed: same data, init "
          f"and batches) with its 95% {stats.PAIRED_METHOD} interval over the seeds (n in each "
          "row); the verdict is the interval's: "
          "`reproduces` (on the paper's side of 0), `contradicts` (on the other side), "
          "`inconclusive` (covers 0).\n\n"
          f"Neighbourhood: each experiment with a claim that is not inconclusive at the centre is "
          f"rerun with lr x {{{f}}} (one at a time, everything else equal); a claim is a headline "
          "only if its verdict is the same in every cell, else `mixed`. An experiment whose claims "
          "are all inconclusive at the centre runs no other cell.\n\n" + table(results))
    paths.append(_io.write_text(os.path.join(out_dir, "mlp_verdicts.md"), md))
    print("MLP miniatures (verdict at the centre; over lr x {1, " + f + "}):", file=sys.stderr)
    for line in headline_lines(results):
        print("  " + line, file=sys.stderr)
    return paths
