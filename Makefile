# omnitill developer commands. `make run` starts the demo; `make test` runs the whole suite.
# Each target keeps its own virtual environment and reinstalls only when pyproject.toml changes.

PYTHON ?= python3
VENV ?= .venv
TEST_VENV ?= .venv-test
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 1
PIP_FLAGS ?= --quiet

LINT_PATHS := src tests $(wildcard benchmarks)
BENCHMARKS := $(filter-out benchmarks/_%,$(sort $(wildcard benchmarks/*.py)))

.DEFAULT_GOAL := help
.PHONY: help run test lint bench clean distclean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install $(PIP_FLAGS) -e .
	@touch $@

$(TEST_VENV)/.installed: pyproject.toml
	@test -x $(TEST_VENV)/bin/python || $(PYTHON) -m venv $(TEST_VENV)
	$(TEST_VENV)/bin/python -m pip install $(PIP_FLAGS) -e '.[postgres,dev]'
	@touch $@

run: $(VENV)/.installed  ## migrate, seed the demo retailer, serve it on http://127.0.0.1:8000
	$(VENV)/bin/omnitill db upgrade
	$(VENV)/bin/omnitill demo
	@echo
	@echo "omnitill demo: http://$(HOST):$(PORT)   API docs: http://$(HOST):$(PORT)/docs"
	@echo "sign in with a login above, e.g. cashier1 / demo-password-1 (Ctrl+C stops)"
	@echo
	$(VENV)/bin/omnitill serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

lint: $(TEST_VENV)/.installed  ## ruff, formatting, import contracts and mypy
	$(TEST_VENV)/bin/ruff check $(LINT_PATHS)
	$(TEST_VENV)/bin/ruff format --check $(LINT_PATHS)
	$(TEST_VENV)/bin/lint-imports
	$(TEST_VENV)/bin/mypy

test: lint  ## lint, then every test (PostgreSQL too when OMNITILL_TEST_DATABASE_URL is set)
	@mkdir -p build
	$(TEST_VENV)/bin/pytest --junitxml=build/junit.xml

bench: $(TEST_VENV)/.installed  ## run every benchmarks/*.py and print its figures
ifeq ($(BENCHMARKS),)
	@echo "no benchmarks yet"
else
	@set -e; for script in $(BENCHMARKS); do \
		echo "== $$script"; $(TEST_VENV)/bin/python $$script; done
endif

clean:  ## remove build output and tool caches (keeps the virtualenvs and omnitill.db)
	rm -rf build dist .pytest_cache .ruff_cache .mypy_cache .import_linter_cache src/*.egg-info
	find . -path ./$(VENV) -prune -o -path ./$(TEST_VENV) -prune -o \
		-name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean  ## also remove both virtualenvs and the demo database ./omnitill.db
	rm -rf $(VENV) $(TEST_VENV) omnitill.db omnitill.db-wal omnitill.db-shm
