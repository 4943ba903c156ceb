# Two commands do everything on a fresh clone: `make demo` and `make test`.
# Another interpreter in its own venv: `make test PYTHON=python3.12 VENV=.venv-3.12`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test

.PHONY: demo test test-fast lint baseline docs clean readme-figures

# The fast subset `.ci/run` runs on the extra interpreters (about 1-2 minutes): baseline numbers,
# the model, Mesa's conventions, packaging, fonts, docs, bad input, bench (Mesa agents).
FAST_TESTS := tests/test_baseline.py tests/test_model.py tests/test_mesa_conventions.py \
	tests/test_packaging.py tests/test_fonts.py tests/test_docs.py tests/test_bad_input.py \
	tests/test_bench.py

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dask,robustness]"
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test,dask,sensitivity,dashboard,robustness]"
	touch $@ $(STAMP_RUN)

demo: $(STAMP_RUN)
	$(BIN)/linkage demo

# The suite runs on every core (pytest-xdist); a test file's tests stay on one worker, so a
# file's cached runs are computed once.
PYTEST_JOBS ?= auto

test: $(STAMP_TEST)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n $(PYTEST_JOBS) --dist loadfile

test-fast: $(STAMP_TEST)
	$(BIN)/python -m pytest -q -n $(PYTEST_JOBS) --dist loadfile $(FAST_TESTS)

lint: $(STAMP_TEST)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

baseline: $(STAMP_TEST)
	$(BIN)/python -m tests.make_baseline

docs: $(STAMP_RUN)
	$(BIN)/linkage params --markdown docs/parameters.md --odd docs/ODD.md --modes docs/modes.md

clean:
	rm -rf $(VENV) .venv-3.* .pytest_cache .ruff_cache

# The two report figures shown in the README: run the demo, copy them from the modes report.
readme-figures: $(STAMP_RUN)
	$(BIN)/linkage demo --out results/readme --no-progress
	cp "$$(ls -d results/readme/linkage_modes-*/report | tail -1)/cost_outcome.png" docs/img/report_cost_outcome.png
	cp "$$(ls -d results/readme/linkage_modes-*/report | tail -1)/equity_groups.png" docs/img/report_equity_groups.png
