"""The capture engine: a URL in, a :class:`CaptureResult` out, through the browser pool.

Order of refusals, cheapest first: a URL that is not absolute http(s) or not https
without an allowlist entry for its host, and a host the egress policy refuses (judged
after DNS resolution) are :class:`InvalidCaptureUrl` before any browser is involved; a
host that does not resolve is :class:`CaptureFailed`. Inside the browser, a main
document the policy refuses after a redirect (or a rebinding DNS answer) is
:class:`InvalidCaptureUrl` too; subresources the policy refuses are left out and listed
in ``blocked_requests``. A page that turns out to be a bot-protection challenge is
:class:`BotProtectionBlocked`; pages with HTTP error statuses (403, 404, 500 without a
challenge) are captured as they are, their status in ``final_status``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from playwright.async_api import Error as PlaywrightError

from notarium.adapters.egress.policy import Destination, EgressPolicy
from notarium.formats.evidence.capture_result import CaptureResult
from notarium.products.web_capture.browser.admission import admit_url
from notarium.products.web_capture.browser.browser_pool import BrowserPool, Slot
from notarium.products.web_capture.browser.errors import (
    AssistedSessionClosed,
    BotProtectionBlocked,
    CaptureError,
    CaptureFailed,
)
from notarium.products.web_capture.browser.live_session import AssistedSession
from notarium.products.web_capture.browser.options import CaptureOptions
from notarium.products.web_capture.browser.recording import Budget, Recording

log = logging.getLogger(__name__)

# Past the budget itself: time for a context to close and hand over its HAR.
HARD_STOP_GRACE = 15.0


class PlaywrightCaptureEngine:
    """Captures pages with Chromium through a :class:`BrowserPool`.

    Several engines may share one pool (each with its own options and policy); an engine
    closes the pool on :meth:`close` only if it was given ``owns_pool=True``.
    """

    def __init__(
        self,
        pool: BrowserPool,
        policy: EgressPolicy,
        options: CaptureOptions | None = None,
        *,
        owns_pool: bool = False,
    ) -> None:
        self.pool = pool
        self.policy = policy
        self.options = options or CaptureOptions()
        self._owns_pool = owns_pool
        self._sessions: dict[str, AssistedSession] = {}
        # One opened, unused context per slot, so a capture starts without waiting for
        # Chromium to create a context and a page (a few hundred milliseconds).
        self._warm: dict[int, Recording] = {}
        self._preparing: set[asyncio.Task[None]] = set()
        self._closed = False

    async def start(self) -> None:
        """Launches the pool's browsers and readies a context in each, now rather than on
        the first capture."""
        await self.pool.start()
        for slot in self.pool.all_slots:
            self._prepare_later(slot)

    async def capture(self, url: str) -> CaptureResult:
        await self.admit(url)
        async with self.pool.slot() as slot:
            recording = await self._take_recording(slot)
            recording.begin(url)
            budget = Budget(self.options.timeout)
            try:
                async with asyncio.timeout(self.options.timeout + HARD_STOP_GRACE):
                    await recording.open()
                    await recording.navigate(url, budget)
                    await recording.settle(budget)
                    kind = await recording.challenge(budget, wait=self.options.challenge_wait)
                    if kind is not None:
                        raise BotProtectionBlocked(
                            f"{url} answered with a bot-protection challenge ({kind})", kind=kind
                        )
                    return await recording.finish(budget)
            except TimeoutError:
                raise CaptureFailed(
                    f"capturing {url} took longer than {self.options.timeout:g} seconds"
                ) from None
            except PlaywrightError as exc:
                raise CaptureFailed(
                    f"the browser failed while capturing {url}: {exc.message}"
                ) from exc
            finally:
                await recording.discard()
                self._prepare_later(slot)

    async def open_assisted(self, url: str) -> AssistedSession:
        """A live browser on ``url`` for a person to clear a challenge in.

        It holds a browser slot until certified, closed, or ``assisted_ttl`` runs out.
        """
        await self.admit(url)
        slot = await self.pool.acquire()
        recording = await self._take_recording(slot)
        recording.begin(url)
        budget = Budget(self.options.timeout)
        try:
            async with asyncio.timeout(self.options.timeout + HARD_STOP_GRACE):
                await recording.open()
                await recording.navigate(url, budget)
                await recording.settle(budget)
            session = AssistedSession(
                recording, ttl=self.options.assisted_ttl, on_close=self._forget(slot)
            )
            await session.start_screencast()
        except BaseException as exc:
            await recording.discard()
            self.pool.release(slot)
            self._prepare_later(slot)
            if isinstance(exc, TimeoutError):
                raise CaptureFailed(f"{url} did not open in time") from None
            if isinstance(exc, PlaywrightError):
                raise CaptureFailed(
                    f"the browser failed while opening {url}: {exc.message}"
                ) from exc
            raise
        self._sessions[session.id] = session
        return session

    def assisted_session(self, session_id: str) -> AssistedSession:
        session = self._sessions.get(session_id)
        if session is None or session.closed:
            raise AssistedSessionClosed("no such assisted-capture session, or it is over")
        return session

    async def close(self) -> None:
        self._closed = True
        for session in list(self._sessions.values()):
            with contextlib.suppress(CaptureError, PlaywrightError):
                await session.close()
        for task in list(self._preparing):
            task.cancel()
        await asyncio.gather(*self._preparing, return_exceptions=True)
        for recording in list(self._warm.values()):
            await recording.discard()
        self._warm.clear()
        if self._owns_pool:
            await self.pool.close()

    def _forget(self, slot: Slot) -> Callable[[AssistedSession], None]:
        def forget(session: AssistedSession) -> None:
            self._sessions.pop(session.id, None)
            self.pool.release(slot)
            self._prepare_later(slot)

        return forget

    # -- warm contexts --------------------------------------------------------------

    async def _take_recording(self, slot: Slot) -> Recording:
        warm = self._warm.pop(slot.index, None)
        if warm is not None:
            if warm.browser is slot.browser and warm.usable:
                return warm
            await warm.discard()
        return Recording(slot.live_browser, self.policy, self.options)

    def _prepare_later(self, slot: Slot) -> None:
        if self._closed or slot.browser is None or slot.index in self._warm:
            return
        task = asyncio.get_running_loop().create_task(self._prepare(slot))
        self._preparing.add(task)
        task.add_done_callback(self._preparing.discard)

    async def _prepare(self, slot: Slot) -> None:
        browser = slot.browser
        if browser is None or not browser.is_connected():
            return
        recording = Recording(browser, self.policy, self.options)
        try:
            await asyncio.wait_for(recording.open(), 30)
        except (TimeoutError, PlaywrightError, CaptureError) as exc:
            log.info("could not ready a context for slot %d: %s", slot.index, exc)
            await recording.discard()
            return
        except asyncio.CancelledError:
            await recording.discard()
            raise
        if self._closed or slot.index in self._warm or slot.browser is not browser:
            await recording.discard()
            return
        self._warm[slot.index] = recording

    # -- admission ------------------------------------------------------------------

    async def admit(self, url: str) -> Destination:
        """Checks ``url`` before any browser sees it; the vetted destination on success."""
        return await asyncio.to_thread(admit_url, self.policy, url)
