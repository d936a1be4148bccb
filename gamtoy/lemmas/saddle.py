"""When a saddle attracts SAM, as gamtoy implements SAM: a condition derived here, checked on
quadratic saddles and shown on the `ridge` saddle where SAM's runs end.

SAM (`optim.estimators.sam`, GSAM Eq. 2-3) with the plain gradient step as base:
    w_{t+1} = w_t - lr g(w_t + rho g_t/(|g_t| + xi)).
On the quadratic saddle f = (-a x^2 + b y^2)/2 (eigenvalues -a < 0 < b, eigen-coordinates x, y),
g = (-a x, b y) and, for |g| >> xi (xi = 1e-12 only keeps g = 0 finite), every coordinate is
multiplied by its own factor:

    x_{t+1} = x_t (1 + lr a - lr a^2 rho/|g_t|),     y_{t+1} = y_t (1 - lr b - lr b^2 rho/|g_t|).

In the scaled gradient P = a x/(a rho), Q = b y/(a rho), R = |g|/(a rho) the map depends only on
la = lr a and lb = lr b (rho sets the size of everything, not whether it is trapped):
P' = P (1 + la - la/R), Q' = Q (1 - lb - lb^2/(la R)).

Derived here (not taken from Kim et al.):
  (i) On the negative axis (Q = 0) the map is the tent map |P'| = |(1 + la)|P| - la|: the band
      |x| < rho (the ascent step overshoots the saddle, so SAM's gradient points back at it) maps
      into itself iff la <= 1, and SAM never leaves it; for la > 1 the image of |P| ~ 0 is la > 1.
  (ii) On the positive axis (P = 0) SAM has its minimum's 2-cycle y = +-y*, y* = lr b rho/(2 - lr b)
      (attracting in y iff lr b < 2), where |g| = b y* and R_B = b y*/(a rho) = lb^2/(la (2 - lb)).
      Along it x is multiplied by 1 + la - la/R_B each step: |.| < 1 iff la/(2 + la) < R_B < 1.
  (iii) The y-bounce must stay inside the trap: R_B < 1, i.e. lr b^2 < a (2 - lr b).
Prediction (Eq. S): the saddle attracts SAM (the orbit stays within O(rho) of it forever) iff

    lr b < 2   and   R_B = lr b^2/(a (2 - lr b)) < 1   and   (lr a < 1  or  R_B > lr a/(2 + lr a)).

Kim, Park, Choi, Lee (arXiv 2301.06308) prove that a saddle attracts the un-normalised SAM flow
when rho > 1/a (rho |lambda_min| > 1). gamtoy's SAM normalises the ascent, so near the saddle the
perturbation rho g/|g| is always longer than the distance to it: the trap exists for every
rho > 0, and the condition moves to lr (Eq. S). Inside the trap SAM does not converge with rho
fixed; it converges to the saddle when lr rho -> 0 (GSAM's schedule, rho proportional to lr).
"""
import numpy as np

from .. import landscapes as _landscapes
from ..run import run
from ._check import Check

# settings whose (la, lb) lie within this log-distance of a boundary of Eq. S are left out of the
# verdict (a long transient decides them, not the map): |log(x/x0)| < MARGIN
MARGIN = 0.1
TRAP = 3.0            # observed "stays": max |g|/(a rho) over the second half of the run < TRAP


def predict_attracts(a, b, lr, k=1.0):
    """Eq. S: True where the quadratic saddle (-a, +b) attracts SAM at step size lr. `k` scales
    the trap's threshold R_B < k (k = 1 is the derived value; others are wrong on purpose)."""
    la, lb = lr * np.asarray(a, float), lr * np.asarray(b, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rb = lb ** 2 / (la * (2 - lb))
    return (lb < 2) & (rb < k) & ((la < 1) | (rb > la / (2 + la)))


def near_boundary(a, b, lr, margin=MARGIN):
    """True where (lr a, lr b) lies within `margin` (log scale) of a boundary of Eq. S."""
    la, lb = lr * np.asarray(a, float), lr * np.asarray(b, float)
    rb = lb ** 2 / (la * np.abs(2 - lb))

    def close(u):
        return np.abs(np.log(u)) < margin

    return close(rb) | close(la) | close(lb / 2) | ((la > 1) & close(rb * (2 + la) / la))


def saddle_landscape(a, b, angle=30.0):
    """The quadratic saddle (-a u^2 + b v^2)/2, rotated by `angle` degrees (built-in quadratic)."""
    return _landscapes.get("quadratic", a=-float(a), b=float(b), angle=float(angle))


def observe(a, b, lr, rho, steps=2000, starts=16, angle=30.0, seed=0):
    """Run gamtoy's SAM from `starts` seeded points with |P|, |Q| < 1/2 (inside the trap) and
    return the fraction that stays: never diverged and max |g|/(a rho) over the second half of
    the run below TRAP (an escaping orbit grows like (1 + lr a)^t and leaves the box)."""
    L = saddle_landscape(a, b, angle)
    rng = np.random.default_rng(seed)
    P, Q = rng.uniform(-0.5, 0.5, (2, starts))
    c, s = np.cos(np.radians(angle)), np.sin(np.radians(angle))
    u, v = P * rho, Q * a * rho / b                              # eigen-coordinates
    S = np.stack([c * u - s * v, s * u + c * v], -1)
    tr = run("sam", L, S, steps, lr=lr, rho=rho)
    g = np.linalg.norm(L.grad(tr.points[steps // 2:]), axis=-1) / (a * rho)
    stays = (~tr.diverged) & (g.max(0) < TRAP)
    return float(stays.mean())


GRID = dict(a=(2.0, 7.0, 20.0), b=(0.9, 3.0, 5.0, 9.0), rho=(0.05, 0.3),
            la=(0.03, 0.12, 0.4, 0.7, 0.9, 1.15, 1.5, 1.9))


def saddle_check(grid=GRID, steps=2000, starts=16, k=1.0):
    """Eq. S against gamtoy's SAM on quadratic saddles over a grid of a, b, rho and lr (lr = la/a
    for each la in grid['la']). Per setting: the prediction (with threshold k), the fraction of
    starts that stay, the observation (stays if > 1/2), and whether it is within MARGIN of a
    boundary (left out). Verdict input: the number of disagreements among the rest."""
    rows = []
    for a in grid["a"]:
        for b in grid["b"]:
            for la in grid["la"]:
                lr = la / a
                for rho in grid["rho"]:
                    frac = observe(a, b, lr, rho, steps, starts)
                    rows.append(dict(a=a, b=b, lr=lr, rho=rho, la=lr * a, lb=lr * b, frac=frac,
                                     observed=frac > 0.5,
                                     predicted=bool(predict_attracts(a, b, lr, k)),
                                     near=bool(near_boundary(a, b, lr))))
    judged = [r for r in rows if not r["near"]]
    wrong = [r for r in judged if r["observed"] != r["predicted"]]
    return dict(rows=rows, k=k, n_judged=len(judged), n_near=len(rows) - len(judged),
                n_wrong=len(wrong), wrong=wrong,
                n_attract=sum(r["observed"] for r in judged),
                decisive=float(np.mean([min(r["frac"], 1 - r["frac"]) for r in judged])))


RIDGE_SADDLE = (-1.7831, 0.2040)      # where SAM's runs on `ridge` end (Newton-polished below)
NAMES = ("sgd", "sam", "gsam")


def ridge_saddle_point(guess=RIDGE_SADDLE):
    """The ridge's saddle: Newton's method on the exact gradient from `guess`; (w, eigenvalues)."""
    from ._util import refine_min
    L = _landscapes.get("ridge")
    w = refine_min(L, np.asarray(guess, float))
    return w, np.linalg.eigvalsh(L.hessian(w))


def ridge_saddle(n=6, radius=0.05, names=NAMES, tol=1e-3, steps=None):
    """SGD, SAM and GSAM on `ridge` near its saddle, with the ridge figure's schedule
    (`figures.ridge.ridge_hyper`: cosine lr from 0.05, rho proportional to lr, GSAM alpha 0.3).

    Starts: an n x n grid on the disc's bounding square of side 2 radius around the saddle (kept
    inside the disc). Per optimizer: the fraction of starts that end within `tol` of the saddle
    with |g| < tol, the median distance to it per step, one trajectory for the figure. Eq. S at
    the saddle's eigenvalues, step by step along the schedule: the steps where it predicts
    attraction."""
    from ..figures.ridge import RIDGE_STEPS, ridge_hyper
    steps = RIDGE_STEPS if steps is None else steps
    L = _landscapes.get("ridge")
    w, ev = ridge_saddle_point()
    a, b = -float(ev[0]), float(ev[1])
    u = np.linspace(-radius, radius, n)
    D = np.stack(np.meshgrid(u, u), -1).reshape(-1, 2)
    S = w + D[np.linalg.norm(D, axis=-1) <= radius]
    hyper = ridge_hyper(steps=steps, optimizers=names)
    per = {}
    for nm in names:
        tr = run(nm, L, S, steps, **hyper[nm])
        dist = np.linalg.norm(tr.points - w, axis=-1)
        gn = np.linalg.norm(L.grad(tr.final), axis=-1)
        end = (dist[-1] < tol) & (gn < tol) & ~tr.diverged
        per[nm] = dict(frac_saddle=float(end.mean()), k=int(end.sum()), n=len(S),
                       median_dist=np.median(dist, 1), path=tr.points[:, 0],
                       final_grad=float(np.median(gn)))
    lr_t = np.array([hyper["sam"]["lr"](t) for t in range(1, steps + 1)])
    pred = predict_attracts(a, b, lr_t)
    return dict(saddle=w, eigenvalues=ev, a=a, b=b, per=per, starts=S, radius=radius,
                lr_t=lr_t, predicted=pred, first_attracting_step=int(np.argmax(pred)) + 1,
                frac_steps_attracting=float(pred.mean()), tol=tol, lr_threshold=1 / a)


# ---- the records (gamtoy.lemmas loops over them) ---------------------------------------------
def _quick_grid(quick):
    return dict(GRID, rho=(0.3,)) if quick else GRID


def _judge_grid(d):
    s = d["saddle"]
    return (f"{s['n_wrong']} of {s['n_judged']} settings disagree ({s['n_attract']} attract, "
            f"{s['n_judged'] - s['n_attract']} escape; {s['n_near']} within {MARGIN} (log) of a "
            f"boundary left out); mean min(stay, escape) fraction per setting {s['decisive']:.2f}",
            "0 disagreements; both outcomes present",
            s["n_wrong"] == 0 and 0 < s["n_attract"] < s["n_judged"])


def _judge_ridge(d):
    r = d["ridge_saddle"]
    p = r["per"]
    words = "; ".join(f"{nm} {v['k']}/{v['n']}" for nm, v in p.items())
    attracts_at_end = bool(r["predicted"][-1])
    return (f"Eq. S at eigenvalues ({r['eigenvalues'][0]:.1f}, {r['eigenvalues'][1]:.1f}) "
            f"predicts a trap for lr < {r['lr_threshold']:.4f} (steps >= "
            f"{r['first_attracting_step']}); end at the saddle (|g| < {r['tol']:g}) from "
            f"{p['sam']['n']} starts within {r['radius']} of it: {words}",
            "SAM ends at the saddle from every start where Eq. S predicts a trap; SGD from none",
            attracts_at_end and p["sam"]["k"] == p["sam"]["n"] and p["sgd"]["k"] == 0)


def _saddle_figure(data):
    import matplotlib.pyplot as plt

    from .plots import plot_ridge_saddle, plot_saddle_map
    fig, axs = plt.subplots(1, 3, figsize=(16, 4.8))
    plot_saddle_map(data["saddle"], axs[0], ridge=data["ridge_saddle"])
    plot_ridge_saddle(data["ridge_saddle"], axs[1:])
    return fig


CHECKS = (
    Check("saddle", "a quadratic saddle (-a, +b) attracts SAM iff Eq. S: lr b < 2, "
          "R_B = lr b^2/(a (2 - lr b)) < 1 and (lr a < 1 or R_B > lr a/(2 + lr a)) "
          "(a, b, lr, rho on a grid; 16 starts each)",
          "derived here (gamtoy's normalised SAM); cf. Kim et al. 2023 (arXiv 2301.06308)",
          "gamtoy's SAM run on the quadratic (escape: leaves the box; stays: |g| < 3 a rho)",
          {"saddle": lambda quick: saddle_check(_quick_grid(quick), 1500 if quick else 2000)},
          _judge_grid, ("saddle_attracts_sam", _saddle_figure)),
    Check("ridge_saddle", "SAM and GSAM converge to the ridge's saddle (GSAM's -g_perp ascent "
          "does not help it escape); SGD leaves it", "GSAM Fig. 3 setting; Eq. S",
          "Newton-polished saddle, eigvalsh; the ridge figure's schedule",
          {"ridge_saddle": lambda quick: ridge_saddle()}, _judge_ridge),
)
