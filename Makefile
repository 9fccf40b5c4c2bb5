# `make run` and `make test` work on a fresh machine with only Python 3.11+ present.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install ts-install ui-install ui-test screenshots run test lint format unit fuzz mutate clean bench bench-quick replicas

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# The TypeScript client's npm packages (clients/typescript), when npm is on the machine.
TS_CLIENT := clients/typescript
TS_STAMP := $(TS_CLIENT)/node_modules/.installed

$(TS_STAMP): $(TS_CLIENT)/package.json $(TS_CLIENT)/package-lock.json
	cd $(TS_CLIENT) && npm ci --no-audit --no-fund
	touch $(TS_STAMP)

ts-install:
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory $(TS_STAMP); \
	else echo "npm not found: the TypeScript client's tests will skip"; fi

# The console (ui/): its packages as locked, then the bundle the service serves under /app/.
UI := ui
UI_STAMP := $(UI)/node_modules/.installed

$(UI_STAMP): $(UI)/package.json $(UI)/package-lock.json
	cd $(UI) && npm ci --no-audit --no-fund
	touch $(UI_STAMP)

# The bundle is built again only when a source of it changed (the console's, or the typed
# client's it imports).
UI_SOURCES := $(shell find $(UI)/src $(TS_CLIENT)/src -type f 2>/dev/null) \
	$(wildcard $(UI)/index.html $(UI)/*.config.* $(UI)/tsconfig.json)
UI_BUNDLE := $(UI)/dist/index.html

$(UI_BUNDLE): $(UI_STAMP) $(UI_SOURCES)
	cd $(UI) && npm run build

ui-install:
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory $(UI_BUNDLE); \
	else echo "npm not found: the console is not built (/app/ says how to build it)"; fi

## The console's tests: Vitest (form state), then Playwright on Debian's Chromium against a
## real `sms-channels run` (ui/tests/e2e). Without npm or /usr/bin/chromium they are skipped,
## unless SMS_CHANNELS_REQUIRE_NODE / SMS_CHANNELS_REQUIRE_BROWSER make that a failure.
CHROMIUM ?= /usr/bin/chromium
ui-test: $(STAMP)
	@if ! command -v npm >/dev/null; then \
	  if [ -n "$$SMS_CHANNELS_REQUIRE_NODE" ]; then echo "npm is required (SMS_CHANNELS_REQUIRE_NODE)"; exit 1; fi; \
	  echo "npm not found: the console's tests are skipped"; exit 0; fi; \
	$(MAKE) --no-print-directory ui-install && cd $(UI) && npm run test:unit && \
	if [ -x "$(CHROMIUM)" ]; then CHROMIUM="$(CHROMIUM)" npm run test:e2e; \
	elif [ -n "$$SMS_CHANNELS_REQUIRE_BROWSER" ]; then echo "$(CHROMIUM) is required (SMS_CHANNELS_REQUIRE_BROWSER)"; exit 1; \
	else echo "$(CHROMIUM) not found: the console's browser tests are skipped"; fi

## A PNG of each console surface in docs/ui/ (Playwright against a real `sms-channels run`).
screenshots: $(STAMP) ui-install
	cd $(UI) && npm run screenshots

install: $(STAMP) ts-install ui-install

## Run the service and its console on the embedded default (PostgreSQL under ./.data,
## generated secrets); builds the console first when npm is present and a source changed.
run: $(STAMP) ui-install
	$(BIN)/sms-channels run

## Lint, type-check, then every test tier (unit, integration, e2e).
test: lint ts-install
	$(BIN)/pytest
	$(MAKE) --no-print-directory ui-test

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Benchmarks B1-B6 against this machine's PostgreSQL (full mode: several minutes).
bench: $(STAMP)
	$(BIN)/python -m bench.run_all

## The same in quick mode (about a minute each; a smoke run, asserts nothing about speed).
bench-quick: $(STAMP)
	$(BIN)/python -m bench.run_all --quick

## The replicated deployment, long version: three `serve` and two sets of every worker role
## on one PostgreSQL and broker, each leader killed (kill -9) twice under load; prints the
## measured takeover times (about 3 min; the suite runs the short version).
replicas: $(STAMP)
	REPLICAS_LONG=1 $(BIN)/pytest -p no:cacheprovider -s -q tests/e2e/test_replicas.py

unit: $(STAMP)
	$(BIN)/pytest tests/unit

## Schemathesis over the served OpenAPI (generated cases, the examples, a live connection),
## randomised; prints 2xx/4xx/5xx per operation; more cases: FUZZ_CASES=20000 make fuzz
FUZZ_CASES ?= 5000
fuzz: $(STAMP)
	FUZZ_CASES=$(FUZZ_CASES) $(BIN)/pytest -p no:cacheprovider -s tests/security/test_fuzz.py

## Mutation testing, judged by the unit tier (slow: ~20 min on 2 idle cores, ~50 when
## shared; not part of `make test`), of the paths in pyproject's [tool.mutmut]
## source_paths: domain/, api/auth.py, api/idempotency.py, projections/reducers.py and the
## relays. Prints each module's score and the survivors; fails when a path scores under its
## threshold (TARGETS in tests/mutation_score.py) or a survivor is neither killed nor in
## tests/MUTANTS.md.
MUTATE_CHILDREN ?= 2
mutate: $(STAMP)
	rm -rf mutants
	$(BIN)/mutmut run --max-children $(MUTATE_CHILDREN) > mutants.log 2>&1 || (tail -40 mutants.log; exit 1)
	$(BIN)/python -m tests.mutation_score

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis mutants mutants.log
