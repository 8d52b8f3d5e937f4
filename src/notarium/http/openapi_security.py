"""The OpenAPI document's security: every family's scheme, and on every operation the
requirement its route enforces, read from the route's own authenticating dependency
(so a route cannot be documented as public while demanding a key, or the reverse)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from notarium.http.deps import SECURITY_OF, Requirement

SCHEMES: dict[str, dict[str, Any]] = {
    "ApiKey": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "API key",
        "description": "`Authorization: Bearer <key>`: a notarium API key (`ntk_live_…`, "
        "`ntk_test_…`, or issued under a document's prefix: `proofd_live_…`, `prv_live_…`, "
        "`prv_test_…`, `ip_live_…`). The key's mode (live or test) decides whose data it "
        "sees; its scopes decide which routes it may call.",
    },
    "Jwt": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "`Authorization: Bearer <JWT>`, as the PDF seal document describes: "
        "HS256, signed with a credentials secret, `kid` in the header naming the key id, "
        "`iat`, `nbf` and `exp` in the payload. Accepted by every route an API key is.",
    },
    "L402": {
        "type": "http",
        "scheme": "L402",
        "description": "`Authorization: L402 <macaroon>:<preimage>`: a request without it "
        "that costs something is answered 402 with `WWW-Authenticate: L402 "
        'version="0", token="<macaroon>", invoice="<bolt11>"`; pay the invoice and repeat '
        "the request with the macaroon and the payment's preimage. No account is needed.",
    },
    "AdminKey": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "API key",
        "description": "`Authorization: Bearer <key>` with the `admin` scope (printed once "
        "by `notarium init` or the first `notarium serve`).",
    },
}

# Routes that authenticate without a dependency: the L402 endpoint reads its own header,
# and answers its free actions (status, verification) without any.
MANUAL: dict[tuple[str, str], Requirement] = {
    ("/api/l402", "post"): [{"L402": []}, {}],
}


def _requirement(dependant: Dependant) -> Requirement | None:
    for sub in dependant.dependencies:
        if sub.call is not None and sub.call in SECURITY_OF:
            return SECURITY_OF[sub.call]
        found = _requirement(sub)
        if found is not None:
            return found
    return None


def with_security(schema: dict[str, Any], routes: Iterable[BaseRoute]) -> dict[str, Any]:
    """Declare the schemes and give every operation its ``security`` (``[]`` for the
    public ones, so nothing is left to a document-wide default)."""
    schema.setdefault("components", {})["securitySchemes"] = SCHEMES
    enforced: dict[tuple[str, str], Requirement] = dict(MANUAL)
    for route in routes:
        if isinstance(route, APIRoute):
            requirement = _requirement(route.dependant)
            if requirement is not None:
                for method in route.methods or ():
                    enforced[(route.path_format, method.lower())] = requirement
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if isinstance(operation, dict):
                operation["security"] = enforced.get((path, method), [])
    return schema
