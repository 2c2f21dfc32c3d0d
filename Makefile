# `make run` and `make test` set everything up on a fresh clone: a virtualenv in .venv with the pinned
# dependencies (constraints.txt), then run the server or the whole test suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.package-lock.json

.PHONY: run test check lint fuzz bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# socket.io-client for the browser, served by the server inside /widget.js and the console.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

run: $(STAMP) $(NODE_STAMP)
	$(PY) server.py

check: $(STAMP)
	$(PY) -m chatbot intents check intents

# ruff (lint and import order) on everything, mypy --strict on the package (settings in pyproject.toml).
lint: $(STAMP)
	$(VENV)/bin/ruff check chatbot tests bench server.py
	$(VENV)/bin/mypy

test: $(STAMP) $(NODE_STAMP) check lint
	$(PY) -m pytest -q

# The protocol fuzzer with many more random payloads per event than `make test` (FUZZ_EXAMPLES=50).
FUZZ_EXAMPLES ?= 1000
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -q tests/test_fuzz.py

# Both benchmarks at a size that finishes in about 5 minutes (docs/performance.md): the load run (SQLite,
# PostgreSQL where reachable, and the bare Socket.IO echo ceiling), then idle capacity, then the CPU of one bot
# reply without a server (what matching alone costs against the echo's whole reply). Figures, never pass/fail.
BENCH_LOAD ?= --visitors 100 --clients 2 --duration 8 --warmup 2
BENCH_IDLE ?= --sizes 10000 --samples 400 --rate 20
bench: $(STAMP)
	$(PY) bench/load.py $(BENCH_LOAD)
	$(PY) bench/idle.py $(BENCH_IDLE)
	$(PY) bench/reply_cost.py

clean:
	rm -rf $(VENV) node_modules *.egg-info .pytest_cache .hypothesis
