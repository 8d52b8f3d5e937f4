"""An in-memory webhook sender for tests of whatever schedules deliveries."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from notarium.notify.webhooks.delivery import DeliveryResult


@dataclass(frozen=True)
class SentWebhook:
    url: str
    headers: Mapping[str, str]
    body: bytes


@dataclass
class MemoryWebhookSender:
    """Records every send and answers with the scripted results in order, then with
    ``default``. ``script`` takes results for one URL only when ``url`` is given."""

    default: DeliveryResult = field(
        default_factory=lambda: DeliveryResult(
            status=200, latency_ms=1, error=None, retry_after=None
        )
    )
    sent: list[SentWebhook] = field(default_factory=list)
    _queued: list[tuple[str | None, DeliveryResult]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, *results: DeliveryResult, url: str | None = None) -> None:
        with self._lock:
            self._queued.extend((url, result) for result in results)

    def send(self, url: str, headers: Mapping[str, str], body: bytes) -> DeliveryResult:
        with self._lock:
            self.sent.append(SentWebhook(url, dict(headers), body))
            for index, (for_url, result) in enumerate(self._queued):
                if for_url is None or for_url == url:
                    del self._queued[index]
                    return result
            return self.default
