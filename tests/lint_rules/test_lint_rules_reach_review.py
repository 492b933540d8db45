"""ER703 and IR704 on what only a deploy decides: security group rules under Fn::If and ports
from parameters (issue 20 review). A guess is never a finding: IR704 names what decides."""

from __future__ import annotations

import copy

import pytest
from lint_rules_kit import FORMS, load, properties, render

CUSTOM = load("good_custom_function.yaml")
FUNCTION_SUBNETS = properties("RotationFunction", "VpcConfig", "SubnetIds")
DATABASE_GROUPS = properties("Database", "VPCSecurityGroups")
FUNCTION_GROUPS = properties("RotationFunction", "VpcConfig", "SecurityGroupIds")
GOOD_INGRESS = {
    "IpProtocol": "tcp",
    "FromPort": 5432,
    "ToPort": 5432,
    "SourceSecurityGroupId": {"Fn::GetAtt": ["FunctionGroup", "GroupId"]},
}
WRONG_PORT = {**GOOD_INGRESS, "FromPort": 3306, "ToPort": 3306}


@pytest.fixture
def custom() -> dict:
    template = copy.deepcopy(CUSTOM)
    template["Conditions"] = {"Wide": {"Fn::Equals": [{"Ref": "RotationFunctionName"}, "wide"]}}
    return template


def _group(template: dict, name: str) -> dict:
    return template["Resources"][name]["Properties"]


def _if(first, second) -> dict:
    return {"Fn::If": ["Wide", first, second]}


@pytest.mark.parametrize("form", FORMS)
def test_ingress_list_under_fn_if_that_admits_in_both_branches_is_no_er703(
    linter, informed, custom, form
):
    """Both branches admit the function (its group, or its VPC's range): the old reader saw no
    ingress at all and reported ER703 on a correct template."""
    by_range = {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "CidrIp": "10.2.0.0/16"}
    _group(custom, "DatabaseGroup")["SecurityGroupIngress"] = _if([GOOD_INGRESS], [by_range])
    assert linter.findings(render(custom, form)) == set()
    (match,) = informed.matches(render(custom, form))
    assert (match.rule.id, match.path_string) == ("IR704", FUNCTION_SUBNETS)
    assert "the SecurityGroupIngress of DatabaseGroup differs between Fn::If branches" in (
        match.message
    )


@pytest.mark.parametrize("form", FORMS)
def test_one_rule_under_fn_if_gives_ir704_with_the_true_reason(linter, informed, custom, form):
    _group(custom, "DatabaseGroup")["SecurityGroupIngress"] = [
        _if(GOOD_INGRESS, {"Ref": "AWS::NoValue"})
    ]
    assert linter.findings(render(custom, form)) == set()
    (match,) = informed.matches(render(custom, form))
    assert "the SecurityGroupIngress of DatabaseGroup differs between Fn::If branches" in (
        match.message
    )
    assert "IpProtocol" not in match.message
    assert "prefix list" not in match.message


def test_fn_if_with_equal_branches_is_judged(linter, custom):
    """Branches that settle alike are one list: a wrong port in both is still ER703."""
    _group(custom, "DatabaseGroup")["SecurityGroupIngress"] = _if([WRONG_PORT], [WRONG_PORT])
    assert linter.findings(render(custom, "yaml")) == {("ER703", DATABASE_GROUPS)}
    _group(custom, "DatabaseGroup")["SecurityGroupIngress"] = _if([GOOD_INGRESS], [GOOD_INGRESS])
    assert linter.findings(render(custom, "yaml")) == set()


@pytest.mark.parametrize("form", FORMS)
def test_egress_under_fn_if_is_not_ec2s_allow_all(informed, custom, form):
    """Egress under Fn::If that may list only 443: the old reader kept EC2's allow-all rule
    and stayed silent; now IR704 says the branches decide."""
    del custom["Resources"]["FunctionToDatabase"]
    https = _group(custom, "FunctionGroup")["SecurityGroupEgress"]
    to_database = {
        "IpProtocol": "tcp",
        "FromPort": 5432,
        "ToPort": 5432,
        "DestinationSecurityGroupId": {"Fn::GetAtt": ["DatabaseGroup", "GroupId"]},
    }
    _group(custom, "FunctionGroup")["SecurityGroupEgress"] = _if(https, [*https, to_database])
    (match,) = informed.matches(render(custom, form))
    assert match.rule.id == "IR704"
    assert "the SecurityGroupEgress of FunctionGroup differs between Fn::If branches" in (
        match.message
    )
    _group(custom, "FunctionGroup")["SecurityGroupEgress"] = _if(https, https)
    assert informed.findings(render(custom, form)) == {("ER703", FUNCTION_GROUPS)}


def test_standalone_rule_under_fn_if_is_unknown(linter, informed, custom):
    rule = _group(custom, "FunctionToDatabase")
    rule["FromPort"] = _if(5432, 3306)
    assert linter.findings(render(custom, "yaml")) == set()
    (match,) = informed.matches(render(custom, "yaml"))
    assert "the rule FunctionToDatabase differs between the branches of an Fn::If" in match.message


def test_rules_that_are_no_list_are_unknown(linter, informed, custom):
    _group(custom, "DatabaseGroup")["SecurityGroupIngress"] = GOOD_INGRESS
    assert linter.findings(render(custom, "yaml")) == set()
    (match,) = informed.matches(render(custom, "yaml"))
    assert "the SecurityGroupIngress of DatabaseGroup is no list" in match.message


# -- ports from parameters --------------------------------------------------------------------
def _port_parameter(template: dict, **declaration) -> None:
    template["Parameters"]["AppPort"] = {"Type": "Number", "Description": "port", **declaration}
    rule = _group(template, "DatabaseGroup")["SecurityGroupIngress"][0]
    rule["FromPort"] = rule["ToPort"] = {"Ref": "AppPort"}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("default", [3306, 5432])
def test_a_rule_port_from_a_parameter_default_is_unknown(linter, informed, custom, form, default):
    """A Default is only what a deploy gets when it passes nothing: no finding rests on it."""
    _port_parameter(custom, Default=default)
    assert linter.findings(render(custom, form)) == set()
    (match,) = informed.matches(render(custom, form))
    assert match.rule.id == "IR704"
    assert "a rule's port comes from parameter AppPort" in match.message


@pytest.mark.parametrize(
    ("allowed", "found"),
    [
        pytest.param([3306], {("ER703", DATABASE_GROUPS)}, id="only-another-port"),
        pytest.param([5432], set(), id="only-the-database-port"),
        pytest.param([3306, 5432], {("IR704", FUNCTION_SUBNETS)}, id="one-of-them"),
    ],
)
def test_a_rule_port_from_allowed_values_takes_all_of_them(informed, custom, allowed, found):
    _port_parameter(custom, Default=allowed[0], AllowedValues=allowed)
    assert informed.findings(render(custom, "yaml")) == found


def test_a_database_port_from_a_parameter_default_is_unknown(linter, informed, custom):
    custom["Parameters"]["DbPort"] = {"Type": "Number", "Default": 3306, "Description": "port"}
    _group(custom, "Database")["Port"] = {"Ref": "DbPort"}
    assert linter.findings(render(custom, "yaml")) == set()
    (match,) = informed.matches(render(custom, "yaml"))
    assert "the database's port is only known at deploy time" in match.message
    custom["Parameters"]["DbPort"]["AllowedValues"] = [3306]
    assert linter.findings(render(custom, "yaml")) == {
        ("ER703", DATABASE_GROUPS),
        ("ER703", FUNCTION_GROUPS),
    }


# -- what the rules read, and what their messages say -----------------------------------------
@pytest.mark.parametrize("form", FORMS)
def test_er702_empty_subnet_list_of_the_templates_own_function(linter, custom, form):
    """`SubnetIds: []` puts the function outside any VPC; the message says the list is empty."""
    _group(custom, "RotationFunction")["VpcConfig"]["SubnetIds"] = []
    matches = [m for m in linter.matches(render(custom, form)) if m.rule.id == "ER702"]
    (match,) = matches
    assert match.path_string == FUNCTION_SUBNETS
    assert "function RotationFunction sets VpcConfig SubnetIds to an empty list" in match.message
    assert "has no VpcConfig" not in match.message


@pytest.mark.parametrize("form", FORMS)
def test_er703_fix_names_the_vpcs_default_group(linter, custom, form):
    """A database in its VPC's default group: the fix names !GetAtt Vpc.DefaultSecurityGroup,
    never a placeholder."""
    del _group(custom, "Database")["VPCSecurityGroups"]
    del custom["Resources"]["FunctionToDatabase"]
    messages = [m.message for m in linter.matches(render(custom, form))]
    assert len(messages) == 2
    assert all("<" not in m for m in messages)
    assert any("GroupId: !GetAtt Vpc.DefaultSecurityGroup, IpProtocol" in m for m in messages)
    destination = "DestinationSecurityGroupId: !GetAtt Vpc.DefaultSecurityGroup"
    assert any(destination in m for m in messages)


def test_protocol_number_6_is_tcp(linter, custom):
    _group(custom, "DatabaseGroup")["SecurityGroupIngress"][0]["IpProtocol"] = "6"
    assert linter.findings(render(custom, "yaml")) == set()
    _group(custom, "DatabaseGroup")["SecurityGroupIngress"][0]["IpProtocol"] = "17"
    assert linter.findings(render(custom, "yaml")) == {("ER703", DATABASE_GROUPS)}


def test_a_private_range_never_admits_a_function_outside_the_vpc(linter, informed, custom):
    """A public database, a function outside any VPC: 10.0.0.0/8 cannot hold its address."""
    del _group(custom, "RotationFunction")["VpcConfig"]
    _group(custom, "Database")["PubliclyAccessible"] = True
    rule = _group(custom, "DatabaseGroup")["SecurityGroupIngress"][0]
    del rule["SourceSecurityGroupId"]
    rule["CidrIp"] = "10.0.0.0/8"
    assert informed.findings(render(custom, "yaml")) == {("ER703", DATABASE_GROUPS)}
    rule["CidrIp"] = "203.0.113.0/24"  # may hold the NAT's or Lambda's address: unknown
    assert {r for r, _ in informed.findings(render(custom, "yaml"))} == {"IR704"}


def _redshift(template: dict, port: int) -> None:
    resources = template["Resources"]
    resources["DatabaseSubnets"] = {
        "Type": "AWS::Redshift::ClusterSubnetGroup",
        "Properties": {
            "Description": "Warehouse subnets",
            "SubnetIds": [{"Ref": "SubnetA"}, {"Ref": "SubnetB"}],
        },
    }
    resources["Database"] = {
        "Type": "AWS::Redshift::Cluster",
        "Properties": {
            "ClusterType": "single-node",
            "NodeType": "ra3.xlplus",
            "DBName": "warehouse",
            "MasterUsername": {
                "Fn::Sub": "{{resolve:secretsmanager:${DatabaseSecret}:SecretString:username}}"
            },
            "MasterUserPassword": {
                "Fn::Sub": "{{resolve:secretsmanager:${DatabaseSecret}:SecretString:password}}"
            },
            "ClusterSubnetGroupName": {"Ref": "DatabaseSubnets"},
            "VpcSecurityGroupIds": [{"Fn::GetAtt": ["DatabaseGroup", "GroupId"]}],
            "PubliclyAccessible": False,
            "Encrypted": True,
        },
    }
    resources["DatabaseAttachment"]["Properties"]["TargetType"] = "AWS::Redshift::Cluster"
    for rule in (
        _group(template, "DatabaseGroup")["SecurityGroupIngress"][0],
        _group(template, "FunctionToDatabase"),
    ):
        rule["FromPort"] = rule["ToPort"] = port


@pytest.mark.parametrize("form", FORMS)
def test_redshift_listens_on_5439_by_default(linter, custom, form):
    _redshift(custom, 5439)
    assert linter.findings(render(custom, form)) == set()
    _redshift(custom, 5432)
    matches = [m for m in linter.matches(render(custom, form)) if m.rule.id == "ER703"]
    assert {m.path_string for m in matches} == {
        properties("Database", "VpcSecurityGroupIds"),
        FUNCTION_GROUPS,
    }
    assert all("on port 5439" in m.message for m in matches)
