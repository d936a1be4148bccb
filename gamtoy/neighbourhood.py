"""A verdict over a neighbourhood of settings: the cells, the verdict over them, the headline text.

A claim is a headline only if its verdict holds in every cell of a neighbourhood of the setting
it was checked at: each of the setting's parameters times `factors`, either one parameter at a
time beside the centre, or every combination. Used by the ridge (GSAM Fig. 3), GAM Fig. 1 and
the MLP miniatures. The centre is always the first cell.
"""
import itertools

VERDICT_WORDS = ("reproduces", "inconclusive", "contradicts")


def factor_cells(k, factors=(0.8, 1.0, 1.25), one_at_a_time=False):
    """The cells of a neighbourhood of k parameters, as tuples of k factors, the centre (all 1)
    first. one_at_a_time: the centre, then each parameter moved alone to each factor != 1
    (1 + k (len(factors) - 1) cells if 1 is among the factors); else every combination of
    `factors` (the centre first, the others in product order)."""
    if k < 1:
        raise ValueError(f"a neighbourhood needs at least one parameter, got k={k}")
    centre = (1.0,) * k
    moved = [float(f) for f in factors if f != 1.0]
    if one_at_a_time:
        return [centre] + [tuple(f if i == j else 1.0 for j in range(k)) for i in range(k)
                           for f in moved]
    full = [tuple(float(f) for f in c) for c in itertools.product(factors, repeat=k)]
    return [centre] + [c for c in full if c != centre]


def cells(base, factors=(0.8, 1.0, 1.25), one_at_a_time=False):
    """The settings of the neighbourhood of `base` (a tuple of parameter values): each value times
    its factor in `factor_cells`, the centre (base itself) first."""
    base = tuple(float(v) for v in base)
    return [tuple(b * f for b, f in zip(base, c, strict=True))
            for c in factor_cells(len(base), factors, one_at_a_time)]


def over_cells(words):
    """A claim's verdict over the cells of a neighbourhood of settings (words[0]: the centre cell).

    {"verdict", "centre", "k", "n", "text"}: `verdict` is the centre's word when every cell agrees
    (a headline, text 'reproduces; holds in 5/5 cells'), else 'mixed' (text 'mixed: inconclusive
    at the centre, same in 3/5 cells (1 reproduce, 3 inconclusive, 1 contradict)')."""
    words = list(words)
    if not words:
        raise ValueError("over_cells needs the verdict of at least one cell, got none")
    n, centre = len(words), words[0]
    k = words.count(centre)
    if k == n:
        return {"verdict": centre, "centre": centre, "k": k, "n": n,
                "text": f"{centre}; holds in {k}/{n} cells"}
    c = {w: words.count(w) for w in VERDICT_WORDS}
    return {"verdict": "mixed", "centre": centre, "k": k, "n": n,
            "text": f"mixed: {centre} at the centre, same in {k}/{n} cells ({c['reproduces']} "
                    f"reproduce, {c['inconclusive']} inconclusive, {c['contradicts']} contradict)"}


def summarise_verdicts(words):
    """One word if every cell agrees, else 'mixed (k reproduce, j inconclusive, i contradict)'."""
    words = list(words)
    if not words:
        raise ValueError("summarise_verdicts needs the verdict of at least one cell, got none")
    if len(set(words)) == 1:
        return words[0]
    c = {w: words.count(w) for w in VERDICT_WORDS}
    return (f"mixed ({c['reproduces']} reproduce, {c['inconclusive']} inconclusive, "
            f"{c['contradicts']} contradict)")


def verdicts_over(rows, keys, word):
    """For each claim key: {"verdict": `summarise_verdicts`, "over": `over_cells`} of
    word(row, key) over `rows` (one per cell, the centre first)."""
    words = {k: [word(r, k) for r in rows] for k in keys}
    return ({k: summarise_verdicts(w) for k, w in words.items()},
            {k: over_cells(w) for k, w in words.items()})


def where_text(names, base, factors, one_at_a_time):
    """'lr = 0.05, rho = 0.3, each x {0.8, 1.25}, one at a time beside the centre'."""
    shown = [f for f in factors if not one_at_a_time or f != 1.0]
    f = ", ".join(f"{v:g}" for v in shown)
    how = "one at a time beside the centre" if one_at_a_time else "all combinations"
    vals = ", ".join(f"{nm} = {v:g}" for nm, v in zip(names, base, strict=False))
    return f"{vals}, each x {{{f}}}, {how}"


def headline_line(label, over, where, n_text, interval):
    """One headline:
    '- label: reproduces; holds in 5/5 cells (where; n_text per cell; interval)'."""
    return f"- {label}: {over['text']} ({where}; {n_text} per cell; {interval})"
