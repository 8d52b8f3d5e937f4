"""The PDF seal API (``POST /api/v1/seal``), as the seal document describes it: one PDF
in multipart/form-data, the sealed PDF back."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from notarium.adapters.ratelimit.limiter import Bucket
from notarium.http.deps import api_principal, owner_of, runtime_of
from notarium.http.disposition import attachment
from notarium.http.multipart import InvalidUpload, single_file_form
from notarium.http.openapi_responses import error_responses
from notarium.ledger.accounts.scopes import SEAL
from notarium.ledger.accounts.service import Principal

if TYPE_CHECKING:
    from notarium.products.pdf_seal.sealer import VisibleStamp

router = APIRouter(prefix="/api/v1", tags=["seal"])

PATH = "/api/v1/seal"

MAX_PDF = 10 * 1024 * 1024
MAX_UPLOAD = MAX_PDF + 64 * 1024  # the PDF plus multipart framing and the small fields
SEALS = Bucket("seal", 30)
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")

Sealer = Annotated[Principal, Depends(api_principal(SEAL, per_key=(SEALS,)))]


def _filename(name: str | None) -> str:
    cleaned = _UNSAFE.sub("_", (name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip(" ._")
    return cleaned[:150] or "sealed.pdf"


RECT_DEFAULTS = (("x1", 36), ("y1", 36), ("x2", 276), ("y2", 116))
# Where the visible stamp goes; read only with `visible`.
STAMP_FIELDS: dict[str, dict[str, Any]] = {
    "page": {
        "type": "integer",
        "default": 0,
        "description": "0-based page of the visible stamp; negative counts from the end.",
    },
    **{
        name: {"type": "integer", "default": default, "description": f"Stamp {name}, points."}
        for name, default in RECT_DEFAULTS
    },
}


def _visible(form: Any) -> VisibleStamp | None:
    if str(form.get("visible", "")).lower() not in ("true", "1", "yes"):
        return None
    try:
        page = int(form.get("page", 0))
        rect = tuple(int(form.get(k, d)) for k, d in RECT_DEFAULTS)
    except (TypeError, ValueError):
        raise InvalidUpload("`page`, `x1`, `y1`, `x2`, `y2` must be integers.") from None
    from notarium.products.pdf_seal.sealer import VisibleStamp

    return VisibleStamp(page=page, rect=cast(tuple[int, int, int, int], rect))


@router.post(
    "/seal",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "The sealed PDF"},
        **error_responses(400, 401, 403, 413, 415, 429, 500),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "reason": {"type": "string", "maxLength": 500},
                            "level": {
                                "type": "string",
                                "enum": ["B-T", "B-LT", "B-LTA"],
                                "default": "B-T",
                            },
                            "visible": {
                                "type": "boolean",
                                "default": False,
                                "description": "Draw a visible stamp (also `1`, `yes`).",
                            },
                            **STAMP_FIELDS,
                        },
                    }
                }
            },
        }
    },
    summary="Seal a PDF (PAdES, time-stamped by the service's TSA)",
)
async def seal(request: Request, principal: Sealer) -> Response:
    async with single_file_form(request, max_fields=16) as (form, upload):
        reason = form.get("reason")
        if reason is not None and (not isinstance(reason, str) or len(reason) > 500):
            raise InvalidUpload("`reason` must be text of at most 500 characters.")
        level = str(form.get("level", "B-T"))
        if level not in ("B-T", "B-LT", "B-LTA"):
            raise InvalidUpload("`level` must be B-T, B-LT or B-LTA.")
        runtime = runtime_of(request)
        sealed = await runtime.seal.seal(
            owner_of(principal),
            principal.plan,
            upload.file,
            filename=_filename(upload.filename),
            reason=reason.strip('"') if isinstance(reason, str) else None,
            level=cast(Literal["B-T", "B-LT", "B-LTA"], level),
            visible=_visible(form),
        )
    # The uploaded name as the client sent it, minus any directories.
    name = re.split(r"[/\\]", upload.filename or "")[-1]
    return Response(
        sealed.pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": attachment(name, fallback="sealed.pdf", token_form=True),
            "X-Notarium-Record-Id": sealed.record.id,
            "X-Notarium-Certificate-Id": sealed.record.certificate_id,
        },
    )
