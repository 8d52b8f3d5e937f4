"""The capture engine against the local test website, with the system Chromium.

One browser pool serves the whole module. The egress policy allowlists 127.0.0.1 only;
127.0.0.2 stands for a private address and serves the same site, so a request that got
past the proxy would succeed and show up in the site's log. Names resolve through an
injected resolver: nothing here asks real DNS.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import jsonschema
import pytest
from PIL import Image
from playwright.async_api import async_playwright

from fakes.pages import PRIVATE_HOST, PUBLIC_HOST, LocalSite, Resolver
from notarium.adapters.egress.policy import EgressPolicy
from notarium.formats.evidence.capture_result import CaptureResult
from notarium.products.web_capture.browser.browser_pool import BrowserPool
from notarium.products.web_capture.browser.egress_proxy import EgressProxy
from notarium.products.web_capture.browser.engine import PlaywrightCaptureEngine
from notarium.products.web_capture.browser.errors import (
    AssistedSessionClosed,
    BotProtectionBlocked,
    CaptureFailed,
    InvalidAssistedInput,
    InvalidCaptureUrl,
    ServiceBusy,
)
from notarium.products.web_capture.browser.live_session import AssistedSession
from notarium.products.web_capture.browser.options import CaptureOptions, PoolOptions
from notarium.products.web_capture.browser.ports import CaptureEngine
from readiness import DEADLINE, async_wait_for

pytestmark = pytest.mark.anyio

TIMEOUT = 15.0
SHORT_TIMEOUT = 5.0
# What a loaded machine may add to a bounded wait (still well short of the engine's hard
# stop, budget + 15 s, which the bounded waits below must not reach).
SLACK = 10.0
VIEWPORT = (1280, 800)

# The fields HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) requires, with
# their types; optional fields are allowed and checked where present.
_NAME_VALUE = {
    "type": "object",
    "required": ["name", "value"],
    "properties": {"name": {"type": "string"}, "value": {"type": "string"}},
}
HAR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["log"],
    "properties": {
        "log": {
            "type": "object",
            "required": ["version", "creator", "entries"],
            "properties": {
                "version": {"const": "1.2"},
                "creator": {
                    "type": "object",
                    "required": ["name", "version"],
                    "properties": {"name": {"type": "string"}, "version": {"type": "string"}},
                },
                "browser": {"type": "object", "required": ["name", "version"]},
                "pages": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["startedDateTime", "id", "title", "pageTimings"],
                        "properties": {
                            "startedDateTime": {"type": "string", "format": "date-time"},
                            "id": {"type": "string"},
                            "title": {"type": "string"},
                            "pageTimings": {
                                "type": "object",
                                "properties": {
                                    "onContentLoad": {"type": "number"},
                                    "onLoad": {"type": "number"},
                                },
                            },
                        },
                    },
                },
                "entries": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": [
                            "startedDateTime",
                            "time",
                            "request",
                            "response",
                            "cache",
                            "timings",
                        ],
                        "properties": {
                            "pageref": {"type": "string"},
                            "startedDateTime": {"type": "string", "format": "date-time"},
                            "time": {"type": "number", "minimum": 0},
                            "serverIPAddress": {
                                "type": "string",
                                "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}],
                            },
                            "connection": {"type": "string"},
                            "cache": {"type": "object"},
                            "request": {
                                "type": "object",
                                "required": [
                                    "method",
                                    "url",
                                    "httpVersion",
                                    "cookies",
                                    "headers",
                                    "queryString",
                                    "headersSize",
                                    "bodySize",
                                ],
                                "properties": {
                                    "method": {"type": "string"},
                                    "url": {"type": "string", "format": "uri"},
                                    "httpVersion": {"type": "string"},
                                    "cookies": {"type": "array", "items": _NAME_VALUE},
                                    "headers": {"type": "array", "items": _NAME_VALUE},
                                    "queryString": {"type": "array", "items": _NAME_VALUE},
                                    "postData": {
                                        "type": "object",
                                        "required": ["mimeType"],
                                    },
                                    "headersSize": {"type": "integer"},
                                    "bodySize": {"type": "integer"},
                                },
                            },
                            "response": {
                                "type": "object",
                                "required": [
                                    "status",
                                    "statusText",
                                    "httpVersion",
                                    "cookies",
                                    "headers",
                                    "content",
                                    "redirectURL",
                                    "headersSize",
                                    "bodySize",
                                ],
                                "properties": {
                                    "status": {"type": "integer"},
                                    "statusText": {"type": "string"},
                                    "httpVersion": {"type": "string"},
                                    "cookies": {"type": "array", "items": _NAME_VALUE},
                                    "headers": {"type": "array", "items": _NAME_VALUE},
                                    "content": {
                                        "type": "object",
                                        "required": ["size", "mimeType"],
                                        "properties": {
                                            "size": {"type": "integer"},
                                            "compression": {"type": "integer"},
                                            "mimeType": {"type": "string"},
                                            "text": {"type": "string"},
                                            "encoding": {"type": "string"},
                                        },
                                    },
                                    "redirectURL": {"type": "string"},
                                    "headersSize": {"type": "integer"},
                                    "bodySize": {"type": "integer"},
                                },
                            },
                            "timings": {
                                "type": "object",
                                "required": ["send", "wait", "receive"],
                                "properties": {
                                    name: {"type": "number", "minimum": -1}
                                    for name in (
                                        "blocked",
                                        "dns",
                                        "connect",
                                        "send",
                                        "wait",
                                        "receive",
                                        "ssl",
                                    )
                                },
                            },
                        },
                    },
                },
            },
        }
    },
}


# -- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def site() -> Iterator[LocalSite]:
    with LocalSite() as running:
        yield running


@pytest.fixture(scope="module")
def resolver() -> Resolver:
    return Resolver({"localhost": [PUBLIC_HOST], "sneaky.test": [PRIVATE_HOST]})


@pytest.fixture(scope="module")
async def pool(site: LocalSite) -> AsyncIterator[BrowserPool]:
    # The test site's https certificate is self-signed; Chromium is told to accept that
    # one key (by its SPKI hash) and nothing else.
    trust = f"--ignore-certificate-errors-spki-list={site.spki_hash}"
    running = await BrowserPool(PoolOptions(slots=2, extra_args=(trust,))).start()
    yield running
    await running.close()


def make_engine(
    pool: BrowserPool,
    resolver: Resolver,
    *,
    allowlist: tuple[str, ...] = (PUBLIC_HOST,),
    **options: Any,
) -> PlaywrightCaptureEngine:
    settings: dict[str, Any] = {"timeout": TIMEOUT, "challenge_wait": 1.0, "viewport": VIEWPORT}
    settings.update(options)
    return PlaywrightCaptureEngine(
        pool, EgressPolicy(list(allowlist), resolver=resolver), CaptureOptions(**settings)
    )


@pytest.fixture(scope="module")
async def engine(pool: BrowserPool, resolver: Resolver) -> AsyncIterator[PlaywrightCaptureEngine]:
    running = make_engine(pool, resolver)
    await running.start()
    yield running
    await running.close()


@pytest.fixture
def fresh_site(site: LocalSite) -> LocalSite:
    site.clear_hits()
    return site


def private_hits(site: LocalSite) -> list[str]:
    return [hit.path for hit in site.hits(PRIVATE_HOST)]


def har_entries(result: CaptureResult) -> list[dict[str, Any]]:
    har = json.loads(result.har)
    jsonschema.validate(har, HAR_SCHEMA, format_checker=jsonschema.FormatChecker())
    entries: list[dict[str, Any]] = har["log"]["entries"]
    return entries


def png_size(png: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        return image.size


def bottom_left_pixel(png: bytes, viewport_height: int) -> tuple[int, ...]:
    """A pixel where the test site's banners sit (fixed at the bottom of the viewport)."""
    with Image.open(io.BytesIO(png)) as image:
        pixel = image.convert("RGB").getpixel((5, viewport_height - 5))
    assert isinstance(pixel, tuple)
    return pixel


# -- the page itself -------------------------------------------------------------------


async def test_plain_page(engine: PlaywrightCaptureEngine, fresh_site: LocalSite) -> None:
    url = fresh_site.url("/plain")
    result = await engine.capture(url)

    assert (result.requested_url, result.final_url) == (url, url)
    assert (result.title, result.final_status, result.page_loaded) == ("A plain page", 200, True)
    assert result.redirects == ()
    assert result.tls is None
    assert result.viewport == VIEWPORT
    assert result.started < result.finished
    assert result.browser_version.split(".")[0].isdigit()
    assert f"Chrome/{result.browser_version.split('.')[0]}.0.0.0" in result.user_agent
    assert '<p id="text">Nothing but text and a picture.</p>' in result.dom_html
    width, height = png_size(result.screenshot_png)
    assert (width, height) == VIEWPORT  # a page that fits the viewport
    assert result.server_ips == (PUBLIC_HOST,)
    assert result.blocked_requests == () and result.consent_dismissed == ()
    assert {t.step for t in result.timings} >= {"navigation", "load", "screenshot", "har"}

    main, *rest = result.exchanges
    assert (main.url, main.status, main.resource_type, main.server_ip) == (
        url,
        200,
        "document",
        PUBLIC_HOST,
    )
    assert b"<h1>A plain page</h1>" in main.response_body
    assert main.http_version == "HTTP/1.1"
    sent = {h.name.lower(): h.value for h in main.request_headers}
    assert sent["user-agent"] == result.user_agent
    picture = next(e for e in rest if e.url.endswith("/pixel.png"))
    assert picture.response_body.startswith(b"\x89PNG") and picture.mime_type == "image/png"

    entries = har_entries(result)
    assert {e["request"]["url"] for e in entries} >= {url, fresh_site.url("/pixel.png")}
    assert all(e["serverIPAddress"] == PUBLIC_HOST for e in entries)
    assert all(e["_serverPort"] == fresh_site.port for e in entries)
    page = json.loads(result.har)["log"]["pages"][0]
    assert page["startedDateTime"] == min(e["startedDateTime"] for e in entries)


async def test_redirect_chain(engine: PlaywrightCaptureEngine, site: LocalSite) -> None:
    result = await engine.capture(site.url("/redirect/1"))
    assert result.final_url == site.url("/redirect/final")
    assert [(r.url, r.status, r.location) for r in result.redirects] == [
        (site.url("/redirect/1"), 301, site.url("/redirect/2")),
        (site.url("/redirect/2"), 302, site.url("/redirect/final")),
    ]
    assert [(e.url, e.status) for e in result.exchanges[:3]] == [
        (site.url("/redirect/1"), 301),
        (site.url("/redirect/2"), 302),
        (site.url("/redirect/final"), 200),
    ]
    assert result.title == "Redirect target"
    har_entries(result)


async def test_slow_page_within_the_budget(
    engine: PlaywrightCaptureEngine, site: LocalSite
) -> None:
    result = await engine.capture(site.url("/slow"))
    assert "Worth the wait" in result.dom_html
    navigation = next(t for t in result.timings if t.step == "navigation")
    assert navigation.milliseconds >= 1400  # the server's 1.5 s, give or take rounding


async def test_lazy_content_is_scrolled_into_the_capture(
    engine: PlaywrightCaptureEngine, site: LocalSite
) -> None:
    result = await engine.capture(site.url("/lazy"))
    assert 'id="lazy-loaded"' in result.dom_html
    assert any(e.url.endswith("/lazy/picture.png") for e in result.exchanges)
    width, height = png_size(result.screenshot_png)
    assert width == VIEWPORT[0]
    assert height > 3200 + 900  # the spacer and the block that only loads when reached
    assert any(t.step == "scroll" for t in result.timings)


async def test_two_captures_at_once_use_both_slots(
    engine: PlaywrightCaptureEngine, site: LocalSite
) -> None:
    first, second = await asyncio.gather(
        engine.capture(site.url("/plain")), engine.capture(site.url("/redirect/final"))
    )
    assert (first.title, second.title) == ("A plain page", "Redirect target")


# -- consent banners -----------------------------------------------------------------

CONSENT = {
    "onetrust": ("OneTrust", "onetrust-consent-sdk"),
    "cookiebot": ("Cookiebot", "CybotCookiebotDialog"),
    "usercentrics": ("Usercentrics", "usercentrics-root"),
    "iframe": ("Sourcepoint", "sp_message_iframe_1"),
    "generic": ("generic: accept all", "banner-accept"),
}


@pytest.mark.parametrize(("page", "expected"), CONSENT.items(), ids=CONSENT.keys())
async def test_consent_banners_are_dismissed(
    engine: PlaywrightCaptureEngine, site: LocalSite, page: str, expected: tuple[str, str]
) -> None:
    name, banner_id = expected
    result = await engine.capture(site.url(f"/consent/{page}"))
    assert result.consent_dismissed == (name,)
    assert f'id="{banner_id}"' not in result.dom_html
    # The banners are dark bars fixed at the bottom of the viewport; once dismissed the
    # page's white background shows there.
    assert bottom_left_pixel(result.screenshot_png, VIEWPORT[1]) == (255, 255, 255)


async def test_generic_dismissal_leaves_the_pages_own_accept_buttons_alone(
    engine: PlaywrightCaptureEngine, site: LocalSite
) -> None:
    result = await engine.capture(site.url("/consent/generic"))
    assert 'id="content-accept"' in result.dom_html
    assert "data-wrong" not in result.dom_html


# -- bot protection ----------------------------------------------------------------

BLOCKED = {
    "cloudflare": "cloudflare",
    "cloudflare-quiet": "cloudflare",
    "turnstile": "turnstile",
    "hcaptcha": "hcaptcha",
    "recaptcha": "recaptcha",
    "imperva": "imperva",
    "datadome": "datadome",
    "perimeterx": "perimeterx",
    "akamai": "akamai",
}


@pytest.mark.parametrize(("page", "kind"), BLOCKED.items(), ids=BLOCKED.keys())
async def test_challenge_pages_are_blocked(
    engine: PlaywrightCaptureEngine, site: LocalSite, page: str, kind: str
) -> None:
    with pytest.raises(BotProtectionBlocked) as caught:
        await engine.capture(site.url(f"/bot/{page}"))
    assert caught.value.kind == kind
    assert caught.value.code == "bot_protection_blocked"


@pytest.mark.parametrize(
    ("page", "status"),
    [
        ("/bot/login-with-captcha", 200),
        ("/bot/cloudflare-served-page", 200),
        ("/error/403", 403),
        ("/error/404", 404),
        ("/error/500", 500),
    ],
)
async def test_ordinary_pages_are_captured_as_they_are(
    engine: PlaywrightCaptureEngine, site: LocalSite, page: str, status: int
) -> None:
    result = await engine.capture(site.url(page))
    assert result.final_status == status
    assert result.exchanges[0].status == status


async def test_a_challenge_that_clears_itself_is_waited_for(
    engine: PlaywrightCaptureEngine, site: LocalSite
) -> None:
    result = await engine.capture(site.url("/bot/cloudflare-passes"))
    assert result.final_url == site.url("/plain")
    assert result.title == "A plain page"
    # The HAR keeps the challenge page too: it is part of what happened.
    urls = [e["request"]["url"] for e in har_entries(result)]
    assert site.url("/bot/cloudflare-passes") in urls


# -- egress safety ----------------------------------------------------------------

PRIVATE_RESOURCES = (
    "/pixel.png",
    "/private/script.js",
    "/private/frame",
    "/private/data.json",
)


async def test_private_subresources_are_refused(
    engine: PlaywrightCaptureEngine, fresh_site: LocalSite
) -> None:
    result = await engine.capture(fresh_site.url("/private-subresources"))

    assert result.title == "Subresources on a private address"  # its script never ran
    assert private_hits(fresh_site) == []
    expected = {fresh_site.private_url(path) for path in PRIVATE_RESOURCES}
    expected.add(fresh_site.private_url("/ws").replace("http://", "ws://"))
    assert set(result.blocked_requests) == expected
    entries = har_entries(result)
    assert all(PRIVATE_HOST not in e["request"]["url"] for e in entries)
    assert all(PRIVATE_HOST not in e.url for e in result.exchanges)
    assert any(e["request"]["url"] == fresh_site.url("/pixel.png") for e in entries)
    assert '<p id="fetch">fetch failed</p>' in result.dom_html
    assert '<p id="socket">socket failed</p>' in result.dom_html
    assert result.server_ips == (PUBLIC_HOST,)


async def test_same_page_loads_its_private_subresources_when_allowlisted(
    pool: BrowserPool, resolver: Resolver, fresh_site: LocalSite
) -> None:
    """The control for the test above: the refused requests would otherwise succeed."""
    open_engine = make_engine(pool, resolver, allowlist=("127.0.0.0/8",))
    try:
        result = await open_engine.capture(fresh_site.url("/private-subresources"))
    finally:
        await open_engine.close()
    assert result.blocked_requests == ()
    assert result.title == "private script ran"
    assert set(private_hits(fresh_site)) >= {*PRIVATE_RESOURCES, "/ws"}
    assert '<p id="fetch">fetched {"private": true}</p>' in result.dom_html
    assert '<p id="socket">socket said hello from the websocket</p>' in result.dom_html
    assert set(result.server_ips) == {PUBLIC_HOST, PRIVATE_HOST}


@pytest.mark.parametrize(
    "address",
    [
        lambda site: site.private_url("/plain"),
        lambda site: site.private_url("/plain").replace("http://", "https://"),
        lambda site: site.url("/plain", "sneaky.test"),
        lambda site: f"https://sneaky.test:{site.port}/plain",
    ],
    ids=["http literal", "https literal", "http name", "https name"],
)
async def test_main_document_on_a_private_address_is_refused(
    engine: PlaywrightCaptureEngine, fresh_site: LocalSite, address: Any
) -> None:
    with pytest.raises(InvalidCaptureUrl, match=r"127\.0\.0\.2.*a loopback address"):
        await engine.capture(address(fresh_site))
    assert private_hits(fresh_site) == []


async def test_redirect_to_a_private_address_is_refused(
    engine: PlaywrightCaptureEngine, fresh_site: LocalSite
) -> None:
    with pytest.raises(InvalidCaptureUrl, match=r"redirected.*127\.0\.0\.2.*loopback"):
        await engine.capture(fresh_site.url("/redirect/private"))
    assert private_hits(fresh_site) == []
    assert [hit.path for hit in fresh_site.hits(PUBLIC_HOST)] == ["/redirect/private"]


@pytest.mark.parametrize(
    "path", ["/later/meta-refresh", "/later/refresh-header", "/later/script", "/later/on-scroll"]
)
async def test_a_page_that_later_navigates_to_a_private_address_is_refused(
    engine: PlaywrightCaptureEngine, fresh_site: LocalSite, path: str
) -> None:
    # The page itself loads; what it navigates to afterwards (by meta refresh, a Refresh
    # header, a timer or on scrolling, which the capture does) may not be certified:
    # neither the private page nor the browser's error page for the refusal.
    with pytest.raises(InvalidCaptureUrl, match=r"127\.0\.0\.2.*a loopback address"):
        await engine.capture(fresh_site.url(path))
    assert private_hits(fresh_site) == []
    assert [hit.path for hit in fresh_site.hits(PUBLIC_HOST)][:1] == [path]


async def test_dns_rebinding_of_the_main_document_is_refused(
    pool: BrowserPool, fresh_site: LocalSite
) -> None:
    """Public when admitted, private when the browser loads it."""
    rebinding = Resolver(sequences={"rebind.test": [[PUBLIC_HOST], [PRIVATE_HOST]]})
    rebound = make_engine(pool, rebinding)
    try:
        with pytest.raises(InvalidCaptureUrl, match=r"rebind\.test resolves to 127\.0\.0\.2"):
            await rebound.capture(fresh_site.url("/rebind", "rebind.test"))
    finally:
        await rebound.close()
    assert private_hits(fresh_site) == []


async def test_dns_rebinding_of_a_subresource_is_refused(
    pool: BrowserPool, fresh_site: LocalSite
) -> None:
    """Public for the check and the page, private for the page's later fetch to the same
    host name — which 127.0.0.2 would serve at the same port."""
    rebinding = Resolver(sequences={"rebind.test": [[PUBLIC_HOST], [PUBLIC_HOST], [PRIVATE_HOST]]})
    rebound = make_engine(pool, rebinding)
    try:
        result = await rebound.capture(fresh_site.url("/rebind", "rebind.test"))
    finally:
        await rebound.close()
    assert private_hits(fresh_site) == []
    assert '<p id="data">fetch failed</p>' in result.dom_html
    assert fresh_site.url("/rebind/data.json", "rebind.test") in result.blocked_requests
    assert result.server_ips == (PUBLIC_HOST,)


async def test_webrtc_sends_no_udp_past_the_proxy(
    engine: PlaywrightCaptureEngine, fresh_site: LocalSite
) -> None:
    await engine.capture(fresh_site.url("/webrtc"))
    await asyncio.sleep(0.5)  # ICE keeps gathering after the page is captured
    assert fresh_site.udp_senders == []


async def test_webrtc_control_a_browser_without_the_engine_flags_sends_udp(
    fresh_site: LocalSite,
) -> None:
    """The control for the test above: the page does reach its STUN server otherwise.
    (The browser's own background requests go to a proxy that refuses them unresolved;
    only the test site is reached directly.)"""
    sink = await EgressProxy(None).start()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu"],
            proxy={"server": sink.server, "bypass": PUBLIC_HOST},
        )
        try:
            page = await browser.new_page()
            await page.goto(fresh_site.url("/webrtc"))
            await async_wait_for(
                lambda: _truthy(fresh_site.udp_senders), "the page's UDP to its STUN server"
            )
        finally:
            await browser.close()
            await sink.close()
    assert fresh_site.udp_senders


# -- failures -----------------------------------------------------------------------


async def test_unreachable_host_fails(engine: PlaywrightCaptureEngine, site: LocalSite) -> None:
    with pytest.raises(CaptureFailed, match="unreachable"):
        await engine.capture(site.unreachable_url)


async def test_page_that_never_finishes_is_captured_as_it_stands(
    pool: BrowserPool, resolver: Resolver, site: LocalSite
) -> None:
    quick = make_engine(pool, resolver, timeout=SHORT_TIMEOUT)
    started = time.monotonic()
    try:
        result = await quick.capture(site.url("/hang/partial"))
    finally:
        await quick.close()
    assert time.monotonic() - started < SHORT_TIMEOUT + SLACK
    assert result.page_loaded is False
    assert "The start of a page that never ends" in result.dom_html
    assert png_size(result.screenshot_png)[0] == VIEWPORT[0]


async def test_server_that_never_answers_fails_within_the_limit(
    pool: BrowserPool, resolver: Resolver, site: LocalSite
) -> None:
    quick = make_engine(pool, resolver, timeout=SHORT_TIMEOUT)
    started = time.monotonic()
    try:
        with pytest.raises(CaptureFailed, match="did not answer"):
            await quick.capture(site.url("/hang/silent"))
    finally:
        await quick.close()
    assert time.monotonic() - started < SHORT_TIMEOUT + SLACK


async def test_tls_details_of_an_https_page(
    engine: PlaywrightCaptureEngine, site: LocalSite
) -> None:
    result = await engine.capture(site.https_url("/plain"))
    assert result.final_url == site.https_url("/plain")
    assert result.tls is not None
    assert result.tls.protocol.startswith("TLS 1.")
    assert result.tls.cipher
    assert (result.tls.subject_name, result.tls.issuer) == (PUBLIC_HOST, PUBLIC_HOST)
    assert result.tls.valid_from < result.started < result.tls.valid_to
    assert result.exchanges[0].server_ip == PUBLIC_HOST
    har_entries(result)


# -- the pool --------------------------------------------------------------------------


async def test_no_free_slot_within_the_wait_is_service_busy(
    resolver: Resolver, site: LocalSite
) -> None:
    single = BrowserPool(PoolOptions(slots=1, queue_timeout=0.3))
    busy = make_engine(single, resolver)
    try:
        async with single.slot():
            started = time.monotonic()
            with pytest.raises(ServiceBusy):
                await busy.capture(site.url("/plain"))
            assert 0.3 <= time.monotonic() - started < 0.3 + SLACK

            # A capture that waits for a slot freed in time proceeds.
            waiting = asyncio.ensure_future(busy.capture(site.url("/plain")))
            await asyncio.sleep(0.1)
            assert not waiting.done()
        result = await waiting
        assert result.title == "A plain page"
    finally:
        await busy.close()
        await single.close()


async def test_a_browser_that_died_is_replaced(
    engine: PlaywrightCaptureEngine, pool: BrowserPool, site: LocalSite
) -> None:
    for slot in pool.all_slots:
        assert slot.browser is not None
        await slot.browser.close()
    first, second = await asyncio.gather(
        engine.capture(site.url("/plain")), engine.capture(site.url("/redirect/final"))
    )
    assert (first.title, second.title) == ("A plain page", "Redirect target")
    assert all(slot.browser and slot.browser.is_connected() for slot in pool.all_slots)


def test_engine_is_a_capture_engine(engine: PlaywrightCaptureEngine) -> None:
    assert isinstance(engine, CaptureEngine)


# -- assisted capture ---------------------------------------------------------------


async def test_assisted_capture_clears_a_challenge_by_typing(
    engine: PlaywrightCaptureEngine, pool: BrowserPool, site: LocalSite
) -> None:
    idle_before = pool.idle
    session = await engine.open_assisted(site.url("/assisted/challenge"))
    assert engine.assisted_session(session.id) is session
    assert pool.idle == idle_before - 1

    frame = await session.next_frame(timeout=DEADLINE)
    assert frame.jpeg.startswith(b"\xff\xd8")
    assert (frame.width, frame.height) == VIEWPORT
    with Image.open(io.BytesIO(frame.jpeg)) as image:
        assert image.format == "JPEG"

    with pytest.raises(BotProtectionBlocked):
        await session.certify()  # nothing cleared yet; the session stays open

    await session.click(200, 310)  # the answer field
    await session.type("human")
    await session.press("Enter")
    newer = await session.next_frame(timeout=DEADLINE)
    assert newer.sequence > frame.sequence

    await async_wait_for(
        lambda: _truthy(session.current_url.endswith("/assisted/cleared")), "the page cleared"
    )
    result = await _certify_when_cleared(session)
    assert result.assisted is True
    assert result.requested_url == site.url("/assisted/challenge")
    assert result.final_url == site.url("/assisted/cleared")
    assert 'id="cleared"' in result.dom_html
    urls = [e["request"]["url"] for e in har_entries(result)]
    assert urls[:1] == [site.url("/assisted/challenge")]  # the challenge stays on record
    assert result.exchanges[0].url == site.url("/assisted/cleared")

    assert session.closed
    with pytest.raises(AssistedSessionClosed):
        await session.click(10, 10)
    with pytest.raises(AssistedSessionClosed):
        engine.assisted_session(session.id)
    assert pool.idle == idle_before


async def _certify_when_cleared(session: AssistedSession) -> CaptureResult:
    # The page navigates after the key press; certify once it has.
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        try:
            return await session.certify()
        except BotProtectionBlocked:
            await asyncio.sleep(0.1)
    raise AssertionError("the challenge never cleared")


async def _truthy(value: object) -> bool:
    return bool(value)


async def test_assisted_session_click_and_scroll(
    engine: PlaywrightCaptureEngine, site: LocalSite
) -> None:
    session = await engine.open_assisted(site.url("/lazy"))
    try:
        first = await session.next_frame(timeout=DEADLINE)
        await session.scroll(0, 1500)
        moved = await session.next_frame(timeout=DEADLINE)
        assert moved.scroll_y > first.scroll_y
        with pytest.raises(InvalidAssistedInput):
            await session.click(VIEWPORT[0] + 10, 10)
        with pytest.raises(InvalidAssistedInput):
            await session.press("NoSuchKey")
        with pytest.raises(InvalidAssistedInput):
            await session.scroll(0, 10**6)
        with pytest.raises(InvalidAssistedInput):
            await session.type("")
    finally:
        await session.close()
    with pytest.raises(AssistedSessionClosed):
        await session.next_frame(timeout=1)


async def test_assisted_session_expires_and_frees_its_slot(
    pool: BrowserPool, resolver: Resolver, site: LocalSite
) -> None:
    brief = make_engine(pool, resolver, assisted_ttl=0.5)
    idle_before = pool.idle
    try:
        session = await brief.open_assisted(site.url("/plain"))
        assert session.expires_at > session.opened
        await async_wait_for(
            lambda: _truthy(session.closed and pool.idle == idle_before),
            "the session expired and its slot free",
        )
        with pytest.raises(AssistedSessionClosed):
            await session.certify()
    finally:
        await brief.close()
