"""make deploy's refusal of a parameter change nothing would follow into the database
(scripts/stackctl/secret_parameters.check): judged on PARAMS against the stack's previous values,
before any change set; it names the parameter, what would break and the way out."""

from __future__ import annotations

import pytest

from scripts.stackctl import secret_parameters
from scripts.stackctl.errors import UsageError
from scripts.stackctl.template import TemplateFacts, read_template

SINGLE = read_template("templates/mysql-single-user.yaml")
MULTI = read_template("templates/mysql-multi-user.yaml")
EXISTING = read_template("templates/mysql-rotation-existing-cluster.yaml")


def stack(**values: str) -> dict:
    """A describe-stacks entry with these previous parameter values."""
    return {
        "StackName": "rotation-demo",
        "StackStatus": "UPDATE_COMPLETE",
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()],
    }


@pytest.mark.parametrize("facts", [SINGLE, MULTI], ids=["single", "multi"])
def test_a_new_admin_username_is_refused_with_the_cause_and_the_way_out(facts):
    with pytest.raises(UsageError) as refused:
        secret_parameters.check(facts, {"AdminUsername": "root2"}, stack(AdminUsername="dbadmin"))
    message = str(refused.value)
    assert message.startswith(
        "PARAMS: AdminUsername cannot change on this stack ('dbadmin' now, 'root2' in PARAMS): "
        "CloudFormation would write a new user name and password into AdminSecret while "
        "DatabaseCluster keeps its master user and password (CloudFormation does not resolve an "
        "unchanged dynamic reference again, and a new master user name would replace the "
        "cluster), so every login with the admin secret"
    )
    assert message.endswith(
        "would fail. Keep AdminUsername=dbadmin (leave it out of PARAMS); a cluster's master "
        "user name never changes: another name needs a new stack."
    )
    assert ("AppUser's updates" in message) == (facts is MULTI)
    assert "\n" not in message


@pytest.mark.parametrize(
    ("facts", "overrides", "previous"),
    [
        # A new stack: its secrets are generated for the first time.
        (MULTI, {"AdminUsername": "root2"}, None),
        # The same value again, and PARAMS that leave it out (the stack's value is kept).
        (MULTI, {"AdminUsername": "dbadmin"}, stack(AdminUsername="dbadmin")),
        (SINGLE, {"DeletionProtection": "false"}, stack(AdminUsername="dbadmin")),
        # Parameters AppUser follows: CloudFormation generates a new password, AppUser sets it.
        (MULTI, {"AppUsername": "webuser", "DatabaseName": "shop"}, stack(AppUsername="app")),
        (
            EXISTING,
            {
                "ClusterEndpoint": "b.cluster-c0ffee.eu-west-1.rds.amazonaws.com",
                "ClusterPort": "3307",
            },
            stack(
                ClusterEndpoint="a.cluster-c0ffee.eu-west-1.rds.amazonaws.com", ClusterPort="3306"
            ),
        ),
        # A stack made before the parameter existed has no previous value to keep.
        (MULTI, {"AdminUsername": "root2"}, stack(AppUsername="app")),
    ],
    ids=["create", "same-value", "left-out", "followed-multi", "followed-existing", "new-param"],
)
def test_what_is_not_refused(facts, overrides, previous):
    secret_parameters.check(facts, overrides, previous)


def test_a_parameter_nothing_follows_is_refused_too():
    """A template (of the user's own) whose secret holds a parameter and no Custom::MySQLUser
    mirrors its GenerateSecretString: the new password would reach no one."""
    resources = {k: v for k, v in MULTI.resources.items() if k != "AppUser"}
    facts = TemplateFacts(MULTI.path, MULTI.body, MULTI.parameters, resources, ())
    with pytest.raises(UsageError) as refused:
        secret_parameters.check(facts, {"DatabaseName": "shop"}, stack(DatabaseName="demodb"))
    assert str(refused.value) == (
        "PARAMS: DatabaseName cannot change on this stack ('demodb' now, 'shop' in PARAMS): "
        "CloudFormation would write a new password into AppSecret that nothing sets in the "
        "database, so logins with the secret and its next rotation would fail. Keep "
        "DatabaseName=demodb (leave it out of PARAMS); to change it, the template must first let "
        "something set the new password (a Custom::MySQLUser with AppSecretGeneration; see "
        "docs/templates.md, Parameters inside a generated secret)."
    )


def test_every_refused_change_is_named_at_once():
    resources = {k: v for k, v in MULTI.resources.items() if k != "AppUser"}
    facts = TemplateFacts(MULTI.path, MULTI.body, MULTI.parameters, resources, ())
    with pytest.raises(UsageError) as refused:
        secret_parameters.check(
            facts,
            {"AdminUsername": "root2", "AppUsername": "web"},
            stack(AdminUsername="dbadmin", AppUsername="app"),
        )
    lines = str(refused.value).splitlines()
    assert [line.split(" cannot change")[0] for line in lines] == [
        "PARAMS: AdminUsername",
        "PARAMS: AppUsername",
    ]
