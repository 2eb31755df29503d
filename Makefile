# Every command of the project. `make help` lists them; `make run` and
# `make test` are the two that matter first.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

export RASA_TELEMETRY_ENABLED := false
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PYTHONDONTWRITEBYTECODE := 1

RASA_VENV := .venv-rasa
APP_VENV := .venv
HANDOFF_VENV := .venv-handoff
RASA := $(RASA_VENV)/bin/rasa
PYTHON := $(APP_VENV)/bin/python

# A short hash of the names and contents of the files given; stamps carry it,
# so a step reruns exactly when its inputs change (and not when git touches them).
hash_of = $(shell { echo $(1); cat $(1) /dev/null; } | sha1sum | cut -c1-12)
files_in = $(shell find $(1) -type f \( -name '*.yml' -o -name '*.yaml' \) 2>/dev/null | LC_ALL=C sort)

RASA_VENV_STAMP := $(RASA_VENV)/.stamp-$(call hash_of,requirements/rasa.txt)
APP_REQUIREMENTS := requirements/dev.txt requirements/actions.txt requirements/handoff.txt
APP_VENV_STAMP := $(APP_VENV)/.stamp-$(call hash_of,$(APP_REQUIREMENTS))
HANDOFF_VENV_STAMP := $(HANDOFF_VENV)/.stamp-$(call hash_of,requirements/handoff.txt)
# What the model is trained on. The FAQ knowledge base is not: FAQ edits only
# rebuild the search index. Nor are endpoints and credentials: they are read at run time.
RASA_INPUTS := config.yml bot/domain.yml $(call files_in,data/nlu data/stories data/rules)
RASA_MODEL_NAME := bot-$(call hash_of,$(RASA_INPUTS))
RASA_MODEL := models/rasa/$(RASA_MODEL_NAME).tar.gz
# The NLU examples too: the build measures how strongly the FAQ claims each intent's texts.
FAQ_INPUTS := $(call files_in,data/faq data/nlu)
# The index also depends on the code that builds and calibrates it.
FAQ_BUILDER := $(sort $(wildcard actions/faq/*.py knowledge_base/*.py))
FAQ_INDEX_STAMP := models/faq/.stamp-$(call hash_of,$(FAQ_INPUTS) $(FAQ_BUILDER))
SOCKETIO_CLIENT := handoff_server/static/vendor/socket.io.min.js
SOCKETIO_CLIENT_VERSION := 4.8.1
# The accessibility checker the browser tests inject into pages (never served by the app).
# The reports page's charts: Chart.js's UMD build, served from our own origin.
CHART_JS := handoff_server/static/vendor/chart.umd.js
CHART_JS_VERSION := 4.6.1
AXE_CORE := tests/e2e/vendor/axe.min.js
AXE_CORE_VERSION := 4.10.3

.PHONY: help setup run run-scaled nginx test lint format venvs model index db venue config browser bench load capacity clean distclean

help: ## List the targets.
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: .env venvs model index db venue config $(SOCKETIO_CLIENT) $(CHART_JS) $(AXE_CORE) ## Create what is missing: venvs, .env, Rasa model, FAQ index, database; check the venue and the business's configuration.

run: setup ## Set up, then run Rasa, the action server and the handoff server, supervised.
	@# supervisord in the foreground (supervision/): each server restarted alone when it exits
	@# or stops answering its health check; Ctrl-C stops everything.
	$(PYTHON) -m supervision

run-scaled: setup nginx ## Run the scaled-out stack: 2 Rasa, 2 action servers, 4 handoff workers, nginx (deploy/).
	@# deploy/scaled.env over .env: PostgreSQL databases created if missing, the handoff
	@# database migrated, then supervisord as for `make run`; nginx's port is the one origin.
	$(PYTHON) -m supervision --scaled

test: setup browser nginx ## Set up, then run the whole test suite (end-to-end included).
	$(PYTHON) -m pytest

bench: setup ## Run the benchmarks in sequence (bench/); print figures, charts in reports/bench/.
	$(PYTHON) -m bench

# ARGS passes options through, e.g. ARGS="--quick" or ARGS="--customers 400 --duration 600".
ARGS ?=
load: setup ## Drive customers and agents against a private stack (5 min); report in reports/load/.
	$(PYTHON) -m bench.crowd $(ARGS)

capacity: setup ## Raise the crowd step by step until the assistant breaks; report in reports/load/.
	$(PYTHON) -m bench.capacity $(ARGS)

lint: venvs ## Check style and types (ruff, mypy).
	$(APP_VENV)/bin/ruff check .
	$(APP_VENV)/bin/ruff format --check .
	$(APP_VENV)/bin/mypy
	@# The Rasa process's code, as Python 3.10 with Rasa's own packages.
	$(APP_VENV)/bin/mypy --python-version 3.10 --python-executable $(RASA_VENV)/bin/python \
		bot lumen $(wildcard tests/bot/rasa_runtime/test_*.py)

format: venvs ## Rewrite the code in the house format (ruff).
	$(APP_VENV)/bin/ruff format .
	$(APP_VENV)/bin/ruff check --fix .

venvs: ## Create the three virtual environments (in parallel).
	@$(MAKE) --no-print-directory --silent -j3 $(RASA_VENV_STAMP) $(APP_VENV_STAMP) $(HANDOFF_VENV_STAMP)

# $(call make_venv,DIR,PYTHON_VERSION,REQUIREMENTS): create or update a venv, then stamp it.
define make_venv
	@test -x $(1)/bin/python || `scripts/find-python $(2)` -m venv $(1)
	$(1)/bin/pip install --upgrade --quiet pip
	$(1)/bin/pip install -r $(3) | sed -u 's/^/[$(1)] /'
	@rm -f $(1)/.stamp-* && touch $@
endef

$(RASA_VENV_STAMP): requirements/rasa.txt
	@echo "==> $(RASA_VENV): Python 3.10 with Rasa (about 2 minutes the first time)"
	$(call make_venv,$(RASA_VENV),3.10,requirements/rasa.txt)

$(APP_VENV_STAMP): $(APP_REQUIREMENTS)
	@echo "==> $(APP_VENV): Python 3.11 with the action server, tests and tools (about 2 minutes the first time)"
	$(call make_venv,$(APP_VENV),3.11,requirements/dev.txt)

$(HANDOFF_VENV_STAMP): requirements/handoff.txt
	@echo "==> $(HANDOFF_VENV): Python 3.11 with the handoff server only (Flask, no ML stack)"
	$(call make_venv,$(HANDOFF_VENV),3.11,requirements/handoff.txt)

.env: .env.example
	@$$(scripts/find-python 3.11) scripts/ensure_env.py .env.example .env

model: $(RASA_MODEL) ## Train the Rasa model if its inputs changed.

index: $(FAQ_INDEX_STAMP) ## Build the FAQ search index if the knowledge base changed.

$(RASA_MODEL): $(RASA_VENV_STAMP) $(RASA_INPUTS)
	@echo "==> Training the Rasa model $(RASA_MODEL_NAME) (about a minute)"
	$(RASA) train --config config.yml --domain bot/domain.yml \
		--data data/nlu data/stories data/rules \
		--out models/rasa --fixed-model-name $(RASA_MODEL_NAME)
	@# Older models go only once the new one exists: a failed training leaves a model to run.
	@find models/rasa -name '*.tar.gz' ! -name '$(RASA_MODEL_NAME).tar.gz' -delete

$(FAQ_INDEX_STAMP): $(APP_VENV_STAMP) $(FAQ_INPUTS) $(FAQ_BUILDER)
	@echo "==> Building the FAQ index"
	$(PYTHON) -m actions.faq build --faq-dir data/faq --nlu-dir data/nlu --out models/faq
	@rm -f models/faq/.stamp-* && touch $@

db: .env $(HANDOFF_VENV_STAMP) ## Create or upgrade the handoff database schema.
	@mkdir -p var
	$(HANDOFF_VENV)/bin/python -m handoff_server migrate

# Read by the action server at run time, not trained on: checking it is all setup does.
venue: $(APP_VENV_STAMP) ## Check the venue data (data/venue): places, connections, kiosks, schedule.
	$(PYTHON) -m venue check data/venue

config: .env $(HANDOFF_VENV_STAMP) ## Check the business's configuration (ASSISTANT_CONFIG in .env).
	$(HANDOFF_VENV)/bin/python -m handoff_server check-config

$(SOCKETIO_CLIENT):
	@echo "==> Fetching the socket.io browser client $(SOCKETIO_CLIENT_VERSION) from the npm registry"
	@mkdir -p $(@D) && tmp=$$(mktemp -d) && \
		(cd $$tmp && npm pack --silent socket.io-client@$(SOCKETIO_CLIENT_VERSION) >/dev/null) && \
		tar -xzf $$tmp/socket.io-client-$(SOCKETIO_CLIENT_VERSION).tgz -C $$tmp package/dist/socket.io.min.js && \
		mv $$tmp/package/dist/socket.io.min.js $@ && rm -rf $$tmp

$(CHART_JS):
	@echo "==> Fetching Chart.js $(CHART_JS_VERSION) from the npm registry"
	@mkdir -p $(@D) && tmp=$$(mktemp -d) && \
		(cd $$tmp && npm pack --silent chart.js@$(CHART_JS_VERSION) >/dev/null) && \
		tar -xzf $$tmp/chart.js-$(CHART_JS_VERSION).tgz -C $$tmp package/dist/chart.umd.js && \
		mv $$tmp/package/dist/chart.umd.js $@ && rm -rf $$tmp

$(AXE_CORE):
	@echo "==> Fetching axe-core $(AXE_CORE_VERSION) from the npm registry"
	@mkdir -p $(@D) && tmp=$$(mktemp -d) && \
		(cd $$tmp && npm pack --silent axe-core@$(AXE_CORE_VERSION) >/dev/null) && \
		tar -xzf $$tmp/axe-core-$(AXE_CORE_VERSION).tgz -C $$tmp package/axe.min.js && \
		mv $$tmp/package/axe.min.js $@ && rm -rf $$tmp

browser: ## Install Debian's Chromium for the browser tests (if missing).
	@test -x /usr/bin/chromium -a -x /usr/bin/chromedriver || { \
		echo "==> Installing Debian's chromium and chromium-driver"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }

nginx: ## Install Debian's nginx for the scaled-out stack (if missing).
	@test -x /usr/sbin/nginx || { \
		echo "==> Installing Debian's nginx-light"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light; }

clean: ## Remove build output and local data (models/, var/).
	rm -rf models/rasa models/faq var .pytest_cache .mypy_cache .ruff_cache

distclean: clean ## Also remove the virtual environments and .env.
	rm -rf $(RASA_VENV) $(APP_VENV) $(HANDOFF_VENV) .env
