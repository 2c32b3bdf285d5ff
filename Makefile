# Walkaway: `make run` for the demo, `make test` for the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run worker test lint format migrate seed audit clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Installs are stamped so a second `make` does not ask the package index again.
$(VENV)/.installed-app: $(BIN)/activate pyproject.toml constraints.txt
	$(PY) -m pip install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed-app
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test]"
	touch $@

run: $(VENV)/.installed-app
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --no-input
	DEBUG=$${DEBUG:-1} $(PY) manage.py seed_demo --if-empty
	@echo ""
	@echo "  Walkaway is running at http://$(HOST):$(PORT)/"
	@echo "  Log in as rep, rep2 or manager (admin for /admin/); the password is walkaway."
	@echo ""
	@echo "  API docs: http://$(HOST):$(PORT)/api/v1/docs (tokens on Settings)."
	@echo ""
	@# The webhook worker runs beside the server and stops with it.
	DEBUG=$${DEBUG:-1} $(PY) manage.py db_worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	DEBUG=$${DEBUG:-1} $(PY) manage.py runserver $(HOST):$(PORT)

# The webhook worker alone (`make run` starts one beside the server).
worker: $(VENV)/.installed-app
	DEBUG=$${DEBUG:-1} $(PY) manage.py db_worker

migrate: $(VENV)/.installed-app
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --no-input

seed: migrate
	DEBUG=$${DEBUG:-1} $(PY) manage.py seed_demo

test: $(VENV)/.installed-test
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Checks the pinned dependencies against the PyPI advisory database. Needs a network that
# reaches it; not part of CI, whose machine reaches none (it would report nothing, unchecked).
audit: $(VENV)/.installed-app
	$(PY) -m pip install --quiet -c constraints.txt -e ".[audit]"
	$(BIN)/pip-audit --strict -r constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles

# `make bench` (not part of `make test`): seeds a separate PostgreSQL database, walkaway_bench
# (BENCH_DATABASE_URL to change it), with 100,000 deals and 1,000,000 concessions, then measures
# the app under gunicorn with wrk. BENCH_ARGS="--reuse" keeps an already seeded database.
$(VENV)/.installed-bench: $(VENV)/.installed-app
	$(PY) -m pip install --quiet -c constraints.txt -e ".[bench]"
	touch $@

.PHONY: bench
bench: $(VENV)/.installed-bench
	$(PY) -m bench.run $(BENCH_ARGS)
