"""ER303 for every database type that takes a MasterUsername: RDS instances, Aurora and Multi-AZ
clusters, DocumentDB and Redshift clusters (issue 20, point 6), with rotation functions of the
template's own as well as hosted ones."""

from __future__ import annotations

import copy

import pytest
from lint_rules_kit import FORMS, load, properties, render

CUSTOM = load("good_custom_function.yaml")
SAM = load("good_sam_docdb.yaml")
CUSTOM_JSON = properties("DatabaseSecret", "GenerateSecretString", "SecretStringTemplate")
SAM_JSON = properties("ClusterSecret", "GenerateSecretString", "SecretStringTemplate")
REDSHIFT = {
    "Type": "AWS::Redshift::Cluster",
    "Properties": {
        "ClusterType": "single-node",
        "NodeType": "ra3.xlplus",
        "DBName": "warehouse",
        "MasterUsername": "awsuser",
        "MasterUserPassword": {
            "Fn::Sub": "{{resolve:secretsmanager:${DatabaseSecret}:SecretString:password}}"
        },
        "Encrypted": True,
    },
}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(
    "case",
    [
        pytest.param((CUSTOM, "Database", CUSTOM_JSON, "pgadmin", "postgres"), id="rds-instance"),
        pytest.param((SAM, "Cluster", SAM_JSON, "docdbadmin", "docdb"), id="documentdb-cluster"),
    ],
)
def test_er303_database_rotated_by_a_function_of_the_template(linter, form, case):
    template, database, path, secret_user, master_user = case
    changed = copy.deepcopy(template)
    changed["Resources"][database]["Properties"]["MasterUsername"] = master_user
    matches = linter.matches(render(changed, form))
    assert {(m.rule.id, m.path_string) for m in matches} == {("ER303", path)}
    assert f"holds username {secret_user!r}" in matches[0].message
    assert f"while {database} is created with MasterUsername {master_user!r}" in matches[0].message


@pytest.mark.parametrize("form", FORMS)
def test_er303_redshift_cluster(linter, form):
    custom = copy.deepcopy(CUSTOM)
    custom["Resources"]["Warehouse"] = copy.deepcopy(REDSHIFT)
    assert ("ER303", CUSTOM_JSON) in linter.findings(render(custom, form))
    custom["Resources"]["Warehouse"]["Properties"]["MasterUsername"] = {
        "Fn::Sub": "{{resolve:secretsmanager:${DatabaseSecret}:SecretString:username}}"
    }
    assert "ER303" not in {rule for rule, _ in linter.findings(render(custom, form))}


@pytest.mark.parametrize(
    "username",
    [
        pytest.param("pgadmin", id="the-same-literal"),
        pytest.param({"Ref": "AdminName"}, id="a-parameter-that-may-agree"),
    ],
)
def test_er303_silent_when_the_instance_and_secret_can_agree(linter, username):
    custom = copy.deepcopy(CUSTOM)
    custom["Parameters"]["AdminName"] = {
        "Type": "String",
        "AllowedValues": ["pgadmin", "postgres"],
        "Description": "master user",
    }
    custom["Resources"]["Database"]["Properties"]["MasterUsername"] = username
    assert linter.findings(render(custom, "yaml")) == set()
