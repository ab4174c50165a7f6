# Quote Desk. `make run` serves the app; `make test` runs the whole suite. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
BENCH_STAMP := $(VENV)/.bench-stamp
CHROMIUM := /usr/bin/chromium

.PHONY: install run test lint format bench browser clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	touch $(BENCH_STAMP)

run: install
	$(BIN)/quote-desk db upgrade
	$(BIN)/quote-desk run

# The browser tests drive Debian's Chromium; install it when we can (as root), else they skip
# with the reason (and fail under CI=true, where they must run).
browser:
	@if [ ! -x $(CHROMIUM) ] && [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's chromium for the browser tests..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi
	@[ -x $(CHROMIUM) ] || echo "NOTE: $(CHROMIUM) is missing: browser tests will be skipped."

test: install browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check service tests alembic bench
	$(BIN)/ruff format --check service tests alembic bench
	$(BIN)/mypy

format: install
	$(BIN)/ruff format service tests alembic bench
	$(BIN)/ruff check --fix service tests alembic bench

# The benchmarks (bench/): wrk from Debian when we can (as root). BENCH_ARGS=--quick for a
# short run; QUOTE_BENCH_POSTGRES_URL points the PostgreSQL rows at another server.
bench: $(BENCH_STAMP)
	@command -v wrk >/dev/null || { [ "$$(id -u)" = "0" ] && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } || \
		{ echo "wrk is missing: apt-get install wrk"; exit 1; }
	@# As .ci/run does: start the local PostgreSQL when it is installed but down (root only).
	@if command -v pg_isready >/dev/null && ! pg_isready -h 127.0.0.1 -p 5432 -q && \
		[ "$$(id -u)" = "0" ] && [ -d /etc/postgresql ]; then \
		pg_ctlcluster --skip-systemctl-redirect "$$(ls /etc/postgresql)" main start; \
		for _ in $$(seq 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done; \
	fi
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
