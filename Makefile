# The two commands of the README: `make run` (whole stack + sandboxes) and `make test`.
SHELL := /bin/bash
VENV := .venv
BILLING := $(VENV)/bin/billing

.PHONY: setup run test infra stop lint bench

setup:  ## install system packages, the virtualenv and Kafka's jars (reuses what is present)
	bash deploy/local/setup.sh

run: setup  ## infrastructure, migrations, example catalog, every service; Ctrl-C stops all
	$(BILLING) up

infra: setup  ## only Kafka, PostgreSQL and Redis
	bash deploy/local/start.sh

test: infra  ## the whole suite against the real Kafka, PostgreSQL and Redis
	$(VENV)/bin/pytest

stop:
	bash deploy/local/stop.sh

lint: setup  ## ruff, mypy strict and the import contract (pyproject: [tool.importlinter])
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . && $(VENV)/bin/mypy && $(VENV)/bin/lint-imports

bench: infra
	$(VENV)/bin/billing bench
