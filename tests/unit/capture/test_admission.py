"""Which URLs a capture starts on, decided before any browser is involved."""

from __future__ import annotations

import pytest

from fakes.pages import Resolver
from notarium.adapters.egress.policy import EgressPolicy
from notarium.app.settings import Settings
from notarium.products.web_capture.browser.browser_pool import BrowserPool
from notarium.products.web_capture.browser.engine import PlaywrightCaptureEngine
from notarium.products.web_capture.browser.errors import CaptureFailed, InvalidCaptureUrl
from notarium.products.web_capture.browser.options import (
    CaptureOptions,
    PoolOptions,
    default_user_agent,
)
from notarium.products.web_capture.browser.ports import CaptureEngine

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def resolver() -> Resolver:
    return Resolver(
        {
            "localhost": ["127.0.0.1"],
            "public.test": ["93.184.215.14"],
            "sneaky.test": ["10.1.2.3"],
            "mixed.test": ["93.184.215.14", "169.254.169.254"],
        }
    )


def engine(allowlist: list[str], resolver: Resolver) -> PlaywrightCaptureEngine:
    # The pool is never started: admission needs no browser.
    return PlaywrightCaptureEngine(BrowserPool(), EgressPolicy(allowlist, resolver=resolver))


@pytest.mark.parametrize(
    "url",
    [
        "",
        "example.com",
        "/relative/path",
        "ftp://public.test/file",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "https://",
        "https://public.test/a b",
        " https://public.test/",
        "https://public.test:99999/",
        "https://public.test/" + "a" * 9000,
    ],
)
async def test_malformed_urls_are_invalid(url: str, resolver: Resolver) -> None:
    with pytest.raises(InvalidCaptureUrl):
        await engine([], resolver).admit(url)
    assert resolver.asked == []


async def test_https_on_a_public_address_is_admitted(resolver: Resolver) -> None:
    destination = await engine([], resolver).admit("https://public.test/page?q=1")
    assert [str(a) for a in destination.addresses] == ["93.184.215.14"]


async def test_plain_http_is_refused_without_a_lookup_when_nothing_is_allowlisted(
    resolver: Resolver,
) -> None:
    with pytest.raises(InvalidCaptureUrl, match="only https"):
        await engine([], resolver).admit("http://public.test/")
    assert resolver.asked == []


async def test_plain_http_on_a_public_host_stays_refused_with_an_allowlist(
    resolver: Resolver,
) -> None:
    with pytest.raises(InvalidCaptureUrl, match="only https"):
        await engine(["127.0.0.1"], resolver).admit("http://public.test/")


@pytest.mark.parametrize(
    ("url", "allowlist"),
    [
        ("http://127.0.0.1:8080/", ["127.0.0.1"]),
        ("http://localhost:8080/", ["127.0.0.1"]),
        ("http://localhost:8080/", ["localhost"]),
        ("http://127.0.0.5/", ["127.0.0.0/8"]),
    ],
)
async def test_plain_http_on_allowlisted_hosts_is_admitted(
    url: str, allowlist: list[str], resolver: Resolver
) -> None:
    await engine(allowlist, resolver).admit(url)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://127.0.0.2/", "loopback"),
        ("http://127.0.0.2/", "loopback"),
        ("https://10.0.0.1/", "private"),
        ("https://[::1]/", "loopback"),
        ("https://169.254.169.254/latest/meta-data/", "link-local"),
        ("https://sneaky.test/", "sneaky.test resolves to 10.1.2.3"),
        ("https://mixed.test/", "169.254.169.254"),
    ],
)
async def test_non_public_destinations_are_refused(
    url: str, reason: str, resolver: Resolver
) -> None:
    with pytest.raises(InvalidCaptureUrl, match=reason):
        await engine(["127.0.0.1"], resolver).admit(url)


async def test_unresolvable_host_is_a_failed_capture_not_an_invalid_url(
    resolver: Resolver,
) -> None:
    with pytest.raises(CaptureFailed, match="did not resolve"):
        await engine([], resolver).admit("https://nowhere.test/")


def test_engine_satisfies_the_capture_engine_protocol(resolver: Resolver) -> None:
    assert isinstance(engine([], resolver), CaptureEngine)


def test_settings_become_pool_and_capture_options() -> None:
    settings = Settings(
        capture_slots=3,
        capture_queue_timeout=5,
        capture_timeout=45,
        capture_viewport_width=1440,
        capture_viewport_height=900,
        capture_user_agent="notarium-test/1",
        capture_locale="de-DE",
        capture_assisted_ttl=120,
    )
    assert settings.capture_pool() == PoolOptions(slots=3, queue_timeout=5)
    assert settings.capture() == CaptureOptions(
        timeout=45,
        viewport=(1440, 900),
        user_agent="notarium-test/1",
        locale="de-DE",
        assisted_ttl=120,
    )


def test_defaults() -> None:
    settings = Settings()
    assert (settings.capture_slots, settings.capture_timeout) == (2, 60.0)
    assert str(settings.capture_chromium_path) == "/usr/bin/chromium"


@pytest.mark.parametrize(
    "bad",
    [
        {"slots": 0},
        {"queue_timeout": -1},
    ],
)
def test_pool_options_are_checked(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        PoolOptions(**bad)  # type: ignore[arg-type]


def test_capture_options_are_checked() -> None:
    with pytest.raises(ValueError):
        CaptureOptions(timeout=0)
    with pytest.raises(ValueError):
        CaptureOptions(viewport=(100, 800))


def test_default_user_agent_names_the_browser_major_version_without_headless() -> None:
    agent = default_user_agent("156.0.8078.79")
    assert "Chrome/156.0.0.0" in agent
    assert "Headless" not in agent
