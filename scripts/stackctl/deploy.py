"""`make deploy`: create or update a stack through a reviewed change set."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from . import changeset, lint, params, policy, stacks, windows
from .artifacts import normalised_prefix, template_url, upload_lambda_code
from .clock import Clock
from .errors import OperationFailed, UsageError
from .events import Watcher, succeeded
from .prompts import confirm, interactive
from .runtime import Runtime
from .template import (
    CODE_BUCKET_PARAM,
    TEMPLATE_BODY_MAX,
    check_bucket,
    check_stack_name,
    read_template,
)


def check_inputs(opts: argparse.Namespace):
    """Everything that can be judged without AWS: template, name, PARAMS, bucket, lint."""
    facts = read_template(opts.template)
    check_stack_name(opts.stack, facts)
    overrides = params.validate(opts.params, facts)
    if facts.needs_lambda_code:
        zips = ", ".join(f"{folder}.zip" for folder in facts.code_keys.values())
        check_bucket(opts.bucket, f"{facts.path.name} needs its Lambda code ({zips}) in S3")
    elif facts.too_big_for_inline:
        check_bucket(
            opts.bucket,
            f"{facts.path.name} has more than {TEMPLATE_BODY_MAX:,} bytes and must go through S3",
        )
    elif opts.bucket:
        check_bucket(opts.bucket, "")
    if opts.skip_lint:
        print("SKIP_LINT=1: cfn-lint skipped.")
    else:
        lint.lint(facts.path)
    return facts, overrides


def parameter_list(facts, overrides: dict[str, str], stack: dict[str, Any] | None, kind: str):
    """Given values, else (on update) the stack's previous value, else the template's default."""
    previous = {p["ParameterKey"] for p in (stack or {}).get("Parameters", [])}
    if kind != "UPDATE":
        previous = set()
    result = []
    for name in facts.parameters:
        if name in overrides:
            result.append({"ParameterKey": name, "ParameterValue": overrides[name]})
        elif name in previous:
            result.append({"ParameterKey": name, "UsePreviousValue": True})
    return result


def review(cs: changeset.ChangeSet, opts: argparse.Namespace) -> None:
    """Print the changes; stop (UsageError/OperationFailed) unless the dangerous ones are agreed."""
    print(changeset.table(cs.changes), flush=True)
    dangerous = cs.dangerous
    if not dangerous:
        return
    print(f"\n{len(dangerous)} dangerous change(s):")
    for change in dangerous:
        print(f"  ! {change.logical_id}: {change.danger}")
    blocked = [
        c
        for c in dangerous
        if c.resource_type in policy.protected_types()
        and (c.action == "Remove" or c.replacement == "True")
    ]
    if blocked and not opts.allow_replace and not opts.dry_run:
        names = ", ".join(c.logical_id for c in blocked)
        raise OperationFailed(
            f"Refused: the stack policy denies replacing or removing {names}, so this update "
            "would fail and roll back. If you mean it, run again with ALLOW_REPLACE=1 "
            "CONFIRM_DANGEROUS=1 (the policy is lifted for that update only)."
        )
    if opts.dry_run or opts.confirm_dangerous:
        return
    if interactive():
        if confirm("Apply these dangerous changes?"):
            return
        raise OperationFailed("Refused by you; nothing changed.")
    raise OperationFailed(
        "Refused: dangerous changes need a person to agree, and this run is not interactive. "
        "Review the table above; to apply anyway run again with CONFIRM_DANGEROUS=1."
    )


def discard(cf: Any, arn: str, stack_id: str, kind: str, stack: str) -> None:
    cf.delete_change_set(ChangeSetName=arn)
    if kind == "CREATE":  # nothing else lives in the REVIEW_IN_PROGRESS stack
        cf.delete_stack(StackName=stack_id)
    print(f"Change set deleted; stack {stack} unchanged.", flush=True)


def deploy(opts: argparse.Namespace, runtime: Runtime) -> int:
    facts, overrides = check_inputs(opts)
    aws = runtime.connect(opts.region)
    aws.identify()
    cf = aws.client("cloudformation")
    existing = stacks.describe(cf, opts.stack)
    kind = stacks.change_type(existing, opts.stack)
    if kind == "CREATE":
        params.check_required(overrides, facts)
    windows.check(facts, overrides, existing if kind == "UPDATE" else None)
    prefix = normalised_prefix(opts.prefix)
    if facts.needs_lambda_code:
        keys = upload_lambda_code(aws, opts.bucket, prefix, facts.code_keys)
        overrides |= {CODE_BUCKET_PARAM: opts.bucket, **keys}
    if facts.too_big_for_inline:
        template = {"TemplateURL": template_url(aws, opts.bucket, prefix, facts.path)}
    else:
        template = {"TemplateBody": facts.body}
    name = "make-deploy-" + dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    print(f"{kind.title()} change set {name} for stack {opts.stack} ...", flush=True)
    created = changeset.create(
        cf,
        opts.stack,
        change_type=kind,
        template=template,
        parameters=parameter_list(facts, overrides, existing, kind),
        name=name,
    )
    try:
        cs = changeset.wait_until_ready(cf, created[0], runtime.clock) if created else None
    except OperationFailed:
        # A failed change set would stay on the stack (and a first one keep an empty
        # REVIEW_IN_PROGRESS stack) until someone deletes it by hand.
        discard(cf, *created, kind, opts.stack)
        raise
    if cs is None or cs.empty:
        print(f"No changes: stack {opts.stack} is up to date.")
        if cs is not None:
            discard(cf, cs.arn, cs.stack_id, kind, opts.stack)
        if kind == "UPDATE":
            policy.ensure(cf, opts.stack)
        return 0
    try:
        review(cs, opts)
    except OperationFailed:
        discard(cf, cs.arn, cs.stack_id, kind, opts.stack)
        raise
    if opts.dry_run:
        print(
            f"\nDRY_RUN=1: change set created, not executed. Apply it:\n"
            f"  aws cloudformation execute-change-set --change-set-name {cs.arn} "
            f"--region {aws.region}\n"
            f"or discard it:\n"
            f"  aws cloudformation delete-change-set --change-set-name {cs.arn} "
            f"--region {aws.region}"
        )
        return 0
    return execute(cf, cs, kind, opts, runtime.clock)


def execute(cf: Any, cs: changeset.ChangeSet, kind: str, opts, clock: Clock) -> int:
    watcher = Watcher(cf, cs.stack_id, clock, operation=kind)
    watcher.mark_existing()
    lifted = kind == "UPDATE" and opts.allow_replace
    if lifted:
        policy.lift(cf, cs.stack_id)
    extra = {"DisableRollback": True} if opts.disable_rollback else {}
    cf.execute_change_set(ChangeSetName=cs.arn, **extra)
    print("Executing; events follow (time, elapsed, status, resource, reason):", flush=True)
    try:
        status = watcher.run()
    except KeyboardInterrupt:
        raise UsageError(
            f"Stopped watching; the {kind.lower()} goes on in CloudFormation"
            + (
                " and the stack policy stays lifted until you run make deploy again"
                if lifted
                else ""
            )
            + f". Watch it: aws cloudformation describe-stack-events --stack-name {opts.stack}"
        ) from None
    if succeeded(status, kind) or lifted:
        policy.ensure(cf, cs.stack_id)
    if succeeded(status, kind):
        print(f"\nStack {opts.stack}: {status}.")
        table = stacks.outputs_table(cf.describe_stacks(StackName=cs.stack_id)["Stacks"][0])
        if table:
            print("Outputs:\n" + table)
        return 0
    cause = watcher.root_cause() or "no failed resource in the events"
    advice = {
        "ROLLBACK_COMPLETE": f"the stack keeps nothing: run 'make delete STACK={opts.stack}' and "
        "deploy again; DISABLE_ROLLBACK=1 keeps a failed create's resources for debugging.",
        "CREATE_FAILED": "DISABLE_ROLLBACK=1 kept the resources for debugging; run "
        f"'make delete STACK={opts.stack}' when done.",
        "UPDATE_ROLLBACK_COMPLETE": "the stack is back as it was; fix the cause and deploy again.",
    }.get(status, "see the events above.")
    raise OperationFailed(
        f"Stack {opts.stack} ended {status}. First failure: {cause}. Next: {advice}"
    )
