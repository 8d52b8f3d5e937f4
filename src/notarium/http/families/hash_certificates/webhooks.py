"""Webhook endpoints (``/v1/webhooks``), as the certificates document describes them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from notarium.adapters.ratelimit.limiter import Bucket
from notarium.formats.webhook_signature import ASYMMETRIC_VERSION
from notarium.http.deps import api_principal, runtime_of
from notarium.http.families.hash_certificates import present
from notarium.http.families.hash_certificates.routes import ERROR_RESPONSES
from notarium.http.families.hash_certificates.schemas import InvalidField
from notarium.http.formats import parse_json_object
from notarium.ledger.accounts.scopes import WEBHOOKS_READ, WEBHOOKS_WRITE
from notarium.ledger.accounts.service import Principal
from notarium.notify.webhooks.service import InvalidWebhook

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

BUCKET = Bucket("v1-webhooks", 60)


Reader = Annotated[Principal, Depends(api_principal(WEBHOOKS_READ, per_key=(BUCKET,)))]
Writer = Annotated[Principal, Depends(api_principal(WEBHOOKS_WRITE, per_key=(BUCKET,)))]


async def _json(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != (
        "application/json"
    ):
        raise InvalidField("Send JSON with `Content-Type: application/json`.", code="INVALID_JSON")
    return parse_json_object(await request.body())


JSON_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


@router.post(
    "",
    status_code=201,
    responses=ERROR_RESPONSES,
    openapi_extra=JSON_BODY,
    summary="Register an endpoint; its whsec_ secret is shown once",
)
async def create(request: Request, principal: Writer) -> JSONResponse:
    payload = await _json(request)
    # The key decides the mode. `mode` in the body (the document's example sends it) may
    # only repeat it: a test key must not create a live endpoint, nor the reverse.
    stated = payload.get("mode", principal.mode)
    if stated != principal.mode:
        raise InvalidWebhook(
            f"`mode` is {stated!r} but this is a {principal.mode} key: endpoints take the "
            f"mode of the key that creates them; use a {stated} key, or omit `mode`."
            if stated in ("live", "test")
            else "`mode` must be `live` or `test`, the mode of the key used."
        )
    view, secret = runtime_of(request).webhooks.create(
        principal.account_id,
        url=payload.get("url"),
        events=payload.get("events"),
        mode=principal.mode,
    )
    return JSONResponse({**present.endpoint(view), "secret": secret}, status_code=201)


@router.get("", responses=ERROR_RESPONSES, summary="List the endpoints of this key's mode")
def list_endpoints(request: Request, principal: Reader) -> JSONResponse:
    views = runtime_of(request).webhooks.list_endpoints(principal.account_id, principal.mode)
    return JSONResponse({"data": [present.endpoint(v) for v in views]})


@router.get(
    "/signing-key",
    responses={200: {"description": "The public key of the `v1a` signatures"}},
    summary="Public: the Ed25519 key that checks every delivery's v1a signature",
)
def signing_key(request: Request) -> JSONResponse:
    public_key = runtime_of(request).webhooks.public_key()
    return JSONResponse(
        {
            "scheme": ASYMMETRIC_VERSION,
            "algorithm": "Ed25519",
            "publicKey": public_key,
            "signedContent": "{webhook-id}.{webhook-timestamp}.{raw body}",
        }
    )


@router.get("/{webhook_id}", responses=ERROR_RESPONSES, summary="Fetch an endpoint")
def get(request: Request, principal: Reader, webhook_id: str) -> JSONResponse:
    return JSONResponse(
        present.endpoint(
            runtime_of(request).webhooks.get(principal.account_id, principal.mode, webhook_id)
        )
    )


@router.patch(
    "/{webhook_id}",
    responses=ERROR_RESPONSES,
    openapi_extra=JSON_BODY,
    summary="Change active, url or events",
)
async def update(request: Request, principal: Writer, webhook_id: str) -> JSONResponse:
    payload = await _json(request)
    view = runtime_of(request).webhooks.update(
        principal.account_id,
        principal.mode,
        webhook_id,
        active=payload.get("active"),
        url=payload.get("url"),
        events=payload.get("events"),
    )
    return JSONResponse(present.endpoint(view))


@router.delete(
    "/{webhook_id}",
    status_code=204,
    response_class=Response,
    responses=ERROR_RESPONSES,
    summary="Delete an endpoint",
)
def delete(request: Request, principal: Writer, webhook_id: str) -> Response:
    runtime_of(request).webhooks.delete(principal.account_id, principal.mode, webhook_id)
    return Response(status_code=204)


@router.post(
    "/{webhook_id}/rotate-secret",
    responses=ERROR_RESPONSES,
    summary="New secret; the old one stays valid, and signed with, for 24 hours",
)
def rotate(request: Request, principal: Writer, webhook_id: str) -> JSONResponse:
    view, secret = runtime_of(request).webhooks.rotate_secret(
        principal.account_id, principal.mode, webhook_id
    )
    return JSONResponse({**present.endpoint(view), "secret": secret})


@router.get(
    "/{webhook_id}/deliveries",
    responses=ERROR_RESPONSES,
    summary="Recent deliveries with every attempt",
)
def deliveries(request: Request, principal: Reader, webhook_id: str) -> JSONResponse:
    views = runtime_of(request).webhooks.deliveries(
        principal.account_id, principal.mode, webhook_id
    )
    return JSONResponse({"data": [present.delivery(v) for v in views]})


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=202,
    responses=ERROR_RESPONSES,
    summary="Send a delivery again",
)
def redeliver(
    request: Request, principal: Writer, webhook_id: str, delivery_id: int
) -> JSONResponse:
    runtime_of(request).webhooks.redeliver(
        principal.account_id, principal.mode, webhook_id, delivery_id
    )
    return JSONResponse({"queued": True}, status_code=202)
