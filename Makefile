PYTHON ?= python3
# make run's venv holds the run requirements alone; the tests' venv adds the test tools.
VENV := .venv
BIN := $(VENV)/bin
TEST_VENV := .venv-test
TBIN := $(TEST_VENV)/bin

.PHONY: run test test-fast test-postgres test-burst test-deploy lint fmt lock clean screenshots bench newcomer

define make_venv
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "Python 3.12 or newer is needed (found %s)" % sys.version.split()[0])'
	$(PYTHON) -m venv $(1)
endef

$(BIN)/python:
	$(call make_venv,$(VENV))

$(TBIN)/python:
	$(call make_venv,$(TEST_VENV))

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q --require-hashes -r requirements.txt
	touch $@

$(TEST_VENV)/.installed: requirements.txt requirements-test.txt | $(TBIN)/python
	$(TBIN)/pip install -q --require-hashes -r requirements-test.txt
	touch $@

run: $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput -v 0
	$(BIN)/python manage.py collectstatic --noinput -v 0
	$(BIN)/python manage.py serve

# The tests' database: sqlite (a file in the lab) or postgres (a PostgreSQL server in the lab).
DB ?= sqlite
JOBS ?= 2
PYTEST := $(TBIN)/python -m pytest
LAB := LAB_DATABASE=$(DB) $(TBIN)/python tests/lab.py run --
# The test run's processes (pytest, workers, watchers, manage.py, make run) load the console's modules from
# bytecode cached under var/ even where the environment says PYTHONDONTWRITEBYTECODE: else each of the
# hundreds of processes a run starts compiles them afresh (~0.3 s of CPU each).
TEST_ENV := env -u PYTHONDONTWRITEBYTECODE PYTHONPYCACHEPREFIX=$(CURDIR)/var/pycache

# Two passes, each on a lab of its own, at the same time: in parallel everything that can share a lab's
# engines and Redis, and beside it, alone in the second lab, the tests that need the lab to themselves
# (marker serial; they mostly wait on engines and Redis). The serial pass's output goes to var/test-serial.log
# and is printed after the parallel pass's. Exit 5 is a pass that selected nothing (a subset); PYTEST_ARGS
# reaches the passes through the environment, so its quotes hold (-k 'a or b').
export PYTEST_ARGS
test: $(TEST_VENV)/.installed
	scripts/system-packages
	$(TBIN)/python manage.py collectstatic --noinput -v 0
	mkdir -p var
	$(TEST_ENV) $(LAB) sh -c 'eval "$(PYTEST) -m \"serial and not burst\" $$PYTEST_ARGS"' >var/test-serial.log 2>&1 & s=$$!; \
	$(TEST_ENV) $(LAB) sh -c 'eval "$(PYTEST) -n $(JOBS) --dist loadgroup -m \"not serial\" $$PYTEST_ARGS"'; a=$$?; \
	wait $$s; b=$$?; echo "--- the serial pass, on a lab of its own (var/test-serial.log) ---"; cat var/test-serial.log; \
	[ $$a = 5 ] && a=0; [ $$b = 5 ] && b=0; exit $$((a | b))

test-postgres:
	$(MAKE) test DB=postgres

# Minutes: several hundred containers created at once, quick exits among them; the shared view must keep up.
test-burst: $(TEST_VENV)/.installed
	scripts/system-packages
	$(LAB) $(PYTEST) -m burst $(PYTEST_ARGS)

# The edit loop: no browser, fault or worker/watcher tests, and few hypothesis examples.
test-fast: $(TEST_VENV)/.installed
	scripts/system-packages
	$(TBIN)/python manage.py collectstatic --noinput -v 0
	HYPOTHESIS_PROFILE=dev $(LAB) $(PYTEST) -n $(JOBS) -m "not browser and not fault and not serial and not slow" $(PYTEST_ARGS)

# The newcomer's path, as CI walks it: make run from the run requirements alone, a first admin,
# a pull of hello-world through the worker, Ctrl-C, nothing left running.
newcomer:
	scripts/system-packages
	$(PYTHON) tests/lab.py run -- $(PYTHON) tests/newcomer.py

# Slow: builds the console's image offline on a Debian 13 base and runs docker-compose.yml's services from it.
test-deploy: $(TEST_VENV)/.installed
	scripts/system-packages
	$(TBIN)/python tests/lab.py run -- $(TBIN)/python -m pytest -s tests/deploy_stack.py $(PYTEST_ARGS)

# Real Chromium saves docs/screenshots/*.png of a console doing real work in a fresh lab.
screenshots: $(TEST_VENV)/.installed
	$(TBIN)/python tests/lab.py run -- $(TBIN)/python tests/screenshots.py

# Not part of the tests: builds its own scale lab, prints a table and saves it to docs/benchmarks.md.
bench: $(TEST_VENV)/.installed
	$(TBIN)/python tests/lab.py run -- $(TBIN)/python tests/bench.py

lint: $(TEST_VENV)/.installed
	$(TBIN)/ruff check .
	$(TBIN)/ruff format --check .
	$(TBIN)/python manage.py makemigrations --check --dry-run

fmt: $(TEST_VENV)/.installed
	$(TBIN)/ruff check --fix .
	$(TBIN)/ruff format .

# Compile requirements*.in into the pinned, hashed requirements*.txt (pip-tools in a throwaway venv).
lock:
	$(PYTHON) -m venv var/lock-venv
	var/lock-venv/bin/pip install -q pip-tools==7.6.2
	var/lock-venv/bin/pip-compile -q --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links -o requirements.txt requirements.in
	var/lock-venv/bin/pip-compile -q --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links -o requirements-test.txt requirements-test.in

clean:
	rm -rf $(VENV) $(TEST_VENV) var
