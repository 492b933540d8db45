"""What `make deploy|package|verify|delete` hand to scripts/stack.py: the real Makefile, run by
make in a sandbox whose .venv/bin/python records its arguments instead of running the script.

The script's handling of each option is tested in-process (conftest `stackctl`); end-to-end runs
through make against moto are in test_make_targets.py and test_readme_recipes.py. This file pins
the part between them, every setting of every target, at the cost of a make run each.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.deploy.conftest import REPO, make

TARGETS = ("deploy", "package", "verify", "delete")
VALUES = {  # make variable -> the option stack.py gets
    "STACK": "--stack",
    "TEMPLATE": "--template",
    "BUCKET": "--bucket",
    "PREFIX": "--prefix",
    "PARAMS": "--params",
    "PARAMS_FILE": "--params-file",
    "TAGS": "--tags",
    "ROLE_ARN": "--role-arn",
    "NOTIFICATION_ARNS": "--notification-arns",
    "TERMINATION_PROTECTION": "--termination-protection",
    "RETAIN": "--retain",
}
FLAGS = {
    "DRY_RUN": "--dry-run",
    "SKIP_LINT": "--skip-lint",
    "CONFIRM_DANGEROUS": "--confirm-dangerous",
    "ALLOW_REPLACE": "--allow-replace",
    "DISABLE_ROLLBACK": "--disable-rollback",
    "YES": "--yes",
    "DISABLE_DELETION_PROTECTION": "--disable-deletion-protection",
    "ROTATE": "--rotate",
}


def stand_in(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/usr/bin/env bash\n" + body + "\n")
    path.chmod(0o755)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("make-wiring")
    shutil.copy(REPO / "Makefile", root / "Makefile")
    shutil.copytree(REPO / "requirements", root / "requirements")
    (root / "scripts").mkdir()
    (root / "scripts" / "build_lambda_zip.py").touch()  # the zips' prerequisite; never run
    stand_in(root / "scripts" / "venv.sh", "exit 0")
    python = "import json, sys; print(json.dumps(sys.argv[1:]), file=open('calls.jsonl', 'a'))"
    stand_in(root / ".venv" / "bin" / "python", f'exec python3 -c "{python}" "$@"')
    return root


def stack_py_argv(sandbox: Path, target: str, **settings: str) -> list[str]:
    """The arguments `make TARGET SETTINGS...` gives scripts/stack.py (after the script name)."""
    calls = sandbox / "calls.jsonl"
    calls.unlink(missing_ok=True)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    for name in (*VALUES, *FLAGS, "REGION"):
        environment.pop(name, None)  # the user's shell may set some; these tests set their own
    result = make(target, *(f"{k}={v}" for k, v in settings.items()), env=environment, cwd=sandbox)
    assert result.returncode == 0, result.stdout + result.stderr
    runs = [json.loads(line) for line in calls.read_text().splitlines()]
    (argv,) = [run for run in runs if run[:1] == ["scripts/stack.py"]]
    return argv[1:]


@pytest.mark.parametrize("target", TARGETS)
def test_every_setting_reaches_stack_py_as_its_option(sandbox, target):
    values = {name: f"{name.lower()}-value" for name in VALUES}
    # Quotes of both kinds survive (exported, read as $PARAMS): the README's own form.
    values["PARAMS"] = """AdminRotationSchedule="rate(30 days)" Env='two words'"""
    values["TAGS"] = 'team="data platform"'
    argv = stack_py_argv(
        sandbox, target, REGION="ap-southeast-2", **values, **dict.fromkeys(FLAGS, "1")
    )

    assert argv[:2] == ["--region=ap-southeast-2", target]
    for name, option in VALUES.items():
        assert f"{option}={values[name]}" in argv, f"{name} does not reach {option}"
    for name, flag in FLAGS.items():
        assert flag in argv, f"{name}=1 does not give {flag}"
    assert len(argv) == 2 + len(VALUES) + len(FLAGS), argv  # nothing else is added


@pytest.mark.parametrize("target", TARGETS)
def test_without_settings_no_flag_is_given(sandbox, target):
    # make delete must ask before deleting: --yes comes only from YES=1.
    argv = stack_py_argv(sandbox, target)
    assert argv[:2] == ["--region=", target]
    assert not set(FLAGS.values()) & set(argv), argv
    assert [arg for arg in argv[2:] if not arg.endswith("=")] == [], argv  # every value empty


@pytest.mark.parametrize(
    ("value", "given"), [("1", True), ("yes", True), ("0", False), ("false", False), ("no", False)]
)
def test_a_flag_set_to_0_false_or_no_is_not_given(sandbox, value, given):
    assert ("--yes" in stack_py_argv(sandbox, "delete", YES=value)) == given
