# Cloison: every command a developer or CI needs. Nothing beyond Python 3.11+ and pip is assumed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)
ENV    ?= dev

.PHONY: help install run demo test lint unit integration bench build deploy team clean

help:
	@echo "make run     start the whole stack locally (moto, functions, API on :3000) with demo data"
	@echo "make demo    run the end-to-end scenario on a fresh local stack and print a report"
	@echo "make test    lint, type-check, cfn-lint, unit tests (no network) and integration tests"
	@echo "make bench   benchmarks (figures, not pass/fail)"
	@echo "make build   sam build;  make deploy ENV=dev|prod   sam deploy"
	@echo "make team TEAM=<name> SENDERS=<file> [ENV=dev|prod]   onboard a team (TOKEN: an admin's token)"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/cloison-local run $(ARGS)

demo: install
	$(BIN)/cloison-local demo

lint: install
	$(BIN)/ruff check functions infra tests bench
	$(BIN)/ruff format --check functions infra tests bench
	$(BIN)/mypy functions infra
	$(BIN)/cfn-lint --append-rules cfn_lint_serverless.rules -- template.yaml infra/team.yaml

unit: install
	$(BIN)/pytest tests/unit -q -p no:cacheprovider --disable-socket --allow-unix-socket

integration: install
	$(BIN)/pytest tests/integration -q -p no:cacheprovider

test: lint unit integration

bench: install
	$(BIN)/python bench/report.py

# sam build/deploy need the SAM CLI, kept in a virtualenv of its own (it pins its own boto3).
$(VENV)-sam/bin/sam:
	$(PYTHON) -m venv $(VENV)-sam
	$(VENV)-sam/bin/pip install --quiet aws-sam-cli

build: $(VENV)-sam/bin/sam
	$(VENV)-sam/bin/sam build

deploy: build
	$(VENV)-sam/bin/sam deploy --config-env $(ENV)

# One step per team: its stack (reader role, Cognito group, scope, machine client), then its
# sender profiles through the API. The main stack is cloison-$(ENV), as in samconfig.toml.
team: $(VENV)-sam/bin/sam install
	@test -n "$(TEAM)" -a -n "$(SENDERS)" || { echo "usage: make team TEAM=<name> SENDERS=<file> [ENV=dev|prod]"; exit 2; }
	$(VENV)-sam/bin/sam deploy --template-file infra/team.yaml --stack-name cloison-$(ENV)-team-$(TEAM) \
	  --parameter-overrides TeamName=$(TEAM) CloisonStack=cloison-$(ENV) \
	  --capabilities CAPABILITY_NAMED_IAM --region eu-west-3 --no-fail-on-empty-changeset
	$(BIN)/cloison-local senders $(TEAM) $(SENDERS) --stack cloison-$(ENV)

clean:
	rm -rf $(VENV) $(VENV)-sam .aws-sam .local .pytest_cache .mypy_cache .ruff_cache .hypothesis
