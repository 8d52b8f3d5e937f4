"""Public check of a PDF (``POST /api/v1/verify/pdf``): is each signature intact and
trusted, when was it time-stamped, and which record does the file belong to."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from notarium.adapters.ratelimit.limiter import Bucket
from notarium.http.deps import client_ip, limiter_of, record_rate, runtime_of
from notarium.http.families.pdf_seal import routes as seal
from notarium.http.formats import iso_millis
from notarium.http.multipart import single_file_form
from notarium.http.openapi_responses import error_responses
from notarium.http.public.verify_pdf_schemas import PdfVerification
from notarium.products.certificate_pdf.service import PdfCheck, RecordMatch, certificate_url

if TYPE_CHECKING:
    from notarium.verify.pdf import SignatureReport

router = APIRouter(prefix="/api/v1", tags=["seal"])

PATH = "/api/v1/verify/pdf"
# The same documents the seal route takes: a PDF of up to 10 MB in a multipart body.
MAX_UPLOAD = seal.MAX_UPLOAD
CHECKS = Bucket("verify-pdf-ip", 20)


def _signature(report: SignatureReport) -> dict[str, Any]:
    return {
        "field_name": report.field_name,
        "document_timestamp": report.document_timestamp,
        "intact": report.intact,
        "valid": report.valid,
        "trusted": report.trusted,
        "signer_subject": report.signer_subject,
        "signing_time": iso_millis(report.signing_time),
        "timestamped": report.timestamped,
        "timestamp_time": iso_millis(report.timestamp_time),
        "timestamp_trusted": report.timestamp_trusted,
        "coverage": report.coverage,
        "modification_level": report.modification_level,
        "problem": report.problem,
        "timestamp": None
        if report.timestamp is None
        else {
            "intact": report.timestamp.intact,
            "valid": report.timestamp.valid,
            "trusted": report.timestamp.trusted,
            "time": iso_millis(report.timestamp.time),
            "reason": report.timestamp.reason,
        },
    }


def _record(match: RecordMatch, base_url: str) -> dict[str, Any]:
    # Public facts only, from the same public view the /cert and /verify pages use: no
    # account, test records never found, the file name only if its owner shared it.
    record = match.record
    return {
        "match": match.how,
        "certificate_id": record.certificate_id,
        "sha256_hash": record.sha256,
        "status": record.status,
        "created_at": iso_millis(record.created_at),
        "confirmed_at": iso_millis(record.confirmed_at),
        "blockchain_tx": record.blockchain_tx,
        "bitcoin_block": record.bitcoin_block,
        "filename": record.filename,
        "certificate_url": certificate_url(base_url, record.certificate_id),
        "verify_url": f"{base_url}/verify/{record.sha256}",
    }


def _summary(check: PdfCheck) -> str:
    report = check.report
    if not report.signatures:
        return "The document carries no signature."
    if report.valid:
        found = " and belongs to a record of this service" if check.matches else ""
        return f"Every signature is intact and trusted{found}."
    failed = next(s for s in report.signatures if not s.sound)
    why = failed.problem or "the document was changed after it in ways a seal does not allow"
    return f"Signature {failed.field_name} does not hold: {why}."


@router.post(
    "/verify/pdf",
    response_model=PdfVerification,
    responses=error_responses(400, 413, 415, 429, 500),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                }
            },
        }
    },
    summary="Public: check the signatures of a sealed PDF or certificate PDF",
)
async def verify_pdf(request: Request) -> JSONResponse:
    record_rate(request, limiter_of(request).hit(CHECKS, client_ip(request)))
    runtime = runtime_of(request)
    async with single_file_form(request, max_fields=8) as (_, upload):
        check = await run_in_threadpool(runtime.certificate_pdfs.check, upload.file)
    base_url = runtime.settings.base_url
    return JSONResponse(
        {
            "sha256_hash": check.report.sha256,
            "size_bytes": check.report.size,
            "signed": bool(check.report.signatures),
            "valid": check.report.valid,
            "summary": _summary(check),
            "signatures": [_signature(s) for s in check.report.signatures],
            "records": [_record(m, base_url) for m in check.matches],
        }
    )
