# contrastkit: `make demo` and `make test` are the two commands a newcomer types.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_RUN ?= runs/demo

.PHONY: install system-deps demo test test-fast lint clean

# torch is pinned first: the CPU wheel is on disk here, and an unpinned torch would pull
# a CUDA build of several GB. pyproject itself only asks for torch>=2.3.
$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[text,export,serve,viz,dev]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/contrastkit train --config configs/digits_simclr.yaml --out $(DEMO_RUN) --overwrite

lint: install
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/mypy

test: install lint
	$(PY) -m pytest -q

test-fast: install
	$(PY) -m pytest -q -m "not slow"

clean:
	rm -rf $(VENV) runs .mypy_cache .ruff_cache .pytest_cache build src/*.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
