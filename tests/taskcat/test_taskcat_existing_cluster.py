"""The taskcat tests of templates/mysql-rotation-existing-cluster.yaml: a fixture stack builds an
Aurora cluster the way users already have one and nests the template (taskcat cannot hand one
test's outputs to another), once per kind of admin secret. Checked offline: taskcat's own loader,
cfn-lint, and the nested stack's parameters evaluated and judged by the template's own
constraints and Rules."""

from __future__ import annotations

import re

import pytest
from cfnlint.config import ConfigMixIn
from cfnlint.runner import Runner

from tests.helpers.cfn_templates import Context, evaluate, load, rule_violations
from tests.taskcat.nested import nested_stacks
from tests.taskcat.taskcat_loader import (
    EXISTING_CLUSTER_FIXTURE,
    EXISTING_CLUSTER_TEMPLATE,
    REPO,
    UPLOADED,
)

TEMPLATE = EXISTING_CLUSTER_TEMPLATE
FIXTURE = EXISTING_CLUSTER_FIXTURE
CODE = ("dist/lambda_role_lookup.zip", "dist/mysql_user.zip")
PROJECT = "aurora-mysql-rotation"
REGION = "eu-north-1"
BUCKET = "tcat-aurora-mysql-rotation-abcd1234"
# What taskcat substitutes for its pseudo-parameters, in one Region.
TASKCAT_VALUES = {
    "$[taskcat_autobucket]": BUCKET,
    "$[taskcat_project_name]": PROJECT,
    "$[taskcat_genaz_2]": f"{REGION}a,{REGION}b",
}
# What the fixture's resources return once created.
FIXTURE_VALUES = {
    "AWS::Region": REGION,
    "DatabaseCluster": "tcat-existing-rds-databasecluster-abc123",
    "DatabaseCluster.Endpoint.Address": (
        f"tcat-existing-rds-databasecluster-abc123.cluster-c0ffee.{REGION}.rds.amazonaws.com"
    ),
    "DatabaseCluster.Endpoint.Port": "3306",
    "DatabaseCluster.MasterUserSecret.SecretArn": (
        f"arn:aws:secretsmanager:{REGION}:123456789012:secret:rds!cluster-0a1b2c-AbCdEf"
    ),
    "AdminSecret": f"arn:aws:secretsmanager:{REGION}:123456789012:secret:AdminSecret-AbCdEf",
    "AdminSecretKey.Arn": f"arn:aws:kms:{REGION}:123456789012:key/1234abcd-12ab-34cd-56ef-12",
    "Vpc": "vpc-0123456789abcdef0",
    "SubnetA": "subnet-0aaaaaaaaaaaaaaaa",
    "SubnetB": "subnet-0bbbbbbbbbbbbbbbb",
    "DatabaseSecurityGroup.GroupId": "sg-0dddddddddddddddd",
}


@pytest.fixture(scope="module")
def fixture_tests(config) -> dict[str, dict]:
    found = {name: test for name, test in config["tests"].items() if test["template"] == FIXTURE}
    assert found, f"no taskcat test deploys {FIXTURE}"
    return found


def resolved(parameters: dict[str, str]) -> dict[str, str]:
    """The test's parameters with taskcat's pseudo-parameters substituted."""
    out = {}
    for name, given in parameters.items():
        value = given
        for placeholder, replacement in TASKCAT_VALUES.items():
            value = value.replace(placeholder, replacement)
        assert "$[" not in value, f"{name}: no offline value for {given}"
        out[name] = value
    return out


def nested_parameters(test: dict) -> dict[str, str]:
    fixture = load(REPO / FIXTURE)
    context = Context(fixture, **resolved(test["parameters"]), **FIXTURE_VALUES)
    return evaluate(fixture["Resources"]["Rotation"]["Properties"]["Parameters"], context)


def test_the_fixture_nests_the_template_from_where_taskcat_uploads_it(config, fixture_tests):
    assert nested_stacks(FIXTURE) == {"Rotation": TEMPLATE}
    assert {FIXTURE, TEMPLATE, *CODE} <= set(UPLOADED)  # the paths the loader checked
    for name in (FIXTURE, TEMPLATE, *CODE):
        assert config["uploaded"][name], f"taskcat's upload would skip {name}"
    fixture = load(REPO / FIXTURE)
    for test in fixture_tests.values():
        context = Context(fixture, **resolved(test["parameters"]), **FIXTURE_VALUES)
        url = evaluate(fixture["Resources"]["Rotation"]["Properties"]["TemplateURL"], context)
        # taskcat uploads the project to s3://<autobucket>/<project name>/ in each Region.
        assert url == f"https://{BUCKET}.s3.{REGION}.amazonaws.com/{PROJECT}/{TEMPLATE}"


def test_code_keys_point_at_the_builds_taskcat_uploads(fixture_tests):
    for test in fixture_tests.values():
        given = resolved(test["parameters"])
        assert given["RoleLookupCodeS3Bucket"] == BUCKET
        assert given["RoleLookupCodeS3Key"] == f"{PROJECT}/{CODE[0]}"
        assert given["MySQLUserCodeS3Key"] == f"{PROJECT}/{CODE[1]}"


def test_tests_cover_both_admin_secret_kinds_and_both_keys(fixture_tests):
    covered = {
        (test["parameters"]["AdminSecretKind"], test["parameters"]["AdminSecretCustomerKey"])
        for test in fixture_tests.values()
    }
    assert {kind for kind, _ in covered} == {"self-managed", "rds-managed"}
    assert {key for _, key in covered} == {"true", "false"}


def test_nested_stack_gets_values_the_template_accepts(fixture_tests):
    template = load(REPO / TEMPLATE)
    declared = template["Parameters"]
    for name, test in fixture_tests.items():
        given = nested_parameters(test)
        assert set(given) <= set(declared), f"{name}: unknown {set(given) - set(declared)}"
        required = {p for p, spec in declared.items() if "Default" not in spec}
        assert required <= set(given), f"{name}: missing {required - set(given)}"
        for parameter, value in given.items():
            spec = declared[parameter]
            if "AllowedValues" in spec:
                assert value in [str(v) for v in spec["AllowedValues"]], (name, parameter)
            if "AllowedPattern" in spec and not parameter.endswith("Ids"):
                assert re.fullmatch(spec["AllowedPattern"], value), (name, parameter, value)
        subnets = given["SubnetIds"].split(",")
        assert all(re.fullmatch(declared["SubnetIds"]["AllowedPattern"], s) for s in subnets)
        assert not rule_violations(template, **{**given, "SubnetIds": subnets}), name


def test_rds_managed_test_relies_on_the_default_rds_endpoint_and_leaves_the_policy(fixture_tests):
    for name, test in fixture_tests.items():
        given = nested_parameters(test)
        rds_managed = given["AdminSecretKind"] == "rds-managed"
        # The default (auto) creates the RDS endpoint for an rds-managed secret: the AWS run
        # proves the defaults rotate in a VPC without a way out.
        assert "CreateRdsEndpoint" not in given, name
        # DatabaseName must exist (the rotation logs in to it): the cluster is made with it, or
        # the nested stack creates it.
        assert "DatabaseName" not in given, name
        assert given["CreateDatabase"] == str(rds_managed).lower(), name
        fixture = load(REPO / FIXTURE)
        context = Context(fixture, **resolved(test["parameters"]), **FIXTURE_VALUES)
        cluster = fixture["Resources"]["DatabaseCluster"]["Properties"]
        made = evaluate(cluster["DatabaseName"], context)
        default = load(REPO / TEMPLATE)["Parameters"]["DatabaseName"]["Default"]
        assert made == (None if rds_managed else default), name  # None: AWS::NoValue
        assert given["ManageAdminSecretPolicy"] == str(not rds_managed).lower(), name
        # The fixture's VPC has no way out: the nested stack must bring its own endpoint.
        assert given["CreateSecretsManagerEndpoint"] == "true", name


def test_fixture_lints_clean(monkeypatch):
    # `cfn-lint --include-checks I -- <fixture>` in the repository (its .cfnlintrc read), run in
    # this process: cfn-lint's CLI exits 0 exactly when this finds nothing.
    monkeypatch.chdir(REPO)
    runner = Runner(ConfigMixIn(["--include-checks", "I", "--", FIXTURE]))
    assert "ER101" in runner.rules  # .cfnlintrc appended the rule pack
    assert [str(match) for match in runner.run()] == []
