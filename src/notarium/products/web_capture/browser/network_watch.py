"""When has a page stopped loading things? Requests in flight, counted from the
context's own events.

Playwright's ``networkidle`` waits for 500 ms without any connection; this waits for
``QUIET`` seconds with no request in flight, which settles a page as surely (every
request the page makes is counted, from start to finish or failure) and sooner.
A page that always has something in flight (long polling, streaming) never goes quiet;
every wait is capped by its caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from playwright.async_api import BrowserContext, Request

QUIET = 0.3


class NetworkWatch:
    def __init__(self, context: BrowserContext) -> None:
        self._inflight: set[Request] = set()
        self._changed_at = time.monotonic()
        self._changed = asyncio.Event()
        context.on("request", self._started)
        context.on("requestfinished", self._ended)
        context.on("requestfailed", self._ended)

    @property
    def inflight(self) -> int:
        return len(self._inflight)

    async def quiet(self, timeout: float, *, period: float = QUIET) -> bool:
        """Waits until nothing was in flight for ``period`` seconds; ``False`` if that did
        not happen within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            if not self._inflight and now - self._changed_at >= period:
                return True
            if now >= deadline:
                return False
            wait = deadline - now
            if not self._inflight:
                wait = min(wait, period - (now - self._changed_at))
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), max(0.01, wait))

    def _started(self, request: Request) -> None:
        self._inflight.add(request)
        self._touch()

    def _ended(self, request: Request) -> None:
        self._inflight.discard(request)
        self._touch()

    def _touch(self) -> None:
        self._changed_at = time.monotonic()
        self._changed.set()
