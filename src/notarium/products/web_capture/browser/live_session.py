"""Assisted capture: a live browser a person drives to clear a challenge, then certifies.

The session keeps its browser context (and so its browser slot) until it is certified,
closed, or expires. The person sees the page through a screencast (Chromium's
``Page.startScreencast``: JPEG frames, each acknowledged before the next is sent, so a
slow viewer throttles the stream instead of queueing it) and acts on it with clicks,
typing, key presses and scrolling, in CSS pixels of the viewport. ``certify`` carries on
from exactly that browser state: the HAR holds everything since the session opened,
the challenge included, and the result says ``assisted=True``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.async_api import Error as PlaywrightError

from notarium.formats.evidence.capture_result import CaptureResult
from notarium.products.web_capture.browser.errors import (
    AssistedSessionClosed,
    BotProtectionBlocked,
    InvalidAssistedInput,
)
from notarium.products.web_capture.browser.recording import Budget, Recording

log = logging.getLogger(__name__)

MAX_TEXT = 2000
MAX_SCROLL = 20_000
SCREENCAST_QUALITY = 70


@dataclass(frozen=True)
class ScreencastFrame:
    """One JPEG frame of the live page and where it sits on the page."""

    jpeg: bytes
    sequence: int
    width: float  # CSS pixels of the viewport the frame shows
    height: float
    page_scale_factor: float
    offset_top: float
    scroll_x: float
    scroll_y: float
    timestamp: float | None  # seconds since the epoch, as Chromium stamped it


class AssistedSession:
    """Built by :meth:`PlaywrightCaptureEngine.open_assisted`; not constructed directly."""

    def __init__(
        self,
        recording: Recording,
        *,
        ttl: float,
        on_close: Callable[[AssistedSession], None],
    ) -> None:
        self.id = uuid.uuid4().hex
        self.url = recording.requested_url
        self.opened = datetime.now(UTC)
        self.expires_at = self.opened + timedelta(seconds=ttl)
        self._recording = recording
        self._on_close = on_close
        self._lock = asyncio.Lock()
        self._frame: ScreencastFrame | None = None
        self._frame_ack: int | None = None
        self._delivered = 0
        self._sequence = 0
        self._changed = asyncio.Event()
        self._closed = False
        self._closing: asyncio.Task[None] | None = None
        self._expiry = asyncio.get_running_loop().call_later(ttl, self._expire)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def current_url(self) -> str:
        """Where the live page is now (it moves as the person clears the challenge)."""
        if self._closed:
            raise AssistedSessionClosed("the assisted-capture session is over")
        return self._recording.page.url

    @property
    def viewport(self) -> tuple[int, int]:
        return self._recording.options.viewport

    async def start_screencast(self) -> None:
        cdp = self._recording.cdp
        cdp.on("Page.screencastFrame", self._on_frame)
        width, height = self.viewport
        await cdp.send(
            "Page.startScreencast",
            {
                "format": "jpeg",
                "quality": SCREENCAST_QUALITY,
                "maxWidth": width,
                "maxHeight": height,
                "everyNthFrame": 1,
            },
        )

    # -- the screencast -------------------------------------------------------------

    async def next_frame(self, timeout: float | None = None) -> ScreencastFrame:
        """The newest frame the viewer has not had yet, waiting for one if need be.

        Raises :class:`AssistedSessionClosed` once the session is over, and
        ``TimeoutError`` when ``timeout`` seconds pass without a new frame (a still page
        sends none).
        """
        async with asyncio.timeout(timeout):
            while True:
                if self._closed:
                    raise AssistedSessionClosed("the assisted-capture session is over")
                frame = self._frame
                if frame is not None and frame.sequence > self._delivered:
                    break
                self._changed.clear()
                await self._changed.wait()
        self._delivered = frame.sequence
        await self._ack()
        return frame

    async def frames(self) -> AsyncIterator[ScreencastFrame]:
        """Frames as they come, until the session ends."""
        while True:
            try:
                yield await self.next_frame()
            except AssistedSessionClosed:
                return

    def _on_frame(self, params: dict[str, Any]) -> None:
        metadata = params.get("metadata", {})
        self._sequence += 1
        self._frame_ack = int(params["sessionId"])
        self._frame = ScreencastFrame(
            jpeg=base64.b64decode(params["data"]),
            sequence=self._sequence,
            width=float(metadata.get("deviceWidth", 0)),
            height=float(metadata.get("deviceHeight", 0)),
            page_scale_factor=float(metadata.get("pageScaleFactor", 1)),
            offset_top=float(metadata.get("offsetTop", 0)),
            scroll_x=float(metadata.get("scrollOffsetX", 0)),
            scroll_y=float(metadata.get("scrollOffsetY", 0)),
            timestamp=float(metadata["timestamp"]) if "timestamp" in metadata else None,
        )
        self._changed.set()

    async def _ack(self) -> None:
        ack, self._frame_ack = self._frame_ack, None
        if ack is None or self._closed:
            return
        with contextlib.suppress(PlaywrightError):
            await self._recording.cdp.send("Page.screencastFrameAck", {"sessionId": ack})

    # -- input ----------------------------------------------------------------------

    async def click(self, x: float, y: float) -> None:
        self._within_viewport(x, y)
        async with self._acting():
            await self._recording.page.mouse.click(x, y)

    async def type(self, text: str) -> None:
        if not text or len(text) > MAX_TEXT:
            raise InvalidAssistedInput(f"text to type must be 1 to {MAX_TEXT} characters")
        async with self._acting():
            await self._recording.page.keyboard.type(text)

    async def press(self, key: str) -> None:
        """A key by its name as Playwright knows it: "Enter", "Tab", "ArrowDown", "a"..."""
        if not key or len(key) > 40:
            raise InvalidAssistedInput("a key name is 1 to 40 characters")
        async with self._acting():
            try:
                await self._recording.page.keyboard.press(key)
            except PlaywrightError as exc:
                if "Unknown key" in exc.message:
                    raise InvalidAssistedInput(f"unknown key {key!r}") from exc
                raise

    async def scroll(self, dx: float, dy: float) -> None:
        if abs(dx) > MAX_SCROLL or abs(dy) > MAX_SCROLL:
            raise InvalidAssistedInput(f"scroll by at most {MAX_SCROLL} pixels at a time")
        width, height = self.viewport
        async with self._acting():
            mouse = self._recording.page.mouse
            await mouse.move(width / 2, height / 2)
            await mouse.wheel(dx, dy)

    # -- the end ----------------------------------------------------------------------

    async def certify(self) -> CaptureResult:
        """The capture, from the page as it now stands. A page that still is a challenge
        raises :class:`BotProtectionBlocked` and the session stays open for another go."""
        async with self._acting():
            budget = Budget(self._recording.options.timeout)
            kind = await self._recording.challenge(budget)
            if kind is not None:
                raise BotProtectionBlocked(f"the page still shows a {kind} challenge", kind=kind)
            self._recording.page_loaded = True
            try:
                return await self._recording.finish(budget, assisted=True)
            finally:
                await self._end()

    async def close(self) -> None:
        async with self._lock:
            await self._end()

    def _expire(self) -> None:
        if not self._closed:
            log.info("assisted-capture session %s expired", self.id)
            # Held on the session: the loop keeps only a weak reference to its tasks.
            self._closing = asyncio.get_running_loop().create_task(self.close())

    async def _end(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._expiry.cancel()
        self._changed.set()
        try:
            with contextlib.suppress(PlaywrightError):
                await self._recording.cdp.send("Page.stopScreencast")
            await self._recording.discard()
        finally:
            self._on_close(self)

    @contextlib.asynccontextmanager
    async def _acting(self) -> AsyncIterator[None]:
        async with self._lock:
            if self._closed:
                raise AssistedSessionClosed("the assisted-capture session is over")
            yield

    def _within_viewport(self, x: float, y: float) -> None:
        width, height = self.viewport
        if not (0 <= x < width and 0 <= y < height):
            raise InvalidAssistedInput(f"({x}, {y}) is outside the {width}x{height} viewport")
