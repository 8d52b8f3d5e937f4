"""The FastAPI application: one runtime, the route families, the error envelopes."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse

from notarium import __version__
from notarium.adapters.ratelimit.limiter import DisabledRateLimiter, RateLimiter
from notarium.app.runtime import Runtime
from notarium.app.workers.jobs import worker_loop
from notarium.http.allow import AllowTable
from notarium.http.cors import CorsMiddleware
from notarium.http.errors import install_error_handlers
from notarium.http.families import hash_certificates, hash_timestamps, l402, pdf_seal, web_capture
from notarium.http.family import Family
from notarium.http.middleware import RequestContextMiddleware
from notarium.http.openapi_security import with_security
from notarium.http.ops import admin, log, pki, tsa
from notarium.http.parameters import refuse_unstorable_parameters
from notarium.http.public import assist_page, pages, verify_pdf

PUBLIC = Family(
    "public",
    routers=(pages.router, verify_pdf.router, assist_page.router),
    large_bodies={verify_pdf.PATH: verify_pdf.MAX_UPLOAD},
)
OPS = Family("ops", routers=(tsa.router, admin.router, log.router, pki.router))

# Every route of the service, by family: the error handler answers each request in the
# family of the route it matched.
FAMILIES: tuple[Family, ...] = (
    hash_timestamps.FAMILY,
    hash_certificates.FAMILY,
    web_capture.FAMILY,
    l402.FAMILY,
    pdf_seal.FAMILY,
    PUBLIC,
    OPS,
)


def make_limiter(runtime: Runtime) -> RateLimiter:
    settings = runtime.settings
    if not settings.rate_limits_enabled:
        return DisabledRateLimiter()
    if settings.redis_url:
        return RateLimiter(settings.redis_url, key_prefix=settings.redis_prefix)
    return RateLimiter("memory://", key_prefix=f"notarium-{uuid.uuid4().hex}")


_ENVELOPE_400 = {
    "description": "Invalid input",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}},
}


def _with_error_envelopes(schema: dict[str, Any]) -> dict[str, Any]:
    """FastAPI documents request-validation failures as 422 ``HTTPValidationError``;
    notarium answers them as 400 in the family's error envelope, so say that instead.
    Webhooks are requests notarium sends: their receivers' answers are documented by hand."""
    for path_item in schema.get("webhooks", {}).values():
        for operation in path_item.values():
            operation.get("responses", {}).pop("422", None)
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.get("responses", {})
            if "HTTPValidationError" in json.dumps(responses.get("422", {})):
                del responses["422"]
                responses.setdefault("400", _ENVELOPE_400)
    components = schema.get("components", {}).get("schemas", {})
    if "HTTPValidationError" not in json.dumps(schema.get("paths", {})):
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
    return schema


def create_app(runtime: Runtime, *, owns_runtime: bool = False) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Embedded mode: batching, anchoring and the log run inside the server process.
        loop = worker_loop(runtime) if runtime.settings.embedded_workers else None
        if loop is not None:
            loop.start()
        yield
        if loop is not None:
            loop.stop()
        # The browser pool, when a capture started it.
        await runtime.webcaptures.close()
        if owns_runtime:
            runtime.close()

    app = FastAPI(
        title="notarium",
        version=__version__,
        summary="Self-hostable digital notary",
        lifespan=lifespan,
        openapi_url="/openapi.json",
        dependencies=[Depends(refuse_unstorable_parameters)],
    )
    app.state.runtime = runtime
    app.state.limiter = make_limiter(runtime)
    app.state.l402 = runtime.l402
    families = install_error_handlers(app, FAMILIES)
    if runtime.settings.cors_origins:
        # Added first, so it runs inside the request context: preflight answers get a
        # request id and the family's envelope.
        app.add_middleware(
            CorsMiddleware,
            origins=runtime.settings.cors_origins,
            max_age=runtime.settings.cors_max_age,
        )
    app.add_middleware(
        RequestContextMiddleware,
        max_body_bytes=runtime.settings.max_body_bytes,
        large_bodies=families.large_bodies(),
    )
    routers = tuple(router for family in FAMILIES for router in family.routers)
    for router in routers:
        app.include_router(router)
    for family in FAMILIES:
        for router in family.webhooks:
            app.webhooks.include_router(router)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_security(
                _with_error_envelopes(
                    get_openapi(
                        title=app.title,
                        version=app.version,
                        summary=app.summary,
                        routes=app.routes,
                        webhooks=app.webhooks.routes,
                    )
                ),
                [route for router in routers for route in router.routes],
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/healthz", tags=["meta"], summary="Liveness")
    def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok", "version": __version__})

    app.state.allow = AllowTable(
        [*app.router.routes, *(route for router in routers for route in router.routes)]
    )
    return app
