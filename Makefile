# `make demo` and `make test` do all set-up on a fresh machine: a .venv with the project installed.
PY ?= python3.12
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast bench clean

$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null 2>&1 || { command -v pyenv >/dev/null 2>&1 && pyenv install -s 3.12; }
	$(PY) -m venv $(VENV) 2>/dev/null || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev,distributed,ema,app]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/jiesu run scenarios/final_2021.toml --scale 0.1 --days 365 --seed 1

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 -q

test-fast: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 -q -m "not slow"

bench: $(STAMP)
	$(BIN)/python benchmarks/full_scale.py

clean:
	rm -rf $(VENV) .pytest_cache
