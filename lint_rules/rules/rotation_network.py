"""Rules for the network paths of a rotation function: to Secrets Manager and to the database."""

from __future__ import annotations

from cfnlint.rules import CloudFormationLintRule

from .._rotation_lint._model import attached_target
from .._rotation_lint._report import ModelRule, doc_url, finding
from .._rotation_lint._values import Hole, as_bool, literal, literal_parts

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
    id = "ER701"
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


INSTANCE, CLUSTER = "AWS::RDS::DBInstance", "AWS::RDS::DBCluster"
SUBNET_GROUP = "AWS::RDS::DBSubnetGroup"


class _Reach:
    """Whether the template's databases can be reached from outside a VPC, read once."""

    def __init__(self, model) -> None:
        self.reader = model.reader
        self.gateways: set[str] = set()  # VPCs with an internet gateway attached
        self.members: dict[str, list[str]] = {}  # cluster -> its instances
        for name, body in self.reader.resources.items():
            properties = body.get("Properties")
            if not isinstance(properties, dict):
                continue
            if body.get("Type") == "AWS::EC2::VPCGatewayAttachment":
                vpc = self.reader.resource(properties.get("VpcId"), VPC)
                if vpc and "InternetGatewayId" in properties:
                    self.gateways.add(vpc)
            elif body.get("Type") == INSTANCE:
                cluster = self.reader.resource(properties.get("DBClusterIdentifier"), CLUSTER)
                if cluster:
                    self.members.setdefault(cluster, []).append(name)

    def private(self, database: str) -> str | None:
        """Why the database surely has no public address, or None when it may have one."""
        body = self.reader.resources[database]
        properties = body.get("Properties")
        if not isinstance(properties, dict):
            return None
        if body.get("Type") == CLUSTER and "PubliclyAccessible" not in properties:
            return self._cluster(database)
        if body.get("Type") in (CLUSTER, INSTANCE):  # a Multi-AZ DB cluster, or an instance
            return self._instance(database, properties)
        return None

    def _cluster(self, cluster: str) -> str | None:
        """An Aurora cluster is private when each of its instances is."""
        members = self.members.get(cluster)
        if not members:
            return None  # instances made elsewhere: unknown
        reasons = [self.private(member) for member in members]
        if None in reasons:
            return None
        return "each of its instances is private: " + "; ".join(reasons)

    def _instance(self, name: str, properties: dict) -> str | None:
        if "PubliclyAccessible" in properties:
            public = as_bool(self.reader.scalar(properties["PubliclyAccessible"]))
            return f"{name} sets PubliclyAccessible: false" if public == {False} else None
        # RDS's default: public only when the subnet group's VPC has an internet gateway.
        group = self.reader.resource(properties.get("DBSubnetGroupName"), SUBNET_GROUP)
        if group is None:
            return None
        group_properties = self.reader.resources[group].get("Properties")
        subnets = group_properties.get("SubnetIds") if isinstance(group_properties, dict) else None
        vpcs = set()
        for subnet in subnets if isinstance(subnets, list) else [None]:
            named = self.reader.resource(subnet, SUBNET)
            body = self.reader.resources[named].get("Properties") if named else None
            vpc = self.reader.resource(body.get("VpcId"), VPC) if isinstance(body, dict) else None
            if vpc is None:
                return None
            vpcs.add(vpc)
        if vpcs & self.gateways:
            return None
        return (
            f"{name} sets no PubliclyAccessible and its subnet group {group} is in a VPC "
            "without an internet gateway, so RDS makes it private"
        )


def _outside_vpc(model, rotation) -> tuple[str, list, str] | None:
    """(what runs the function, where to fix, how) when the function surely runs outside a VPC."""
    if rotation.hosted is not None:
        subnets = rotation.hosted.get("VpcSubnetIds")
        if subnets is not None and literal(model.reader.text(subnets)) != "":
            return None
        key = rotation.setting("VpcSubnetIds")
        where = rotation.setting_path("VpcSubnetIds")
        fix = f"set {key} and {rotation.setting('VpcSecurityGroupIds')}"
        return f"{rotation.provider} has no {key}", where, fix
    if rotation.function is None:
        return None
    for _, properties in model.settled(rotation.function):
        config = properties.get("VpcConfig")
        if isinstance(config, dict) and config.get("SubnetIds") not in (None, []):
            return None
    where = ["Resources", rotation.function, "Properties"]
    fix = f"add VpcConfig (SubnetIds, SecurityGroupIds) to function {rotation.function}"
    return f"function {rotation.function} has no VpcConfig", where, fix


class RotationOutsideDatabaseVpc(ModelRule, CloudFormationLintRule):
    id = "ER702"
    shortdesc = "Rotation function outside any VPC for a private database"
    description = (
        "A rotation function connects to the database it rotates. Without VpcSubnetIds "
        "(HostedRotationLambda, a rotation app's vpcSubnetIds) or VpcConfig (a Lambda function "
        "named by RotationLambdaARN) it runs outside any VPC and cannot reach a database that "
        "is not publicly accessible: every rotation fails."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        reach = None
        for rotation in model.rotations:
            if rotation.secret is None or not rotation.secret.attachments:
                continue
            outside = _outside_vpc(model, rotation)
            if outside is None:
                continue
            reach = reach or _Reach(model)
            runner, where, fix = outside
            for attachment in rotation.secret.attachments:
                database = attached_target(model.reader, attachment)
                why = reach.private(database) if database else None
                if why is None:
                    continue
                yield finding(
                    where,
                    f"schedule {rotation.name} rotates secret {rotation.secret.name} of "
                    f"database {database}, which is not publicly accessible ({why}), but "
                    f"{runner}, so the function runs outside any VPC, cannot reach the "
                    "database and every rotation fails (it times out connecting)",
                    f"{fix} to subnets that reach {database} and a security group it admits "
                    "(its VPC also needs a way to Secrets Manager, see ER701)",
                )
                break
