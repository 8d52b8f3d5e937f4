"""Assisted captures in progress: which live browser belongs to which link.

An assisted-capture link is a capability: whoever holds its token may drive the browser
and certify the page into the account that got the link, once, before it expires. The
live browser exists in this process only, one per link. A viewer that reconnects gets
the same browser back (with the last frame it may have missed); a newer viewer replaces
an older one, which is told so. When the link expires its browser is closed, whether
anyone is watching or not, so its slot always comes back.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from notarium.core.clock import Clock
from notarium.core.errors import NotariumError
from notarium.products.web_capture.browser.errors import AssistedSessionClosed
from notarium.products.web_capture.browser.ports import AssistingCaptureEngine, LiveBrowser
from notarium.products.web_capture.values import GrantUnusable

if TYPE_CHECKING:
    from notarium.products.web_capture.browser.live_session import ScreencastFrame

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AssistLink:
    """What an assisted-capture link is for, as the person holding it may see it."""

    url: str
    protection: str
    created_at: datetime
    expires_at: datetime


class AssistLinkUnknown(GrantUnusable):
    code = "assist_link_unknown"


class AssistLinkUsed(GrantUnusable):
    code = "assist_link_used"


class AssistLinkExpired(GrantUnusable):
    code = "assist_link_expired"


class AssistLinkRevoked(GrantUnusable):
    """The key that asked for the capture, or its account, is gone."""

    code = "assist_link_revoked"


class AssistUnavailable(NotariumError):
    """The configured capture engine has no live browsers to offer."""

    code = "assist_unavailable"


class Viewer:
    """One connection watching and driving the live browser of a link."""

    def __init__(
        self, link: AssistLink, browser: LiveBrowser, live: _Live, *, reattached: bool
    ) -> None:
        self.link = link
        self.browser = browser
        self.reattached = reattached
        self.replaced = asyncio.Event()
        """Set when a newer viewer of the same link takes over."""
        self._live = live
        # A still page sends no frames; someone who reconnects must see it all the same.
        self._replay = live.last_frame

    async def next_frame(self) -> ScreencastFrame:
        """The next frame to show. Taking it is what lets the browser send another, so
        a viewer that asks only when ready throttles the stream to its own pace."""
        replay, self._replay = self._replay, None
        if replay is not None:
            return replay
        frame = await self.browser.next_frame()
        self._live.last_frame = frame
        return frame


@dataclass(eq=False)
class _Live:
    engine: AssistingCaptureEngine
    session_id: str
    expiry: asyncio.TimerHandle
    viewer: Viewer | None = None
    last_frame: ScreencastFrame | None = field(default=None, repr=False)


class LiveSessions:
    """Live browsers by the hash of their link's token. Bound to the event loop that
    first uses it (the capture engine's)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._live: dict[str, _Live] = {}
        # A lock per link while someone opens or joins it, so two tabs opening the same
        # link at once share one browser; it goes away with its last holder.
        self._opening: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._closing: set[asyncio.Task[None]] = set()

    def session_id(self, key: str) -> str | None:
        live = self._live.get(key)
        return None if live is None else live.session_id

    async def attach(self, key: str, link: AssistLink, engine: AssistingCaptureEngine) -> Viewer:
        lock = self._opening.get(key)
        if lock is None:
            lock = self._opening[key] = asyncio.Lock()
        async with lock:
            live = self._live.get(key)
            browser: LiveBrowser | None = None
            if live is not None:
                try:
                    browser = live.engine.assisted_session(live.session_id)
                except AssistedSessionClosed:
                    self._drop(key)
                    live = None
            reattached = browser is not None
            if live is None or browser is None:
                browser = await engine.open_assisted(link.url)
                remaining = (link.expires_at - self.clock.now()).total_seconds()
                expiry = asyncio.get_running_loop().call_later(
                    max(remaining, 0.0), self._expire, key
                )
                live = _Live(engine, browser.id, expiry)
                self._live[key] = live
            viewer = Viewer(link, browser, live, reattached=reattached)
            previous, live.viewer = live.viewer, viewer
            if previous is not None:
                previous.replaced.set()
            return viewer

    def detach(self, viewer: Viewer) -> None:
        """The viewer left; the browser stays for its link until that expires."""
        if viewer._live.viewer is viewer:
            viewer._live.viewer = None

    def forget(self, key: str) -> None:
        """The link was used: its browser has ended with the certification."""
        self._drop(key)

    def clear(self) -> None:
        """Stops the expiry timers; closing the browsers is the engine's job."""
        for key in list(self._live):
            self._drop(key)

    def _drop(self, key: str) -> _Live | None:
        live = self._live.pop(key, None)
        if live is not None:
            live.expiry.cancel()
        return live

    def _expire(self, key: str) -> None:
        live = self._drop(key)
        if live is None:
            return
        log.info("assisted-capture link expired; closing its browser %s", live.session_id)
        task = asyncio.get_running_loop().create_task(self._close(live))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _close(self, live: _Live) -> None:
        try:
            await live.engine.assisted_session(live.session_id).close()
        except AssistedSessionClosed:
            pass  # it ended on its own (certified, or the engine's own time limit)
        except Exception:
            log.exception("closing the expired assisted-capture browser failed")
