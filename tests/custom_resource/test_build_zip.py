"""scripts/build_lambda_zip.py: reproducible zips that Lambda can run as they are, one per
custom resource, each with the shared cfn_one_shot package and its own pinned dependencies."""

import base64
import hashlib
import json
import os
import random
import ssl
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import boto3
import pytest

from scripts import build_lambda_zip

from .local_endpoints import cloudformation_event, create_rotation_function

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "scripts" / "build_lambda_zip.py"
CUSTOM_RESOURCES = ROOT / "custom_resources"
LICENSES = {
    "lambda_role_lookup": [
        "crhelper-2.0.12.dist-info/LICENSE",
        "crhelper-2.0.12.dist-info/NOTICE",
    ],
    "mysql_user": [
        "crhelper-2.0.12.dist-info/LICENSE",
        "crhelper-2.0.12.dist-info/NOTICE",
        "pymysql-1.2.4.dist-info/licenses/LICENSE",
    ],
}
VENDORED = {
    "lambda_role_lookup": {"crhelper/__init__.py", "crhelper/resource_helper.py"},
    "mysql_user": {"crhelper/resource_helper.py", "pymysql/connections.py", "pymysql/_auth.py"},
}


def build(output: Path, *options: str, **environment) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(BUILD), *options, "--output", str(output)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **environment},
    )


@pytest.fixture(scope="module")
def every_function_built(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    """The script without --output, as `make build` runs it: every function into a dist folder
    it makes, parents and all. Its zips are the ones the other tests read."""
    dist = tmp_path_factory.mktemp("build") / "fresh-clone" / "dist"
    result = subprocess.run(
        [sys.executable, str(BUILD), "--dist", str(dist)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result, dist


@pytest.fixture(scope="module")
def package(every_function_built) -> Path:
    return every_function_built[1] / "lambda_role_lookup.zip"


@pytest.fixture(scope="module")
def mysql_user_package(every_function_built) -> Path:
    return every_function_built[1] / "mysql_user.zip"


@pytest.fixture(params=["lambda_role_lookup", "mysql_user"])
def built(request) -> tuple[str, Path]:
    fixture = "package" if request.param == "lambda_role_lookup" else "mysql_user_package"
    return request.param, request.getfixturevalue(fixture)


# A second build of one function, with --output: alone it builds the role lookup, the way bench
# and older callers ask for it.
OPTIONS_FOR_ONE = {"lambda_role_lookup": (), "mysql_user": ("--function", "mysql_user")}


def test_same_sources_give_identical_bytes(built, tmp_path):
    function, package = built
    again = tmp_path / "again.zip"
    result = build(again, *OPTIONS_FOR_ONE[function])
    assert result.returncode == 0, result.stderr
    assert again.read_bytes() == package.read_bytes()


def test_contents_are_the_function_the_shared_base_and_pinned_dependencies_only(built):
    function, package = built
    with zipfile.ZipFile(package) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]

    assert names == sorted(names)
    function_modules = {p.name for p in (CUSTOM_RESOURCES / function).glob("*.py")}
    shared = {f"cfn_one_shot/{p.name}" for p in (CUSTOM_RESOURCES / "cfn_one_shot").glob("*.py")}
    assert function_modules | shared | VENDORED[function] <= set(names)
    other = "mysql_user" if function == "lambda_role_lookup" else "lambda_role_lookup"
    assert not {p.name for p in (CUSTOM_RESOURCES / other).glob("*.py")} - {"app.py"} & set(names)
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".pyi"))]
    assert [n for n in names if ".dist-info/" in n] == LICENSES[function]
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    # Made on Unix (create_system 3): unzip tools read the permission bits only from such entries.
    assert {(info.create_system, info.external_attr >> 16) for info in infos} == {(3, 0o100644)}


def test_without_output_every_function_is_built(every_function_built):
    result, dist = every_function_built
    assert "warning" not in result.stderr  # today's zips are within their size targets
    assert sorted(path.name for path in dist.iterdir()) == [
        "lambda_role_lookup.zip",
        "mysql_user.zip",
    ]


def run_from_zip(package: Path, task_root: Path, event: dict, vendored: str, **environment):
    """Extract the zip like Lambda's /var/task and run app.handler on `event` in a fresh
    interpreter; the run must import the `vendored` module from the zip, not from the venv."""
    with zipfile.ZipFile(package) as archive:
        archive.extractall(task_root)
    script = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(task_root)!r})\n"
        f"sys.path.append({str(ROOT)!r})\n"
        f"import app, {vendored}\n"
        "from tests.custom_resource.local_endpoints import LambdaContext\n"
        "app.handler(json.loads(sys.stdin.read()), LambdaContext(10))\n"
        f"print({vendored}.__file__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **environment},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith(str(task_root))


def test_packaged_function_runs_from_the_zip(package, tmp_path, receiver, moto_endpoint):
    # app.handler must import the vendored crhelper and answer a real Create against moto.
    create_rotation_function(
        boto3.client("iam", endpoint_url=moto_endpoint),
        boto3.client("lambda", endpoint_url=moto_endpoint),
        "zip-rotation-fn",
    )
    event = cloudformation_event("Create", receiver.url(), {"FunctionName": "zip-rotation-fn"})

    run_from_zip(
        package, tmp_path / "task", event, "crhelper", AWS_ENDPOINT_URL_LAMBDA=moto_endpoint
    )

    (put,) = receiver.puts()
    assert put.document["Status"] == "SUCCESS"
    assert put.document["PhysicalResourceId"].endswith(":function:zip-rotation-fn")


def test_packaged_mysql_user_function_runs_from_the_zip(mysql_user_package, tmp_path, receiver):
    # A Delete of a failed Create's id needs no database: enough to prove the zip imports its
    # vendored pymysql (and crhelper, which app imports) and answers through the shared base.
    event = cloudformation_event(
        "Delete", receiver.url(), {"Grants": []}, physical_id="app-db_AppUser_ABCDEFGH"
    )

    run_from_zip(mysql_user_package, tmp_path / "task", event, "pymysql")

    (put,) = receiver.puts()
    assert put.document["Status"] == "SUCCESS"
    assert put.document["PhysicalResourceId"] == "app-db_AppUser_ABCDEFGH"


def test_unreachable_index_fails_with_a_clear_message(tmp_path):
    output = tmp_path / "never.zip"
    # Mirrors that are gone: pip warns once for each before its error, as it does for each retry
    # when the index cannot be reached.
    mirrors = [tmp_path / f"gone-mirror-{n}" for n in range(1, 5)]

    result = build(
        output,
        PIP_CONFIG_FILE=os.devnull,
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=" ".join(map(str, mirrors)),
    )

    assert result.returncode == 1
    assert "pip could not install crhelper==2.0.12" in result.stderr
    assert "PIP_INDEX_URL" in result.stderr
    # pip's last three lines close the message: its reason (two lines) and the warning before
    # it, not every warning it printed.
    said = result.stderr.split("pip said: ", 1)[1]
    assert said.endswith("ERROR: No matching distribution found for crhelper==2.0.12\n")
    assert [str(mirror) in said for mirror in mirrors] == [False, False, False, True]
    assert not output.exists()


def test_mysql_user_zip_ships_the_amazon_rds_roots_it_verifies_aurora_with(mysql_user_package):
    from cryptography import x509

    from custom_resources.mysql_user.user_request import DEFAULT_TLS_CA_FILE

    with zipfile.ZipFile(mysql_user_package) as archive:
        bundle = archive.read(DEFAULT_TLS_CA_FILE)  # the default TlsCaFile is in the zip's root
    certificates = x509.load_pem_x509_certificates(bundle)
    names = {
        cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
        for cert in certificates
    }
    # Aurora's server certificates chain to one of these per Region and key type.
    for region in ("us-east-1", "eu-west-1", "ap-southeast-2"):
        for kind in ("RSA2048", "RSA4096", "ECC384"):
            assert f"Amazon RDS {region} Root CA {kind} G1" in names
    for cert in certificates:
        assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        assert cert.issuer == cert.subject  # roots only: nothing a region's CA could not vouch for
    ssl.create_default_context(cadata=bundle.decode())  # OpenSSL reads it as a CA bundle


# The same script in process on a scratch custom_resources/ whose one dependency, sample-dep, is
# a wheel in a local folder: what goes in the zip and what the build says, without the index.

SAMPLE_WHEEL = {
    "sample_dep/__init__.py": "def main():\n    print('sample')\n",
    "sample_dep/__init__.pyi": "def main() -> None: ...\n",
    "sample_dep/py.typed": "",
    "sample_dep/data.json": "{}\n",
    "sample_dep-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: sample-dep\nVersion: 1.0\n",
    "sample_dep-1.0.dist-info/WHEEL": (
        "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    ),
    # pip writes a bin/sample-dep script for this, which Lambda cannot use.
    "sample_dep-1.0.dist-info/entry_points.txt": (
        "[console_scripts]\nsample-dep = sample_dep:main\n"
    ),
    "sample_dep-1.0.dist-info/LICENSE": "MIT\n",
    "sample_dep-1.0.dist-info/licenses/notice.txt": "Sample notice\n",
}


def write_wheel(folder: Path) -> None:
    def digest(data: bytes) -> str:
        return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()

    record = [
        f"{name},sha256={digest(text.encode())},{len(text)}" for name, text in SAMPLE_WHEEL.items()
    ]
    with zipfile.ZipFile(folder / "sample_dep-1.0-py3-none-any.whl", "w") as wheel:
        for name, text in SAMPLE_WHEEL.items():
            wheel.writestr(name, text)
        wheel.writestr(
            "sample_dep-1.0.dist-info/RECORD",
            "\n".join([*record, "sample_dep-1.0.dist-info/RECORD,,", ""]),
        )


@pytest.fixture
def scratch(tmp_path, monkeypatch) -> Path:
    """custom_resources/ with both functions (app.py and a pin of sample-dep each) and the shared
    package, plus the leftovers of a working checkout that must stay out of a zip."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    write_wheel(wheels)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    root = tmp_path / "custom_resources"
    files = {
        "cfn_one_shot/__init__.py": "",
        "cfn_one_shot/__pycache__/__init__.cpython-311.pyc": "",
        "cfn_one_shot/.DS_Store": "",
    }
    for function in build_lambda_zip.FUNCTIONS:
        files |= {
            f"{function}/app.py": "import sample_dep\n",
            f"{function}/app.pyc": "",
            f"{function}/bin/helper": "#!/bin/sh\n",  # the function's own: it ships
            f"{function}/requirements.txt": "# For the zip.\n\nsample-dep==1.0  # pinned\n",
        }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    monkeypatch.setattr(build_lambda_zip, "CUSTOM_RESOURCES", root)
    return root


def zip_names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


def without_dependencies(scratch: Path, function: str) -> None:
    """The function's requirements.txt pins nothing: its zip needs no pip run."""
    (scratch / function / "requirements.txt").write_text("# For the zip.\n")


def test_a_dependency_ships_its_code_data_and_licences_only_and_the_build_says_so(
    scratch, tmp_path, capsys
):
    output = tmp_path / "out.zip"

    assert build_lambda_zip.main(["--output", str(output)]) == 0

    # Not its stubs, py.typed, console script (bin/) or pip's metadata; nor the checkout's
    # caches, .DS_Store or requirements.txt. A bin/ of the function's own is shipped.
    assert zip_names(output) == [
        "app.py",
        "bin/helper",
        "cfn_one_shot/__init__.py",
        "sample_dep-1.0.dist-info/LICENSE",
        "sample_dep-1.0.dist-info/licenses/notice.txt",
        "sample_dep/__init__.py",
        "sample_dep/data.json",
    ]
    # Which zip, its size, its number of files and its sha256.
    data = output.read_bytes()
    printed = capsys.readouterr()
    assert printed.out == (
        f"{output}: {len(data)} bytes, {len(zip_names(output))} files, "
        f"sha256 {hashlib.sha256(data).hexdigest()}\n"
    )
    assert printed.err == ""


@pytest.mark.parametrize(
    ("function", "target_kb"), [("lambda_role_lookup", 64), ("mysql_user", 192)]
)
def test_a_zip_over_its_size_target_is_still_built_with_a_warning(
    scratch, tmp_path, capsys, function, target_kb
):
    """A data file (like mysql_user's CA bundle) that grows the zip past its target is shipped,
    and make build says so; a few KB under the target it stays quiet."""
    without_dependencies(scratch, function)
    output = tmp_path / "out.zip"
    data_file = scratch / function / "data.bin"
    for size, warned in ((target_kb * 1024 - 4096, False), (target_kb * 1024, True)):
        data_file.write_bytes(random.Random(size).randbytes(size))  # random bytes: no compression

        assert build_lambda_zip.main(["--function", function, "--output", str(output)]) == 0

        assert "data.bin" in zip_names(output)
        warning = f"warning: larger than the {target_kb} KB target\n"
        assert capsys.readouterr().err == (warning if warned else "")


def test_one_function_into_a_fresh_dist_folder(scratch, tmp_path):
    without_dependencies(scratch, "mysql_user")
    dist = tmp_path / "fresh" / "dist"

    assert build_lambda_zip.main(["--function", "mysql_user", "--dist", str(dist)]) == 0

    assert [path.name for path in dist.iterdir()] == ["mysql_user.zip"]


def test_a_module_both_in_the_function_and_in_a_dependency_is_refused(scratch, tmp_path, capsys):
    # Which one Lambda imports would depend on the order of the zip's entries.
    shadow = scratch / "lambda_role_lookup" / "sample_dep" / "__init__.py"
    shadow.parent.mkdir()
    shadow.write_text("")
    output = tmp_path / "out.zip"

    assert build_lambda_zip.main(["--output", str(output)]) == 1

    assert capsys.readouterr().err == (
        "build_lambda_zip: sample_dep/__init__.py is both"
        " custom_resources/lambda_role_lookup/sample_dep/__init__.py and a file of a dependency in"
        " custom_resources/lambda_role_lookup/requirements.txt, and Lambda would import whichever"
        " the zip lists first: rename that module, or drop the dependency.\n"
    )
    assert not output.exists()


@pytest.mark.parametrize("line", ["sample-dep", "sample-dep>=1.0", "sample-dep=="])
def test_a_dependency_not_pinned_exactly_is_refused(scratch, tmp_path, capsys, line):
    # A loose pin would make the zip's bytes depend on the day it is built.
    requirements = scratch / "lambda_role_lookup" / "requirements.txt"
    requirements.write_text(f"# For the zip.\n{line}\n")
    output = tmp_path / "out.zip"

    assert build_lambda_zip.main(["--output", str(output)]) == 1

    assert capsys.readouterr().err == (
        f"build_lambda_zip: {requirements}: pin every dependency exactly (name==version): {line}\n"
    )
    assert not output.exists()


def test_a_dependency_with_an_environment_marker_is_refused(scratch, tmp_path, capsys):
    # pip would judge the marker by the build machine's Python, not by Lambda's runtime.
    requirements = scratch / "lambda_role_lookup" / "requirements.txt"
    line = 'sample-dep==1.0; python_version >= "3.8"'
    requirements.write_text(f"{line}\n")
    output = tmp_path / "out.zip"

    assert build_lambda_zip.main(["--output", str(output)]) == 1

    assert capsys.readouterr().err == (
        f"build_lambda_zip: {requirements}: environment markers are not supported, as pip would"
        " judge them by the Python running the build, not Lambda's runtime; pin without one:"
        f" {line}\n"
    )
    assert not output.exists()


class HeldFile:
    """A zip entry whose reading waits for a signal: holds one build mid-write."""

    def __init__(self, data: bytes, reading: threading.Event, go_on: threading.Event):
        self.data, self.reading, self.go_on = data, reading, go_on

    def read_bytes(self) -> bytes:
        self.reading.set()
        assert self.go_on.wait(60), "the held build was never let go on"
        return self.data


def test_two_builds_of_one_zip_at_once_both_complete(tmp_path):
    # Parallel test workers (or make -j) each run `make build`: a build that finishes while
    # another is mid-write must not take the other's half-written file, or rename it away.
    output = tmp_path / "dist" / "function.zip"
    reading, go_on = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def held_build():
        try:
            build_lambda_zip.write_zip({"app.py": HeldFile(b"held = 1\n", reading, go_on)}, output)
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    first = threading.Thread(target=held_build)
    first.start()
    assert reading.wait(60), "the first build never started writing"
    source = tmp_path / "app.py"
    source.write_bytes(b"second = 2\n")
    build_lambda_zip.write_zip(
        {"app.py": source}, output
    )  # the second build, while the first writes
    go_on.set()
    first.join(60)

    assert not errors, errors
    with zipfile.ZipFile(output) as archive:  # a whole zip: the last build's
        assert archive.read("app.py") == b"held = 1\n"
    assert [path.name for path in output.parent.iterdir()] == ["function.zip"]  # no leftovers
    assert output.stat().st_mode & 0o777 == 0o666 & ~build_lambda_zip.current_umask()
