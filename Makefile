# Everything a newcomer needs: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench venv system-run system-test clean

$(STAMP): pyproject.toml
	scripts/system-deps.sh venv
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --editable '.[test]'
	touch $(STAMP)

venv: $(STAMP)

system-run:
	scripts/system-deps.sh run

system-test:
	scripts/system-deps.sh test

## Open the workbench on the demo data set (seeded on first run; no server needed).
run: venv system-run
	$(BIN)/workbench --demo

## Lint, type-check and run the whole test suite (installs what the tests need).
test: venv system-test lint
	scripts/run-pytest.sh

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## Benchmarks (not timed tests); figures go to tests/bench/RESULTS.md.
bench: venv system-test
	$(BIN)/python -m tests.bench.run
	$(BIN)/python -m tests.bench.gui
	$(BIN)/python -m tests.bench.trees
	$(BIN)/python -m tests.bench.sync
	$(BIN)/python -m tests.bench.remote
	$(BIN)/python -m tests.bench.imports
	$(BIN)/python -m tests.bench.directory

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache tests/artifacts
