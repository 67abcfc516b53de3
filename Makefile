# The README's commands. `make dev` sets everything up and runs the app locally;
# `make test` sets everything up and runs the whole test suite (what CI runs).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAM_VENV := .venv-sam
PORT ?= 3000

.PHONY: dev setup test lint typecheck typecheck-pages unit browser stack sam-build bench clean

dev: setup ## set up, then run the dev server with the local provider on http://localhost:$(PORT)
	$(BIN)/livescreen dev --port $(PORT)

setup: $(VENV)/.installed assets/vendor/.built ## Python venv + pip + npm + vendored front-end files

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

assets/vendor/.built: node_modules/.installed scripts/copy-vendor.mjs
	npm run --silent build
	touch $@

$(SAM_VENV)/.installed: requirements-sam.txt
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet -r requirements-sam.txt
	touch $@

lint: $(VENV)/.installed ## ruff, and the import contracts (layers, independent providers, nothing dev-only on Lambda)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(VENV)/.installed
	$(BIN)/mypy

# The browser pages against the pinned SDKs' own type definitions (tsconfig.json,
# types/pages-globals.d.ts): an SDK method or event the pages use that a new pin renames or drops
# fails here. Offline: TypeScript comes from node_modules (a devDependency in package-lock.json).
typecheck-pages: node_modules/.installed
	node node_modules/typescript/bin/tsc -p tsconfig.json

test: setup $(SAM_VENV)/.installed lint typecheck typecheck-pages ## everything CI runs: lint, types, all test tiers
	PATH="$(CURDIR)/$(SAM_VENV)/bin:$$PATH" $(BIN)/pytest

unit: $(VENV)/.installed
	$(BIN)/pytest tests/unit tests/functional -m "not browser and not stack"

browser: setup
	$(BIN)/pytest tests/browser

stack: setup $(SAM_VENV)/.installed
	PATH="$(CURDIR)/$(SAM_VENV)/bin:$$PATH" $(BIN)/pytest tests/stack

bench: setup ## benchmarks: each prints its figures
	@for b in bench/*.py; do grep -q "__main__" $$b || continue; echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(SAM_VENV) node_modules assets/vendor .aws-sam .pytest_cache .mypy_cache .ruff_cache test-artifacts
