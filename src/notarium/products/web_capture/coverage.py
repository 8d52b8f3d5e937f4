"""Coverage: will a capture at this domain or URL be blocked? Asked before a batch.

One plain HTTP fetch through the egress guard, judged by the same challenge detection
the browser capture uses. Nothing is captured, stored or billed. A plain fetch sees
less than a browser (no scripts run), so "not blocked" is an estimate; a challenge
served to a plain client is a reliable sign that a capture would meet it too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from html import unescape
from urllib.parse import urlsplit

import httpx

from notarium.adapters.egress.policy import EgressLookupError, EgressPolicy, EgressRefused
from notarium.adapters.egress.transport import guarded_client
from notarium.core.clock import Clock
from notarium.products.web_capture.browser.challenges import PageFacts, detect_challenge
from notarium.products.web_capture.browser.errors import InvalidCaptureUrl

MAX_BODY = 512 * 1024
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9-]{1,63}$")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_SCRIPTS = re.compile(r"<(script|style)[^>]*>.*?</\1>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")
_INPUTS = re.compile(r"<(input|textarea)\b[^>]*>", re.IGNORECASE)


@dataclass(frozen=True)
class Coverage:
    url: str
    domain: str
    reachable: bool
    blocked: bool
    protection: str | None
    status: int | None
    detail: str
    checked_at: datetime


class CoverageChecker:
    def __init__(self, policy: EgressPolicy, clock: Clock, *, timeout: float = 10.0) -> None:
        self.policy = policy
        self.clock = clock
        self.timeout = timeout

    def target(self, domain: object, url: object) -> str:
        if isinstance(url, str) and url.strip():
            return _well_formed(url.strip())
        if isinstance(domain, str) and _DOMAIN.match(domain.strip().lower().rstrip(".")):
            return _well_formed(f"https://{domain.strip().lower().rstrip('.')}/")
        raise InvalidCaptureUrl("Send `domain` (a host name) or `url` (an https:// URL).")

    def check(self, target: str) -> Coverage:
        domain = urlsplit(target).hostname or ""
        now = self.clock.now()
        try:
            with (
                guarded_client(self.policy, timeout=self.timeout, max_redirects=5) as client,
                client.stream("GET", target, headers={"Accept": "text/html,*/*"}) as response,
            ):
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) >= MAX_BODY:
                        break
                status = response.status_code
                headers = {k.lower(): v for k, v in response.headers.items()}
        except EgressRefused as exc:
            raise InvalidCaptureUrl(f"`url` cannot be captured: {exc.message}") from None
        except (EgressLookupError, httpx.HTTPError) as exc:
            return Coverage(target, domain, False, False, None, None, _reason(exc), now)
        html = body.decode(response.charset_encoding or "utf-8", errors="replace")
        title_match = _TITLE.search(html)
        title = unescape(title_match.group(1)).strip() if title_match else ""
        text = " ".join(unescape(_TAGS.sub(" ", _SCRIPTS.sub(" ", html))).split())
        inputs = [tag.lower() for tag in (m.group(0) for m in _INPUTS.finditer(html))]
        facts = PageFacts(
            status=status,
            headers=headers,
            title=title,
            html=html,
            text=text,
            password_fields=sum('type="password"' in tag for tag in inputs),
            text_inputs=sum(
                'type="hidden"' not in tag and 'type="password"' not in tag for tag in inputs
            ),
        )
        protection = detect_challenge(facts)
        detail = (
            f"A {protection} challenge answers this address; a capture would be blocked. "
            "Use assisted capture for it."
            if protection
            else "No bot protection challenge was served; captures here should go through."
        )
        blocked = protection is not None
        return Coverage(target, domain, True, blocked, protection, status, detail, now)


def _well_formed(url: str) -> str:
    """``url`` if both the standard library and the HTTP client can parse it (an
    unparsable host or port is the caller's mistake, not an unreachable site)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a malformed or out-of-range port
        httpx.URL(url).host  # noqa: B018 - the IDNA decoding fails only when asked
    except (ValueError, httpx.InvalidURL) as exc:
        raise InvalidCaptureUrl(f"`url` is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidCaptureUrl("`url` must be an absolute https:// URL.")
    return url


def _reason(exc: Exception) -> str:
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return f"The address could not be reached: {message}"
