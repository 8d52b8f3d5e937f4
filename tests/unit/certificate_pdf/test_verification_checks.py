"""A PDF's verdict as the shared report model: one check per signature, and per signature
the checks that make it sound, through the public ``notarium.verify.verify_pdf``."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from notarium.adapters.pki.generate import CertifiedKey
from notarium.adapters.pki.keystore import KeyStore
from notarium.products.certificate_pdf import CertificateBuilder
from notarium.products.pdf_seal.revocation import build_crl
from notarium.verify import Check, verify_pdf
from unit.sealing.support import make_pdf

from .conftest import Notarised
from .support import flip_byte_in_content


@pytest.fixture(scope="module")
def certificate(builder: CertificateBuilder, notarised: Notarised) -> bytes:
    return builder.build(notarised.facts, attachments=notarised.attachments)


@pytest.fixture(scope="module")
def crls(ca: CertifiedKey) -> list[bytes]:
    return [build_crl(ca, now=datetime.now(UTC), crl_number=1)]


def test_a_sound_seal_passes_every_check(
    certificate: bytes, keystore: KeyStore, crls: list[bytes]
) -> None:
    report = verify_pdf(certificate, ca_certificate=keystore.ca_certificate(), crls=crls)
    assert report.ok and report.valid
    (seal,) = report.signatures
    assert [c.name for c in seal.checks] == [
        "integrity",
        "signature",
        "trust",
        "timestamp",
        "changes",
    ]
    assert {c.status for c in seal.checks} == {"passed"}
    assert report.checks == (
        Check(f"signature {seal.field_name}", "passed", "intact, valid and trusted"),
    )


def test_a_changed_byte_fails_the_integrity_check(
    certificate: bytes, keystore: KeyStore, crls: list[bytes]
) -> None:
    report = verify_pdf(
        flip_byte_in_content(certificate), ca_certificate=keystore.ca_certificate(), crls=crls
    )
    (seal,) = report.signatures
    assert not seal.sound and not report.ok and not report.valid
    assert seal.check("integrity").status == "failed"
    (failed,) = report.failed
    assert failed.name == f"signature {seal.field_name}"
    assert "the signed bytes were changed" in failed.detail


def test_another_ca_fails_only_the_trust_check(
    certificate: bytes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    other = KeyStore(tmp_path_factory.mktemp("other") / "keys", "Someone Else")
    other.ensure()
    (seal,) = verify_pdf(certificate, ca_certificate=other.ca_certificate()).signatures
    failed = {c.name for c in seal.failed}
    assert "trust" in failed and not {"integrity", "signature"} & failed
    assert "does not chain" in seal.check("trust").detail


def test_an_unsigned_pdf_fails_the_signed_check(keystore: KeyStore) -> None:
    report = verify_pdf(make_pdf(), ca_certificate=keystore.ca_certificate())
    assert report.signatures == () and not report.ok and not report.valid
    assert report.checks == (Check("signed", "failed", "the document carries no signature"),)
