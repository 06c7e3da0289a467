# Every target creates .venv/ and installs the project into it on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo compare test test-fast lint bench docs chaos clean

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

# Four workers on two cores, each running whole modules (module fixtures are shared FreqTrade
# runs), in the order tests/conftest.py gives them: replay bots alternating with backtests, the
# core tier last. The bots spend most of their time waiting for candles, so two more workers
# keep both cores busy.
PARALLEL := -n 4 --dist loadscope --no-loadscope-reorder

# The whole suite, as CI runs it.
test: $(STAMP)
	$(PY) -m pytest $(PARALLEL)

# The core tier only: in-process tests, for the inner loop (they compute: a worker per core).
test-fast: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadscope -m "not e2e and not live"

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

# the documentation site into site/; --strict turns every broken link or stale page into an error
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

# A seeded soak of the live order path on the replay exchange (127.0.0.1 only, at most 10 min):
# faults on every endpoint, partial fills, rejects, timed-out fills, exchange cancels, kill -9.
# CHAOS_SEED picks the draws (default 1); the last line says what the account check found.
chaos: $(STAMP)
	$(PY) -m tests.support.chaos

clean:
	rm -rf $(VENV) demo_output site user_data/models user_data/backtest_results
