# The two promises of the README: `make run` and `make test`, on a fresh machine.
# Everything they need is installed here, idempotently; stamps make a second call quick.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
NPM    ?= npm

SPA_SOURCES := $(shell find frontend/src frontend/e2e -type f 2>/dev/null) \
               frontend/index.html frontend/vite.config.ts frontend/codegen.ts \
               frontend/tsconfig.json frontend/tsconfig.app.json frontend/tsconfig.node.json \
               frontend/package.json schema.graphql codegen.scalars.json

.PHONY: run test test-python test-frontend setup setup-dev mlflow-client spa contract-clients schema lint clean

run: setup spa
	$(BIN)/mltrail server

test: setup-dev spa
	$(MAKE) test-python test-frontend

test-python: setup-dev mlflow-client contract-clients
	$(BIN)/pytest

test-frontend: spa
	cd frontend && $(NPM) test
	cd frontend && MLTRAIL_BIN=$(CURDIR)/$(BIN)/mltrail $(NPM) run test:e2e

setup: $(VENV)/.server-installed
setup-dev: $(VENV)/.dev-installed

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "mltrail needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Two steps on purpose: with the server's pins (aiobotocore → botocore) already installed,
# pip resolves the dev extra (moto) without backtracking through old boto3 releases.
$(VENV)/.server-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[server,postgres,s3,redis]"
	touch $@

$(VENV)/.dev-installed: pyproject.toml $(VENV)/.server-installed
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

# The real `mlflow` client, for the tests of mltrail's MLflow API, in a venv of its own: its
# pins (protobuf, opentelemetry, ...) are not mltrail's to carry, and the tests run its
# scripts as subprocesses against a live server, exactly as users' code would.
MLFLOW_VENV := .venv-mlflow
MLFLOW_CLIENT := 'mlflow-skinny==3.17.2' 'pandas>=2'

mlflow-client: $(MLFLOW_VENV)/.installed

$(MLFLOW_VENV)/.installed: Makefile
	$(PYTHON) -m venv $(MLFLOW_VENV)
	$(MLFLOW_VENV)/bin/pip install --quiet --upgrade pip
	$(MLFLOW_VENV)/bin/pip install --quiet $(MLFLOW_CLIENT)
	touch $@

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && $(NPM) ci --no-audit --no-fund
	touch $@

spa: frontend/dist/index.html

# Test-only npm packages: third-party GraphQL clients the API contract is checked against
# (tests/contract/, run by pytest).
contract-clients: tests/contract/node_modules/.package-lock.json

tests/contract/node_modules/.package-lock.json: tests/contract/package-lock.json
	cd tests/contract && $(NPM) ci --no-audit --no-fund
	touch $@

# Rebuilt when any source, the schema or a dependency changed.
frontend/dist/index.html: $(SPA_SOURCES) frontend/node_modules/.package-lock.json
	cd frontend && $(NPM) run build
	touch $@

schema: setup
	$(BIN)/python -m mltrail_server.graphql.export > schema.graphql

lint: setup-dev
	$(BIN)/ruff check backend client tests bench

clean:
	rm -rf $(VENV) $(MLFLOW_VENV) frontend/node_modules frontend/dist tests/contract/node_modules
