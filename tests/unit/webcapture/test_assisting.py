"""Live assisted-capture browsers by link: one per link, reattached, replaced, expired.

A fake engine and fake live browsers stand in for Chromium; they satisfy the same
ports as the real ones (checked below), which the integration tests drive for real.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from notarium.core.clock import FrozenClock
from notarium.formats.evidence.capture_result import CaptureResult
from notarium.products.web_capture.browser.errors import AssistedSessionClosed
from notarium.products.web_capture.browser.live_session import ScreencastFrame
from notarium.products.web_capture.browser.ports import AssistingCaptureEngine, LiveBrowser
from notarium.products.web_capture.live_sessions import AssistLink, LiveSessions

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class FakeBrowser:
    def __init__(self, url: str) -> None:
        self.id = uuid.uuid4().hex
        self.url = url
        self.expires_at = NOW + timedelta(minutes=10)
        self._closed = False
        self.frames: asyncio.Queue[ScreencastFrame] = asyncio.Queue()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def viewport(self) -> tuple[int, int]:
        return (1280, 800)

    async def next_frame(self, timeout: float | None = None) -> ScreencastFrame:
        return await self.frames.get()

    async def click(self, x: float, y: float) -> None: ...

    async def type(self, text: str) -> None: ...

    async def press(self, key: str) -> None: ...

    async def scroll(self, dx: float, dy: float) -> None: ...

    async def certify(self) -> CaptureResult:
        raise NotImplementedError

    async def close(self) -> None:
        self._closed = True


class FakeEngine:
    def __init__(self) -> None:
        self.opened: list[FakeBrowser] = []

    async def open_assisted(self, url: str) -> FakeBrowser:
        await asyncio.sleep(0.05)  # as long as a page load: long enough to race
        browser = FakeBrowser(url)
        self.opened.append(browser)
        return browser

    def assisted_session(self, session_id: str) -> FakeBrowser:
        for browser in self.opened:
            if browser.id == session_id and not browser.closed:
                return browser
        raise AssistedSessionClosed("no such session")

    async def capture(self, url: str) -> CaptureResult:
        raise NotImplementedError

    async def close(self) -> None:
        for browser in self.opened:
            await browser.close()


def frame(sequence: int) -> ScreencastFrame:
    return ScreencastFrame(b"\xff\xd8", sequence, 1280, 800, 1.0, 0, 0, 0, None)


def link(expires_in: float = 600) -> AssistLink:
    now = datetime.now(UTC)
    return AssistLink(
        url="https://example.test/",
        protection="cloudflare",
        created_at=now,
        expires_at=now + timedelta(seconds=expires_in),
    )


def test_the_fakes_satisfy_the_ports() -> None:
    # Annotated, so a type checker holds the fakes to the ports' signatures too.
    engine: AssistingCaptureEngine = FakeEngine()
    browser: LiveBrowser = FakeBrowser("https://example.test/")
    assert isinstance(engine, AssistingCaptureEngine)
    assert isinstance(browser, LiveBrowser)


async def test_two_windows_opening_one_link_at_once_share_one_browser() -> None:
    engine, live = FakeEngine(), LiveSessions(FrozenClock(datetime.now(UTC)))
    first, second = await asyncio.gather(
        live.attach("k", link(), engine), live.attach("k", link(), engine)
    )
    assert len(engine.opened) == 1
    assert first.browser is second.browser
    assert [first.reattached, second.reattached].count(True) == 1
    # The later of the two has the browser; the earlier is told.
    assert first.replaced.is_set() != second.replaced.is_set()
    live.clear()


async def test_a_reattached_viewer_sees_the_last_frame_again() -> None:
    engine, live = FakeEngine(), LiveSessions(FrozenClock(datetime.now(UTC)))
    viewer = await live.attach("k", link(), engine)
    engine.opened[0].frames.put_nowait(frame(1))
    assert (await viewer.next_frame()).sequence == 1
    live.detach(viewer)

    again = await live.attach("k", link(), engine)
    assert again.reattached and not viewer.replaced.is_set()
    assert (await again.next_frame()).sequence == 1
    engine.opened[0].frames.put_nowait(frame(2))
    assert (await again.next_frame()).sequence == 2
    live.clear()


async def test_a_browser_that_ended_is_replaced_by_a_new_one() -> None:
    engine, live = FakeEngine(), LiveSessions(FrozenClock(datetime.now(UTC)))
    viewer = await live.attach("k", link(), engine)
    await viewer.browser.close()
    fresh = await live.attach("k", link(), engine)
    assert not fresh.reattached and fresh.browser is not viewer.browser
    assert live.session_id("k") == fresh.browser.id
    live.clear()


async def test_the_browser_closes_when_its_link_expires() -> None:
    engine, live = FakeEngine(), LiveSessions(FrozenClock(datetime.now(UTC)))
    viewer = await live.attach("k", link(expires_in=0.2), engine)
    await asyncio.sleep(0.1)
    assert not viewer.browser.closed
    await asyncio.sleep(0.3)
    assert viewer.browser.closed
    assert live.session_id("k") is None


async def test_forgetting_a_used_link_stops_its_timer() -> None:
    engine, live = FakeEngine(), LiveSessions(FrozenClock(datetime.now(UTC)))
    viewer = await live.attach("k", link(expires_in=0.1), engine)
    live.forget("k")
    await asyncio.sleep(0.2)
    assert live.session_id("k") is None
    assert not viewer.browser.closed  # certifying closes it, not the timer
