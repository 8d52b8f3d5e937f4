"""The capture engine as the rest of notarium sees it: give it a URL, get a result."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from notarium.formats.evidence.capture_result import CaptureResult

if TYPE_CHECKING:
    from notarium.products.web_capture.browser.live_session import ScreencastFrame


@runtime_checkable
class CaptureEngine(Protocol):
    async def capture(self, url: str) -> CaptureResult:
        """Raises InvalidCaptureUrl, CaptureFailed, BotProtectionBlocked or ServiceBusy."""
        ...

    async def close(self) -> None: ...


@runtime_checkable
class LiveBrowser(Protocol):
    """A browser a person drives through a screencast (an assisted-capture session).

    Coordinates are CSS pixels of the viewport. Every method but ``close`` raises
    AssistedSessionClosed once the session is over; input it cannot perform raises
    InvalidAssistedInput.
    """

    id: str
    url: str
    expires_at: datetime

    @property
    def closed(self) -> bool: ...

    @property
    def viewport(self) -> tuple[int, int]: ...

    async def next_frame(self, timeout: float | None = None) -> ScreencastFrame:
        """The newest frame not yet handed out; taking it lets the browser send another."""
        ...

    async def click(self, x: float, y: float) -> None: ...

    async def type(self, text: str) -> None: ...

    async def press(self, key: str) -> None: ...

    async def scroll(self, dx: float, dy: float) -> None: ...

    async def certify(self) -> CaptureResult:
        """The capture from the page as it stands (``assisted=True``); ends the session.
        A page that still shows a challenge raises BotProtectionBlocked and stays open."""
        ...

    async def close(self) -> None: ...


@runtime_checkable
class AssistingCaptureEngine(CaptureEngine, Protocol):
    """An engine that can also hand a live browser to a person to clear a challenge."""

    async def open_assisted(self, url: str) -> LiveBrowser:
        """Holds a browser slot until the session is certified, closed or expires.
        Raises what ``capture`` raises, except BotProtectionBlocked."""
        ...

    def assisted_session(self, session_id: str) -> LiveBrowser:
        """An open session by its id; AssistedSessionClosed if it is over or unknown."""
        ...
