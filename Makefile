# Two commands do everything: `make up` runs the registry, `make test` runs every test.
# Both create the virtual environment (.venv) first, idempotently.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: up test test-rabbitmq lint bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@# The dashboard's browser tests drive Debian's chromium (browser downloads do not work here).
	@test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium chromium-driver)
	@touch $(STAMP)

up: $(STAMP)
	$(BIN)/xerotier up $(ARGS)

test: $(STAMP)
	$(BIN)/ruff check shared services tests benchmarks
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The fault-injection scenarios on RabbitMQ (quorum queues, publisher confirms), one vhost per test.
test-rabbitmq: $(STAMP)
	XEROTIER_TEST_BROKER=amqp $(BIN)/python -m pytest tests/integration/faults -m "not redis_only" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check shared services tests benchmarks
	$(BIN)/ruff format --check shared services tests benchmarks

bench: $(STAMP)
	$(BIN)/python -m benchmarks $(ARGS)

clean:
	rm -rf $(VENV) xerotier-data .pytest_cache
