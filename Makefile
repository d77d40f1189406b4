# One entry point for people and CI. `make deploy` and `make test` work on a
# fresh machine: both create .venv from the pinned requirements first.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3
ENV ?= dev
# Parallel pytest workers for the integration suite (one emulator each). A
# playbook run is a serial chain (controller -> module interpreter -> moto)
# that keeps about one core busy, but the two longest tests mostly wait
# (realistic latency, injected faults): 4 workers beside molecule's 2 scenarios
# keep 2 cores busy until the last minute (CPU sampled every 10 s). 5 and 6
# were measured slower (with the mitogen strategy of that time; not re-measured
# on the stock strategy).
WORKERS ?= 4

export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: setup emulator emulator-realistic emulator-stop emulator-status deploy teardown lint sanity unit integration molecule test test-slow bench clean

setup: $(VENV)/.installed

# pip would byte-compile all ~23,000 installed Python files, one at a time
# (half of the install); 15,000 are the ~100 collections the ansible package
# ships, of which we use three. Compile what we use on both cores instead;
# anything else still works, compiled on import.
COMPILED_COLLECTIONS := amazon/aws|community/aws|ansible/posix

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --no-compile -r requirements-dev.txt
	$(BIN)/python -m compileall -q -j 0 -x '/ansible_collections/(?!($(COMPILED_COLLECTIONS))/)' $(VENV)/lib
	touch $@

emulator: setup
	$(BIN)/python scripts/emulator.py start

emulator-realistic: setup
	$(BIN)/python scripts/emulator.py start --profile realistic

emulator-stop:
	@if [ -x $(BIN)/python ]; then $(BIN)/python scripts/emulator.py stop; else echo "no .venv: nothing to stop"; fi

emulator-status: setup
	$(BIN)/python scripts/emulator.py status

deploy: setup emulator
	$(BIN)/ansible-playbook site.yml -e env=$(ENV)

teardown: setup emulator
	$(BIN)/ansible-playbook teardown.yml -e env=$(ENV)

lint: setup
	$(BIN)/yamllint --strict .
	$(BIN)/ruff check .
	$(BACKGROUND) $(BIN)/ansible-lint --profile production
	$(BACKGROUND) $(MAKE) sanity

sanity: setup
	$(BIN)/python scripts/ansible_test.py sanity

unit: setup
	$(BIN)/pytest -q tests/unit

integration: setup
	$(BIN)/pytest -q -n $(WORKERS) --dist loadgroup --no-loadscope-reorder --durations=15 tests/integration

# Only the whole-stack tests that take longest (killed runs, realistic latency
# and injected faults); `make integration` runs them too, first.
test-slow: setup
	$(BIN)/pytest -q -n $(WORKERS) --dist loadgroup --no-loadscope-reorder -m slow tests/integration

# MOLECULE_ARGS: e.g. `-s ecs`, or `-x full` (make test: the full-stack
# lifecycle is already the integration suite's, fresh re-run included).
molecule: setup
	$(BIN)/python scripts/molecule_all.py $(MOLECULE_ARGS)

# Everything side by side once .venv exists: the integration tests and the
# molecule scenarios are sets of serial playbook chains, some of which wait
# (realistic latency), and the linters fill those gaps. Each target's output
# is printed in one piece when it finishes; make fails if any of them failed.
#
# The integration tests are the longest of the four, so ansible-lint, sanity
# and the molecule scenarios run niced (their emulator does not): they take
# the CPU the integration workers leave while they wait, and the whole machine
# once those are done, instead of slowing the longest chain from the start.
test: setup
	$(MAKE) --no-print-directory -j 4 --output-sync=target integration molecule lint unit \
		MOLECULE_ARGS="-x full --nice 10" BACKGROUND="nice -n 10"

bench: setup
	$(BIN)/python benchmarks/bench.py --realistic $(BENCH_ARGS)

clean: emulator-stop
	rm -rf $(VENV) .emulator .cache outputs tests/output .pytest_cache .ruff_cache
