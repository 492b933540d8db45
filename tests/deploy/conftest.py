"""Deploy tests: the AWS CLI against the session moto server (tests/conftest.py)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def aws_env(moto_endpoint, tmp_path):
    """Environment for a CLI run against moto: fake keys, a Region, no real config files."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL=moto_endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="eu-west-1",
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


@pytest.fixture(scope="session")
def lambda_zip():
    """The real deployable zip, built the way `make build` builds it."""
    subprocess.run(["make", "--no-print-directory", "-s", "build"], cwd=REPO, check=True)
    return REPO / "dist" / "lambda_role_lookup.zip"
