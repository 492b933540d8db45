"""Parameters: each described, constrained, grouped and labelled in the console, with defaults
that pass their own constraints; outputs users need; names that never collide."""

import re

from tests.helpers.cfn_templates import (
    LAMBDA_NAME_MAX,
    Context,
    evaluate,
    resources,
    rotation_name_suffix,
    rule_violations,
)

CONSTRAINTS = ("AllowedValues", "AllowedPattern", "MinValue", "MaxValue", "MinLength", "MaxLength")
# Top-level properties that would give a resource a fixed physical name.
PHYSICAL_NAME_PROPERTIES = {
    "AWS::EC2::SecurityGroup": "GroupName",
    "AWS::EC2::LaunchTemplate": "LaunchTemplateName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::RDS::DBCluster": "DBClusterIdentifier",
    "AWS::RDS::DBInstance": "DBInstanceIdentifier",
    "AWS::RDS::DBSubnetGroup": "DBSubnetGroupName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::S3::Bucket": "BucketName",
    "AWS::Events::Rule": "Name",
    "AWS::SNS::Topic": "TopicName",
    "AWS::RDS::DBClusterParameterGroup": "DBClusterParameterGroupName",
}
# Parameter types CloudFormation checks against the account (the value must exist).
CHECKED_TYPES = ("AWS::EC2::Image::Id",)


def test_every_parameter_is_described_and_constrained(template):
    for name, spec in template["Parameters"].items():
        assert spec.get("Description", "").strip(), f"{name} has no Description"
        constrained = spec["Type"] in CHECKED_TYPES or any(key in spec for key in CONSTRAINTS)
        assert constrained, f"{name} has no constraint"
        if "AllowedPattern" in spec:
            assert spec.get("ConstraintDescription", "").strip(), (
                f"{name} has no ConstraintDescription"
            )


def test_defaults_pass_their_own_constraints(template):
    for name, spec in template["Parameters"].items():
        if "Default" not in spec:
            continue
        default = spec["Default"]
        text = str(default).lower() if isinstance(default, bool) else str(default)
        if "AllowedValues" in spec:
            assert default in spec["AllowedValues"], name
        if "AllowedPattern" in spec:
            assert re.fullmatch(spec["AllowedPattern"], text), name
        if "MinLength" in spec:
            assert spec["MinLength"] <= len(text) <= spec["MaxLength"], name
        if "MinValue" in spec:
            assert spec["MinValue"] <= float(default) <= spec["MaxValue"], name


def test_console_groups_and_labels_every_parameter_once(template):
    interface = template["Metadata"]["AWS::CloudFormation::Interface"]
    grouped = [name for group in interface["ParameterGroups"] for name in group["Parameters"]]
    assert sorted(grouped) == sorted(template["Parameters"])
    assert len(grouped) == len(set(grouped))
    assert set(interface["ParameterLabels"]) == set(template["Parameters"])
    for group in interface["ParameterGroups"]:
        assert group["Label"]["default"].strip()
    for label in interface["ParameterLabels"].values():
        assert label["default"].strip()


CODE_LOCATION = {"RoleLookupCodeS3Bucket", "RoleLookupCodeS3Key", "MySQLUserCodeS3Key"}
AN_IMAGE = "ami-0123456789abcdef0"


def test_only_the_code_location_must_be_given(template):
    required = {name for name, spec in template["Parameters"].items() if "Default" not in spec}
    assert required <= CODE_LOCATION


def test_the_pinned_image_is_required_exactly_when_the_instance_is_created(template):
    # The image has no usable default on purpose: a default that follows the latest AMI would
    # replace the test instance on any update once a newer image is out. A Rule asks for it
    # before anything is created; without the instance nothing needs it.
    assert template["Parameters"]["TestInstanceImageId"]["Default"] == ""
    assert template["Parameters"]["CreateTestInstance"]["Default"] == "true"
    (missing,) = rule_violations(template)
    assert "TestInstanceImageId is required" in missing
    assert "CreateTestInstance=false" in missing
    assert not rule_violations(template, TestInstanceImageId=AN_IMAGE)
    assert not rule_violations(template, CreateTestInstance="false")
    assert not Context(template, CreateTestInstance="false").condition("CreateTestInstance")
    assert Context(template, TestInstanceImageId=AN_IMAGE).condition("CreateTestInstance")


def test_the_test_instance_image_cannot_drift_behind_an_ssm_parameter(template):
    spec = template["Parameters"]["TestInstanceImageId"]
    pattern = spec["AllowedPattern"]
    for accepted in ("", AN_IMAGE, "ami-0123abcd"):
        assert re.fullmatch(pattern, accepted), accepted
    for refused in ("ami-", "ami-0123456789abcdef", "/aws/service/ami-amazon-linux-latest/x", " "):
        assert not re.fullmatch(pattern, refused), refused
    assert "/aws/service/ami-amazon-linux-latest/" in spec["Description"]  # where to look it up
    (launch_template,) = resources(template, "AWS::EC2::LaunchTemplate").values()
    data = launch_template["Properties"]["LaunchTemplateData"]
    assert data["ImageId"] == {"Ref": "TestInstanceImageId"}
    assert "resolve:ssm" not in str(launch_template)


def test_two_stacks_never_collide_on_a_physical_name(template):
    # A fixed name is allowed only when it is derived from the stack name (the rotation
    # functions' log groups must carry the functions' names).
    for stack in ("alpha", "beta"):
        context = Context(template, **{"AWS::StackName": stack})
        for name, body in template["Resources"].items():
            key = PHYSICAL_NAME_PROPERTIES.get(body["Type"])
            if key is None or key not in body.get("Properties", {}):
                continue
            value = evaluate(body["Properties"][key], context)
            assert re.search(rf"(^|/){stack}-", value), f"{name} sets {key} to {value}"


def test_names_that_must_exist_derive_from_the_stack_name(template):
    derived = []
    for body in resources(template, "AWS::SecretsManager::RotationSchedule").values():
        derived.append(body["Properties"]["HostedRotationLambda"]["RotationLambdaName"])
    for body in template["Resources"].values():
        for tag in body.get("Properties", {}).get("Tags", []):
            if tag["Key"] == "Name":
                derived.append(tag["Value"])
    assert derived
    for value in derived:
        text = value["Fn::Sub"] if isinstance(value, dict) and "Fn::Sub" in value else None
        assert value == {"Ref": "AWS::StackName"} or (
            text and text.startswith("${AWS::StackName}")
        ), value


def test_description_states_the_longest_stack_name_the_function_names_allow(template):
    longest_suffix = max(
        len(rotation_name_suffix(body))
        for body in resources(template, "AWS::SecretsManager::RotationSchedule").values()
    )
    stated = re.search(r"keep the stack\s+name at most (\d+) characters", template["Description"])
    assert stated, "the Description must state the stack-name limit"
    assert int(stated.group(1)) == LAMBDA_NAME_MAX - longest_suffix


def test_outputs_give_what_users_look_up(template):
    expected = {"ClusterEndpoint", "AdminSecretArn", "AdminRotationFunctionName", "TestInstanceId"}
    if "AppSecret" in template["Resources"]:
        expected |= {
            "AppSecretArn",
            "AppRotationFunctionName",
            "AdminRotationRoleArn",
            "AppRotationRoleArn",
        }
    assert expected <= set(template["Outputs"])
    for output in template["Outputs"].values():
        assert output["Description"].strip()


def test_rotation_schedules_accept_only_what_secrets_manager_accepts(template):
    schedules = [name for name in template["Parameters"] if name.endswith("RotationSchedule")]
    assert schedules
    for name in schedules:
        pattern = template["Parameters"][name]["AllowedPattern"]
        for accepted in ("rate(4 hours)", "rate(1 day)", "rate(30 days)", "cron(0 4 * * ? *)"):
            assert re.fullmatch(pattern, accepted), (name, accepted)
        # Secrets Manager rotates at most every four hours; "1 days" is not a rate expression.
        for refused in ("rate(1 hour)", "rate(3 hours)", "rate(1 days)", "rate(0 days)", "daily"):
            assert not re.fullmatch(pattern, refused), (name, refused)
