"""The built-in landscapes, one SymPy expression each (derivatives are exact and compiled).

Each builder takes its parameters as keywords (defaults make the landscape's point) and returns a
`Landscape`. The registry in `gamtoy.landscapes` compiles each one on first use.
"""
import numpy as np
import sympy as sp

from .symbolic import blend, compile_landscape, x, y


def quadratic(a=4.0, b=0.25, angle=30.0):
    """Rotated anisotropic quadratic L = (a u^2 + b v^2)/2 in coordinates rotated by `angle`
    degrees.

    The simplest sharp/flat contrast: Hessian eigenvalues a and b everywhere, minimum at 0, so
    GAM Lemma 4.1 (lambda_max = R1/rho^2) and GSAM Lemma 3.3 (sigma_max = 2h/rho^2) hold exactly.
    """
    c, s = sp.cos(sp.rad(angle)), sp.sin(sp.rad(angle))
    u, v = c * x + s * y, -s * x + c * y
    expr = (a * u ** 2 + b * v ** 2) / 2
    return compile_landscape("quadratic", expr, ((-3, 3), (-3, 3)), minima=[[0, 0]],
                             doc=quadratic.__doc__, params=dict(a=a, b=b, angle=angle))


def rosenbrock(a=1.0, b=100.0):
    """Rosenbrock's banana L = (a - x)^2 + b (y - x^2)^2: a curved, badly conditioned valley."""
    expr = (a - x) ** 2 + b * (y - x ** 2) ** 2
    return compile_landscape("rosenbrock", expr, ((-2, 2), (-1, 3)), minima=[[a, a * a]],
                             doc=rosenbrock.__doc__, params=dict(a=a, b=b))


def himmelblau():
    """Himmelblau's function: four minima of equal value (0) with different curvatures."""
    expr = (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2
    minima = [[3.0, 2.0], [-2.805118, 3.131312], [-3.779310, -3.283186], [3.584428, -1.848127]]
    L = compile_landscape("himmelblau", expr, ((-5, 5), (-5, 5)), minima=minima,
                          doc=himmelblau.__doc__, params={})
    L.minima = _polish(L, L.minima)
    return L


def rastrigin(A=1.0, k=2.0):
    """Rastrigin-like bowl L = (x^2 + y^2)/2 + A (2 - cos(k pi x) - cos(k pi y)): many sharp
    minima."""
    expr = (x ** 2 + y ** 2) / 2 + A * (2 - sp.cos(k * sp.pi * x) - sp.cos(k * sp.pi * y))
    return compile_landscape("rastrigin", expr, ((-3, 3), (-3, 3)), minima=[[0, 0]],
                             doc=rastrigin.__doc__, params=dict(A=A, k=k))


# largest b with b sin^2(pi m t) <= t on [0, 1] is B_MAX / m (min of t / sin^2(pi t) on [0, 1])
_B_MAX = 0.4392836


def fig1a(rho=0.5, c=1.0, ripple=0.1, periods=2, sep=2.0, cy=0.5):
    """GAM Figure 1a: the ball B(theta, rho) covers several minima.

    Two valleys, A at x = -sep and B at x = +sep, both c u^2 + cy y^2 (cy <= c). B also carries a
    radial ripple a sin^2(pi m s), s = |theta - B|^2 / rho^2, m = `periods`: it vanishes at the
    centre and on the sphere |theta - B| = rho, so B has `periods` rings of local minima inside the
    ball. a = ripple c rho^2 keeps every interior bump below the edge while ripple <= B_MAX/m
    (0.11 for m <= 4), so both valleys have the same zeroth-order flatness R0 = c rho^2 (GAM Eq. 2)
    for every m: R0 cannot tell the rippled valley from the smooth one, nor count the ripples.
    B's steeper walls give it the larger first-order flatness R1 (Eq. 3), growing with m, and the
    larger expected loss under a random shift of the test landscape.
    `minima` = (A, B): the valley first-order flatness prefers first.
    """
    a = ripple * c * rho ** 2
    uA, uB = x + sep, x - sep
    s = (uB ** 2 + y ** 2) / rho ** 2
    fA = c * uA ** 2 + cy * y ** 2
    fB = c * uB ** 2 + cy * y ** 2 + a * sp.sin(sp.pi * periods * s) ** 2
    expr = blend([fA, fB], [0.0], k=4.0)
    L = compile_landscape("fig1a", expr, ((-sep - 1.5, sep + 1.5), (-1.5, 1.5)),
                          minima=[[-sep, 0.0], [sep, 0.0]], doc=fig1a.__doc__,
                          params=dict(rho=rho, c=c, ripple=ripple, periods=periods, sep=sep, cy=cy))
    L.rho = rho
    L.minima = _polish(L, L.minima)
    L.minimum_names = ["A", "B"]
    return L


def fig1b(rho=0.5, c=1.0, ratio=0.5 ** 0.5, p=4, sep=2.0, cy=0.5):
    """GAM Figure 1b: the ball B(theta, rho) covers a single minimum.

    Valley A at x = -sep is c u^2; valley B at x = +sep is s u^p with s rho^p = ratio c rho^2
    (both + cy y^2, cy <= c). Inside the ball B is flatter, R0(B) = ratio R0(A) (GAM Eq. 2), so
    zeroth-order flatness prefers B; but B rises steeply just outside the ball: its largest slope
    in the ball is p/2 ratio times A's, so R1(B) > R1(A) (Eq. 3) when ratio > 2/p, and first-order
    flatness prefers A, which also has the lower expected loss under a random shift of the test
    landscape of scale >= rho. For a radius r (the landscape fixed) R0 prefers B while
    r < rho ratio^(-1/(p-2)) and R1 prefers A while r > rho (2/(p ratio))^(1/(p-2)): with the
    defaults (p = 4, ratio = 2^-1/2) both hold on r in (0.84 rho, 1.19 rho). `minima` = (A, B).
    """
    s = ratio * c * rho ** 2 / rho ** p
    uA, uB = x + sep, x - sep
    fA = c * uA ** 2 + cy * y ** 2
    fB = s * uB ** p + cy * y ** 2
    expr = blend([fA, fB], [0.0], k=6.0)
    L = compile_landscape("fig1b", expr, ((-sep - 1.5, sep + 1.5), (-1.5, 1.5)),
                          minima=[[-sep, 0.0], [sep, 0.0]], doc=fig1b.__doc__,
                          params=dict(rho=rho, c=c, ratio=ratio, p=p, sep=sep, cy=cy))
    L.rho = rho
    L.minima = _polish(L, L.minima)
    L.minimum_names = ["A", "B"]
    return L


def gsam_fig1(rho=0.5, curv=(8.0, 2.0, 0.5), sep=2.5, cy=0.5):
    """GSAM Figure 1: three minima w1, w2, w3 (left to right) from sharp to flat.

    Valley i is d_i + c_i u^2 with c_1 > c_2 > c_3, d_2 = d_3 = 0 and d_1 = (c_3 - c_1) rho^2, so
    the perturbed loss f_p = d + c rho^2 is equal at w1 and w3 and larger at w2: SAM (which
    minimises f_p) prefers the sharpest w1 as much as the flattest w3, while the surrogate gap h = c
    rho^2 orders them by sharpness (GSAM Lemma 3.1 and 3.3).
    """
    c1, c2, c3 = curv
    d1 = (c3 - c1) * rho ** 2
    f1 = d1 + c1 * (x + sep) ** 2 + cy * y ** 2
    f2 = c2 * x ** 2 + cy * y ** 2
    f3 = c3 * (x - sep) ** 2 + cy * y ** 2
    expr = blend([f1, f2, f3], [-sep / 2, sep / 2], k=4.0)
    L = compile_landscape("gsam_fig1", expr, ((-sep - 1.5, sep + 1.5), (-2, 2)),
                          minima=[[-sep, 0.0], [0.0, 0.0], [sep, 0.0]], doc=gsam_fig1.__doc__,
                          params=dict(rho=rho, curv=tuple(curv), sep=sep, cy=cy))
    L.rho = rho
    L.minima = _polish(L, L.minima)
    L.minimum_names = ["w1", "w2", "w3"]
    return L


def ridge(wall=2.05, bend=0.0, drop=0.38, x_flat=2.5, flat_curv=0.04,
          wells=((-2.30, 0.28), (-1.88, 0.26), (-1.33, 0.35), (-1.08, 0.35)), depth=0.164,
          width=0.0575):
    """GSAM Figure 3: a valley whose floor (the "ridge" line y = bend sin x) descends with slope
    `drop` to a flat basin near x = x_flat, with a row of sharp Gaussian wells (`depth`, `width`)
    on its upper wall, just above the floor, where runs from the upper wall arrive.

    Designed for GSAM's schedule (cosine lr 0.05 -> 0.0025, rho_t proportional to lr_t from 0.3,
    alpha = 0.3; see `gamtoy.figures.ridge`): SGD feels every well it passes and ends in one in
    most runs (lambda_max ~ 48); SAM, whose ascent point jumps over wells narrower than rho, ends
    in the flat basin (lambda_max ~ 0.46) or converges to a saddle of the ridge beside well 2
    (Hessian eigenvalues -20.3 and +9.0), and GSAM ends in the flat basin more often than both;
    the fractions, with their intervals and the neighbourhood where they hold, are in
    `figures/ridge_basins.md`. `minima` = (flat basin, wells left to right), exact (Newton-polished,
    |grad| < 1e-10); `critical_points` adds the four saddles s1-s4, one beside each well.
    """
    centre = bend * sp.sin(x)
    b = 0.4
    floor = drop * b * sp.log(1 + sp.exp(-(x - x_flat) / b)) + flat_curv * (x - x_flat) ** 2
    env = 0.2 + 0.8 * (1 - sp.tanh(x - x_flat + 1)) / 2
    walls = wall / 2 * (y - centre) ** 2 * env
    holes = sum(depth * sp.exp(-((x - wx) ** 2 + (y - bend * np.sin(wx) - wy) ** 2)
                               / (2 * width ** 2))
                for wx, wy in wells)
    nominal = [[x_flat, float(bend * np.sin(x_flat))]] + [[wx, float(bend * np.sin(wx) + wy)]
                                                           for wx, wy in wells]
    L = compile_landscape("ridge", floor + walls - holes, ((-3.5, 4.0), (-2.0, 2.0)),
                          minima=nominal, doc=ridge.__doc__,
                          params=dict(wall=wall, bend=bend, drop=drop, x_flat=x_flat,
                                      flat_curv=flat_curv, wells=tuple(map(tuple, wells)),
                                      depth=depth, width=width))
    L.minima = _descend(L, L.minima, lr=0.002)
    L.minimum_names = ["flat basin"] + [f"well {i}" for i in range(1, len(wells) + 1)]
    return L


def _descend(L, P, lr=0.005, steps=4000):
    """Refine approximate minima by plain gradient descent (vectorised), then polish with Newton."""
    P = np.array(P, float)
    for _ in range(steps):
        P = P - lr * L.grad(P)
    return _polish(L, P)


def _polish(L, P, iters=50, tol=1e-12, max_move=0.5):
    """Newton's method on grad L = 0 from each row of P; each result must be a strict minimum
    (|grad| < 1e-10, Hessian positive definite, within `max_move` of where it started)."""
    P0 = np.array(P, float).reshape(-1, 2)
    P = P0.copy()
    for _ in range(iters):
        g = L.grad(P)
        if np.all(np.linalg.norm(g, axis=-1) < tol):
            break
        P = P - np.linalg.solve(L.hessian(P), g[..., None])[..., 0]
    gn = np.linalg.norm(L.grad(P), axis=-1)
    eig = np.linalg.eigvalsh(L.hessian(P))
    moved = np.linalg.norm(P - P0, axis=-1)
    bad = (gn >= 1e-10) | (eig[:, 0] <= 0) | (moved > max_move)
    if np.any(bad):
        raise RuntimeError(f"{L.name}: minima {P0[bad].tolist()} did not polish to strict minima "
                           f"(|grad| {gn[bad].tolist()}, lambda_min {eig[bad, 0].tolist()})")
    return P


BUILDERS = {f.__name__: f for f in (quadratic, rosenbrock, himmelblau, rastrigin, fig1a, fig1b,
                                    gsam_fig1, ridge)}
