"""Checking an uploaded PDF's signatures against the service CA, offline."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from notarium.adapters.pki.generate import CertifiedKey
from notarium.adapters.pki.keystore import KeyStore
from notarium.core.errors import NotariumError
from notarium.formats.pdf import read_pdf
from notarium.products.certificate_pdf import CertificateBuilder
from notarium.products.pdf_seal.revocation import build_crl
from notarium.products.pdf_seal.sealer import Sealer
from notarium.verify.pdf import PdfVerifier
from unit.sealing.support import make_pdf

from .conftest import Notarised
from .support import encrypted_pdf, flip_byte_in_content


@pytest.fixture(scope="module")
def verifier(keystore: KeyStore, ca: CertifiedKey) -> PdfVerifier:
    return PdfVerifier(
        keystore.ca_certificate(), lambda: [build_crl(ca, now=datetime.now(UTC), crl_number=1)]
    )


@pytest.fixture(scope="module")
def certificate(builder: CertificateBuilder, notarised: Notarised) -> bytes:
    return builder.build(notarised.facts, attachments=notarised.attachments)


def test_certificate_seal_is_intact_trusted_and_time_stamped(
    verifier: PdfVerifier, certificate: bytes, notarised: Notarised
) -> None:
    report = verifier.verify(certificate)
    assert report.valid
    (seal,) = report.signatures
    assert (seal.intact, seal.valid, seal.trusted, seal.document_timestamp) == (
        True,
        True,
        True,
        False,
    )
    assert seal.signer_subject is not None and "Seal" in seal.signer_subject
    assert seal.timestamped and seal.timestamp_trusted
    assert seal.timestamp_time is not None and seal.signing_time is not None
    assert seal.coverage == "entire_file" and seal.modification_level == "none"
    assert seal.problem is None
    assert report.attachments["TS-7K2M9QXD.proof.json"] == notarised.bundle


def test_a_changed_byte_is_reported_not_intact(verifier: PdfVerifier, certificate: bytes) -> None:
    report = verifier.verify(flip_byte_in_content(certificate))
    (seal,) = report.signatures
    assert not seal.intact and not report.valid
    assert seal.problem == "the signed bytes were changed"


def test_b_lta_seal_reports_its_document_time_stamp(verifier: PdfVerifier, sealer: Sealer) -> None:
    report = verifier.verify(sealer.seal(make_pdf(), level="B-LTA"))
    kinds = [s.document_timestamp for s in report.signatures]
    assert kinds == [False, True]
    seal, stamp = report.signatures
    assert seal.coverage == "entire_revision" and seal.modification_level == "lta_updates"
    # pyHanko adds the time-stamp's own validation data after it, in one more revision.
    assert stamp.modification_level in ("none", "lta_updates")
    assert stamp.timestamp_time is not None and stamp.timestamp_trusted
    assert report.valid


def test_another_ca_is_not_trusted(
    certificate: bytes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    other = KeyStore(tmp_path_factory.mktemp("other") / "keys", "Someone Else")
    other.ensure()
    report = PdfVerifier(other.ca_certificate(), list).verify(certificate)
    (seal,) = report.signatures
    assert seal.intact and seal.valid and not seal.trusted and not report.valid
    assert seal.problem is not None and "does not chain" in seal.problem


def test_an_unsigned_pdf_has_no_signatures(verifier: PdfVerifier) -> None:
    report = verifier.verify(make_pdf())
    assert report.signatures == () and not report.valid


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "PDF_EMPTY"),
        (b"GIF89a not a pdf", "NOT_A_PDF"),
        (b"%PDF-1.7\n" + b"0" * 64, None),
        (b"%PDF-1.7\n" + b"0" * (10 * 1024 * 1024), "PDF_TOO_LARGE"),
    ],
)
def test_inputs_that_cannot_be_checked(
    verifier: PdfVerifier, data: bytes, code: str | None
) -> None:
    with pytest.raises(NotariumError) as caught:
        verifier.verify(read_pdf(data))
    assert caught.value.code == (code or "PDF_MALFORMED")


def test_an_encrypted_pdf_is_refused(verifier: PdfVerifier) -> None:
    with pytest.raises(NotariumError) as caught:
        verifier.verify(read_pdf(encrypted_pdf()))
    assert caught.value.code == "PDF_ENCRYPTED"
