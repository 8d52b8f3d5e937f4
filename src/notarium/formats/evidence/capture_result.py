"""What one browser capture observed: the values the capture engine hands to the evidence
packager. Plain data only, so the packager never needs a browser to be tested."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Header:
    name: str
    value: str


@dataclass(frozen=True)
class TlsDetails:
    protocol: str  # e.g. "TLS 1.3"
    cipher: str
    subject_name: str
    issuer: str
    valid_from: datetime
    valid_to: datetime


@dataclass(frozen=True)
class Exchange:
    """One HTTP request and its response, as the browser made and received them."""

    started: datetime
    method: str
    url: str
    http_version: str  # "HTTP/1.1", "HTTP/2.0", ...
    request_headers: tuple[Header, ...]
    request_body: bytes | None
    status: int
    status_text: str
    response_headers: tuple[Header, ...]
    response_body: bytes  # decoded (no Content-Encoding applied), possibly empty
    mime_type: str
    server_ip: str | None
    time_ms: float
    redirect_url: str = ""
    resource_type: str = ""  # "document", "script", "image", ...


@dataclass(frozen=True)
class Redirect:
    url: str
    status: int
    location: str


@dataclass(frozen=True)
class Timing:
    """How long one step of a capture took."""

    step: str  # "navigation", "load", "network_idle", "consent", "scroll", "screenshot", ...
    milliseconds: float


@dataclass(frozen=True)
class CaptureResult:
    """Everything a finished capture produced."""

    requested_url: str
    final_url: str
    title: str
    started: datetime
    finished: datetime
    viewport: tuple[int, int]
    user_agent: str
    browser_version: str
    screenshot_png: bytes  # full page
    har: bytes  # HAR 1.2 JSON as the browser recorded it, response bodies embedded
    dom_html: str  # the rendered DOM after scrolling and banner dismissal
    exchanges: tuple[Exchange, ...]  # in request order; the main document first
    redirects: tuple[Redirect, ...]  # the main document's redirect chain, in order
    server_ips: tuple[str, ...]  # every distinct server address the page used
    tls: TlsDetails | None  # of the final main document, None for plain http
    consent_dismissed: tuple[str, ...] = ()  # which banners were dismissed, by name
    assisted: bool = False  # a person cleared a challenge in the live browser first
    blocked_requests: tuple[str, ...] = field(default=())  # URLs refused by egress policy
    final_status: int = 0  # HTTP status of the final main document (an error page is kept)
    page_loaded: bool = True  # False: the time limit came before the load event; as it stood
    timings: tuple[Timing, ...] = ()  # in the order the steps ran
