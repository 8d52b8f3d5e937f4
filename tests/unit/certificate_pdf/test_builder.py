"""The certificate builder: readable text, the proof files carried as real attachments, and
a seal that the field's own validators accept and a changed byte breaks."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image as PilImage
from pyhanko.pdf_utils.reader import PdfFileReader

from notarium.adapters.pki.generate import CertifiedKey
from notarium.adapters.pki.keystore import KeyStore
from notarium.products.certificate_pdf import (
    AnchorFact,
    Attachment,
    CertificateBuilder,
    Field,
    Image,
    LogEntryFact,
    Section,
    Table,
)
from notarium.products.certificate_pdf.errors import AttachmentError
from notarium.products.pdf_seal.revocation import build_crl
from notarium.verify import verify_proof
from notarium.verify.pdf import PdfVerifier
from unit.sealing.support import Validators, assert_pdfsig_valid

from .conftest import VERIFY_URL, Notarised
from .support import (
    detached_files,
    embedded_file_specs,
    flip_byte_in_content,
    page_count,
    pdf_text,
)


@pytest.fixture(scope="module")
def certificate(builder: CertificateBuilder, notarised: Notarised) -> bytes:
    return builder.build(notarised.facts, attachments=notarised.attachments)


def test_text_names_the_certificate_the_hash_and_the_verify_url(
    certificate: bytes, notarised: Notarised, tmp_path: Path
) -> None:
    text = pdf_text(certificate, tmp_path)
    facts = notarised.facts
    for expected in (
        facts.certificate_id,
        facts.sha256,
        VERIFY_URL,
        "minutes.txt",
        "Status: Time-stamped, awaiting anchoring",
        "sha256sum FILE",
        "openssl ts -verify -in TS-7K2M9QXD.tsr",
        "notarium verify FILE TS-7K2M9QXD.proof.json",
    ):
        assert expected in text, expected
    # The .ots step appears only when the certificate carries an .ots file.
    assert "ots verify" not in text
    assert 1 <= page_count(certificate) <= 2


def test_embedded_bundle_is_the_bundle_and_verifies_offline(
    certificate: bytes, notarised: Notarised, keystore: KeyStore, tmp_path: Path
) -> None:
    specs = embedded_file_specs(certificate)
    assert set(specs) == {"TS-7K2M9QXD.proof.json", "TS-7K2M9QXD.tsr"}
    proof = specs["TS-7K2M9QXD.proof.json"]
    stream = proof["/EF"]["/F"].get_object()  # type: ignore[index]
    assert stream["/Type"] == "/EmbeddedFile"
    assert stream["/Subtype"] == "/application/json"
    assert stream.data == notarised.bundle
    report = verify_proof(
        stream.data, sha256=notarised.facts.sha256, trust_roots=[keystore.ca_certificate()]
    )
    assert report.ok and report.certificate_id == "TS-7K2M9QXD"
    # Poppler lists and saves the same files, so viewers show them.
    assert detached_files(certificate, tmp_path) == {
        "TS-7K2M9QXD.proof.json": notarised.bundle,
        "TS-7K2M9QXD.tsr": notarised.attachments[1].data,
    }


def test_files_are_associated_with_the_document(certificate: bytes) -> None:
    reader = PdfFileReader(io.BytesIO(certificate))
    associated = [spec.get_object() for spec in reader.root["/AF"]]
    assert sorted(str(spec["/F"]) for spec in associated) == [
        "TS-7K2M9QXD.proof.json",
        "TS-7K2M9QXD.tsr",
    ]
    assert {spec["/AFRelationship"] for spec in associated} == {"/Data"}


def test_seal_validates_and_a_changed_byte_fails_both_validators(
    certificate: bytes, validators: Validators
) -> None:
    checked = validators.pyhanko(certificate)
    assert checked.returncode == 0, checked.output
    assert "INTACT:TRUSTED" in checked.output, checked.output
    assert_pdfsig_valid(validators.pdfsig(certificate), expected_seals=1)

    tampered = flip_byte_in_content(certificate)
    refused = validators.pyhanko(tampered)
    assert refused.returncode != 0 and "INTACT:TRUSTED" not in refused.output
    (signature,) = validators.pdfsig(tampered)
    assert signature["Signature Validation"] != "Signature is Valid.", signature


def test_seal_reason_names_the_certificate(
    certificate: bytes, keystore: KeyStore, ca: CertifiedKey
) -> None:
    verifier = PdfVerifier(
        keystore.ca_certificate(),
        lambda: [build_crl(ca, now=datetime.now(UTC), crl_number=1)],
    )
    (seal,) = verifier.verify(certificate).signatures
    assert seal.intact and seal.valid and seal.trusted and seal.timestamped
    assert seal.coverage == "entire_file"
    (embedded,) = PdfFileReader(io.BytesIO(certificate)).embedded_signatures
    assert embedded.sig_object["/Reason"] == "Certificate TS-7K2M9QXD"


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    PilImage.new("RGB", (width, height), (40, 90, 160)).save(out, "PNG")
    return out.getvalue()


def test_extra_sections_and_a_confirmed_record_with_anchors_and_log(
    builder: CertificateBuilder, notarised: Notarised, tmp_path: Path
) -> None:
    block_time = datetime(2026, 4, 13, 19, 2, 7, tzinfo=UTC)
    facts = replace(
        notarised.facts,
        title="Web capture certificate",
        status="confirmed",
        confirmed_at=block_time,
        anchors=(
            AnchorFact("ots", "http://127.0.0.1:9001", "complete", bitcoin_height=900_123),
            AnchorFact(
                "bitcoin",
                "http://127.0.0.1:18443",
                "complete",
                bitcoin_txid="ab" * 32,
                bitcoin_height=900_123,
                bitcoin_time=block_time,
            ),
        ),
        log_entry=LogEntryFact("notary.example.com/log", 1234, in_checkpoint=True),
    )
    artifacts = Table(
        columns=("Artifact", "SHA-256"),
        rows=(("archive.wacz", "cd" * 32), ("screenshot.png", "ef" * 32)),
        mono_columns=frozenset({1}),
    )
    section = Section(
        "Captured page",
        fields=(Field("Requested URL", "https://example.org/a?b=<c>&d", mono=True),),
        paragraphs=("Captured with `chromium` in a clean profile.",),
        table=artifacts,
        image=Image(_png(1280, 800), caption="Screenshot (top of the page)"),
    )
    manifest = b'{"manifest": true}'
    pdf = builder.build(
        facts,
        sections=[section],
        attachments=[
            *notarised.attachments,
            Attachment("manifest.json", manifest, "application/json", "Capture manifest"),
        ],
    )
    text = pdf_text(pdf, tmp_path)
    for expected in (
        "Status: Confirmed",
        "ab" * 32,
        "Bitcoin block 900,123",
        "2026-04-13 19:02:07 UTC",
        "notary.example.com/log",
        "https://example.org/a?b=<c>&d",
        "cd" * 32,
        "ef" * 32,
        "Screenshot (top of the page)",
        "Captured with chromium in a clean profile.",
    ):
        assert expected in text, expected
    assert embedded_file_specs(pdf).keys() == {
        "TS-7K2M9QXD.proof.json",
        "TS-7K2M9QXD.tsr",
        "manifest.json",
    }


def test_duplicate_attachment_names_are_refused(
    builder: CertificateBuilder, notarised: Notarised
) -> None:
    twice = [notarised.attachments[0], notarised.attachments[0]]
    with pytest.raises(AttachmentError):
        builder.build(notarised.facts, attachments=twice)


def test_values_are_text_not_markup(
    builder: CertificateBuilder, notarised: Notarised, tmp_path: Path
) -> None:
    hostile = 'a <b>bold</b> & <font size="40">big</font> name.pdf'
    pdf = builder.build(replace(notarised.facts, filename=hostile))
    assert hostile in pdf_text(pdf, tmp_path)
