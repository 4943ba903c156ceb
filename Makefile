# Two commands do everything on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test

.PHONY: demo test lint baseline docs clean readme-figures

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dask]"
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test,dask,sensitivity,dashboard]"
	touch $@ $(STAMP_RUN)

demo: $(STAMP_RUN)
	$(BIN)/linkage demo

test: $(STAMP_TEST)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: $(STAMP_TEST)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

baseline: $(STAMP_TEST)
	$(BIN)/python -m tests.make_baseline

docs: $(STAMP_RUN)
	$(BIN)/linkage params --markdown docs/parameters.md --odd docs/ODD.md

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# The two report figures shown in the README: run the demo, copy them from the modes report.
readme-figures: $(STAMP_RUN)
	$(BIN)/linkage demo --out results/readme --no-progress
	cp "$$(ls -d results/readme/linkage_modes-*/report | tail -1)/cost_outcome.png" docs/img/report_cost_outcome.png
	cp "$$(ls -d results/readme/linkage_modes-*/report | tail -1)/equity_groups.png" docs/img/report_equity_groups.png
