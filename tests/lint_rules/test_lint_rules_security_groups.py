"""ER702 (another VPC), ER703 and IR704: the network between a rotation function and its database,
judged on what the template shows (issue 20, point 4)."""

from __future__ import annotations

import copy

import pytest
from lint_rules_kit import FORMS, load, properties, render

CUSTOM = load("good_custom_function.yaml")
SAM = load("good_sam_docdb.yaml")
FUNCTION_GROUPS = properties("RotationFunction", "VpcConfig", "SecurityGroupIds")
FUNCTION_SUBNETS = properties("RotationFunction", "VpcConfig", "SubnetIds")
DATABASE_GROUPS = properties("Database", "VPCSecurityGroups")


@pytest.fixture
def custom() -> dict:
    return copy.deepcopy(CUSTOM)


def _ingress(template: dict) -> dict:
    return template["Resources"]["DatabaseGroup"]["Properties"]["SecurityGroupIngress"][0]


# -- ER703 --------------------------------------------------------------------------------
@pytest.mark.parametrize("form", FORMS)
def test_er703_function_group_sends_nothing_to_the_database_port(linter, custom, form):
    """The function's group has explicit egress (443 only): EC2's allow-all rule is gone."""
    del custom["Resources"]["FunctionToDatabase"]
    matches = linter.matches(render(custom, form))
    assert {(m.rule.id, m.path_string) for m in matches} == {("ER703", FUNCTION_GROUPS)}
    assert (
        "the security groups of function RotationFunction (FunctionGroup) allow no outbound "
        "traffic to database Database on port 5432"
    ) in matches[0].message
    assert "DestinationSecurityGroupId: !GetAtt DatabaseGroup.GroupId" in matches[0].message


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(
    "rule",
    [
        pytest.param({"FromPort": 3306, "ToPort": 3306}, id="the-mysql-port"),
        pytest.param({"IpProtocol": "udp"}, id="udp"),
        pytest.param(
            {"SourceSecurityGroupId": {"Fn::GetAtt": ["EndpointGroup", "GroupId"]}},
            id="another-group",
        ),
    ],
)
def test_er703_database_group_admits_something_else(linter, custom, form, rule):
    _ingress(custom).update(rule)
    matches = linter.matches(render(custom, form))
    assert {(m.rule.id, m.path_string) for m in matches} == {("ER703", DATABASE_GROUPS)}
    assert (
        "the security groups of database Database (DatabaseGroup) admit no traffic on port 5432 "
        "from function RotationFunction (security groups FunctionGroup)"
    ) in matches[0].message
    assert "SourceSecurityGroupId: !GetAtt FunctionGroup.GroupId" in matches[0].message


@pytest.mark.parametrize(
    ("cidr", "finding"),
    [
        pytest.param("10.9.0.0/16", True, id="another-range"),
        pytest.param("10.2.0.0/24", None, id="one-of-two-subnets"),
        pytest.param("10.2.0.0/16", False, id="the-vpc-range"),
        pytest.param("0.0.0.0/0", False, id="anywhere"),
        pytest.param({"Fn::GetAtt": ["Vpc", "CidrBlock"]}, False, id="the-vpcs-own-range"),
    ],
)
def test_er703_database_group_admits_a_range(linter, informed, custom, cidr, finding):
    rule = _ingress(custom)
    del rule["SourceSecurityGroupId"]
    rule["CidrIp"] = cidr
    found = informed.findings(render(custom, "yaml"))
    if finding is None:  # the range holds one subnet of the function: it may run in the other
        assert {rule for rule, _ in found} == {"IR704"}
    else:
        assert found == ({("ER703", DATABASE_GROUPS)} if finding else set())


def test_er703_database_in_its_vpcs_default_group(linter, custom):
    """A database without groups gets its VPC's default group: it admits its members only."""
    del custom["Resources"]["Database"]["Properties"]["VPCSecurityGroups"]
    del custom["Resources"]["FunctionToDatabase"]
    matches = linter.matches(render(custom, "yaml"))
    assert {(m.rule.id, m.path_string) for m in matches} == {
        ("ER703", properties("Database")),
        ("ER703", FUNCTION_GROUPS),
    }
    ingress = next(m for m in matches if m.path_string == properties("Database"))
    assert "(the default security group of VPC Vpc)" in ingress.message
    function = custom["Resources"]["RotationFunction"]["Properties"]["VpcConfig"]
    function["SecurityGroupIds"].append({"Fn::GetAtt": ["Vpc", "DefaultSecurityGroup"]})
    assert linter.findings(render(custom, "yaml")) == set()


def test_er703_function_outside_any_vpc_and_a_public_database(linter, custom):
    del custom["Resources"]["RotationFunction"]["Properties"]["VpcConfig"]
    custom["Resources"]["Database"]["Properties"]["PubliclyAccessible"] = True
    matches = linter.matches(render(custom, "yaml"))
    assert {(m.rule.id, m.path_string) for m in matches} == {("ER703", DATABASE_GROUPS)}
    assert "which runs outside any VPC and so comes from a public address" in matches[0].message
    _ingress(custom).update({"CidrIp": "0.0.0.0/0"})
    del _ingress(custom)["SourceSecurityGroupId"]
    assert linter.findings(render(custom, "yaml")) == set()


@pytest.mark.parametrize("form", FORMS)
def test_er703_documentdb_on_its_default_port(linter, form):
    """DocumentDB's port (27017) from the cluster's Port attribute, as the CDK writes it."""
    sam = copy.deepcopy(SAM)
    ingress = sam["Resources"]["ClusterFromFunction"]["Properties"]
    ingress["FromPort"] = ingress["ToPort"] = 5432
    matches = linter.matches(render(sam, form))
    assert {(m.rule.id, m.path_string) for m in matches} == {
        ("ER703", properties("Cluster", "VpcSecurityGroupIds"))
    }
    assert "on port 27017" in matches[0].message


def test_er703_silent_when_the_function_group_keeps_ec2s_default_egress(linter, custom):
    del custom["Resources"]["FunctionGroup"]["Properties"]["SecurityGroupEgress"]
    del custom["Resources"]["FunctionToDatabase"]
    assert linter.findings(render(custom, "yaml")) == set()


def test_er703_silent_for_all_traffic_rules(linter, custom):
    _ingress(custom).update({"IpProtocol": "-1", "FromPort": -1, "ToPort": -1})
    assert linter.findings(render(custom, "yaml")) == set()


# -- ER702 in another VPC -------------------------------------------------------------------
def _function_in_a_second_vpc(template: dict) -> None:
    resources = template["Resources"]
    resources["OtherVpc"] = {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.7.0.0/16"}}
    resources["OtherSubnet"] = {
        "Type": "AWS::EC2::Subnet",
        "Properties": {"VpcId": {"Ref": "OtherVpc"}, "CidrBlock": "10.7.0.0/24"},
    }
    resources["OtherEndpoint"] = copy.deepcopy(resources["SecretsEndpoint"])
    resources["OtherEndpoint"]["Properties"]["VpcId"] = {"Ref": "OtherVpc"}
    config = resources["RotationFunction"]["Properties"]["VpcConfig"]
    config["SubnetIds"] = [{"Ref": "OtherSubnet"}]
    resources["FunctionGroup"]["Properties"]["VpcId"] = {"Ref": "OtherVpc"}


@pytest.mark.parametrize("form", FORMS)
def test_er702_function_in_another_vpc_of_the_template(linter, custom, form):
    _function_in_a_second_vpc(custom)
    matches = linter.matches(render(custom, form))
    assert {(m.rule.id, m.path_string) for m in matches} == {("ER702", FUNCTION_SUBNETS)}
    assert (
        "function RotationFunction runs in VPC OtherVpc but database Database runs in VPC Vpc and "
        "is not publicly accessible (Database sets PubliclyAccessible: false)"
    ) in matches[0].message


def test_er702_not_judged_when_the_template_joins_vpcs(linter, informed, custom):
    _function_in_a_second_vpc(custom)
    custom["Resources"]["Peering"] = {
        "Type": "AWS::EC2::VPCPeeringConnection",
        "Properties": {"VpcId": {"Ref": "Vpc"}, "PeerVpcId": {"Ref": "OtherVpc"}},
    }
    assert linter.findings(render(custom, "yaml")) == set()
    (match,) = informed.matches(render(custom, "yaml"))
    assert match.rule.id == "IR704"
    assert "peering connection or transit gateway attachment" in match.message


@pytest.mark.parametrize("value", ["", {"Ref": "NoSubnets"}], ids=["literal", "parameter"])
def test_er702_empty_vpc_subnet_ids_counts_as_outside(linter, multi_user, value):
    multi_user["Parameters"]["NoSubnets"] = {"Type": "String", "Default": "", "Description": "x"}
    multi_user["Resources"]["Writer"] = {
        "Type": "AWS::RDS::DBInstance",
        "Properties": {
            "DBClusterIdentifier": {"Ref": "Cluster"},
            "DBInstanceClass": "db.t4g.medium",
            "Engine": "aurora-mysql",
            "PubliclyAccessible": False,
        },
    }
    settings = multi_user["Resources"]["AppRotation"]["Properties"]["HostedRotationLambda"]
    settings["VpcSubnetIds"] = value
    matches = linter.matches(render(multi_user, "yaml"))
    assert [m.rule.id for m in matches] == ["ER702"]
    assert "HostedRotationLambda sets VpcSubnetIds to an empty value" in matches[0].message


# -- IR704 --------------------------------------------------------------------------------
@pytest.mark.parametrize("form", FORMS)
def test_ir704_says_which_values_decide(informed, custom, form):
    custom["Parameters"]["DatabaseGroupId"] = {
        "Type": "AWS::EC2::SecurityGroup::Id",
        "Description": "the database's group",
    }
    custom["Resources"]["Database"]["Properties"]["VPCSecurityGroups"] = [
        {"Ref": "DatabaseGroupId"}
    ]
    del custom["Resources"]["FunctionToDatabase"]
    custom["Resources"]["FunctionGroup"]["Properties"]["SecurityGroupEgress"].append(
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "CidrIp": "10.2.0.0/16"}
    )
    matches = informed.matches(render(custom, form))
    assert {(m.rule.id, m.path_string) for m in matches} == {("IR704", FUNCTION_SUBNETS)}
    assert (
        "whether function RotationFunction reaches database Database on port 5432 cannot be told "
        "from the template: a security group of database Database comes from parameter "
        "DatabaseGroupId"
    ) in matches[0].message


def test_ir704_function_subnets_passed_in_for_a_private_database(informed, custom):
    custom["Parameters"]["Subnets"] = {
        "Type": "List<AWS::EC2::Subnet::Id>",
        "Description": "the function's subnets",
    }
    config = custom["Resources"]["RotationFunction"]["Properties"]["VpcConfig"]
    config["SubnetIds"] = {"Ref": "Subnets"}
    config["SecurityGroupIds"] = [{"Fn::ImportValue": "shared-rotation-group"}]
    (match,) = informed.matches(render(custom, "yaml"))
    assert match.rule.id == "IR704"
    assert "whether both run in one VPC cannot be known (from parameter Subnets" in match.message
    assert "comes from an Fn::ImportValue" in match.message


def test_ir704_off_by_default_and_silent_when_one_import_names_both_vpcs(linter, informed, custom):
    """Subnets from imports, but both groups are in the VPC one import names: judged."""
    resources = custom["Resources"]
    for group in ("FunctionGroup", "DatabaseGroup", "EndpointGroup"):
        resources[group]["Properties"]["VpcId"] = {"Fn::ImportValue": "network-vpc"}
    resources["RotationFunction"]["Properties"]["VpcConfig"]["SubnetIds"] = {
        "Fn::Split": [",", {"Fn::ImportValue": "network-private-subnets"}]
    }
    resources["DatabaseSubnets"]["Properties"]["SubnetIds"] = {
        "Fn::Split": [",", {"Fn::ImportValue": "network-private-subnets"}]
    }
    assert informed.findings(render(custom, "yaml")) == set()
    del resources["FunctionToDatabase"]
    assert linter.findings(render(custom, "yaml")) == {("ER703", FUNCTION_GROUPS)}


# -- ER701 for a function of the template's own -----------------------------------------------
@pytest.mark.parametrize("form", FORMS)
def test_er701_function_of_the_template_without_a_way_to_secrets_manager(linter, custom, form):
    del custom["Resources"]["SecretsEndpoint"]
    matches = linter.matches(render(custom, form))
    assert {(m.rule.id, m.path_string) for m in matches} == {("ER701", FUNCTION_SUBNETS)}
    messages = sorted(m.message for m in matches)
    assert len(messages) == 2  # one per subnet, at the same place
    assert "function RotationFunction runs in subnet SubnetA, which cannot reach" in messages[0]


def test_er701_own_code_may_call_an_endpoint_without_private_dns(linter, custom):
    """A function of the template's own may name the endpoint's DNS name in its settings."""
    custom["Resources"]["SecretsEndpoint"]["Properties"]["PrivateDnsEnabled"] = False
    assert linter.findings(render(custom, "yaml")) == set()
