"""The network keeps the database and the rotation functions private, and lets only the intended
paths through: rotation functions and the test instance to the database and the endpoints."""

import re

import pytest

from tests.helpers.cfn_templates import Context, evaluate, properties, referenced_names, resources

INTERNET_PATHS = {
    "AWS::EC2::InternetGateway",
    "AWS::EC2::EgressOnlyInternetGateway",
    "AWS::EC2::VPCGatewayAttachment",
    "AWS::EC2::NatGateway",
    "AWS::EC2::EIP",
    "AWS::EC2::VPCPeeringConnection",
    "AWS::EC2::TransitGatewayAttachment",
    "AWS::EC2::VPNGateway",
}
PLACEHOLDER_EGRESS = {"CidrIp": "127.0.0.1/32", "IpProtocol": "-1"}


def group_of(rule: dict, key: str) -> str:
    (name,) = referenced_names(rule[key])
    return name


def ingress_rules(template: dict) -> dict[str, dict]:
    return {
        name: body["Properties"]
        for name, body in resources(template, "AWS::EC2::SecurityGroupIngress").items()
    }


def egress_rules(template: dict) -> dict[str, dict]:
    return {
        name: body["Properties"]
        for name, body in resources(template, "AWS::EC2::SecurityGroupEgress").items()
    }


def in_vpc_function_groups(template: dict) -> set[str]:
    """The security groups of the template's own VPC-attached functions (Custom::MySQLUser)."""
    return {
        name
        for body in resources(template, "AWS::Lambda::Function").values()
        if "VpcConfig" in body["Properties"]
        for name in referenced_names(body["Properties"]["VpcConfig"]["SecurityGroupIds"])
    }


def subnet_zones(template: dict, **parameters: str) -> list[str]:
    context = Context(template, **parameters)
    return [
        evaluate(body["Properties"]["AvailabilityZone"], context)
        for body in resources(template, "AWS::EC2::Subnet").values()
    ]


def test_subnets_are_private_and_in_two_zones(template):
    subnets = resources(template, "AWS::EC2::Subnet")
    assert len(subnets) == 2
    for body in subnets.values():
        assert body["Properties"]["MapPublicIpOnLaunch"] is False
    # By default the first two zones the Region lists (Fn::GetAZs, no zone name in the template).
    assert subnet_zones(template) == ["us-east-1a", "us-east-1b"]


def test_deployer_can_choose_the_two_zones(template):
    # A zone name maps to a different physical zone in each account; when the first two lack
    # t4g instances or an endpoint service (use1-az3 is one such zone), naming two others must
    # not need a template edit.
    assert subnet_zones(template, AvailabilityZones="us-east-1c,us-east-1d") == [
        "us-east-1c",
        "us-east-1d",
    ]
    pattern = template["Parameters"]["AvailabilityZones"]["AllowedPattern"]
    for accepted in (
        "",
        "us-east-1b,us-east-1c",
        "ap-northeast-1a,ap-northeast-1c",
        "us-gov-west-1a,us-gov-west-1b",
    ):
        assert re.fullmatch(pattern, accepted), accepted
    for refused in (
        "us-east-1a",
        "us-east-1a,us-east-1b,us-east-1c",
        "us-east-1a, us-east-1b",
        "use1-az1,use1-az2",
    ):
        assert not re.fullmatch(pattern, refused), refused


def test_nothing_leads_to_the_internet(template):
    types = {body["Type"] for body in template["Resources"].values()}
    assert not types & INTERNET_PATHS
    # Route tables keep only their local route and the S3 gateway endpoint's prefix-list route.
    assert not resources(template, "AWS::EC2::Route")
    gateway_endpoints = [
        body["Properties"]["ServiceName"]
        for body in resources(template, "AWS::EC2::VPCEndpoint").values()
        if body["Properties"]["VpcEndpointType"] == "Gateway"
    ]
    assert gateway_endpoints == [{"Fn::Sub": "com.amazonaws.${AWS::Region}.s3"}]


def test_security_groups_have_no_inline_rules_but_the_egress_placeholder(template):
    for body in resources(template, "AWS::EC2::SecurityGroup").values():
        group = body["Properties"]
        assert "SecurityGroupIngress" not in group
        (egress,) = group["SecurityGroupEgress"]
        assert {key: egress[key] for key in PLACEHOLDER_EGRESS} == PLACEHOLDER_EGRESS


def test_nothing_is_reachable_from_an_address_range(template):
    for name, rule in ingress_rules(template).items():
        assert "CidrIp" not in rule, name
        assert "CidrIpv6" not in rule, name
        assert "SourceSecurityGroupId" in rule, name


@pytest.mark.parametrize(
    ("group", "port"), [("DatabaseSecurityGroup", 3306), ("EndpointSecurityGroup", 443)]
)
def test_database_and_endpoints_accept_one_port_from_rotation_and_test_instance(
    template, group, port
):
    inbound = [
        rule for rule in ingress_rules(template).values() if group_of(rule, "GroupId") == group
    ]
    assert {group_of(rule, "SourceSecurityGroupId") for rule in inbound} == {
        "RotationSecurityGroup",
        "TestInstanceSecurityGroup",
    } | in_vpc_function_groups(template)
    assert {(rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) for rule in inbound} == {
        ("tcp", port, port)
    }


def test_rotation_functions_reach_only_the_database_and_the_endpoints(template):
    from_rotation = {
        (rule["IpProtocol"], rule["FromPort"], group_of(rule, "DestinationSecurityGroupId"))
        for rule in egress_rules(template).values()
        if group_of(rule, "GroupId") == "RotationSecurityGroup"
    }
    assert from_rotation == {
        ("tcp", 3306, "DatabaseSecurityGroup"),
        ("tcp", 443, "EndpointSecurityGroup"),
    }


def test_only_https_to_s3_has_an_open_egress_rule(template):
    # The test instance's dnf and Custom::MySQLUser's answer to CloudFormation; the route table
    # sends it only to the S3 gateway endpoint (test_nothing_leads_to_the_internet).
    open_rules = {name: rule for name, rule in egress_rules(template).items() if "CidrIp" in rule}
    groups = {"TestInstanceSecurityGroup"} | in_vpc_function_groups(template)
    assert sorted(open_rules) == sorted(
        f"{group.removesuffix('SecurityGroup')}ToS3Egress" for group in groups
    )
    for rule in open_rules.values():
        assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"], rule["CidrIp"]) == (
            "tcp",
            443,
            443,
            "0.0.0.0/0",
        )
        assert group_of(rule, "GroupId") in groups


def test_custom_mysql_user_reaches_only_the_database_the_endpoints_and_s3(multi):
    assert in_vpc_function_groups(multi) == {"MySQLUserSecurityGroup"}
    from_function = {
        (
            rule["IpProtocol"],
            rule["FromPort"],
            rule["ToPort"],
            group_of(rule, "DestinationSecurityGroupId")
            if "CidrIp" not in rule
            else rule["CidrIp"],
        )
        for rule in egress_rules(multi).values()
        if group_of(rule, "GroupId") == "MySQLUserSecurityGroup"
    }
    assert from_function == {
        ("tcp", 3306, 3306, "DatabaseSecurityGroup"),
        ("tcp", 443, 443, "EndpointSecurityGroup"),
        ("tcp", 443, 443, "0.0.0.0/0"),
    }
    # Each group it reaches admits it on that port only.
    admitted = {
        (group_of(rule, "GroupId"), rule["FromPort"], rule["ToPort"])
        for rule in ingress_rules(multi).values()
        if group_of(rule, "SourceSecurityGroupId") == "MySQLUserSecurityGroup"
    }
    assert admitted == {("DatabaseSecurityGroup", 3306, 3306), ("EndpointSecurityGroup", 443, 443)}


def test_every_rule_says_why(template):
    for rule in [*ingress_rules(template).values(), *egress_rules(template).values()]:
        assert rule["Description"].strip()


def test_secrets_manager_is_reachable_privately_from_both_subnets(template):
    (endpoint,) = [
        body["Properties"]
        for body in resources(template, "AWS::EC2::VPCEndpoint").values()
        if body["Properties"]["ServiceName"]
        == {"Fn::Sub": "com.amazonaws.${AWS::Region}.secretsmanager"}
    ]
    assert endpoint["VpcEndpointType"] == "Interface"
    assert endpoint["PrivateDnsEnabled"] is True
    assert referenced_names(endpoint["SubnetIds"]) == {"PrivateSubnetA", "PrivateSubnetB"}
    assert referenced_names(endpoint["SecurityGroupIds"]) == {"EndpointSecurityGroup"}
    vpc = properties(template, "Vpc")
    assert vpc["EnableDnsSupport"] is True
    assert vpc["EnableDnsHostnames"] is True


def test_flow_logs_go_to_a_retained_log_group_through_a_role_scoped_to_it(template):
    (flow_log,) = resources(template, "AWS::EC2::FlowLog").values()
    flow = flow_log["Properties"]
    assert flow["ResourceId"] == {"Ref": "Vpc"}
    assert flow["TrafficType"] == "ALL"
    assert flow["LogGroupName"] == {"Ref": "FlowLogGroup"}
    assert properties(template, "FlowLogGroup")["RetentionInDays"] == {"Ref": "LogRetentionInDays"}
    role = properties(template, "FlowLogRole")
    statements = [
        statement
        for policy in role["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]
    assert [statement["Resource"] for statement in statements] == [
        {"Fn::GetAtt": ["FlowLogGroup", "Arn"]}
    ]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert trust["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
