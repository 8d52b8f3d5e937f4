"""Public verification pages: anyone may check a hash or a certificate id. They show the
hash, time, status and proofs, never the account, and metadata only if made public."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from notarium.core.hashing.sha256 import normalize_sha256_hex
from notarium.http.deps import runtime_of
from notarium.http.formats import iso_millis
from notarium.http.openapi_responses import error_responses, html_or_json
from notarium.ledger.records.errors import RecordNotFound
from notarium.ledger.records.values import PublicRecord

router = APIRouter(tags=["public"])

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
    autoescape=select_autoescape(["html"]),
)


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    if "application/json" not in accept:
        return False
    return "text/html" not in accept or accept.index("application/json") < accept.index("text/html")


def public_json(record: PublicRecord, base_url: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "certificate_id": record.certificate_id,
        "sha256_hash": record.sha256,
        "created_at": iso_millis(record.created_at),
        "status": record.status,
        "blockchain_tx": record.blockchain_tx,
        "bitcoin_block": record.bitcoin_block,
        "confirmed_at": iso_millis(record.confirmed_at),
        "proofs": {
            "rfc3161": {
                "serial": record.tsa_serial,
                "token": base64.b64encode(record.tsa_token).decode(),
                "chain_url": f"{base_url}/tsa/certchain",
            }
        },
        "certificate_url": f"{base_url}/cert/{record.certificate_id}",
        "verify_url": f"{base_url}/verify/{record.sha256}",
    }
    if record.filename is not None:
        body["filename"] = record.filename
        body["file_type"] = record.file_type
    if record.metadata is not None:
        body["metadata"] = record.metadata
    return body


def _render(request: Request, template: str, status: int, **context: Any) -> Response:
    html = _templates.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status)


@router.get(
    "/verify/{sha256}",
    summary="Public check of a hash",
    response_model=None,
    responses={
        200: html_or_json("Records for this hash"),
        404: html_or_json("Nothing was timestamped for this hash"),
        **error_responses(400, 500),
    },
)
def verify_hash(request: Request, sha256: str) -> Response:
    runtime = runtime_of(request)
    digest = normalize_sha256_hex(sha256)
    found = runtime.records.public_by_hash(digest)
    base = runtime.settings.base_url
    if _wants_json(request):
        return JSONResponse(
            {
                "sha256_hash": digest,
                "found": bool(found),
                "records": [public_json(r, base) for r in found],
            },
            status_code=200 if found else 404,
        )
    return _render(
        request,
        "verify.html",
        200 if found else 404,
        sha256=digest,
        records=[public_json(r, base) for r in found],
        organisation=runtime.settings.organisation,
    )


@router.get(
    "/cert/{certificate_id}",
    summary="Public certificate page",
    response_model=None,
    responses={
        200: html_or_json("The certificate"),
        404: html_or_json("No such certificate"),
        **error_responses(500),
    },
)
def certificate(request: Request, certificate_id: str) -> Response:
    runtime = runtime_of(request)
    try:
        record = runtime.records.public_by_certificate_id(certificate_id.upper())
    except RecordNotFound:
        if _wants_json(request):
            raise
        return _render(
            request,
            "verify.html",
            404,
            sha256=None,
            records=[],
            certificate_id=certificate_id,
            organisation=runtime.settings.organisation,
        )
    body = public_json(record, runtime.settings.base_url)
    if _wants_json(request):
        return JSONResponse(body)
    return _render(
        request,
        "verify.html",
        200,
        sha256=record.sha256,
        records=[body],
        organisation=runtime.settings.organisation,
    )
