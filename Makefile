# Tipline's quick start: `make run` serves the app, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON := $(shell scripts/find-python)
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/tipline
# Tests keep their files (SQLite test database, keys) away from the real var/.
TEST_DATA := $(CURDIR)/.test-data

.PHONY: run test browser lint typecheck test-sqlite test-postgres install install-dev lock clean

$(BIN)/python:
	@test -n "$(PYTHON)" || exit 1
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	@rm -f $(VENV)/.installed-dev
	touch $@

$(VENV)/.installed-dev: requirements-dev.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/tipline setup
	$(BIN)/tipline serve

test: install-dev browser lint typecheck test-sqlite test-postgres

# The browser tests drive Debian's Chromium; installed here when missing.
browser:
	scripts/ensure-chromium

lint: install-dev
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

typecheck: install-dev
	TIPLINE_DATA_DIR=$(TEST_DATA) $(BIN)/mypy

test-sqlite: install-dev
	TIPLINE_DATA_DIR=$(TEST_DATA) TIPLINE_DATABASE_URL= $(BIN)/pytest

test-postgres: install-dev
	TIPLINE_DATA_DIR=$(TEST_DATA) TIPLINE_DATABASE_URL=$(PG_URL) $(BIN)/pytest

# Re-pin dependencies after editing pyproject.toml.
lock: | $(BIN)/python
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links --extra dev -o requirements-dev.lock pyproject.toml

clean:
	rm -rf $(VENV) $(TEST_DATA) .pytest_cache .mypy_cache .ruff_cache
