"""The multi-user template's application user: Custom::MySQLUser creates it (and the demo table)
from the two secrets before either rotation, from a function inside the VPC that may read exactly
those secrets. The single-user template has no application user and no Custom::MySQLUser."""

import pytest

from tests.helpers.bootstrap_files import cluster_values
from tests.helpers.cfn_templates import (
    MYSQL_USER_FUNCTION_ARN,
    Context,
    all_dependencies,
    evaluate,
    properties,
    resources,
)
from tests.templates.test_existing_cluster import statements

ADMIN_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:AdminSecret-AbCdEf"
APP_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:AppSecret-XyZ123"
FUNCTION_ARN = MYSQL_USER_FUNCTION_ARN
# What the first login of Custom::MySQLUser needs: the database, both secrets' host and port,
# and its whole network path (Secrets Manager endpoint, S3 for its answer, each rule both ways).
USER_PREREQUISITES = {
    "AdminSecretAttachment",
    "AppSecretAttachment",
    "DatabaseInstance",
    "SecretsManagerEndpoint",
    "S3GatewayEndpoint",
    "MySQLUserToDatabaseEgress",
    "MySQLUserToEndpointsEgress",
    "MySQLUserToS3Egress",
    "DatabaseFromMySQLUserIngress",
    "EndpointsFromMySQLUserIngress",
}


def test_single_user_template_has_no_application_user(single):
    assert not resources(single, "Custom::MySQLUser")
    assert "AppUsername" not in single["Parameters"]
    assert "MySQLUserCodeS3Key" not in single["Parameters"]


def test_app_user_reads_prices_only_and_the_demo_schema_is_asked_for(multi):
    (name,) = resources(multi, "Custom::MySQLUser")
    context = Context(
        multi,
        AdminSecret=ADMIN_ARN,
        AppSecret=APP_ARN,
        DatabaseName="shopdb",
        **cluster_values("demo.cluster-c0ffee.us-east-1.rds.amazonaws.com", 3306),
        **{"MySQLUserFunction.Arn": FUNCTION_ARN},
    )
    given = evaluate(properties(multi, name), context)
    # What tells an Update that CloudFormation generated the secret anew: its own block.
    assert given.pop("AppSecretGeneration") == evaluate(
        properties(multi, "AppSecret")["GenerateSecretString"], context
    )
    assert given == {
        "ServiceToken": FUNCTION_ARN,
        "ServiceTimeout": "300",
        "AdminSecretArn": ADMIN_ARN,
        "AppSecretArn": APP_ARN,
        "Grants": [{"Privileges": ["SELECT"], "Database": "shopdb", "Table": "prices"}],
        "DemoSchema": "true",
        # CloudFormation deletes AppUser before the cluster: with deletion protection the
        # cluster survives the stack's deletion, and so must its application user.
        "RetainOnDelete": "true",
        "AdoptExistingUser": "false",
    }


def test_app_user_comes_after_its_database_secrets_and_network_path(multi):
    before = all_dependencies(multi, "AppUser")
    assert before >= USER_PREREQUISITES, USER_PREREQUISITES - before
    assert "TestInstance" not in before


@pytest.mark.parametrize("schedule", ["AppSecretRotation", "AdminSecretRotation"])
def test_rotations_and_the_instance_come_after_the_app_user(multi, schedule):
    # The alternating-users function logs in as the current user before it clones it; the admin
    # password must not change while the function logs in with it.
    assert "AppUser" in all_dependencies(multi, schedule)
    assert "AppUser" in all_dependencies(multi, "TestInstance")


def test_user_function_runs_in_both_private_subnets_with_its_own_group(multi):
    function = properties(multi, "MySQLUserFunction")
    assert function["Handler"] == "app.handler"
    assert function["Runtime"].startswith("python3.")
    assert function["Timeout"] == 60
    assert function["Timeout"] < properties(multi, "AppUser")["ServiceTimeout"]
    assert function["Code"] == {
        "S3Bucket": {"Ref": "RoleLookupCodeS3Bucket"},
        "S3Key": {"Ref": "MySQLUserCodeS3Key"},
    }
    assert function["VpcConfig"] == {
        "SubnetIds": [{"Ref": "PrivateSubnetA"}, {"Ref": "PrivateSubnetB"}],
        "SecurityGroupIds": [{"Fn::GetAtt": ["MySQLUserSecurityGroup", "GroupId"]}],
    }
    assert function["LoggingConfig"] == {"LogGroup": {"Ref": "MySQLUserLogGroup"}}
    assert "TlsCaFile" not in properties(multi, "AppUser"), "the function's RDS bundle default"
    group = multi["Resources"]["MySQLUserLogGroup"]
    assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionInDays"}
    assert (group["DeletionPolicy"], group["UpdateReplacePolicy"]) == ("Delete", "Delete")


def test_user_function_may_read_exactly_the_two_secrets_and_write_its_own_logs(multi):
    role = properties(multi, "MySQLUserRole")
    assert "ManagedPolicyArns" not in role
    by_action = {str(s["Action"]): s["Resource"] for s in statements(role)}
    assert by_action == {
        "secretsmanager:GetSecretValue": [{"Ref": "AdminSecret"}, {"Ref": "AppSecret"}],
        # Only to drop a stale AWSPENDING after CloudFormation generated the secret anew.
        "['secretsmanager:DescribeSecret', 'secretsmanager:UpdateSecretVersionStage']": {
            "Ref": "AppSecret"
        },
        "['logs:CreateLogStream', 'logs:PutLogEvents']": {
            "Fn::GetAtt": ["MySQLUserLogGroup", "Arn"]
        },
        # Network interfaces in the VPC: these actions cannot be scoped to a resource.
        "['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets', "
        "'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', "
        "'ec2:UnassignPrivateIpAddresses']": "*",
    }
    assert all(s["Effect"] == "Allow" for s in statements(role))


def test_code_key_parameters_share_one_constraint(multi):
    keys = multi["Parameters"]
    strip = {"Description"}
    assert {k: v for k, v in keys["MySQLUserCodeS3Key"].items() if k not in strip} == {
        k: v for k, v in keys["RoleLookupCodeS3Key"].items() if k not in strip
    }
    assert "dist/mysql_user.zip" in keys["MySQLUserCodeS3Key"]["Description"]
