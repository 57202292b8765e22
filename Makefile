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

# `make test` runs pytest on this many processes (pytest-xdist; each test
# file stays on one process). TEST_WORKERS=0 runs everything in one.
TEST_WORKERS ?= 2

# Model tests and the layers' Keras-compatibility tests also run under
# KERAS_BACKEND=jax by `make test`. Deselected there: one test whose Keras
# twin (keras.layers.MultiHeadAttention with value_dim != key_dim) fails
# under JAX on CPU in Keras 3.15 itself.
JAX_TESTS := tests/models/every_model_test.py \
	tests/models/explicit_scale_test.py tests/layers/compat_lstm_test.py \
	tests/layers/compat_gru_test.py tests/layers/compat_simple_rnn_test.py \
	tests/layers/compat_multi_head_attention_test.py \
	tests/layers/compat_transformer_encoder_test.py \
	tests/layers/compat_transformer_decoder_test.py \
	tests/layers/compat_sine_positional_encoding_test.py \
	tests/layers/compat_position_embedding_test.py \
	tests/layers/compat_token_and_position_embedding_test.py
JAX_DESELECT := --deselect tests/layers/compat_multi_head_attention_test.py::MultiHeadAttentionCompatTest::test_constructor_surface_equals_keras

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
	$(PY) -m pytest -n $(TEST_WORKERS) -m "not serial"
	$(PY) -m pytest -m serial
	# Training at scale: the model tests that train, save and reload every
	# model, and the layers' compatibility tests, run again under the JAX
	# backend (TensorFlow-only ones skip).
	KERAS_BACKEND=jax $(PY) -m pytest -n $(TEST_WORKERS) -m "not large" \
		$(JAX_TESTS) $(JAX_DESELECT)
	# Docstring examples, every module of refnn. refnn/_tutorials is a
	# symlink to tutorials/ (scripts run by tests/tutorials_test.py, not
	# modules to import), so it is left out here.
	$(PY) -m pytest -q -p no:cacheprovider --doctest-modules refnn \
		--ignore=refnn/_tutorials

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

## -- Documentation: notebooks, the site and its browser test ---------------
## `make notebooks` writes build/notebooks/NN_topic.ipynb from tutorials/;
## `make docs` runs them in quick mode (cached in build/tutorials/) and
## builds the site into site/ (open site/index.html). `make test` also
## installs the docs extra and Chromium for tests/docs/.
DOCS_STAMP := $(VENV)/.refnn-docs-installed

$(DOCS_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,docs]'
	touch $(DOCS_STAMP)

.PHONY: docs-setup notebooks docs chromium
docs-setup: $(DOCS_STAMP)

notebooks: docs-setup
	$(PY) docs/site_build.py notebooks

docs: docs-setup
	$(PY) docs/site_build.py site

## Debian's chromium + chromedriver for the browser test. Where they cannot be
## installed the test fails and says why; it is never skipped.
chromium:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; \
	then echo "chromium: $$(chromium --version)"; \
	else (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq chromium chromium-driver >/dev/null) || \
	     echo "WARNING: could not install chromium + chromium-driver;" \
	          "tests/docs/site_test.py will fail"; fi

test: docs-setup chromium
