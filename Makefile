# The README's two commands: `make demo` (main job) and `make test` (all tests).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test unit bench docs-figures clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[all]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m gamtoy reproduce --out figures/

test: $(STAMP)
	GAMTOY_CACHE=$$(mktemp -d) MPLBACKEND=Agg $(BIN)/python -m pytest tests notebooks --nbval-lax --nbval-current-env --nbval-cell-timeout=300 -p no:cacheprovider

unit: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest tests

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# refresh the README's figures from the main job's output
docs-figures: demo
	mkdir -p docs/figures
	for f in gam_fig1a gam_fig1b gam_fig1_population gam_prop42 ridge_trajectories ridge_basins ridge_neighbourhood lemma33_gap convergence mlp_hessian_spectrum; do cp figures/$$f.png docs/figures/; done

clean:
	rm -rf $(VENV) figures .gamtoy_cache
