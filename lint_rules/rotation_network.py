"""Rule for the network path from a hosted rotation function in a VPC to Secrets Manager."""

from __future__ import annotations

import sys
from pathlib import Path

from cfnlint.rules import CloudFormationLintRule

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:  # cfn-lint loads rule files by path, outside any package
    sys.path.append(_HERE)

from _rotation_lint._report import ModelRule, doc_url, finding  # noqa: E402
from _rotation_lint._values import Hole, as_bool, literal, literal_parts  # noqa: E402

TAGS = ["secretsmanager", "rotation", "network"]
SUBNET, VPC = "AWS::EC2::Subnet", "AWS::EC2::VPC"
ROUTE_TABLE = "AWS::EC2::RouteTable"
PSEUDO = {"AWS::Region", "AWS::URLSuffix", "AWS::Partition"}
# Route targets that can carry traffic out of the VPC for a function without a public address.
EGRESS_TARGETS = (
    "NatGatewayId",
    "InstanceId",
    "TransitGatewayId",
    "NetworkInterfaceId",
    "VpcPeeringConnectionId",
    "VpcEndpointId",
    "CoreNetworkArn",
    "LocalGatewayId",
)
OK, MAYBE = "ok", "maybe"


def _subnets(model, value) -> list[str]:
    """Template subnets named in a comma-separated VpcSubnetIds value."""
    text = model.reader.text(value)
    if text is None:
        return []
    items: list[list] = [[]]
    for piece in text:
        if isinstance(piece, Hole):
            items[-1].append(piece)
            continue
        parts = piece.split(",")
        items[-1].append(parts[0])
        items.extend([part] for part in parts[1:])
    found = []
    for item in items:
        pieces = tuple(p for p in item if not (isinstance(p, str) and not p.strip()))
        name = model.reader.resource_in(pieces, SUBNET)
        if name:
            found.append(name)
    return found


class Network:
    """Endpoints, route tables and associations of the template, read once."""

    def __init__(self, model) -> None:
        self.reader = model.reader
        self.endpoints: dict[str, list[tuple[str, str]]] = {}  # vpc -> (endpoint, state)
        self.tables: dict[str, list[tuple[str, str]]] = {}  # route table -> (route, target kind)
        self.associations: dict[str, list[str | None]] = {}  # subnet -> route tables
        for name, body in self.reader.resources.items():
            properties = body.get("Properties")
            if not isinstance(properties, dict):
                continue
            kind = body.get("Type")
            if kind == "AWS::EC2::VPCEndpoint":
                self._endpoint(name, properties)
            elif kind == "AWS::EC2::Route":
                self._route(name, properties)
            elif kind == "AWS::EC2::SubnetRouteTableAssociation":
                subnet = self.reader.resource(properties.get("SubnetId"), SUBNET)
                table = self.reader.resource(properties.get("RouteTableId"), ROUTE_TABLE)
                if subnet:
                    self.associations.setdefault(subnet, []).append(table)

    def _endpoint(self, name: str, properties: dict) -> None:
        vpc = self.reader.resource(properties.get("VpcId"), VPC)
        state = self._endpoint_state(properties)
        if vpc and state:
            self.endpoints.setdefault(vpc, []).append((name, state))

    def _endpoint_state(self, properties: dict) -> str | None:
        """OK for a usable Secrets Manager endpoint, MAYBE when unknown, 'no-dns', or None."""
        service = self.reader.text(properties.get("ServiceName"))
        if service is None:
            return MAYBE
        if "secretsmanager" not in literal_parts(service):
            unknown = [p for p in service if isinstance(p, Hole) and p.target not in PSEUDO]
            return MAYBE if unknown else None
        kind = literal(self.reader.text(properties.get("VpcEndpointType", "Gateway")))
        if kind is None:
            return MAYBE
        if kind != "Interface":
            return None
        dns = as_bool(self.reader.scalar(properties.get("PrivateDnsEnabled", False)))
        if dns is None or True in dns:
            return OK if dns == {True} else MAYBE
        return "no-dns"

    def _route(self, name: str, properties: dict) -> None:
        table = self.reader.resource(properties.get("RouteTableId"), ROUTE_TABLE)
        if table is None:
            return
        destination = literal(self.reader.text(properties.get("DestinationCidrBlock")))
        if "DestinationCidrBlock" in properties and destination not in (None, "0.0.0.0/0"):
            return
        if "DestinationCidrBlock" not in properties:
            return  # IPv6 or prefix-list routes: the function's IPv4 traffic does not use them
        gateway = properties.get("GatewayId")
        if gateway is not None and self.reader.resource(gateway, "AWS::EC2::InternetGateway"):
            target = "internet gateway"
        elif gateway is not None or any(key in properties for key in EGRESS_TARGETS):
            target = OK if destination else MAYBE
        else:
            return
        self.tables.setdefault(table, []).append((name, target))

    def gaps(self, subnet: str) -> list[str] | None:
        """Why the subnet has no way to Secrets Manager, or None when it has (or may have) one."""
        body = self.reader.resources[subnet].get("Properties")
        vpc = self.reader.resource(body.get("VpcId"), VPC) if isinstance(body, dict) else None
        if vpc is None:
            return None
        endpoints = self.endpoints.get(vpc, [])
        if any(state in (OK, MAYBE) for _, state in endpoints):
            return None
        reasons = [
            f"endpoint {name} has PrivateDnsEnabled off, so the function's calls to the public "
            "Secrets Manager name bypass it"
            for name, _ in endpoints
        ] or [f"VPC {vpc} has no Secrets Manager interface endpoint"]
        tables = self.associations.get(subnet)
        if not tables:
            reasons.append(
                f"subnet {subnet} has no route table association, and the VPC's main route table "
                "has only the local route"
            )
            return reasons
        for table in tables:
            routes = self.tables.get(table or "", [])
            if table is None or any(target in (OK, MAYBE) for _, target in routes):
                return None
            if routes:
                reasons.append(
                    f"route table {table} sends 0.0.0.0/0 only to an internet gateway, which a "
                    "Lambda function in a VPC cannot use (it gets no public IP address)"
                )
            else:
                reasons.append(f"route table {table} has no 0.0.0.0/0 route through a NAT gateway")
        return reasons


class RotationWithoutNetworkPath(ModelRule, CloudFormationLintRule):
    id = "E9701"
    shortdesc = "Rotation function in a VPC without a way to Secrets Manager"
    description = (
        "A hosted rotation function placed in subnets (VpcSubnetIds) must reach the Secrets "
        "Manager API: through an interface VPC endpoint with private DNS in that VPC, or a "
        "0.0.0.0/0 route through a NAT gateway. Otherwise every rotation times out."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        network = None
        for rotation in model.rotations:
            if rotation.hosted is None or "VpcSubnetIds" not in rotation.hosted:
                continue
            network = network or Network(model)
            for subnet in _subnets(model, rotation.hosted["VpcSubnetIds"]):
                reasons = network.gaps(subnet)
                if reasons:
                    yield finding(
                        rotation.setting_path("VpcSubnetIds"),
                        f"the rotation function of {rotation.name} runs in subnet {subnet}, "
                        f"which cannot reach Secrets Manager: {'; '.join(reasons)}; every "
                        'rotation times out ("Connect timeout on endpoint URL: '
                        'https://secretsmanager.<region>.amazonaws.com/")',
                        "add an AWS::EC2::VPCEndpoint for "
                        "com.amazonaws.${AWS::Region}.secretsmanager (VpcEndpointType: "
                        "Interface, PrivateDnsEnabled: true) in that VPC, or a NAT gateway "
                        "route for 0.0.0.0/0 in the subnet's route table",
                    )
