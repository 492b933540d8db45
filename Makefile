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

# Three virtualenvs, built and kept in step by scripts/venv.sh with uv (docs/testing.md, "Virtualenvs").
# UV=path uses your own uv instead of the pinned one it installs into .uv/.
PYTHON_EXPLICIT := $(if $(filter command line environment environment override,$(origin PYTHON)),1)
UV ?=
export UV
VENV_SH = PYTHON="$(PYTHON)" PYTHON_EXPLICIT="$(PYTHON_EXPLICIT)" scripts/venv.sh

# .venv also holds the rule pack lint_rules/ as the package cfn_lint_rotation (editable, `-e .`
# in requirements/dev.in): .cfnlintrc, make deploy's lint, the pre-commit hook and the tests load it
# by that name.
$(VENV)/.installed: requirements/dev.txt FORCE
	@$(VENV_SH) $(VENV) requirements/dev.txt "pytest, cfn-lint, ruff, moto, the AWS CLI, the rule pack (editable)" "~590 MB"

install: $(VENV)/.installed ## Create .venv with the pinned tools and the rule pack, editable (checks for Python 3.11+ first)

$(CHECKOV_VENV)/.installed: requirements/checkov.txt FORCE
	@$(VENV_SH) $(CHECKOV_VENV) requirements/checkov.txt "checkov, for make lint and make test" "~230 MB"

$(TASKCAT_VENV)/.installed: requirements/taskcat.txt FORCE
	@$(VENV_SH) $(TASKCAT_VENV) requirements/taskcat.txt "taskcat, for make taskcat and its config tests" "~110 MB"

lint: lint-templates lint-python checkov ## cfn-lint (with the project's rules), ruff and checkov

lint-templates: $(VENV)/.installed ## cfn-lint every template; .cfnlintrc adds the rule pack cfn_lint_rotation and informational checks
	$(BIN)/cfn-lint -- $(TEMPLATES)

lint-python: $(VENV)/.installed ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

checkov: $(CHECKOV_VENV)/.installed ## checkov over the templates (skips are justified inline in the templates)
	$(CHECKOV_VENV)/bin/checkov --quiet --compact --framework cloudformation --skip-download --directory templates

# make test TESTS=tests/lint_rules runs one folder; TEST_WORKERS=0 runs them in one process (pdb).
# PYTHONDONTWRITEBYTECODE is cleared for the run: with it set (some images do), every worker
# re-rewrites the asserts of every test module and every subprocess recompiles the project's code.
# --dist loadfile keeps each file on one worker, so module fixtures start once; the order of
# tests/conftest.py (slow files first) is kept; the slowest tests are listed at the end. Exit code 5 (pytest found no test) fails with its own message.
TESTS ?=
# One worker per CPU plus one: the extra worker fills the time tests spend waiting on timers,
# servers and subprocesses (measurements in docs/testing.md).
CPUS = $(shell getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
TEST_WORKERS ?= $(shell expr $(CPUS) + 1)
PYTEST_ARGS ?=
INSTALL_TESTS ?=

test: $(VENV)/.installed $(TASKCAT_VENV)/.installed $(CHECKOV_VENV)/.installed ## Run the tests in parallel (TESTS=tests/<folder> for one part; INSTALL_TESTS=1 adds the pip-install tests CI runs; installs MariaDB when missing and root)
	@scripts/ensure_mariadb.sh
	@echo "Running pytest$(if $(TESTS), on $(TESTS),) with TEST_WORKERS=$(TEST_WORKERS) ($(if $(filter command line environment,$(origin TEST_WORKERS)),as asked,$(CPUS) CPUs + 1))..."
	@status=0; PYTHONDONTWRITEBYTECODE= INSTALL_TESTS=$(INSTALL_TESTS) $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=10 $(PYTEST_ARGS) $(TESTS) || status=$$?; \
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

hooks: $(VENV)/.installed ## Install the pre-commit and commit-msg hooks into this clone (they run from .venv; make clean removes them)
	$(BIN)/pre-commit install --hook-type pre-commit --hook-type commit-msg

# Pins for every platform, for the oldest Python the project supports; a pin that still fits stays.
lock: ## Re-pin requirements/*.txt from requirements/*.in with uv (needs the index; UPGRADE=1 takes the newest releases)
	@for input in requirements/*.in; do \
	  UV_CUSTOM_COMPILE_COMMAND="make lock" $(VENV_SH) --uv pip compile --quiet --universal \
	    --python-version 3.11 $(if $(UPGRADE),--upgrade) "$$input" -o "$${input%.in}.txt"; \
	  echo "pinned $${input%.in}.txt"; \
	done

# The pre-commit and commit-msg hooks run .venv's Python: clean removes them with the venv, never
# leaving a hook that fails every commit.
HOOK_TYPES := pre-commit commit-msg
HOOKS_DIR = $(shell git rev-parse --git-path hooks 2>/dev/null)

clean: ## Remove virtualenvs, build output, caches, mutation results and the git hooks that run from .venv
	@for type in $(HOOK_TYPES); do \
	  hook="$(HOOKS_DIR)/$$type"; \
	  if [ -n "$(HOOKS_DIR)" ] && [ -f "$$hook" ] && grep -qF "$(abspath $(VENV))/" "$$hook"; then \
	    if [ -x $(BIN)/pre-commit ]; then $(BIN)/pre-commit uninstall --hook-type $$type >/dev/null; else rm -f "$$hook"; fi; \
	    echo "Removed the $$type hook (it runs from $(VENV), which clean deletes); 'make hooks' installs it again."; \
	  fi; \
	done
	rm -rf $(VENV) $(TASKCAT_VENV) $(CHECKOV_VENV) .uv build dist packaged .mutation .pytest_cache .ruff_cache .hypothesis taskcat_outputs
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

# Mutation testing with cosmic-ray (mutation/run.py, docs/testing.md), not part of make test.
PART ?=
MUTATE_WORKERS ?= 2
MUTATE_MINUTES ?=
FRESH ?=

mutate: $(VENV)/.installed ## Mutation testing of PART=custom_resources|lint_rules|scripts (all without PART); resumes; MUTATE_MINUTES=n samples; REPORT=1 only reports
	@MUTATE_WORKERS=$(MUTATE_WORKERS) MUTATE_MINUTES=$(MUTATE_MINUTES) FRESH=$(FRESH) $(BIN)/python mutation/run.py $(PART) $(if $(REPORT),--report)
