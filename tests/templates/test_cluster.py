"""The Aurora cluster: private, encrypted, kept on deletion, credentials from the admin secret."""

import itertools
import re

import pytest

from tests.helpers.cfn_templates import (
    TEMPLATES,
    Context,
    evaluate,
    load,
    properties,
    referenced_names,
    rule_violations,
)


def test_database_is_private_serverless_v2_aurora_mysql(template):
    cluster = properties(template, "DatabaseCluster")
    instance = properties(template, "DatabaseInstance")
    assert cluster["Engine"] == instance["Engine"] == "aurora-mysql"
    assert instance["DBInstanceClass"] == "db.serverless"
    assert instance["PubliclyAccessible"] is False
    assert instance["DBClusterIdentifier"] == {"Ref": "DatabaseCluster"}
    assert referenced_names(cluster["VpcSecurityGroupIds"]) == {"DatabaseSecurityGroup"}
    subnet_group = properties(template, "DatabaseSubnetGroup")
    assert referenced_names(subnet_group["SubnetIds"]) == {"PrivateSubnetA", "PrivateSubnetB"}


def test_storage_is_encrypted_and_data_survives_deletion(template):
    cluster = template["Resources"]["DatabaseCluster"]
    assert cluster["Properties"]["StorageEncrypted"] is True
    assert cluster["DeletionPolicy"] == cluster["UpdateReplacePolicy"] == "Snapshot"
    assert cluster["Properties"]["DeletionProtection"] == {"Ref": "DeletionProtection"}
    assert cluster["Properties"]["BackupRetentionPeriod"] == {"Ref": "BackupRetentionPeriod"}
    assert template["Parameters"]["BackupRetentionPeriod"]["MinValue"] >= 1


def test_master_credentials_come_from_the_admin_secret(template):
    cluster = properties(template, "DatabaseCluster")
    assert cluster["MasterUsername"] == {
        "Fn::Sub": "{{resolve:secretsmanager:${AdminSecret}:SecretString:username}}"
    }
    assert cluster["MasterUserPassword"] == {
        "Fn::Sub": "{{resolve:secretsmanager:${AdminSecret}:SecretString:password}}"
    }
    assert "ManageMasterUserPassword" not in cluster


def test_lts_engine_is_not_upgraded_automatically(template):
    # The default is a long-term-support release; AWS advises against automatic minor upgrades
    # for LTS versions, whose campaign target may be a non-LTS version (after which a stack
    # update naming a lower EngineVersion would fail).
    assert re.search(r"\.3\.(04|10)\.", template["Parameters"]["EngineVersion"]["Default"])
    assert properties(template, "DatabaseInstance")["AutoMinorVersionUpgrade"] is False


def test_default_engine_is_aurora_mysql_3(template):
    version = template["Parameters"]["EngineVersion"]
    assert re.fullmatch(r"8\.0\.mysql_aurora\.3\.\d{2}\.\d+", version["Default"])
    assert not re.fullmatch(version["AllowedPattern"], "5.7.mysql_aurora.2.12.4")


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_capacity_rule_accepts_exactly_min_at_most_max(name):
    template = load(TEMPLATES[name])
    minimums = template["Parameters"]["DatabaseMinCapacity"]["AllowedValues"]
    maximums = template["Parameters"]["DatabaseMaxCapacity"]["AllowedValues"]
    for low, high in itertools.product(minimums, maximums):
        violations = rule_violations(
            template, DatabaseMinCapacity=str(low), DatabaseMaxCapacity=str(high)
        )
        capacity_violations = [text for text in violations if "Capacity" in text]
        assert bool(capacity_violations) == (float(low) > float(high)), (low, high)


@pytest.mark.parametrize(("choice", "server_setting"), [("true", "ON"), ("false", "OFF")])
def test_cluster_requires_tls_unless_told_otherwise(template, choice, server_setting):
    assert template["Parameters"]["RequireSecureTransport"]["Default"] == "true"
    cluster = properties(template, "DatabaseCluster")
    assert cluster["DBClusterParameterGroupName"] == {"Ref": "DatabaseClusterParameterGroup"}
    group = properties(template, "DatabaseClusterParameterGroup")
    context = Context(template, RequireSecureTransport=choice)
    assert evaluate(group["Parameters"], context) == {"require_secure_transport": server_setting}


def test_parameter_group_family_matches_the_engine_versions_allowed(template):
    # A family that does not match the cluster's major version fails the create.
    pattern = template["Parameters"]["EngineVersion"]["AllowedPattern"]
    assert pattern.startswith(r"^8\.0\.mysql_aurora\.3\.")
    assert properties(template, "DatabaseClusterParameterGroup")["Family"] == "aurora-mysql8.0"
