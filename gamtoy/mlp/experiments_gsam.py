"""GSAM Fig. 4 / 8 / 9 and GNP's alpha sweep (GAM Table 5), in miniature. Same conventions as
`experiments.py`: numbers per setting and seed, and `claims` with paired intervals and verdicts."""
import numpy as np

from .. import optim, stats
from ..vec import unit
from .cache import cached
from .hessian import top_eigenvalues
from .lab import _key, _ms, config, edge_seeds, fit, setup
from .oracle import make_oracle
from .train import train
from .verdicts import fmt, headline, paired_claim, threshold_claim


def _log_or_raw(x):
    """log(x) when every value is positive (eigenvalues spread over factors), else x itself."""
    x = np.asarray(x, float)
    return (np.log(x), "log ") if np.all(x > 0) else (x, "")


def gsam_lambda_max(quick=True, alphas=(0.0, 0.3, 0.6), rho=0.05, use_cache=True, progress=False,
                    **over):
    """GSAM Fig. 4 (Sec. 6.2): at fixed rho, increasing alpha lowers the dominant Hessian
    eigenvalue, and its estimate from the surrogate gap, sigma_max ~ 2h/rho^2 (Lemma 3.3 with
    h = L(w + rho g/|g|) - L(w), GSAM Eq. 4), follows the same trend. For each alpha: GSAM (alpha =
    0 is SAM) trained with that alpha, lambda_max of the full training loss from eigsh, and
    2h/rho^2. Claims: lambda_max(largest alpha) < lambda_max(alpha = 0); 2h/rho^2 likewise; paired
    by seed."""
    alphas = tuple(alphas)
    if alphas[0] != 0.0 or len(alphas) < 2:
        raise ValueError(f"alphas must start at 0.0 (SAM) and hold >= 2 values, got {alphas}")
    cfg = config(quick, **over)

    def run():
        lam, est = np.zeros((len(alphas), len(cfg["seeds"]))), None
        est = np.zeros_like(lam)
        for i, a in enumerate(alphas):
            for j, s in enumerate(cfg["seeds"]):
                f = fit("gsam", cfg, s, rho=rho, alpha=a, diag=True, progress=progress)
                orc = make_oracle(f["model"], f["data"].X_train, f["data"].y_train)
                th = f["theta"]
                lam[i, j] = top_eigenvalues(orc, th, 1, seed=s)[0]
                h = orc.value(th + unit(orc.grad(th), 1e-12) * rho) - orc.value(th)
                est[i, j] = 2 * h / rho ** 2
        return {"lam_max": lam, "est": est}
    r = cached("gsam_lambda_max", _key(cfg, alphas=alphas, rho=rho), run, use_cache)
    ratio = r["est"] / r["lam_max"]
    rm, rs = _ms(ratio)
    lam, lg = _log_or_raw(r["lam_max"])
    claims = [paired_claim("GSAM Fig. 4", f"a larger alpha lowers lambda_max (rho = {rho})",
                           lam[-1], lam[0], -1,
                           f"{lg}lambda_max(alpha={alphas[-1]}) - {lg}lambda_max(alpha=0)", quick),
              paired_claim("GSAM Fig. 4", "2h/rho^2 follows lambda_max's trend in alpha",
                           r["est"][-1], r["est"][0], -1,
                           f"2h/rho^2 (alpha={alphas[-1]}) - 2h/rho^2 (alpha=0)", quick)]
    out = dict(alphas=np.array(alphas), rho=rho, **r, ratio=ratio, ratio_mean=rm, ratio_std=rs,
               config=cfg)
    return headline(out, claims)


def gsam_cos(quick=True, opts=("gsam", "sam"), threshold=0.9, use_cache=True, progress=False,
             **over):
    """GSAM Fig. 8 / App. C.3: cos of the angle between g = grad L(w) and g_p = grad L(w_adv) per
    step; the paper: "the cosine value is always above 0.9" during training. Claim: the per-seed
    minimum over all steps of GSAM's cos(g, g_p) exceeds 0.9."""
    opts = tuple(opts)
    cfg = config(quick, **edge_seeds("gsam_cos", quick, over))

    def run():
        return {"cos": np.array([[fit(o, cfg, s, diag=True, progress=progress)["history"]["cos"]
                                  for s in cfg["seeds"]] for o in opts])}
    r = cached("gsam_cos", _key(cfg, opts=opts), run, use_cache)
    cm, cs = _ms(r["cos"], axis=1)
    lowest = r["cos"].min(axis=2)  # (opts, seeds)
    claims = [threshold_claim("GSAM Fig. 8", f"cos(g, g_p) stays above {threshold} during "
                              f"{o.upper()} training", lowest[j], threshold, +1,
                              "min over steps of cos(g, g_p)", quick)
              for j, o in enumerate(opts)]
    above = (r["cos"] > threshold).mean(axis=2)  # (opts, seeds): fraction of steps above 0.9
    out = dict(opts=opts, **r, cos_mean=cm, cos_std=cs, lowest=lowest, frac_above=above,
               threshold=threshold, config=cfg)
    out = headline(out, claims)
    out["note"] += " | fraction of steps with cos > {}: {}".format(threshold, ", ".join(
        f"{o.upper()} {above[j].mean():.2f}" for j, o in enumerate(opts)))
    return out


def gsam_gap_vs_alpha(quick=True, alphas=(0.0, 0.3, 0.6), rho=0.05, use_cache=True,
                      progress=False, **over):
    """GSAM Fig. 9: the surrogate gap h (GSAM Eq. 4) during training for several alpha (alpha = 0
    is SAM): "as alpha increases, the surrogate gap decreases". Claim: h averaged over the last
    fifth of training is lower at the largest alpha than at alpha = 0, paired by seed."""
    alphas = tuple(alphas)
    if alphas[0] != 0.0 or len(alphas) < 2:
        raise ValueError(f"alphas must start at 0.0 (SAM) and hold >= 2 values, got {alphas}")
    cfg = config(quick, **over)

    def run():
        return {"h": np.array([[fit("gsam", cfg, s, diag=True, rho=rho, alpha=a,
                                    progress=progress)["history"]["h"]
                                for s in cfg["seeds"]] for a in alphas])}
    r = cached("gsam_gap", _key(cfg, alphas=alphas, rho=rho), run, use_cache)
    tail = max(1, r["h"].shape[2] // 5)
    final = r["h"][:, :, -tail:].mean(axis=2)
    fm, fs = _ms(final)
    claims = [paired_claim("GSAM Fig. 9", "a larger alpha ends with a smaller surrogate gap h",
                           final[-1], final[0], -1,
                           f"h(alpha={alphas[-1]}) - h(alpha=0), last fifth of training", quick)]
    out = dict(alphas=np.array(alphas), rho=rho, **r, final=final, final_mean=fm, final_std=fs,
               config=cfg)
    return headline(out, claims)


def _gnp_exact(lam, xi=1e-12):
    """GNP with exact HVPs = GAM in the limit rho -> 0 with alpha*rho = lam fixed:
    d = g + lam H g/(|g|+xi) (GNP poster's gradient; GAM Sec. 5.5, Table 5)."""
    def est(oracle, theta, rho, diag=False):
        g, f = oracle.normgrad(theta, xi)
        return g + f * lam, {"g": g}
    return est


def gnp_sweep(quick=True, alphas=None, rho=0.05, gam_rho=0.1, gam_alpha=0.3, use_cache=True,
              progress=False, **over):
    """GNP's alpha sweep (its poster recommends alpha = 0.8; alpha = 0 is SGD, 1 is SAM) and
    GAM Table 5: GNP (finite differences), GNP with exact HVPs (= GAM with rho -> 0, alpha*rho
    = the same lambda = alpha*r) and GAM, by test accuracy. Claims: GNP (alpha = 0.8) beats SGD
    (alpha = 0); GAM beats GNP (GAM Table 5); paired by seed. The best alpha by mean is reported
    with the interval of its difference to alpha = 0.8."""
    alphas = tuple(alphas or ((0.0, 0.4, 0.8, 1.0) if quick else (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)))
    if 0.0 not in alphas or 0.8 not in alphas:
        raise ValueError(f"alphas must contain 0.0 (SGD) and 0.8 (GNP's choice), got {alphas}")
    cfg = config(quick, **edge_seeds("gnp_sweep", quick, over))

    def one(kind, s, **hp):
        if kind != "gnp_exact":
            return float(fit(kind, cfg, s, progress=progress, **hp)["test_acc"])
        model, ds = setup(cfg, s)
        base = optim.base.make_base(cfg["base"])
        opt = optim.Optimizer("gam", _gnp_exact(hp["lam"]), base,
                              optim.schedules.as_schedule(cfg["lr"]),
                              optim.schedules.as_schedule(0.0), {"lam": hp["lam"]})
        return float(train(model, ds, opt, cfg["steps"], cfg["batch_size"], s,
                           progress=progress)["test_acc"])

    def run():
        seeds = cfg["seeds"]
        sweep = np.array([[one("gnp", s, rho=rho, alpha=a) for s in seeds] for a in alphas])
        table = np.array([sweep[alphas.index(0.8)],
                          [one("gnp_exact", s, lam=0.8 * rho) for s in seeds],
                          [one("gam", s, rho=gam_rho, alpha=gam_alpha) for s in seeds]])
        return {"sweep": sweep, "table": table}
    r = cached("gnp_sweep", _key(cfg, alphas=alphas, rho=rho, gam_rho=gam_rho,
                                 gam_alpha=gam_alpha), run, use_cache)
    sm, ss = _ms(r["sweep"])
    tm, ts = _ms(r["table"])
    i0, i8 = alphas.index(0.0), alphas.index(0.8)
    best = float(alphas[int(np.argmax(sm))])
    claims = [paired_claim("GNP (poster)", "GNP with alpha = 0.8 beats SGD (alpha = 0)",
                           r["sweep"][i8], r["sweep"][i0], +1, "acc(GNP 0.8) - acc(SGD)", quick),
              paired_claim("GAM Table 5", "GAM beats GNP", r["table"][2], r["table"][0], +1,
                           "acc(GAM) - acc(GNP 0.8)", quick)]
    vs_best = stats.paired(r["sweep"][alphas.index(best)], r["sweep"][i8])
    out = dict(alphas=np.array(alphas), **r, sweep_mean=sm, sweep_std=ss,
               table_rows=("GNP (alpha=0.8)", "GNP exact (GAM, rho->0)", "GAM"),
               table_mean=tm, table_std=ts, best_alpha=best, best_vs_08=vs_best, config=cfg)
    out = headline(out, claims)
    out["note"] += (f" | best alpha by mean: {best}; acc(best) - acc(0.8) = "
                    f"{fmt(dict(vs_best, estimate=vs_best['mean']))} (no claim: "
                    f"{'covers 0' if vs_best['lo'] <= 0 <= vs_best['hi'] else 'excludes 0'})")
    return out
