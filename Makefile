# Argenta IA — one command per habit. Everything a fresh machine needs is installed here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DB ?= argenta_ia.duckdb
DEMO_START ?= 2022-03-01
DEMO_END ?= 2024-03-08
PORT ?= 8501
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: track-record-docs help install system-deps test test-fast lint format settings-docs demo demo-db bench bench-docs clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)  ## Create the virtual environment and install the project

system-deps:  ## Install the apt packages the tests need (venv, chromium, systemd-analyze)
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null && command -v chromium >/dev/null 2>&1 && \
	  command -v systemd-analyze >/dev/null 2>&1 || \
	  ($(SUDO) apt-get update -qq && \
	   $(SUDO) apt-get install -y -qq python3-venv chromium systemd >/dev/null)

test: system-deps $(STAMP)  ## Run every test (unit, store, pipeline, daemon, pages, browser)
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)  ## The edit loop: every test but the browser and slow ones (~1.5 min of CPU)
	$(BIN)/python -m pytest -q -m "not browser and not slow"

lint: $(STAMP)  ## ruff check, ruff format --check and mypy (configured in pyproject.toml)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

settings-docs: $(STAMP)  ## Write the README's settings table and deploy/argenta.env.example from pipeline/settings.py
	$(BIN)/python -m pipeline.ops.settings_docs

track-record-docs: $(STAMP)  ## Backfill the whole sample and write its track record into the README
	$(BIN)/python -m pipeline.ops.track_record_docs

format: $(STAMP)  ## Apply ruff's formatting and autofixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Built under a temporary name and moved into place, so an interrupted build is redone.
# A month of operation: a backfill up to DEMO_DAILY_SESSIONS sessions before DEMO_END, then the
# daily job (`argenta run`) for each of those sessions, so the health page has a run history and
# the track record has *publicado* calls beside the *simulado* ones.
DEMO_DAILY_SESSIONS ?= 20
DEMO_PLAN = from pipeline.analysis import calendar as c; import datetime as d; \
  e = d.date.fromisoformat("$(DEMO_END)"); \
  days = c.trading_days(c.NEW_YORK, e - d.timedelta(days=120), e)[-$(DEMO_DAILY_SESSIONS):]; \
  print(days[0] - d.timedelta(days=1), *days)
$(DB): | $(STAMP)
	rm -f $(DB).building .$(DB).building.*
	set -e; plan="$$($(BIN)/python -c '$(DEMO_PLAN)')"; set -- $$plan; backfill_end=$$1; shift; \
	DATABASE_URL=duckdb:///$(DB).building $(BIN)/argenta backfill --source sample \
	  --start $(DEMO_START) --end $$backfill_end; \
	for day in "$$@"; do \
	  DATABASE_URL=duckdb:///$(DB).building $(BIN)/argenta run --source sample --date $$day; \
	done
	mv $(DB).building $(DB)
	rm -f .$(DB).building.* $(DB).building.*

demo-db: $(DB)  ## Build the sample database if it is not there

demo: $(STAMP) demo-db  ## Build the sample database and serve the dashboard on :8501
	DATABASE_URL=duckdb:///$(DB) ARGENTA_SOURCE=sample $(BIN)/streamlit run serve.py --server.port $(PORT)

bench: $(STAMP)  ## Run the benchmarks, print the figures and save them in benchmarks/runs/
	$(BIN)/python -m benchmarks.run_all --save benchmarks/runs

bench-docs: $(STAMP)  ## Write the README's Performance figures (each one's last 3 saved measurements)
	$(BIN)/python -m benchmarks.results

clean:  ## Remove the virtual environment, caches and the demo database
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts
	rm -f $(DB) .$(DB).* $(DB).*.lock $(DB).*.json
