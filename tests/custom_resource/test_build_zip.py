"""scripts/build_lambda_zip.py: a reproducible zip that Lambda can run as it is."""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import boto3
import pytest

from .local_endpoints import cloudformation_event, create_rotation_function

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "scripts" / "build_lambda_zip.py"
FUNCTION_DIR = ROOT / "custom_resources" / "lambda_role_lookup"


def build(output: Path, **environment) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(BUILD), "--output", str(output)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **environment},
    )


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("build") / "lambda_role_lookup.zip"
    result = build(output)
    assert result.returncode == 0, result.stderr
    return output


def test_same_sources_give_identical_bytes(package, tmp_path):
    again = tmp_path / "again.zip"
    assert build(again).returncode == 0
    assert again.read_bytes() == package.read_bytes()


def test_contents_are_the_function_and_crhelper_only(package):
    with zipfile.ZipFile(package) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]

    assert names == sorted(names)
    function_modules = sorted(p.name for p in FUNCTION_DIR.glob("*.py"))
    assert set(function_modules) <= set(names)
    assert {"crhelper/__init__.py", "crhelper/resource_helper.py", "crhelper/utils.py"} <= set(
        names
    )
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".pyi"))]
    assert [n for n in names if ".dist-info/" in n] == [
        "crhelper-2.0.12.dist-info/LICENSE",
        "crhelper-2.0.12.dist-info/NOTICE",
    ]
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {info.external_attr >> 16 for info in infos} == {0o100644}


def test_packaged_function_runs_from_the_zip(package, tmp_path, receiver, moto_endpoint):
    # Extracted like Lambda's /var/task, run in a fresh interpreter: app.handler must import the
    # vendored crhelper and answer a real Create against moto.
    create_rotation_function(
        boto3.client("iam", endpoint_url=moto_endpoint),
        boto3.client("lambda", endpoint_url=moto_endpoint),
        "zip-rotation-fn",
    )
    task_root = tmp_path / "task"
    with zipfile.ZipFile(package) as archive:
        archive.extractall(task_root)
    event = cloudformation_event("Create", receiver.url(), {"FunctionName": "zip-rotation-fn"})
    script = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(task_root)!r})\n"
        f"sys.path.append({str(ROOT)!r})\n"
        "import app, crhelper\n"
        "from tests.custom_resource.local_endpoints import LambdaContext\n"
        "app.handler(json.loads(sys.stdin.read()), LambdaContext(10))\n"
        "print(crhelper.__file__)\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "AWS_ENDPOINT_URL_LAMBDA": moto_endpoint},
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith(str(task_root))
    (put,) = receiver.puts()
    assert put.document["Status"] == "SUCCESS"
    assert put.document["PhysicalResourceId"].endswith(":function:zip-rotation-fn")


def test_unreachable_index_fails_with_a_clear_message(tmp_path):
    output = tmp_path / "never.zip"

    result = build(
        output,
        PIP_CONFIG_FILE=os.devnull,
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(tmp_path),
    )

    assert result.returncode == 1
    assert "pip could not install crhelper==2.0.12" in result.stderr
    assert "PIP_INDEX_URL" in result.stderr
    assert not output.exists()
