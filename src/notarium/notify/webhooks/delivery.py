"""One webhook delivery attempt and the rules around it: when to try again, and what an
endpoint's answer means for the delivery and for the endpoint.

Nothing here touches storage; the delivery worker combines these pieces.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, Protocol, Self

import httpx

from notarium.adapters.egress import EgressLookupError, EgressPolicy, EgressRefused, guarded_client
from notarium.core.errors import ValidationError

RETRY_SCHEDULE: tuple[int, ...] = (
    5,
    5 * 60,
    30 * 60,
    2 * 3600,
    5 * 3600,
    10 * 3600,
    14 * 3600,
    20 * 3600,
    24 * 3600,
)
"""Seconds to wait after each failed attempt before the next: entry ``n - 1`` follows
attempt ``n``. Ten attempts spread over 75 h 35 min 5 s (about three days), so a receiver
that is down over a long weekend still gets its events."""

JITTER = 0.10
"""Each wait is stretched or shrunk by up to this fraction, so that deliveries that failed
together (an endpoint's outage) do not all come back in the same second."""

MAX_RETRY_AFTER = float(max(RETRY_SCHEDULE))
"""A ``Retry-After`` can lengthen a wait up to this, no further: one header must not park
a delivery beyond the schedule's own longest step."""

DEFAULT_TIMEOUT = 15.0
USER_AGENT = "notarium-webhooks"
CONTENT_TYPE = "application/json"

Outcome = Literal["delivered", "retry", "disable"]

_system_random = random.SystemRandom()


def next_attempt_delay(
    attempt: int, *, rng: random.Random | None = None, retry_after: float | None = None
) -> float | None:
    """Seconds until the attempt after ``attempt`` (1 for the first), or ``None`` once
    the schedule is exhausted. A ``retry_after`` longer than the jittered wait wins, up
    to :data:`MAX_RETRY_AFTER`."""
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
        raise ValidationError(f"attempts are counted from 1, not {attempt!r}")
    if attempt > len(RETRY_SCHEDULE):
        return None
    source = _system_random if rng is None else rng
    delay = RETRY_SCHEDULE[attempt - 1] * source.uniform(1 - JITTER, 1 + JITTER)
    if retry_after is not None and retry_after > delay:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return delay


def classify(status: int | None, error: str | None) -> Outcome:
    """What an attempt's result means.

    ``error`` does not change the outcome: every attempt without a status retries.

    * 2xx: delivered.
    * 410 Gone: the receiver says the endpoint no longer exists; disable it.
    * Anything else retries: no answer at all (refused or failed connection, timeout),
      408, 429 and 5xx are transient by definition, and so, in practice, are the other
      4xx and the 3xx that deliveries do not follow. They are what a receiver answers
      while being redeployed, misconfigured (a rotated secret not yet rolled out, an
      auth proxy in front) or moved, which its owner typically fixes within the
      schedule's three days; giving up on the first 401 or 404 would lose those events
      for good, while retrying costs at most ten requests.
    """
    if status is None:
        return "retry"
    if 200 <= status < 300:
        return "delivered"
    if status == 410:
        return "disable"
    return "retry"


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` value asks to wait (delta-seconds or an HTTP date), or
    ``None`` when absent or unreadable. A date in the past means no wait."""
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(int(text))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None  # HTTP dates are GMT; one without a zone is not an HTTP date.
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


@dataclass(frozen=True)
class DeliveryResult:
    status: int | None
    """The endpoint's HTTP status, or ``None`` when no answer came."""
    latency_ms: int
    """From sending the request to receiving the status line and headers, or failing."""
    error: str | None
    """Why no answer came: ``"<kind>: <detail>"`` with kind ``refused`` (egress policy),
    ``dns``, ``timeout`` or ``connection``."""
    retry_after: float | None
    """Seconds the endpoint asked to wait, from ``Retry-After``."""

    @property
    def outcome(self) -> Outcome:
        return classify(self.status, self.error)


def deliver(
    via: httpx.Client | EgressPolicy,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> DeliveryResult:
    """POST ``body`` to ``url`` once and report how it went; remote failures never raise.

    ``via`` is either the egress policy (a guarded client is made for this call) or a
    client from :func:`notarium.adapters.egress.guarded_client`, reused across calls. Redirects
    are not followed: following one would turn the POST into a GET, and the endpoint
    the user registered is the one that must answer.
    """
    client = (
        guarded_client(via, timeout=timeout, follow_redirects=False)
        if isinstance(via, EgressPolicy)
        else via
    )
    sent = httpx.Headers({"Content-Type": CONTENT_TYPE, "User-Agent": USER_AGENT})
    sent.update(headers)
    started = time.monotonic()
    error: str
    try:
        with client.stream(
            "POST", url, content=body, headers=sent, timeout=timeout, follow_redirects=False
        ) as response:
            # The body is not read: nothing in it changes the outcome, and a large or
            # slow one would only hold the worker.
            return DeliveryResult(
                status=response.status_code,
                latency_ms=_since(started),
                error=None,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
    except EgressRefused as exc:
        error = f"refused: {exc.message}"
    except httpx.InvalidURL as exc:
        error = f"refused: {url[:200]!r} is not a valid URL: {exc}"
    except EgressLookupError as exc:
        error = f"dns: {exc.message}"
    except httpx.TimeoutException as exc:
        error = f"timeout: no answer within {timeout:g} s ({type(exc).__name__})"
    except httpx.HTTPError as exc:
        error = f"connection: {type(exc).__name__}: {exc}"
    finally:
        if client is not via:
            client.close()
    return DeliveryResult(status=None, latency_ms=_since(started), error=error, retry_after=None)


class WebhookSender(Protocol):
    def send(self, url: str, headers: Mapping[str, str], body: bytes) -> DeliveryResult:
        """One delivery attempt; never raises for the remote end's failures."""
        ...


class HttpxWebhookSender:
    """The real sender: one guarded client, shared by every delivery and thread."""

    def __init__(
        self,
        policy: EgressPolicy,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        https_only: bool = False,
    ) -> None:
        self._timeout = timeout
        self._client = guarded_client(
            policy, timeout=timeout, https_only=https_only, follow_redirects=False
        )

    def send(self, url: str, headers: Mapping[str, str], body: bytes) -> DeliveryResult:
        return deliver(self._client, url, headers, body, timeout=self._timeout)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
