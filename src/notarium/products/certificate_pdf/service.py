"""Certificate PDFs of hash records (timestamps, hash certificates, seals) and the public
check of uploaded PDFs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any, Literal

from notarium.core.errors import ProofVerificationError
from notarium.formats.canonical import canonical_json
from notarium.formats.rfc3161.reply import granted_response
from notarium.formats.rfc3161.token import parse_timestamp_token, verify_token_signature
from notarium.ledger.proofs import OtsNotFound, ProofService
from notarium.ledger.records.errors import RecordNotFound
from notarium.ledger.records.service import RecordService
from notarium.ledger.records.values import (
    AnchorEvidence,
    Owner,
    PublicRecord,
    RecordEvidence,
    RecordView,
)
from notarium.ledger.transparency_log import TransparencyLog
from notarium.products.certificate_pdf.builder import CertificateBuilder
from notarium.products.certificate_pdf.cache import PdfCache
from notarium.products.certificate_pdf.facts import (
    AnchorFact,
    Attachment,
    CertificateFacts,
    LogEntryFact,
    fingerprint,
)

if TYPE_CHECKING:
    from notarium.verify.pdf import PdfReport, PdfVerifier

TITLES = {
    "timestamps": "Timestamp certificate",
    "certificates": "Hash certificate",
    "seal": "Sealed document certificate",
    "l402": "Timestamp certificate",
}
PROOF_SUFFIX = ".proof.json"


@dataclass(frozen=True)
class CertificatePdf:
    view: RecordView
    pdf: bytes

    @property
    def filename(self) -> str:
        return f"{self.view.certificate_id}.certificate.pdf"


@dataclass(frozen=True)
class RecordMatch:
    how: Literal["document_hash", "embedded_proof"]
    """``document_hash``: the uploaded file itself was recorded (a sealed PDF);
    ``embedded_proof``: a certificate PDF whose embedded proof names the record."""
    record: PublicRecord


@dataclass(frozen=True)
class PdfCheck:
    report: PdfReport
    matches: tuple[RecordMatch, ...]


def certificate_url(base_url: str, certificate_id: str) -> str:
    """The record's public page, which the certificate links to and its QR code holds."""
    return f"{base_url}/cert/{certificate_id}"


def _bitcoin_time(anchor: AnchorEvidence) -> datetime | None:
    # A Bitcoin anchor's evidence carries the block header, whose time it reports.
    if anchor.kind != "bitcoin" or anchor.state != "complete" or anchor.payload is None:
        return None
    try:
        header = bytes.fromhex(json.loads(anchor.payload)["proof"]["header"])
    except (ValueError, KeyError, TypeError):
        return None
    if len(header) != 80:
        return None
    return datetime.fromtimestamp(int.from_bytes(header[68:72], "little"), UTC)


def anchor_fact(anchor: AnchorEvidence) -> AnchorFact:
    return AnchorFact(
        kind=anchor.kind,
        name=anchor.name,
        state=anchor.state,
        bitcoin_txid=anchor.bitcoin_txid,
        bitcoin_height=anchor.bitcoin_height,
        bitcoin_time=_bitcoin_time(anchor),
        payload_sha256=hashlib.sha256(anchor.payload).hexdigest() if anchor.payload else None,
        authority=_authority(anchor),
    )


def _authority(anchor: AnchorEvidence) -> str | None:
    """The name in the certificate that signed an external token: public, unlike the URL
    the operator reaches the authority at."""
    if anchor.kind != "rfc3161" or anchor.state != "complete" or not anchor.payload:
        return None
    try:
        token = parse_timestamp_token(anchor.payload)
        return verify_token_signature(token, ()).subject.rfc4514_string()
    except ProofVerificationError:
        return None


class CertificatePdfService:
    def __init__(
        self,
        records: RecordService,
        proofs: ProofService,
        log: TransparencyLog,
        builder: CertificateBuilder,
        verifier: PdfVerifier | Callable[[], PdfVerifier],
        cache: PdfCache,
        *,
        base_url: str,
        organisation: str,
        log_origin: str,
    ) -> None:
        self.records = records
        self.proofs = proofs
        self.log = log
        self.builder = builder
        # Possibly a function that makes it: pyHanko loads with the first PDF checked.
        self._verifier = verifier
        self.cache = cache
        self.base_url = base_url
        self.organisation = organisation
        self.log_origin = log_origin

    @property
    def verifier(self) -> PdfVerifier:
        made = self._verifier
        return made() if callable(made) else made

    # -- certificates ------------------------------------------------------------

    def facts(self, evidence: RecordEvidence) -> CertificateFacts:
        view = evidence.view
        entry = None
        if evidence.log_index is not None:
            latest = self.log.latest()
            entry = LogEntryFact(
                origin=self.log_origin,
                index=evidence.log_index,
                in_checkpoint=latest is not None and latest.size > evidence.log_index,
            )
        return CertificateFacts(
            title=TITLES.get(view.channel, "Timestamp certificate"),
            certificate_id=view.certificate_id,
            record_id=view.id,
            sha256=view.sha256,
            created_at=view.created_at,
            token_time=parse_timestamp_token(evidence.token).gen_time,
            tsa_serial=view.tsa_serial,
            status=view.status,
            verify_url=certificate_url(self.base_url, view.certificate_id),
            organisation=self.organisation,
            filename=view.filename,
            file_size_bytes=view.file_size_bytes,
            file_type=view.file_type,
            confirmed_at=view.confirmed_at,
            anchors=tuple(anchor_fact(a) for a in evidence.anchors),
            log_entry=entry,
            test_mode=view.mode == "test",
        )

    def certificate(self, owner: Owner, record_id: str) -> CertificatePdf:
        """The record's sealed certificate: from the cache while its facts are unchanged,
        built and sealed afresh once any of them (status, anchors, log entry) changes."""
        evidence = self.records.evidence(owner, record_id)
        facts = self.facts(evidence)
        version = fingerprint(facts)
        cached = self.cache.get(evidence.view.id, version)
        if cached is not None:
            return CertificatePdf(evidence.view, cached)
        pdf = self.builder.build(facts, attachments=self.attachments(owner, evidence))
        self.cache.put(evidence.view.id, version, pdf)
        return CertificatePdf(evidence.view, pdf)

    def attachments(self, owner: Owner, evidence: RecordEvidence) -> list[Attachment]:
        view = evidence.view
        name = view.certificate_id
        _, bundle = self.proofs.bundle(owner, view.id)
        files = [
            Attachment(
                f"{name}{PROOF_SUFFIX}",
                canonical_json(bundle),
                "application/json",
                f"Proof bundle of {name}; check it offline with `notarium verify`.",
            ),
            Attachment(
                f"{name}.tsr",
                granted_response(evidence.token),
                "application/timestamp-reply",
                f"RFC 3161 time-stamp response of {name}; check it with `openssl ts -verify`.",
            ),
        ]
        try:
            _, ots = self.proofs.ots_file(owner, view.id)
        except OtsNotFound:
            return files
        files.append(
            Attachment(
                f"{name}.ots",
                ots,
                "application/octet-stream",
                f"OpenTimestamps proof of {name}; check it with `ots verify`.",
            )
        )
        return files

    # -- checking uploaded PDFs --------------------------------------------------

    def check(self, upload: bytes | IO[bytes]) -> PdfCheck:
        """Every signature of the upload, and which public record it belongs to."""
        from notarium.formats.pdf import read_pdf

        report = self.verifier.verify(read_pdf(upload))
        matches = [
            RecordMatch("document_hash", record)
            for record in self.records.public_by_hash(report.sha256)
        ]
        # A certificate names its record through the embedded proof; that claim counts
        # only when the seals over it hold, or anyone could attach a proof to any PDF.
        if report.valid:
            for certificate_id, sha256 in _proof_subjects(report.attachments):
                try:
                    record = self.records.public_by_certificate_id(certificate_id)
                except RecordNotFound:
                    continue
                if record.sha256 == sha256 and all(
                    m.record.certificate_id != record.certificate_id for m in matches
                ):
                    matches.append(RecordMatch("embedded_proof", record))
        return PdfCheck(report, tuple(matches))


def _proof_subjects(attachments: dict[str, bytes]) -> list[tuple[str, str]]:
    """(certificate id, sha256) of each embedded proof bundle that parses."""
    subjects = []
    for name, data in sorted(attachments.items()):
        if not name.endswith(PROOF_SUFFIX):
            continue
        try:
            record: Any = json.loads(data)["record"]
            subjects.append((str(record["certificate_id"]), str(record["sha256"])))
        except (ValueError, KeyError, TypeError):
            continue
    return subjects
