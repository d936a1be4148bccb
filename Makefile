# The README's two commands: `make demo` (main job) and `make test` (all tests).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test unit notebooks bench clean

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

clean:
	rm -rf $(VENV) figures .gamtoy_cache
