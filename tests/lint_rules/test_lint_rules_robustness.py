"""Malformed or unusual templates: the rules stay silent rather than crash (E0002) or guess."""

from __future__ import annotations

import gc
import weakref

import pytest
from lint_rules_kit import render

from cfn_lint_rotation._rotation_lint import _model

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
    "properties that vanish and conditions that are not names": """
Transform: AWS::SecretsManager-2024-09-16
Resources:
  S:
    Type: AWS::SecretsManager::Secret
    Condition: [A, B]
    Properties: {SecretString: '{"engine": "mysql", "username": "u", "password": "p", "host": "h"}'}
  R:
    Type: AWS::SecretsManager::RotationSchedule
    Condition: {Ref: X}
    Properties: {Ref: AWS::NoValue}
  R2:
    Type: AWS::SecretsManager::RotationSchedule
    Condition: [A]
    Properties: {SecretId: !Ref S, RotationLambdaARN: arn}
  R3:
    Type: AWS::SecretsManager::RotationSchedule
    Condition: {A: B}
    Properties: {SecretId: !Ref S, RotationLambdaARN: arn}
""",
    "types and properties of the wrong kind": """
Transform: AWS::SecretsManager-2024-09-16
Resources:
  S:
    Type: AWS::SecretsManager::Secret
    Properties: {SecretString: {1: 2}, KmsKeyId: {1: 2}}
  Db:
    Type: {Ref: DbType}
    Properties: {MasterUserPassword: !Sub "{{resolve:secretsmanager:${S}::password}}"}
  Db2:
    Type: AWS::RDS::DBCluster
    Properties: [{Engine: aurora-mysql}]
  A:
    Type: AWS::SecretsManager::SecretTargetAttachment
    Properties: {SecretId: !Ref S, TargetId: !Ref Db2, TargetType: AWS::RDS::DBCluster}
  Vpc: {Type: AWS::EC2::VPC, Properties: {CidrBlock: 10.0.0.0/16}}
  Sn1: {Type: AWS::EC2::Subnet, Properties: 5}
  Sn2: {Type: AWS::EC2::Subnet, Properties: text}
  R:
    Type: AWS::SecretsManager::RotationSchedule
    Properties:
      SecretId: !Ref A
      HostedRotationLambda: {RotationType: MySQLSingleUser, VpcSubnetIds: !Sub "${Sn1},${Sn2}"}
""",
    "schedules with a zero step or digits that are no decimal digits": """
Transform: AWS::SecretsManager-2024-09-16
Resources:
  S:
    Type: AWS::SecretsManager::Secret
    Properties: {SecretString: '{"engine": "mysql", "username": "u", "password": "p", "host": "h"}'}
  R1:
    Type: AWS::SecretsManager::RotationSchedule
    Properties:
      SecretId: !Ref S
      RotationLambdaARN: arn
      RotationRules: {ScheduleExpression: cron(0 */0 * * ? *), Duration: 2h}
  R2:
    Type: AWS::SecretsManager::RotationSchedule
    Properties:
      SecretId: !Ref S
      RotationLambdaARN: arn
      RotationRules:
        ScheduleExpression: "cron(0 \u00b2 * * ? *)"
        AutomaticallyAfterDays: "\u00b2"
""",
    "an empty AllowedValues list for an alternating-users username": """
Transform: AWS::SecretsManager-2024-09-16
Parameters:
  User: {Type: String, AllowedValues: [], MaxLength: 8, Description: an empty list}
Resources:
  Admin:
    Type: AWS::SecretsManager::Secret
    Properties:
      SecretString: '{"engine": "mysql", "username": "admin", "password": "p", "host": "h"}'
  S:
    Type: AWS::SecretsManager::Secret
    Properties:
      SecretString: !Sub '{"engine": "mysql", "username": "${User}", "password": "p",
        "host": "h", "masterarn": "${Admin}"}'
  R:
    Type: AWS::SecretsManager::RotationSchedule
    Properties:
      SecretId: !Ref S
      HostedRotationLambda: {RotationType: MySQLMultiUser, MasterSecretArn: !Ref Admin}
""",
    "private-use characters in a secret, where holes are marked while parsing": """
Transform: AWS::SecretsManager-2024-09-16
Parameters:
  Host: {Type: String, Description: database host}
Resources:
  S:
    Type: AWS::SecretsManager::Secret
    Properties:
      SecretString: !Sub "{\\"engine\\": \\"mysql\\", \\"username\\": \\"u\\",
        \\"password\\": \\"\\ue0009\\ue001\\", \\"host\\": \\"${Host}\\"}"
  R:
    Type: AWS::SecretsManager::RotationSchedule
    Properties: {SecretId: !Ref S, HostedRotationLambda: {RotationType: MySQLSingleUser}}
""",
}

# Real mistakes in the templates above, reported rather than crashing: schedules Secrets Manager
# refuses, and two schedules for one secret whose conditions cannot be read apart.
REPORTED = {
    ("ER802", "Resources/R1/Properties/RotationRules/ScheduleExpression"),
    ("ER802", "Resources/R2/Properties/RotationRules/ScheduleExpression"),
    ("ER802", "Resources/R2/Properties/RotationRules/AutomaticallyAfterDays"),
    ("ER801", "Resources/R2/Properties/RotationRules"),
    ("ER005", "Resources/R2"),
    ("ER005", "Resources/R3"),
}


@pytest.mark.parametrize("source", ODD_TEMPLATES.values(), ids=ODD_TEMPLATES.keys())
def test_no_rule_crashes_and_nothing_is_guessed(linter, source):
    crashes = [m.message for m in linter.matches(source) if m.rule.id == "E0002"]
    assert crashes == []
    # ER001: a HostedRotationLambda with no Secrets Manager transform; ER803: `Duration: 7`.
    found = linter.findings(source) - REPORTED
    assert {rule for rule, _ in found} <= {"ER001", "ER803"}


def test_a_linted_template_is_not_kept(linter, multi_user):
    """One cfn-lint process lints every template pre-commit passes it: the rotation model the
    rules build for a template (cached while cfn-lint holds the template) must not keep the
    template alive afterwards, or memory grows with each one."""
    gc.disable()  # nothing is collected before the check below asks for it
    try:
        earlier = set(_model._MODELS)  # other tests' templates, still waiting for collection
        assert linter.findings(render(multi_user, "yaml")) == set()
        linted = [weakref.ref(t) for t in _model._MODELS if t not in earlier]
        assert linted, "the rules built no model: the check below would prove nothing"
        del earlier
        gc.collect()
        assert [ref for ref in linted if ref() is not None] == []
    finally:
        gc.enable()
