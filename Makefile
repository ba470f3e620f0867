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

bench: $(STAMP)  ## every benchmark at a small size; README's "Benchmarks" has the full sizes
	$(BIN)/python bench/rules_bench.py
	$(BIN)/python bench/pipeline_bench.py --rates 500,0 --seconds 5
	$(BIN)/python bench/queue_bench.py --cases 20000
	$(BIN)/python bench/timers_bench.py --cases 700
	$(BIN)/python bench/report_bench.py --cases 20000

clean:
	rm -rf var .pytest_cache
