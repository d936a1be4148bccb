"""Notebook 04's exercises: each reference solution passes; a typical wrong answer gets a message
that says what is wrong."""
import numpy as np
import pytest

from gamtoy import exercises as ex
from gamtoy.exercises import mlp as M
from gamtoy.exercises import solutions as S
from gamtoy.exercises._check import ExerciseError


@pytest.mark.parametrize("name", M.__all__)
def test_reference_solution_passes(name):
    assert getattr(ex, name)(getattr(S, f"solution_{name}")).endswith("correct.")


def test_hvp_without_weight_decay_or_by_finite_differences_is_diagnosed():
    def no_wd(m, th, v, X, y):
        return m.hvp(th, v, X, y) - m.wd * v

    def fd(m, th, v, X, y, h=1e-4):
        return (m.grad(th + h * v, X, y) - m.grad(th - h * v, X, y)) / (2 * h)

    with pytest.raises(ExerciseError, match="weight-decay term"):
        M.check_hvp(no_wd)
    with pytest.raises(ExerciseError, match="finite difference"):
        M.check_hvp(fd)
    with pytest.raises(ExerciseError, match="wrong sign"):
        M.check_hvp(lambda m, th, v, X, y: -m.hvp(th, v, X, y))


def test_normgrad_mistakes_are_diagnosed():
    def no_wd(m, th, X, y):
        g = m.grad(th, X, y)
        return m.hvp(th, g / np.linalg.norm(g), X, y) - m.wd * g / np.linalg.norm(g)

    with pytest.raises(ExerciseError, match="wd g/|g|"):
        M.check_normgrad(no_wd)
    with pytest.raises(ExerciseError, match="divide by"):
        M.check_normgrad(lambda m, th, X, y: m.hvp(th, m.grad(th, X, y), X, y))


def test_an_unpaired_verdict_is_told_to_pair_the_seeds():
    def unpaired(a, b, sign):
        d, s = np.mean(a) - np.mean(b), np.std(a) + np.std(b)
        if abs(d) < s:
            return "inconclusive"
        return "reproduces" if np.sign(d) == sign else "contradicts"

    with pytest.raises(ExerciseError, match="per seed"):
        M.check_paired_verdict(unpaired)
    with pytest.raises(ExerciseError, match="return one of"):
        M.check_paired_verdict(lambda a, b, s: True)
    with pytest.raises(ExerciseError, match="expected_sign"):
        M.check_paired_verdict(lambda a, b, s: S.solution_check_paired_verdict(a, b, 1))


def test_surrogate_gap_and_cost_mistakes_are_diagnosed():
    with pytest.raises(ExerciseError, match="normalise"):
        M.check_mlp_surrogate_gap(lambda f, g, w, rho: f(w + rho * g(w)) - f(w))
    with pytest.raises(ExerciseError, match="wrong sign"):
        M.check_mlp_surrogate_gap(
            lambda f, g, w, rho: -S.solution_check_surrogate_gap(f, g, w, rho))
    with pytest.raises(ExerciseError, match="divide by the base"):
        M.check_mixed_cost(lambda fr, cb, cg: (1 - fr) * cb + fr * cg)
    with pytest.raises(ExerciseError, match="other"):
        M.check_mixed_cost(lambda fr, cb, cg: fr * cg / cb)
