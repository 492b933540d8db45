"""PARAMS_FILE, TAGS, ROLE_ARN, NOTIFICATION_ARNS and TERMINATION_PROTECTION, as `sam deploy`,
`rain` and the CDK CLI offer them: each reaches the change set (or the stack) and is checked
before any AWS call. moto keeps tags, role and topics; termination protection, which moto does
not implement, goes through the Stubber."""

from __future__ import annotations

import json

import pytest
from botocore.stub import ANY

from scripts.stackctl import cli
from scripts.stackctl.params_file import read
from scripts.stackctl.policy import protective_body
from tests.deploy.aws_stubs import StubbedAws, event, events, stack_arn, stack_description
from tests.deploy.conftest import FIXTURES, clients

CONSTRAINED = str(FIXTURES / "constrained-parameters.yaml")
ROLE = "arn:aws:iam::123456789012:role/cloudformation-deployer"


def test_every_setting_reaches_the_stack(aws_env, moto_endpoint, tmp_path, stackctl):
    sns = clients(moto_endpoint)("sns")
    topic = sns.create_topic(Name="stack-events")["TopicArn"]
    params_file = tmp_path / "parameters.json"
    params_file.write_text(json.dumps([
        {"ParameterKey": "Required", "ParameterValue": "from-file"},
        {"ParameterKey": "Mode", "ParameterValue": "off"},
    ]))  # fmt: skip
    result = stackctl(
        aws_env,
        "deploy",
        f"--template={CONSTRAINED}",
        "--stack=with-settings",
        "--skip-lint",
        f"--params-file=file://{params_file}",
        "--params=Mode=on",
        '--tags=team=payments cost-center="CC 1234"',
        f"--role-arn={ROLE}",
        f"--notification-arns={topic}",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PARAMS overrides PARAMS_FILE for Mode." in result.stdout
    stack = clients(moto_endpoint)("cloudformation").describe_stacks(StackName="with-settings")
    stack = stack["Stacks"][0]
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert parameters["Required"] == "from-file"
    assert parameters["Mode"] == "on"
    assert stack["Tags"] == [
        {"Key": "team", "Value": "payments"},
        {"Key": "cost-center", "Value": "CC 1234"},
    ]
    assert stack["RoleARN"] == ROLE
    assert stack["NotificationARNs"] == [topic]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{", "is not JSON (line 1, column 2: Expecting property name enclosed in double quotes)"),
        ('{"Required": "x"}', "holds a JSON dict, not a list of parameters"),
        ('["Required=x"]', 'entry 1 is a string ("Required=x"), not an object'),
        ("[7]", "entry 1 is a number (7), not an object"),
        (
            '[{"ParameterKey": "Zones", "ParameterValue": ["a", "b"]}]',
            '(Zones) has ParameterValue ["a", "b"], a list, not a string; write "a,b"',
        ),
        ('[{"ParameterKey": "Required", "Value": "x"}]', "entry 1 has Value, which create-stack"),
        ('[{"ParameterValue": "x"}]', "entry 1 has no ParameterKey"),
        ('[{"ParameterKey": "Count", "ParameterValue": 3}]', 'a number, not a string; write "3"'),
        (
            '[{"ParameterKey": "Mode", "ParameterValue": "on", "UsePreviousValue": true}]',
            "(Mode) has both UsePreviousValue and ParameterValue; keep one",
        ),
        ('[{"ParameterKey": "Mode", "UsePreviousValue": "yes"}]', "write true or false"),
    ],
)
def test_a_file_create_stack_would_refuse_is_explained(tmp_path, content, problem):
    path = tmp_path / "parameters.json"
    path.write_text(content)
    pairs, kept, problems = read(str(path))
    assert (pairs, kept) == ([], set())
    assert len(problems) == 1
    assert problem in problems[0]


def test_the_file_s_values_are_checked_like_params(tmp_path, capsys):
    path = tmp_path / "parameters.json"
    path.write_text(json.dumps([
        {"ParameterKey": "Mode", "ParameterValue": "maybe"},
        {"ParameterKey": "Nmae", "ParameterValue": "abc"},
    ]))  # fmt: skip

    def no_aws(region: str):
        raise AssertionError("a PARAMS_FILE mistake is found before AWS is asked")

    from scripts.stackctl.runtime import Runtime

    argv = ["deploy", "--template", CONSTRAINED, "--stack", "demo", "--skip-lint",
            "--params-file", str(path), "--params", "Required=x"]  # fmt: skip
    assert cli.main(argv, Runtime(connect=no_aws)) == 2
    assert capsys.readouterr().err == (
        "error: PARAMS_FILE: Mode='maybe' is not allowed; use one of: on, off.\n"
        "PARAMS_FILE: constrained-parameters.yaml has no parameter Nmae; did you mean Name?\n"
    )


def test_a_missing_file_is_named():
    assert read("file://no/such/parameters.json")[2] == [
        "PARAMS_FILE=file://no/such/parameters.json does not exist; give the path of the file."
    ]


@pytest.mark.parametrize(
    ("setting", "problem"),
    [
        ("--tags=team", "TAGS: 'team' is not Key=Value."),
        ("--tags=team=a team=b", "TAGS: team is given twice; keep one."),
        ("--tags=a=b,c=d", "TAGS: 'a=b,c=d' looks like two pairs joined by a comma; separate "
                           "pairs with a space: TAGS='a=b c=d'."),
        ("--tags=team=a;b", "TAGS: team='a;b' holds ;; tags the stack passes on"),
        (f"--tags=k={'v' * 257}", "TAGS: k: a tag value has at most 256 characters."),
        (
            "--notification-arns=" + " ".join(f"arn:aws:sns:eu-west-1:123456789012:t{i}"
                                              for i in range(6)),
            "NOTIFICATION_ARNS: 6 topics; a stack takes at most 5.",
        ),
        ("--role-arn=arn:aws:iam::123456789012:user/dev", "ROLE_ARN=arn:aws:iam::123456789012:"
                                                          "user/dev is not an IAM role ARN"),
    ],
)  # fmt: skip
def test_stack_settings_cloudformation_would_refuse_are_found_before_aws(setting, problem, capsys):
    from scripts.stackctl.runtime import Runtime

    def no_aws(region: str):
        raise AssertionError("a setting mistake is found before AWS is asked")

    argv = ["deploy", "--template", CONSTRAINED, "--stack", "demo", "--skip-lint",
            "--params", "Required=x", setting]  # fmt: skip
    assert cli.main(argv, Runtime(connect=no_aws)) == 2
    assert capsys.readouterr().err.startswith(f"error: {problem}")


def topic_added(cf, change_set: str, arn: str) -> None:
    """A create's change set that adds the fixture's topic, and its execution."""
    cf.add_response(
        "describe_change_set",
        {"ChangeSetId": change_set, "StackId": arn, "Status": "CREATE_COMPLETE", "Changes": [
            {"Type": "Resource", "ResourceChange": {
                "Action": "Add", "LogicalResourceId": "Topic", "ResourceType": "AWS::SNS::Topic"}}
        ]},
    )  # fmt: skip
    cf.add_response("describe_stack_events", events())
    cf.add_response("execute_change_set", {}, {"ChangeSetName": change_set})


def created_with_protection(stubs: StubbedAws, stack: str) -> None:
    """A create of the constrained fixture that ends CREATE_COMPLETE."""
    cf = stubs.cloudformation
    arn = stack_arn(stack)
    change_set = f"arn:aws:cloudformation:eu-west-1:111122223333:changeSet/make-deploy/{'c' * 36}"
    cf.add_client_error(
        "describe_stacks", "ValidationError", f"Stack with id {stack} does not exist"
    )
    cf.add_response(
        "create_change_set",
        {"Id": change_set, "StackId": arn},
        {"StackName": stack, "ChangeSetName": ANY, "ChangeSetType": "CREATE", "Parameters": ANY,
         "Capabilities": ANY, "Description": ANY, "TemplateBody": ANY, "Tags": ANY},
    )  # fmt: skip
    topic_added(cf, change_set, arn)
    done = event(stack, stack, "CREATE_COMPLETE", "AWS::CloudFormation::Stack", physical=arn)
    cf.add_response("describe_stack_events", events(done))
    cf.add_response("describe_stacks", stack_description(stack, "CREATE_COMPLETE"))
    cf.add_response("describe_stack_events", events())
    cf.add_response("get_stack_policy", {})
    cf.add_response(
        "set_stack_policy", {}, {"StackName": arn, "StackPolicyBody": protective_body()}
    )
    cf.add_response("describe_stacks", stack_description(stack, "CREATE_COMPLETE"))


def test_termination_protection_is_turned_on_once_the_stack_is_created(capsys):
    stubs = StubbedAws()
    stubs.identity()
    created_with_protection(stubs, "protected")
    stubs.cloudformation.add_response(
        "update_termination_protection",
        {"StackId": stack_arn("protected")},
        {"StackName": stack_arn("protected"), "EnableTerminationProtection": True},
    )
    argv = ["deploy", "--template", CONSTRAINED, "--stack", "protected", "--skip-lint",
            "--params", "Required=x", "--tags", "team=payments",
            "--termination-protection", "true"]  # fmt: skip
    assert cli.main(argv, stubs.runtime()) == 0
    out = capsys.readouterr().out
    assert "Termination protection on: stack " in out
    assert "--no-enable-termination-protection" in out
    stubs.assert_done()


def test_a_protected_stack_is_not_deleted_and_the_way_to_unprotect_it_is_named(capsys):
    stubs = StubbedAws()
    stubs.identity()
    described = stack_description("protected", "CREATE_COMPLETE")
    described["Stacks"][0]["EnableTerminationProtection"] = True
    stubs.cloudformation.add_response("describe_stacks", described)
    assert cli.main(["delete", "--stack", "protected", "--yes"], stubs.runtime()) == 2
    assert capsys.readouterr().err == (
        "error: Stack protected has termination protection, so CloudFormation refuses to delete "
        "it. Turn it off: aws cloudformation update-termination-protection "
        "--no-enable-termination-protection --stack-name protected --region eu-west-1, then "
        "make delete STACK=protected REGION=eu-west-1 again.\n"
    )
    stubs.assert_done()  # no delete_stack


def test_tags_on_an_update_say_which_of_the_stack_s_tags_go(capsys):
    stubs = StubbedAws()
    stubs.identity()
    described = stack_description("tagged", "UPDATE_COMPLETE", [("Required", "x")])
    described["Stacks"][0]["Tags"] = [
        {"Key": "team", "Value": "payments"},
        {"Key": "owner", "Value": "ops"},
    ]
    stubs.cloudformation.add_response("describe_stacks", described)
    stubs.cloudformation.add_client_error(
        "create_change_set",
        "ValidationError",
        "No updates are to be performed.",
        expected_params={
            "StackName": "tagged", "ChangeSetName": ANY, "ChangeSetType": "UPDATE",
            "Parameters": ANY, "Capabilities": ANY, "Description": ANY, "TemplateBody": ANY,
            "Tags": [{"Key": "team", "Value": "payments"}],
        },
    )  # fmt: skip
    stubs.cloudformation.add_response("get_stack_policy", {"StackPolicyBody": protective_body()})
    argv = ["deploy", "--template", CONSTRAINED, "--stack", "tagged", "--skip-lint",
            "--tags", "team=payments"]  # fmt: skip
    assert cli.main(argv, stubs.runtime()) == 0
    assert (
        "TAGS replaces the stack's tags: owner=ops will be removed (add them to TAGS to keep them)."
        in capsys.readouterr().out
    )
    stubs.assert_done()


def test_ctrl_c_during_a_create_says_what_is_not_applied_and_the_rerun_applies_it(capsys):
    """The stack policy and termination protection follow a create make deploy saw end; after
    Ctrl-C, the same make deploy run again once the stack is CREATE_COMPLETE applies them."""
    stubs = StubbedAws()
    stubs.identity()
    cf = stubs.cloudformation
    arn = stack_arn("stopped")
    change_set = f"arn:aws:cloudformation:eu-west-1:111122223333:changeSet/make-deploy/{'d' * 36}"
    cf.add_client_error(
        "describe_stacks", "ValidationError", "Stack with id stopped does not exist"
    )
    cf.add_response("create_change_set", {"Id": change_set, "StackId": arn})
    topic_added(cf, change_set, arn)
    running = event("stopped", "stopped", "CREATE_IN_PROGRESS", "AWS::CloudFormation::Stack",
                    physical=arn)  # fmt: skip
    cf.add_response("describe_stack_events", events(running))
    cf.add_response("describe_stacks", stack_description("stopped", "CREATE_IN_PROGRESS"))

    def ctrl_c(seconds: float) -> None:
        raise KeyboardInterrupt

    stubs.clock.sleep = ctrl_c
    argv = ["deploy", "--template", CONSTRAINED, "--stack", "stopped", "--skip-lint",
            "--params", "Required=x", "--termination-protection", "true"]  # fmt: skip
    assert cli.main(argv, stubs.runtime()) == 2
    assert capsys.readouterr().err == (
        "error: Stopped watching; the create goes on in CloudFormation. Watch it: aws "
        "cloudformation describe-stack-events --stack-name stopped --region eu-west-1\n"
        "Not applied yet: its stack policy and TERMINATION_PROTECTION=true (make deploy applies "
        "them when the create ends). Once the stack is CREATE_COMPLETE, run the same make deploy "
        "again: it finds no changes and applies them.\n"
    )
    stubs.assert_done()

    # The same command, once the create has ended.
    again = StubbedAws()
    again.identity()
    cf = again.cloudformation
    cf.add_response(
        "describe_stacks", stack_description("stopped", "CREATE_COMPLETE", [("Required", "x")])
    )
    cf.add_response("create_change_set", {"Id": change_set, "StackId": arn})
    cf.add_response(
        "describe_change_set",
        {"ChangeSetId": change_set, "StackId": arn, "Status": "FAILED", "Changes": [],
         "StatusReason": "The submitted information didn't contain changes. Submit different "
         "information to create a change set."},
    )  # fmt: skip
    cf.add_response("delete_change_set", {}, {"ChangeSetName": change_set})
    cf.add_response("get_stack_policy", {})
    cf.add_response("set_stack_policy", {}, {"StackName": "stopped",
                                             "StackPolicyBody": protective_body()})  # fmt: skip
    cf.add_response(
        "update_termination_protection",
        {"StackId": arn},
        {"StackName": "stopped", "EnableTerminationProtection": True},
    )
    assert cli.main(argv, again.runtime()) == 0
    out = capsys.readouterr().out
    assert "No changes: stack stopped is up to date." in out
    assert "Stack policy set" in out
    assert "Termination protection on: stack stopped" in out
    again.assert_done()
