"""Multi-user: the admin secret's policy names exactly the rotation roles the lookups found."""

from tests.helpers.cfn_templates import Context, evaluate, properties, resources

LOOKUP_TYPE = "Custom::LambdaRoleLookup"


def lookups(template: dict) -> dict[str, dict]:
    return resources(template, LOOKUP_TYPE)


def schedule_of(lookup: dict) -> str:
    depends_on = lookup["DependsOn"]
    return depends_on if isinstance(depends_on, str) else depends_on[0]


def test_one_lookup_per_rotation_function_after_its_schedule(multi):
    found = {
        schedule_of(body): body["Properties"]["FunctionName"] for body in lookups(multi).values()
    }
    schedules = resources(multi, "AWS::SecretsManager::RotationSchedule")
    assert found == {
        name: body["Properties"]["HostedRotationLambda"]["RotationLambdaName"]
        for name, body in schedules.items()
    }
    for body in lookups(multi).values():
        assert body["Properties"]["ServiceToken"] == {"Fn::GetAtt": ["RoleLookupFunction", "Arn"]}


def test_lookup_runs_again_when_its_rotation_function_may_be_replaced(multi):
    context = Context(
        multi,
        PrivateSubnetA="subnet-a",
        PrivateSubnetB="subnet-b",
        AdminSecret="arn:aws:secretsmanager:us-east-1:123456789012:secret:AdminSecret-AbCdEf",
        **{"RotationSecurityGroup.GroupId": "sg-0123456789abcdef0"},
    )
    for body in lookups(multi).values():
        hosted = properties(multi, schedule_of(body))["HostedRotationLambda"]
        triggers = body["Properties"]["Triggers"]
        for key in ("RotationType", "RotationLambdaName", "VpcSubnetIds", "VpcSecurityGroupIds"):
            assert hosted[key] in triggers, key
        evaluated = evaluate(triggers, context)
        for key in ("RotationType", "RotationLambdaName", "VpcSubnetIds", "VpcSecurityGroupIds"):
            assert evaluate(hosted[key], context) in evaluated, key


def test_admin_secret_policy_names_exactly_the_looked_up_roles(multi):
    policy = properties(multi, "AdminSecretResourcePolicy")
    assert policy["SecretId"] == {"Ref": "AdminSecret"}
    assert policy["BlockPublicPolicy"] is True
    (statement,) = policy["ResourcePolicy"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {
        "AWS": [{"Fn::GetAtt": [name, "RoleArn"]} for name in sorted(lookups(multi))]
    }
    assert statement["Action"] == "secretsmanager:GetSecretValue"
    assert statement["Resource"] == {"Ref": "AdminSecret"}
    # No role-name pattern through a condition, and (by decision) no deny for everyone else.
    assert "Condition" not in statement


def test_lookup_may_read_only_the_two_rotation_functions_and_write_its_logs(multi):
    role = properties(multi, "RoleLookupRole")
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    statements = [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]
    assert "ManagedPolicyArns" not in role
    by_action = {
        (s["Action"] if isinstance(s["Action"], str) else tuple(sorted(s["Action"]))): s["Resource"]
        for s in statements
    }
    function_arn = "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:"
    rotation_names = [
        body["Properties"]["HostedRotationLambda"]["RotationLambdaName"]["Fn::Sub"]
        for body in resources(multi, "AWS::SecretsManager::RotationSchedule").values()
    ]
    assert sorted(
        entry["Fn::Sub"] for entry in by_action["lambda:GetFunctionConfiguration"]
    ) == sorted(function_arn + name for name in rotation_names)
    assert by_action[("logs:CreateLogStream", "logs:PutLogEvents")] == {
        "Fn::GetAtt": ["RoleLookupLogGroup", "Arn"]
    }
    assert len(by_action) == 2


def test_lookup_function_is_the_packaged_handler_on_a_current_runtime(multi):
    function = properties(multi, "RoleLookupFunction")
    assert function["Runtime"] == "python3.14"
    assert function["Handler"] == "app.handler"
    assert function["Timeout"] == 60
    assert function["MemorySize"] == 128
    assert function["Code"] == {
        "S3Bucket": {"Ref": "RoleLookupCodeS3Bucket"},
        "S3Key": {"Ref": "RoleLookupCodeS3Key"},
    }
    assert function["LoggingConfig"] == {"LogGroup": {"Ref": "RoleLookupLogGroup"}}
    assert properties(multi, "RoleLookupLogGroup")["RetentionInDays"] == {
        "Ref": "LogRetentionInDays"
    }


def test_outputs_give_the_rotation_roles(multi):
    outputs = multi["Outputs"]
    assert outputs["AdminRotationRoleArn"]["Value"] == {
        "Fn::GetAtt": ["AdminRotationRoleLookup", "RoleArn"]
    }
    assert outputs["AppRotationRoleArn"]["Value"] == {
        "Fn::GetAtt": ["AppRotationRoleLookup", "RoleArn"]
    }
