# Chuangwen (创文): the two commands of the README, and a few helpers.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test install lint typecheck migrationscheck deploycheck bench vendor-js

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


# Django's deployment checks with production settings (a throwaway key; no database is touched).
deploycheck: install
	DJANGO_DEBUG=0 DJANGO_SECRET_KEY=deploycheck-only-$$(date +%s)-not-a-real-key-0123456789abcdefghij \
	DJANGO_ALLOWED_HOSTS=chuangwen.example.gov.cn $(PY) manage.py check --deploy --fail-level WARNING

test: lint typecheck migrationscheck deploycheck
	$(VENV)/bin/pytest

bench: install
	$(PY) -m bench

# The browser libraries kept in the repository (ECharts, axe-core for the tests), fetched once from
# the npm registry by their pinned versions; the files are committed, so nothing runs Node later.
vendor-js:
	bash dashboards/fetch_vendor.sh
