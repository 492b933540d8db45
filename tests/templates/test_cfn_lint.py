"""Every template lints clean the way users and pre-commit lint them: cfn-lint with this
repository's .cfnlintrc (informational checks included, the rule pack cfn_lint_rotation appended),
one cfn-lint process for all of them."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.cfn_templates import EXISTING_CLUSTER, REPO, TEMPLATES

EVERY_TEMPLATE = sorted((REPO / "templates").glob("*.yaml"))


@pytest.mark.slow  # one process linting every template: about 5 s of CPU, started first
def test_templates_have_no_cfn_lint_findings():
    assert {*TEMPLATES.values(), EXISTING_CLUSTER} <= set(EVERY_TEMPLATE)
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "cfn-lint"),
            "--",
            *(str(path.relative_to(REPO)) for path in EVERY_TEMPLATE),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_repository_config_adds_informational_checks_and_project_rules():
    # The test above means something only while the configuration it relies on is in place.
    config = (REPO / ".cfnlintrc").read_text()
    assert "include_checks:\n  - I" in config
    assert "append_rules:\n  - cfn_lint_rotation" in config
