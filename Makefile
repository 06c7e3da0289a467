# Every target creates .venv/ and installs the project into it on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo compare test lint bench chaos clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m itb_ext.demo.run

compare: $(STAMP)
	$(PY) -m itb_ext.demo.compare

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(PY) benchmarks/bench_compute.py
	$(PY) benchmarks/bench_grid_search.py
	$(PY) benchmarks/bench_training.py
	$(PY) benchmarks/bench_fast_svc.py
	$(PY) benchmarks/bench_live_analysis.py
	$(PY) benchmarks/bench_walk_forward_5m.py

# A seeded soak of the live order path on the replay exchange (127.0.0.1 only, at most 10 min):
# faults on every endpoint, partial fills, rejects, timed-out fills, exchange cancels, kill -9.
# CHAOS_SEED picks the draws (default 1); the last line says what the account check found.
chaos: $(STAMP)
	$(PY) -m tests.support.chaos

clean:
	rm -rf $(VENV) demo_output user_data/models user_data/backtest_results
