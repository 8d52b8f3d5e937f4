"""Sealed certificate PDFs for every kind of record, and the check of uploaded PDFs.

Build one with :class:`CertificateBuilder` from :class:`CertificateFacts`, optional extra
:class:`Section` values and :class:`Attachment` files; hash records go through
:class:`CertificatePdfService`, which also caches them per state of the record.
"""

from notarium.products.certificate_pdf.builder import CertificateBuilder
from notarium.products.certificate_pdf.facts import (
    AnchorFact,
    Attachment,
    CertificateFacts,
    Field,
    Image,
    LogEntryFact,
    Section,
    Table,
    fingerprint,
)

__all__ = [
    "AnchorFact",
    "Attachment",
    "CertificateBuilder",
    "CertificateFacts",
    "Field",
    "Image",
    "LogEntryFact",
    "Section",
    "Table",
    "fingerprint",
]
