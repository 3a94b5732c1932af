PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint fmt check-deploy clean screenshots bench

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

test: $(VENV)/.installed-test
	$(BIN)/python manage.py collectstatic --noinput -v 0
	$(BIN)/python tests/lab.py run -- $(BIN)/python -m pytest $(PYTEST_ARGS)

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
