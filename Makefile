# The two commands of the README: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | sha1sum | cut -c1-12)

.PHONY: run test test-fast chaos lint infra migrate token bench clean help messages catalogs web web-types

help:
	@echo "make run    - install what is missing, start the platform with demo data"
	@echo "make test   - the whole test suite against the real broker and database"
	@echo "make test-fast - the unit tier (no broker, no database)"
	@echo "make chaos  - the fault tests at full scale (1,000 demands, one-minute outages)"
	@echo "make token ROLE=enterprise [ENTERPRISE=...] - mint a development token"
	@echo "make lint   - ruff, and mypy (strict on common/ and the pure rule modules)"
	@echo "make bench [ONLY=submission,progress] - the benchmarks; table and bench/results.json"
	@echo "make web    - build the web console (web/dist) if its sources changed"
	@echo "make web-types - regenerate the console's API types from the OpenAPI document"

$(STAMP):
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[test]"
	@rm -f $(VENV)/.installed-* && touch $@

infra:
	@bash devtools/ensure_infra.sh

# gettext catalogs (common/i18n.py): the .po files are the source, the .mo files are built
CATALOGS := $(patsubst %.po,%.mo,$(wildcard common/locale/*/LC_MESSAGES/gridsvc.po))
catalogs: $(CATALOGS)
common/locale/%/LC_MESSAGES/gridsvc.mo: common/locale/%/LC_MESSAGES/gridsvc.po $(STAMP)
	@$(PY) -m devtools.messages compile

# extract every message id into the template and merge it into each catalog (then translate
# the new entries and make catalogs); the keywords are in devtools/messages.py
messages: $(STAMP)
	$(PY) -m devtools.messages

migrate: $(STAMP) infra catalogs
	$(PY) -m devtools.migrate upgrade

# the web console (devtools/web.sh: Node from Debian when missing, npm ci, vite build)
web:
	@bash devtools/web.sh build

# after an API change: web/src/api/schema.d.ts from the OpenAPI document (a test checks it)
web-types: $(STAMP)
	@PY=$(PY) bash devtools/web.sh types

run: $(STAMP) infra catalogs web
	$(PY) -m devtools.run

test: $(STAMP) infra catalogs web
	@bash devtools/ensure_tools.sh
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest $(PYTEST_ARGS)

# the unit tier only: no broker, no database (under a minute)
test-fast: $(STAMP) catalogs
	$(PY) -m pytest tests/unit -q $(PYTEST_ARGS)

# the fault tests (marked `chaos`) at the issue's scale; `make test` runs them small
chaos: $(STAMP) infra catalogs
	CHAOS=full $(PY) -m pytest -m chaos $(PYTEST_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m mypy

token: $(STAMP)
	@$(PY) -m devtools.token --role "$(ROLE)" $(if $(ENTERPRISE),--enterprise $(ENTERPRISE)) $(if $(USER_ID),--user $(USER_ID)) $(if $(DEPARTMENT),--department $(DEPARTMENT)) $(if $(GRIDS),--grids $(GRIDS))

# make bench [ONLY=submission,progress] [BENCH_ARGS="--submission-seconds 5"]
bench: $(STAMP) infra catalogs web
	$(PY) -m bench.run $(if $(ONLY),--only $(ONLY)) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
