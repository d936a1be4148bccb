"""The public API carries type hints (issue: a package a researcher can read in an editor): every
parameter of the functions the README and the docs name is annotated, and each annotation
resolves (typing.get_type_hints evaluates the strings, so a misspelt name fails here)."""
import inspect
import typing

import pytest

import gamtoy as gt
import gamtoy.stats as stats

PUBLIC = [gt.run, gt.optim.get, gt.landscapes.get, gt.landscapes.from_function,
          *(getattr(gt.flatness, n)
            for n in ("r0", "r1", "surrogate_gap", "gam_point", "sam_point")),
          *(getattr(stats, n) for n in ("wilson", "paired", "fraction_diff", "paired_fraction_diff",
                                        "newcombe_paired", "verdict", "fmt"))]
# untyped on purpose: callables of any signature, and the torch process group (any backend)
LOOSE = {"stat", "process_group", "scaler"}


def _torch_public():
    torch_mod = pytest.importorskip("gamtoy.torch")
    return [torch_mod.get, *(c.__init__ for c in (torch_mod.SAM, torch_mod.GAM, torch_mod.SAMGAM,
                                                  torch_mod.GSAMGAM)),
            torch_mod.FlatnessOptimizer.__init__, torch_mod.FlatnessOptimizer.step]


def _check(f):
    hints = typing.get_type_hints(f)
    bare = [p.name for p in inspect.signature(f).parameters.values()
            if p.name not in hints and p.name != "self" and p.name not in LOOSE
            and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
    assert not bare, f"{f.__module__}.{f.__qualname__}: parameters without a type hint: {bare}"


@pytest.mark.parametrize("f", PUBLIC, ids=lambda f: f"{f.__module__}.{f.__name__}")
def test_the_public_numpy_api_is_annotated_and_its_hints_resolve(f):
    _check(f)


def test_the_torch_optimizers_are_annotated_and_their_hints_resolve():
    for f in _torch_public():
        _check(f)
