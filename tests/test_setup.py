"""The project's setup files agree with each other, and notebooks are committed without outputs."""
import json
import pathlib
import re
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _name(req):
    return re.split(r"[<>=!\[ ;]", req.strip(), maxsplit=1)[0].lower()


def _pyproject_deps():
    p = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = {_name(d) for d in p["dependencies"]}
    for reqs in p["optional-dependencies"].values():
        deps |= {_name(r) for r in reqs if not r.startswith("gamtoy")}
    return deps


def _environment_deps():
    names = set()
    text = (ROOT / "environment.yml").read_text().split("dependencies:", 1)[1]
    for line in text.splitlines():
        m = re.match(r"\s*-\s+([A-Za-z0-9_.\-]+)", line)
        if m and not line.strip().startswith("- -e"):
            names.add(_name(m.group(1)))
    return names


def test_every_pyproject_dependency_is_in_environment_yml():
    missing = _pyproject_deps() - _environment_deps()
    assert not missing, f"in pyproject.toml but not environment.yml: {sorted(missing)}"


def test_every_environment_yml_package_is_in_pyproject():
    extra = _environment_deps() - _pyproject_deps() - {"python", "pip"}
    assert not extra, f"in environment.yml but not pyproject.toml: {sorted(extra)}"


def test_torch_is_a_range_and_make_installs_the_cpu_wheel_first():
    """A range, not a pin (no forced downgrade); `make` installs the tested CPU wheel before the
    extras, so pip never reaches for a CUDA build."""
    p = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    (req,) = p["optional-dependencies"]["torch"]
    assert req.replace(" ", "") == "torch>=2.3,<3", req
    make = (ROOT / "Makefile").read_text()
    assert "TORCH ?= torch==2.13.0" in make and make.index("$(TORCH)") < make.index('".[all]"')


def test_all_brings_every_extra_and_the_build_floor_reads_pep639():
    t = tomllib.loads((ROOT / "pyproject.toml").read_text())
    extras = set(t["project"]["optional-dependencies"]) - {"all"}
    allx = t["project"]["optional-dependencies"]["all"][0]
    assert set(re.search(r"\[(.*)\]", allx).group(1).split(",")) == extras
    assert t["project"]["license"] == "MIT"  # PEP 639 needs setuptools >= 77
    assert t["build-system"]["requires"] == ["setuptools>=77"]


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in ci and "make test" in readme and "make demo" in readme


def test_notebooks_are_committed_without_outputs():
    nbs = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert nbs, "no notebooks found"
    for nb in nbs:
        cells = json.loads(nb.read_text())["cells"]
        for c in cells:
            if c["cell_type"] == "code":
                assert not c.get("outputs") and c.get("execution_count") is None, (
                    f"{nb.name} has outputs: strip them (see README)")


def test_notebooks_import_the_installed_package_without_path_hacks():
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        src = "".join("".join(c["source"]) for c in json.loads(nb.read_text())["cells"])
        assert "sys.path" not in src and "import gamtoy" in src, nb.name


def test_every_image_the_readme_shows_exists():
    readme = (ROOT / "README.md").read_text()
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", readme)
    assert images, "the README shows no figure"
    for img in images:
        assert (ROOT / img).is_file(), img


def test_readme_is_a_short_front_door():
    """At most 150 lines; the two commands, the course's four doors, citing; no result numbers
    (those are generated on the site) and no dated notes about a machine or a session."""
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 150, f"README.md has {len(text.splitlines())} lines"
    for need in ("make demo", "make test", "make lab", "make site", "binder/", "gamtoy course",
                 "CITATION.cff", "gamtoy[torch]"):
        assert need in text, f"README.md does not mention {need!r}"
    assert not re.search(r"\d\.\d\d \[", text), "README.md quotes a result: link the site instead"


def test_no_page_speaks_of_when_or_on_which_machine_it_was_written():
    pages = [ROOT / "README.md"] + sorted(p for p in (ROOT / "docs").rglob("*.md")
                                          if "generated" not in p.parts)
    pattern = re.compile(r"\b20\d\d-\d\d-\d\d\b|this session|on this machine|since this|"
                         r"rehearsed|so far", re.I)
    found = [f"{p.relative_to(ROOT)}: {m.group(0)!r}" for p in pages
             for m in pattern.finditer(p.read_text())]
    assert not found, found


def test_every_readme_link_to_a_file_exists():
    links = re.findall(r"\]\(((?!https?:)[^)#]+)", (ROOT / "README.md").read_text())
    assert links and all((ROOT / link).exists() for link in links), links
