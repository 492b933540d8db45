"""PARAMS: every mistake gives one line naming the fix, before any AWS call, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.stackctl import cli
from scripts.stackctl.errors import UsageError
from scripts.stackctl.judge import judge
from scripts.stackctl.params import split_pairs, validate
from scripts.stackctl.runtime import Runtime
from scripts.stackctl.template import read_template
from scripts.stackctl.values import Values
from tests.deploy.aws_stubs import StubbedAws

FIXTURE = str(Path(__file__).parent / "fixtures" / "constrained-parameters.yaml")
SINGLE = "templates/mysql-single-user.yaml"
MULTI = "templates/mysql-multi-user.yaml"
EXISTING = "templates/mysql-rotation-existing-cluster.yaml"


def on_a_new_stack(template: str, given: dict[str, str] | None = None) -> list[str]:
    """What make deploy refuses once it knows the stack is new (before any change set)."""
    values = Values.of_stack(Values(read_template(template), given or {}), None)
    return judge(values).certain


def problems(text: str, template: str = FIXTURE) -> str:
    with pytest.raises(UsageError) as caught:
        validate(text, read_template(template))
    return str(caught.value)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ("Nmae=abc", "has no parameter Nmae; did you mean Name?"),
        ("Foo=bar", "has no parameter Foo; its parameters: Capacity, Count, Mode, Name"),
        ("Mode=maybe", "Mode='maybe' is not allowed; use one of: on, off."),
        (
            "Capacity=3",
            "Capacity='3' is not allowed; use one of: 0.5, 1, 2. The nearest: Capacity=2.",
        ),
        ("Name=abc1", "Name='abc1' does not match the parameter's AllowedPattern [a-z]+."),
        ("Name=a", "Name needs at least 2 characters"),
        ("Name=abcdef", "Name has 6 characters, at most 5 are allowed"),
        ("Count=0", "Count=0 is below the minimum 1"),
        ("Count=36", "Count=36 is above the maximum 35"),
        ("Count=seven", "Count='seven' is not a number"),
        (
            "Mode=on,Count=3",
            "'Mode=on,Count=3' looks like two pairs joined by a comma; separate "
            "pairs with a space: PARAMS='Mode=on Count=3'",
        ),
        ("Mode=on Mode=off", "PARAMS: Mode is given twice (Mode='on' and Mode='off'); keep one."),
        ("Mode", "PARAMS: 'Mode' is not Key=Value."),
        ("=on", "PARAMS: '=on' is not Key=Value (the key is missing)."),
        ('Name="abc', "PARAMS: cannot be read (no closing quotation): close every quote."),
        ("RoleLookupCodeS3Key=x.zip", "set BUCKET= (the key is the zip's content hash) instead"),
    ],
)
def test_each_mistake_is_one_line_naming_the_fix(params, message):
    text = problems(params)
    assert message in text
    assert len(text.splitlines()) == 1


def test_a_multi_user_parameter_given_to_the_single_user_template_names_the_right_template():
    text = problems("AppUsername=webuser", SINGLE)
    assert text == (
        "PARAMS: AppUsername is a parameter of mysql-multi-user.yaml and "
        "mysql-rotation-existing-cluster.yaml, not of mysql-single-user.yaml; "
        "drop it or choose one of those as TEMPLATE."
    )
    text = problems("DatabaseMinCapacity=1", EXISTING)
    assert text == (
        "PARAMS: DatabaseMinCapacity is a parameter of mysql-multi-user.yaml and "
        "mysql-single-user.yaml, not of mysql-rotation-existing-cluster.yaml; "
        "drop it or choose one of those as TEMPLATE."
    )


def test_a_parameter_of_exactly_one_other_template_names_that_template():
    text = problems("AdminSecretArn=arn:x", SINGLE)
    assert text == (
        "PARAMS: AdminSecretArn is a parameter of mysql-rotation-existing-cluster.yaml, not of "
        "mysql-single-user.yaml; drop it or choose that TEMPLATE."
    )


def test_every_mistake_is_reported_at_once():
    text = problems("Foo=1 Mode=maybe Count=99")
    assert len(text.splitlines()) == 3


def test_quoted_values_with_spaces_and_commas_pass():
    facts = read_template(MULTI)
    values = validate(
        "AdminRotationSchedule=\"rate(30 days)\" AppRotationSchedule='cron(0 4 * * ? *)' "
        "AvailabilityZones=eu-west-1a,eu-west-1b AppUsername=webuser",
        facts,
    )
    assert values == {
        "AdminRotationSchedule": "rate(30 days)",
        "AppRotationSchedule": "cron(0 4 * * ? *)",
        "AvailabilityZones": "eu-west-1a,eu-west-1b",
        "AppUsername": "webuser",
    }


def test_numbers_compare_as_numbers_and_values_as_cloudformation_does():
    assert validate("Capacity=0.50 Count=35", read_template(FIXTURE)) == {
        "Capacity": "0.50",
        "Count": "35",
    }


def test_an_unquoted_schedule_with_a_space_is_explained():
    # What the shell leaves of PARAMS=AdminRotationSchedule=rate(30 days) without inner quotes.
    text = problems("AdminRotationSchedule=rate(30 days)", SINGLE)
    assert "PARAMS: 'days)' is not Key=Value" in text
    assert 'AdminRotationSchedule="rate(30 days)"' in text


def test_a_new_stack_needs_the_parameters_without_default():
    assert on_a_new_stack(FIXTURE) == [
        "PARAMS: Required has no default: add Required=... to PARAMS (No default)."
    ]
    assert on_a_new_stack(FIXTURE, {"Required": "x"}) == []


@pytest.mark.parametrize(
    ("template", "zips"),
    [
        (SINGLE, {}),
        (MULTI, {"RoleLookupCodeS3Key": "lambda_role_lookup", "MySQLUserCodeS3Key": "mysql_user"}),
        (
            EXISTING,
            {"RoleLookupCodeS3Key": "lambda_role_lookup", "MySQLUserCodeS3Key": "mysql_user"},
        ),
    ],
)
def test_each_templates_code_keys_map_to_the_zips_make_build_makes(template, zips):
    facts = read_template(template)
    assert facts.code_keys == zips
    assert facts.needs_lambda_code == bool(zips)
    for key in zips:  # filled by make deploy, so never asked of the user
        assert "set BUCKET= (the key is the zip's content hash)" in problems(
            f"{key}=x.zip", template
        )


def test_a_code_key_without_a_known_zip_is_refused_naming_the_table(tmp_path):
    template = tmp_path / "new-function.yaml"
    template.write_text(
        "Parameters:\n"
        "  RoleLookupCodeS3Bucket: {Type: String}\n"
        "  ReportsCodeS3Key: {Type: String}\n"
        "Resources:\n  Topic: {Type: AWS::SNS::Topic}\n"
    )
    facts = read_template(str(template))
    with pytest.raises(UsageError) as caught:
        _ = facts.code_keys
    assert "ReportsCodeS3Key" in str(caught.value)
    assert "CODE_KEY_PARAMS in scripts/stackctl/template.py" in str(caught.value)


def test_split_pairs_keeps_equals_signs_inside_values():
    assert split_pairs("A=b=c") == ([("A", "b=c")], [])


@pytest.mark.parametrize(("length", "accepted"), [(49, True), (50, False)])
def test_stack_name_limit_is_exactly_what_the_message_says(length, accepted, capsys, monkeypatch):
    """`<stack>-admin-rotation` must fit Lambda's 64 characters: 49 + 15."""
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    for key in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    code = cli.main(
        [
            "deploy",
            "--template",
            MULTI,
            "--stack",
            "s" * length,
            "--bucket",
            "my-artifacts",
            "--skip-lint",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    if accepted:  # got past the name to the next check: the Region
        assert "No AWS Region" in err
    else:
        assert "may have at most 49" in err
        assert "(50 characters)" in err


def test_make_deploy_reads_quoted_params(aws_env, stackctl):
    """The quoting the README shows is read as one value: validation passes. (That it survives
    make and the shell: test_without_credentials_every_mistake_is_reported_in_one_run.)"""
    env = {
        k: v
        for k, v in aws_env.items()
        if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL")
    }
    result = stackctl(
        env,
        "deploy",
        f"--template={SINGLE}",
        "--stack=quoting",
        "--skip-lint",
        '--params=AdminRotationSchedule="rate(30 days)" AdminRotationWindow=3h',
    )
    assert result.returncode != 0
    assert "No usable AWS credentials" in result.stderr  # the first check after PARAMS
    assert "AdminRotation" not in result.stderr  # the quoted values passed
    # What a new stack would also need is said now, since without credentials it cannot be known
    # whether the stack exists.
    assert "If STACK=quoting is a new stack" in result.stderr
    assert "rule TestInstanceImage: TestInstanceImageId is required" in result.stderr
    assert "Traceback" not in result.stderr


def test_make_deploy_with_a_bad_param_fails_before_any_aws_call(aws_env, stackctl):
    env = {**aws_env, "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}  # nothing listens there
    result = stackctl(
        env,
        "deploy",
        f"--template={SINGLE}",
        "--stack=bad",
        "--skip-lint",
        "--params=DeletionProtection=maybe",
    )
    assert result.returncode != 0
    assert "DeletionProtection='maybe' is not allowed; use one of: true, false." in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_parameter_comes_with_its_description_saying_where_values_come_from():
    lines = on_a_new_stack(EXISTING)
    assert len(lines) == 6  # one line for each parameter without a default
    assert (
        "PARAMS: ClusterIdentifier has no default: add ClusterIdentifier=... to PARAMS "
        "(Identifier of the existing Aurora MySQL cluster, as aws rds describe-db-clusters "
        "prints it (lower case))."
    ) in lines


@pytest.mark.parametrize(
    ("template", "body", "message"),
    [
        ("", None, "TEMPLATE is missing. For example: make deploy TEMPLATE="),
        (
            "templates/mysql-multi.yaml",
            None,
            "TEMPLATE=templates/mysql-multi.yaml does not exist. Templates here: "
            f"{MULTI}, {EXISTING}, {SINGLE}",
        ),
        (
            "broken.yaml",
            "Resources: [\n",
            "does not parse (line 2: did not find expected node content); fix the file.",
        ),
        (
            "list.yaml",
            "- Resources\n- Parameters\n",
            "is not a CloudFormation template: its top level is not a mapping of sections "
            "(Parameters, Resources, ...).",
        ),
    ],
)
def test_a_template_that_is_missing_or_unreadable_is_named_before_any_aws_call(
    template, body, message, tmp_path, capsys
):
    if body is not None:
        template = str(tmp_path / template)
        Path(template).write_text(body)
        message = f"TEMPLATE={template} {message}"

    def no_aws(region: str):
        raise AssertionError("a template mistake is found before AWS is asked")

    argv = ["deploy", "--template", template, "--stack", "demo", "--bucket", "my-artifacts"]
    assert cli.main(argv, Runtime(connect=no_aws)) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {message}")
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ("command", "stack", "message"),
    [
        ("delete", "", "STACK is missing. For example: make delete STACK=rotation-demo"),
        ("verify", "", "STACK is missing. For example: make verify STACK=rotation-demo"),
        (
            "delete",
            "1st-demo",
            "STACK=1st-demo is not a valid stack name: start with a letter, then letters, "
            "digits and hyphens only.",
        ),
        (
            "delete",
            "s" * 129,
            f"STACK={'s' * 129} is too long (129 characters): CloudFormation's limit, so the "
            "stack name may have at most 128.",
        ),
    ],
)
def test_a_wrong_stack_name_is_refused_naming_the_rule(command, stack, message, capsys):
    def no_aws(region: str):
        raise AssertionError("a stack name mistake is found before AWS is asked")

    assert cli.main([command, "--stack", stack], Runtime(connect=no_aws)) == 2
    assert capsys.readouterr().err == f"error: {message}\n"


def test_stack_py_without_a_command_prints_usage_and_exits_2(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main([])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: stack.py [-h] [--region REGION]")
    assert err.endswith("error: the following arguments are required: command\n")


@pytest.mark.parametrize(("size", "inline"), [(51_200, True), (51_201, False)])
def test_a_template_goes_inline_up_to_exactly_51200_bytes(size, inline, tmp_path):
    """CreateChangeSet takes a TemplateBody of at most 51,200 bytes; a larger one goes via S3."""
    body = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n# é\n"
    path = tmp_path / "sized.yaml"
    path.write_text(body + "#" * (size - len(body.encode()) - 1) + "\n")
    assert len(path.read_bytes()) == size
    assert read_template(str(path)).too_big_for_inline is not inline


def test_make_deploy_of_a_new_stack_without_the_required_parameters_lists_them(capsys):
    stubs = StubbedAws()
    stubs.identity()
    stubs.cloudformation.add_client_error(
        "describe_stacks", "ValidationError", "Stack with id new-rotation does not exist"
    )
    argv = ["deploy", "--template", EXISTING, "--stack", "new-rotation", "--bucket", "my-artifacts",
            "--skip-lint"]  # fmt: skip
    assert cli.main(argv, stubs.runtime()) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 6
    assert lines[0].startswith("error: PARAMS: ClusterIdentifier has no default: add ")
    stubs.assert_done()  # nothing uploaded, no change set


@pytest.mark.parametrize(
    ("template", "bucket", "message"),
    [
        (
            str(Path(__file__).parent / "fixtures" / "lookup-function-only.yaml"),
            "",
            "BUCKET is missing: lookup-function-only.yaml needs its Lambda code "
            "(lambda_role_lookup.zip) in S3. For example: make deploy",
        ),
        (
            SINGLE,
            "My_Bucket",
            "BUCKET=My_Bucket is not a valid S3 bucket name (3-63 lowercase letters, digits, "
            "dots and hyphens).",
        ),
    ],
)
def test_a_missing_or_malformed_bucket_is_refused_before_aws(template, bucket, message, capsys):
    def no_aws(region: str):
        raise AssertionError("a BUCKET mistake is found before AWS is asked")

    argv = ["deploy", "--template", template, "--stack", "demo", "--bucket", bucket, "--skip-lint"]
    assert cli.main(argv, Runtime(connect=no_aws)) == 2
    assert capsys.readouterr().err.startswith(f"error: {message}")


def test_a_template_without_rotation_functions_gives_cloudformation_s_stack_name_limit():
    # Only rotation functions are named after the stack: without them the limit is 128 and the
    # message must not blame Lambda's name length.
    from scripts.stackctl.template import check_stack_name

    facts = read_template(str(Path(__file__).parent / "fixtures" / "lookup-function-only.yaml"))
    assert not facts.rotation_name_suffixes
    check_stack_name("s" * 128, facts)
    with pytest.raises(UsageError) as refused:
        check_stack_name("s" * 129, facts)
    assert str(refused.value) == (
        f"STACK={'s' * 129} is too long for lookup-function-only.yaml (129 characters): "
        "CloudFormation's limit, so the stack name may have at most 128."
    )


@pytest.mark.parametrize(
    ("value", "problems"),
    [
        ("subnet-0123456789abcdef0,subnet-0123456789abcdef1", []),
        ("subnet-0123456789abcdef0, subnet-0123456789abcdef1", []),  # CloudFormation trims items
        (
            "subnet-0123456789abcdef0,subnet-xyz",
            ["PARAMS: SubnetIds item 2='subnet-xyz' does not match the parameter's AllowedPattern "
             "(subnet ids, e.g. subnet-0123456789abcdef0)."],
        ),
        (
            "subnet-0123456789abcdef0,,subnet-0123456789abcdef1",
            ["PARAMS: SubnetIds item 2 is empty; remove the extra comma "
             "(SubnetIds='subnet-0123456789abcdef0,,subnet-0123456789abcdef1': items are "
             "separated by single commas)."],
        ),
    ],
)  # fmt: skip
def test_a_list_parameter_is_checked_item_by_item_before_aws(value, problems):
    """List<AWS::EC2::Subnet::Id>: AllowedPattern applies to each item, as CloudFormation does."""
    facts = read_template(EXISTING)
    from scripts.stackctl.params import read_pairs

    assert read_pairs([("SubnetIds", value)], facts)[1] == problems


def test_comma_delimited_and_number_lists_are_checked_per_item(tmp_path):
    from scripts.stackctl.params import read_pairs

    template = tmp_path / "lists.yaml"
    template.write_text(
        "Parameters:\n"
        "  Zones: {Type: CommaDelimitedList, AllowedPattern: '[a-z]+-[a-z]+-[0-9][a-z]'}\n"
        "  Ports: {Type: 'List<Number>', AllowedValues: [3306, 3307]}\n"
        "Resources:\n  Topic: {Type: AWS::SNS::Topic}\n"
    )
    facts = read_template(str(template))
    given = [("Zones", "eu-west-1a,eu-west-1"), ("Ports", "3306,33o6")]
    assert read_pairs(given, facts)[1] == [
        "PARAMS: Zones item 2='eu-west-1' does not match the parameter's AllowedPattern "
        "[a-z]+-[a-z]+-[0-9][a-z].",
        "PARAMS: Ports item 2='33o6' is not a number.",
    ]
