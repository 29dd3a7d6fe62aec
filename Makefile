# Development tasks for the template itself; `make help` lists them.
.DEFAULT_GOAL := help
.PHONY: help install test test-fast lint format render bench bench-smoke bench-tracing docs docs-serve

# Where `make render` writes a project rendered with the default answers.
DEST ?= /tmp/rendered-service

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-10s %s\n", $$1, $$2}'

install: ## Create .venv with copier, pytest and ruff (uv sync)
	uv sync

test: ## Run every test, the deep ones included (needs PostgreSQL and Redis)
	uv run pytest

test-fast: ## Run the fast checks only (tests/render/)
	uv run pytest -m "not deep"

lint: ## Check style of extensions/, upgrades/, tests/ and bench/
	uv run ruff check extensions/ upgrades/ tests/ bench/ docs/hooks/
	uv run ruff format --check extensions/ upgrades/ tests/ bench/ docs/hooks/

format: ## Fix style of extensions/, upgrades/, tests/ and bench/
	uv run ruff check --fix extensions/ upgrades/ tests/ bench/ docs/hooks/
	uv run ruff format extensions/ upgrades/ tests/ bench/ docs/hooks/

docs: ## Build the documentation site strictly into site/ (mkdocs-material)
	NO_MKDOCS_2_WARNING=1 uv run mkdocs build --strict

docs-serve: ## Serve the documentation site with live reload on http://127.0.0.1:8000
	NO_MKDOCS_2_WARNING=1 uv run mkdocs serve

bench: ## Measure the rendered service against its baselines (about 13 minutes; needs PostgreSQL)
	uv run python -m bench.run

bench-smoke: ## Every step of the bench for a second: proves it runs, measures nothing
	uv run python -m bench.run --smoke

bench-tracing: ## What tracing=opentelemetry costs, off and exporting (about 4 minutes)
	uv run python -m bench.tracing

# The absolute source path lets `copier update` work from $(DEST). --vcs-ref HEAD renders the
# working tree, uncommitted changes included (copier warns), not the newest release tag;
# --overwrite refreshes a re-render.
render: ## Render the working tree with default answers into $(DEST)
	uv run copier copy --trust --defaults --overwrite --vcs-ref HEAD $(CURDIR) $(DEST)
