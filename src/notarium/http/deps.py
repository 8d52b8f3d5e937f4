"""Request-scoped dependencies: the runtime and its services (``Records``, ``Seal``...,
declared in a route's signature), the authenticated principal, rate limits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, TypeVar

from fastapi import Depends, Request

from notarium.adapters.ratelimit.client import client_address, trusted_networks
from notarium.adapters.ratelimit.limiter import Bucket, BucketState, RateLimiter
from notarium.app.runtime import Runtime
from notarium.app.settings import Settings
from notarium.core.errors import AuthenticationError, PermissionDeniedError
from notarium.ledger.accounts.scopes import ADMIN
from notarium.ledger.accounts.service import AccountService, Principal
from notarium.ledger.proofs import ProofService
from notarium.ledger.records.service import RecordService
from notarium.ledger.records.values import Owner
from notarium.ledger.transparency_log import TransparencyLog
from notarium.notify.webhooks.service import WebhookService
from notarium.products.certificate_pdf.service import CertificatePdfService
from notarium.products.l402.service import L402Service
from notarium.products.pdf_seal.service import SealService
from notarium.products.web_capture.service import WebCaptureService

GENERAL = Bucket("key-general", 120)
CREATE_PER_KEY = Bucket("key-create", 30)
CREATE_PER_IP = Bucket("ip-create", 60)


# The OpenAPI security requirement of each authenticating dependency, so the document
# states for every operation what its route really demands (see http/openapi_security).
Requirement = list[dict[str, list[str]]]
API_SECURITY: Requirement = [{"ApiKey": []}, {"Jwt": []}]
ADMIN_SECURITY: Requirement = [{"AdminKey": []}]
SECURITY_OF: dict[Callable[..., object], Requirement] = {}


class PlanNotEntitled(PermissionDeniedError):
    code = "PLAN_NOT_ENTITLED"


class InsufficientScope(PermissionDeniedError):
    code = "INSUFFICIENT_SCOPE"


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def limiter_of(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.limiter
    return limiter


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization")
    if not header:
        raise AuthenticationError(
            "No Bearer token was provided; send `Authorization: Bearer <api_key>`.",
            code="AUTHENTICATION_REQUIRED",
        )
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError(
            "The Authorization header must be `Bearer <api_key>`.",
            code="AUTHENTICATION_REQUIRED",
        )
    return token.strip()


def authenticate(request: Request) -> Principal:
    principal = runtime_of(request).accounts.authenticate(bearer_token(request))
    request.state.principal = principal
    return principal


def owner_of(principal: Principal) -> Owner:
    return Owner(account_id=principal.account_id, mode=principal.mode)


def record_rate(request: Request, state: BucketState) -> None:
    """Keep the tightest bucket seen for the response's X-RateLimit-* headers."""
    current: BucketState | None = getattr(request.state, "rate_limit", None)
    if current is None or state.remaining < current.remaining:
        request.state.rate_limit = state


def client_ip(request: Request) -> str:
    """The address per-IP limits count against; see ``notarium.adapters.ratelimit.client``."""
    peer = request.client.host if request.client else "unknown"
    proxies = runtime_of(request).settings.trusted_proxies
    if not proxies:
        return peer
    return client_address(
        peer, request.headers.getlist("x-forwarded-for"), trusted_networks(tuple(proxies))
    )


def api_principal(
    scope: str,
    *,
    per_key: Sequence[Bucket] = (GENERAL,),
    per_ip: Sequence[Bucket] = (),
) -> Callable[[Request], Principal]:
    """Authenticate, check entitlement and scope, and charge the rate-limit buckets: the
    per-IP ones first, so that unauthenticated floods are limited too."""

    def dependency(request: Request) -> Principal:
        limiter = limiter_of(request)
        for bucket in per_ip:
            record_rate(request, limiter.hit(bucket, client_ip(request)))
        principal = authenticate(request)
        if not principal.plan.api_access:
            raise PlanNotEntitled(
                f"The {principal.plan.name} plan has no API access; upgrade to Pro or Business."
            )
        for bucket in per_key:
            record_rate(request, limiter.hit(bucket, principal.key_id))
        if scope not in principal.scopes:
            raise InsufficientScope(f"This API key lacks the `{scope}` scope.")
        return principal

    SECURITY_OF[dependency] = API_SECURITY
    return dependency


def admin_principal(request: Request) -> Principal:
    principal = authenticate(request)
    if ADMIN not in principal.scopes:
        raise InsufficientScope("This route needs a key with the `admin` scope.")
    # The admin API issues live keys and changes live accounts: from a test key that
    # would be a way out of test mode.
    if principal.mode != "live":
        raise InsufficientScope("The admin API needs a live key; this is a test key.")
    return principal


SECURITY_OF[admin_principal] = ADMIN_SECURITY


Service = TypeVar("Service")


def provide(getter: Callable[[Runtime], Service]) -> Callable[[Request], Awaitable[Service]]:
    """A dependency handing a route one service of the runtime: declare the service in
    the route's signature (``records: Records``) instead of reaching into the runtime.
    Async, so it costs no thread hop."""

    async def dependency(request: Request) -> Service:
        return getter(runtime_of(request))

    return dependency


async def _l402(request: Request) -> L402Service:
    service: L402Service = request.app.state.l402
    return service


AppSettings = Annotated[Settings, Depends(provide(lambda runtime: runtime.settings))]
Accounts = Annotated[AccountService, Depends(provide(lambda runtime: runtime.accounts))]
Records = Annotated[RecordService, Depends(provide(lambda runtime: runtime.records))]
Proofs = Annotated[ProofService, Depends(provide(lambda runtime: runtime.proofs))]
TransparencyLogs = Annotated[TransparencyLog, Depends(provide(lambda runtime: runtime.translog))]
CertificatePdfs = Annotated[
    CertificatePdfService, Depends(provide(lambda runtime: runtime.certificate_pdfs))
]
Seal = Annotated[SealService, Depends(provide(lambda runtime: runtime.seal))]
WebCaptures = Annotated[WebCaptureService, Depends(provide(lambda runtime: runtime.webcaptures))]
Webhooks = Annotated[WebhookService, Depends(provide(lambda runtime: runtime.webhooks))]
L402 = Annotated[L402Service, Depends(_l402)]
