"""What every family's ``GET .../certificate.pdf`` route answers: the record's sealed
certificate, as a download."""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

from notarium.http.disposition import attachment
from notarium.products.certificate_pdf.service import CertificatePdf

PDF_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        "description": "The record's certificate: a PDF sealed by the service (PAdES B-T), "
        "carrying the proof bundle, the RFC 3161 response and the .ots file as attachments",
    }
}


def pdf_response(certificate: CertificatePdf) -> Response:
    return Response(
        certificate.pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": attachment(certificate.filename),
            # Regenerated whenever the record's status changes: revalidate before reuse.
            "Cache-Control": "private, no-cache",
        },
    )
