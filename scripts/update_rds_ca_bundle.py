#!/usr/bin/env python3
"""Rewrite custom_resources/mysql_user/rds-ca-bundle.pem, the Amazon RDS root CAs that
Custom::MySQLUser verifies Aurora's certificate with, from AWS's published bundle; and refuse a
bundle nobody has reviewed.

    python3 scripts/update_rds_ca_bundle.py                  # download AWS's global bundle
    python3 scripts/update_rds_ca_bundle.py FILE [FILE ...]  # bundles you downloaded yourself
    python3 scripts/update_rds_ca_bundle.py [FILE ...] --accept SHA256   # after your review

Only the Regions' root CAs are kept: self-signed CA certificates valid now whose common name is
"Amazon RDS <Region> Root CA <key> G<n>" (AWS's name for them; the Beta and Preview endpoints' CAs
and the intermediates, whose subjects say "Amazon RDS" too, are left out), sorted by subject, so
the bundle the script would write has one SHA-256 for one set of certificates, however the source
orders them. The review record (scripts/rds_ca_bundle_review.json) holds the SHA-256 of the
reviewed bundle and where each certificate came from: an accepted review keeps the recorded
origin of every certificate the bundle keeps and adds the new ones with their source. A source
whose certificates give another bundle is refused (exit status 2) with what it adds and removes,
until someone has reviewed that list and runs the command again with --accept and the printed
SHA-256. docs/rds-ca-bundle.md says how to review, and what users of other partitions do.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import re
import sys
import urllib.error
import urllib.request
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

REPO = Path(__file__).resolve().parent.parent
BUNDLE = REPO / "custom_resources" / "mysql_user" / "rds-ca-bundle.pem"
REVIEW = REPO / "scripts" / "rds_ca_bundle_review.json"
# AWS's bundle for every commercial Region (Amazon RDS User Guide, "Certificate bundles by AWS
# Region"); the other partitions have their own (docs/rds-ca-bundle.md).
SOURCE_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"
DOWNLOAD_TIMEOUT_S = 60
# AWS's name for a Region's root CA ("Amazon RDS eu-west-1 Root CA RSA2048 G1", Amazon RDS User
# Guide, "Certificate authorities"); a Region of any partition (us-gov-west-1, eusc-de-east-1).
ROOT_CA_NAME = re.compile(r"Amazon RDS [a-z]+(-[a-z]+)+-\d+ Root CA [A-Z0-9]+ G\d+")
OFFLINE_FIX = (
    "download AWS's bundle on a machine that reaches it and pass the file: python3 "
    "scripts/update_rds_ca_bundle.py global-bundle.pem"
)
NEEDS_REVIEW = 2


def certificates_in(pem: bytes, name: str) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(pem)
    except ValueError as error:
        raise SystemExit(f"{name} is not a PEM file of certificates ({error}).") from None


def is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def is_region_root(cert: x509.Certificate) -> bool:
    """A Region's RDS root CA, by its common name and self-signature's names: every RDS
    certificate has OU=Amazon RDS, an intermediate too, so the subject as a whole says nothing."""
    return bool(ROOT_CA_NAME.fullmatch(common_name(cert))) and cert.issuer == cert.subject


def current_rds_roots(certificates: list[x509.Certificate]) -> list[x509.Certificate]:
    now = datetime.datetime.now(datetime.UTC)
    kept = {}
    for cert in certificates:
        if is_ca(cert) and is_region_root(cert) and cert.not_valid_after_utc > now:
            kept[fingerprint(cert)] = cert
    return sorted(kept.values(), key=lambda cert: cert.subject.rfc4514_string())


def fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


def common_name(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(names[0].value) if names else cert.subject.rfc4514_string()


def bundle_bytes(roots: list[x509.Certificate]) -> bytes:
    return b"".join(cert.public_bytes(Encoding.PEM) for cert in roots)


def read_sources(paths: list[str]) -> list[tuple[str, bytes]]:
    if paths:
        return [(path, read_file(path)) for path in paths]
    print(f"Downloading {SOURCE_URL}")
    try:
        with urllib.request.urlopen(SOURCE_URL, timeout=DOWNLOAD_TIMEOUT_S) as response:
            return [(SOURCE_URL, response.read())]
    except (urllib.error.URLError, OSError) as error:  # HTTPError, no network, a timeout
        cause = getattr(error, "reason", None) or error
        raise SystemExit(f"Cannot download {SOURCE_URL} ({cause}): {OFFLINE_FIX}.") from None


def read_file(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:  # missing, a directory, no permission
        raise SystemExit(
            f"Cannot read {path} ({error.strerror or error}): give the path of a PEM bundle you "
            "downloaded, e.g. global-bundle.pem from "
            f"{SOURCE_URL}."
        ) from None


def changes(old: list[x509.Certificate], new: list[x509.Certificate]) -> list[str]:
    before = {fingerprint(cert): cert for cert in old}
    after = {fingerprint(cert): cert for cert in new}
    lines = [f"  + {common_name(after[f])}  sha256:{f}" for f in sorted(after.keys() - before)]
    lines += [f"  - {common_name(before[f])}  sha256:{f}" for f in sorted(before.keys() - after)]
    return lines


def record_review(sources: list[tuple[str, bytes]], roots: list[x509.Certificate], digest: str):
    """The accepted bundle's review: each certificate it keeps keeps the origin recorded for it,
    each new one gets the first source that holds it; origins left empty go."""
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    wanted = {fingerprint(cert): cert for cert in roots}
    origins = []
    for origin in json.loads(REVIEW.read_text()).get("origins", []):
        kept = {f: name for f, name in origin.get("certificates", {}).items() if f in wanted}
        if kept:
            origins.append({**origin, "certificates": kept})
    recorded = {f for origin in origins for f in origin["certificates"]}
    for name, data in sources:
        found = {fingerprint(cert) for cert in certificates_in(data, name)}
        new = {f: common_name(wanted[f]) for f in sorted(found & wanted.keys() - recorded)}
        if new:
            described = f"{name} (sha256 {hashlib.sha256(data).hexdigest()})"
            origins.append({"from": described, "reviewed": today, "certificates": new})
            recorded |= new.keys()
    review = {"bundle_sha256": digest, "reviewed": today, "origins": origins}
    REVIEW.write_text(json.dumps(review, indent=2) + "\n")


def refuse(args, digest: str, reviewed: str, roots: list[x509.Certificate]) -> None:
    old = x509.load_pem_x509_certificates(BUNDLE.read_bytes()) if BUNDLE.exists() else []
    command = ["python3 scripts/update_rds_ca_bundle.py", *args.files, "--accept", digest]
    print(
        f"Refused: the source gives a bundle nobody has reviewed (sha256 {digest}; reviewed: "
        f"{reviewed}). Its changes to {BUNDLE.relative_to(REPO)}:",
        *changes(old, roots),
        "Check each added certificate against AWS's list of Regions and CAs (Amazon RDS User "
        "Guide, 'Certificate bundles by AWS Region'; docs/rds-ca-bundle.md), then run:",
        "  " + " ".join(command),
        sep="\n",
        file=sys.stderr,
    )
    if args.accept:
        print(
            f"(--accept {args.accept} names another bundle: the source changed.)", file=sys.stderr
        )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", help="PEM bundles; default: download AWS's")
    parser.add_argument("--accept", metavar="SHA256", help="the reviewed bundle's SHA-256")
    args = parser.parse_args(argv)
    sources = read_sources(args.files)
    roots = current_rds_roots([c for name, data in sources for c in certificates_in(data, name)])
    if not roots:
        print(
            "No current Amazon RDS CA certificates in the source; nothing written.", file=sys.stderr
        )
        return 1
    new_bundle = bundle_bytes(roots)
    digest = hashlib.sha256(new_bundle).hexdigest()
    reviewed = json.loads(REVIEW.read_text())["bundle_sha256"]
    where = BUNDLE.relative_to(REPO)
    if digest == reviewed:
        if BUNDLE.read_bytes() != new_bundle:
            BUNDLE.write_bytes(new_bundle)
        print(f"{where}: unchanged, {len(roots)} reviewed certificates (sha256 {digest})")
        return 0
    if args.accept != digest:
        refuse(args, digest, reviewed, roots)
        return NEEDS_REVIEW
    BUNDLE.write_bytes(new_bundle)
    record_review(sources, roots, digest)
    print(f"{where}: {len(roots)} Amazon RDS CA certificates (sha256 {digest}), review recorded")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
