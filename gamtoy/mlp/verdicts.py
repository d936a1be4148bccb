"""A claim of a paper checked over seeds: a paired difference, its 95% Student t interval, a
verdict.

    d_s = stat(A, seed s) - stat(B, seed s)    (same seed: same data, same init, same batches)

The interval is the Student t interval of mean(d) (`gamtoy.stats.paired`; its coverage at 5 and 8
seeds is measured in tests/test_stats.py). The verdict is `gamtoy.stats.verdict` of it:
`reproduces` if it lies on the paper's side of 0, `contradicts` if on the other side,
`inconclusive` if it covers 0 (in quick mode as in full mode: the verdict is the interval's, never
the mode's).
"""
import numpy as np

from .. import stats


def fmt(c):
    """'estimate [lo, hi]' of a claim, 3 significant digits."""
    return f"{c['estimate']:.3g} [{c['lo']:.3g}, {c['hi']:.3g}]"


def paired_claim(paper, claim, a, b, expected_sign, what, quick=False):
    """The claim "mean(a - b) has sign expected_sign" (+1: a > b) as a dict: paper, claim, what,
    expected_sign, estimate, lo, hi, n, verdict, note. a, b: one number per seed, same order."""
    a, b = np.asarray(a, float).ravel(), np.asarray(b, float).ravel()
    if a.shape != b.shape:
        raise ValueError(f"paired samples need one value per seed each, got {a.shape}, {b.shape}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError(f"{paper} ({what}): non-finite values among the seeds: {a}, {b}")
    p = stats.paired(a, b)
    v = stats.verdict(p["lo"], p["hi"], expected_sign)
    side = "> 0" if expected_sign > 0 else "< 0"
    c = dict(estimate=p["mean"], lo=p["lo"], hi=p["hi"])
    note = (f"{paper}: {claim} - {v.upper()}: {what} = {fmt(c)} (paper: {side}; paired over "
            f"{p['n']} seeds, 95% {p['method']} interval{', quick mode' if quick else ''})")
    if v == "inconclusive":
        note += "; the interval covers 0"
    elif v == "contradicts":
        note += "; the toy contradicts the paper here"
    return dict(paper=paper, claim=claim, what=what, expected_sign=int(expected_sign),
                estimate=p["mean"], lo=p["lo"], hi=p["hi"], n=p["n"], verdict=v, note=note,
                quick=bool(quick), method=p["method"])


def threshold_claim(paper, claim, x, threshold, expected_sign, what, quick=False):
    """The claim "mean(x) - threshold has sign expected_sign" (x: one number per seed)."""
    x = np.asarray(x, float).ravel()
    return paired_claim(paper, claim, x, np.full_like(x, float(threshold)), expected_sign,
                        f"{what} - {threshold}", quick)


def headline(result, claims):
    """Put the first claim's verdict, interval, estimate and note at the top of an experiment's
    result (with `claims`, the full list); `reproduces` is `verdict == 'reproduces'`."""
    c = claims[0]
    result.update(claims=claims, verdict=c["verdict"], interval=(c["lo"], c["hi"]),
                  estimate=c["estimate"], note=" | ".join(k["note"] for k in claims),
                  reproduces=c["verdict"] == "reproduces")
    return result


def table(results):
    """A markdown table of every claim of every experiment: {name: result} -> str."""
    rows = [f"| experiment | paper | claim | statistic (paired over seeds) | estimate [95% "
            f"{stats.PAIRED_METHOD} CI] | n (seeds) | verdict (at the centre; over the lr cells) |",
            "|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        for c in r["claims"]:
            side = "> 0" if c["expected_sign"] > 0 else "< 0"
            over = c.get("over")
            word = f"**{c['verdict']}**"
            if over:   # the text without the word it starts with: '**mixed** (reproduces at ...)'
                t = over["text"]
                for lead in ("mixed: ", f"{over['verdict']}; "):
                    t = t[len(lead):] if t.startswith(lead) else t
                word = f"**{over['verdict']}** ({t})"
            rows.append(f"| {name} | {c['paper']} | {c['claim']} | {c['what']} (paper: {side}) | "
                        f"{fmt(c)} | {c['n']} | {word} |")
    return "\n".join(rows) + "\n"
