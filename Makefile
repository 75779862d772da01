# The two commands of the README: `make run` and `make test`. Both set everything up first.
VENV := .venv
STAMP := $(VENV)/.setup-done

.PHONY: setup run test bench bench-quick format
setup: $(STAMP)

$(STAMP): pyproject.toml scripts/setup.sh
	scripts/setup.sh
	touch $(STAMP)

run: setup
	$(VENV)/bin/traycourier run

test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/python -m pytest

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: setup
	$(VENV)/bin/python -m tests.bench --out bench-results

bench-quick: setup
	$(VENV)/bin/python -m tests.bench --quick --out $(or $(TC_ARTIFACTS),bench-results)/bench
