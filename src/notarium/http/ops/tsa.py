"""RFC 3161 over HTTP (RFC 3161 §3.4): ``POST /tsa`` and the published chain."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from notarium.core.errors import ValidationError
from notarium.http.deps import runtime_of
from notarium.http.openapi_responses import error_responses

router = APIRouter(tags=["tsa"])


class UnsupportedMediaType(ValidationError):
    code = "UNSUPPORTED_MEDIA_TYPE"


@router.post(
    "/tsa",
    response_class=Response,
    responses={
        200: {"content": {"application/timestamp-reply": {}}, "description": "TimeStampResp"},
        **error_responses(400, 413, 500),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/timestamp-query": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
    summary="RFC 3161 time-stamp request",
)
async def timestamp_query(request: Request) -> Response:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/timestamp-query":
        raise UnsupportedMediaType(
            "Send a DER TimeStampReq with `Content-Type: application/timestamp-query`."
        )
    body = await request.body()
    reply = await run_in_threadpool(runtime_of(request).stamper.respond, body)
    return Response(reply, media_type="application/timestamp-reply")


@router.get(
    "/tsa/certchain",
    response_class=Response,
    responses={200: {"content": {"application/pem-certificate-chain": {}}}},
    summary="The TSA certificate and its CA, PEM",
)
def certchain(request: Request) -> Response:
    return Response(
        runtime_of(request).keystore.tsa_chain_pem(),
        media_type="application/pem-certificate-chain",
    )
