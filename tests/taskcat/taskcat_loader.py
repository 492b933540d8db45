"""taskcat's own config loader, run under .venv-taskcat (taskcat pins old dependencies) by
load_taskcat_config.py: one process for the repository's .taskcat.yml and a copy with a misspelt
key, as taskcat takes about a second of CPU to import."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from scripts.stack import CODE_KEY_PARAMS, lambda_zip

REPO = Path(__file__).resolve().parents[2]
TASKCAT_PYTHON = REPO / ".venv-taskcat" / "bin" / "python"
LOADER = Path(__file__).with_name("load_taskcat_config.py")
# The zip each code-key parameter names, as the deploy tooling maps them.
CODE_PATHS = {
    name: str(lambda_zip(folder).relative_to(REPO)) for name, folder in CODE_KEY_PARAMS.items()
}
EXISTING_CLUSTER_FIXTURE = "tests/taskcat/fixtures/existing-cluster.yaml"
EXISTING_CLUSTER_TEMPLATE = "templates/mysql-rotation-existing-cluster.yaml"
# Files whose upload the tests check against taskcat's exclusions.
UPLOADED = sorted({*CODE_PATHS.values(), EXISTING_CLUSTER_FIXTURE, EXISTING_CLUSTER_TEMPLATE})


def misspelt_project(folder: Path) -> Path:
    """A copy of the project whose .taskcat.yml says `regoins:` for its first `regions:`."""
    shutil.copytree(REPO / "templates", folder / "templates")
    text = (REPO / ".taskcat.yml").read_text()
    (folder / ".taskcat.yml").write_text(text.replace("  regions:", "  regoins:", 1))
    return folder


def run_loader(scratch: Path) -> dict[str, dict]:
    if not TASKCAT_PYTHON.exists():
        pytest.fail("taskcat's virtualenv is missing: run 'make .venv-taskcat/.installed'")
    misspelt = misspelt_project(scratch)
    result = subprocess.run(
        [str(TASKCAT_PYTHON), str(LOADER), ".taskcat.yml", str(REPO), str(misspelt),
         "--", *UPLOADED],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    return {"repository": loaded[str(REPO)], "misspelt": loaded[str(misspelt)]}
