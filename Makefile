# The two commands of the README: `make run` and `make test`. Each sets up what it needs
# first: `run` only what running the agent takes; `test` adds the test desktops, the
# packaging tools and the development packages.
VENV := .venv
RUN_STAMP := $(VENV)/.setup-run
TEST_STAMP := $(VENV)/.setup-test

.PHONY: setup setup-run run test bench bench-quick format
setup-run: $(RUN_STAMP)
setup: $(TEST_STAMP)

$(RUN_STAMP): pyproject.toml scripts/setup.sh
	scripts/setup.sh run
	touch $(RUN_STAMP)

$(TEST_STAMP): pyproject.toml scripts/setup.sh
	scripts/setup.sh test
	touch $(RUN_STAMP) $(TEST_STAMP)

run: setup-run
	$(VENV)/bin/traycourier run

test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	scripts/typecheck.sh
	$(VENV)/bin/python -m pytest

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: setup
	$(VENV)/bin/python -m tests.bench --out bench-results

bench-quick: setup
	$(VENV)/bin/python -m tests.bench --quick --out $(or $(TC_ARTIFACTS),bench-results)/bench
