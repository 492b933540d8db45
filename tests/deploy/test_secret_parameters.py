"""make deploy's refusal of a parameter change nothing would follow into the database
(scripts/stackctl/secret_parameters.check, one of the judgements of the values a deploy uses):
on an update, before any change set; it names the parameter, what would break and the way out."""

from __future__ import annotations

import pytest

from scripts.stackctl import cli, secret_parameters
from scripts.stackctl.template import TemplateFacts, read_template
from scripts.stackctl.values import Values
from tests.deploy.aws_stubs import StubbedAws, stack_description

SINGLE = read_template("templates/mysql-single-user.yaml")
MULTI = read_template("templates/mysql-multi-user.yaml")
EXISTING = read_template("templates/mysql-rotation-existing-cluster.yaml")
IMAGE = ("TestInstanceImageId", "ami-0123456789abcdef0")  # the multi-user stack's test instance


def judged(facts: TemplateFacts, given: dict, previous: dict | None, known: bool = True):
    values = Values(facts, given, previous, stack_known=known)
    return [problem.line for problem in secret_parameters.check(values)]


def without_app_user(facts: TemplateFacts) -> TemplateFacts:
    """The multi-user template as a user's own copy might be: no Custom::MySQLUser follows the
    application secret."""
    resources = {k: v for k, v in facts.resources.items() if k != "AppUser"}
    return TemplateFacts(facts.path, facts.body, facts.parameters, resources, ())


@pytest.mark.parametrize("facts", [SINGLE, MULTI], ids=["single", "multi"])
def test_a_new_admin_username_is_refused_with_the_cause_and_the_way_out(facts):
    [line] = judged(facts, {"AdminUsername": "root2"}, {"AdminUsername": "dbadmin"})
    assert line.startswith(
        "PARAMS: AdminUsername cannot change on this stack ('dbadmin' now, 'root2' given): "
        "CloudFormation would write a new user name and password into AdminSecret while "
        "DatabaseCluster keeps its master user and password (CloudFormation does not resolve an "
        "unchanged dynamic reference again, and a new master user name would replace the "
        "cluster), so every login with the admin secret"
    )
    assert line.endswith(
        "would fail. Keep AdminUsername=dbadmin (leave it out of PARAMS); a cluster's master "
        "user name never changes: another name needs a new stack."
    )
    assert ("AppUser's updates" in line) == (facts is MULTI)


@pytest.mark.parametrize(
    ("facts", "given", "previous", "known"),
    [
        # Before the stack is known nothing can be said about a change (the first pass).
        (MULTI, {"AdminUsername": "root2"}, None, False),
        # A new stack: its secrets are generated for the first time.
        (MULTI, {"AdminUsername": "root2"}, None, True),
        # The same value again, and PARAMS that leave it out (the stack's value is kept).
        (MULTI, {"AdminUsername": "dbadmin"}, {"AdminUsername": "dbadmin"}, True),
        (SINGLE, {"DeletionProtection": "false"}, {"AdminUsername": "dbadmin"}, True),
        # Parameters AppUser follows: CloudFormation generates a new password, AppUser sets it.
        (MULTI, {"AppUsername": "webuser", "DatabaseName": "shop"}, {"AppUsername": "app"}, True),
        (
            EXISTING,
            {
                "ClusterEndpoint": "b.cluster-c0ffee.eu-west-1.rds.amazonaws.com",
                "ClusterPort": "3307",
            },
            {
                "ClusterEndpoint": "a.cluster-c0ffee.eu-west-1.rds.amazonaws.com",
                "ClusterPort": "3306",
            },
            True,
        ),
        # A stack made before the parameter existed has no value to keep.
        (MULTI, {"AdminUsername": "root2"}, {"AppUsername": "app"}, True),
    ],
    ids=["first-pass", "create", "same", "left-out", "followed-multi", "followed-existing", "new"],
)
def test_what_is_not_refused(facts, given, previous, known):
    assert judged(facts, given, previous, known) == []


def test_a_parameter_nothing_follows_is_refused_too():
    """The new password would reach no one: the same refusal, with the way to make it safe."""
    [line] = judged(without_app_user(MULTI), {"DatabaseName": "shop"}, {"DatabaseName": "demodb"})
    assert line == (
        "PARAMS: DatabaseName cannot change on this stack ('demodb' now, 'shop' given): "
        "CloudFormation would write a new password into AppSecret that nothing sets in the "
        "database, so logins with the secret and its next rotation would fail. Keep "
        "DatabaseName=demodb (leave it out of PARAMS); to change it, the template must first let "
        "something set the new password (a Custom::MySQLUser with AppSecretGeneration; see "
        "docs/templates.md, Parameters inside a generated secret)."
    )


def test_every_refused_change_is_named_at_once():
    lines = judged(
        without_app_user(MULTI),
        {"AdminUsername": "root2", "AppUsername": "web"},
        {"AdminUsername": "dbadmin", "AppUsername": "app"},
    )
    assert [line.split(" cannot change")[0] for line in lines] == [
        "PARAMS: AdminUsername",
        "PARAMS: AppUsername",
    ]


def test_make_deploy_refuses_a_new_admin_username_before_any_change_set(capsys):
    stubs = StubbedAws()
    stubs.identity()
    stubs.cloudformation.add_response(
        "describe_stacks",
        stack_description(
            "rotation-multi", "UPDATE_COMPLETE", [("AdminUsername", "dbadmin"), IMAGE]
        ),
    )
    argv = ["deploy", "--template", "templates/mysql-multi-user.yaml", "--stack",
            "rotation-multi", "--bucket", "my-artifacts", "--skip-lint",
            "--params", "AdminUsername=root2"]  # fmt: skip
    assert cli.main(argv, stubs.runtime()) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "error: PARAMS: AdminUsername cannot change on this stack ('dbadmin' now, 'root2' given)"
    )
    assert "another name needs a new stack." in err
    stubs.assert_done()  # refused before any change set


def test_make_deploy_lets_an_application_username_change_through(capsys):
    """AppUser follows it: the judgement adds nothing, and the deploy goes on past judging to
    its uploads (which this stub refuses, to end the run there)."""
    stubs = StubbedAws()
    stubs.identity()
    stubs.cloudformation.add_response(
        "describe_stacks",
        stack_description("rotation-multi", "UPDATE_COMPLETE", [("AppUsername", "appuser"), IMAGE]),
    )
    stubs.s3.add_client_error("put_object", "NoSuchBucket", "The specified bucket does not exist")
    argv = ["deploy", "--template", "templates/mysql-multi-user.yaml", "--stack",
            "rotation-multi", "--bucket", "my-artifacts", "--skip-lint",
            "--params", "AppUsername=webuser"]  # fmt: skip
    assert cli.main(argv, stubs.runtime()) == 1
    err = capsys.readouterr().err
    assert "cannot change on this stack" not in err
    assert err.startswith("failed: Upload to s3://my-artifacts/")
    stubs.assert_done()
