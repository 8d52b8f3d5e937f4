"""``Idempotency-Key`` as a dependency any create route can declare.

Around the route it claims the key (or replays the stored answer, with
``Idempotent-Replayed: true``), and when the route raises it stores the error as the
family's envelope renders it (a 4xx: the same request would fail the same way) or
releases the key (a 5xx or anything unexpected: a retry may succeed). The route
stores its success itself with ``IdempotencyScope.complete_in`` inside the transaction
that does the work, so a process that dies after that commit leaves a replayable
answer, never work a retry would repeat. Usage::

    Creator = api_principal(TIMESTAMPS_WRITE, ...)
    Key = Annotated[IdempotencyScope, idempotent("timestamps.create", Creator)]

    async def create(principal: Annotated[Principal, Depends(Creator)], key: Key): ...

The principal dependency is the route's own (FastAPI calls it once per request), so
the key is claimed only after authentication and rate limits passed. Keys are scoped
per account, per operation and per key mode (test/live)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from notarium.core.errors import NotariumError
from notarium.http.deps import runtime_of
from notarium.http.errors import Answered, answer
from notarium.ledger.accounts.service import Principal
from notarium.ledger.idempotency.service import (
    Claim,
    IdempotencyService,
    StoredResponse,
    check_key,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

HEADER = "idempotency-key"


@dataclass
class IdempotencyScope:
    """The route's view of its key; without an ``Idempotency-Key`` header, ``claim`` is
    None and ``complete_in`` does nothing."""

    claim: Claim | None = None
    service: IdempotencyService | None = None
    completed: bool = False

    def complete_in(self, session: Session, status: int, body: bytes) -> None:
        """Store the route's answer in the caller's transaction (see the module)."""
        if self.claim is None or self.service is None:
            return
        self.service.complete_in(session, self.claim, status, body)
        self.completed = True


def idempotent(operation: str, principal: Callable[..., Principal]) -> Any:
    """The ``Depends`` marker for an idempotent ``operation`` whose caller
    ``principal`` (the route's own authenticating dependency) identifies."""

    # A default, not an `Annotated` hint: hints are strings here, resolved in the
    # module's namespace, where the closure's `principal` is not.
    async def dependency(
        request: Request,
        who: Principal = Depends(principal),  # noqa: B008
    ) -> AsyncIterator[IdempotencyScope]:
        key = request.headers.get(HEADER)
        if key is None:
            yield IdempotencyScope()
            return
        body = await request.body()
        check_key(key)
        service = runtime_of(request).idempotency
        digest = hashlib.sha256(body).hexdigest()
        outcome = await run_in_threadpool(
            service.claim, who.account_id, f"{operation}:{who.mode}", key, digest
        )
        if isinstance(outcome, StoredResponse):
            raise Answered(
                Response(
                    outcome.body,
                    status_code=outcome.status,
                    media_type="application/json",
                    headers={"Idempotent-Replayed": "true"},
                )
            )
        scope = IdempotencyScope(outcome, service)
        try:
            yield scope
        except NotariumError as error:
            if not scope.completed:
                await _settle(request, service, outcome, error)
            raise
        except BaseException:
            await run_in_threadpool(service.release, outcome)
            raise
        if not scope.completed:
            await run_in_threadpool(service.release, outcome)

    # "function": the code after `yield` runs when the route returns or raises, before
    # the error handler answers, so a stored error is there for the next retry.
    return Depends(dependency, scope="function")


async def _settle(
    request: Request, service: IdempotencyService, claim: Claim, error: NotariumError
) -> None:
    rendered = answer(request, error)
    if rendered.status_code >= 500:
        await run_in_threadpool(service.release, claim)
    else:
        await run_in_threadpool(service.complete, claim, rendered.status_code, bytes(rendered.body))
