"""Malformed or unusual templates: the rules stay silent rather than crash (E0002) or guess."""

from __future__ import annotations

import pytest

ODD_TEMPLATES = {
    "transform as a map": """
Transform: {Name: AWS::Include, Parameters: {Location: s3://bucket/file.yaml}}
Resources:
  R:
    Type: AWS::SecretsManager::RotationSchedule
    Properties: {SecretId: x, HostedRotationLambda: {RotationType: MySQLSingleUser}}
""",
    "properties that are not maps": """
Resources:
  S: {Type: AWS::SecretsManager::Secret, Properties: [1, 2]}
  R:
    Type: AWS::SecretsManager::RotationSchedule
    Properties: {SecretId: !Ref S, HostedRotationLambda: [a], RotationRules: [b]}
  P:
    Type: AWS::SecretsManager::ResourcePolicy
    Properties: {SecretId: !Ref S, ResourcePolicy: [x], BlockPublicPolicy: [y]}
  A: {Type: AWS::SecretsManager::SecretTargetAttachment, Properties: "text"}
""",
    "intrinsics where strings belong": """
Transform: AWS::SecretsManager-2024-09-16
Resources:
  S:
    Type: AWS::SecretsManager::Secret
    Properties:
      KmsKeyId: [not, a, string]
      GenerateSecretString:
        SecretStringTemplate: {Fn::Sub: [{Ref: X}, {}]}
        ExcludeCharacters: {Fn::Join: [",", {Ref: List}]}
        GenerateStringKey: {Fn::Select: [0, [password]]}
  R:
    Type: AWS::SecretsManager::RotationSchedule
    Properties:
      SecretId: {Fn::GetAtt: S}
      HostedRotationLambda:
        RotationType: {Fn::Select: [0, [MySQLMultiUser]]}
        MasterSecretArn: {Fn::Sub: "${S}"}
        VpcSubnetIds: {Fn::Join: [",", [{Ref: Missing}, "", subnet-123]]}
        ExcludeCharacters: {Fn::Base64: abc}
      RotationRules:
        ScheduleExpression: {Fn::Sub: "rate(${Days} days)"}
        Duration: 7
        AutomaticallyAfterDays: {Ref: AWS::NoValue}
""",
    "unknown and circular conditions": """
Conditions:
  A: !Condition B
  B: !Condition A
Resources:
  S:
    Type: AWS::SecretsManager::Secret
    Condition: Nowhere
    Properties: {SecretString: !If [Unknown, "{}", "x"]}
  R:
    Type: AWS::SecretsManager::RotationSchedule
    Condition: A
    Properties:
      SecretId: !Ref S
      HostedRotationLambda: !If [B, {RotationType: MySQLSingleUser}, !Ref AWS::NoValue]
""",
    "json that is not an object": """
Transform: AWS::SecretsManager-2024-09-16
Resources:
  S: {Type: AWS::SecretsManager::Secret, Properties: {SecretString: "[1, 2, 3]"}}
  T: {Type: AWS::SecretsManager::Secret, Properties: {SecretString: '{"username": ${'}}
  P:
    Type: AWS::SecretsManager::ResourcePolicy
    Properties: {SecretId: !Ref S, BlockPublicPolicy: true, ResourcePolicy: '{"Statement": "nope"}'}
  Q:
    Type: AWS::SecretsManager::ResourcePolicy
    Properties:
      SecretId: !Ref S
      BlockPublicPolicy: !Ref Block
      ResourcePolicy: {Statement: [{Effect: !Ref Effect, Principal: "*"}, 42, {Condition: [1]}]}
""",
    "network pieces that do not resolve": """
Transform: AWS::SecretsManager-2024-09-16
Resources:
  Vpc: {Type: AWS::EC2::VPC, Properties: {CidrBlock: 10.0.0.0/16}}
  Sn: {Type: AWS::EC2::Subnet, Properties: {VpcId: !Ref Vpc, CidrBlock: 10.0.0.0/24}}
  Rt: {Type: AWS::EC2::RouteTable, Properties: {VpcId: !Ref Vpc}}
  As:
    Type: AWS::EC2::SubnetRouteTableAssociation
    Properties: {SubnetId: !Ref Sn, RouteTableId: !ImportValue shared-rt}
  Ep: {Type: AWS::EC2::VPCEndpoint, Properties: {VpcId: !Ref Vpc, ServiceName: !ImportValue svc}}
  Ro:
    Type: AWS::EC2::Route
    Properties: {RouteTableId: !Ref Rt, DestinationCidrBlock: !Ref Cidr, NatGatewayId: nat-1}
  S:
    Type: AWS::SecretsManager::Secret
    Properties: {SecretString: '{"engine":"mysql","username":"u","password":"p","host":"h"}'}
  R:
    Type: AWS::SecretsManager::RotationSchedule
    Properties:
      SecretId: !Ref S
      HostedRotationLambda: {RotationType: MySQLSingleUser, VpcSubnetIds: !Ref Sn}
""",
}


@pytest.mark.parametrize("source", ODD_TEMPLATES.values(), ids=ODD_TEMPLATES.keys())
def test_no_rule_crashes_and_nothing_is_guessed(linter, source):
    crashes = [m.message for m in linter.matches(source) if m.rule.id == "E0002"]
    assert crashes == []
    # E9001: a HostedRotationLambda with no Secrets Manager transform; E9803: `Duration: 7`.
    assert {rule for rule, _ in linter.findings(source)} <= {"E9001", "E9803"}
