# Continuum: the verbs. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.synced
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.DEFAULT_GOAL := help
.PHONY: help setup run demo token erase bench test test-unit test-integration test-e2e lint typecheck contracts manifests clean

help: ## list the verbs
	@awk 'BEGIN {FS = ":.*## "} /^[a-z0-9-]+:.*## / {printf "  make %-17s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check "uv==0.13.8"

$(STAMP): $(UV) uv.lock pyproject.toml contracts/pyproject.toml infra/pyproject.toml $(wildcard services/*/pyproject.toml)
	$(UV) sync --frozen --all-packages --group bench --python $(PYTHON)
	@touch $@

setup: $(STAMP) ## create the environment (.venv) from the lock file

run: $(STAMP) ## start the broker and the four services in the foreground (Ctrl-C stops all)
	$(PY) -m infra.devstack

demo: $(STAMP) ## four months at two sites calling every command against a running `make run`, then the compliance report
	$(PY) -m tests.scenarios.demo

token: $(STAMP) ## mint a development token: make token SUBJECT=off-1 ROLE=compliance_officer SITE=site-a (SITE optional)
	$(PY) -m infra.security.tokens mint --subject "$(SUBJECT)" --role "$(ROLE)" $(if $(SITE),--site "$(SITE)")

erase: $(STAMP) ## erase a subject's sealed text everywhere: make erase SUBJECT=see-1 REASON=consent_revoked|retention_ended (make run's keyring unless CONTINUUM_KEYRING_* are set)
	CONTINUUM_KEYRING_KEK_FILE="$${CONTINUUM_KEYRING_KEK_FILE:-.data/security/keyring.kek}" \
		$(PY) -m infra.security.crypto erase --subject "$(SUBJECT)" --reason "$(REASON)"

bench: $(STAMP) ## the benchmark: command path, no-op ceiling, anchor library, compliance; JSON (BENCH_ARGS="--smoke", "--help")
	$(PY) -m tests.bench $(BENCH_ARGS)

test: $(STAMP) ## lint, type-check and run the whole suite (unit, integration, end to end)
	$(MAKE) --no-print-directory lint typecheck
	$(PY) -m pytest

test-unit: $(STAMP) ## run the unit tests only (no I/O)
	$(PY) -m pytest -m unit

test-integration: $(STAMP) ## run the tests against a real database and broker
	$(PY) -m pytest -m integration

test-e2e: $(STAMP) ## run the end-to-end tests (the stack as processes)
	$(PY) -m pytest -m e2e

lint: $(STAMP) ## ruff, import boundaries (pure domains, independent services)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: $(STAMP) ## mypy strict over contracts, infra and the services
	$(VENV)/bin/mypy -p contracts -p infra -p supervision -p coaching -p referral -p compliance

contracts: $(STAMP) ## regenerate gRPC code, event schema snapshots, the event catalogue and AsyncAPI
	$(PY) -m contracts.codegen
	$(PY) -m contracts.schemas
	$(PY) -m contracts.catalogue
	$(PY) -m infra.messaging.asyncapi

manifests: $(STAMP) ## regenerate deploy/kubernetes manifests from the declarations (topics)
	$(PY) -m infra.manifests

clean: ## remove the environment, caches and local data
	rm -rf $(VENV) $(TOOLS) .data .pytest_cache .mypy_cache .ruff_cache
