# The two commands: `make demo` and `make test`. Everything else is a helper for them.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: demo test venv venv-dev lint serve worker clean-demo

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(VENV)/.installed $@

venv: $(VENV)/.installed
venv-dev: $(VENV)/.installed-dev

## make demo: fresh machine → virtualenv, install, migrate (SQLite), demo data, serve on 127.0.0.1:$(PORT)
demo: venv
	env -u DATABASE_URL -u REDIS_URL $(BIN)/python manage.py migrate --noinput
	env -u DATABASE_URL -u REDIS_URL $(BIN)/python manage.py collectstatic --noinput -v0
	env -u DATABASE_URL -u REDIS_URL $(BIN)/python manage.py load_demo
	env -u DATABASE_URL -u REDIS_URL $(BIN)/python manage.py serve --port $(PORT)

## make test: the whole suite against PostgreSQL and Redis (local addresses unless DATABASE_URL/REDIS_URL)
test: venv-dev
	$(BIN)/python scripts/check_services.py
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run --settings=contest_engine.settings_test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: venv-dev
	$(BIN)/ruff check .
