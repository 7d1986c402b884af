# Two commands, each doing only its job:
#   make up    installs the runtime dependencies only (no test tools, no browser, no root) and runs
#              the registry (`xerotier up`).
#   make test  installs the test extras (and Debian's chromium when it is missing) and runs every check.
# Both create the virtual environment (.venv) first, idempotently, and install the versions pinned in
# constraints.txt (the Dockerfile uses the same file), so every install is reproducible.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check
CONSTRAINTS := constraints.txt
RUNTIME_STAMP := $(VENV)/.installed-runtime
TEST_STAMP := $(VENV)/.installed-test
BROWSER := /usr/bin/chromium

.PHONY: up test unit integration e2e test-rabbitmq lint check bench browser lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUNTIME_STAMP): pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PIP) -c $(CONSTRAINTS) -e .
	@touch $@

$(TEST_STAMP): pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PIP) -c $(CONSTRAINTS) -e '.[test]'
	@touch $@ $(RUNTIME_STAMP)

# The dashboard's browser tests drive Debian's chromium (browser downloads do not work here); it is
# installed with apt only when missing, which needs root. `make up` never needs it.
browser:
	@test -x $(BROWSER) || (apt-get update && apt-get install -y chromium chromium-driver) \
	  || (echo "The browser tests need $(BROWSER): install Debian's chromium (as root: apt-get install chromium)" >&2; exit 1)

up: $(RUNTIME_STAMP)
	$(BIN)/xerotier up $(ARGS)

# Every static check, before pytest: ruff (lint and format), mypy, import-linter (the design's arrows).
check: $(TEST_STAMP)
	$(BIN)/ruff check shared services tests benchmarks scripts
	$(BIN)/ruff format --check shared services tests benchmarks scripts
	$(BIN)/mypy
	$(BIN)/lint-imports

test: check browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# One layer of the suite at a time (the folders are the layers; `-m integration` / `-m e2e` also work).
unit: $(TEST_STAMP)
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

integration: $(TEST_STAMP)
	$(BIN)/python -m pytest tests/integration $(PYTEST_ARGS)

e2e: $(TEST_STAMP) browser
	$(BIN)/python -m pytest tests/e2e $(PYTEST_ARGS)

# The fault-injection scenarios on RabbitMQ (quorum queues, publisher confirms), one vhost per test.
test-rabbitmq: $(TEST_STAMP)
	XEROTIER_TEST_BROKER=amqp $(BIN)/python -m pytest tests/integration/faults -m "not redis_only" $(PYTEST_ARGS)

lint: check

bench: $(TEST_STAMP)
	$(BIN)/python -m benchmarks $(ARGS)

# Re-pin constraints.txt from a fresh install of the runtime and test dependencies.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	( echo "# Pinned versions of every runtime and test dependency: make lock regenerates this file."; \
	  .lock-venv/bin/python -m pip freeze --exclude-editable --all | grep -v '^pip==' | sort -f ) > $(CONSTRAINTS)
	rm -rf .lock-venv

# Build and test outputs only. The registry's data (./xerotier-data: models, keys) is never removed here.
clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis build dist test-artifacts bench-results.json
	find shared services tests benchmarks -name __pycache__ -type d -prune -exec rm -rf {} +
