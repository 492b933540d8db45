"""ER901-ER903: a rotation function of the template's own: its invoke permission, its role, its
name (issue 20, points 1, 2 and 5)."""

from __future__ import annotations

import copy

import pytest
from lint_rules_kit import FORMS, hosted, load, properties, render

CUSTOM = load("good_custom_function.yaml")
SAM = load("good_sam_docdb.yaml")
ARN = properties("Rotation", "RotationLambdaARN")
ROTATE_STATEMENT = properties("RotationRole", "Policies", 0, "PolicyDocument", "Statement", 0)
OTHER_FUNCTION = {
    "Type": "AWS::Lambda::Function",
    "Properties": {
        "FunctionName": "other-rotation",
        "Runtime": "python3.12",
        "Handler": "index.handler",
        "Role": {"Fn::GetAtt": ["RotationRole", "Arn"]},
        "Code": {"ZipFile": "def handler(event, context):\n    pass\n"},
    },
}


@pytest.fixture
def custom() -> dict:
    return copy.deepcopy(CUSTOM)


@pytest.fixture
def sam() -> dict:
    return copy.deepcopy(SAM)


def _without_permission(template: dict) -> None:
    del template["Resources"]["RotationInvoke"]
    template["Resources"]["Rotation"]["DependsOn"] = ["DatabaseAttachment"]


def _condition(template: dict, value) -> None:
    statement = template["Resources"]["RotationRole"]["Properties"]["Policies"][0]
    condition = statement["PolicyDocument"]["Statement"][0]["Condition"]["StringEquals"]
    condition["secretsmanager:resource/AllowRotationLambdaArn"] = value


# -- ER901 --------------------------------------------------------------------------------
@pytest.mark.parametrize("form", FORMS)
def test_er901_schedule_names_a_function_no_permission_opens(linter, custom, form):
    _without_permission(custom)
    matches = linter.matches(render(custom, form))
    assert {(m.rule.id, m.path_string) for m in matches} == {("ER901", ARN)}
    assert "no AWS::Lambda::Permission of the template lets secretsmanager.amazonaws.com" in (
        matches[0].message
    )
    assert "FunctionName: !GetAtt RotationFunction.Arn" in matches[0].message


@pytest.mark.parametrize("form", FORMS)
def test_er901_sam_function_without_permission(linter, sam, form):
    del sam["Resources"]["RotationInvoke"]
    sam["Resources"]["Rotation"]["DependsOn"] = ["ClusterAttachment"]
    assert linter.findings(render(sam, form)) == {("ER901", ARN)}


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"Principal": "events.amazonaws.com"}, id="another-service"),
        pytest.param({"FunctionName": {"Fn::GetAtt": ["OtherFunction", "Arn"]}}, id="other-fn"),
        pytest.param({"FunctionName": "other-rotation"}, id="other-function-by-name"),
        pytest.param({"Action": "lambda:GetFunction"}, id="another-action"),
        pytest.param({"SourceArn": {"Ref": "OtherSecret"}}, id="another-secret"),
    ],
)
def test_er901_permission_for_someone_or_something_else(linter, custom, change):
    custom["Resources"]["OtherFunction"] = copy.deepcopy(OTHER_FUNCTION)
    custom["Resources"]["OtherSecret"] = {
        "Type": "AWS::SecretsManager::Secret",
        "Properties": {"GenerateSecretString": {}},
    }
    custom["Resources"]["RotationInvoke"]["Properties"].update(change)
    assert "ER901" in {rule for rule, _ in linter.findings(render(custom, "yaml"))}


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"Principal": {"Fn::Sub": "secretsmanager.${AWS::URLSuffix}"}}, id="suffix"),
        pytest.param({"FunctionName": {"Ref": "RotationFunction"}}, id="by-ref"),
        pytest.param({"FunctionName": "pg-rotation"}, id="by-its-literal-name"),
        pytest.param({"FunctionName": {"Ref": "RotationFunctionName"}}, id="by-its-parameter"),
        pytest.param(
            {
                "FunctionName": {
                    "Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:"
                    "${AWS::AccountId}:function:${RotationFunctionName}"
                }
            },
            id="by-an-arn",
        ),
        pytest.param({"Principal": {"Ref": "Invoker"}}, id="principal-known-at-deploy-time"),
        pytest.param({"SourceArn": {"Ref": "DatabaseSecret"}}, id="scoped-to-the-secret"),
    ],
)
def test_er901_silent_when_a_permission_may_open_the_function(linter, custom, change):
    custom["Parameters"]["Invoker"] = {"Type": "String", "Description": "service principal"}
    custom["Resources"]["RotationInvoke"]["Properties"].update(change)
    assert linter.findings(render(custom, "yaml")) == set()


def test_er901_silent_for_a_function_outside_the_template(linter, custom):
    _without_permission(custom)
    custom["Resources"]["Rotation"]["Properties"]["RotationLambdaARN"] = (
        "arn:aws:lambda:eu-west-1:123456789012:function:shared-rotation"
    )
    assert "ER901" not in {rule for rule, _ in linter.findings(render(custom, "yaml"))}


# -- ER902 --------------------------------------------------------------------------------
@pytest.mark.parametrize("form", FORMS)
def test_er902_role_scoped_to_another_function(linter, custom, form):
    custom["Resources"]["OtherFunction"] = copy.deepcopy(OTHER_FUNCTION)
    _condition(custom, {"Fn::GetAtt": ["OtherFunction", "Arn"]})
    matches = linter.matches(render(custom, form))
    assert {(m.rule.id, m.path_string) for m in matches} == {("ER902", ROTATE_STATEMENT)}
    message = matches[0].message
    assert "inline policy rotate of role RotationRole" in message
    assert "'${OtherFunction.Arn}', another function than RotationFunction" in message
    assert "Fix: name the function that rotates the secret: !GetAtt RotationFunction.Arn" in message


def test_er902_role_scoped_to_another_name(linter, custom):
    _condition(
        custom,
        {"Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:old"},
    )
    assert linter.findings(render(custom, "yaml")) == {("ER902", ROTATE_STATEMENT)}


@pytest.mark.parametrize("form", FORMS)
def test_er902_sam_policy_template_for_another_function(linter, sam, form):
    policies = sam["Resources"]["RotationFunction"]["Properties"]["Policies"]
    policies[0]["AWSSecretsManagerRotationPolicy"]["FunctionName"] = "legacy-rotation"
    matches = linter.matches(render(sam, form))
    assert {(m.rule.id, m.path_string) for m in matches} == {
        ("ER902", properties("RotationFunction", "Policies", 0, "Statement", 0))
    }
    assert "SAM policy AWSSecretsManagerRotationPolicy of RotationFunction" in matches[0].message
    assert "the role SAM makes for RotationFunction" in matches[0].message


@pytest.mark.parametrize("form", FORMS)
def test_er902_the_granting_policy_is_attached_to_no_role(linter, custom, form):
    """The okctl golden file's mistake: the managed policy with the grant lists no role."""
    role = custom["Resources"]["RotationRole"]["Properties"]
    policy = role.pop("Policies")[0]
    custom["Resources"]["RotatePolicy"] = {
        "Type": "AWS::IAM::ManagedPolicy",
        "Properties": {"PolicyDocument": policy["PolicyDocument"]},
    }
    matches = linter.matches(render(custom, form))
    path = properties("RotatePolicy", "PolicyDocument", "Statement", 0)
    assert {(m.rule.id, m.path_string) for m in matches} == {("ER902", path)}
    assert "is attached to no role" in matches[0].message
    assert "Fix: attach it to the role: Roles: [!Ref RotationRole]" in matches[0].message
    custom["Resources"]["RotatePolicy"]["Properties"]["Roles"] = [{"Ref": "RotationRole"}]
    assert linter.findings(render(custom, form)) == set()


def test_er902_role_without_any_secrets_manager_statement(linter, custom):
    del custom["Resources"]["RotationRole"]["Properties"]["Policies"]
    matches = linter.matches(render(custom, "yaml"))
    assert {(m.rule.id, m.path_string) for m in matches} == {("ER902", properties("RotationRole"))}
    assert "no statement that allows secretsmanager:GetSecretValue on secret DatabaseSecret" in (
        matches[0].message
    )


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"Fn::GetAtt": ["RotationFunction", "Arn"]}, id="getatt"),
        pytest.param(
            {"Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:"
                        "pg-rotation"},
            id="its-literal-name",
        ),
        pytest.param({"Ref": "ArnFromOutside"}, id="known-at-deploy-time"),
        pytest.param([{"Fn::GetAtt": ["RotationFunction", "Arn"]}, "x"], id="one-of-two"),
    ],
)  # fmt: skip
def test_er902_silent_when_the_condition_may_name_the_function(linter, custom, value):
    custom["Parameters"]["ArnFromOutside"] = {"Type": "String", "Description": "a function ARN"}
    _condition(custom, value)
    assert linter.findings(render(custom, "yaml")) == set()


def test_er902_silent_when_another_statement_grants_the_read(linter, custom):
    custom["Resources"]["OtherFunction"] = copy.deepcopy(OTHER_FUNCTION)
    _condition(custom, {"Fn::GetAtt": ["OtherFunction", "Arn"]})
    custom["Resources"]["ReadPolicy"] = {
        "Type": "AWS::IAM::Policy",
        "Properties": {
            "PolicyName": "read",
            "Roles": [{"Ref": "RotationRole"}],
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "secretsmanager:*",
                        "Resource": {"Ref": "DatabaseSecret"},
                    }
                ],
            },
        },
    }
    assert linter.findings(render(custom, "yaml")) == set()


@pytest.mark.parametrize(
    "arn",
    [
        pytest.param("arn:aws:iam::123456789012:policy/central-secrets-read", id="customer"),
        pytest.param({"Fn::ImportValue": "secrets-read-policy"}, id="import"),
    ],
)
def test_er902_silent_when_a_managed_policy_from_elsewhere_may_grant(linter, custom, arn):
    del custom["Resources"]["RotationRole"]["Properties"]["Policies"]
    custom["Resources"]["RotationRole"]["Properties"]["ManagedPolicyArns"].append(arn)
    assert linter.findings(render(custom, "yaml")) == set()


def test_er902_silent_when_the_secrets_resource_policy_grants_the_role(linter, custom):
    del custom["Resources"]["RotationRole"]["Properties"]["Policies"]
    statements = custom["Resources"]["SecretPolicy"]["Properties"]["ResourcePolicy"]["Statement"]
    statements.append(
        {
            "Effect": "Allow",
            "Principal": {"AWS": {"Fn::GetAtt": ["RotationRole", "Arn"]}},
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "*",
        }
    )
    assert "ER902" not in {rule for rule, _ in linter.findings(render(custom, "yaml"))}


def test_er902_silent_for_a_role_from_outside_the_template(linter, custom):
    function = custom["Resources"]["RotationFunction"]["Properties"]
    function["Role"] = "arn:aws:iam::123456789012:role/rotation"
    del custom["Resources"]["RotationRole"]["Properties"]["Policies"]
    assert "ER902" not in {rule for rule, _ in linter.findings(render(custom, "yaml"))}


def test_er902_function_only_template(linter, custom):
    """A template that ships the function and its permission, for secrets elsewhere."""
    for name in ("Rotation", "SecretPolicy", "DatabaseAttachment", "Database", "DatabaseSecret"):
        del custom["Resources"][name]
    role = custom["Resources"]["RotationRole"]["Properties"]
    statement = role["Policies"][0]["PolicyDocument"]["Statement"][0]
    statement["Resource"] = {
        "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:*"
    }
    assert linter.findings(render(custom, "yaml")) == set()
    custom["Resources"]["OtherFunction"] = copy.deepcopy(OTHER_FUNCTION)
    _condition(custom, {"Fn::GetAtt": ["OtherFunction", "Arn"]})
    # The permission names the function by its name (the FSx sample's way): still found.
    custom["Resources"]["RotationInvoke"]["Properties"]["FunctionName"] = "pg-rotation"
    matches = linter.matches(render(custom, "yaml"))
    assert {(m.rule.id, m.path_string) for m in matches} == {("ER902", ROTATE_STATEMENT)}
    assert "a resource policy on the secret could still grant it" in matches[0].message


# -- ER903 --------------------------------------------------------------------------------
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(
    ("name", "said"),
    [
        pytest.param("admin.rotation", "the character '.'", id="dot"),
        pytest.param("r" * 65, "65 characters", id="too-long"),
        pytest.param({"Fn::Sub": "${AWS::StackName}.rotation"}, "the character '.'", id="sub"),
        pytest.param(
            {"Fn::Sub": "${AWS::StackName}" + "x" * 65}, "without its variables", id="sub-long"
        ),
        pytest.param({"Ref": "RotationName"}, "the character ' '", id="parameter-default"),
    ],
)
def test_er903_rotation_lambda_name_lambda_refuses(linter, multi_user, form, name, said):
    multi_user["Parameters"]["RotationName"] = {
        "Type": "String",
        "Default": "admin rotation",
        "Description": "name",
    }
    settings = multi_user["Resources"]["AdminRotation"]["Properties"]["HostedRotationLambda"]
    settings["RotationLambdaName"] = name
    matches = linter.matches(render(multi_user, form))
    assert {(m.rule.id, m.path_string) for m in matches} == {
        ("ER903", hosted("AdminRotation", "RotationLambdaName"))
    }
    assert said in matches[0].message
    assert "the nested stack that HostedRotationLambda makes fails" in matches[0].message


@pytest.mark.parametrize(
    "name",
    [
        pytest.param({"Fn::Sub": "${AWS::StackName}-admin-rotation"}, id="project-style"),
        pytest.param("r" * 64, id="sixty-four"),
        pytest.param({"Ref": "AWS::StackName"}, id="stack-name"),
    ],
)
def test_er903_silent_for_names_lambda_accepts(linter, multi_user, name):
    settings = multi_user["Resources"]["AdminRotation"]["Properties"]["HostedRotationLambda"]
    settings["RotationLambdaName"] = name
    assert linter.findings(render(multi_user, "yaml")) == set()


@pytest.mark.parametrize("form", FORMS)
def test_er903_sam_function_name(linter, sam, form):
    function = sam["Resources"]["RotationFunction"]["Properties"]
    function["FunctionName"] = {"Fn::Sub": "${AWS::StackName}/docdb-rotation"}
    policy = function["Policies"][0]["AWSSecretsManagerRotationPolicy"]
    policy["FunctionName"] = function["FunctionName"]
    assert linter.findings(render(sam, form)) == {
        ("ER903", properties("RotationFunction", "FunctionName"))
    }


def test_er903_rotation_app_function_name(linter):
    app = load("good_rotation_app.yaml")
    app["Resources"]["OwnerRotationApp"]["Properties"]["Parameters"]["functionName"] = (
        "owner rotation"
    )
    assert linter.findings(render(app, "yaml")) == {
        ("ER903", properties("OwnerRotationApp", "Parameters", "functionName"))
    }


def test_er903_leaves_lambda_functions_to_cfn_lints_schema(linter, custom):
    """cfn-lint's own E3031/W1031 check AWS::Lambda::Function's FunctionName."""
    custom["Resources"]["RotationFunction"]["Properties"]["FunctionName"] = "pg.rotation"
    assert "ER903" not in {rule for rule, _ in linter.findings(render(custom, "yaml"))}


# -- WR904 --------------------------------------------------------------------------------
@pytest.mark.parametrize("form", FORMS)
def test_wr904_schedule_does_not_wait_for_the_permission(linter, custom, form):
    custom["Resources"]["Rotation"]["DependsOn"] = ["DatabaseAttachment"]
    matches = linter.matches(render(custom, form))
    assert {(m.rule.id, m.path_string) for m in matches} == {
        ("WR904", "Resources/Rotation/DependsOn")
    }
    assert "Fix: add RotationInvoke to the DependsOn of Rotation" in matches[0].message


@pytest.mark.parametrize("form", FORMS)
def test_wr904_sam_schedule_without_depends_on(linter, sam, form):
    del sam["Resources"]["Rotation"]["DependsOn"]
    found = linter.findings(render(sam, form))
    assert ("WR904", "Resources/Rotation") in found


def test_wr904_silent_when_the_schedule_waits_through_another_resource(linter, custom):
    """Rotation waits for DatabaseAttachment, which waits for the permission."""
    custom["Resources"]["Rotation"]["DependsOn"] = ["DatabaseAttachment"]
    custom["Resources"]["DatabaseAttachment"]["DependsOn"] = "RotationInvoke"
    assert linter.findings(render(custom, "yaml")) == set()


def test_wr904_leaves_a_missing_permission_to_er901(linter, custom):
    _without_permission(custom)
    assert {rule for rule, _ in linter.findings(render(custom, "yaml"))} == {"ER901"}


# -- issue 20 review --------------------------------------------------------------------------
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("kind", ["AWS::Lambda::Alias", "AWS::Lambda::Version"])
def test_er901_a_permission_on_an_alias_or_version_only(linter, custom, form, kind):
    """The schedule names the unqualified function; a permission on an alias or a version covers
    only that qualified ARN, so Secrets Manager still cannot invoke the function."""
    qualifier = {"FunctionName": {"Ref": "RotationFunction"}}
    if kind.endswith("Alias"):
        qualifier.update({"FunctionVersion": "$LATEST", "Name": "live"})
    custom["Resources"]["Qualified"] = {"Type": kind, "Properties": qualifier}
    custom["Resources"]["RotationInvoke"]["Properties"]["FunctionName"] = {"Ref": "Qualified"}
    assert linter.findings(render(custom, form)) == {("ER901", ARN)}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param({"Fn::Sub": "${RotationFunction.Arn}:live"}, id="qualified-arn"),
        pytest.param("pg-rotation:live", id="qualified-name"),
    ],
)
@pytest.mark.parametrize("named", [True, False], ids=["named", "generated-name"])
def test_er901_a_permission_on_a_qualified_name(linter, custom, name, named):
    if not named:  # no names to compare: only the qualifier tells
        del custom["Resources"]["RotationFunction"]["Properties"]["FunctionName"]
    custom["Resources"]["RotationInvoke"]["Properties"]["FunctionName"] = name
    assert "ER901" in {rule for rule, _ in linter.findings(render(custom, "yaml"))}


@pytest.mark.parametrize("action", ["lambda:*", "*"])
def test_er901_silent_for_a_wildcard_action(linter, custom, action):
    custom["Resources"]["RotationInvoke"]["Properties"]["Action"] = action
    assert linter.findings(render(custom, "yaml")) == set()


@pytest.mark.parametrize("form", FORMS)
def test_er902_arn_equals_scopes_like_string_equals(linter, custom, form):
    custom["Resources"]["OtherFunction"] = copy.deepcopy(OTHER_FUNCTION)
    statement = custom["Resources"]["RotationRole"]["Properties"]["Policies"][0]
    scoped = statement["PolicyDocument"]["Statement"][0]["Condition"]
    scoped["ArnEquals"] = scoped.pop("StringEquals")
    key = "secretsmanager:resource/AllowRotationLambdaArn"
    assert linter.findings(render(custom, form)) == set()
    scoped["ArnEquals"][key] = {"Fn::GetAtt": ["OtherFunction", "Arn"]}
    assert linter.findings(render(custom, form)) == {("ER902", ROTATE_STATEMENT)}


def test_er902_says_when_a_parameters_default_decides(linter, custom):
    """The function's name is the default of RotationFunctionName: a deploy may pass another,
    so the finding says it rests on the default."""
    _condition(
        custom,
        {"Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:old"},
    )
    (match,) = linter.matches(render(custom, "yaml"))
    assert "(with the default of parameter RotationFunctionName)" in match.message
    custom["Parameters"]["RotationFunctionName"]["AllowedValues"] = ["pg-rotation"]
    (match,) = linter.matches(render(custom, "yaml"))
    assert "(from parameter RotationFunctionName)" in match.message


@pytest.mark.parametrize(
    ("declaration", "said"),
    [
        ({"Default": "admin rotation"}, "'admin rotation' (with the default of parameter Name)"),
        ({"AllowedValues": ["admin rotation"]}, "'admin rotation' (from parameter Name)"),
    ],
    ids=["default", "allowed-values"],
)
def test_er903_says_when_a_parameters_default_decides(linter, multi_user, declaration, said):
    multi_user["Parameters"]["Name"] = {"Type": "String", "Description": "name", **declaration}
    settings = multi_user["Resources"]["AdminRotation"]["Properties"]["HostedRotationLambda"]
    settings["RotationLambdaName"] = {"Ref": "Name"}
    (match,) = linter.matches(render(multi_user, "yaml"))
    assert match.rule.id == "ER903"
    assert f"RotationLambdaName of AdminRotation is {said}, with the character ' '" in (
        match.message
    )


def test_wr904_silent_when_the_graph_does_not_hold_the_permission(custom):
    """cfn-lint's graph leaves out what it cannot read; then the order is unknown: no warning."""
    from cfnlint.template import Template

    from cfn_lint_rotation.rules._rotation_function import ScheduleBeforePermission

    custom["Resources"]["Rotation"]["DependsOn"] = ["DatabaseAttachment"]
    rule = ScheduleBeforePermission()
    cfn = Template("t.yaml", custom)
    assert len(rule.match(cfn)) == 1  # held by the graph: the schedule does not wait
    cfn = Template("t.yaml", custom)
    cfn.graph.graph.remove_node("RotationInvoke")
    assert rule.match(cfn) == []
