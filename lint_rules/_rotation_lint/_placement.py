"""Where a rotation function and its database run: VPC, subnets, security groups and port.

Each end is a `Side`. Subnets and security groups are template resources where the template
defines them; anything else (a parameter, an import, a literal id) is an `Unknown` that says
where it comes from. A VPC is named by a key: `vpc:<logical id>` for a VPC of the template,
`default` for the account's default VPC (a database without a subnet group), and `value:<json>`
for a VpcId the template only passes along (two equal imports are one VPC).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ._model import attached_target
from ._values import Hole, literal_parts

SUBNET, VPC = "AWS::EC2::Subnet", "AWS::EC2::VPC"
SECURITY_GROUP = "AWS::EC2::SecurityGroup"
DEFAULT_VPC = "default"
RDS_INSTANCE, RDS_CLUSTER = "AWS::RDS::DBInstance", "AWS::RDS::DBCluster"
DOCDB_INSTANCE, DOCDB_CLUSTER = "AWS::DocDB::DBInstance", "AWS::DocDB::DBCluster"
REDSHIFT = "AWS::Redshift::Cluster"
DATABASES = (RDS_INSTANCE, RDS_CLUSTER, DOCDB_INSTANCE, DOCDB_CLUSTER, REDSHIFT)
SUBNET_GROUPS = (
    "AWS::RDS::DBSubnetGroup",
    "AWS::DocDB::DBSubnetGroup",
    "AWS::Redshift::ClusterSubnetGroup",
)
# Where each database type names its subnet group and its VPC security groups.
_SUBNET_GROUP_KEY = {REDSHIFT: "ClusterSubnetGroupName"}
_GROUPS_KEY = {RDS_INSTANCE: "VPCSecurityGroups"}
# Default ports by engine name prefix (RDS CreateDBInstance / CreateDBCluster), and by type.
_ENGINE_PORTS = (
    ("aurora-postgresql", 5432),
    ("postgres", 5432),
    ("aurora", 3306),
    ("mysql", 3306),
    ("mariadb", 3306),
    ("oracle", 1521),
    ("sqlserver", 1433),
    ("db2", 50000),
)
_TYPE_PORTS = {DOCDB_CLUSTER: 27017, REDSHIFT: 5439}


@dataclass(frozen=True)
class Unknown:
    """A subnet or security group the template does not define; `what` says where it comes
    from, for messages."""

    what: str


@dataclass(frozen=True)
class DefaultGroup:
    """The default security group of a VPC: it admits its own members, sends anywhere."""

    vpc: str


@dataclass
class Side:
    """One end of the connection: the rotation function or the database."""

    label: str
    outside: bool = False  # runs outside any VPC
    subnets: list = field(default_factory=list)  # subnet logical ids or Unknowns
    groups: list = field(default_factory=list)  # group logical ids, DefaultGroups or Unknowns
    vpcs: set = field(default_factory=set)  # VPC keys, from its subnets and groups
    port: list[int] | None = None  # the database's port(s), None when unknown
    path: list = field(default_factory=list)  # where its network is set (for findings)
    groups_path: list = field(default_factory=list)

    @property
    def unknowns(self) -> list[str]:
        return [i.what for i in (*self.subnets, *self.groups) if isinstance(i, Unknown)]


def describe(reader, text: tuple | None) -> str:
    """Where a value the template does not define comes from, for messages."""
    if not text:
        return "a value the rules cannot read"
    holes = [p for p in text if isinstance(p, Hole)]
    if not holes:
        return f"{''.join(text)!r}, which the template does not define"
    first = holes[0]
    if first.function == "Ref" and first.target in reader.resources:
        return f"{first.target} (a {reader.resources[first.target].get('Type')})"
    if first.function == "Ref" and first.target and not first.target.startswith("AWS::"):
        return f"parameter {first.target}"
    if len(holes) == 1 and first.function == "Fn::ImportValue":
        return "an Fn::ImportValue"
    return f"a value built with {first.function}"


def items(reader, value: Any, kind: str) -> list:
    """The resources of one type a list, or a comma-separated text, names: logical ids, or
    Unknowns for the items the template does not define."""
    if isinstance(value, list):
        pieces = [reader.text(v) for v in value]
    else:
        pieces = _split(reader.text(value))
    found = []
    for text in pieces:
        named = reader.resource_in(text, kind) if text else None
        found.append(named if named else Unknown(describe(reader, text)))
    return found


def _split(text: tuple | None) -> list:
    """A comma-separated text cut into the text of each item (empty items dropped)."""
    if text is None:
        return [None]
    cut: list[list] = [[]]
    for piece in text:
        if isinstance(piece, Hole):
            cut[-1].append(piece)
            continue
        parts = piece.split(",")
        cut[-1].append(parts[0])
        cut.extend([part] for part in parts[1:])
    texts = [tuple(p for p in item if not (isinstance(p, str) and not p.strip())) for item in cut]
    return [t for t in texts if t]


def vpc_key(reader, value: Any) -> str | None:
    """The key of the VPC a VpcId value names, None when there is no value."""
    if value is None:
        return None
    named = reader.resource(value, VPC)
    if named:
        return f"vpc:{named}"
    return "value:" + json.dumps(value, sort_keys=True, default=str)


def subnet_vpc(reader, subnet: str) -> str | None:
    properties = reader.resources[subnet].get("Properties")
    return vpc_key(reader, properties.get("VpcId")) if isinstance(properties, dict) else None


def group_of(reader, text: tuple | None):
    """The security group a value read as text names: a logical id, a DefaultGroup (`!GetAtt
    Vpc.DefaultSecurityGroup`) or an Unknown."""
    named = reader.resource_in(text, SECURITY_GROUP) if text else None
    if named:
        return named
    if text and len(text) == 1 and isinstance(text[0], Hole):
        hole = text[0]
        if hole.attribute == "DefaultSecurityGroup" and reader.resource_in(text, VPC):
            return DefaultGroup(f"vpc:{hole.target}")
    return Unknown(describe(reader, text))


def group_vpc(reader, group) -> str | None:
    if isinstance(group, DefaultGroup):
        return group.vpc
    if isinstance(group, str):
        properties = reader.resources[group].get("Properties")
        if isinstance(properties, dict):
            return vpc_key(reader, properties.get("VpcId"))
    return None


def groups(reader, value: Any) -> list:
    """The security groups a list, or a comma-separated text, names."""
    if isinstance(value, list):
        return [group_of(reader, reader.text(v)) for v in value]
    return [group_of(reader, text) for text in _split(reader.text(value))]


def _finish(reader, side: Side) -> Side:
    keys = {subnet_vpc(reader, s) for s in side.subnets if isinstance(s, str)}
    keys |= {group_vpc(reader, g) for g in side.groups if not isinstance(g, Unknown)}
    side.vpcs = {k for k in keys if k}
    return side


# -- the rotation function -----------------------------------------------------------------
def function_side(model, rotation) -> Side | None:
    """Where the rotation's function runs; None when the template does not tell (a function
    outside the template, or a VpcConfig that differs between condition scenarios)."""
    reader = model.reader
    label = f"the rotation function of {rotation.name}"
    if rotation.hosted is not None:
        subnets = rotation.hosted.get("VpcSubnetIds")
        path = rotation.setting_path("VpcSubnetIds")
        groups_path = rotation.setting_path("VpcSecurityGroupIds")
        if subnets is None or set(reader.scalar(subnets) or ["?"]) == {""}:
            return Side(label, outside=True, path=path, groups_path=groups_path)
        side = Side(label, subnets=items(reader, subnets, SUBNET), path=path)
        side.groups = groups(reader, rotation.hosted.get("VpcSecurityGroupIds"))
        side.groups_path = groups_path
        return _finish(reader, side)
    if rotation.function is None:
        return None
    variants = {
        json.dumps(p.get("VpcConfig"), sort_keys=True, default=str): p
        for _, p in model.settled(rotation.function)
    }
    if len(variants) != 1:
        return None
    config = next(iter(variants.values())).get("VpcConfig")
    path = ["Resources", rotation.function, "Properties"]
    label = f"function {rotation.function}"
    if not isinstance(config, dict) or config.get("SubnetIds") in (None, []):
        if isinstance(config, dict) and "SubnetIds" in config:  # an empty list: say where
            path = [*path, "VpcConfig", "SubnetIds"]
        return Side(label, outside=True, path=path, groups_path=path)
    side = Side(label, subnets=items(reader, config["SubnetIds"], SUBNET))
    side.groups = groups(reader, config.get("SecurityGroupIds"))
    side.path = [*path, "VpcConfig", "SubnetIds"]
    side.groups_path = [*path, "VpcConfig", "SecurityGroupIds"]
    return _finish(reader, side)


# -- the database --------------------------------------------------------------------------
def databases(model, secret) -> list[str]:
    """The template databases a secret's credentials are for: its attachments' targets, the
    database whose MasterUserPassword resolves it, and one its `host` names."""
    reader = model.reader
    found = [t for a in secret.attachments if (t := attached_target(reader, a))]
    for name, body in reader.resources.items():
        properties = body.get("Properties")
        if body.get("Type") not in DATABASES or not isinstance(properties, dict):
            continue
        password = reader.text(properties.get("MasterUserPassword")) or ()
        if "{{resolve:secretsmanager:" in literal_parts(password) and any(
            isinstance(p, Hole)
            and reader.resource_in((p,), "AWS::SecretsManager::Secret") == secret.name
            for p in password
        ):
            found.append(name)
    document = model.document(secret)
    host = document.value.fields.get("host") if document.kind == "json" else None
    named = reader.resource_in(host, *DATABASES) if isinstance(host, tuple) else None
    if named and host[0].function == "Fn::GetAtt":
        found.append(named)
    clusters = dict.fromkeys(_cluster_of(reader, name) for name in found)
    return [c for c in clusters if isinstance(reader.resources[c].get("Properties"), dict)]


def _cluster_of(reader, database: str) -> str:
    """An instance that belongs to a cluster of the template stands for its cluster."""
    body = reader.resources[database]
    properties = body.get("Properties")
    if body.get("Type") in (RDS_INSTANCE, DOCDB_INSTANCE) and isinstance(properties, dict):
        cluster = reader.resource(properties.get("DBClusterIdentifier"), RDS_CLUSTER, DOCDB_CLUSTER)
        if cluster:
            return cluster
    return database


def database_side(model, database: str) -> Side:
    reader = model.reader
    body = reader.resources[database]
    kind = body.get("Type")
    properties = body.get("Properties") if isinstance(body.get("Properties"), dict) else {}
    side = Side(f"database {database}", path=["Resources", database, "Properties"])
    group_key = _SUBNET_GROUP_KEY.get(kind, "DBSubnetGroupName")
    if group_key in properties:
        group = reader.resource(properties[group_key], *SUBNET_GROUPS)
        group_properties = reader.resources[group].get("Properties") if group else None
        subnets = group_properties.get("SubnetIds") if isinstance(group_properties, dict) else None
        side.subnets = (
            items(reader, subnets, SUBNET)
            if subnets is not None
            else [Unknown(f"subnet group {describe(reader, reader.text(properties[group_key]))}")]
        )
    key = _GROUPS_KEY.get(kind, "VpcSecurityGroupIds")
    side.groups_path = [*side.path, key] if key in properties else side.path
    if "DBSecurityGroups" in properties:
        side.groups = [Unknown("DBSecurityGroups")]
    elif key in properties:
        side.groups = groups(reader, properties[key])
    _finish(reader, side)
    if group_key not in properties:
        side.vpcs = {DEFAULT_VPC}
    if key not in properties and "DBSecurityGroups" not in properties:
        vpcs = side.vpcs
        side.groups = (
            [DefaultGroup(next(iter(vpcs)))]
            if len(vpcs) == 1
            else [Unknown("the default security group of a VPC the template does not tell")]
        )
    side.port = _port(reader, kind, properties)
    return side


def _port(reader, kind: str, properties: dict) -> list[int] | None:
    """The ports the database can listen on: literals and parameters' AllowedValues (a
    parameter's Default is only a default, so a port from one is unknown)."""
    if "Port" in properties:
        port = properties["Port"]
        branches = port.get("Fn::If") if isinstance(port, dict) and len(port) == 1 else None
        if isinstance(branches, list) and len(branches) == 3:  # either branch's port
            values = [v for b in branches[1:] for v in reader.scalar(b, False) or ["?"]]
        else:
            values = reader.scalar(port, defaults=False)
        try:
            return [int(v) for v in values] if values else None
        except ValueError:
            return None
    if kind in _TYPE_PORTS:
        return [_TYPE_PORTS[kind]]
    engines = reader.scalar(properties.get("Engine"), defaults=False)
    if not engines:
        return None
    ports = set()
    for engine in engines:
        port = next((p for prefix, p in _ENGINE_PORTS if engine.lower().startswith(prefix)), None)
        if port is None:
            return None
        ports.add(port)
    return sorted(ports)


def same_vpc(function: Side, database: Side) -> bool | None:
    """Whether the two run in one VPC: True, False (surely two), None (cannot be known)."""
    if function.outside:
        return False
    if len(function.vpcs) != 1 or len(database.vpcs) != 1:
        return None
    (first,), (second,) = function.vpcs, database.vpcs
    if first == second:
        return True
    kinds = {first.split(":", 1)[0], second.split(":", 1)[0]}
    return False if kinds <= {"vpc", DEFAULT_VPC} else None
