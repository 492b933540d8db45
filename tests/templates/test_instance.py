"""The test (bootstrap) instance: reachable only through Session Manager, IMDSv2, least privilege,
no password on a command line, and a cfn-signal that reports the bootstrap's real exit status."""

import json
import re
import shlex
import stat
import subprocess
from pathlib import Path

import pytest

from tests.helpers.bootstrap_files import INSTANCE_DIRECTORIES, install_cfn_init_files, relocate
from tests.helpers.cfn_templates import (
    TEMPLATES,
    Context,
    cfn_init_files,
    evaluate,
    load,
    properties,
    resources,
    the_resource,
    user_data,
)

INSTANCE_ENDPOINTS = {"ssm", "ssmmessages", "ec2messages", "cloudformation"}
WRITER = "/opt/rotation-demo/write_credentials.py"
BOOTSTRAP = "/opt/rotation-demo/bootstrap.sh"
SECRET = {
    "engine": "mysql",
    "username": "appuser",
    "password": "Abc-def_12.3+4=5,6^7xyzXYZ",
    "host": "demo.cluster-abc.us-east-1.rds.amazonaws.com",
    "port": 3306,
}


def launch_data(template: dict) -> dict:
    _, launch_template = the_resource(template, "AWS::EC2::LaunchTemplate")
    return launch_template["Properties"]["LaunchTemplateData"]


def test_instance_requires_imdsv2_and_has_no_public_address(template):
    data = launch_data(template)
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    (interface,) = data["NetworkInterfaces"]
    assert interface["AssociatePublicIpAddress"] is False
    assert interface["SubnetId"] == {"Ref": "PrivateSubnetA"}
    assert interface["Groups"] == [{"Fn::GetAtt": ["TestInstanceSecurityGroup", "GroupId"]}]
    (volume,) = data["BlockDeviceMappings"]
    assert volume["Ebs"]["Encrypted"] is True
    assert "KeyName" not in data


def test_instance_types_match_the_arm64_image(template):
    parameters = template["Parameters"]
    assert all(kind.startswith("t4g.") for kind in parameters["TestInstanceType"]["AllowedValues"])
    assert "arm64" in parameters["TestInstanceImageId"]["Description"]


def test_instance_waits_for_its_own_signal(template):
    instance = template["Resources"]["TestInstance"]
    assert instance["CreationPolicy"]["ResourceSignal"]["Count"] == 1
    assert instance["Properties"]["LaunchTemplate"]["Version"] == {
        "Fn::GetAtt": ["TestInstanceLaunchTemplate", "LatestVersionNumber"]
    }


def test_instance_role_reads_only_this_stacks_secrets(template):
    role = properties(template, "TestInstanceRole")
    assert role["ManagedPolicyArns"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"}
    ]
    (statement,) = [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]
    assert statement["Action"] == "secretsmanager:GetSecretValue"
    resources_named = (
        statement["Resource"]
        if isinstance(statement["Resource"], list)
        else [statement["Resource"]]
    )
    assert resources_named == [
        {"Ref": name} for name in resources(template, "AWS::SecretsManager::Secret")
    ]


# The VPC endpoints each template keeps without the instance: Secrets Manager for rotation, and
# in the multi-user template S3 for Custom::MySQLUser's answer to CloudFormation.
ALWAYS_NEEDED_ENDPOINTS = {
    "single-user": {"secretsmanager"},
    "multi-user": {"secretsmanager", "s3"},
}
# What the S3 gateway endpoint admits, by statement: dnf's reads of the Amazon Linux repositories
# and, where a custom resource runs in the VPC, the PUT of its response.
REPOSITORY_READS = {
    "Effect": "Allow",
    "Principal": "*",
    "Action": "s3:GetObject",
    "Resource": {"Fn::Sub": "arn:${AWS::Partition}:s3:::al2023-repos-${AWS::Region}-de612dc2/*"},
}
RESPONSE_PUTS = {
    "Effect": "Allow",
    "Principal": "*",
    "Action": "s3:PutObject",
    "Resource": {
        "Fn::Sub": [
            "arn:${AWS::Partition}:s3:::cloudformation-custom-resource-response-${Region}/*",
            {"Region": {"Fn::Join": ["", {"Fn::Split": ["-", {"Ref": "AWS::Region"}]}]}},
        ]
    },
}


@pytest.mark.parametrize("variant", sorted(TEMPLATES))
def test_instance_endpoints_and_s3_policy_admit_only_what_the_stack_needs(variant):
    template = load(TEMPLATES[variant])
    endpoints = resources(template, "AWS::EC2::VPCEndpoint")
    services = {
        body["Properties"]["ServiceName"]["Fn::Sub"].split(".")[-1] for body in endpoints.values()
    }
    assert INSTANCE_ENDPOINTS | {"secretsmanager", "s3"} == services
    statements = properties(template, "S3GatewayEndpoint")["PolicyDocument"]["Statement"]
    expected = [REPOSITORY_READS] if variant == "single-user" else [RESPONSE_PUTS, REPOSITORY_READS]
    assert [{k: v for k, v in s.items() if k != "Sid"} for s in statements] == expected


def test_response_bucket_name_is_the_region_without_dashes():
    context = Context(load(TEMPLATES["multi-user"]), **{"AWS::Region": "ap-southeast-2"})
    assert evaluate(RESPONSE_PUTS["Resource"], context) == (
        "arn:aws:s3:::cloudformation-custom-resource-response-apsoutheast2/*"
    )


@pytest.mark.parametrize("variant", sorted(TEMPLATES))
def test_instance_and_its_endpoints_are_optional(variant):
    template = load(TEMPLATES[variant])
    for name, body in template["Resources"].items():
        if (
            name.startswith("TestInstance")
            and body["Type"] != "AWS::CloudFormation::WaitConditionHandle"
        ):
            assert body["Condition"] == "CreateTestInstance", name
    for body in resources(template, "AWS::EC2::VPCEndpoint").values():
        service = body["Properties"]["ServiceName"]["Fn::Sub"].split(".")[-1]
        assert ("Condition" in body) == (service not in ALWAYS_NEEDED_ENDPOINTS[variant]), service
    assert template["Outputs"]["TestInstanceId"]["Condition"] == "CreateTestInstance"


def test_both_templates_ship_the_same_credentials_writer():
    single, multi = (
        cfn_init_files(load(TEMPLATES[name]), "TestInstance")[WRITER] for name in sorted(TEMPLATES)
    )
    assert single == multi


# ------------------------------------------------------------------ no password on a command line
def commands(script: str) -> list[list[str]]:
    """Each simple command of a script, continuation lines joined, comments dropped."""
    joined = script.replace("\\\n", " ")
    found = []
    for line in joined.splitlines():
        for part in line.split("|"):
            words = shlex.split(part, comments=True)
            if words:
                found.append(words)
    return found


def scripts_of(template: dict) -> dict[str, str]:
    context = Context(template, AdminSecret="arn:admin", AppSecret="arn:app")
    texts = {"UserData": user_data(template, context)}
    for path, spec in cfn_init_files(template, "TestInstance").items():
        if path.endswith(".sh"):
            texts[path] = evaluate(spec["content"], context)
    return texts


def test_database_clients_read_credentials_only_from_option_files(template):
    for name, script in scripts_of(template).items():
        for words in commands(script):
            if words[0] in {"mariadb", "mysql"}:
                assert words[1].startswith("--defaults-extra-file="), (name, words)
                assert not any(word.startswith(("-p", "--password")) for word in words), (
                    name,
                    words,
                )


def test_secret_values_are_never_captured_into_shell_variables(template):
    # Secrets travel only from `aws secretsmanager get-secret-value` through a pipe into the
    # writer; no command substitution can turn them into arguments.
    for name, script in scripts_of(template).items():
        unquoted = re.sub(r"'[^']*'", "''", script)  # backticks in single quotes are SQL
        assert "$(" not in unquoted, name
        assert "`" not in unquoted, name
        for words in commands(script):
            assert not any(word.startswith("--secret-string") for word in words), (name, words)


# ------------------------------------------------------------------ the credentials writer
@pytest.fixture
def writer(tmp_path) -> Path:
    template = load(TEMPLATES["multi-user"])
    installed = install_cfn_init_files(
        template, Context(template, AdminSecret="a", AppSecret="b"), tmp_path
    )
    return installed[WRITER]


def run_writer(
    writer: Path, kind: str, target: Path, secret: dict, *ca_file: Path
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(writer), kind, str(target), *map(str, ca_file)],
        input=json.dumps(secret),
        capture_output=True,
        text=True,
        check=False,
    )


def test_writer_makes_a_root_only_client_option_file_and_prints_nothing(writer, tmp_path):
    target = tmp_path / "admin.cnf"
    target.write_text("stale")
    target.chmod(0o644)
    result = run_writer(writer, "client", target, SECRET)
    assert result.returncode == 0, result.stderr
    assert (result.stdout, result.stderr) == ("", "")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_text().splitlines() == [
        "[client]",
        'user="appuser"',
        f'password="{SECRET["password"]}"',
        f'host="{SECRET["host"]}"',
        "port=3306",
        "ssl",
    ]


def test_writer_verifies_the_server_only_with_a_ca_bundle_that_exists(writer, tmp_path):
    target = tmp_path / "admin.cnf"
    missing = tmp_path / "no-bundle.pem"
    assert run_writer(writer, "client", target, SECRET, missing).returncode == 0
    assert "ssl-verify-server-cert" not in target.read_text()
    bundle = tmp_path / "rds-ca-bundle.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert run_writer(writer, "client", target, SECRET, bundle).returncode == 0
    assert target.read_text().splitlines()[-3:] == [
        "ssl",
        f'ssl-ca="{bundle}"',
        "ssl-verify-server-cert",
    ]


def test_writer_makes_only_client_option_files(writer, tmp_path):
    # The SQL password file of the old bootstrap is gone with the SQL: Custom::MySQLUser
    # creates the user, and nothing else may write a password outside an option file.
    target = tmp_path / "password.sql"
    result = run_writer(writer, "sql-password", target, SECRET)
    assert result.returncode != 0
    assert SECRET["password"] not in result.stdout + result.stderr
    assert not target.exists()


@pytest.mark.parametrize("bad", ["quote'inside", 'double"quote', "back\\slash", "new\nline"])
def test_writer_refuses_a_password_that_would_break_quoting_without_showing_it(
    writer, tmp_path, bad
):
    target = tmp_path / "admin.cnf"
    result = run_writer(writer, "client", target, {**SECRET, "password": bad})
    assert result.returncode != 0
    assert bad not in result.stdout + result.stderr
    assert "rotate" in result.stderr
    assert not target.exists()


# ------------------------------------------------------------ UserData reports the real status
FAKE = """#!/bin/bash
printf '%s %s\\n' "$(basename "$0")" "$*" >> "$CALLS"
{extra}
exit "${{FAKE_EXIT_{var}:-0}}"
"""


def install_fake(directory: Path, name: str, extra: str = "") -> None:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(FAKE.format(extra=extra, var=name.replace("-", "_").replace(".", "_")))
    path.chmod(0o755)


def run_user_data(
    variant: str,
    tmp_path: Path,
    exits: dict[str, int],
    *,
    cfn_signal: bool = True,
    **parameters: str,
) -> tuple[int, list[str]]:
    """Run the template's UserData with fakes for dnf, cfn-init, cfn-signal, shutdown and the
    bootstrap script; returns the exit status and the calls made, in order."""
    template = load(TEMPLATES[variant])
    script = relocate(user_data(template, Context(template, **parameters)), tmp_path)
    fakes = tmp_path / "fake-bin"
    dualstack = tmp_path / "etc/dnf/vars/dualstack"
    dualstack.parent.mkdir(parents=True)
    dualstack.write_text(".dualstack")
    install_fake(fakes, "dnf", extra=f'echo "dualstack=[$(cat {dualstack})]" >> "$CALLS"')
    install_fake(fakes, "shutdown")
    install_fake(tmp_path / "opt/aws/bin", "cfn-init")
    if cfn_signal:
        install_fake(tmp_path / "opt/aws/bin", "cfn-signal")
    install_fake(tmp_path / "opt/rotation-demo", "bootstrap.sh")
    calls = tmp_path / "calls.log"
    calls.touch()
    env = {
        "PATH": f"{fakes}:/usr/bin:/bin",
        "CALLS": str(calls),
        **{
            f"FAKE_EXIT_{name.replace('-', '_').replace('.', '_')}": str(code)
            for name, code in exits.items()
        },
    }
    (tmp_path / "user-data.sh").write_text(script)
    result = subprocess.run(
        ["bash", str(tmp_path / "user-data.sh")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode, calls.read_text().splitlines()


def signals(calls: list[str]) -> list[str]:
    return [call for call in calls if call.startswith("cfn-signal")]


def test_harness_relocates_every_path_the_user_data_touches(template):
    # The UserData tests below move these directories under a temporary root; a path outside
    # them would make those tests touch the machine running them.
    for words in commands(user_data(template, Context(template))):
        for word in words:
            if word.startswith("/"):
                assert word.startswith(INSTANCE_DIRECTORIES), word


@pytest.mark.parametrize("variant", sorted(TEMPLATES))
@pytest.mark.parametrize("failing", ["dnf", "cfn-init", "bootstrap.sh"])
def test_a_failing_step_fails_the_stack_with_its_status(tmp_path, variant, failing):
    status, calls = run_user_data(variant, tmp_path, {failing: 7})
    assert status == 7
    (signal,) = signals(calls)
    assert "--exit-code 7 " in signal
    assert calls[-1].startswith("cfn-signal"), (
        "nothing may run after the failing step but the signal"
    )
    assert not [call for call in calls if call.startswith("shutdown")]


@pytest.mark.parametrize("variant", sorted(TEMPLATES))
def test_success_signals_zero_for_the_instance_resource(tmp_path, variant):
    status, calls = run_user_data(variant, tmp_path, {})
    assert status == 0
    (signal,) = signals(calls)
    words = signal.split()
    assert words[words.index("--exit-code") + 1] == "0"
    assert words[words.index("--stack") + 1] == "rotation-demo"
    assert words[words.index("--resource") + 1] == "TestInstance"
    assert words[words.index("--region") + 1] == "us-east-1"
    assert [call.split()[0] for call in calls] == [
        "dnf",
        "dualstack=[]",
        "cfn-init",
        "bootstrap.sh",
        "cfn-signal",
    ]
    assert "aws-cfn-bootstrap" in calls[0]
    assert "mariadb105" in calls[0]


def test_a_failure_before_cfn_signal_is_installed_still_exits_with_its_status(tmp_path):
    status, calls = run_user_data("single-user", tmp_path, {"dnf": 5}, cfn_signal=False)
    assert status == 5
    assert not signals(calls)


@pytest.mark.parametrize(
    ("stop", "exits", "stopped"),
    [("true", {}, True), ("true", {"bootstrap.sh": 3}, False), ("false", {}, False)],
)
def test_instance_stops_itself_only_after_a_successful_bootstrap_when_asked(
    tmp_path, stop, exits, stopped
):
    _, calls = run_user_data("multi-user", tmp_path, exits, StopInstanceAfterBootstrap=stop)
    shutdowns = [call for call in calls if call.startswith("shutdown")]
    assert bool(shutdowns) == stopped
    if stopped:
        assert calls.index(shutdowns[0]) > calls.index(signals(calls)[0]), (
            "stop only after signalling"
        )
        assert "-h" in shutdowns[0].split()
        assert "-r" not in shutdowns[0].split()


def test_bootstrap_files_are_root_only(template):
    for path, spec in cfn_init_files(template, "TestInstance").items():
        assert (spec["owner"], spec["group"]) == ("root", "root"), path
        assert int(spec["mode"], 8) & 0o077 == 0, path
