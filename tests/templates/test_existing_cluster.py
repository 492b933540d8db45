"""templates/mysql-rotation-existing-cluster.yaml: the template tests the other two templates pass
where they apply (imported below and run against this template), and what is its own: the
application secret's contract, Custom::MySQLUser, the role lookup, the transform's inputs and the
order of the first rotation."""

import json
import re
import string
import subprocess

import boto3
import pytest
from moto import mock_aws

from tests.helpers.cfn_templates import (
    EXISTING_CLUSTER,
    MULTI_USER,
    REPO,
    SINGLE_USER,
    Context,
    all_dependencies,
    evaluate,
    exclude_characters,
    load,
    properties,
    resources,
    rule_violations,
)
from tests.templates import test_network, test_parameters, test_rotation

REGION = "eu-west-1"
ACCOUNT = "123456789012"
ADMIN_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rds!cluster-0a1b2c-AbCdEf"
APP_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:AppSecret-XyZ123"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ENDPOINT = "orders.cluster-c0ffee.eu-west-1.rds.amazonaws.com"
# What a deployer must give: the existing cluster, its network and its admin secret.
REQUIRED = {
    "ClusterIdentifier": "orders",
    "ClusterEndpoint": ENDPOINT,
    "AdminSecretArn": ADMIN_ARN,
    "VpcId": "vpc-0123456789abcdef0",
    "SubnetIds": ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
    "DatabaseSecurityGroupId": "sg-0dddddddddddddddd",
    "RoleLookupCodeS3Bucket": "artifacts-eu-west-1",
    "RoleLookupCodeS3Key": "lambda_role_lookup/0123.zip",
    "MySQLUserCodeS3Key": "mysql_user/4567.zip",
}
RESOURCE_VALUES = {
    "AppSecret": APP_ARN,
    "AWS::Region": REGION,
    "RotationSecurityGroup.GroupId": "sg-0rrrrrrrrrrrrrrrr",
    "MySQLUserSecurityGroup.GroupId": "sg-0uuuuuuuuuuuuuuuu",
    "MySQLUserFunction.Arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:user",
    "AdminSecretKeyForRotation.Value": KEY_ARN,
}
ALLOWED_IN_HOSTED_ROTATION = {"Ref", "Fn::GetAtt", "Fn::Join", "Fn::Sub"}


@pytest.fixture
def template() -> dict:
    """This template, for the generic tests imported below."""
    return load(EXISTING_CLUSTER)


def context(template: dict, **parameters) -> Context:
    return Context(template, **{**REQUIRED, **RESOURCE_VALUES, **parameters})


# ---------------------------------------------------------------- what all three templates pass
test_every_parameter_is_described_and_constrained = (
    test_parameters.test_every_parameter_is_described_and_constrained
)
test_defaults_pass_their_own_constraints = test_parameters.test_defaults_pass_their_own_constraints
test_console_groups_and_labels_every_parameter_once = (
    test_parameters.test_console_groups_and_labels_every_parameter_once
)
test_names_that_must_exist_derive_from_the_stack_name = (
    test_parameters.test_names_that_must_exist_derive_from_the_stack_name
)
test_description_states_the_longest_stack_name_the_function_names_allow = (
    test_parameters.test_description_states_the_longest_stack_name_the_function_names_allow
)
test_rotation_schedules_accept_only_what_secrets_manager_accepts = (
    test_parameters.test_rotation_schedules_accept_only_what_secrets_manager_accepts
)
test_transform_keeps_hosted_functions_upgraded = (
    test_rotation.test_transform_keeps_hosted_functions_upgraded
)
test_exclude_list_suits_rds_and_quoting_but_leaves_every_class = (
    test_rotation.test_exclude_list_suits_rds_and_quoting_but_leaves_every_class
)
test_unconditional_resources_depend_on_no_conditional_resource = (
    test_rotation.test_unconditional_resources_depend_on_no_conditional_resource
)
test_security_groups_have_no_inline_rules_but_the_egress_placeholder = (
    test_network.test_security_groups_have_no_inline_rules_but_the_egress_placeholder
)
test_nothing_is_reachable_from_an_address_range = (
    test_network.test_nothing_is_reachable_from_an_address_range
)
test_every_rule_says_why = test_network.test_every_rule_says_why


def test_no_fixed_physical_names_but_the_log_group_lambda_writes_to(template):
    # Lambda writes to /aws/lambda/<function name>: the template creates exactly that group (so it
    # has retention and goes with the stack), named after the stack like the function.
    named = {
        name: body["Properties"]["LogGroupName"]
        for name, body in resources(template, "AWS::Logs::LogGroup").items()
        if "LogGroupName" in body["Properties"]
    }
    schedule = properties(template, "AppSecretRotation")["HostedRotationLambda"]
    assert named == {
        "AppRotationLogGroup": {
            "Fn::Sub": "/aws/lambda/" + schedule["RotationLambdaName"]["Fn::Sub"]
        }
    }
    test_parameters.test_two_stacks_never_collide_on_a_physical_name(template)


# cfn-lint (with .cfnlintrc: informational checks, the rule pack) lints this template in
# test_cfn_lint.py, in one process with the others.
@pytest.mark.slow
def test_checkov_passes_and_every_skip_says_why(template):
    checkov = REPO / ".venv-checkov" / "bin" / "checkov"
    if not checkov.exists():
        pytest.fail("checkov's virtualenv is missing: run 'make .venv-checkov/.installed'")
    result = subprocess.run(
        [str(checkov), "--quiet", "--compact", "--framework", "cloudformation",
         "--skip-download", "--output", "json", "--file", str(EXISTING_CLUSTER)],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    report = json.loads(result.stdout)
    assert report["summary"]["failed"] == 0, result.stdout
    for body in template["Resources"].values():
        for skip in body.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert len(skip["comment"].split()) >= 8, skip


# ---------------------------------------------------------------- parameters and rules
def test_only_the_existing_cluster_and_the_code_location_must_be_given(template):
    required = {name for name, spec in template["Parameters"].items() if "Default" not in spec}
    assert required == set(REQUIRED)


@pytest.mark.parametrize(
    ("name", "accepted", "refused"),
    [
        ("ClusterIdentifier", ["orders", "a", "orders-prod-1"], ["1orders", "orders-", "a--b", ""]),
        (
            "ClusterEndpoint",
            [ENDPOINT, "orders-1.cluster-c0ffee.cn-north-1.rds.amazonaws.com.cn"],
            [
                "orders.cluster-ro-c0ffee.eu-west-1.rds.amazonaws.com",
                "orders.cluster-custom-c0ffee.eu-west-1.rds.amazonaws.com",
                "orders-instance-1.c0ffee.eu-west-1.rds.amazonaws.com",
                "db.orders.internal",
                "Orders.cluster-c0ffee.eu-west-1.rds.amazonaws.com",
            ],
        ),
        (
            "AdminSecretArn",
            [ADMIN_ARN, "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:x-AbCdEf"],
            [
                "rds!cluster-0a1b2c",
                "arn:aws:secretsmanager:eu-west-1:1234:secret:x-AbCdEf",
                "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders-admin",
            ],
        ),
        ("AdminSecretKmsKeyArn", ["", KEY_ARN], ["alias/aws/secretsmanager", "1234abcd"]),
        ("RotationAlarmEmail", ["", "ops@example.com"], ["ops", "ops@example", "a b@c.d"]),
        ("AppUsername", ["appuser", "a_1"], ["app-user", "1app", "app'user", "abcdefghijk"]),
    ],
)
def test_parameters_accept_what_aws_names_and_refuse_typos(template, name, accepted, refused):
    spec = template["Parameters"][name]
    pattern = spec["AllowedPattern"]
    for value in accepted:
        assert re.fullmatch(pattern, value), value
    for value in refused:
        too_long = len(value) > spec.get("MaxLength", 10**6)
        assert too_long or not re.fullmatch(pattern, value), value


def test_app_username_leaves_room_for_the_clone_suffix(template):
    username = template["Parameters"]["AppUsername"]
    assert len("u" * username["MaxLength"] + "_clone") <= 16
    assert "_clone" in username["ConstraintDescription"]


@pytest.mark.parametrize(
    "parameters",
    [
        {"AppUsername": "rdsadmin"},
        {"DatabaseName": "mysql"},
        {"DatabaseName": "performance_schema"},
        {"AdminSecretKind": "rds-managed", "ManageAdminSecretPolicy": "true"},
    ],
)
def test_rules_refuse_what_would_fail_later(template, parameters):
    assert rule_violations(template, **{**REQUIRED, **parameters})


def test_rules_pass_the_defaults_and_every_admin_secret_kind(template):
    assert not rule_violations(template, **REQUIRED)
    assert not rule_violations(template, **REQUIRED, AdminSecretKind="rds-managed")
    assert not rule_violations(template, **REQUIRED, ManageAdminSecretPolicy="true")


# ---------------------------------------------------------------- the application secret
@mock_aws
def test_app_secret_carries_what_the_alternating_users_function_reads(template):
    generate = properties(template, "AppSecret")["GenerateSecretString"]
    secret = json.loads(evaluate(generate["SecretStringTemplate"], context(template)))
    client = boto3.client("secretsmanager", region_name=REGION)
    exclude = exclude_characters(template)
    secret[generate["GenerateStringKey"]] = client.get_random_password(
        PasswordLength=generate["PasswordLength"],
        ExcludeCharacters=exclude,
        RequireEachIncludedType=generate["RequireEachIncludedType"],
    )["RandomPassword"]
    # No SecretTargetAttachment adds host and port here: the template must write them itself.
    assert not resources(template, "AWS::SecretsManager::SecretTargetAttachment")
    assert secret["engine"] == "mysql"
    assert secret["host"] == ENDPOINT
    assert secret["port"] == 3306  # a JSON number, as the attachment would write it
    assert secret["username"] == "appuser"
    assert secret["dbname"] == "appdb"
    assert secret["masterarn"] == ADMIN_ARN
    # TLS is the cluster's require_secure_transport, as in the other templates: a key here could
    # never change without regenerating the secret.
    assert "ssl" not in secret
    assert not set(secret["password"]) & set(exclude)
    assert len(secret["password"]) == 32


def test_rotation_excludes_exactly_what_the_generated_password_excludes(template):
    # exclude_characters asserts the secret's and the rotation's copies are one value.
    mapping = exclude_characters(template)
    for name, characters in {
        "lowercase": string.ascii_lowercase,
        "uppercase": string.ascii_uppercase,
        "digits": string.digits,
        "punctuation": string.punctuation,
    }.items():
        assert set(characters) - set(mapping), name


def intrinsic_names(node) -> set[str]:
    if isinstance(node, list):
        return set().union(*map(intrinsic_names, node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found = {key for key in node if key == "Ref" or key.startswith(("Fn::", "Condition"))}
    return found.union(*map(intrinsic_names, node.values()))


def test_hosted_rotation_gets_only_intrinsics_the_transform_is_known_to_pass_on(template):
    hosted = properties(template, "AppSecretRotation")["HostedRotationLambda"]
    assert intrinsic_names(hosted) <= ALLOWED_IN_HOSTED_ROTATION
    assert hosted["RotationType"] == "MySQLMultiUser"
    assert hosted["MasterSecretArn"] == {"Ref": "AdminSecretArn"}
    assert evaluate(hosted["VpcSubnetIds"], context(template)) == ",".join(REQUIRED["SubnetIds"])
    assert hosted["VpcSecurityGroupIds"] == {"Fn::GetAtt": ["RotationSecurityGroup", "GroupId"]}


# ---------------------------------------------------------------- Custom::MySQLUser
def test_app_user_is_created_from_the_two_secrets_with_the_chosen_grants_only(template):
    (name, user) = next(iter(resources(template, "Custom::MySQLUser").items()))
    evaluated = context(template, AppPrivileges="SELECT,INSERT,UPDATE,DELETE")
    given = evaluate(user["Properties"], evaluated)
    # What tells an Update that CloudFormation generated the secret anew: its own block.
    assert given.pop("AppSecretGeneration") == evaluate(
        properties(template, "AppSecret")["GenerateSecretString"], evaluated
    )
    assert given == {
        "ServiceToken": RESOURCE_VALUES["MySQLUserFunction.Arn"],
        "ServiceTimeout": "300",
        "AdminSecretArn": ADMIN_ARN,
        "AppSecretArn": APP_ARN,
        "Host": ENDPOINT,
        "Port": "3306",
        "Grants": [
            {
                "Privileges": ["SELECT", "INSERT", "UPDATE", "DELETE"],
                "Database": "appdb",
                "Table": "*",
            }
        ],
        "CreateDatabase": "false",
        "DemoSchema": "false",
        # The cluster always outlives this stack: its user stays unless asked otherwise.
        "RetainOnDelete": "true",
        # An existing user (one a deleted or rolled-back stack kept) only when asked.
        "AdoptExistingUser": "false",
    }
    assert template["Parameters"]["AppPrivileges"]["Default"] == "SELECT"
    for choice in template["Parameters"]["AppPrivileges"]["AllowedValues"]:
        privileges = choice.split(",")
        assert "GRANT OPTION" not in privileges, choice
        assert "ALL" not in privileges, choice
    assert template["Outputs"]["AppUsername"]["Value"] == {"Fn::GetAtt": [name, "Username"]}


def statements(role: dict) -> list[dict]:
    return [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]


def test_user_function_runs_in_the_cluster_subnets_with_its_own_group(template):
    function = properties(template, "MySQLUserFunction")
    assert function["Handler"] == "app.handler"
    assert function["Code"] == {
        "S3Bucket": {"Ref": "RoleLookupCodeS3Bucket"},
        "S3Key": {"Ref": "MySQLUserCodeS3Key"},
    }
    assert function["VpcConfig"] == {
        "SubnetIds": {"Ref": "SubnetIds"},
        "SecurityGroupIds": [{"Fn::GetAtt": ["MySQLUserSecurityGroup", "GroupId"]}],
    }
    assert function["LoggingConfig"] == {"LogGroup": {"Ref": "MySQLUserLogGroup"}}
    # The function answers (or times out) well before CloudFormation stops waiting for it.
    assert function["Timeout"] < properties(template, "AppUser")["ServiceTimeout"]


def test_user_function_may_read_exactly_the_two_secrets(template):
    role = properties(template, "MySQLUserRole")
    assert "ManagedPolicyArns" not in role
    secret_reads = [
        s for s in statements(role) if "secretsmanager:GetSecretValue" in str(s.get("Action"))
    ]
    assert len(secret_reads) == 1
    assert secret_reads[0]["Action"] == "secretsmanager:GetSecretValue"
    assert secret_reads[0]["Resource"] == [{"Ref": "AdminSecretArn"}, {"Ref": "AppSecret"}]
    wildcard = [s for s in statements(role) if s.get("Resource") == "*"]
    assert [s["Action"] for s in wildcard] == [
        [
            "ec2:CreateNetworkInterface",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeSubnets",
            "ec2:DeleteNetworkInterface",
            "ec2:AssignPrivateIpAddresses",
            "ec2:UnassignPrivateIpAddresses",
        ]
    ]


# ---------------------------------------------------------------- role lookup and policies
def test_lookup_follows_the_rotation_function_and_may_read_only_it(template):
    (lookup,) = resources(template, "Custom::LambdaRoleLookup").values()
    hosted = properties(template, "AppSecretRotation")["HostedRotationLambda"]
    assert lookup["DependsOn"] == "AppSecretRotation"
    assert lookup["Properties"]["FunctionName"] == hosted["RotationLambdaName"]
    for key in ("RotationType", "RotationLambdaName", "VpcSubnetIds", "VpcSecurityGroupIds",
                "MasterSecretKmsKeyArn"):  # fmt: skip
        assert hosted[key] in lookup["Properties"]["Triggers"], key
    assert {"Ref": "AdminSecretArn"} in lookup["Properties"]["Triggers"]
    role = properties(template, "RoleLookupRole")
    by_action = {str(s["Action"]): s["Resource"] for s in statements(role)}
    assert by_action["lambda:GetFunctionConfiguration"] == {
        "Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:"
        + hosted["RotationLambdaName"]["Fn::Sub"]
    }
    assert len(by_action) == 2


def test_admin_secret_policy_names_exactly_the_looked_up_role(template):
    policy = template["Resources"]["AdminSecretResourcePolicy"]
    assert policy["Condition"] == "PutAdminSecretResourcePolicy"
    body = policy["Properties"]
    assert body["SecretId"] == {"Ref": "AdminSecretArn"}
    assert body["BlockPublicPolicy"] is True
    (statement,) = body["ResourcePolicy"]["Statement"]
    assert statement["Principal"] == {"AWS": {"Fn::GetAtt": ["AppRotationRoleLookup", "RoleArn"]}}
    assert statement["Action"] == "secretsmanager:GetSecretValue"
    assert "Condition" not in statement
    assert template["Parameters"]["ManageAdminSecretPolicy"]["Default"] == "false"


@pytest.mark.parametrize("identifier", ["orders", "Orders", "ORDERS"])
def test_rds_lookup_policy_reaches_exactly_this_cluster_and_admin_secret(template, identifier):
    policy = properties(template, "AppRotationRdsLookupPolicy")
    # The lookup's RoleName is the role's name whatever its path (tests/custom_resource/
    # test_contract.py); a position in the ARN split on "/" is the first path segment instead.
    assert policy["RoleName"] == {"Fn::GetAtt": ["AppRotationRoleLookup", "RoleName"]}
    granted = {
        s["Action"]: evaluate(s["Resource"], context(template, ClusterIdentifier=identifier))
        for s in policy["PolicyDocument"]["Statement"]
    }
    # RDS keeps identifiers, and so ARNs, in lower case, and IAM compares ARNs case-sensitively.
    assert granted == {
        "secretsmanager:DescribeSecret": ADMIN_ARN,
        "rds:DescribeDBClusters": f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:orders",
    }


def test_a_stack_made_before_the_role_name_attribute_runs_the_lookup_again(template):
    # CloudFormation reads a custom resource's attributes from its last answer: an old lookup's
    # answer has no RoleName, so the template's Triggers must differ from the old template's.
    triggers = properties(template, "AppRotationRoleLookup")["Triggers"]
    assert "attributes RoleArn RoleName" in triggers


def role_names_split_from_arns(node) -> list:
    """Fn::Select over Fn::Split of a role ARN: a role name taken by its position."""
    if isinstance(node, list):
        return [found for item in node for found in role_names_split_from_arns(item)]
    if not isinstance(node, dict):
        return []
    found = []
    if "Fn::Select" in node and "Fn::Split" in str(node["Fn::Select"]) and "Role" in str(node):
        found.append(node)
    return found + [f for value in node.values() for f in role_names_split_from_arns(value)]


@pytest.mark.parametrize("path", [EXISTING_CLUSTER, MULTI_USER, SINGLE_USER], ids=lambda p: p.stem)
def test_no_template_takes_a_role_name_by_its_position_in_the_arn(path):
    assert role_names_split_from_arns(load(path)["Resources"]) == []


# ---------------------------------------------------------------- order of the first rotation
def test_first_rotation_waits_for_the_user_its_log_group_and_its_network_path(template):
    before = all_dependencies(template, "AppSecretRotation")
    assert {
        "AppUser",
        "AppSecret",
        "AppRotationLogGroup",
        "RotationToDatabaseEgress",
        "DatabaseFromRotationIngress",
        "NetworkReadyGate",
        # the user exists only after its own network path did
        "DatabaseFromMySQLUserIngress",
        "MySQLUserToDatabaseEgress",
    } <= before
    assert "AppSecretRotation" in all_dependencies(template, "AppRotationRoleLookup")
    assert "AppRotationRoleLookup" in all_dependencies(template, "AdminSecretResourcePolicy")


def test_network_gate_names_every_conditional_network_piece(template):
    gate = template["Resources"]["NetworkReadyGate"]["Metadata"]
    conditional_network = {
        name
        for name, body in template["Resources"].items()
        if "Condition" in body
        and body["Type"]
        in {
            "AWS::EC2::VPCEndpoint",
            "AWS::EC2::SecurityGroupIngress",
            "AWS::EC2::SecurityGroupEgress",
        }
    }
    assert set(gate) == conditional_network
    for name, reference in gate.items():
        condition, when_true, when_false = reference["Fn::If"]
        assert condition == template["Resources"][name]["Condition"]
        assert (when_true, when_false) == ({"Ref": name}, {"Ref": "AWS::NoValue"})
