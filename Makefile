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

.PHONY: all help install lint lint-templates lint-python checkov test package build deploy verify delete taskcat bench docs hooks lock clean mutate FORCE

all: lint package ## Lint every template and the Python code, then build the Lambda package (offline)

help: ## List the targets
	@awk 'BEGIN {FS = ":.*?## "} /^[a-zA-Z_-]+:.*?## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# Three virtualenvs (scripts/venv.sh): checked on every run in ~20 ms (pip is started only for an update), built when
# missing (after checking PYTHON is 3.11+), rebuilt when their Python is gone, broken or too old (or
# differs from a PYTHON= given on the command line), refreshed when their requirements change.
PYTHON_EXPLICIT := $(if $(filter command line environment environment override,$(origin PYTHON)),1)
VENV_SH = PYTHON="$(PYTHON)" PYTHON_EXPLICIT="$(PYTHON_EXPLICIT)" scripts/venv.sh

# .venv also holds the rule pack lint_rules/ as the package cfn_lint_rotation (editable install):
# .cfnlintrc, make deploy's lint, the pre-commit hook and the tests load it by that name.
$(VENV)/.installed: requirements/dev.txt pyproject.toml FORCE
	@$(VENV_SH) $(VENV) requirements/dev.txt "pytest, cfn-lint, ruff, moto, the AWS CLI" "about 1-2 minutes, ~600 MB" .

install: $(VENV)/.installed ## Create .venv with the pinned tools and the rule pack (checks for Python 3.11+ first)

$(CHECKOV_VENV)/.installed: requirements/checkov.txt FORCE
	@$(VENV_SH) $(CHECKOV_VENV) requirements/checkov.txt "checkov, for make lint and make test" "about 1 minute, ~300 MB"

$(TASKCAT_VENV)/.installed: requirements/taskcat.txt FORCE
	@$(VENV_SH) $(TASKCAT_VENV) requirements/taskcat.txt "taskcat, for make taskcat and its config tests" "about 1 minute, ~250 MB"

lint: lint-templates lint-python checkov ## cfn-lint (with the project's rules), ruff and checkov

lint-templates: $(VENV)/.installed ## cfn-lint every template; .cfnlintrc adds the rule pack cfn_lint_rotation and informational checks
	$(BIN)/cfn-lint -- $(TEMPLATES)

lint-python: $(VENV)/.installed ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

checkov: $(CHECKOV_VENV)/.installed ## checkov over the templates (skips are justified inline in the templates)
	$(CHECKOV_VENV)/bin/checkov --quiet --compact --framework cloudformation --skip-download --directory templates

# make test TESTS=tests/lint_rules runs one folder; TEST_WORKERS=0 runs them in one process (pdb).
# --dist loadfile keeps each file on one worker, so module fixtures start once; the slowest tests are
# listed at the end. Exit code 5 (pytest found no test) fails with its own message.
TESTS ?=
# One worker per CPU plus one: about a quarter of the suite's time is spent waiting (deadline
# timers, servers, subprocesses), which the extra worker fills (2 CPUs: 117 s with 2 workers, 99 s
# with 3, 102 s with 4).
CPUS = $(shell getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
TEST_WORKERS ?= $(shell expr $(CPUS) + 1)
PYTEST_ARGS ?=
INSTALL_TESTS ?=

test: $(VENV)/.installed $(TASKCAT_VENV)/.installed $(CHECKOV_VENV)/.installed ## Run the tests in parallel (TESTS=tests/<folder> for one part; INSTALL_TESTS=1 adds the pip-install tests CI runs; installs MariaDB when missing and root)
	@scripts/ensure_mariadb.sh
	@echo "Running pytest$(if $(TESTS), on $(TESTS),) with TEST_WORKERS=$(TEST_WORKERS) ($(if $(filter command line environment,$(origin TEST_WORKERS)),as asked,$(CPUS) CPUs + 1))..."
	@status=0; INSTALL_TESTS=$(INSTALL_TESTS) $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --durations=10 $(PYTEST_ARGS) $(TESTS) || status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest found no test to run (exit code 5): check TESTS='$(TESTS)' and PYTEST_ARGS='$(PYTEST_ARGS)'." >&2; fi; \
	exit $$status

.SECONDEXPANSION:
# Each zip the rule rebuilds is noted in REBUILT (eval runs when make expands the recipe, just
# before running it), so that `make build` can say when there was nothing to do.
REBUILT :=
dist/%.zip: $(VENV)/.installed scripts/build_lambda_zip.py $(SHARED_SOURCES) $$(shell find custom_resources/$$* -type f -not -path '*/__pycache__/*' 2>/dev/null)
	$(eval REBUILT += $@)
	@$(BIN)/python scripts/build_lambda_zip.py --function $* --output $@

build: $(LAMBDA_ZIPS) ## Build the custom resources' Lambda zips (crhelper, pymysql vendored; byte-reproducible)
	@$(if $(or $(REBUILT),$(filter-out build,$(MAKECMDGOALS))),:,echo "$(LAMBDA_ZIPS): up to date (rebuilt when custom_resources/ or scripts/build_lambda_zip.py change).")

# Deploy settings (README "Deploying"):
#   make deploy TEMPLATE=templates/mysql-multi-user.yaml STACK=demo BUCKET=my-artifacts
TEMPLATE ?=
STACK ?=
BUCKET ?=
PREFIX ?=
PARAMS ?=
PARAMS_FILE ?=
TAGS ?=
ROLE_ARN ?=
NOTIFICATION_ARNS ?=
TERMINATION_PROTECTION ?=
# Exported and read as $$PARAMS / $$TAGS in the recipe, so quotes inside reach the script intact.
export PARAMS TAGS
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
STACK_PY = $(BIN)/python scripts/stack.py --region="$(REGION)"
STACK_FLAGS = $(call flag,DRY_RUN,--dry-run) $(call flag,SKIP_LINT,--skip-lint) \
	$(call flag,CONFIRM_DANGEROUS,--confirm-dangerous) $(call flag,ALLOW_REPLACE,--allow-replace) \
	$(call flag,DISABLE_ROLLBACK,--disable-rollback) $(call flag,YES,--yes) \
	$(call flag,DISABLE_DELETION_PROTECTION,--disable-deletion-protection) $(call flag,ROTATE,--rotate)
# Every command gets every setting and refuses those it does not use (make delete ALLOW_REPLACE=1
# is a mistake, not a no-op). --name=value, so a value that starts with "-" stays a value.
STACK_OPTS = --stack="$(STACK)" --template="$(TEMPLATE)" --bucket="$(BUCKET)" \
	--prefix="$(PREFIX)" --params="$$PARAMS" --params-file="$(PARAMS_FILE)" --tags="$$TAGS" \
	--role-arn="$(ROLE_ARN)" --notification-arns="$(NOTIFICATION_ARNS)" \
	--termination-protection="$(TERMINATION_PROTECTION)" --retain="$(RETAIN)" $(STACK_FLAGS)

package: build ## Build the Lambda zips; with BUCKET=name also upload them and the templates to S3
	@$(STACK_PY) package $(STACK_OPTS)

deploy: build ## Lint, review a change set, apply it: TEMPLATE=, STACK=, BUCKET=, PARAMS='K=V ...', DRY_RUN=1
	@$(STACK_PY) deploy $(STACK_OPTS)

verify: $(VENV)/.installed ## Check rotation health of STACK= (ROTATE=1 also rotates the app secret)
	@$(STACK_PY) verify $(STACK_OPTS)

delete: $(VENV)/.installed ## Delete STACK= after asking (YES=1 skips), wait as long as it takes
	@$(STACK_PY) delete $(STACK_OPTS)

taskcat: $(TASKCAT_VENV)/.installed build ## taskcat test run of every template (the existing-cluster one on a fixture cluster) across Regions (needs AWS credentials)
	@$(STACK_PY) credentials
	$(TASKCAT_VENV)/bin/taskcat test run --project-root .

bench: $(VENV)/.installed build ## Print the benchmark table (custom resource, package size, lint time); BENCH_TESTS=1 adds make test's time
	@$(BIN)/python bench/run.py $(if $(BENCH_TESTS),--with-tests)

docs: $(VENV)/.installed ## Regenerate the parameter tables (README, docs/templates.md) from the templates
	$(BIN)/python scripts/parameter_tables.py

hooks: $(VENV)/.installed ## Install the pre-commit hooks into this clone (they run from .venv; make clean removes them)
	$(BIN)/pre-commit install

lock: ## Re-pin requirements/*.txt from requirements/*.in (needs the package index)
	scripts/lock_requirements.sh

# The pre-commit hook runs .venv's Python: clean removes the hook with the venv, never leaving a
# hook that fails every commit.
PRE_COMMIT_HOOK = $(shell git rev-parse --git-path hooks/pre-commit 2>/dev/null)

clean: ## Remove virtualenvs, build output, caches, mutation results and the pre-commit hook that runs from .venv
	@if [ -n "$(PRE_COMMIT_HOOK)" ] && [ -f "$(PRE_COMMIT_HOOK)" ] && grep -qF "$(abspath $(VENV))/" "$(PRE_COMMIT_HOOK)"; then \
	  if [ -x $(BIN)/pre-commit ]; then $(BIN)/pre-commit uninstall --hook-type pre-commit >/dev/null; else rm -f "$(PRE_COMMIT_HOOK)"; fi; \
	  echo "Removed the pre-commit hook (it runs from $(VENV), which clean deletes); 'make hooks' installs it again."; \
	fi
	rm -rf $(VENV) $(TASKCAT_VENV) $(CHECKOV_VENV) build dist packaged .mutation .pytest_cache .ruff_cache .hypothesis taskcat_outputs
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

# Mutation testing (cosmic-ray), not part of make test: PART=custom_resources|lint_rules|scripts
# runs one part; results are kept in .mutation/ so an interrupted run resumes; REPORT=1 only prints
# the last results. See docs/testing.md.
PART ?=
MUTATE_WORKERS ?= 2
MUTATE_GROUP_MINUTES ?=
MUTATE_GROUPS ?=

mutate: $(VENV)/.installed ## Mutation testing of custom_resources/, lint_rules/ and scripts/ against their tests (PART= for one; slow, see docs/testing.md)
	@MUTATE_WORKERS=$(MUTATE_WORKERS) MUTATE_GROUP_MINUTES=$(MUTATE_GROUP_MINUTES) MUTATE_GROUPS=$(MUTATE_GROUPS) $(BIN)/python mutation/run.py $(PART) $(if $(REPORT),--report)
