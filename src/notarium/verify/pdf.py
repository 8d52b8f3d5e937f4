"""Checking every signature of an uploaded PDF with pyHanko, against the service CA.

Revocation information comes from the caller (the CA's own CRL, built in process), so a
check never reaches the network.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from typing import IO, Any, Final, Literal

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import (
    DocumentTimestampStatus,
    PdfSignatureStatus,
    SignatureCoverageLevel,
)
from pyhanko_certvalidator import ValidationContext

from notarium.core.timefmt import iso_millis
from notarium.formats.pdf import EncryptedPdfError, MalformedPdfError, read_attachments, read_pdf
from notarium.formats.pdf_structure import check_structure
from notarium.verify.report import Check, Report

Coverage = Literal["entire_file", "entire_revision", "partial"]

_COVERAGE: Final[dict[SignatureCoverageLevel, Coverage]] = {
    SignatureCoverageLevel.ENTIRE_FILE: "entire_file",
    SignatureCoverageLevel.ENTIRE_REVISION: "entire_revision",
}
#: Changes after a signature that leave what it signed standing: none at all, or
#: validation data and document time-stamps added for long-term validation.
_HARMLESS: Final = frozenset({"none", "lta_updates"})


@dataclass(frozen=True)
class TimestampReport:
    """A signature's time-stamp token (or a document time-stamp) checked on its own."""

    intact: bool
    """The token's content is what its TSA signed (its message digest matches)."""
    valid: bool
    """The token's signature verifies."""
    trusted: bool
    """The TSA's certificate chains to the service CA."""
    time: datetime | None
    reason: str | None = None
    """Why the time-stamp does not hold, if it does not."""

    @property
    def sound(self) -> bool:
        return self.intact and self.valid and self.trusted


@dataclass(frozen=True)
class SignatureReport(Report):
    """One signature's facts, and its checks: integrity, signature, trust, time-stamp and
    the changes made after it."""

    field_name: str
    document_timestamp: bool
    """An RFC 3161 document time-stamp (PAdES B-LTA) rather than a signature."""
    intact: bool
    """The signed bytes are unchanged."""
    valid: bool
    """The cryptographic signature checks out."""
    trusted: bool
    """The signer's certificate chains to the service CA and is not revoked."""
    signer_subject: str | None
    signing_time: datetime | None
    """The signing time the signer claims (or the time-stamp's, for a document
    time-stamp)."""
    timestamped: bool
    timestamp_time: datetime | None
    timestamp_trusted: bool | None
    coverage: Coverage
    modification_level: str | None
    """What changed after the signature: ``none``, ``lta_updates``, ``form_filling``,
    ``annotations`` or ``other``; None if it could not be determined."""
    problem: str | None = None
    timestamp: TimestampReport | None = None
    """The signature's time-stamp token, or the document time-stamp itself; None when
    the signature carries no time-stamp."""

    @property
    def sound(self) -> bool:
        """Intact, valid and trusted, its time-stamp too if it has one, with nothing but
        harmless changes after it: a time the document claims is never passed over."""
        return self.ok


@dataclass(frozen=True)
class PdfReport(Report):
    """The document's facts, and one check per signature (a failed ``signed`` check when
    it carries none)."""

    sha256: str
    size: int
    signatures: tuple[SignatureReport, ...]
    attachments: dict[str, bytes] = field(repr=False)

    @property
    def valid(self) -> bool:
        """Signed, and every signature sound."""
        return bool(self.signatures) and self.ok


def verify_pdf(
    upload: bytes | IO[bytes], *, ca_certificate: x509.Certificate, crls: Sequence[bytes] = ()
) -> PdfReport:
    """Check every signature of a PDF offline, with ``ca_certificate`` (the service CA)
    as the only trust root and ``crls`` (DER) as the only revocation information.

    Raises a :class:`~notarium.formats.pdf.PdfInputError` for a document that cannot be
    checked at all (empty, too large, not a PDF, encrypted, malformed)."""
    return PdfVerifier(ca_certificate, lambda: list(crls)).verify(read_pdf(upload))


class PdfVerifier:
    """Validates PDF signatures with the service CA as the only trust root."""

    def __init__(self, ca_certificate: x509.Certificate, crls: Callable[[], list[bytes]]) -> None:
        self._root = asn1_x509.Certificate.load(ca_certificate.public_bytes(Encoding.DER))
        self._crls = crls

    def _context(self) -> ValidationContext:
        return ValidationContext(trust_roots=[self._root], crls=self._crls(), allow_fetching=False)

    def verify(self, data: bytes) -> PdfReport:
        reader = _open(data)
        signatures = tuple(self._check(embedded) for embedded in reader.embedded_signatures)
        try:
            attachments = read_attachments(reader)
        except Exception:
            # A hostile name tree hides its files, nothing more.
            attachments = {}
        return PdfReport(
            checks=_document_checks(signatures),
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            signatures=signatures,
            attachments=attachments,
        )

    def _check(self, embedded: EmbeddedPdfSignature) -> SignatureReport:
        name = str(embedded.field_name)
        timestamp = embedded.sig_object_type == "/DocTimeStamp"
        try:
            if timestamp:
                return _timestamp_report(
                    name, validate_pdf_timestamp(embedded, validation_context=self._context())
                )
            return _signature_report(
                name,
                validate_pdf_signature(
                    embedded,
                    signer_validation_context=self._context(),
                    ts_validation_context=self._context(),
                ),
                carries_timestamp=_carries_timestamp(embedded),
            )
        except Exception as exc:
            # Uploads are hostile: a signature pyHanko cannot even evaluate is reported
            # as failed, with the reason, instead of failing the whole answer.
            problem = f"the signature could not be evaluated: {exc}"
            return SignatureReport(
                checks=(Check("evaluation", "failed", problem),),
                field_name=name,
                document_timestamp=timestamp,
                intact=False,
                valid=False,
                trusted=False,
                signer_subject=None,
                signing_time=None,
                timestamped=False,
                timestamp_time=None,
                timestamp_trusted=None,
                coverage="partial",
                modification_level=None,
                problem=problem,
            )


def _open(data: bytes) -> PdfFileReader:
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        encrypted = reader.encrypted
    except Exception as exc:
        raise MalformedPdfError("the document is not a readable PDF") from exc
    if encrypted:
        raise EncryptedPdfError("encrypted documents cannot be checked")
    # The same structure a seal needs: what cannot be sealed is not checked either.
    check_structure(reader)
    return reader


def _coverage(level: SignatureCoverageLevel | None) -> Coverage:
    return _COVERAGE.get(level, "partial") if level is not None else "partial"


def _level(level: ModificationLevel | None) -> str | None:
    return level.name.lower() if level is not None else None


def _problem(status: Any, intact: bool, valid: bool, trusted: bool) -> str | None:
    if not intact:
        return "the signed bytes were changed"
    if not valid:
        return "the signature value does not verify"
    if not trusted:
        indication = getattr(status, "trust_problem_indic", None)
        why = f" ({indication.name.lower()})" if indication is not None else ""
        return f"the signer's certificate does not chain to this service's CA{why}"
    return None


def _carries_timestamp(embedded: EmbeddedPdfSignature) -> bool:
    """Whether the CMS holds a signature time-stamp token, read from the structure itself
    so that a token the validator could not make sense of is not taken for no token."""
    try:
        attrs = embedded.signer_info["unsigned_attrs"]
        return any(a["type"].native == "signature_time_stamp_token" for a in attrs)
    except Exception:
        # Unreadable attributes: the signature check itself reports the damage.
        return False


def _timestamp_problem(intact: bool, valid: bool, trusted: bool) -> str | None:
    if not intact:
        return "the time-stamp token was altered: its message digest does not match its content"
    if not valid:
        return "the time-stamp token's signature does not verify"
    if not trusted:
        return "the time-stamp authority does not chain to this service's CA"
    return None


def _stamp(status: Any) -> TimestampReport:
    return TimestampReport(
        intact=status.intact,
        valid=status.valid,
        trusted=status.trusted,
        time=status.timestamp,
        reason=_timestamp_problem(status.intact, status.valid, status.trusted),
    )


def _signature_report(
    name: str, status: PdfSignatureStatus, *, carries_timestamp: bool = False
) -> SignatureReport:
    stamp = status.timestamp_validity
    timestamp = _stamp(stamp) if stamp is not None else None
    if timestamp is None and carries_timestamp:
        timestamp = TimestampReport(
            intact=False,
            valid=False,
            trusted=False,
            time=None,
            reason="the signature carries a time-stamp token that could not be evaluated",
        )
    problem = _problem(status, status.intact, status.valid, status.trusted)
    if problem is None and timestamp is not None and timestamp.reason is not None:
        problem = f"its signature time-stamp does not hold: {timestamp.reason}"
    return SignatureReport(
        checks=_signature_checks(status, timestamp),
        field_name=name,
        document_timestamp=False,
        intact=status.intact,
        valid=status.valid,
        trusted=status.trusted,
        signer_subject=status.signing_cert.subject.human_friendly,
        signing_time=status.signer_reported_dt,
        timestamped=timestamp is not None,
        timestamp_time=timestamp.time if timestamp is not None else None,
        timestamp_trusted=timestamp.sound if timestamp is not None else None,
        coverage=_coverage(status.coverage),
        modification_level=_level(status.modification_level),
        problem=problem,
        timestamp=timestamp,
    )


def _timestamp_report(name: str, status: DocumentTimestampStatus) -> SignatureReport:
    sound = status.intact and status.valid and status.trusted
    return SignatureReport(
        checks=_signature_checks(status, _stamp(status)),
        field_name=name,
        document_timestamp=True,
        intact=status.intact,
        valid=status.valid,
        trusted=status.trusted,
        signer_subject=status.signing_cert.subject.human_friendly,
        signing_time=status.timestamp,
        timestamped=True,
        timestamp_time=status.timestamp,
        timestamp_trusted=sound,
        coverage=_coverage(status.coverage),
        modification_level=_level(status.modification_level),
        problem=_problem(status, status.intact, status.valid, status.trusted),
        timestamp=_stamp(status),
    )


def _verdict(name: str, holds: bool, passed: str, failed: str) -> Check:
    return Check(name, "passed", passed) if holds else Check(name, "failed", failed)


def _signature_checks(status: Any, timestamp: TimestampReport | None) -> tuple[Check, ...]:
    """What makes a signature sound, one check each, from pyHanko's status."""
    coverage = _coverage(status.coverage)
    level = _level(status.modification_level)
    if timestamp is None:
        stamp = Check("timestamp", "absent", "the signature carries no time-stamp")
    elif timestamp.sound:
        when = iso_millis(timestamp.time) or "an unknown time"
        stamp = Check("timestamp", "passed", f"time-stamped at {when} by a trusted TSA")
    else:
        stamp = Check("timestamp", "failed", timestamp.reason or "the time-stamp does not hold")
    return (
        _verdict(
            "integrity",
            status.intact,
            "the signed bytes are unchanged",
            "the signed bytes were changed",
        ),
        _verdict(
            "signature",
            status.valid,
            "the signature value verifies",
            "the signature value does not verify",
        ),
        _verdict(
            "trust",
            status.trusted,
            "the signer's certificate chains to this service's CA",
            _problem(status, True, True, False) or "",
        ),
        stamp,
        _verdict(
            "changes",
            coverage == "entire_file" or level in _HARMLESS,
            f"nothing but harmless changes after it ({coverage}, {level})",
            f"the document was changed after it in ways a seal does not allow ({level})",
        ),
    )


def _document_checks(signatures: Sequence[SignatureReport]) -> tuple[Check, ...]:
    if not signatures:
        return (Check("signed", "failed", "the document carries no signature"),)
    return tuple(
        Check(f"signature {s.field_name}", "passed", "intact, valid and trusted")
        if s.sound
        else Check(f"signature {s.field_name}", "failed", "; ".join(c.detail for c in s.failed))
        for s in signatures
    )
