"""Sphinx configuration of the course site (`make site`, docs/build.py builds it into site/).

Why Sphinx + myst-nb + sphinx-book-theme (the stack of optax's docs): myst-nb executes the
notebooks at build time (with a cache, so a rebuild re-runs only notebooks that changed),
Sphinx's autodoc writes the API reference from the docstrings, and the book theme reads well
on a laptop and on a phone. docs/guides/site.md says more.
"""
import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GAMTOY_FAST", "1")  # the notebooks' FAST setting
os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"  # figures inline

import gamtoy  # noqa: E402

project = "gamtoy"
author = "the gamtoy authors"
copyright = "the gamtoy authors, MIT licence"
release = version = gamtoy.__version__

extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.mathjax"]
exclude_patterns = ["_build", "_generated", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints",
                    "benchmarks/README.md", "figures/*.md"]
suppress_warnings = ["myst.header"]  # notebook headings may start at level 2 inside a page

# myst
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
myst_dmath_double_inline = True  # $$...$$ inside a paragraph, as Jupyter renders it

# myst-nb: execute the notebooks, cached (the cache is gitignored, docs/build.py says where)
nb_execution_mode = "cache"
nb_execution_cache_path = os.environ.get("GAMTOY_NB_CACHE", str(ROOT / ".jupyter_cache"))
nb_execution_timeout = 900
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_kernel_rgx_aliases = {".*": "python3"}
# no live widgets without a kernel: drop the widget view, show the first frame the widgets add
# as text/html (gamtoy.widgets.canvas.with_first_frame); load no widget JavaScript
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]
nb_ipywidgets_js = {}
nb_merge_streams = True

# autodoc: the docstrings are plain text (paper notation, ASCII formulas): show them verbatim
autodoc_typehints = "signature"
autodoc_member_order = "bysource"
autodoc_type_aliases = {"ArrayLike": "numpy.typing.ArrayLike",
                        "np.typing.ArrayLike": "numpy.typing.ArrayLike"}
autodoc_default_options = {"members": True, "undoc-members": False}


def _verbatim(app, what, name, obj, options, lines):
    """A docstring as a literal block: plain-text docstrings never trip reST markup."""
    if lines:
        lines[:] = ["::", ""] + ["    " + ln for ln in lines] + [""]


def setup(app):
    app.connect("autodoc-process-docstring", _verbatim)


# MathJax 2 from the jupyter-server-mathjax package (the docs extra), served by the site itself:
# the pages make no request outside the site (a classroom without a network still renders)
def _stage_mathjax():
    import shutil

    import jupyter_server_mathjax
    src = pathlib.Path(jupyter_server_mathjax.__file__).parent / "static"
    stage = pathlib.Path(nb_execution_cache_path) / "static"
    if not (stage / "mathjax" / "MathJax.js").is_file():
        shutil.copytree(src, stage / "mathjax", dirs_exist_ok=True)
    return str(stage)


html_static_path = [_stage_mathjax(), "_static"]
html_css_files = ["gamtoy.css"]
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"
myst_update_mathjax = False
# the package ships the STIX-Web fonts only (as Jupyter's classic notebook used them)
# (and its blank test font is a local() name, not url('about:blank'), which browsers now refuse)
mathjax2_config = {"HTML-CSS": {"availableFonts": ["STIX-Web"], "preferredFont": "STIX-Web",
                                "webFont": "STIX-Web", "imageFont": None,
                                "styles": {"@font-face": {"font-family": "MathJax_Blank",
                                                          "src": "local('MathJax_Blank')"}}},
                   "MMLorHTML": {"prefer": "HTML"},  # not the browser's MathML: its fonts are absent
                   "messageStyle": "none"}

# theme
html_theme = "sphinx_book_theme"
html_title = "gamtoy"
html_favicon = "favicon.png"
html_last_updated_fmt = None
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "home_page_in_toc": True,
}
html_show_sourcelink = False
html_context = {"default_mode": "light"}  # a set mode: no "invalid theme mode" console error
