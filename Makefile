# `make demo` and `make test` do all set-up on a fresh machine: a .venv with the project installed.
PY ?= python3.12
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast bench clean browser state kernels

$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null 2>&1 || { command -v pyenv >/dev/null 2>&1 && pyenv install -s 3.12; }
	$(PY) -m venv $(VENV) 2>/dev/null || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev,distributed,ema,app,calibrate]"
	@# compile the numba kernels into their cache now, so the first large run does not pay it (~9 s)
	$(BIN)/python -m model.kernels || echo "kernels not compiled ahead: the first large run compiles them"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/jiesu run scenarios/final_2021.toml --scale 0.1 --days 365 --seed 1

test: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist worksteal -q --durations=15

test-fast: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist worksteal -q -m "not slow"

# The classroom app's browser tests use Debian's chromium, and its plots a CJK font: installed when
# missing where we are root with apt-get (CI, fresh machines); elsewhere those tests skip.
browser:
	@if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing chromium and fonts-noto-cjk (apt-get)"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk \
	    </dev/null >/dev/null || echo "could not install chromium: the browser tests will skip"; \
	else echo "no /usr/bin/chromium and not root with apt-get: the browser tests will skip"; fi

# The system as the history replay leaves it at the end of November 2021: counterfactuals start
# here (jiesu run SCENARIO --from-state states/late_2021.state). Remade when the model changes.
STATE := states/late_2021.state
state: $(STATE)
$(STATE): $(STAMP) scenarios/history_2019_2021.toml $(wildcard model/*.py model/data/*)
	$(BIN)/jiesu run scenarios/history_2019_2021.toml --scale 0.05 --seed 1 --quiet --no-plot \
	  --out results/history_2019_2021-late_2021 --save-state $(STATE)

# recompile the kernels ahead after a change of model/kernels.py (numba's cache notices the change)
kernels: $(STAMP)
	$(BIN)/python -m model.kernels

bench: $(STAMP)
	$(BIN)/python benchmarks/full_scale.py

clean:
	rm -rf $(VENV) .pytest_cache
