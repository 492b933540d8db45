"""Deploy tests: `make deploy|verify|delete|package` against local moto servers.

Each make target runs for real (`make`, a subprocess) in a few tests that prove it end to end:
the exit status, the messages reaching the terminal. Every variable of every target reaching
scripts/stack.py as its option is pinned by test_make_wiring.py. The many tests about
what stackctl does run the same `main(argv)` in-process (`stackctl` below), which spares each a
Python start and cfn-lint's import (about 1.2 s of CPU per run).
"""

from __future__ import annotations

import copy
import io
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import botocore.loaders
import botocore.session
import pytest

from scripts.stackctl import cli
from scripts.stackctl.runtime import Runtime
from tests.deploy.aws_stubs import FakeClock
from tests.helpers.local_servers import moto_server

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module", autouse=True)
def shared_service_models() -> Iterator[None]:
    """Every boto3 session of a module reads botocore's service models through one loader.

    Each new session would otherwise parse the same JSON files again (about 0.1 s of CPU for
    each client a test makes); the models are data, identical for every session, and what a
    session or client does with them (credentials, Region, endpoint, stubs) stays its own.
    """
    shared = botocore.loaders.create_loader()
    real = botocore.session.create_loader

    def create_loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
        return shared if search_path_string is None else real(search_path_string)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", create_loader)
        yield


_DECODED: dict[tuple[str, bytes], tuple] = {}


@pytest.fixture(scope="module", autouse=True)
def templates_parsed_once() -> Iterator[None]:
    """cfn-lint's template reader, which stackctl uses, parses a file once per content.

    The tests read the same templates some two hundred times (about 0.03 s of CPU each); the
    reader's answer for the same bytes is the same, and each caller gets its own deep copy.
    """
    import cfnlint.decode  # here: importing cfn-lint takes a second

    real = cfnlint.decode.decode

    def decode(filename: str):
        key = (str(filename), Path(filename).read_bytes())
        if key not in _DECODED:
            _DECODED[key] = real(filename)
        return copy.deepcopy(_DECODED[key])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cfnlint.decode, "decode", decode)
        yield


def cli_env(endpoint: str, tmp_path: Path) -> dict[str, str]:
    """Environment for a CLI run against moto: fake keys, a Region, no real config files."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "CI"}
    env.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="eu-west-1",
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


@pytest.fixture
def aws_env(moto_endpoint, tmp_path):
    return cli_env(moto_endpoint, tmp_path)


@pytest.fixture(scope="module")
def lambda_moto() -> Iterator[str]:
    """A private moto server whose Lambda runs no code (no Docker), so RotateSecret works.

    Private because the setting is server-wide and other folders' tests share the session server.
    """
    with moto_server() as endpoint:
        request = urllib.request.Request(  # noqa: S310 (loopback http)
            f"{endpoint}/moto-api/config",
            data=json.dumps({"lambda": {"use_docker": False}}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        urllib.request.urlopen(request, timeout=5).close()  # noqa: S310
        yield endpoint.replace("127.0.0.1", "localhost")


def clients(endpoint: str, region: str = "eu-west-1") -> Callable[[str], object]:
    """boto3 clients aimed at one moto server, for setting up and inspecting what make did."""
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
    )
    return lambda service: session.client(service, endpoint_url=endpoint)


def make(*args: str, env: dict | None, cwd: Path = REPO) -> subprocess.CompletedProcess:
    """A make target as a user runs it (stdin is not a terminal, as in CI)."""
    return subprocess.run(
        ["make", "--no-print-directory", "-s", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


@dataclass
class Run:
    """What a command left: its exit status and what it printed (as CompletedProcess has)."""

    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def stackctl(monkeypatch, capsys) -> Callable[..., Run]:
    """`stackctl(env, "deploy", "--stack=x", ...)`: the command make runs, in this process.

    As `make` runs it: from the repository, with exactly env's AWS settings, stdin no terminal.
    Waits take no time (a clock that moves only when the command sleeps).
    """

    def run(env: dict[str, str], *argv: str) -> Run:
        with monkeypatch.context() as patch:
            for key in [k for k in os.environ if k.startswith("AWS_") or k == "CI"]:
                patch.delenv(key)
            for key, value in env.items():
                if key.startswith("AWS_") or key == "CI":
                    patch.setenv(key, value)
            patch.chdir(REPO)
            patch.setattr(sys, "stdin", io.StringIO(""))
            capsys.readouterr()
            code = cli.main(list(argv), Runtime(clock=FakeClock().as_clock()))
        out, err = capsys.readouterr()
        return Run(code, out, err)

    return run


@pytest.fixture(scope="session")
def lambda_zips() -> dict[str, Path]:
    """The real deployable zips by function folder, built the way `make build` builds them."""
    subprocess.run(["make", "--no-print-directory", "-s", "build"], cwd=REPO, check=True)
    return {
        folder: REPO / "dist" / f"{folder}.zip" for folder in ("lambda_role_lookup", "mysql_user")
    }


@pytest.fixture(scope="session")
def lambda_zip(lambda_zips) -> Path:
    return lambda_zips["lambda_role_lookup"]
