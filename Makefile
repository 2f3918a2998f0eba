# The two commands of the README: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | sha1sum | cut -c1-12)

.PHONY: run test chaos lint infra migrate token bench clean help

help:
	@echo "make run    - install what is missing, start the platform with demo data"
	@echo "make test   - the whole test suite against the real broker and database"
	@echo "make chaos  - the fault tests at full scale (1,000 demands, one-minute outages)"
	@echo "make token ROLE=enterprise [ENTERPRISE=...] - mint a development token"
	@echo "make lint   - ruff"
	@echo "make bench [ONLY=submission,progress] - the benchmarks; table and bench/results.json"

$(STAMP):
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[test]"
	@rm -f $(VENV)/.installed-* && touch $@

infra:
	@bash devtools/ensure_infra.sh

migrate: $(STAMP) infra
	$(PY) -m devtools.migrate upgrade

run: $(STAMP) infra
	$(PY) -m devtools.run

test: $(STAMP) infra
	@bash devtools/ensure_tools.sh
	$(PY) -m ruff check .
	$(PY) -m pytest $(PYTEST_ARGS)

# the fault tests (marked `chaos`) at the issue's scale; `make test` runs them small
chaos: $(STAMP) infra
	CHAOS=full $(PY) -m pytest -m chaos $(PYTEST_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check .

token: $(STAMP)
	@$(PY) -m devtools.token --role "$(ROLE)" $(if $(ENTERPRISE),--enterprise $(ENTERPRISE)) $(if $(USER_ID),--user $(USER_ID)) $(if $(DEPARTMENT),--department $(DEPARTMENT)) $(if $(GRIDS),--grids $(GRIDS))

# make bench [ONLY=submission,progress] [BENCH_ARGS="--submission-seconds 5"]
bench: $(STAMP) infra
	$(PY) -m bench.run $(if $(ONLY),--only $(ONLY)) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
