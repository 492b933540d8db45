# One entry point for the toolkit. `make help` lists the targets.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := all
MAKEFLAGS += --no-builtin-rules

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TASKCAT_VENV := .venv-taskcat
CHECKOV_VENV := .venv-checkov
TEMPLATES := $(wildcard templates/*.yaml)
LAMBDA_ZIP := dist/lambda_role_lookup.zip
LAMBDA_ZIPS := $(LAMBDA_ZIP) dist/mysql_user.zip
SHARED_SOURCES := $(shell find custom_resources/cfn_one_shot -type f -not -path '*/__pycache__/*' 2>/dev/null)

.PHONY: all help install lint lint-templates lint-python checkov test package build deploy verify delete taskcat bench docs hooks lock clean

all: lint package ## Lint every template and the Python code, then build the Lambda package (offline)

help: ## List the targets
	@awk 'BEGIN {FS = ":.*?## "} /^[a-zA-Z_-]+:.*?## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# The virtualenv is rebuilt whenever the pinned requirements change.
$(VENV)/.installed: requirements/dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	@touch $@

install: $(VENV)/.installed ## Create .venv with the pinned tools

$(CHECKOV_VENV)/.installed: requirements/checkov.txt
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements/checkov.txt
	@touch $@

$(TASKCAT_VENV)/.installed: requirements/taskcat.txt
	@test -x $(TASKCAT_VENV)/bin/python || $(PYTHON) -m venv $(TASKCAT_VENV)
	$(TASKCAT_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements/taskcat.txt
	@touch $@

lint: lint-templates lint-python checkov ## cfn-lint (with the project's rules), ruff and checkov

lint-templates: $(VENV)/.installed ## cfn-lint every template; .cfnlintrc adds lint_rules/ and informational checks
	$(BIN)/cfn-lint -- $(TEMPLATES)

lint-python: $(VENV)/.installed ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

checkov: $(CHECKOV_VENV)/.installed ## checkov over the templates (skips are justified inline in the templates)
	$(CHECKOV_VENV)/bin/checkov --quiet --compact --framework cloudformation --skip-download --directory templates

test: $(VENV)/.installed $(TASKCAT_VENV)/.installed ## Run every test (installs MariaDB from Debian when missing and root)
	scripts/ensure_mariadb.sh
	$(BIN)/pytest

.SECONDEXPANSION:
dist/%.zip: $(VENV)/.installed scripts/build_lambda_zip.py $(SHARED_SOURCES) $$(shell find custom_resources/$$* -type f -not -path '*/__pycache__/*' 2>/dev/null)
	$(BIN)/python scripts/build_lambda_zip.py --function $* --output $@

build: $(LAMBDA_ZIPS) ## Build the custom resources' Lambda zips (crhelper, pymysql vendored; byte-reproducible)

# Deploy settings (README "Deploying"):
#   make deploy TEMPLATE=templates/mysql-multi-user.yaml STACK=demo BUCKET=my-artifacts
TEMPLATE ?=
STACK ?=
BUCKET ?=
PREFIX ?=
PARAMS ?=
# Exported and read as $$PARAMS in the recipe, so quotes inside PARAMS reach the script intact.
export PARAMS
REGION ?=
DRY_RUN ?=
SKIP_LINT ?=
CONFIRM_DANGEROUS ?=
ALLOW_REPLACE ?=
DISABLE_ROLLBACK ?=
YES ?=
DISABLE_DELETION_PROTECTION ?=
RETAIN ?=
ROTATE ?=
# A make variable set to 1 (or any non-empty value but 0/false/no) becomes the flag.
flag = $(if $(filter-out 0 false no,$(strip $($(1)))),$(2))
STACK_PY = $(BIN)/python scripts/stack.py --region "$(REGION)"
STACK_FLAGS = $(call flag,DRY_RUN,--dry-run) $(call flag,SKIP_LINT,--skip-lint) \
	$(call flag,CONFIRM_DANGEROUS,--confirm-dangerous) $(call flag,ALLOW_REPLACE,--allow-replace) \
	$(call flag,DISABLE_ROLLBACK,--disable-rollback) $(call flag,YES,--yes) \
	$(call flag,DISABLE_DELETION_PROTECTION,--disable-deletion-protection) $(call flag,ROTATE,--rotate)

package: build ## Build the Lambda zip; with BUCKET=name also upload it and the templates to S3
	$(STACK_PY) package --bucket "$(BUCKET)" --prefix "$(PREFIX)"

deploy: build ## Lint, review a change set, apply it: TEMPLATE=, STACK=, BUCKET=, PARAMS='K=V ...', DRY_RUN=1
	$(STACK_PY) deploy $(STACK_FLAGS) --template "$(TEMPLATE)" --stack "$(STACK)" \
		--bucket "$(BUCKET)" --prefix "$(PREFIX)" --params "$$PARAMS"

verify: $(VENV)/.installed ## Check rotation health of STACK= (ROTATE=1 also rotates the app secret)
	$(STACK_PY) verify $(STACK_FLAGS) --stack "$(STACK)"

delete: $(VENV)/.installed ## Delete STACK= after asking (YES=1 skips), wait as long as it takes
	$(STACK_PY) delete $(STACK_FLAGS) --stack "$(STACK)" --retain "$(RETAIN)"

taskcat: $(TASKCAT_VENV)/.installed build ## taskcat test run of both templates across Regions (needs AWS credentials)
	$(STACK_PY) credentials
	$(TASKCAT_VENV)/bin/taskcat test run --project-root .

bench: $(VENV)/.installed build ## Print the benchmark table (custom resource, package size, lint time, test time)
	$(BIN)/python bench/run.py

docs: $(VENV)/.installed ## Regenerate the README's parameter tables from the templates
	$(BIN)/python scripts/parameter_tables.py

hooks: $(VENV)/.installed ## Install the pre-commit hooks into this clone
	$(BIN)/pre-commit install

lock: ## Re-pin requirements/*.txt from requirements/*.in (needs the package index)
	scripts/lock_requirements.sh

clean: ## Remove virtualenvs, build output and caches
	rm -rf $(VENV) $(TASKCAT_VENV) $(CHECKOV_VENV) build dist packaged .pytest_cache .ruff_cache .hypothesis taskcat_outputs
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
