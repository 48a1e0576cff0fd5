# k8slearn — the two README commands come first: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help

.PHONY: help run test install setup lint bench browsers screenshots

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

run: setup ## Serve the app on http://127.0.0.1:$(PORT) (creates the venv, installs, migrates)
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

test: setup browsers ## Run every test: lint, simulator, web, consumers, browser (Chromium)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py check --fail-level WARNING
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py lessons check --strict
	$(PY) -m pytest

install: $(STAMP) ## Create .venv and install the pinned dependencies

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

setup: install ## Install, compile the Korean catalogue, migrate
	$(PY) manage.py compilecatalogue
	$(PY) manage.py migrate --noinput -v 0

browsers: ## Make sure Debian's Chromium and Korean fonts are there (installs them as root)
	@bash scripts/ensure-browser.sh

lint: install ## ruff + the import contract (the simulator imports no Django)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench: setup ## Print the performance figures (bench/*.py)
	$(PY) bench/sim.py
	$(PY) bench/pages.py
	$(PY) bench/ws_load.py
	$(PY) bench/classroom_load.py

screenshots: setup browsers ## Retake docs/screenshot-*.png and a review set in /tmp/shots (Chromium)
	$(PY) tests/e2e/screenshots.py --all
