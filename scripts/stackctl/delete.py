"""`make delete`: ask, lift the cluster's deletion protection the way that works, wait, explain."""

from __future__ import annotations

import argparse
import json
from typing import Any

import botocore.exceptions

from . import stacks
from .aws import Aws, error_message
from .errors import OperationFailed, UsageError
from .events import Watcher
from .prompts import confirm, interactive
from .runtime import Runtime
from .template import check_stack_name

CLUSTER = "AWS::RDS::DBCluster"
REVIEW = "REVIEW_IN_PROGRESS"


def snapshot_policy_clusters(cf: Any, stack_id: str) -> set[str]:
    """Logical ids of clusters whose DeletionPolicy keeps a final snapshot."""
    from cfnlint.decode import decode_str  # noqa: PLC0415 (slow import, needed only here)

    try:
        body = cf.get_template(StackName=stack_id, TemplateStage="Original")["TemplateBody"]
        template, _ = decode_str(body if isinstance(body, str) else json.dumps(body))
    except (botocore.exceptions.ClientError, ValueError, TypeError):
        return set()
    resources = (template or {}).get("Resources") or {}
    return {
        name
        for name, r in resources.items()
        if isinstance(r, dict)
        and r.get("Type") == CLUSTER
        and r.get("DeletionPolicy") == "Snapshot"
    }


def protected_clusters(aws: Aws, clusters: list[dict[str, Any]]) -> list[str]:
    protected = []
    for resource in clusters:
        try:
            found = aws.client("rds").describe_db_clusters(
                DBClusterIdentifier=resource["PhysicalResourceId"]
            )["DBClusters"]
        except botocore.exceptions.ClientError as error:
            if "not found" in error_message(error).lower():
                continue
            raise
        if found and found[0].get("DeletionProtection"):
            protected.append(resource["PhysicalResourceId"])
    return protected


def lift_protection(aws: Aws, protected: list[str], opts: argparse.Namespace) -> None:
    again = f"make delete STACK={opts.stack} REGION={aws.region}"
    for cluster in protected:
        print(
            f"Cluster {cluster} has deletion protection: CloudFormation would delete its "
            "instances and then fail on the cluster (DELETE_FAILED)."
        )
        agreed = opts.disable_deletion_protection or (
            interactive() and confirm(f"Turn deletion protection of {cluster} off now (RDS API)?")
        )
        if not agreed:
            raise UsageError(
                f"Not deleted: cluster {cluster} has deletion protection. Run again and answer "
                f"yes, or: {again} YES=1 DISABLE_DELETION_PROTECTION=1"
            )
        aws.client("rds").modify_db_cluster(
            DBClusterIdentifier=cluster, DeletionProtection=False, ApplyImmediately=True
        )
        print(f"Deletion protection of {cluster} turned off.", flush=True)


def final_snapshots(aws: Aws, clusters: list[str]) -> list[str]:
    names = []
    for cluster in clusters:
        try:
            snapshots = aws.client("rds").describe_db_cluster_snapshots(
                DBClusterIdentifier=cluster, SnapshotType="manual"
            )["DBClusterSnapshots"]
        except botocore.exceptions.ClientError:
            continue
        if snapshots:
            newest = max(snapshots, key=lambda s: str(s.get("SnapshotCreateTime", "")))
            names.append(newest["DBClusterSnapshotIdentifier"])
    return names


def explain_failure(watcher: Watcher, stack: str, region: str) -> str:
    failed: dict[str, str] = {}
    for event in watcher.events.get(watcher.stack_id, []):
        logical = event.get("LogicalResourceId", "")
        if event.get("ResourceStatus") == "DELETE_FAILED" and logical != stack:
            failed[logical] = event.get("ResourceStatusReason") or "(no reason given)"
    lines = [f"Stack {stack} is DELETE_FAILED; what is left could not be deleted:"]
    lines += [f"  {logical}: {reason}" for logical, reason in failed.items()]
    cause = watcher.root_cause()
    if cause:
        lines.append(f"First failure: {cause}")
    retain = " ".join(failed) or "<LogicalId ...>"
    lines += [
        "A DELETE_FAILED stack cannot be updated (deploying DeletionProtection=false won't work).",
        f"Fix the cause and retry: make delete STACK={stack} REGION={region}",
        f"or delete the rest and leave those behind (remove them by hand later): "
        f'make delete STACK={stack} REGION={region} RETAIN="{retain}"',
    ]
    return "\n".join(lines)


def deletable(stack: dict[str, Any], name: str, region: str, retain: list[str]) -> None:
    """UsageError, naming the way on, when CloudFormation would refuse to delete the stack now."""
    status = stack["StackStatus"]
    # REVIEW_IN_PROGRESS: a create's change set (DRY_RUN=1) that was never executed; the stack
    # holds no resource and deleting it is what makes it go.
    if status.endswith("_IN_PROGRESS") and status not in ("DELETE_IN_PROGRESS", REVIEW):
        raise UsageError(
            f"Stack {name} is busy ({status}); wait until it settles, then delete. Watch it: "
            f"aws cloudformation describe-stack-events --stack-name {name} --region {region}"
        )
    if retain and status != "DELETE_FAILED":
        raise UsageError("RETAIN= applies only to a DELETE_FAILED stack; run without it first.")
    if stack.get("EnableTerminationProtection"):
        raise UsageError(
            f"Stack {name} has termination protection, so CloudFormation refuses to delete it. "
            f"Turn it off: aws cloudformation update-termination-protection "
            f"--no-enable-termination-protection --stack-name {name} --region {region}, then "
            f"make delete STACK={name} REGION={region} again."
        )


def delete(opts: argparse.Namespace, runtime: Runtime) -> int:
    check_stack_name(opts.stack, None, "delete")
    retain = opts.retain.split()
    aws = runtime.connect(opts.region)
    aws.identify()
    cf = aws.client("cloudformation")
    stack = stacks.existing(cf, opts.stack, aws.region, aws.account)
    stack_id, status = stack["StackId"], stack["StackStatus"]
    deletable(stack, opts.stack, aws.region, retain)
    again = f"make delete STACK={opts.stack} REGION={aws.region}"
    resources = cf.describe_stack_resources(StackName=stack_id)["StackResources"]
    clusters = [
        r for r in resources if r.get("ResourceType") == CLUSTER and r.get("PhysicalResourceId")
    ]
    keeps_snapshot = snapshot_policy_clusters(cf, stack_id) if clusters else set()
    if status == REVIEW:
        print(
            f"Stack {opts.stack} is {REVIEW}: a change set that was never executed (DRY_RUN=1); "
            "it holds no resources and will be deleted with its change sets."
        )
    else:
        print(f"Stack {opts.stack} ({status}, {len(resources)} resources) will be deleted.")
    for resource in clusters:
        if resource["LogicalResourceId"] in keeps_snapshot:
            print(
                f"CloudFormation keeps a final snapshot of cluster "
                f"{resource['PhysicalResourceId']} (DeletionPolicy: Snapshot)."
            )
    if not opts.yes:
        if not interactive():
            raise UsageError(
                "make delete asks before deleting and this run is not interactive: "
                f"run '{again} YES=1' to delete without asking."
            )
        if not confirm(f"Delete stack {opts.stack} in {aws.region}, account {aws.account}?"):
            raise UsageError("Not deleted.")
    lift_protection(aws, protected_clusters(aws, clusters), opts)
    watcher = Watcher(cf, stack_id, runtime.clock, operation="DELETE")
    watcher.mark_existing()
    if status != "DELETE_IN_PROGRESS":
        cf.delete_stack(StackName=stack_id, **({"RetainResources": retain} if retain else {}))
    print("Deleting; events follow (time, elapsed, status, resource, reason):", flush=True)
    try:
        final = watcher.run()
    except KeyboardInterrupt:
        raise UsageError(
            "Stopped watching; the delete goes on in CloudFormation. Watch it again with "
            f"{again} YES=1"
        ) from None
    if final != "DELETE_COMPLETE":
        raise OperationFailed(explain_failure(watcher, opts.stack, aws.region))
    print(f"\nStack {opts.stack} deleted.")
    kept = [r["PhysicalResourceId"] for r in clusters if r["LogicalResourceId"] in keeps_snapshot]
    for name in final_snapshots(aws, kept):
        print(
            f"Final snapshot kept: {name}. Restore with 'aws rds restore-db-cluster-from-snapshot "
            f"--snapshot-identifier {name} ...'; it costs storage until you delete it "
            f"('aws rds delete-db-cluster-snapshot --db-cluster-snapshot-identifier {name}')."
        )
    return 0
