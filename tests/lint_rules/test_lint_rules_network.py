"""ER701: a hosted rotation function in a VPC needs a way to Secrets Manager."""

from __future__ import annotations

import pytest
from lint_rules_kit import FORMS, hosted, load, render

SUBNETS = {("ER701", hosted(s, "VpcSubnetIds")) for s in ("AdminRotation", "AppRotation")}


@pytest.mark.parametrize("form", FORMS)
def test_er701_no_endpoint_and_no_nat(linter, multi_user, form):
    del multi_user["Resources"]["SecretsManagerEndpoint"]
    matches = linter.matches(render(multi_user, form))
    assert {(m.rule.id, m.path_string) for m in matches} == SUBNETS
    assert "VPC Vpc has no Secrets Manager interface endpoint" in matches[0].message


@pytest.mark.parametrize("form", FORMS)
def test_er701_endpoint_without_private_dns(linter, multi_user, form):
    del multi_user["Resources"]["SecretsManagerEndpoint"]["Properties"]["PrivateDnsEnabled"]
    matches = linter.matches(render(multi_user, form))
    assert {(m.rule.id, m.path_string) for m in matches} == SUBNETS
    assert "PrivateDnsEnabled off" in matches[0].message


def test_er701_only_an_internet_gateway_route(linter, multi_user):
    resources = multi_user["Resources"]
    del resources["SecretsManagerEndpoint"]
    resources["Gateway"] = {"Type": "AWS::EC2::InternetGateway"}
    resources["DefaultRoute"] = {
        "Type": "AWS::EC2::Route",
        "Properties": {
            "RouteTableId": {"Ref": "RouteTable"},
            "DestinationCidrBlock": "0.0.0.0/0",
            "GatewayId": {"Ref": "Gateway"},
        },
    }
    matches = linter.matches(render(multi_user, "yaml"))
    assert {(m.rule.id, m.path_string) for m in matches} == SUBNETS
    assert "no public IP address" in matches[0].message


def test_er701_unassociated_subnet_uses_the_main_route_table(linter, multi_user):
    resources = multi_user["Resources"]
    del resources["SecretsManagerEndpoint"], resources["SubnetBRoutes"]
    matches = linter.matches(render(multi_user, "yaml"))
    assert any("main route table" in m.message for m in matches)


def test_er701_endpoint_in_another_vpc(linter, multi_user):
    resources = multi_user["Resources"]
    resources["OtherVpc"] = {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.9.0.0/16"}}
    resources["SecretsManagerEndpoint"]["Properties"]["VpcId"] = {"Ref": "OtherVpc"}
    assert linter.findings(render(multi_user, "yaml")) == SUBNETS


def test_er701_nat_route_instead_of_an_endpoint(linter, multi_user):
    resources = multi_user["Resources"]
    del resources["SecretsManagerEndpoint"]
    resources["Nat"] = {
        "Type": "AWS::EC2::NatGateway",
        "Properties": {"SubnetId": {"Ref": "SubnetA"}, "ConnectivityType": "private"},
    }
    resources["DefaultRoute"] = {
        "Type": "AWS::EC2::Route",
        "Properties": {
            "RouteTableId": {"Ref": "RouteTable"},
            "DestinationCidrBlock": "0.0.0.0/0",
            "NatGatewayId": {"Ref": "Nat"},
        },
    }
    assert linter.findings(render(multi_user, "json")) == set()


def test_er701_silent_for_subnets_the_template_does_not_define(linter, multi_user):
    multi_user["Parameters"]["Subnets"] = {
        "Type": "List<AWS::EC2::Subnet::Id>",
        "Description": "Existing subnets",
    }
    del multi_user["Resources"]["SecretsManagerEndpoint"]
    for schedule in ("AdminRotation", "AppRotation"):
        lambda_ = multi_user["Resources"][schedule]["Properties"]["HostedRotationLambda"]
        lambda_["VpcSubnetIds"] = {"Fn::Join": [",", {"Ref": "Subnets"}]}
    assert linter.findings(render(multi_user, "yaml")) == set()


def test_er701_nat_route_in_json_template_is_fine(linter):
    assert linter.findings(render(load("good_single_user_long.json"), "json")) == set()


def test_er701_silent_for_a_subnet_of_another_stack(linter, multi_user):
    """A literal subnet ID: its routes are not in the template, so nothing is known."""
    del multi_user["Resources"]["SecretsManagerEndpoint"]
    lambda_ = multi_user["Resources"]["AppRotation"]["Properties"]["HostedRotationLambda"]
    lambda_["VpcSubnetIds"] = "subnet-0123456789abcdef0"
    found = linter.findings(render(multi_user, "yaml"))
    assert found == {("ER701", hosted("AdminRotation", "VpcSubnetIds"))}


def test_er701_an_endpoint_of_another_service_does_not_count(linter, multi_user):
    endpoint = multi_user["Resources"]["SecretsManagerEndpoint"]["Properties"]
    endpoint["ServiceName"] = {"Fn::Sub": "com.amazonaws.${AWS::Region}.ssm"}
    matches = linter.matches(render(multi_user, "yaml"))
    assert {(m.rule.id, m.path_string) for m in matches} == SUBNETS
    assert all("VPC Vpc has no Secrets Manager interface endpoint" in m.message for m in matches)


def test_er701_silent_when_the_endpoints_service_is_a_parameter(linter, multi_user):
    multi_user["Parameters"]["EndpointService"] = {
        "Type": "String",
        "Description": "Service of the interface endpoint",
    }
    endpoint = multi_user["Resources"]["SecretsManagerEndpoint"]["Properties"]
    endpoint["ServiceName"] = {"Ref": "EndpointService"}
    assert linter.findings(render(multi_user, "yaml")) == set()


def _default_table_route(template: dict, **route) -> None:
    template["Resources"]["TableRoute"] = {
        "Type": "AWS::EC2::Route",
        "Properties": {"RouteTableId": {"Ref": "RouteTable"}, **route},
    }


def test_er701_a_route_to_a_peered_network_is_no_way_out(linter, multi_user):
    del multi_user["Resources"]["SecretsManagerEndpoint"]
    _default_table_route(
        multi_user, DestinationCidrBlock="10.1.0.0/16", VpcPeeringConnectionId="pcx-0123456789"
    )
    assert linter.findings(render(multi_user, "yaml")) == SUBNETS


def test_er701_silent_for_a_default_route_through_another_kind_of_gateway(linter, multi_user):
    """A virtual private gateway may lead to a network with a way to Secrets Manager."""
    resources = multi_user["Resources"]
    del resources["SecretsManagerEndpoint"]
    resources["VpnGateway"] = {"Type": "AWS::EC2::VPNGateway", "Properties": {"Type": "ipsec.1"}}
    _default_table_route(
        multi_user, DestinationCidrBlock="0.0.0.0/0", GatewayId={"Ref": "VpnGateway"}
    )
    assert linter.findings(render(multi_user, "yaml")) == set()
