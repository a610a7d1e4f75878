PYTHON ?= python3
OUT ?= out

.DEFAULT_GOAL := help
.PHONY: help install run generate test lint typecheck bench

help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

INSTALLED := .make/installed-$(shell $(PYTHON) -c 'import sys; print(sys.executable.replace("/", "_"))')

install: $(INSTALLED) ## Install opsplane with its dev tools into the current Python (once per pyproject.toml change)

$(INSTALLED): pyproject.toml
	$(PYTHON) -m pip install -e '.[dev,otel]'
	@mkdir -p .make && touch $@

run: install ## The main job: the demo (server, console, three simulated services); Ctrl-C stops
	$(PYTHON) -m opsplane demo

generate: install ## Generate rules and dashboards for examples/ into $(OUT)/
	$(PYTHON) -m opsplane generate prometheus examples -o $(OUT)/prometheus
	$(PYTHON) -m opsplane generate grafana examples -o $(OUT)/grafana
	@echo "Prometheus rules in $(OUT)/prometheus, Grafana dashboards in $(OUT)/grafana"

test: install ## Run the test suite (promtool tests skip when promtool is absent)
	$(PYTHON) -m pytest

lint: ## ruff format check, ruff lint, mypy --strict and the import-linter layer contracts
	$(PYTHON) -m ruff format --check src tests bench
	$(PYTHON) -m ruff check src tests bench
	$(PYTHON) -m mypy
	lint-imports

typecheck: ## mypy --strict on src/
	$(PYTHON) -m mypy

bench: install ## Benchmarks (slow; not part of the tests)
	$(PYTHON) bench/generate.py
	$(PYTHON) bench/engine.py
	$(PYTHON) bench/alerting.py
	$(PYTHON) bench/alerting_latency.py
	$(PYTHON) bench/server.py
	$(PYTHON) bench/canary.py
	$(PYTHON) bench/cost.py
