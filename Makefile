# Chuangwen (创文): the two commands of the README, and a few helpers.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test install lint typecheck migrationscheck bench

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

demo: install
	mkdir -p var
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py createcachetable
	$(PY) manage.py load_demo --url http://$(HOST):$(PORT)/
	$(PY) manage.py start_schedule
	$(PY) manage.py db_worker --no-reload -v0 & worker=$$!; trap 'kill $$worker' EXIT INT TERM; \
	$(PY) manage.py runserver $(HOST):$(PORT)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: install
	$(VENV)/bin/mypy --config-file pyproject.toml .

# The models and the migrations agree (a model change without its migration fails here).
migrationscheck: install
	mkdir -p var
	$(PY) manage.py makemigrations --check --dry-run

test: lint typecheck migrationscheck
	$(VENV)/bin/pytest

bench: install
	$(PY) -m bench
