# Two commands matter: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAMP := $(VENV)/.installed
PYTEST_WORKERS ?= 2
# `lint-imports` (import-linter; contracts in pyproject.toml), run through the venv's interpreter.
LINT_IMPORTS := $(PY) -c "import sys; from importlinter.cli import lint_imports_command as lint_imports; sys.exit(lint_imports())"

.PHONY: venv demo test lint migrate run worker stop clean bench browser-deps

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

migrate: venv
	$(PY) manage.py migrate --noinput -v0

# Seeds the demo tenant, starts the web server and a worker in the background (left running;
# `make stop` ends them) and drives a whole generation through the HTTP API.
demo: migrate
	$(PY) manage.py seed_demo
	$(PY) scripts/demo.py --port $(PORT)

test: venv browser-deps
	$(PY) -m ruff check .
	$(LINT_IMPORTS)
	$(PY) manage.py makemigrations --check --dry-run -v0
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup -q

lint: venv
	$(PY) -m ruff check .
	$(LINT_IMPORTS)
	$(PY) -m ruff format --check .

# ASGI like production (runserver is WSGI: live-update streams would be buffered there).
run: migrate
	$(PY) -m uvicorn config.asgi:application --host 127.0.0.1 --port $(PORT) --reload

worker: migrate
	$(PY) manage.py qcluster

stop:
	-$(PY) scripts/demo.py --stop

bench: venv
	$(PY) benchmarks/bench_assembly.py

clean: stop
	rm -rf var/

# Headless Chromium for the browser tests (tests/browser), from Debian: Playwright drives it
# through executable_path, so `playwright install` (which downloads) is never needed.
# Installs only where it can (root with apt); elsewhere the browser test says it was skipped.
browser-deps:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		echo "chromium not installed: the browser test will be skipped"
