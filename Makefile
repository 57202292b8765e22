# The two commands a newcomer types: `make run` and `make test`.
# Each creates (or updates) .venv from scratch and installs what it needs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.refnn-installed
export TF_CPP_MIN_LOG_LEVEL ?= 2
export KERAS_BACKEND ?= tensorflow
export PYTHONUNBUFFERED := 1

.PHONY: setup run test test-reference lint format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

## The main job: every tutorial, in order, offline; prints a summary table.
run: setup
	$(VENV)/bin/refnn tutorials all

## Lint, format check, then the whole test suite (large tests included).
test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest
	# Docstring examples: layers, kernels and the fast-path switch.
	$(PY) -m pytest -q --doctest-modules refnn/layers refnn/kernels \
		refnn/config.py refnn/_validation.py

## The layer tests on the reference path only (fast path off).
test-reference: setup
	REFNN_FAST_PATH=0 $(PY) -m pytest -q tests/layers tests/kernels

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: setup
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) outputs .pytest_cache
