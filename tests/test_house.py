"""The house: imports flow one way (landscapes/MLP -> optim -> run/flatness -> lemmas/figures ->
widgets/notebooks), every path CONTRIBUTING.md names exists, and the public seams (a
landscape's compiled oracle, the run's divergence box) are what run.py uses."""
import ast
import importlib
import pathlib
import re
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose

import gamtoy.landscapes as gl
from gamtoy.landscapes.base import Compiled
from gamtoy.lemmas.convergence import NoisyOracle

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "gamtoy"

# module-name prefix -> layer (the longest prefix wins); a module may import its own layer or
# any lower one, never a higher one
LAYERS = {
    "gamtoy.vec": 0, "gamtoy.validate": 0, "gamtoy._io": 0, "gamtoy._extras": 0,
    "gamtoy.landscapes": 1,
    "gamtoy.mlp._blas": 1, "gamtoy.mlp.data": 1, "gamtoy.mlp.model": 1, "gamtoy.mlp.oracle": 1,
    "gamtoy.mlp.hessian": 1, "gamtoy.mlp.cache": 1, "gamtoy.mlp.slices": 1,
    "gamtoy.optim": 2,
    "gamtoy.run": 3, "gamtoy.flatness": 3, "gamtoy.stats": 3, "gamtoy.outcomes": 3,
    "gamtoy.neighbourhood": 3, "gamtoy.mlp": 3, "gamtoy.torch": 3,
    "gamtoy.lemmas": 4, "gamtoy.figures": 4, "gamtoy.mlp.lab": 4, "gamtoy.mlp.experiments": 4,
    "gamtoy.mlp.experiments_gsam": 4, "gamtoy.mlp.verdicts": 4, "gamtoy.mlp.plots": 4,
    "gamtoy.widgets": 5, "gamtoy.exercises": 5, "gamtoy.cli": 5, "gamtoy.jobs": 5,
    "gamtoy.__main__": 5,
    "gamtoy": 5,  # the package's __init__ re-exports the layers below
}
NAMES = ["vec, validate, _io, _extras", "landscapes, mlp's oracle", "optim",
         "run, flatness, stats, mlp.train, torch", "lemmas, figures, mlp's experiments",
         "widgets, exercises, cli"]


def layer(module):
    """The layer of a module name, or a failure asking for it to be placed in LAYERS."""
    parts = module.split(".")
    for k in range(len(parts), 0, -1):
        prefix = ".".join(parts[:k])
        if prefix in LAYERS:
            return LAYERS[prefix]
    pytest.fail(f"{module} has no layer: add it to LAYERS in tests/test_house.py")


def module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name):
    rel = pathlib.Path(*name.split("."))
    return (ROOT / rel).with_suffix(".py").exists() or (ROOT / rel / "__init__.py").exists()


def imported(path):
    """(module imported, line) for every gamtoy import in the file, lazy ones included."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "gamtoy":
                    yield a.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.split(".")[0] == "gamtoy":
                source = node.module
            else:
                continue
            for a in node.names:  # `from . import optim` imports the module gamtoy.optim
                full = f"{source}.{a.name}"
                yield (full if is_module(full) else source), node.lineno


def upward_imports(files):
    out = []
    for path in files:
        here = layer(module_name(path))
        for target, line in imported(path):
            if layer(target) > here:
                out.append(f"{path.relative_to(ROOT)}:{line} imports {target} "
                           f"(layer {layer(target)}: {NAMES[layer(target)]}) from layer {here} "
                           f"({NAMES[here]})")
    return out


def test_no_module_imports_from_a_layer_above_it():
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 40
    bad = upward_imports(files)
    assert not bad, "upward imports:\n" + "\n".join(bad)


def test_the_import_check_sees_an_upward_import(tmp_path, monkeypatch):
    # a fake optim module that imports run (layer 3 from layer 2) is reported with its line
    fake = tmp_path / "gamtoy" / "optim" / "fake.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("import numpy\n\nfrom ..run import run\nfrom .. import vec\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    (tmp_path / "gamtoy" / "run.py").write_text("")
    (tmp_path / "gamtoy" / "vec.py").write_text("")
    bad = upward_imports([fake])
    assert bad == ["gamtoy/optim/fake.py:3 imports gamtoy.run (layer 3: run, flatness, stats, "
                   "mlp.train, torch) from layer 2 (optim)"]


# ---- CONTRIBUTING.md names only what exists ----------------------------------------------------
def contributing_paths():
    text = (ROOT / "CONTRIBUTING.md").read_text()
    words = (w.strip(".,;:()") for code in re.findall(r"`([^`\n]+)`", text) for w in code.split())
    return sorted({w for w in words if "<" not in w and not w.startswith(("-", "/"))
                   and "=" not in w and "(" not in w
                   and ("/" in w or w.endswith((".py", ".toml", ".ipynb")))})


def test_every_path_contributing_names_exists():
    paths = contributing_paths()
    assert "gamtoy/optim/specs.py" in paths and "tests/test_house.py" in paths
    # a path is from the repository's root, or (in a heading about the package) from gamtoy/
    missing = [p for p in paths if not ((ROOT / p).exists() or (PACKAGE / p).exists())]
    assert not missing, f"CONTRIBUTING.md names paths that do not exist: {missing}"


def test_every_file_in_contributings_layout_exists():
    text = (ROOT / "CONTRIBUTING.md").read_text()
    tree = text.split("```")[1].strip().splitlines()
    for line in tree:
        if line.startswith("    "):  # a description's second line
            continue
        where = PACKAGE if line.startswith("  ") else ROOT
        names = re.split(r",\s*", line.strip().split("  ")[0])
        for n in filter(None, (n.strip() for n in names)):
            target = where / n
            assert target.exists(), f"CONTRIBUTING.md's layout names {n!r}: not at {target}"


def test_every_dotted_name_contributing_gives_resolves():
    text = (ROOT / "CONTRIBUTING.md").read_text()
    dotted = set(re.findall(r"`((?:optim|run|landscapes|flatness)\.[A-Za-z_]\w*)(?:\(\))?`",
                            text))
    assert {"optim.get", "optim.DEFAULTS", "run.divergence_box"} <= dotted
    for name in dotted:
        module, attr = name.split(".")
        assert hasattr(importlib.import_module(f"gamtoy.{module}"), attr), name


# ---- public seams ----------------------------------------------------------------------------
def test_a_builtins_compiled_oracle_gives_the_loss_with_the_gradient_from_one_pass():
    L = gl.get("ridge")
    c = L.compiled()
    assert isinstance(c, Compiled)
    W = np.array([[0.37, -0.61], [1.3, 0.2], [-2.1, 0.45]])
    x, y = W[:, 0].copy(), W[:, 1].copy()
    f, gx, gy = c.value_df(x, y)
    assert_allclose(f, L.value(W), rtol=1e-13)
    assert_allclose(np.stack([gx, gy], -1), L.grad(W), rtol=1e-13)
    f, gx, gy, hxx, hxy, hyy = c.value_d12f(x, y)
    H = L.hessian(W)
    assert_allclose(np.stack([hxx, hxy, hyy], -1), H[:, [0, 0, 1], [0, 1, 1]], rtol=1e-12)
    # and an independent reference: central differences of the loss
    h = 1e-6
    fd = [(L.value(W + h * e) - L.value(W - h * e)) / (2 * h) for e in np.eye(2)]
    assert_allclose(np.stack([gx, gy], -1), np.stack(fd, -1), rtol=1e-6, atol=1e-8)


def test_a_landscape_from_a_function_is_compiled_without_the_value_passes():
    import autograd.numpy as anp
    L = gl.from_function(lambda W: anp.sum(W ** 2, -1) * 0.3)
    c = L.compiled()
    assert c is not None and c.value_df is None and c.value_d12f is None
    assert_allclose(c.df(np.array([0.5]), np.array([-1.0])), [[0.3], [-0.6]])


def test_a_subclass_that_overrides_the_oracle_has_no_compiled_oracle():
    assert NoisyOracle(gl.get("quadratic"), sigma=0.1, seed=0).compiled() is None


def test_the_divergence_box_is_public_and_the_widgets_use_it():
    run_module = importlib.import_module("gamtoy.run")  # gamtoy.run is the function
    lo, hi = run_module.divergence_box(gl.get("quadratic"))
    (x0, x1), (y0, y1) = gl.get("quadratic").bounds
    span = run_module.BOX_SPANS
    assert_allclose(lo, [x0 - span * (x1 - x0), y0 - span * (y1 - y0)])
    assert_allclose(hi, [x1 + span * (x1 - x0), y1 + span * (y1 - y0)])
    assert not hasattr(run_module, "_box")
    src = (pathlib.Path(__file__).resolve().parents[1] / "gamtoy/widgets/explore.py").read_text()
    assert "divergence_box" in src and "_box(" not in src.replace("divergence_box(", "")


def test_every_layer_reads_the_optimizer_names_from_specs():
    from gamtoy.figures import style
    from gamtoy.optim.specs import ON_SGD, SPECS
    assert ON_SGD == tuple(n for n in SPECS if n not in ("momentum", "adam"))
    missing = [n for n in SPECS if n not in style.OPTIMIZER_COLORS
               or n not in style.OPTIMIZER_LINESTYLES]
    assert not missing, f"no colour or line style in gamtoy/figures/style.py for {missing}"
    pytest.importorskip("torch")
    from gamtoy.torch import optimizers, train
    from tools import gpu_check
    assert list(optimizers.CLASSES) == list(SPECS)
    assert train.OPTIMIZERS == ON_SGD and gpu_check.BENCH == ON_SGD
    assert set(gpu_check.GAM_FAMILY) == {"gam", "sam+gam", "gsam+gam"}


def test_no_function_in_the_package_is_longer_than_a_screen():
    limit = 60
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > limit:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({n} lines)")
    assert not long, f"functions over {limit} lines: " + "; ".join(long)


def test_no_one_letter_module_alias_means_two_modules():
    meanings = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                source = "." * getattr(node, "level", 0) + (getattr(node, "module", None) or "")
                for a in node.names:
                    if a.asname and len(a.asname) == 1 and names_a_module(node, a.name):
                        full = f"{source}.{a.name}" if isinstance(node, ast.ImportFrom) else a.name
                        meanings.setdefault(a.asname, set()).add(full.lstrip("."))
    clashes = {k: sorted(v) for k, v in meanings.items() if len(v) > 1}
    assert not clashes, f"one-letter aliases for several modules (use the full name): {clashes}"


def names_a_module(node, name):
    """Whether the import names a module (`import x`, or a lowercase name from a package)."""
    return isinstance(node, ast.Import) or name.islower()


def test_every_gamtoy_name_the_docstrings_and_comments_give_exists():
    # `gamtoy.x.y` in backticks anywhere in the package must import or be an attribute: two
    # docstrings once pointed to a gamtoy.lemmas.table that did not exist
    missing = []
    for path in sorted((ROOT / "gamtoy").rglob("*.py")):
        for name in set(re.findall(r"`(gamtoy(?:\.[A-Za-z_]\w*)+)", path.read_text())):
            parts, obj = name.split("."), None
            for k in range(len(parts), 0, -1):
                try:
                    obj, rest = importlib.import_module(".".join(parts[:k])), parts[k:]
                    break
                except ImportError:
                    continue
            for attr in rest if obj is not None else []:
                obj = getattr(obj, attr, None)
                if obj is None:
                    break
            if obj is None:
                missing.append(f"{path.relative_to(ROOT)}: {name}")
    assert not missing, "names that do not exist:\n" + "\n".join(missing)
