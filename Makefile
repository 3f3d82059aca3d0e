# The two commands a new machine needs: `make demo` and `make test`. Each sets up .venv itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.ready

.PHONY: demo test lint bench venv clean

$(READY): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# Only the environment: .venv/bin/coord, for using this checkout's coord by hand.
venv: $(READY)

demo: $(READY)
	$(BIN)/coord demo

# Coverage of the whole run, child processes included (see [tool.coverage.run]), by branch.
test: export COVERAGE_FILE := $(CURDIR)/.coverage
test: $(READY) lint
	$(BIN)/coverage erase
	$(BIN)/coverage run -m pytest $(PYTEST_ARGS)
	$(BIN)/coverage combine --quiet
	$(BIN)/coverage report

lint: $(READY)
	$(BIN)/ruff check src tests testing benchmarks
	$(BIN)/ruff format --check src tests testing benchmarks
	$(BIN)/mypy

bench: $(READY)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist .coverage .coverage.* htmlcov
