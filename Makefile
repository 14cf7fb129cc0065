# Tracker: two commands for a newcomer, `make run` and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DATABASE_URL ?= sqlite+aiosqlite:///var/tracker.db

.PHONY: run test lint bench install migrate seed clean playground heldout

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/tracker db upgrade

seed: migrate
	$(BIN)/tracker seed-demo --if-empty

## make run: venv, install, migrate, demo data on first run, then serve on 127.0.0.1:$${PORT:-3978}
run: seed
	$(BIN)/tracker serve

## make test: the whole suite (PostgreSQL runs too when TRACKER_TEST_POSTGRES_URL is set), on
## $(TEST_WORKERS) pytest-xdist workers: each has its own databases (tests/conftest.py), so they never collide
TEST_WORKERS ?= 2
test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## make bench: benchmarks (never part of `make test`): every target and in-process figure, 3 interleaved
## rounds (~40 min on 2 cores); prints the table, writes bench/results/latest.json (see bench/README.md).
## A short look: make bench BENCH_ARGS="--quick --only agents-echo,tracker-sqlite-10k"
bench: install
	$(BIN)/python -m bench.run $(BENCH_ARGS)

## make heldout: score the language understanding on the held-out phrasings (tests/heldout); -v lists misses
heldout: install
	$(BIN)/python -m tests.heldout $(HELDOUT_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
