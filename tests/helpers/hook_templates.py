"""The two templates the pre-commit hook tests commit in a scratch repository: one the rule pack
fails (a hosted rotation without the Secrets Manager transform: ER001) and one it passes."""

from pathlib import Path

NO_TRANSFORM = """\
Resources:
  Rotation:
    Type: AWS::SecretsManager::RotationSchedule
    Properties:
      SecretId: arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf
      HostedRotationLambda:
        RotationType: MySQLSingleUser
      RotationRules:
        ScheduleExpression: rate(30 days)
"""
GOOD = "Transform: AWS::SecretsManager-2024-09-16\n" + NO_TRANSFORM


def write_hook_templates(root: Path) -> None:
    """templates/rotation.yaml (fails the hook) and templates/good.yaml (passes) under `root`."""
    (root / "templates").mkdir(parents=True, exist_ok=True)
    (root / "templates" / "rotation.yaml").write_text(NO_TRANSFORM)
    (root / "templates" / "good.yaml").write_text(GOOD)
