# LeadBot: `make dev` runs the product locally, `make test` runs every check. Both install first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# python3.12 (pyenv's 3.12.1 where pyenv is in use), else python3 if it is 3.11 or newer.
PYTHON ?= $(shell PYENV_VERSION=3.12.1 python3.12 -c 'import sys; print(sys.executable)' 2>/dev/null \
	|| python3 -c 'import sys; assert sys.version_info >= (3, 11); print(sys.executable)' 2>/dev/null)
VENV := .venv
BIN := $(VENV)/bin
TOOLS := .tools
DDB_SIMULATOR := amplify-dynamodb-simulator@2.9.30
ENV ?= dev
TENANT ?= demo
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1
# sam build looks for python3.12 on PATH; the venv has it.
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help install dev dev-telegram test test-fast lint typecheck unit integration e2e cfn \
	bench eval build deploy deploy-check outputs admin-code tenant export-lead forget-lead airtable-init crm-replay rescore reindex-followups import-leads import-listings ingest openapi clean

help:
	@echo "make dev          run LeadBot locally on http://127.0.0.1:8080 (PORT=…)"
	@echo "make test         lint, types, unit + integration (moto, DynamoDB Local) + e2e, cfn-lint, sam validate"
	@echo "make test-fast    lint, types, unit and moto tests only"
	@echo "make dashboard    build the dashboard (npm ci, tsc, vite) into dashboard/dist"
	@echo "make bench        cold start, requests per message, latency, concurrency, retrieval figures"
	@echo "make eval         brochure Q&A: hit@1, hit@3, citation accuracy over the sample brochure"
	@echo "make admin-code   one-time /set_admin code for TENANT=$(TENANT) on the local stack"
	@echo "make tenant ARGS='list'  tenant create|connect-telegram|connect-whatsapp|rotate-secret|disable|enable|list on the local stack"
	@echo "make export-lead LEAD=…  everything stored about one lead of TENANT=$(TENANT) as JSON"
	@echo "make forget-lead LEAD=…  remove one lead's personal data everywhere (asks to confirm)"
	@echo "make airtable-init  create LeadBot's tables in TENANT=$(TENANT)'s Airtable base (BASE=app… connects one) on the local stack"
	@echo "make crm-replay   write what the Airtable sync's DLQ holds again and drain it (LIMIT=N) on the local stack"
	@echo "make openapi      regenerate openapi.json from the API's routes (a test checks they agree)"
	@echo "make rescore      score the existing leads of TENANT=$(TENANT) (ALL=1: every tenant) on the local stack"
	@echo "make reindex-followups  place existing leads of TENANT=$(TENANT) (ALL=1) in the follow-up schedule"
	@echo "make import-leads FILE=sheet.csv  import a CSV of people as leads of TENANT=$(TENANT) (SOURCE=…) on the local stack"
	@echo "make ingest FILE=b.pdf PROPERTY=…  ingest a listing's PDF brochure for TENANT=$(TENANT) (TITLE=…) on the local stack"
	@echo "make import-listings FILE=listings.csv  add or update listings of TENANT=$(TENANT) on the local stack"
	@echo "make build        sam build"
	@echo "make deploy ENV=dev|prod  sam build + sam deploy (samconfig.toml's ENV), then the stack's endpoints (REGION=…)"
	@echo "make outputs ENV=dev|prod the deployed stack's outputs (webhook URLs, queues, dashboard)"
	@echo "make dev-telegram long-poll the real Bot API (TELEGRAM_BOT_TOKEN) into the local handler"

install: $(VENV)/.installed $(TOOLS)/.installed

$(VENV)/.installed: requirements-dev.txt
	@test -n "$(PYTHON)" || { echo "need python3.12 or python3 >= 3.11"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	# The layer package and the repo (local/, bench/) importable from the venv, as on Lambda.
	printf '%s\n' "$(CURDIR)/layers/shared" "$(CURDIR)" \
		> "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/leadbot-dev.pth"
	touch $@

$(TOOLS)/.installed:
	@command -v java >/dev/null || { echo "DynamoDB Local needs java (17+)"; exit 1; }
	@command -v npm >/dev/null || { echo "DynamoDB Local is installed with npm"; exit 1; }
	npm install --prefix $(TOOLS) --no-audit --no-fund --omit=dev --loglevel=error $(DDB_SIMULATOR)
	test -f $(TOOLS)/node_modules/amplify-dynamodb-simulator/emulator/DynamoDBLocal.jar
	touch $@

# -- dashboard (issue 9): the single-page app's build, and the browser its tests drive -------
.PHONY: dashboard browser
DASHBOARD := dashboard
DASHBOARD_INPUTS := $(shell find $(DASHBOARD)/src -type f 2>/dev/null) $(DASHBOARD)/index.html \
	$(DASHBOARD)/vite.config.ts $(DASHBOARD)/tsconfig.json
# Debian's Chromium: Playwright drives it (its own browser downloads are not reachable here);
# the emoji font draws the temperature badges in the tests' screenshots.
CHROMIUM := /usr/bin/chromium

dashboard: $(DASHBOARD)/dist/index.html

$(DASHBOARD)/node_modules/.installed: $(DASHBOARD)/package.json $(DASHBOARD)/package-lock.json
	@command -v npm >/dev/null || { echo "the dashboard is built with npm (Node 20+)"; exit 1; }
	npm ci --prefix $(DASHBOARD) --no-audit --no-fund --loglevel=error
	touch $@

# tsc checks the types, then Vite writes dist/ (index.html last, so it stamps the build).
$(DASHBOARD)/dist/index.html: $(DASHBOARD)/node_modules/.installed $(DASHBOARD_INPUTS)
	npm run --prefix $(DASHBOARD) --silent build
	touch $@

browser: $(CHROMIUM)

$(CHROMIUM):
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji

dev: install dashboard
	$(BIN)/python -m local

dev-telegram: install
	@test -n "$$TELEGRAM_BOT_TOKEN" || { echo "set TELEGRAM_BOT_TOKEN"; exit 1; }
	$(BIN)/python -m local --poll-telegram

admin-code: install
	$(BIN)/python -m local admin-code --tenant $(TENANT)

tenant: install
	$(BIN)/python -m local admin tenant $(ARGS)

export-lead: install
	$(BIN)/python -m local admin export-lead --tenant $(TENANT) --lead $(LEAD)

forget-lead: install
	$(BIN)/python -m local admin forget-lead --tenant $(TENANT) --lead $(LEAD)

airtable-init: install
	$(BIN)/python -m local airtable-init --tenant $(TENANT) $(if $(BASE),--base $(BASE))

crm-replay: install
	$(BIN)/python -m local crm-replay $(if $(LIMIT),--limit $(LIMIT))

openapi: install
	$(BIN)/python -c "from leadbot.api import openapi_json; open('openapi.json', 'w').write(openapi_json())"

rescore: install
	$(BIN)/python -m local rescore --tenant $(TENANT) $(if $(ALL),--all)

reindex-followups: install
	$(BIN)/python -m local reindex-followups --tenant $(TENANT) $(if $(ALL),--all)

import-leads: install
	@test -n "$(FILE)" || { echo "give FILE=path/to/sheet.csv"; exit 1; }
	$(BIN)/python -m local import-leads "$(FILE)" --tenant $(TENANT) $(if $(SOURCE),--source "$(SOURCE)")

ingest: install
	@test -n "$(FILE)" || { echo "give FILE=path/to/brochure.pdf"; exit 1; }
	@test -n "$(PROPERTY)" || { echo "give PROPERTY=<the listing's property id>"; exit 1; }
	$(BIN)/python -m local ingest "$(FILE)" --tenant $(TENANT) --property $(PROPERTY) $(if $(TITLE),--title "$(TITLE)")

import-listings: install
	@test -n "$(FILE)" || { echo "give FILE=path/to/listings.csv"; exit 1; }
	$(BIN)/python -m local import-listings "$(FILE)" --tenant $(TENANT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/python -m pytest tests/unit -q

integration: install
	$(BIN)/python -m pytest tests/integration -q

e2e: install dashboard browser
	$(BIN)/python -m pytest tests/e2e -q

cfn: install
	$(BIN)/cfn-lint template.yaml
	$(BIN)/sam validate --lint --region $(AWS_DEFAULT_REGION)

test: lint typecheck cfn dashboard browser
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

test-fast: lint typecheck
	$(BIN)/python -m pytest -q -m "not ddblocal and not e2e" tests/unit tests/integration

bench: install dashboard browser
	$(BIN)/python -m bench

eval: install
	$(BIN)/python -m bench.knowledge_eval

build: install
	$(BIN)/sam build
	# Lambda cannot write bytecode at run time: ship it, or every cold start compiles the
	# layer's own modules (~40 ms here). Hash-checked pycs survive the zip's timestamps.
	$(BIN)/python -m compileall -q --invalidation-mode unchecked-hash \
		.aws-sam/build/SharedLayer/python/leadbot .aws-sam/build/WebhookTelegramFunction \
		.aws-sam/build/WebhookWhatsAppFunction \
		.aws-sam/build/ApiFunction

# sam build, sam deploy with samconfig.toml's ENV environment (its stack leadbot-ENV), then the
# stack's outputs: webhook URLs, user pool, queues, the ops dashboard. REGION=… overrides the
# samconfig placeholder region for both.
STACK ?= leadbot-$(ENV)
REGION_FLAG = $(if $(REGION),--region $(REGION))

deploy: deploy-check build
	$(BIN)/sam deploy --config-env $(ENV) $(REGION_FLAG)
	# The agent dashboard, once the stack (its bucket, distribution, Cognito ids) exists: built,
	# synced to the bucket with its config.json, the distribution invalidated.
	@$(MAKE) --no-print-directory dashboard
	$(BIN)/python -m local.deploy_dashboard --stack $(STACK) $(REGION_FLAG)
	@$(MAKE) --no-print-directory outputs

deploy-check:
	@case "$(ENV)" in dev|prod) ;; *) echo "ENV must be dev or prod (samconfig.toml), not '$(ENV)'"; exit 2;; esac

# The deployed stack's outputs: the aws CLI if installed, else boto3 from the venv.
PRINT_OUTPUTS := import sys, boto3; \
	kw = {'region_name': sys.argv[2]} if sys.argv[2:] else {}; \
	stack = boto3.client('cloudformation', **kw).describe_stacks(StackName=sys.argv[1])['Stacks'][0]; \
	[print(o['OutputKey'].ljust(28), o['OutputValue']) for o in stack.get('Outputs', [])]

outputs:
	@echo "== $(STACK) outputs =="
	@if aws --version >/dev/null 2>&1; then \
		aws cloudformation describe-stacks --stack-name $(STACK) $(REGION_FLAG) \
			--query 'Stacks[0].Outputs[].[OutputKey,OutputValue]' --output table; \
	else \
		$(BIN)/python -c "$(PRINT_OUTPUTS)" $(STACK) $(REGION); \
	fi

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
