# Every command a person runs; `make help` lists them.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
CONTRACT_EXAMPLES ?= 25
FUZZ_EXAMPLES ?= 500
export PYTHONDONTWRITEBYTECODE := 1

.DEFAULT_GOAL := help
.PHONY: help install run setup migrate demo-data worker demo-credentials test contract fuzz bench soak lint lint-specs sdks format reset-db

help: ## List the commands
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-18s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed ## Create the virtualenv (if missing) and install the project

setup: install ## Migrate the database and load demo data into an empty one
	$(BIN)/partner-gateway setup

migrate: install ## Apply database migrations
	$(BIN)/partner-gateway migrate

demo-data: install ## Load demo data into an empty database
	$(BIN)/partner-gateway load-demo

run: setup ## Serve every mounted API on $(HOST):$(PORT) with gunicorn (WEB_CONCURRENCY workers)
	PORT=$(PORT) HOST=$(HOST) $(BIN)/gunicorn --config gunicorn.conf.py 'core.factory:create_app()'

worker: setup ## Run the background worker alone (make run already starts one unless RUN_WORKER=0)
	$(BIN)/partner-gateway worker

demo-credentials: setup ## Print ready Authorization headers for each API's demo identities, as JSON
	@$(BIN)/partner-gateway demo-credentials

test: setup ## Run the whole test suite (behaviour and contract tests)
	CONTRACT_EXAMPLES=$(CONTRACT_EXAMPLES) $(BIN)/pytest

contract: install ## Run only the Schemathesis contract tests
	CONTRACT_EXAMPLES=$(CONTRACT_EXAMPLES) $(BIN)/pytest contract_tests

fuzz: install ## Fuzz every operation with many more examples
	CONTRACT_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest contract_tests

lint: install ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

lint-specs: install ## Validate every spec (openapi-spec-validator) and lint it (Spectral, spectral:oas; needs npx)
	BIN=$(BIN) scripts/lint-specs

sdks: install ## Generate and import a Python client for every spec into build/sdks/
	BIN=$(BIN) scripts/generate-sdks

bench: install ## Compare the request path with stock Connexion, bare Flask and FastAPI, beside IDL logins; webhook deliveries/s and Mihwar on PostgreSQL
	$(BIN)/python scripts/bench

soak: install ## Soak: a steady mix over all five APIs for SOAK_SECONDS (600); fails if RSS grows 10%, an error appears or p95 creeps up
	$(BIN)/python scripts/soak --duration $(or $(SOAK_SECONDS),600)

format: install ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

reset-db: ## Delete the local SQLite database (the next `make run` recreates it)
	rm -f var/service.db var/service.db-wal var/service.db-shm
