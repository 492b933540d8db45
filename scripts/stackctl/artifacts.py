"""Uploads to S3: the custom resources' zips under their content hash, and templates too big to
inline."""

from __future__ import annotations

import hashlib
from pathlib import Path

import botocore.exceptions

from .aws import Aws, error_code
from .errors import OperationFailed, UsageError
from .template import CODE_BUCKET_PARAM, CODE_KEY_PARAMS, REPO, read_template


def lambda_zip(folder: str) -> Path:
    return REPO / "dist" / f"{folder}.zip"


def normalised_prefix(prefix: str) -> str:
    prefix = prefix.strip("/")
    return f"{prefix}/" if prefix else ""


def content_key(prefix: str, folder: str, data: bytes, suffix: str) -> str:
    """New content, new key: CloudFormation then sees a changed S3Key and updates the function."""
    return f"{prefix}{folder}/{hashlib.sha256(data).hexdigest()[:16]}{suffix}"


def upload(aws: Aws, bucket: str, key: str, path: Path) -> None:
    print(
        f"Uploading {path.relative_to(REPO) if path.is_relative_to(REPO) else path} "
        f"to s3://{bucket}/{key}",
        flush=True,
    )
    # One PutObject (the zips and templates are far below its 5 GB limit) rather than upload_file,
    # whose transfer threads wrap S3's error in an S3UploadFailedError that did not always keep
    # the original error (and its code) attached.
    try:
        aws.client("s3").put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        code = error_code(error) if isinstance(error, botocore.exceptions.ClientError) else ""
        if code == "NoSuchBucket":
            raise OperationFailed(
                f"Upload to s3://{bucket}/{key} failed: bucket {bucket} does not exist in "
                f"{aws.region}. Create it (aws s3 mb s3://{bucket} --region {aws.region}) or name "
                "an existing one with BUCKET=, then run the command again."
            ) from None
        raise OperationFailed(
            f"Upload to s3://{bucket}/{key} failed ({code or error}): check that BUCKET={bucket} "
            f"exists in {aws.region} and that you may write to it."
        ) from None


def upload_lambda_code(aws: Aws, bucket: str, prefix: str, code_keys: dict[str, str]) -> dict:
    """Upload the zip each code-key parameter names; returns the parameter values to pass."""
    missing = [lambda_zip(f) for f in code_keys.values() if not lambda_zip(f).is_file()]
    if missing:
        names = ", ".join(str(path.relative_to(REPO)) for path in missing)
        raise UsageError(f"{names} missing: run 'make build' first.")
    keys = {}
    for parameter, folder in code_keys.items():
        path = lambda_zip(folder)
        keys[parameter] = content_key(prefix, folder, path.read_bytes(), ".zip")
        upload(aws, bucket, keys[parameter], path)
    return keys


def template_url(aws: Aws, bucket: str, prefix: str, path: Path) -> str:
    """Upload a template and return the path-style URL CloudFormation reads it from."""
    key = content_key(prefix, "templates", path.read_bytes(), f"-{path.name}")
    upload(aws, bucket, key, path)
    endpoint = aws.client("s3").meta.endpoint_url.rstrip("/")
    return f"{endpoint}/{bucket}/{key}"


def package(aws: Aws, bucket: str, prefix: str) -> list[str]:
    """`make package`: every zip and every template, for the console or a pipeline.

    Returns one line per template: its URL and the code parameters it takes.
    """
    keys = upload_lambda_code(aws, bucket, prefix, CODE_KEY_PARAMS)
    endpoint = aws.client("s3").meta.endpoint_url.rstrip("/")
    lines = []
    for template in sorted(REPO.glob("templates/*.yaml")):
        key = f"{prefix}templates/{template.name}"
        upload(aws, bucket, key, template)
        facts = read_template(str(template))
        code = (
            {CODE_BUCKET_PARAM: bucket, **{name: keys[name] for name in facts.code_keys}}
            if facts.needs_lambda_code
            else {}
        )
        given = " ".join(f"{name}={value}" for name, value in code.items())
        lines.append(
            f"{template.name}: template URL {endpoint}/{bucket}/{key}"
            + (f"; parameters {given}" if given else "; no code parameters")
        )
    return lines
