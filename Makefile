# contrastkit: `make demo` and `make test` are the two commands a newcomer types.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_RUN ?= runs/demo

.PHONY: install system-deps bench-deps demo test test-fast lint clean

# torch is pinned first to its CPU wheel: an unpinned torch would pull a CUDA build of
# several GB. pyproject itself only asks for torch>=2.3.
# Debian packages the tests and demos use: espeak-ng speaks the audio-text data,
# wordnet-base holds the text task's words and glosses. Installed only when missing.
DEBIAN_PKGS := espeak-ng wordnet-base dataset-fashion-mnist chromium chromium-driver
# Pictures benchmarks/pretrained.py writes as class folders (about 145 MB that no test
# reads): `make bench-deps`.
BENCH_PKGS := openclipart-png mate-icon-theme

# $(call apt_install,PACKAGES): apt-get install those of PACKAGES that are missing.
define apt_install
	@missing=$$(for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages: $$missing"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

system-deps:
	$(call apt_install,$(DEBIAN_PKGS))

bench-deps:
	$(call apt_install,$(BENCH_PKGS))

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[text,export,serve,viz,tables,video,tensorboard,pretrained,dev]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/contrastkit train --config configs/digits_simclr.yaml --out $(DEMO_RUN) --overwrite
	$(VENV)/bin/contrastkit report --run $(DEMO_RUN)

lint: install
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/ruff format --check src tests benchmarks examples
	$(VENV)/bin/mypy

test: install system-deps lint
	$(PY) -m pytest -q -n 2

test-fast: install
	$(PY) -m pytest -q -m "not slow"

clean:
	rm -rf $(VENV) runs .mypy_cache .ruff_cache .pytest_cache build src/*.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
