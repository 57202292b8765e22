# The two commands a newcomer types: `make run` and `make test`.
# Each creates (or updates) .venv from scratch and installs what it needs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.refnn-installed
export TF_CPP_MIN_LOG_LEVEL ?= 2
export KERAS_BACKEND ?= tensorflow
export PYTHONUNBUFFERED := 1

.PHONY: setup run test lint format bench clean

# Model tests also run under KERAS_BACKEND=jax by `make test`.
JAX_TESTS := tests/models/every_model_test.py tests/models/explicit_scale_test.py

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
	# Training at scale: the model tests that train, save and reload every
	# model, run again under the JAX backend (TensorFlow-only ones skip).
	KERAS_BACKEND=jax $(PY) -m pytest -m "not large" $(JAX_TESTS)

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
