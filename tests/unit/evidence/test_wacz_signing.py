from __future__ import annotations

import base64
import hashlib
import json
import re
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from notarium.adapters.pki.generate import BACKDATE, build_leaf_certificate, generate_ca
from notarium.core.clock import FrozenClock
from notarium.formats.evidence.errors import EvidenceKeyError, WaczSignatureError
from notarium.formats.evidence.package import EvidencePackage
from notarium.formats.evidence.wacz_signature import verify_signed_data
from notarium.formats.rfc3161.reply import granted_response
from notarium.formats.rfc3161.token import parse_timestamp_token
from notarium.ledger.tsa.stamper import InProcessStamper
from notarium.products.pdf_seal.material import load_ca
from notarium.products.web_capture.evidence.wacz_signing import (
    SIGNING_CERT_VALIDITY,
    WACZ_SIGNING_KEY,
    WaczSigner,
    ensure_wacz_signing_key,
)
from notarium.verify.wacz import check_wacz_contents, check_wacz_signature

from .checks import run
from .conftest import Pki, edit_zip, signer_for, tool, zip_entries

HASH = "sha256:" + "ab" * 32
CREATED = "2026-11-21T09:31:05Z"


def signed_data_of(package: EvidencePackage) -> dict[str, Any]:
    digest = json.loads(zip_entries(package.wacz)["datapackage-digest.json"])
    return dict(digest["signedData"])


def roots(pki: Pki) -> list[x509.Certificate]:
    return [pki.keystore.ca_certificate()]


def test_the_package_wacz_is_signed_in_the_domain_form(
    package: EvidencePackage, pki: Pki, tmp_path: Path
) -> None:
    signed = signed_data_of(package)
    assert set(signed) == {
        "hash",
        "created",
        "software",
        "version",
        "signature",
        "domain",
        "domainCert",
        "timeSignature",
        "timestampCert",
    }
    assert signed["domain"] == "notary.example.test"
    assert signed["version"] == "0.1.0"

    contents = check_wacz_contents(package.wacz)
    facts = check_wacz_signature(contents, roots(pki))
    assert facts.form == "domain"
    assert facts.domain == "notary.example.test"
    assert facts.timestamp is not None
    assert abs(facts.timestamp - facts.created) < timedelta(minutes=10)

    path = tmp_path / "capture.wacz"
    path.write_bytes(package.wacz)
    result = run(tool("wacz"), "validate", "-f", path)
    assert result.returncode == 0, result.stdout + result.stderr
    # The validator checks the digest and that signedData.created is the package's.
    assert "Has signature" in result.stdout


def test_the_signature_certificate(package: EvidencePackage, pki: Pki) -> None:
    chain = x509.load_pem_x509_certificates(signed_data_of(package)["domainCert"].encode())
    leaf, ca = chain
    assert ca == pki.keystore.ca_certificate()
    leaf.verify_directly_issued_by(ca)
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (
        "notary.example.test"
    )
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["notary.example.test"]
    validity = leaf.not_valid_after_utc - leaf.not_valid_before_utc
    assert validity == SIGNING_CERT_VALIDITY + BACKDATE
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature
    key = ensure_wacz_signing_key(pki.keys_dir)
    assert leaf.public_key() == key.public_key()

    stamp_chain = x509.load_pem_x509_certificates(signed_data_of(package)["timestampCert"].encode())
    assert stamp_chain[0] == pki.keystore.tsa_certificate()


def test_the_time_signature_stamps_the_signature_text(package: EvidencePackage) -> None:
    signed = signed_data_of(package)
    response = tsp.TimeStampResp.load(base64.b64decode(signed["timeSignature"]))
    assert response["status"]["status"].native == "granted"
    token = parse_timestamp_token(response["time_stamp_token"].dump())
    assert token.imprint == hashlib.sha256(signed["signature"].encode("ascii")).digest()


def test_signing_key_file_is_created_once(tmp_path: Path) -> None:
    first = ensure_wacz_signing_key(tmp_path)
    path = tmp_path / WACZ_SIGNING_KEY
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = ensure_wacz_signing_key(tmp_path)
    assert first.private_numbers() == second.private_numbers()


def test_a_key_of_the_wrong_kind_is_refused(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    (tmp_path / WACZ_SIGNING_KEY).write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(EvidenceKeyError, match="not an ECDSA P-256"):
        ensure_wacz_signing_key(tmp_path)


def test_an_ip_address_domain_gets_an_ip_san(pki: Pki, timestamper: InProcessStamper) -> None:
    signed = signer_for(pki, timestamper, domain="127.0.0.1")(HASH, CREATED)
    leaf = x509.load_pem_x509_certificates(signed["domainCert"].encode())[0]
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]


@pytest.fixture(scope="module")
def signed(pki: Pki, timestamper: InProcessStamper) -> dict[str, Any]:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return signer_for(pki, timestamper)(HASH, now)


def test_verification_passes(signed: dict[str, Any], pki: Pki) -> None:
    facts = verify_signed_data(signed, expected_hash=HASH, trust_roots=roots(pki))
    assert facts.signer_subject == "CN=notary.example.test,O=Example Notary"
    assert facts.tsa_subject == pki.keystore.tsa_certificate().subject.rfc4514_string()


def _other_signature(pki: Pki) -> str:
    key = ensure_wacz_signing_key(pki.keys_dir)
    other = key.sign(b"sha256:" + b"cd" * 32, ec.ECDSA(hashes.SHA256()))
    return base64.b64encode(other).decode()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        # A new datapackage's hash, without a new signature.
        ("hash", "sha256:" + "00" * 32, "is not a signature of signedData.hash"),
        ("signature", "another", "is not a signature of signedData.hash"),
        ("domain", "elsewhere.test", "is not the domainCert subject"),
        ("created", "2026-01-01T00:00:00Z", "more than 10 minutes"),
        ("created", "yesterday", "not an ISO 8601 date"),
        ("timeSignature", "AAAA", "timeSignature"),
        ("domainCert", "not a certificate", "not a PEM certificate chain"),
    ],
)
def test_each_tampered_field_is_caught(
    signed: dict[str, Any], pki: Pki, field: str, value: str, message: str
) -> None:
    forged = {**signed, field: _other_signature(pki) if value == "another" else value}
    with pytest.raises(WaczSignatureError, match=message):
        verify_signed_data(forged, expected_hash=forged["hash"], trust_roots=roots(pki))


def test_keys_outside_both_forms_are_refused(signed: dict[str, Any], pki: Pki) -> None:
    for forged in ({**signed, "extra": "x"}, {k: v for k, v in signed.items() if k != "version"}):
        with pytest.raises(WaczSignatureError, match="neither the anonymous nor"):
            verify_signed_data(forged, expected_hash=HASH, trust_roots=roots(pki))


def test_the_hash_must_be_the_datapackage_hash(signed: dict[str, Any], pki: Pki) -> None:
    with pytest.raises(WaczSignatureError, match=re.escape("not the hash of datapackage.json")):
        verify_signed_data(signed, expected_hash="sha256:" + "00" * 32, trust_roots=roots(pki))


def test_a_time_signature_over_something_else_is_refused(
    signed: dict[str, Any], pki: Pki, timestamper: InProcessStamper
) -> None:
    token = timestamper.timestamp(hashlib.sha256(b"something else").digest())
    forged = {**signed, "timeSignature": base64.b64encode(granted_response(token)).decode()}
    with pytest.raises(WaczSignatureError, match="does not time-stamp the signature"):
        verify_signed_data(forged, expected_hash=HASH, trust_roots=roots(pki))


def test_a_time_stamp_by_another_certificate_than_timestampcert_is_refused(
    signed: dict[str, Any], pki: Pki
) -> None:
    # timestampCert names the CA first: the token's signer is not the first certificate.
    chain = x509.load_pem_x509_certificates(signed["timestampCert"].encode())
    reordered = "".join(
        c.public_bytes(serialization.Encoding.PEM).decode() for c in reversed(chain)
    )
    with pytest.raises(WaczSignatureError, match="first timestampCert"):
        verify_signed_data(
            {**signed, "timestampCert": reordered}, expected_hash=HASH, trust_roots=roots(pki)
        )


def test_an_untrusted_ca_is_refused(signed: dict[str, Any]) -> None:
    stranger = generate_ca(now=datetime.now(UTC), organisation="Stranger")
    with pytest.raises(WaczSignatureError, match="domainCert is not trusted"):
        verify_signed_data(signed, expected_hash=HASH, trust_roots=[stranger.certificate])


def test_a_certificate_not_valid_at_created_is_refused(
    pki: Pki, timestamper: InProcessStamper
) -> None:
    # Signed by a clock a month behind: the certificate was not yet valid at "created",
    # which the time signature pins to now.
    behind = FrozenClock(datetime.now(UTC) - timedelta(days=30))
    signer = WaczSigner(
        ensure_wacz_signing_key(pki.keys_dir),
        load_ca(pki.keys_dir),
        timestamper,
        domain="notary.example.test",
        organisation="Example Notary",
        software="notarium test",
        clock=behind,
    )
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with pytest.raises(WaczSignatureError, match=r"domainCert is not trusted.*not valid"):
        verify_signed_data(signer(HASH, now), expected_hash=HASH, trust_roots=roots(pki))


def test_a_cross_signed_certificate_for_another_key_is_refused(
    signed: dict[str, Any], pki: Pki
) -> None:
    forged = {**signed, "crossSignedCert": signed["timestampCert"]}
    with pytest.raises(WaczSignatureError, match="crossSignedCert is not for the domainCert key"):
        verify_signed_data(forged, expected_hash=HASH, trust_roots=roots(pki))


def _pem(*certificates: x509.Certificate) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certificates)


def test_a_cross_signed_certificate_is_an_alternative_trust_path(
    signed: dict[str, Any], pki: Pki
) -> None:
    # The domain certificate is one nobody trusts (self-signed); the same key certified by
    # a second CA is accepted instead (spec step 9), but only if that CA is trusted.
    now = datetime.now(UTC)
    key = ensure_wacz_signing_key(pki.keys_dir)
    subject = x509.load_pem_x509_certificates(signed["domainCert"].encode())[0].subject
    self_signed = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=7))
        .sign(key, hashes.SHA256())
    )
    cross_ca = generate_ca(now=now, organisation="Cross")
    cross = build_leaf_certificate(
        key.public_key(), subject=subject, ca=cross_ca, now=now, validity=timedelta(days=7)
    )
    untrusted = {**signed, "domainCert": _pem(self_signed)}
    with_cross = {**untrusted, "crossSignedCert": _pem(cross, cross_ca.certificate)}
    both = [cross_ca.certificate, *roots(pki)]  # the time signature needs the service CA

    with pytest.raises(WaczSignatureError, match="domainCert is not trusted"):
        verify_signed_data(untrusted, expected_hash=HASH, trust_roots=both)
    assert verify_signed_data(with_cross, expected_hash=HASH, trust_roots=both).form == "domain"
    with pytest.raises(WaczSignatureError, match="crossSignedCert is not trusted"):
        verify_signed_data(with_cross, expected_hash=HASH, trust_roots=roots(pki))


def test_the_anonymous_form_is_verified_with_its_public_key() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signature = key.sign(HASH.encode(), ec.ECDSA(hashes.SHA256()))
    anonymous = {
        "hash": HASH,
        "created": CREATED,
        "software": "ArchiveWeb.page 0.12",
        "version": "0.1.0",
        "signature": base64.b64encode(signature).decode(),
        "publicKey": base64.b64encode(public).decode(),
    }
    facts = verify_signed_data(anonymous, expected_hash=HASH, trust_roots=[])
    assert facts.form == "anonymous"
    forged = {**anonymous, "hash": "sha256:" + "cd" * 32}
    with pytest.raises(WaczSignatureError, match="is not a signature"):
        verify_signed_data(forged, expected_hash=forged["hash"], trust_roots=[])


def test_created_must_be_the_datapackage_created(
    package: EvidencePackage, pki: Pki, tmp_path: Path
) -> None:
    def shift(data: bytes) -> bytes:
        digest = json.loads(data)
        digest["signedData"]["created"] = "2000-01-01T00:00:00Z"
        return json.dumps(digest).encode()

    forged = edit_zip(package.wacz, "datapackage-digest.json", shift)
    with pytest.raises(WaczSignatureError, match="not the datapackage's created"):
        check_wacz_signature(check_wacz_contents(forged), roots(pki))
    path = tmp_path / "forged.wacz"
    path.write_bytes(forged)
    result = run(tool("wacz"), "validate", "-f", path)
    assert result.returncode == 1
    assert "signed timestamp != created timestamp" in result.stdout
