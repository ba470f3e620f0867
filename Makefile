# One command per intent. Each sets up .venv (Python >= 3.11) and installs the project first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test check bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)  ## replay a generated sample and serve it on http://127.0.0.1:8080/
	$(BIN)/engage demo

test: $(STAMP)  ## the whole suite, on embedded SQLite+Redis or on DATABASE_URL/REDIS_URL when set
	$(BIN)/python -m pytest

check: $(STAMP)  ## lint, format and types
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy router channels rules workers

bench: $(STAMP)  ## benchmarks print figures and end with one JSON line each
	$(BIN)/python bench/rules_bench.py

clean:
	rm -rf var .pytest_cache
