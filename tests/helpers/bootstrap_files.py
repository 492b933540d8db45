"""Install the templates' instance bootstrap (cfn-init files, UserData) under a temporary root so
tests can run the very scripts the instance runs.

The only change made to them is `relocate`: the absolute directories the scripts use on the
instance move under the test's root directory.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.custom_resource.functions import FUNCTIONS

from .cfn_templates import Context, cfn_init_files, evaluate, properties

# Directories the instance scripts name; each moves under the test root, nothing else changes.
INSTANCE_DIRECTORIES = (
    "/opt/rotation-demo",
    "/root/rotation-demo",
    "/opt/aws/bin",
    "/etc/dnf/vars",
)
BOOTSTRAP_INSTANCE = "TestInstance"
assert "mysql_user" in FUNCTIONS  # its modules are importable from here on


def relocate(text: str, root: Path) -> str:
    for directory in INSTANCE_DIRECTORIES:
        text = text.replace(directory, f"{root}{directory}")
    return text


def install_cfn_init_files(template: dict, context: Context, root: Path) -> dict[str, Path]:
    """Write the bootstrap instance's cfn-init files under `root` with their modes, as cfn-init
    would; returns the installed path of each instance path."""
    installed = {}
    for instance_path, spec in cfn_init_files(template, BOOTSTRAP_INSTANCE).items():
        target = Path(relocate(instance_path, root))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(relocate(evaluate(spec["content"], context), root))
        target.chmod(int(spec["mode"], 8))
        installed[instance_path] = target
    return installed


def generated_secret(
    template: dict, logical_id: str, context: Context, password: str, attachment: dict[str, Any]
) -> dict[str, Any]:
    """The secret JSON after deployment: the template's SecretStringTemplate, the generated
    password under GenerateStringKey, then the keys SecretTargetAttachment adds."""
    generate = properties(template, logical_id)["GenerateSecretString"]
    secret = json.loads(evaluate(generate["SecretStringTemplate"], context))
    secret[generate["GenerateStringKey"]] = password
    secret.update(attachment)
    return secret


def apply_app_user(template: dict, context: Context, admin, app_secret: dict) -> None:
    """What the template's Custom::MySQLUser (AppUser) does on Create, done by the function's own
    modules over `admin` (a pymysql connection as the admin user): its properties, evaluated from
    the template, parsed by the function; the demo schema; the user; exactly its grants. The
    handler around it (secrets, TLS, the answer) is tested in tests/custom_resource/mysql_user."""
    # Importable once tests.custom_resource.functions has put the function's folder on sys.path.
    from cfn_one_shot.reasons import SET_BY_CLOUDFORMATION
    from demo_schema import create_demo_schema
    from user_accounts import Accounts
    from user_request import user_request

    (logical_id,) = [
        n for n, b in template["Resources"].items() if b["Type"] == "Custom::MySQLUser"
    ]
    given = properties(template, logical_id)
    # The function's own ARN and timeout are CloudFormation's business, not the user's.
    request = user_request(
        evaluate({k: v for k, v in given.items() if k not in SET_BY_CLOUDFORMATION}, context)
    )
    accounts = Accounts(admin)
    if request.demo_schema:
        create_demo_schema(accounts, request.grants[0].database)
    accounts.create(app_secret["username"], app_secret["password"])
    accounts.grant_exactly(app_secret["username"], request.grants)


CLUSTER_IDENTIFIER = "rotation-demo-databasecluster-abc123"


def aurora_attachment(host: str, port: int) -> dict[str, Any]:
    """What SecretTargetAttachment adds to a secret attached to an Aurora MySQL cluster."""
    return {
        "engine": "mysql",
        "host": host,
        "port": port,
        "dbClusterIdentifier": CLUSTER_IDENTIFIER,
    }


def cluster_values(host: str, port: int) -> dict[str, str]:
    """The multi-user template's DatabaseCluster as Ref and Fn::GetAtt return it, for a Context:
    the same cluster aurora_attachment describes."""
    return {
        "DatabaseCluster": CLUSTER_IDENTIFIER,
        "DatabaseCluster.Endpoint.Address": host,
        "DatabaseCluster.Endpoint.Port": str(port),
    }
