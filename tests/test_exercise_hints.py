"""The exercises' tiered hints (a nudge, a hint, the formula last) and the student's own exception
named by every checker instead of escaping as a raw traceback."""
import numpy as np
import pytest

from gamtoy import exercises as E
from gamtoy.exercises import hints as H
from gamtoy.exercises import solutions as S

CHECKERS = sorted(n for n in dir(E) if n.startswith("check_"))


@pytest.fixture(autouse=True)
def _fresh():
    E.reset_hints()
    yield
    E.reset_hints()


def _wrong_w_adv(L, theta, rho, xi=1e-12):
    g = L.grad(theta)
    return theta - rho * g / (np.linalg.norm(g) + xi)   # the sign


def _message(checker, fn):
    with pytest.raises(E.ExerciseError) as e:
        checker(fn)
    return str(e.value)


def test_every_checker_has_three_tiers_the_formula_last():
    assert set(CHECKERS) == set(H.HINTS)
    for name, tiers in H.HINTS.items():
        assert len(tiers) == 3 and all(t.strip() for t in tiers), name
        assert "=" not in tiers[0], f"{name}: the nudge gives the formula away"
        assert "=" in tiers[2] or "->" in tiers[2] or "/" in tiers[2], \
            f"{name}: no formula at the end"


def test_a_wrong_answer_gets_hint_1_then_2_then_the_formula():
    msgs = [_message(E.check_w_adv, _wrong_w_adv) for _ in range(4)]
    nudge, hint, formula = H.HINTS["check_w_adv"]
    assert "hint 1/3" in msgs[0] and nudge in msgs[0] and formula not in msgs[0]
    assert "rho g/" not in msgs[0] and "rho g/" not in msgs[1]   # no formula before the third try
    assert "hint 2/3" in msgs[1] and hint in msgs[1] and formula not in msgs[1]
    assert "hint 3/3 (the formula)" in msgs[2] and formula in msgs[2]
    assert "hint 3/3 (the formula)" in msgs[3]   # it stays at the formula
    # the diagnosis (what is wrong, on which case) comes every time
    assert all("sign" in m and "fig1a" in m for m in msgs)


def test_the_tiers_count_per_checker_and_reset():
    _message(E.check_w_adv, _wrong_w_adv)
    m = _message(E.check_prefers, lambda a, b, rt: "A" if a > b else "B")
    assert "hint 1/3" in m   # another checker starts at its own first hint
    assert "hint 2/3" in _message(E.check_w_adv, _wrong_w_adv)
    E.reset_hints("check_w_adv")
    assert "hint 1/3" in _message(E.check_w_adv, _wrong_w_adv)


def test_a_correct_answer_passes_without_a_hint():
    _message(E.check_w_adv, _wrong_w_adv)
    assert E.check_w_adv(S.solution_check_w_adv) == "w_adv: correct."


def _raises(*args, **kwargs):
    raise KeyError("my_own_bug")


@pytest.mark.parametrize("name", CHECKERS)
def test_every_checker_names_the_students_own_exception(name):
    with pytest.raises(E.StudentError) as e:
        getattr(E, name)(_raises)
    msg = str(e.value)
    assert name in msg and "your function raised KeyError" in msg and "my_own_bug" in msg
    assert isinstance(e.value.__cause__, KeyError)   # the traceback is kept for whoever wants it
    assert "hint" not in msg          # an exception is not a wrong answer: no hint used up


def test_a_students_exception_deep_inside_the_case_is_named_too():
    def half_right(L, theta, rho, xi=1e-12):
        if L.name == "ridge":
            return np.linalg.cholesky(-np.eye(2))   # raises LinAlgError on the second case
        return S.solution_check_w_adv(L, theta, rho, xi)
    with pytest.raises(E.StudentError, match="LinAlgError"):
        E.check_w_adv(half_right)


@pytest.mark.parametrize("checker, wrong", [
    (E.check_sam_direction, lambda grad, w, rho: grad(w - rho * grad(w) / np.linalg.norm(grad(w)))),
    (E.check_gsam_direction, lambda g, gp, a: gp + a * (g - (g @ gp) / (gp @ gp) * gp)),
    (E.check_rho_schedule, lambda lr, lo, hi, rm: rm * lr / hi),
])
def test_core_checkers_keep_the_formula_for_the_third_try(checker, wrong):
    formula = H.HINTS[checker.__name__][2]
    first = _message(checker, wrong)
    assert formula not in first and "hint 1/3" in first
    _message(checker, wrong)
    assert formula in _message(checker, wrong)
