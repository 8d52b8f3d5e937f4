"""The capture engine as the rest of notarium sees it: give it a URL, get a result."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from notarium.capture.result import CaptureResult


@runtime_checkable
class CaptureEngine(Protocol):
    async def capture(self, url: str) -> CaptureResult:
        """Raises InvalidCaptureUrl, CaptureFailed, BotProtectionBlocked or ServiceBusy."""
        ...

    async def close(self) -> None: ...
