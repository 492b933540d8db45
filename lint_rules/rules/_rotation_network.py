"""Rules for the network paths of a rotation function: to Secrets Manager and to the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cfnlint.rules import CloudFormationLintRule

from .._rotation_lint._placement import (
    DEFAULT_VPC,
    REDSHIFT,
    SUBNET,
    VPC,
    DefaultGroup,
    Side,
    database_side,
    databases,
    function_side,
    same_vpc,
)
from .._rotation_lint._report import ModelRule, doc_url, finding
from .._rotation_lint._security_groups import EGRESS, INGRESS, PUBLIC, Answer, SecurityGroups
from .._rotation_lint._values import Hole, as_bool, literal, literal_parts

TAGS = ["secretsmanager", "rotation", "network"]
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

    def gaps(self, subnet: str, own_code: bool = False) -> list[str] | None:
        """Why the subnet has no way to Secrets Manager, or None when it has (or may have) one.

        Code of the template's own (`own_code`) may call an endpoint without private DNS by its
        own DNS name (an endpoint URL in its settings), so any endpoint may serve it.
        """
        body = self.reader.resources[subnet].get("Properties")
        vpc = self.reader.resource(body.get("VpcId"), VPC) if isinstance(body, dict) else None
        if vpc is None:
            return None
        endpoints = self.endpoints.get(vpc, [])
        if any(state in (OK, MAYBE) or own_code for _, state in endpoints):
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
        "A rotation function placed in subnets (HostedRotationLambda VpcSubnetIds, a rotation "
        "app's vpcSubnetIds, a Lambda function's VpcConfig) must reach the Secrets Manager "
        "API: through an interface VPC endpoint with private DNS in that VPC, or a 0.0.0.0/0 "
        "route through a NAT gateway. Otherwise every rotation times out."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        network = None
        for rotation in model.rotations:
            side = function_side(model, rotation)
            if side is None or side.outside:
                continue
            network = network or model.shared("network", Network)
            own_code = rotation.function is not None
            for subnet in dict.fromkeys(s for s in side.subnets if isinstance(s, str)):
                reasons = network.gaps(subnet, own_code)
                if reasons:
                    yield finding(
                        side.path,
                        f"{side.label} runs in subnet {subnet}, which cannot reach Secrets "
                        f'Manager: {"; ".join(reasons)}; every rotation times out ("Connect '
                        'timeout on endpoint URL: https://secretsmanager.<region>.amazonaws.com/")',
                        "add an AWS::EC2::VPCEndpoint for "
                        "com.amazonaws.${AWS::Region}.secretsmanager (VpcEndpointType: "
                        "Interface, PrivateDnsEnabled: true) in that VPC, or a NAT gateway "
                        "route for 0.0.0.0/0 in the subnet's route table",
                    )


INSTANCE, CLUSTER = "AWS::RDS::DBInstance", "AWS::RDS::DBCluster"
SUBNET_GROUP = "AWS::RDS::DBSubnetGroup"
# Resources that can join two VPCs: with one in the template, two VPCs may reach each other.
VPC_LINKS = (
    "AWS::EC2::VPCPeeringConnection",
    "AWS::EC2::TransitGatewayAttachment",
    "AWS::EC2::TransitGatewayVpcAttachment",
)


class _Reach:
    """Whether the template's databases can be reached from outside a VPC, read once."""

    def __init__(self, model) -> None:
        self.reader = model.reader
        self.gateways: set[str] = set()  # VPCs with an internet gateway attached
        self.members: dict[str, list[str]] = {}  # cluster -> its instances
        self.linked = False  # a peering or transit gateway attachment joins VPCs
        for name, body in self.reader.resources.items():
            properties = body.get("Properties")
            if body.get("Type") in VPC_LINKS:
                self.linked = True
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
        if body.get("Type") in (CLUSTER, INSTANCE, REDSHIFT):  # Multi-AZ cluster, instance
            return self._instance(database, properties, body.get("Type") != REDSHIFT)
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

    def _instance(self, name: str, properties: dict, rds: bool = True) -> str | None:
        if "PubliclyAccessible" in properties:
            public = as_bool(self.reader.scalar(properties["PubliclyAccessible"]))
            return f"{name} sets PubliclyAccessible: false" if public == {False} else None
        if not rds:
            return None
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


@dataclass
class Connection:
    """A rotation function and a database of the template whose credentials it rotates."""

    rotation: Any
    database: str
    function: Side
    db: Side
    private: str | None  # why the database has no public address
    vpc: bool | None  # whether both run in one VPC
    egress: Answer | None = None
    ingress: Answer | None = None
    unknown: list[str] = field(default_factory=list)
    linked: bool = False  # the template joins VPCs (peering, transit gateway)

    @property
    def port(self) -> str:
        return "/".join(map(str, self.db.port)) if self.db.port else "(unknown)"


def connections(model) -> list[Connection]:
    """Each rotation function (placed by the template) with each database it rotates for."""
    reach, groups = _Reach(model), SecurityGroups(model)
    found = []
    for rotation in model.rotations:
        if rotation.secret is None:
            continue
        function = function_side(model, rotation)
        if function is None:
            continue
        for database in databases(model, rotation.secret):
            db = database_side(model, database)
            link = Connection(rotation, database, function, db, reach.private(database), None)
            link.linked = reach.linked
            found.append(_judge(link, groups))
    return found


def _judge(link: Connection, groups: SecurityGroups) -> Connection:
    function, db = link.function, link.db
    link.vpc = same_vpc(function, db)
    if function.outside:
        if not link.private:  # else ER702; a public database must admit a public address
            link.ingress = groups.allows(INGRESS, db, PUBLIC, db.port)
        return link
    if link.vpc is False:
        if link.linked:
            link.unknown.append(
                "the two run in different VPCs and the template joins VPCs (a peering "
                "connection or transit gateway attachment)"
            )
        elif not link.private:  # else ER702: through a NAT to the public address
            link.egress = groups.allows(EGRESS, function, PUBLIC, db.port)
            link.ingress = groups.allows(INGRESS, db, PUBLIC, db.port)
        return link
    if link.vpc is None and link.private:
        unknowns = ", ".join(dict.fromkeys([*function.unknowns, *db.unknowns])) or "unknown"
        link.unknown.append(f"whether both run in one VPC cannot be known (from {unknowns})")
    link.egress = groups.allows(EGRESS, function, db, db.port)
    link.ingress = groups.allows(INGRESS, db, function, db.port)
    return link


def _outside_cause(rotation, side: Side) -> tuple[str, str]:
    """(why the function runs outside any VPC, what to set) for messages."""
    if rotation.hosted is not None:
        key = rotation.setting("VpcSubnetIds")
        state = (
            f"sets {key} to an empty value"
            if side.path[-1:] == ["VpcSubnetIds"] and ("VpcSubnetIds" in rotation.hosted)
            else f"has no {key}"
        )
        return f"{rotation.provider} {state}", (
            f"set {key} and {rotation.setting('VpcSecurityGroupIds')}"
        )
    function = rotation.function
    if side.path[-1:] == ["SubnetIds"]:
        return f"function {function} sets VpcConfig SubnetIds to an empty list", (
            f"set VpcConfig SubnetIds (and SecurityGroupIds) of function {function}"
        )
    return f"function {function} has no VpcConfig", (
        f"add VpcConfig (SubnetIds, SecurityGroupIds) to function {function}"
    )


class RotationOutsideDatabaseVpc(ModelRule, CloudFormationLintRule):
    id = "ER702"
    shortdesc = "Rotation function outside the VPC of a private database"
    description = (
        "A rotation function connects to the database it rotates. Outside any VPC (no "
        "VpcSubnetIds or an empty one, no VpcConfig) or in another VPC of the template it "
        "cannot reach a database that is not publicly accessible: every rotation fails."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        done = set()
        for link in model.shared("connections", connections):
            rotation, function = link.rotation, link.function
            if not link.private or link.vpc is not False or rotation.name in done:
                continue
            if not function.outside and link.linked:
                continue
            done.add(rotation.name)
            if function.outside:
                runner, fix = _outside_cause(rotation, function)
                yield finding(
                    function.path,
                    f"schedule {rotation.name} rotates secret {rotation.secret.name} of "
                    f"database {link.database}, which is not publicly accessible "
                    f"({link.private}), but {runner}, so the function runs outside any VPC, "
                    "cannot reach the database and every rotation fails (it times out "
                    "connecting)",
                    f"{fix} to subnets that reach {link.database} and a security group it "
                    "admits (its VPC also needs a way to Secrets Manager, see ER701)",
                )
                continue
            yield finding(
                function.path,
                f"{function.label} runs in {_vpcs(function)} but database {link.database} "
                f"runs in {_vpcs(link.db)} and is not publicly accessible ({link.private}), "
                "so the function cannot reach it and every rotation fails (it times out "
                "connecting)",
                f"put the function in subnets of {_vpcs(link.db)} with a security group "
                f"{link.database} admits",
            )


def _vpcs(side: Side) -> str:
    (key,) = side.vpcs or {"?"}
    if key == DEFAULT_VPC:
        return "the account's default VPC (it names no subnet group)"
    return f"VPC {key.split(':', 1)[1]}" if key.startswith("vpc:") else "a VPC passed in"


def _group_names(side: Side) -> str:
    names = []
    for group in side.groups:
        if isinstance(group, DefaultGroup):
            names.append(f"the default security group of {_vpc_name(group.vpc)}")
        elif isinstance(group, str):
            names.append(group)
    return ", ".join(names) or "none"


def _vpc_name(key: str) -> str:
    if key == DEFAULT_VPC:
        return "the account's default VPC"
    return f"VPC {key.split(':', 1)[1]}" if key.startswith("vpc:") else "its VPC"


def _group_id(side: Side) -> str:
    """How a fix names a group of the side: its GroupId, or its VPC's DefaultSecurityGroup."""
    for group in side.groups:
        if isinstance(group, str):
            return f"!GetAtt {group}.GroupId"
    for group in side.groups:
        if isinstance(group, DefaultGroup) and group.vpc.startswith("vpc:"):
            return f"!GetAtt {group.vpc.split(':', 1)[1]}.DefaultSecurityGroup"
    if any(isinstance(g, DefaultGroup) for g in side.groups):
        return "the id of the default security group of the account's default VPC"
    return "the id of its security group"


class SecurityGroupsBlockDatabase(ModelRule, CloudFormationLintRule):
    id = "ER703"
    shortdesc = "Security groups that keep the rotation function from the database port"
    description = (
        "A rotation function reaches its database only when one of the function's security "
        "groups allows outbound traffic to the database's port and one of the database's "
        "groups admits it (from the function's group or an address range holding the "
        "function's subnets). A VPC's default group admits only its own members."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        for link in model.shared("connections", connections):
            function, db = link.function, link.db
            where = f"database {link.database} on port {link.port}"
            if link.egress is not None and link.egress.allowed is False:
                target = "its public address" if link.vpc is False else where
                yield finding(
                    function.groups_path or function.path,
                    f"the security groups of {function.label} ({_group_names(function)}) "
                    f"allow no outbound traffic to {target}, so every rotation times out "
                    f"connecting to {link.database}",
                    "add an egress rule: AWS::EC2::SecurityGroupEgress with GroupId: "
                    f"{_group_id(function)}, IpProtocol: tcp, FromPort and ToPort "
                    f"{link.port}, DestinationSecurityGroupId: {_group_id(db)}",
                )
            if link.ingress is not None and link.ingress.allowed is False:
                yield self._ingress(link)

    @staticmethod
    def _ingress(link):
        function, db = link.function, link.db
        outside = function.outside or link.vpc is False
        if outside:
            where = "any VPC" if function.outside else "the database's VPC"
            source = (
                f"{function.label}, which runs outside {where} and so comes from a public address"
            )
            fix = (
                f"run the function in the VPC of {link.database} with a security group that "
                "the database admits"
            )
        else:
            source = f"{function.label} (security groups {_group_names(function)})"
            fix = (
                "add an ingress rule: AWS::EC2::SecurityGroupIngress with GroupId: "
                f"{_group_id(db)}, IpProtocol: tcp, FromPort and ToPort "
                f"{link.port}, SourceSecurityGroupId: {_group_id(function)}"
            )
        changed = (
            "; a default group admits only its own members, unless changed outside the template"
            if any(isinstance(g, DefaultGroup) and g.vpc == DEFAULT_VPC for g in db.groups)
            else ""
        )
        return finding(
            db.groups_path,
            f"the security groups of database {link.database} ({_group_names(db)}) admit no "
            f"traffic on port {link.port} from {source}{changed}; every rotation times out "
            "connecting",
            fix,
        )


class NetworkReachUnknown(ModelRule, CloudFormationLintRule):
    id = "IR704"
    shortdesc = "Network between rotation function and database not judged"
    description = (
        "Where subnets, security groups, address ranges or the port come from parameters or "
        "imports, whether the rotation function reaches its database cannot be told from the "
        "template; this informational finding says which values decide it."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        for link in model.shared("connections", connections):
            answers = [a for a in (link.egress, link.ingress) if a is not None]
            if any(a.allowed is False for a in answers):
                continue  # ER703 reports it
            reasons = list(link.unknown)
            for answer in answers:
                if answer.allowed is None:
                    reasons.extend(answer.reasons)
            if not reasons:
                continue
            yield finding(
                link.function.path,
                f"whether {link.function.label} reaches database {link.database} on port "
                f"{link.port} cannot be told from the template: "
                f"{'; '.join(dict.fromkeys(reasons))}",
                "check that the values passed in put the function in the database's VPC with "
                "a security group the database admits (defined in the template, ER702 and "
                "ER703 check them)",
            )
