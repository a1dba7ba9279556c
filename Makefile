# Cloison: every command a developer or CI needs. Nothing beyond Python 3.11+ and pip is assumed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The runtime packages are installed at the versions of functions/requirements.txt, the lock that
# `sam build` installs too: the tests run what ships.
LOCK   := functions/requirements.txt
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml $(LOCK) | cksum | cut -d' ' -f1)
ENV    ?= dev

.PHONY: help install run demo test lint unit integration soak bench bench-large build deploy team clean

help:
	@echo "make run     start the whole stack locally (moto, functions, API on :3000) with demo data"
	@echo "make demo    run the end-to-end scenario on a fresh local stack and print a report"
	@echo "make test    lint, type-check, cfn-lint, unit tests (no network) and integration tests"
	@echo "make soak    campaigns and replies under faults, then an accounting (SOAK_SECONDS=180)"
	@echo "make bench   benchmarks (figures, not pass/fail)"
	@echo "make bench-large   a campaign of 100,000 recipients alone (over half an hour)"
	@echo "make build   sam build;  make deploy ENV=dev|prod   sam deploy, then make console"
	@echo "make console ENV=dev|prod   upload the operator console to its bucket (AWS CLI)"
	@echo "make team TEAM=<name> SENDERS=<file> [IDENTITY=<arn>] [ENV=dev|prod]   onboard a team (TOKEN: an admin's token)"
	@echo "make preflight ORIGINATION=<id> [ALARM_TOPIC=<arn>] [ENV=dev|prod]   check an AWS account before deploying"
	@echo "make admin EMAIL=<address> [ENV=dev|prod]   the first administrator of a deployed stack"
	@echo "make grants  the grant report (docs/iam-grants.md) from an integration run"

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]' --constraint $(LOCK)
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/cloison-local run $(ARGS)

demo: install
	$(BIN)/cloison-local demo

# Security checks in a virtualenv of their own (checkov pins boto3 and much else), at pinned
# versions: a new version makes a new virtualenv.
CHECKS       := $(VENV)-checks
CHECKS_PINS  := checkov==3.3.30 bandit==1.9.4 pip-audit==2.10.1
CHECKS_STAMP := $(CHECKS)/.installed-$(shell echo '$(CHECKS_PINS)' | cksum | cut -d' ' -f1)
# pip-audit reads each pinned version's advisories from PyPI's JSON API. Where that API cannot be
# reached, each package is listed as not audited and the step passes; AUDIT_STRICT=--strict
# fails it instead.
AUDIT_STRICT ?=

$(CHECKS_STAMP):
	rm -rf $(CHECKS)
	$(PYTHON) -m venv $(CHECKS)
	$(CHECKS)/bin/pip install --quiet --upgrade pip
	$(CHECKS)/bin/pip install --quiet $(CHECKS_PINS)
	touch $(CHECKS_STAMP)

# The regions docs/deploy.md supports: cfn-lint checks every resource type and value against each.
REGIONS ?= eu-west-3

lint: install $(CHECKS_STAMP)
	$(BIN)/ruff check functions infra tests bench
	$(BIN)/ruff format --check functions infra tests bench
	$(BIN)/mypy functions infra
	$(BIN)/cfn-lint --regions $(REGIONS) --append-rules cfn_lint_serverless.rules -- template.yaml infra/team.yaml
	$(CHECKS)/bin/checkov --quiet --compact --skip-download --framework cloudformation \
	  -f template.yaml -f infra/team.yaml
	$(CHECKS)/bin/bandit --quiet --recursive functions
	$(CHECKS)/bin/pip-audit --requirement $(LOCK) --no-deps --disable-pip \
	  --progress-spinner off $(AUDIT_STRICT)

# functions/requirements.txt: the runtime dependencies and theirs, pinned as the project's
# virtualenv resolved them. After a change of pyproject.toml's dependencies: `make lock-update`
# resolves them anew (without the old pins) and rewrites the lock; tests/unit checks it.
.PHONY: lock-update
lock-update:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade --upgrade-strategy eager -e '.[dev]'
	$(BIN)/python tests/unit/runtime_lock.py $(LOCK)
	rm -f $(VENV)/.installed-*

unit: install
	$(BIN)/pytest tests/unit -q -p no:cacheprovider --disable-socket --allow-unix-socket

# The console's browser tests drive the system's Chromium (Playwright cannot download one here).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
.PHONY: browser
browser:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium chromium-driver; }

integration: install browser
	$(BIN)/pytest tests/integration -q -p no:cacheprovider

test: lint unit integration

# docs/iam-grants.md from what the last integration run's functions asked their roles for.
.PHONY: grants
grants: install
	rm -f .local/iam-usage.json
	$(MAKE) integration
	$(BIN)/cloison-local grants

# Not part of `make test`: minutes of traffic under faults on the local stack, then an accounting.
SOAK_SECONDS ?= 180
soak: install
	SOAK_SECONDS=$(SOAK_SECONDS) $(BIN)/pytest tests/soak -q -s -p no:cacheprovider

bench: install
	$(BIN)/python bench/report.py

# Over half an hour: a campaign of 100,000 recipients alone, which `make bench` then reports.
bench-large: install
	$(BIN)/python bench/report.py --large

# sam build/deploy need the SAM CLI, kept in a virtualenv of its own (it pins its own boto3).
$(VENV)-sam/bin/sam:
	$(PYTHON) -m venv $(VENV)-sam
	$(VENV)-sam/bin/pip install --quiet aws-sam-cli

# sam build ships no bytecode, so every cold start would compile each module it imports (about
# 2.8 times the import's cost). Compiled here by the runtime's Python (sam build needs it too),
# unchecked: the package's zip dates every file 1980, which no timestamp-checked .pyc survives.
build: $(VENV)-sam/bin/sam
	@command -v python3.11 >/dev/null || { echo "sam build needs Python 3.11, the functions' runtime, as python3.11 on PATH"; exit 2; }
	$(VENV)-sam/bin/sam build
	python3.11 -m compileall -q -j 0 --invalidation-mode unchecked-hash .aws-sam/build

deploy: build
	$(VENV)-sam/bin/sam deploy --config-env $(ENV)
	$(MAKE) console ENV=$(ENV)

# The console's files to its bucket, with the config.json that points it at the stack (needs the
# AWS CLI): every file `no-cache`, so a new upload is what browsers get next.
REGION ?= eu-west-3
.PHONY: console
console:
	@output() { aws cloudformation describe-stacks --stack-name cloison-$(ENV) --region $(REGION) \
	  --query "Stacks[0].Outputs[?OutputKey=='$$1'].OutputValue" --output text; }; \
	bucket=$$(output ConsoleBucketName); \
	aws s3 sync console/ s3://$$bucket/ --delete --exclude config.json --cache-control no-cache \
	  --region $(REGION) && \
	printf '{"api_url": "/api", "region": "%s", "user_pool_id": "%s", "client_id": "%s", "auth_url": "https://cognito-idp.%s.amazonaws.com/"}\n' \
	  $(REGION) $$(output UserPoolId) $$(output UserPoolClientId) $(REGION) \
	  | aws s3 cp - s3://$$bucket/config.json --content-type application/json \
	    --cache-control no-cache --region $(REGION) && \
	echo "Console: $$(output ConsoleUrl)"

# Before the first deploy: what the account and region lack (read-only; docs/deploy.md).
ORIGINATION ?=
ALARM_TOPIC ?=
.PHONY: preflight
preflight: install
	$(BIN)/cloison-local preflight --region $(REGION) --stage $(ENV) \
	  --origination "$(ORIGINATION)" --alarm-topic "$(ALARM_TOPIC)"

# The first administrator of a deployed stack: a user of its pool in the admin group, to whom
# Cognito e-mails a temporary password (AWS CLI).
.PHONY: admin
admin:
	@test -n "$(EMAIL)" || { echo "usage: make admin EMAIL=<address> [ENV=dev|prod]"; exit 2; }
	@pool=$$(aws cloudformation describe-stacks --stack-name cloison-$(ENV) --region $(REGION) \
	  --query "Stacks[0].Outputs[?OutputKey=='UserPoolId'].OutputValue" --output text) && \
	aws cognito-idp admin-create-user --user-pool-id $$pool --username "$(EMAIL)" \
	  --user-attributes Name=email,Value="$(EMAIL)" Name=email_verified,Value=true \
	  --desired-delivery-mediums EMAIL --region $(REGION) >/dev/null && \
	aws cognito-idp admin-add-user-to-group --user-pool-id $$pool --username "$(EMAIL)" \
	  --group-name admin --region $(REGION) && \
	echo "$(EMAIL) is an administrator of cloison-$(ENV): a temporary password is on its way"

# One step per team: its stack (reader role, Cognito group, scope, machine client), then its
# sender profiles through the API. The main stack is cloison-$(ENV), as in samconfig.toml.
team: $(VENV)-sam/bin/sam install
	@test -n "$(TEAM)" -a -n "$(SENDERS)" || { echo "usage: make team TEAM=<name> SENDERS=<file> [IDENTITY=<arn>] [ENV=dev|prod]"; exit 2; }
	$(VENV)-sam/bin/sam deploy --template-file infra/team.yaml --stack-name cloison-$(ENV)-team-$(TEAM) \
	  --parameter-overrides TeamName=$(TEAM) CloisonStack=cloison-$(ENV) $(if $(IDENTITY),OriginationIdentity=$(IDENTITY)) \
	  --capabilities CAPABILITY_NAMED_IAM --region $(REGION) --no-fail-on-empty-changeset
	$(BIN)/cloison-local senders $(TEAM) $(SENDERS) --stack cloison-$(ENV) --region $(REGION)

clean:
	rm -rf $(VENV) $(VENV)-sam $(VENV)-checks .aws-sam .local .pytest_cache .mypy_cache .ruff_cache .hypothesis
