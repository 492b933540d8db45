"""Whether security groups let a rotation function reach its database's port.

Security groups are stateful: a connection needs an egress rule of one of the function's groups
and an ingress rule of one of the database's groups, both for the database's TCP port. Rules are
read from `SecurityGroupIngress` / `SecurityGroupEgress` of `AWS::EC2::SecurityGroup` and from
`AWS::EC2::SecurityGroupIngress` / `SecurityGroupEgress` resources. A group without inline egress
rules keeps EC2's rule that allows all outbound traffic; a VPC's default group admits its own
members and sends anywhere. Each answer is True, False, or None with the reasons it cannot be
known.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field
from typing import Any

from ._placement import SECURITY_GROUP, DefaultGroup, Side, Unknown, describe, group_of
from ._values import Hole, literal

INGRESS, EGRESS = "SecurityGroupIngress", "SecurityGroupEgress"
_ALL_TRAFFIC = {"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}
# Address ranges of a VPC (RFC 1918, and the shared range some VPCs use): a rule that admits
# only such addresses never admits a function outside the VPC.
_PRIVATE = [
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8")
]


class Public:
    """A peer outside the VPC: a function without VPC, or one behind a NAT in another VPC."""

    label = "a public address"


PUBLIC = Public()


@dataclass
class Rule:
    group: Any  # the group the rule belongs to
    body: dict
    path: list
    unknown: str | None = None  # why the rule cannot be read (it then decides nothing)


@dataclass
class Answer:
    allowed: bool | None
    reasons: list[str] = field(default_factory=list)  # why it cannot be known


class SecurityGroups:
    """The template's security group rules, read once."""

    def __init__(self, model) -> None:
        self.reader = model.reader
        self.rules: dict[tuple[str, Any], list[Rule]] = {}
        self.explicit_egress: set = set()
        for name, body in self.reader.resources.items():
            properties = body.get("Properties")
            if not isinstance(properties, dict):
                continue
            kind = body.get("Type")
            # Fn::Ifs settled the way CloudFormation will; what differs between branches is
            # unknown, never guessed from one branch.
            variants = [p for _, p in model.settled(name)]
            if kind == SECURITY_GROUP:
                self._inline(name, variants)
            elif kind in (f"AWS::EC2::{INGRESS}", f"AWS::EC2::{EGRESS}"):
                group = group_of(self.reader, self.reader.text(properties.get("GroupId")))
                direction = kind.rsplit("::", 1)[1]
                path = ["Resources", name, "Properties"]
                rule = Rule(group, variants[0] if variants else {}, path)
                if len(variants) > 1:
                    rule.unknown = f"rule {name} differs between the branches of an Fn::If"
                self.rules.setdefault((direction, group), []).append(rule)

    def _inline(self, name: str, variants: list[dict]) -> None:
        for direction in (INGRESS, EGRESS):
            values = {json.dumps(p.get(direction), sort_keys=True, default=str) for p in variants}
            listed = variants[0].get(direction) if len(values) == 1 else None
            path = ["Resources", name, "Properties", direction]
            if len(values) > 1 or (listed is not None and not isinstance(listed, list)):
                # Under an Fn::If that conditions do not settle alike, or no list at all.
                how = "is no list" if len(values) == 1 else "differs between Fn::If branches"
                self._add(direction, name, Rule(name, {}, path, f"{direction} of {name} {how}"))
                continue
            for index, rule in enumerate(listed or ()):
                body = rule if isinstance(rule, dict) else {}
                self._add(direction, name, Rule(name, body, [*path, index]))

    def _add(self, direction: str, group, rule: Rule) -> None:
        if direction == EGRESS:
            self.explicit_egress.add(group)  # EC2's allow-all egress goes once rules are listed
        self.rules.setdefault((direction, group), []).append(rule)

    def rules_of(self, direction: str, group) -> list[Rule]:
        found = list(self.rules.get((direction, group), []))
        if direction == EGRESS and group not in self.explicit_egress:
            found.append(Rule(group, _ALL_TRAFFIC, []))
        if direction == INGRESS and isinstance(group, DefaultGroup):
            found.append(Rule(group, {"IpProtocol": "-1", "Self": True}, []))
        return found

    # -- the question --------------------------------------------------------------------
    def allows(self, direction: str, own: Side, peer, port: list[int] | None) -> Answer:
        """Whether a group of `own` has a `direction` rule for `peer` on the port."""
        answer = Answer(False)
        if not own.groups:
            return Answer(None, [f"{own.label} names no security group"])
        for group in own.groups:
            if isinstance(group, Unknown):
                answer = _merge(
                    answer,
                    Answer(None, [f"a security group of {own.label} comes from {group.what}"]),
                )
                continue
            for rule in self.rules_of(direction, group):
                verdict = self._rule(rule, direction, peer, port)
                answer = _merge(answer, verdict)
                if answer.allowed:
                    return answer
        return answer

    def _rule(self, rule: Rule, direction: str, peer, port) -> Answer:
        if rule.unknown:
            return Answer(None, [f"the {rule.unknown}"])
        ports = self._ports(rule.body, port)
        if ports.allowed is False:
            return ports
        source = self._peer(rule, direction, peer)
        if source.allowed is False:
            return source
        if ports.allowed and source.allowed:
            return Answer(True)
        return Answer(None, ports.reasons + source.reasons)

    def _ports(self, body: dict, port: list[int] | None) -> Answer:
        protocol = literal(self.reader.text(body.get("IpProtocol")))
        if protocol is None or protocol.lower() not in ("tcp", "6"):
            return _protocol(protocol)
        lows, highs = self._port(body.get("FromPort")), self._port(body.get("ToPort"))
        if {-1} in (lows, highs) or "database" in (lows, highs):
            return Answer(True)  # every port, or !GetAtt Database.Endpoint.Port
        if port is None:
            return Answer(None, ["the database's port is only known at deploy time"])
        if lows is None or highs is None:
            value = body.get("FromPort") if lows is None else body.get("ToPort")
            where = describe(self.reader, self.reader.text(value))
            return Answer(None, [f"a rule's port comes from {where}, known at deploy time"])
        held = {all(low <= p <= high for p in port) for low in lows for high in highs}
        if len(held) > 1:
            return Answer(None, ["a rule's port is a parameter whose AllowedValues differ"])
        return Answer(held.pop())

    def _port(self, value: Any):
        """'database', the port numbers a rule's port can be (a literal, or every one of a
        parameter's AllowedValues: a Default is only a default), or None when unknown."""
        text = self.reader.text(value)
        single = text and len(text) == 1 and isinstance(text[0], Hole)
        if single and text[0].attribute in ("Endpoint.Port", "Port"):
            return "database"
        values = self.reader.candidates(text, defaults=False)
        try:
            return {int(v) for v in values} if values else None
        except ValueError:
            return None

    def _peer(self, rule: Rule, direction: str, peer) -> Answer:
        body = rule.body
        key = "SourceSecurityGroupId" if direction == INGRESS else "DestinationSecurityGroupId"
        if body.get("Self") or key in body:
            if isinstance(peer, Public):
                return Answer(False)  # a group rule matches only members inside the VPC
            if not peer.groups:
                return Answer(None, [f"{peer.label} names no security group"])
            if body.get("Self"):
                return Answer(rule.group in peer.groups)
            return self._group_peer(body[key], peer)
        if "CidrIp" in body:
            return self._cidr(body["CidrIp"], peer)
        return Answer(None, ["a rule names its peer by prefix list, IPv6 range or group name"])

    def _group_peer(self, value: Any, peer) -> Answer:
        """A rule naming a security group: it matches members of that group in the VPC."""
        group = group_of(self.reader, self.reader.text(value))
        if isinstance(group, Unknown):
            return Answer(None, [f"a rule names the security group from {group.what}"])
        if group in peer.groups:
            return Answer(True)
        if any(isinstance(g, Unknown) for g in peer.groups):
            unknown = f"{peer.label} uses a security group the template does not define"
            return Answer(None, [unknown])
        return Answer(False)

    def _cidr(self, value: Any, peer) -> Answer:
        text = self.reader.text(value)
        named = literal(text)
        if named is None:
            if text and len(text) == 1 and isinstance(text[0], Hole):
                hole = text[0]
                if hole.attribute == "CidrBlock" and self.reader.resource_in(text, "AWS::EC2::VPC"):
                    return self._in_vpc(f"vpc:{hole.target}", peer)
            return Answer(None, [f"a rule's CidrIp comes from {describe(self.reader, text)}"])
        try:
            network = ipaddress.ip_network(named, strict=False)
        except ValueError:
            return Answer(None, [f"a rule's CidrIp {named!r} is no IPv4 range"])
        if network.prefixlen == 0:
            return Answer(True)
        if isinstance(peer, Public):
            private = any(network.subnet_of(p) for p in _PRIVATE if p.version == network.version)
            return Answer(False) if private else Answer(None, [f"{named} may hold the address"])
        return self._covers(network, peer)

    def _in_vpc(self, vpc: str, peer) -> Answer:
        if isinstance(peer, Public):
            return Answer(False)
        if peer.vpcs == {vpc}:
            return Answer(True)
        if peer.vpcs and all(k.startswith("vpc:") or k == "default" for k in peer.vpcs):
            return Answer(False)
        return Answer(None, [f"whether {peer.label} runs in that VPC cannot be known"])

    def _covers(self, network, peer: Side) -> Answer:
        """Whether a range holds the addresses of the peer's subnets (or of its VPC)."""
        blocks = [self._block(s) for s in peer.subnets]
        if not blocks or None in blocks:
            blocks = [self._vpc_block(k) for k in peer.vpcs] if peer.vpcs else [None]
        if None in blocks:
            return Answer(None, [f"the address range of {peer.label} is not known"])
        if all(b.subnet_of(network) for b in blocks if b.version == network.version):
            return Answer(True)
        if not any(b.overlaps(network) for b in blocks):
            return Answer(False)
        return Answer(None, [f"{network} holds only some of the addresses of {peer.label}"])

    def _block(self, subnet):
        if not isinstance(subnet, str):
            return None
        properties = self.reader.resources[subnet].get("Properties") or {}
        return _network(literal(self.reader.text(properties.get("CidrBlock"))))

    def _vpc_block(self, key: str):
        if not key.startswith("vpc:"):
            return None
        properties = self.reader.resources[key[4:]].get("Properties") or {}
        return _network(literal(self.reader.text(properties.get("CidrBlock"))))


def _protocol(protocol: str | None) -> Answer:
    """A rule's protocol other than TCP: all traffic, none of the database's, or unknown."""
    if protocol is None:
        return Answer(None, ["a rule's IpProtocol is only known at deploy time"])
    return Answer(protocol.lower() in ("-1", "all"))


def _network(text: str | None):
    try:
        return ipaddress.ip_network(text, strict=False) if text else None
    except ValueError:
        return None


def _merge(first: Answer, second: Answer) -> Answer:
    """Any rule that allows decides; otherwise one that may leaves the answer open."""
    if first.allowed or second.allowed:
        return Answer(True)
    if first.allowed is None or second.allowed is None:
        return Answer(None, [*first.reasons, *second.reasons])
    return Answer(False)
