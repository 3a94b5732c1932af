PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-fast test-postgres lint fmt check-deploy clean screenshots bench

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "Python 3.12 or newer is needed (found %s)" % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements.txt requirements-test.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-test.txt
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput -v 0
	$(BIN)/python manage.py serve

# The tests' database: sqlite (a file in the lab) or postgres (a PostgreSQL server in the lab).
DB ?= sqlite
JOBS ?= 2
PYTEST := $(BIN)/python -m pytest
LAB := LAB_DATABASE=$(DB) $(BIN)/python tests/lab.py run --

# One lab, two passes: in parallel everything that can share the lab's engine and Redis, then alone the
# tests that need them to themselves (marker serial). Exit 5 is a pass that selected nothing (a subset);
# PYTEST_ARGS reaches the passes through the environment, so its quotes hold (-k 'a or b').
export PYTEST_ARGS
test: $(VENV)/.installed-test
	$(BIN)/python manage.py collectstatic --noinput -v 0
	$(LAB) sh -c 'eval "$(PYTEST) -n $(JOBS) -m \"not serial\" $$PYTEST_ARGS"; a=$$?; eval "$(PYTEST) -m serial $$PYTEST_ARGS"; b=$$?; \
		[ $$a = 5 ] && a=0; [ $$b = 5 ] && b=0; exit $$((a | b))'

test-postgres:
	$(MAKE) test DB=postgres

# The edit loop: no browser, fault or worker/watcher tests, and few hypothesis examples.
test-fast: $(VENV)/.installed-test
	$(BIN)/python manage.py collectstatic --noinput -v 0
	HYPOTHESIS_PROFILE=dev $(LAB) $(PYTEST) -n $(JOBS) -m "not browser and not fault and not serial and not slow" $(PYTEST_ARGS)

# Real Chromium saves docs/screenshots/*.png of a console doing real work in a fresh lab.
screenshots: $(VENV)/.installed-test
	$(BIN)/python tests/lab.py run -- $(BIN)/python tests/screenshots.py

# Not part of the tests: builds its own scale lab, prints a table and saves it to docs/benchmarks.md.
bench: $(VENV)/.installed-test
	$(BIN)/python tests/lab.py run -- $(BIN)/python tests/bench.py

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var
