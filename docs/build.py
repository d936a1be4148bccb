"""Build the course site: `python docs/build.py --out site` (what `make site` runs).

1. The results: reads the main job's folder (`figures/`, from `python -m gamtoy reproduce --out
   figures/`), running the job first when that folder has no complete manifest.json. The
   results pages are generated from its markdown tables and figures, never copied by hand.
2. The course: copies notebooks/*.ipynb into docs/course/ (gitignored); myst-nb executes them
   (FAST setting) with its cache in .jupyter_cache/ (gitignored), so a rebuild re-runs only the
   notebooks that changed.
3. Sphinx with warnings as errors (-W), then a check that every internal link and image of the
   built site points at a file (and an anchor) that exists. External links are not followed.
"""
import argparse
import html.parser
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time
import urllib.parse

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
GEN = DOCS / "results" / "generated"  # gitignored: the generated results pages and their images
COURSE = DOCS / "course"
# (page, title, the main job's markdown file, the prefixes of its figures, what the page is)
RESULTS = [
    ("lemmas", "Lemma checks", "lemmas.md",
     ("lemma", "eq", "gnp_", "gsam_fig2", "sam_ascent", "convergence"),
     "Every lemma and proposition checked against a reference that does not share its code."),
    ("ridge", "Ridge populations (GSAM Fig. 3)", "ridge_basins.md", ("ridge_", "basin"),
     "Where each optimizer ends on `ridge` from 400 starts, with 95% intervals and verdicts."),
    ("fig1", "GAM Fig. 1 populations", "gam_fig1_population.md", ("gam_fig1", "gam_prop42"),
     "Where SGD, SAM and GAM end on fig1a / fig1b, with intervals and verdicts."),
    ("mlp", "MLP verdicts", "mlp_verdicts.md", ("mlp_",),
     "The papers' network claims in miniature: each with its paired interval and verdict."),
]


def main_job(figures, python=sys.executable):
    """The main job's folder, with a complete manifest (running the job when it has none)."""
    m = figures / "manifest.json"
    ok = m.is_file() and json.loads(m.read_text()).get("complete") is True
    if not ok:
        print(f"[site] {figures} has no complete manifest: running the main job", flush=True)
        subprocess.run([python, "-m", "gamtoy", "reproduce", "--out", str(figures)], check=True,
                       cwd=ROOT, env=dict(os.environ, PYTHONPATH=_path(), MPLBACKEND="Agg"))
    return json.loads(m.read_text())


def _path():
    return os.pathsep.join([str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(
        os.pathsep) if p])


def _copy_images(text, figures, img):
    """Copy the images a markdown file links to into `img`; the text with the links rewritten."""
    import re

    def swap(m):
        src = figures / m.group(2)
        if not src.is_file():
            raise FileNotFoundError(f"{src} is linked from the main job's tables but missing")
        shutil.copyfile(src, img / src.name)
        return f"{m.group(1)}(img/{src.name})"
    return re.sub(r"(!\[[^\]]*\])\(([^)\s]+)\)", swap, text)


def _demote(text):
    """The job's file as a page section: its own '# title' dropped, headings one level down."""
    lines = text.splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    return "\n".join("#" + ln if ln.startswith("#") else ln for ln in lines)


def results_pages(figures, manifest):
    """docs/results/generated/*.md from the main job's files."""
    shutil.rmtree(GEN, ignore_errors=True)
    (GEN / "img").mkdir(parents=True)
    names = {f["file"] for f in manifest["files"]}
    for page, title, src, prefixes, what in RESULTS:
        if src not in names:
            raise FileNotFoundError(f"{figures / src}: not in the main job's manifest")
        body = _copy_images((figures / src).read_text(), figures, GEN / "img")
        shown = ""
        figs = [n for n in names if n.startswith(prefixes) and n.endswith((".png", ".gif"))]
        for n in sorted(figs):
            shutil.copyfile(figures / n, GEN / "img" / n)
            shown += f"\n```{{figure}} img/{n}\n:alt: {n}\n\n`figures/{n}`\n```\n"
        stamp = (f"*Generated from `figures/{src}` of the main job run of "
                 f"{manifest.get('finished') or manifest.get('started')} "
                 f"({'quick' if manifest['settings'].get('quick') else 'full'} mode, gamtoy "
                 f"{manifest['versions'].get('gamtoy')}).*")
        (GEN / f"{page}.md").write_text(f"# {title}\n\n{what}\n\n{stamp}\n\n{_demote(body)}\n"
                                        f"\n## Figures\n{shown}")
    jobs = "\n".join(f"| {j['job']} | {j['files']} | {j['seconds']:.1f} |" for j in
                     manifest["jobs"])
    versions = ", ".join(f"{k} {v}" for k, v in manifest["versions"].items() if v)
    gpu = sorted((DOCS / "benchmarks").glob("gpu_check_*.md"))
    extra = "".join(f"\n## {p.stem}\n\n{_demote(p.read_text())}\n" for p in gpu) or (
        "\nNo GPU check result is in `docs/benchmarks/` yet (`make gpu-check` writes one).\n")
    (GEN / "runs.md").write_text(
        "# Benchmarks and the run behind these pages\n\n"
        f"*Generated from `figures/manifest.json` ({manifest.get('finished')}; {versions}).*\n\n"
        "The main job's own timing on the machine that built this site:\n\n"
        "| job | files | seconds |\n|---|---|---|\n" + jobs + "\n\n"
        "`make bench` (`python -m benchmarks`) measures speed as ratios against plain NumPy "
        "baselines; see [the benchmarks guide](../../guides/benchmarks.md).\n" + extra)


def course_pages():
    """Copy the notebooks into docs/course/ (gitignored) for myst-nb."""
    for old in COURSE.glob("*.ipynb"):
        old.unlink()
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        shutil.copyfile(nb, COURSE / nb.name)


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        for key in ("href", "src"):
            if a.get(key) and tag in ("a", "img", "link", "script", "source"):
                self.refs.append(a[key])


def check_links(out):
    """Every relative href/src of every page resolves to a file of the site (and a #anchor to an
    id in that page); the list of problems (empty when all resolve)."""
    pages, bad = {}, []
    for p in out.rglob("*.html"):
        if "_static" in p.relative_to(out).parts:  # the theme's template fragments, no pages
            continue
        parser = _Links()
        parser.feed(p.read_text(errors="replace"))
        pages[p.resolve()] = parser
    for p, parser in pages.items():
        for ref in parser.refs:
            u = urllib.parse.urlsplit(ref)
            if u.scheme or u.netloc or ref.startswith(("data:", "mailto:", "javascript:")):
                continue
            target = (p.parent / urllib.parse.unquote(u.path)).resolve() if u.path else p
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                bad.append(f"{p.relative_to(out.resolve())}: {ref} (no such file)")
            elif u.fragment and target in pages and u.fragment not in pages[target].ids:
                bad.append(f"{p.relative_to(out.resolve())}: {ref} (no such anchor)")
    return bad


def build(out, figures, jobs=1):
    t0 = time.time()
    manifest = main_job(figures)
    results_pages(figures, manifest)
    course_pages()
    t1 = time.time()
    env = dict(os.environ, PYTHONPATH=_path(), GAMTOY_FAST=os.environ.get("GAMTOY_FAST", "1"),
               MPLBACKEND="module://matplotlib_inline.backend_inline")
    env.setdefault("GAMTOY_CACHE", str(ROOT / ".gamtoy_cache"))
    subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                    "-d", str(ROOT / ".jupyter_cache" / "doctrees"), "-j", str(jobs), str(DOCS),
                    str(out)], check=True, env=env)
    bad = check_links(out)
    if bad:
        raise SystemExit("[site] broken internal links:\n  " + "\n  ".join(bad))
    print(f"[site] {out / 'index.html'}: built in {time.time() - t0:.1f} s (Sphinx and the "
          f"notebooks {time.time() - t1:.1f} s); internal links checked", flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="site", help="the site's folder (default: site/)")
    p.add_argument("--figures", default="figures", help="the main job's folder (default: figures/)")
    p.add_argument("--cold", action="store_true", help="drop the execution cache first")
    a = p.parse_args(argv)
    if a.cold:
        shutil.rmtree(ROOT / ".jupyter_cache", ignore_errors=True)
    build((ROOT / a.out).resolve(), (ROOT / a.figures).resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
