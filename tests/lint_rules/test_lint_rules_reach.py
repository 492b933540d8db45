"""Patterns of real templates the rules now read: rotation apps, custom functions, networks.

- Serverless Application Repository rotation apps (`AWS::Serverless::Application`,
  `SecretsManagerRDS<Engine>Rotation<Mode>`) get the checks HostedRotationLambda gets.
- ER702: a rotation function outside any VPC for a database that is not publicly accessible.
- ER303: a database's master secret whose username is not the database's master username.
"""

from __future__ import annotations

import copy

import pytest
from lint_rules_kit import hosted, load, properties, put_first, render

APP = load("good_rotation_app.yaml")
SERVICE_PARAMETERS = properties("ServiceRotationApp", "Parameters")
OWNER_PARAMETERS = properties("OwnerRotationApp", "Parameters")
MULTI_USER_APP = (
    "arn:aws:serverlessrepo:us-east-1:297356227824:applications/"
    "SecretsManagerRDS{}RotationMultiUser"
)


@pytest.fixture
def app() -> dict:
    return copy.deepcopy(APP)


def parameters(template: dict, resource: str) -> dict:
    return template["Resources"][resource]["Properties"]["Parameters"]


def test_the_rotation_app_template_is_clean(linter, app):
    assert linter.findings(render(app, "yaml")) == set()
    assert linter.findings(render(app, "json")) == set()


def test_rotation_app_without_vpc_subnets_for_a_private_cluster(linter, app):
    del parameters(app, "ServiceRotationApp")["vpcSubnetIds"]
    matches = linter.matches(render(app, "yaml"))
    assert {(m.rule.id, m.path_string) for m in matches} == {("ER702", SERVICE_PARAMETERS)}
    assert "PubliclyAccessible: false" in matches[0].message
    assert "parameter vpcSubnetIds of application ServiceRotationApp" in matches[0].message


def test_rotation_app_found_through_sub_and_find_in_map(linter, app):
    """The owner app's id is built with Fn::Sub and Fn::FindInMap, as the CDK writes it."""
    del parameters(app, "OwnerRotationApp")["vpcSubnetIds"]
    assert linter.findings(render(app, "yaml")) == {("ER702", OWNER_PARAMETERS)}


def test_rotation_app_multi_user_without_master_secret_arn(linter, app):
    del parameters(app, "ServiceRotationApp")["masterSecretArn"]
    matches = linter.matches(render(app, "yaml"))
    assert {(m.rule.id, m.path_string) for m in matches} == {("ER102", SERVICE_PARAMETERS)}
    assert "parameter masterSecretArn of application ServiceRotationApp" in matches[0].message


def test_rotation_app_for_another_engine(linter, app):
    location = app["Resources"]["ServiceRotationApp"]["Properties"]["Location"]
    location["ApplicationId"] = MULTI_USER_APP.format("PostgreSQL")
    assert linter.findings(render(app, "yaml")) == {
        ("ER301", properties("ServiceRotationApp", "Location"))
    }


def test_engine_parameter_allowing_an_engine_the_app_cannot_rotate(linter, app):
    app["Parameters"]["DbEngine"]["AllowedValues"] = ["aurora-mysql", "aurora-postgresql"]
    matches = linter.matches(render(app, "yaml"))
    assert {(m.rule.id, m.path_string) for m in matches} == {
        ("ER301", properties("OwnerRotationApp", "Location")),
        ("ER301", properties("ServiceRotationApp", "Location")),
    }
    assert all("'aurora-postgresql' (from parameter DbEngine)" in m.message for m in matches)


def test_rotation_app_username_too_long_for_its_clone(linter, app):
    app["Parameters"]["ServiceUser"].update(Default="serviceuser", MaxLength=16)
    assert linter.findings(render(app, "yaml")) == {("ER103", "Parameters/ServiceUser/Default")}


def test_rotation_app_secret_without_masterarn(linter, app):
    generate = app["Resources"]["ServiceSecret"]["Properties"]["GenerateSecretString"]
    generate["SecretStringTemplate"] = {"Fn::Sub": '{"username": "${ServiceUser}"}'}
    assert linter.findings(render(app, "yaml")) == {
        ("ER101", properties("ServiceSecret", "GenerateSecretString", "SecretStringTemplate"))
    }


def test_rotation_app_subnets_without_a_way_to_secrets_manager(linter, app):
    del app["Resources"]["SecretsEndpoint"]
    assert linter.findings(render(app, "yaml")) == {
        ("ER701", f"{OWNER_PARAMETERS}/vpcSubnetIds"),
        ("ER701", f"{SERVICE_PARAMETERS}/vpcSubnetIds"),
    }


def test_rotation_app_excluding_every_digit(linter, app):
    parameters(app, "OwnerRotationApp")["excludeCharacters"] = "0123456789"
    assert linter.findings(render(app, "yaml")) == {
        ("ER201", f"{OWNER_PARAMETERS}/excludeCharacters")
    }


def test_rotation_app_windows_judged_like_hosted_ones(linter, app):
    rules = app["Resources"]["OwnerRotation"]["Properties"]["RotationRules"]
    rules["ScheduleExpression"] = "cron(0 6 ? * SAT *)"
    assert linter.findings(render(app, "yaml")) == {
        ("WR804", properties("ServiceRotation", "RotationRules"))
    }


def test_rotation_app_after_the_sam_transform_is_judged_by_its_tag(linter, app):
    """The transform turns the app into a nested stack; only its tags still name the app."""
    resource = app["Resources"]["ServiceRotationApp"]
    app_id = resource["Properties"].pop("Location")["ApplicationId"]
    resource["Type"] = "AWS::CloudFormation::Stack"
    resource["Properties"]["TemplateURL"] = "https://example-bucket.s3.amazonaws.com/app.yaml"
    resource["Properties"]["Tags"] = [
        {"Key": "serverlessrepo:semanticVersion", "Value": "1.1.367"},
        {"Key": "serverlessrepo:applicationId", "Value": app_id},
    ]
    del parameters(app, "ServiceRotationApp")["vpcSubnetIds"]
    found = linter.findings(render(app, "yaml"))
    assert ("ER702", SERVICE_PARAMETERS) in found


@pytest.mark.parametrize(
    "other", [MULTI_USER_APP.format("MySQL") + "Beta", MULTI_USER_APP.format("PostgreSQL")]
)
def test_an_app_id_that_may_name_another_app_is_not_judged(linter, app, other):
    """The region picks the application: in one it is no rotation app, or another engine's, so
    no one set of checks applies."""
    app.setdefault("Mappings", {})["Apps"] = {
        "us-east-1": {"Id": MULTI_USER_APP.format("MySQL")},
        "eu-west-1": {"Id": other},
    }
    location = app["Resources"]["ServiceRotationApp"]["Properties"]["Location"]
    location["ApplicationId"] = {"Fn::FindInMap": ["Apps", {"Ref": "AWS::Region"}, "Id"]}
    del parameters(app, "ServiceRotationApp")["vpcSubnetIds"]
    assert linter.findings(render(app, "yaml")) == set()


def test_an_unknown_application_is_not_judged(linter, app):
    location = app["Resources"]["ServiceRotationApp"]["Properties"]["Location"]
    location["ApplicationId"] = "arn:aws:serverlessrepo:us-east-1:123456789012:applications/x"
    del parameters(app, "ServiceRotationApp")["vpcSubnetIds"]
    assert linter.findings(render(app, "yaml")) == set()


# -- ER702 with HostedRotationLambda and with a Lambda function of the template --------------

WRITER = {
    "Type": "AWS::RDS::DBInstance",
    "Properties": {
        "DBClusterIdentifier": {"Ref": "Cluster"},
        "DBInstanceClass": "db.t4g.medium",
        "Engine": "aurora-mysql",
    },
}


def _with_writer(template: dict, **settings) -> None:
    writer = copy.deepcopy(WRITER)
    writer["Properties"].update(settings)
    template["Resources"]["Writer"] = writer


@pytest.mark.parametrize(
    ("settings", "said"),
    [
        ({"PubliclyAccessible": False}, "Writer sets PubliclyAccessible: false"),
        ({"DBSubnetGroupName": {"Ref": "SubnetGroup"}}, "without an internet gateway"),
    ],
)
def test_er702_hosted_rotation_without_subnets(linter, multi_user, settings, said):
    _with_writer(multi_user, **settings)
    del multi_user["Resources"]["AppRotation"]["Properties"]["HostedRotationLambda"]["VpcSubnetIds"]
    matches = linter.matches(render(multi_user, "yaml"))
    assert {(m.rule.id, m.path_string) for m in matches} == {
        ("ER702", hosted("AppRotation", "VpcSubnetIds"))
    }
    assert said in matches[0].message
    assert "HostedRotationLambda has no VpcSubnetIds" in matches[0].message


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param({"PubliclyAccessible": True}, id="public"),
        pytest.param({"PubliclyAccessible": {"Ref": "AWS::NoValue"}}, id="default-no-group"),
    ],
)
def test_er702_silent_when_the_database_may_be_public(linter, multi_user, settings):
    """A public database is ER703's: its security group must admit a public address."""
    _with_writer(multi_user, **settings)
    del multi_user["Resources"]["AppRotation"]["Properties"]["HostedRotationLambda"]["VpcSubnetIds"]
    assert linter.findings(render(multi_user, "yaml")) == {("ER703", CLUSTER_GROUPS)}
    _open_to_everyone(multi_user)
    assert linter.findings(render(multi_user, "yaml")) == set()


def test_er702_silent_with_an_internet_gateway_and_rds_default(linter, multi_user):
    _with_writer(multi_user, DBSubnetGroupName={"Ref": "SubnetGroup"})
    multi_user["Resources"]["Gateway"] = {"Type": "AWS::EC2::InternetGateway"}
    multi_user["Resources"]["GatewayAttachment"] = {
        "Type": "AWS::EC2::VPCGatewayAttachment",
        "Properties": {"VpcId": {"Ref": "Vpc"}, "InternetGatewayId": {"Ref": "Gateway"}},
    }
    del multi_user["Resources"]["AppRotation"]["Properties"]["HostedRotationLambda"]["VpcSubnetIds"]
    _open_to_everyone(multi_user)
    assert linter.findings(render(multi_user, "yaml")) == set()


CLUSTER_GROUPS = properties("Cluster", "VpcSecurityGroupIds")


def _open_to_everyone(template: dict) -> None:
    """The database's group admits its port from any address, as a public database may."""
    group = template["Resources"]["DatabaseSecurityGroup"]["Properties"]
    group["SecurityGroupIngress"] = [
        {"IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306, "CidrIp": "0.0.0.0/0"}
    ]


FUNCTION = {
    "Type": "AWS::Lambda::Function",
    "Properties": {
        "Runtime": "python3.12",
        "Handler": "index.handler",
        "Role": "arn:aws:iam::123456789012:role/rotation",
        "Code": {"ZipFile": "def handler(event, context):\n    pass\n"},
    },
}


INVOKE = {
    "Type": "AWS::Lambda::Permission",
    "Properties": {
        "FunctionName": {"Fn::GetAtt": ["RotateFunction", "Arn"]},
        "Action": "lambda:InvokeFunction",
        "Principal": "secretsmanager.amazonaws.com",
    },
}


def _custom_function(template: dict, **settings) -> None:
    function = copy.deepcopy(FUNCTION)
    function["Properties"].update(settings)
    template["Resources"]["RotateFunction"] = function
    template["Resources"]["RotateFunctionInvoke"] = copy.deepcopy(INVOKE)
    template["Resources"]["AdminRotation"]["DependsOn"] = [
        "AdminAttachment",
        "RotateFunctionInvoke",
    ]
    schedule = template["Resources"]["AdminRotation"]["Properties"]
    del schedule["HostedRotationLambda"]
    schedule["RotationLambdaARN"] = {"Fn::GetAtt": ["RotateFunction", "Arn"]}
    _with_writer(template, PubliclyAccessible=False)


def test_er702_custom_rotation_function_without_vpc_config(linter, multi_user):
    _custom_function(multi_user)
    matches = linter.matches(render(multi_user, "yaml"))
    assert {(m.rule.id, m.path_string) for m in matches} == {
        ("ER702", properties("RotateFunction"))
    }
    assert "add VpcConfig (SubnetIds, SecurityGroupIds) to function RotateFunction" in (
        matches[0].message
    )


def test_er702_custom_rotation_function_in_the_vpc(linter, multi_user):
    _custom_function(
        multi_user,
        VpcConfig={
            "SubnetIds": [{"Ref": "SubnetA"}, {"Ref": "SubnetB"}],
            "SecurityGroupIds": [{"Fn::GetAtt": ["RotationSecurityGroup", "GroupId"]}],
        },
    )
    assert linter.findings(render(multi_user, "yaml")) == set()


# -- ER303 ----------------------------------------------------------------------------------

OWNER_JSON = properties("OwnerSecret", "GenerateSecretString", "SecretStringTemplate")


def test_er303_master_username_other_than_the_secrets(linter, app):
    app["Resources"]["Database"]["Properties"]["MasterUsername"] = "admin"
    matches = linter.matches(render(app, "yaml"))
    assert {(m.rule.id, m.path_string) for m in matches} == {("ER303", OWNER_JSON)}
    assert "username 'owner'" in matches[0].message
    assert "MasterUsername 'admin'" in matches[0].message


def test_er303_sub_escape_writes_the_reference_literally(linter, app):
    app["Parameters"]["OwnerName"] = {
        "Type": "String",
        "Default": "owner",
        "Description": "Master user",
    }
    generate = app["Resources"]["OwnerSecret"]["Properties"]["GenerateSecretString"]
    generate["SecretStringTemplate"] = {"Fn::Sub": '{"username": "${!Ref OwnerName}"}'}
    app["Resources"]["Database"]["Properties"]["MasterUsername"] = {"Ref": "OwnerName"}
    matches = linter.matches(render(app, "yaml"))
    assert {(m.rule.id, m.path_string) for m in matches} == {("ER303", OWNER_JSON)}
    assert "username '${Ref OwnerName}'" in matches[0].message
    assert "escape" in matches[0].message


@pytest.mark.parametrize(
    "master_username",
    [
        pytest.param("owner", id="the-same-literal"),
        pytest.param(
            {"Fn::Sub": "{{resolve:secretsmanager:${OwnerSecret}:SecretString:username}}"},
            id="resolved-from-the-secret",
        ),
    ],
)
def test_er303_silent_when_the_usernames_agree(linter, app, master_username):
    app["Resources"]["Database"]["Properties"]["MasterUsername"] = master_username
    assert linter.findings(render(app, "yaml")) == set()


def test_er303_silent_for_a_secret_no_rotation_logs_in_with(linter, app):
    app["Resources"]["Database"]["Properties"]["MasterUsername"] = "admin"
    del app["Resources"]["OwnerRotation"]
    del parameters(app, "ServiceRotationApp")["masterSecretArn"]
    generate = app["Resources"]["ServiceSecret"]["Properties"]["GenerateSecretString"]
    generate["SecretStringTemplate"] = {
        "Fn::Sub": '{"username": "${ServiceUser}", "masterarn": "arn:aws:secretsmanager:x"}'
    }
    assert "ER303" not in {rule for rule, _ in linter.findings(render(app, "yaml"))}


@pytest.mark.parametrize(
    "earlier",
    [
        pytest.param({"SnapshotIdentifier": "snap-1", "MasterUsername": "x"}, id="from-a-snapshot"),
        pytest.param({"MasterUsername": "x", "MasterUserPassword": "literal"}, id="no-secret"),
        pytest.param({"Engine": "aurora-mysql"}, id="no-master-username"),
    ],
)
def test_er303_database_after_one_it_does_not_judge(linter, app, earlier):
    put_first(app, "Earlier", {"Type": "AWS::RDS::DBCluster", "Properties": earlier})
    app["Resources"]["Database"]["Properties"]["MasterUsername"] = "admin"
    found = linter.findings(render(app, "yaml"))
    assert ("ER303", OWNER_JSON) in found


def test_er303_when_the_master_secret_is_not_the_first_secret(linter, app):
    put_first(app, "ServiceSecret")
    app["Resources"]["Database"]["Properties"]["MasterUsername"] = "admin"
    assert ("ER303", OWNER_JSON) in linter.findings(render(app, "yaml"))


@pytest.mark.parametrize(
    "agreeing", ['{"username": "owner"}', '{"username": "${Unknown}"}'], ids=["same", "unknown"]
)
def test_er303_judges_each_condition_value_of_the_secret(linter, app, agreeing):
    """With the condition one way the secret agrees with the database (or cannot be read); the
    other way it names another user: that way is reported whichever the scenarios' order."""
    app["Parameters"]["Unknown"] = {"Type": "String", "Description": "chosen at deploy time"}
    app["Conditions"] = {"East": {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}}
    generate = app["Resources"]["OwnerSecret"]["Properties"]["GenerateSecretString"]
    for first, second in ((agreeing, '{"username": "admin"}'), ('{"username": "admin"}', agreeing)):
        generate["SecretStringTemplate"] = {
            "Fn::If": ["East", {"Fn::Sub": first}, {"Fn::Sub": second}]
        }
        matches = linter.matches(render(app, "yaml"))
        assert [m.rule.id for m in matches if m.rule.id == "ER303"] == ["ER303"]
        assert "username 'admin'" in next(m for m in matches if m.rule.id == "ER303").message


def test_er303_names_the_first_value_each_side_can_take(linter, app):
    app["Parameters"]["OwnerName"] = {
        "Type": "String",
        "AllowedValues": ["owner_a", "owner_b"],
        "Description": "the secret's user",
    }
    app["Parameters"]["MasterName"] = {
        "Type": "String",
        "AllowedValues": ["admin", "root"],
        "Description": "the database's master user",
    }
    generate = app["Resources"]["OwnerSecret"]["Properties"]["GenerateSecretString"]
    generate["SecretStringTemplate"] = {"Fn::Sub": '{"username": "${OwnerName}"}'}
    app["Resources"]["Database"]["Properties"]["MasterUsername"] = {"Ref": "MasterName"}
    (match,) = [m for m in linter.matches(render(app, "yaml")) if m.rule.id == "ER303"]
    assert "username 'owner_a'" in match.message
    assert "MasterUsername 'admin'" in match.message


def test_er702_after_a_schedule_whose_secret_has_no_attachment(linter, multi_user):
    """AdminRotation, first, rotates a secret attached to no database: nothing to reach."""
    _with_writer(multi_user, PubliclyAccessible=False)
    resources = multi_user["Resources"]
    del resources["AdminAttachment"]
    resources["AdminRotation"]["DependsOn"] = "Cluster"
    del resources["AppRotation"]["Properties"]["HostedRotationLambda"]["VpcSubnetIds"]
    found = linter.findings(render(multi_user, "yaml"))
    assert {f for f in found if f[0] == "ER702"} == {
        ("ER702", hosted("AppRotation", "VpcSubnetIds"))
    }


def test_er702_once_per_schedule_for_a_secret_attached_twice(linter, multi_user):
    """AppSecret is attached to two private clusters: one finding says what to fix."""
    _with_writer(multi_user, PubliclyAccessible=False)
    resources = multi_user["Resources"]
    resources["Cluster2"] = copy.deepcopy(resources["Cluster"])
    resources["Writer2"] = copy.deepcopy(resources["Writer"])
    resources["Writer2"]["Properties"]["DBClusterIdentifier"] = {"Ref": "Cluster2"}
    resources["AppAttachment2"] = copy.deepcopy(resources["AppAttachment"])
    resources["AppAttachment2"]["Properties"]["TargetId"] = {"Ref": "Cluster2"}
    del resources["AppRotation"]["Properties"]["HostedRotationLambda"]["VpcSubnetIds"]
    matches = linter.matches(render(multi_user, "yaml"))
    assert [m.path_string for m in matches if m.rule.id == "ER702"] == [
        hosted("AppRotation", "VpcSubnetIds")
    ]


def _private_by_default(template: dict) -> None:
    """A Writer with no PubliclyAccessible in a VPC with no internet gateway, and AppRotation
    outside any VPC."""
    _with_writer(template, DBSubnetGroupName={"Ref": "SubnetGroup"})
    del template["Resources"]["AppRotation"]["Properties"]["HostedRotationLambda"]["VpcSubnetIds"]


def test_er702_a_vpn_gateway_does_not_make_the_database_public(linter, multi_user):
    _private_by_default(multi_user)
    resources = multi_user["Resources"]
    resources["VpnGateway"] = {"Type": "AWS::EC2::VPNGateway", "Properties": {"Type": "ipsec.1"}}
    resources["VpnAttachment"] = {
        "Type": "AWS::EC2::VPCGatewayAttachment",
        "Properties": {"VpcId": {"Ref": "Vpc"}, "VpnGatewayId": {"Ref": "VpnGateway"}},
    }
    assert linter.findings(render(multi_user, "yaml")) == {
        ("ER702", hosted("AppRotation", "VpcSubnetIds"))
    }


def test_er702_after_a_resource_without_properties(linter, multi_user):
    _private_by_default(multi_user)
    handle = {"Type": "AWS::CloudFormation::WaitConditionHandle"}
    multi_user["Resources"] = {"Handle": handle, **multi_user["Resources"]}
    assert linter.findings(render(multi_user, "yaml")) == {
        ("ER702", hosted("AppRotation", "VpcSubnetIds"))
    }


def test_er702_second_database_of_a_secret_is_private(linter, multi_user):
    """AppSecret is attached to Cluster (its instances made elsewhere: unknown) and to the
    private Cluster2."""
    resources = multi_user["Resources"]
    resources["Cluster2"] = copy.deepcopy(resources["Cluster"])
    resources["AppAttachment2"] = copy.deepcopy(resources["AppAttachment"])
    resources["AppAttachment2"]["Properties"]["TargetId"] = {"Ref": "Cluster2"}
    _with_writer(multi_user, PubliclyAccessible=False)
    resources["Writer"]["Properties"]["DBClusterIdentifier"] = {"Ref": "Cluster2"}
    resources["AppRotation"]["DependsOn"] = ["AppAttachment", "AppAttachment2", "AdminRotation"]
    del resources["AppRotation"]["Properties"]["HostedRotationLambda"]["VpcSubnetIds"]
    matches = [m for m in linter.matches(render(multi_user, "yaml")) if m.rule.id == "ER702"]
    assert [m.path_string for m in matches] == [hosted("AppRotation", "VpcSubnetIds")]
    assert "database Cluster2" in matches[0].message
