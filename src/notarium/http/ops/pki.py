"""Revocation information for the seal certificate, at the URLs it names."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from notarium.http.deps import runtime_of
from notarium.http.openapi_responses import error_responses
from notarium.products.pdf_seal.material import load_ca
from notarium.products.pdf_seal.revocation import build_ocsp_response

router = APIRouter(prefix="/pki", tags=["pki"], responses=error_responses(404, 500))

OCSP: dict[int | str, dict[str, Any]] = {200: {"content": {"application/ocsp-response": {}}}}


@router.get(
    "/crl",
    response_class=Response,
    responses={200: {"content": {"application/pkix-crl": {}}}},
    summary="The CA's current CRL (DER)",
)
def crl(request: Request) -> Response:
    return Response(runtime_of(request).seal.crl(), media_type="application/pkix-crl")


def _ocsp(request: Request, body: bytes) -> Response:
    runtime = runtime_of(request)
    answer = build_ocsp_response(body, load_ca(runtime.settings.keys_dir), now=runtime.clock.now())
    return Response(answer, media_type="application/ocsp-response")


@router.post(
    "/ocsp",
    response_class=Response,
    responses=OCSP,
    summary="OCSP (RFC 6960)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/ocsp-request": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def ocsp_post(request: Request) -> Response:
    return _ocsp(request, await request.body())


@router.get(
    "/ocsp/{encoded:path}",
    response_class=Response,
    responses=OCSP,
    summary="OCSP by GET (RFC 6960 A.1)",
)
def ocsp_get(request: Request, encoded: str) -> Response:
    try:
        body = base64.b64decode(encoded, validate=False)
    except (binascii.Error, ValueError):
        body = b""
    return _ocsp(request, body)
