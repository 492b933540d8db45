"""Secrets and rotation schedules: what a first rotation and every later one rely on."""

import re
import string

import pytest

from tests.helpers.cfn_templates import (
    EXISTING_CLUSTER,
    TEMPLATES,
    Context,
    all_dependencies,
    evaluate,
    exclude_character_copies,
    exclude_characters,
    load,
    properties,
    resources,
    rotation_name_suffix,
    rule_violations,
)

TRANSFORM = "AWS::SecretsManager-2024-09-16"
RDS_FORBIDDEN = '/"@ '  # RDS refuses these in a master password
BREAK_QUOTING = "'\"\\`$"  # option-file, SQL-literal and shell quoting
CLASSES = {
    "lowercase": string.ascii_lowercase,
    "uppercase": string.ascii_uppercase,
    "digits": string.digits,
    "punctuation": string.punctuation,
}
# Everything a first rotation touches must exist before its schedule does.
ROTATION_PREREQUISITES = {
    "DatabaseInstance",
    "SecretsManagerEndpoint",
    "RotationToDatabaseEgress",
    "RotationToEndpointsEgress",
    "DatabaseFromRotationIngress",
    "EndpointsFromRotationIngress",
}
# Who made the user a first rotation logs in as: the single-user test instance proves the admin
# password before it changes; in the multi-user template Custom::MySQLUser creates the
# application user, and the optional instance is off the rotations' path.
FIRST_LOGIN_READY = {"single-user": "TestInstance", "multi-user": "AppUser"}
EXPECTED_SCHEDULES = {
    "single-user": {"AdminSecretRotation": ("AdminSecret", "MySQLSingleUser")},
    "multi-user": {
        "AdminSecretRotation": ("AdminSecret", "MySQLSingleUser"),
        "AppSecretRotation": ("AppSecret", "MySQLMultiUser"),
    },
}


# The defaults create the test instance, whose image has to be given.
WITH_IMAGE = {"TestInstanceImageId": "ami-0123456789abcdef0"}


def schedules(template: dict) -> dict[str, dict]:
    return resources(template, "AWS::SecretsManager::RotationSchedule")


# What the 2024-09-16 transform is documented (and seen in AWS's examples) to resolve inside
# HostedRotationLambda; anything else (Fn::FindInMap, Fn::If, Fn::Select ...) is unproven there.
RESOLVED_IN_HOSTED_ROTATION_LAMBDA = {"Ref", "Fn::GetAtt", "Fn::Join", "Fn::Sub"}


def intrinsic_functions(node) -> set[str]:
    if isinstance(node, list):
        return set().union(*map(intrinsic_functions, node)) if node else set()
    if isinstance(node, dict):
        found = {key for key in node if key == "Ref" or key.startswith("Fn::")}
        return found.union(*map(intrinsic_functions, node.values()))
    return set()


def test_transform_keeps_hosted_functions_upgraded(template):
    # 2024-09-16 upgrades the hosted functions on stack updates; with it, the CloudFormation
    # reference says not to set Runtime.
    assert template["Transform"] == TRANSFORM
    for schedule in schedules(template).values():
        assert "Runtime" not in schedule["Properties"]["HostedRotationLambda"]


@pytest.mark.parametrize("variant", sorted(EXPECTED_SCHEDULES))
def test_each_secret_has_its_rotation_type(variant):
    from tests.helpers.cfn_templates import TEMPLATES, load

    template = load(TEMPLATES[variant])
    found = {
        name: (
            body["Properties"]["SecretId"]["Ref"],
            body["Properties"]["HostedRotationLambda"]["RotationType"],
        )
        for name, body in schedules(template).items()
    }
    assert found == EXPECTED_SCHEDULES[variant]


def test_secrets_are_generated_the_way_the_hosted_functions_rotate_them(template):
    for name, body in resources(template, "AWS::SecretsManager::Secret").items():
        generate = body["Properties"]["GenerateSecretString"]
        # The hosted functions call GetRandomPassword with its defaults (32 characters, each
        # class required) and only ExcludeCharacters set.
        assert generate["PasswordLength"] == 32, name
        assert generate["RequireEachIncludedType"] is True, name
        assert generate["GenerateStringKey"] == "password", name


def test_every_copy_of_the_exclude_list_is_the_same_plain_value():
    # Both templates, every secret and every rotation: a rotated password must never contain a
    # character the first one could not, and the templates must agree with each other.
    copies = {
        f"{variant}:{where}": value
        for variant, path in {**TEMPLATES, "existing-cluster": EXISTING_CLUSTER}.items()
        for where, value in exclude_character_copies(load(path)).items()
    }
    # single: secret and schedule; multi: two of each; existing cluster: app secret and schedule.
    assert len(copies) == 8
    assert all(isinstance(value, str) for value in copies.values()), copies
    assert len(set(copies.values())) == 1, copies


def test_hosted_rotation_lambda_uses_only_intrinsics_the_transform_resolves(template):
    for name, body in schedules(template).items():
        used = intrinsic_functions(body["Properties"]["HostedRotationLambda"])
        assert used <= RESOLVED_IN_HOSTED_ROTATION_LAMBDA, (name, used)


def test_exclude_list_suits_rds_and_quoting_but_leaves_every_class(template):
    excluded = set(exclude_characters(template))
    assert set(RDS_FORBIDDEN) <= excluded
    assert set(BREAK_QUOTING) <= excluded
    for name, characters in CLASSES.items():
        assert set(characters) - excluded, f"ExcludeCharacters removes every {name} character"


def test_alternating_users_rotation_may_read_the_admin_secret(multi):
    # CloudFormation grants the function's role GetSecretValue on MasterSecretArn; the secret's
    # own masterarn (tests/templates/test_secret_json.py) tells the function which secret it is.
    hosted = properties(multi, "AppSecretRotation")["HostedRotationLambda"]
    assert hosted["MasterSecretArn"] == {"Ref": "AdminSecret"}


def test_every_secret_is_attached_to_the_cluster(template):
    attached = {
        body["Properties"]["SecretId"]["Ref"]
        for body in resources(template, "AWS::SecretsManager::SecretTargetAttachment").values()
        if body["Properties"]["TargetId"] == {"Ref": "DatabaseCluster"}
        and body["Properties"]["TargetType"] == "AWS::RDS::DBCluster"
    }
    assert attached == set(resources(template, "AWS::SecretsManager::Secret"))


@pytest.mark.parametrize("variant", sorted(TEMPLATES))
def test_first_rotation_waits_for_everything_it_touches(variant):
    template = load(TEMPLATES[variant])
    attachment_of = {
        body["Properties"]["SecretId"]["Ref"]: name
        for name, body in resources(template, "AWS::SecretsManager::SecretTargetAttachment").items()
    }
    for name, schedule in schedules(template).items():
        secret = schedule["Properties"]["SecretId"]["Ref"]
        needed = ROTATION_PREREQUISITES | {attachment_of[secret], FIRST_LOGIN_READY[variant]}
        assert needed <= all_dependencies(template, name), needed - all_dependencies(template, name)


def test_multi_user_rotations_do_not_wait_for_the_optional_instance(multi):
    for name in schedules(multi):
        assert "TestInstance" not in all_dependencies(multi, name), name


def test_test_instance_bootstrap_waits_for_database_and_every_attachment(template):
    before_instance = all_dependencies(template, "TestInstance")
    assert "DatabaseInstance" in before_instance
    assert (
        set(resources(template, "AWS::SecretsManager::SecretTargetAttachment")) <= before_instance
    )
    assert {
        "CloudFormationEndpoint",
        "S3GatewayEndpoint",
        "SecretsManagerEndpoint",
    } <= before_instance


def test_single_user_rotation_waits_for_the_optional_instance_without_naming_it(single):
    # DependsOn may not name a resource whose condition is false; the gate's Fn::If does the job.
    schedule = single["Resources"]["AdminSecretRotation"]
    assert "TestInstance" not in schedule["DependsOn"]
    gate = single["Resources"]["TestInstanceBootstrapGate"]
    assert "Condition" not in gate
    assert gate["Metadata"]["BootstrappedInstance"] == {
        "Fn::If": ["CreateTestInstance", {"Ref": "TestInstance"}, {"Ref": "AWS::NoValue"}]
    }


def test_unconditional_resources_depend_on_no_conditional_resource(template):
    conditional = {name for name, body in template["Resources"].items() if "Condition" in body}
    for name, body in template["Resources"].items():
        if "Condition" in body:
            continue
        depends_on = body.get("DependsOn", [])
        depends_on = [depends_on] if isinstance(depends_on, str) else depends_on
        assert not set(depends_on) & conditional, name


def test_rotation_functions_run_in_the_private_subnets_with_their_own_group(template):
    context = Context(template, PrivateSubnetA="subnet-a", PrivateSubnetB="subnet-b")
    for schedule in schedules(template).values():
        hosted = schedule["Properties"]["HostedRotationLambda"]
        assert evaluate(hosted["VpcSubnetIds"], context) == "subnet-a,subnet-b"
        assert hosted["VpcSecurityGroupIds"] == {"Fn::GetAtt": ["RotationSecurityGroup", "GroupId"]}


def test_each_rotation_function_finds_its_log_group_with_the_stacks_retention(template):
    context = Context(template)
    groups = {
        evaluate(body["Properties"]["LogGroupName"], context): (name, body)
        for name, body in resources(template, "AWS::Logs::LogGroup").items()
        if "LogGroupName" in body.get("Properties", {})
    }
    for name, schedule in schedules(template).items():
        function = evaluate(
            schedule["Properties"]["HostedRotationLambda"]["RotationLambdaName"], context
        )
        # Lambda writes to /aws/lambda/<function name> unless told otherwise.
        group_name, group = groups[f"/aws/lambda/{function}"]
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionInDays"}
        assert (group["DeletionPolicy"], group["UpdateReplacePolicy"]) == ("Delete", "Delete")
        # The group must exist before the function can run (or Lambda creates one that never
        # expires and the stack's create then fails on the name).
        assert group_name in all_dependencies(template, name), name


def test_rotation_function_names_derive_from_the_stack_name(template):
    suffixes = sorted(rotation_name_suffix(body) for body in schedules(template).values())
    expected = ["-admin-rotation"] if len(suffixes) == 1 else ["-admin-rotation", "-app-rotation"]
    assert suffixes == expected


def hours_of_window(schedule_expression: str, window: str) -> set[int]:
    minute, hour = re.fullmatch(r"cron\((\d+) (\d+) .*\)", schedule_expression).groups()
    assert minute == "0"
    length = int(window.removesuffix("h"))
    return set(range(int(hour), int(hour) + length))


def test_default_rotation_windows_never_overlap(multi):
    # The app rotation logs in with the admin password; it must not run while that changes.
    parameters = multi["Parameters"]
    admin = hours_of_window(
        parameters["AdminRotationSchedule"]["Default"], parameters["AdminRotationWindow"]["Default"]
    )
    app = hours_of_window(
        parameters["AppRotationSchedule"]["Default"], parameters["AppRotationWindow"]["Default"]
    )
    assert not admin & app
    assert max(admin | app) < 24


def test_admin_never_rotates_at_deploy_time_in_multi_user(multi):
    assert properties(multi, "AdminSecretRotation")["RotateImmediatelyOnUpdate"] is False
    assert properties(multi, "AppSecretRotation")["RotateImmediatelyOnUpdate"] is True


def test_same_schedule_for_both_secrets_is_refused(multi):
    same = multi["Parameters"]["AdminRotationSchedule"]["Default"]
    assert rule_violations(multi, AppRotationSchedule=same)
    assert not rule_violations(multi, **WITH_IMAGE)


@pytest.mark.parametrize(
    "parameters",
    [
        {"AppUsername": "dbadmin", "AdminUsername": "dbadmin"},
        {"AppUsername": "rdsadmin"},
        {"DatabaseName": "mysql"},
        {"DatabaseName": "information_schema"},
        {"DatabaseName": "performance_schema"},
        {"DatabaseName": "sys"},
    ],
)
def test_names_the_bootstrap_cannot_use_are_refused_before_anything_is_created(multi, parameters):
    # Each passes its own parameter constraints; without a Rule the bootstrap would fail only
    # after the cluster and the instance are up (or clone the admin user on the first rotation).
    for name, value in parameters.items():
        assert re.fullmatch(multi["Parameters"][name]["AllowedPattern"], value), name
    assert rule_violations(multi, **parameters)


def test_distinct_application_names_pass_the_rules(multi):
    assert not rule_violations(multi, AppUsername="dbadmin", AdminUsername="owner", **WITH_IMAGE)
    assert not rule_violations(multi, DatabaseName="mysqlapp", **WITH_IMAGE)


def test_app_username_leaves_room_for_the_clone_suffix(multi):
    username = multi["Parameters"]["AppUsername"]
    assert username["MaxLength"] == 10
    assert len("u" * username["MaxLength"] + "_clone") <= 16
    assert "_clone" in username["ConstraintDescription"]
    assert "16" in username["ConstraintDescription"]
    pattern = username["AllowedPattern"]
    assert re.fullmatch(pattern, "appuser")
    for refused in ("1user", "app-user", "app user", "app'user", ""):
        assert not re.fullmatch(pattern, refused), refused
