# The README's two commands: `make demo` (main job) and `make test` (all tests).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test unit lint bench docs-figures clean site

# the torch that CI tests, installed before the extras so that pip does not pick a CUDA build
# (pyproject allows torch>=2.3,<3). Elsewhere: make TORCH_INDEX="--index-url <PyTorch's CPU index>"
TORCH ?= torch==2.13.0
TORCH_INDEX ?=

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)" $(TORCH_INDEX)
	$(BIN)/python -m pip install --quiet -e ".[all]"
	touch $(STAMP)

# `make demo` installs only what the main job needs (the `demo` extra: no torch, no Jupyter),
# with pip's progress shown, and has its own stamp; `make test` installs everything (.[all]).
DEMO_STAMP := $(VENV)/.installed-demo

$(DEMO_STAMP): $(BIN)/python pyproject.toml
	@echo "[make demo] installing gamtoy with the demo extra (numpy, scipy, matplotlib, sympy, autograd, scikit-learn; no torch, no Jupyter) ..."
	$(BIN)/python -m pip install --progress-bar on -e ".[demo]"
	touch $(DEMO_STAMP)

# the jobs run in min(2, CPUs) processes side by side (`--jobs 1`: one after another)
demo: $(DEMO_STAMP)
	$(BIN)/python -m gamtoy reproduce --out figures/

# the house's linter (config: [tool.ruff] in pyproject.toml); `make test` runs it first
lint: $(STAMP)
	$(BIN)/python -m ruff check gamtoy tests benchmarks tools

test: $(STAMP) lint
	GAMTOY_CACHE=$$(mktemp -d) MPLBACKEND=Agg $(BIN)/python -m pytest tests notebooks --nbval-lax --nbval-cell-timeout=300 -p no:cacheprovider

unit: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest tests

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# refresh the README's figure from the main job's output (every other figure and table is read
# from figures/ by the site, never copied)
docs-figures: demo
	mkdir -p docs/figures
	cp figures/ridge_trajectories.png docs/figures/

# Jupyter refuses to run as root without --allow-root (CI and these machines run as root)
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

# the course: JupyterLab on the notebooks with the standard `python3` kernel (this environment's
# Python: no kernel to install), on 127.0.0.1
.PHONY: lab app
lab: $(STAMP)
	$(BIN)/python -m jupyterlab $(ROOT_FLAG) --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=. \
		--LabApp.default_url=/lab/tree/notebooks/00_start_here.ipynb

# the explorer and the lens as a web page (Voila: no code shown) on http://127.0.0.1:8866
app: $(STAMP)
	$(BIN)/python -m voila app/gamtoy_app.ipynb --Voila.ip=127.0.0.1 --port=8866 \
		--strip_sources=True --show_tracebacks=False --preheat_kernel=True

clean:
	rm -rf $(VENV) figures .gamtoy_cache site docs/_build

# the course site (Sphinx + myst-nb + sphinx-book-theme) into site/ (site/index.html); runs the
# main job first when figures/ has no complete manifest; warnings are errors
site: $(STAMP)
	$(BIN)/python docs/build.py --out site

# The prepared GPU check (issue 11): one script, <= 5 minutes on one GPU; results (JSON +
# markdown, with the date and the GPU model) in docs/benchmarks/. GPU_PY=python uses an
# interpreter that already has a CUDA build of torch (no install).
# GPU_OUT: where the results go; GPU_ARGS: more arguments (GPU_ARGS="--device cpu --quick":
# the CPU self-test). On a machine whose image has torch and numpy but not the pure-
# Python autograd: `make gpu-wheels` here, carry .whl, install it there (README, "GPU").
GPU_PY ?= $(BIN)/python
GPU_OUT ?= docs/benchmarks/
GPU_ARGS ?=
.PHONY: gpu-check gpu-wheels
gpu-check:
	@if [ "$(GPU_PY)" = "$(BIN)/python" ]; then $(MAKE) --no-print-directory $(STAMP); fi
	PYTHONPATH=$(CURDIR)$${PYTHONPATH:+:$$PYTHONPATH} timeout 330 $(GPU_PY) -m tools.gpu_check --out $(GPU_OUT) $(GPU_ARGS)

gpu-wheels: $(STAMP)
	rm -rf .whl && $(BIN)/pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
	  --implementation cp --platform manylinux_2_17_x86_64 -d .whl \
	  autograd==$$($(BIN)/python -c "import importlib.metadata as m; print(m.version('autograd'))")
