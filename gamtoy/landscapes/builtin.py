"""The built-in landscapes, one SymPy expression each (derivatives are exact and compiled).

Each builder takes its parameters as keywords (defaults make the landscape's point) and returns a
`Landscape`. The registry in `gamtoy.landscapes` compiles each one on first use.
"""
import numpy as np
import sympy as sp

from .symbolic import blend, compile_landscape, x, y


def quadratic(a=4.0, b=0.25, angle=30.0):
    """Rotated anisotropic quadratic L = (a u^2 + b v^2)/2 in coordinates rotated by `angle` degrees.

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
    return compile_landscape("himmelblau", expr, ((-5, 5), (-5, 5)), minima=minima,
                             doc=himmelblau.__doc__, params={})


def rastrigin(A=1.0, k=2.0):
    """Rastrigin-like bowl L = (x^2 + y^2)/2 + A (2 - cos(k pi x) - cos(k pi y)): many sharp minima."""
    expr = (x ** 2 + y ** 2) / 2 + A * (2 - sp.cos(k * sp.pi * x) - sp.cos(k * sp.pi * y))
    return compile_landscape("rastrigin", expr, ((-3, 3), (-3, 3)), minima=[[0, 0]],
                             doc=rastrigin.__doc__, params=dict(A=A, k=k))


def fig1a(rho=0.5, c=1.0, ripple=0.3, periods=2, sep=2.0, cy=0.5):
    """GAM Figure 1a: the ball covers several minima.

    Two valleys with the same curvature c: A at x = -sep is smooth, B at x = +sep carries a ripple
    a sin^2(k u / 2) with k = 2 pi periods / rho, so B has several local minima inside the ball.
    The ripple vanishes at |u| = rho and a = ripple c rho^2 keeps every interior bump below the
    edge, so both valleys have the same zeroth-order flatness R0 = c rho^2; B's steeper walls give
    it the larger first-order flatness R1 (and the larger loss under a shift of the test landscape).
    `minima` = (A, B): the valley first-order flatness prefers first.
    """
    k = 2 * sp.pi * periods / rho
    a = ripple * c * rho ** 2
    uA, uB = x + sep, x - sep
    fA = c * uA ** 2 + cy * y ** 2
    fB = c * uB ** 2 + a * sp.sin(k * uB / 2) ** 2 + cy * y ** 2
    expr = blend([fA, fB], [0.0], k=3.0)
    L = compile_landscape("fig1a", expr, ((-sep - 2, sep + 2), (-2, 2)),
                          minima=[[-sep, 0.0], [sep, 0.0]], doc=fig1a.__doc__,
                          params=dict(rho=rho, c=c, ripple=ripple, periods=periods, sep=sep, cy=cy))
    L.rho = rho
    return L


def fig1b(rho=0.5, c=1.0, ratio=0.6, p=6, sep=2.0, cy=0.5):
    """GAM Figure 1b: the ball covers a single minimum.

    Valley A at x = -sep is a parabola c u^2. Valley B at x = +sep is s u^p with s rho^p =
    ratio c rho^2: flatter inside the ball (R0(B) = ratio R0(A) < R0(A), so zeroth-order flatness
    prefers B) but rising steeply just outside it; its maximal slope in the ball is p/2 ratio times
    A's, so R1(B) > R1(A) when ratio > 2/p, and first-order flatness prefers A, which also keeps the
    lower loss under a shift larger than the ball. `minima` = (A, B).
    """
    s = ratio * c * rho ** 2 / rho ** p
    uA, uB = x + sep, x - sep
    fA = c * uA ** 2 + cy * y ** 2
    fB = s * uB ** p + cy * y ** 2
    expr = blend([fA, fB], [0.0], k=3.0)
    L = compile_landscape("fig1b", expr, ((-sep - 2, sep + 2), (-2, 2)),
                          minima=[[-sep, 0.0], [sep, 0.0]], doc=fig1b.__doc__,
                          params=dict(rho=rho, c=c, ratio=ratio, p=p, sep=sep, cy=cy))
    L.rho = rho
    return L


def gsam_fig1(rho=0.5, curv=(8.0, 2.0, 0.5), sep=2.5, cy=0.5):
    """GSAM Figure 1: three minima w1, w2, w3 (left to right) from sharp to flat.

    Valley i is d_i + c_i u^2 with c_1 > c_2 > c_3, d_2 = d_3 = 0 and d_1 = (c_3 - c_1) rho^2, so the
    perturbed loss f_p = d + c rho^2 is equal at w1 and w3 and larger at w2: SAM (which minimises
    f_p) prefers the sharpest w1 as much as the flattest w3, while the surrogate gap h = c rho^2
    orders them by sharpness (GSAM Lemma 3.1 and 3.3).
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
    return L


def ridge(wall=2.0, bend=0.4, drop=1.5, x_flat=2.0, flat_curv=0.05, wells=(-2.0, -1.0, 0.0, 1.0),
          depth=0.25, width=0.12):
    """GSAM Figure 3: a valley along the curve y = bend sin(x) whose floor descends to a flat basin,
    with sharp local minima (narrow wells of `depth` and `width`) on its floor.

    Gradient descent from the valley's side falls into a sharp well; the flat basin at
    x ~ x_flat has small curvature in every direction (a flat, wide minimum).
    """
    centre = bend * sp.sin(x)
    floor = drop * (1 - sp.tanh(x - x_flat + 1)) / 2 + flat_curv * (x - x_flat) ** 2
    walls = wall * (y - centre) ** 2 * (0.15 + 0.85 * (1 - sp.tanh(x - x_flat + 1)) / 2)
    holes = sum(depth * sp.exp(-((x - w) ** 2 + (y - bend * sp.sin(w)) ** 2) / (2 * width ** 2))
                for w in wells)
    expr = floor + walls - holes
    minima = [[x_flat, float(bend * np.sin(x_flat))]] + [[w, float(bend * np.sin(w))] for w in wells]
    return compile_landscape("ridge", expr, ((-3.5, 4.0), (-2.0, 2.0)), minima=minima,
                             doc=ridge.__doc__,
                             params=dict(wall=wall, bend=bend, drop=drop, x_flat=x_flat,
                                         flat_curv=flat_curv, wells=tuple(wells), depth=depth,
                                         width=width))


BUILDERS = {f.__name__: f for f in (quadratic, rosenbrock, himmelblau, rastrigin, fig1a, fig1b,
                                    gsam_fig1, ridge)}
