"""`make deploy`: create or update a stack through a reviewed change set."""

from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import dataclass
from typing import Any

import botocore.parsers

from . import changeset, lint, params, params_file, policy, stack_options, stacks
from .artifacts import normalised_prefix, template_url, upload_lambda_code
from .aws import Aws, unreadable
from .clock import Clock
from .errors import OperationFailed, UsageError
from .events import Watcher, succeeded
from .judge import Verdict, judge
from .prompts import confirm, interactive
from .runtime import Runtime
from .stack_options import StackOptions
from .template import (
    CODE_BUCKET_PARAM,
    TEMPLATE_BODY_MAX,
    TemplateFacts,
    check_bucket,
    check_stack_name,
    deploy_example,
    read_template,
)
from .values import Values


@dataclass
class Request:
    """What the user asked for, judged before any AWS call."""

    facts: TemplateFacts
    values: Values
    verdict: Verdict  # its if_new findings wait for the stack to be looked up
    options: StackOptions
    allow_replace: bool = False  # judged once the stack is known: it means nothing on a create


def problem_of(check, *args) -> list[str]:
    """A check that raises UsageError, as a list of its lines (empty when it passes)."""
    try:
        check(*args)
    except UsageError as error:
        return str(error).splitlines()
    return []


def bucket_problems(opts: argparse.Namespace, facts: TemplateFacts) -> list[str]:
    example = deploy_example(opts.template, opts.stack)
    if facts.needs_lambda_code:
        zips = ", ".join(f"{folder}.zip" for folder in facts.code_keys.values())
        why = f"{facts.path.name} needs its Lambda code ({zips}) in S3"
    elif facts.too_big_for_inline:
        why = f"{facts.path.name} has more than {TEMPLATE_BODY_MAX:,} bytes and must go through S3"
    elif opts.bucket:
        why = ""
    else:
        return []
    return problem_of(check_bucket, opts.bucket, why, example)


def given_values(opts: argparse.Namespace, facts: TemplateFacts) -> tuple[dict, set, list[str]]:
    """PARAMS_FILE, then PARAMS over it: (values, names kept with UsePreviousValue, problems)."""
    file_pairs, kept, problems = params_file.read(opts.params_file)
    from_file, file_problems = params.read_pairs(file_pairs, facts, "PARAMS_FILE")
    pairs, split_problems = params.split_pairs(opts.params, "PARAMS", params.quoting_example(facts))
    from_params, params_problems = params.read_pairs(pairs, facts, "PARAMS")
    both = sorted((from_file.keys() | kept) & from_params.keys())
    if both:
        print(f"PARAMS overrides PARAMS_FILE for {', '.join(both)}.")
    unknown_kept = sorted(name for name in kept if name not in facts.parameters)
    problems += [f"PARAMS_FILE: {params.unknown_name(name, facts)}" for name in unknown_kept]
    given = from_file | from_params
    return (
        given,
        kept - given.keys() - set(unknown_kept),
        (problems + file_problems + split_problems + params_problems),
    )


def check_inputs(opts: argparse.Namespace, clock: Clock) -> Request:
    """Everything that can be judged without AWS, all of it in one run."""
    facts = read_template(opts.template)
    problems = problem_of(check_stack_name, opts.stack, facts) + bucket_problems(opts, facts)
    given, kept, value_problems = given_values(opts, facts)
    options, option_problems = stack_options.read(opts)
    invalid = {
        name
        for name, value in given.items()
        if params.value_problems(name, value, facts.parameters[name])
    }
    values = Values(facts, given, kept=frozenset(kept), today=clock.today(), invalid=invalid)
    verdict = judge(values)
    problems += value_problems + option_problems + verdict.certain
    if opts.skip_lint:
        print("SKIP_LINT=1: cfn-lint skipped.")
    else:
        problems += problem_of(lint.lint, facts.path)
    if problems:
        raise UsageError("\n".join(problems) + verdict.pending(opts.stack))
    return Request(facts, values, verdict, options, allow_replace=opts.allow_replace)


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
    """Print the changes; stop (OperationFailed) unless the dangerous ones are agreed.

    DRY_RUN=1 stops at nothing but says which refusal the real run would meet.
    """
    if cs.changes:
        print(changeset.table(cs.changes), flush=True)
    else:
        print("No resource changes (outputs or stack settings).", flush=True)
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
    if blocked and not opts.allow_replace:
        names = ", ".join(c.logical_id for c in blocked)
        why = (
            f"the stack policy denies replacing or removing {names}, so this update would fail "
            "and roll back. If you mean it, run again with ALLOW_REPLACE=1 CONFIRM_DANGEROUS=1 "
            "(the policy is lifted for that update only)."
        )
        if not opts.dry_run:
            raise OperationFailed(f"Refused: {why}")
        print(f"\nDRY_RUN=1: the real run would be refused: {why}")
    elif opts.dry_run and not opts.confirm_dangerous:
        print(
            "\nDRY_RUN=1: the real run asks before applying these (and, without a terminal, "
            "needs CONFIRM_DANGEROUS=1)."
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


def connect(opts: argparse.Namespace, runtime: Runtime, request: Request) -> Aws:
    """Region and credentials; a mistake there also lists what waits for the stack's values."""
    try:
        aws = runtime.connect(opts.region)
        aws.identify()
    except UsageError as error:
        raise UsageError(f"{error}{request.verdict.pending(opts.stack)}") from None
    return aws


def judge_on_the_stack(request: Request, existing: dict[str, Any] | None, kind: str) -> None:
    """The same judgements on the values CloudFormation will use; every problem is certain now."""
    values = Values.of_stack(request.values, existing if kind == "UPDATE" else None)
    problems = judge(values).certain
    if kind == "CREATE" and request.allow_replace:
        problems.append(
            "make deploy creates this stack: ALLOW_REPLACE=1 does nothing for a new stack (it "
            "lifts an existing stack's policy for one update); run without it."
        )
    if problems:
        raise UsageError("\n".join(problems))
    dropped = request.options.dropped_tags(existing)
    if dropped:
        print(
            f"TAGS replaces the stack's tags: {', '.join(dropped)} will be removed (add them to "
            "TAGS to keep them)."
        )


def deploy(opts: argparse.Namespace, runtime: Runtime) -> int:
    request = check_inputs(opts, runtime.clock)
    facts, overrides = request.facts, dict(request.values.given)
    aws = connect(opts, runtime, request)
    cf = aws.client("cloudformation")
    existing = stacks.describe(cf, opts.stack)
    kind = stacks.change_type(existing, opts.stack, aws.region)
    judge_on_the_stack(request, existing, kind)
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
        options=request.options.change_set_arguments(),
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
            protect(cf, opts.stack, existing, request.options.termination_protection, aws.region)
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
            + (
                f"\n  (a new stack stays REVIEW_IN_PROGRESS until then: make delete "
                f"STACK={opts.stack} REGION={aws.region} YES=1 removes it)"
                if kind == "CREATE"
                else ""
            )
        )
        return 0
    try:
        return execute(cf, cs, kind, opts, runtime.clock, aws.region, request.options)
    except botocore.parsers.ResponseParserError as error:  # AWS may have acted all the same
        raise OperationFailed(
            unreadable(
                error,
                "The change set may have run: check the stack's status first (aws cloudformation "
                f"describe-stacks --stack-name {opts.stack} --region {aws.region}), then run the "
                "command again.",
            )
        ) from None


def protect(cf: Any, stack: str, described: dict[str, Any] | None, wanted, region: str) -> None:
    """TERMINATION_PROTECTION=true|false, applied once the stack is in a good state."""
    if wanted is None or described is None:
        return
    if bool(described.get("EnableTerminationProtection")) == wanted:
        return
    cf.update_termination_protection(StackName=stack, EnableTerminationProtection=wanted)
    if wanted:
        print(
            f"Termination protection on: stack {stack} cannot be deleted until "
            f"TERMINATION_PROTECTION=false (make deploy) or aws cloudformation "
            f"update-termination-protection --no-enable-termination-protection --stack-name "
            f"{stack} --region {region}."
        )
    else:
        print(f"Termination protection off for stack {stack}.")


def unfinished(kind: str, opts: argparse.Namespace) -> str:
    """What make deploy applies only once it sees the stack succeed, for a watch stopped early."""
    missing = ["its stack policy"] if kind == "CREATE" else []  # an update's came with its create
    if opts.termination_protection:
        missing.append(f"TERMINATION_PROTECTION={opts.termination_protection}")
    if not missing:
        return ""
    return (
        f"\nNot applied yet: {' and '.join(missing)} (make deploy applies them when the "
        f"{kind.lower()} ends). Once the stack is {kind}_COMPLETE, run the same make deploy "
        "again: it finds no changes and applies them."
    )


def watch(watcher: Watcher, kind: str, opts: argparse.Namespace, lifted: bool, region: str) -> str:
    """Stream events to the end. With the policy lifted, a first Ctrl-C keeps watching so the
    policy goes back when the update ends; a second stops (and the policy goes back at once)."""
    where = f"aws cloudformation describe-stack-events --stack-name {opts.stack} --region {region}"
    try:
        return watcher.run()
    except KeyboardInterrupt:
        if not lifted:
            raise UsageError(
                f"Stopped watching; the {kind.lower()} goes on in CloudFormation. Watch it: "
                f"{where}{unfinished(kind, opts)}"
            ) from None
    print(
        "\nCtrl-C: the stack policy is lifted for this update and goes back when the update "
        "ends, so this keeps watching. Ctrl-C again puts the policy back now and stops watching "
        "(the update goes on; a replacement it has not made yet is then denied and the update "
        "rolls back).",
        flush=True,
    )
    try:
        return watcher.run()
    except KeyboardInterrupt:
        raise UsageError(
            f"Stopped watching; the update goes on in CloudFormation with the stack policy back "
            f"in place. Watch it: {where}{unfinished(kind, opts)}"
        ) from None


def execute(  # noqa: PLR0917 (one step of deploy, with what it shares)
    cf: Any, cs: changeset.ChangeSet, kind: str, opts, clock: Clock, region: str, options
) -> int:
    watcher = Watcher(cf, cs.stack_id, clock, operation=kind)
    watcher.mark_existing()
    extra = {"DisableRollback": True} if opts.disable_rollback else {}
    lifted = kind == "UPDATE" and opts.allow_replace

    def run() -> str:
        cf.execute_change_set(ChangeSetName=cs.arn, **extra)
        print("Executing; events follow (time, elapsed, status, resource, reason):", flush=True)
        return watch(watcher, kind, opts, lifted, region)

    if lifted:
        with policy.lifted(cf, cs.stack_id, opts.stack, region):
            status = run()
    else:
        status = run()
        if succeeded(status, kind):
            policy.ensure(cf, cs.stack_id)
    if succeeded(status, kind):
        print(f"\nStack {opts.stack}: {status}.")
        described = cf.describe_stacks(StackName=cs.stack_id)["Stacks"][0]
        table = stacks.outputs_table(described)
        if table:
            print("Outputs:\n" + table)
        protect(cf, cs.stack_id, described, options.termination_protection, region)
        return 0
    cause = watcher.root_cause() or "no failed resource in the events"
    again = f"make delete STACK={opts.stack} REGION={region}"
    advice = {
        "ROLLBACK_COMPLETE": f"the stack keeps nothing: run '{again}' and deploy again; "
        "DISABLE_ROLLBACK=1 keeps a failed create's resources for debugging.",
        "CREATE_FAILED": f"DISABLE_ROLLBACK=1 kept the resources for debugging; run '{again}' "
        "when done.",
        "UPDATE_ROLLBACK_COMPLETE": "the stack is back as it was; fix the cause and deploy again.",
    }.get(status, "see the events above.")
    raise OperationFailed(
        f"Stack {opts.stack} ended {status}. First failure: {cause}. Next: {advice}"
    )
