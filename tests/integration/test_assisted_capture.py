"""Assisted capture end to end: the 422 link, the page, the WebSocket with the live
browser, certification into the link's account, and the link's single use and expiry.

The real capture engine (system Chromium) runs against the local test website; the
egress allowlist admits 127.0.0.1 only. One browser pool serves the module per backend:
the service starts it lazily inside the test client's event loop, which is also where
every request and WebSocket of the module runs.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from PIL import Image
from playwright.sync_api import expect, sync_playwright
from starlette.websockets import WebSocketDisconnect

from backends import REDIS_URL, postgres_schema
from conftest import BACKENDS, Tenant, make_tenant
from fakes.pages import LocalSite
from notarium.adapters.store import migrate
from notarium.adapters.store.captures import CaptureRepository
from notarium.adapters.store.models import AssistedCaptureGrant
from notarium.app.runtime import Runtime, build_runtime
from notarium.app.settings import Settings
from notarium.http.app import create_app
from notarium.products.web_capture.browser.browser_pool import browser_args
from notarium.products.web_capture.browser.engine import PlaywrightCaptureEngine
from notarium.products.web_capture.browser.ports import AssistingCaptureEngine, LiveBrowser
from readiness import DEADLINE, wait_for

SLOTS = 2
VIEWPORT = {"width": 1280, "height": 800}
# On /assisted/challenge: the "Verify" button spans x 100-300, y ~151-211; the answer
# field x 100-300, y 300-334.
VERIFY_BUTTON = (200, 180)
ANSWER_FIELD = (200, 315)

Message = dict[str, Any]


# -- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site() -> Iterator[LocalSite]:
    with LocalSite() as running:
        yield running


@pytest.fixture(scope="module", params=BACKENDS)
def runtime(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Runtime]:
    base: dict[str, Any] = {
        "data_dir": tmp_path_factory.mktemp("assist") / "data",
        "base_url": "http://testserver",
        "ots_calendars": [],
        "embedded_workers": False,
        "egress_allowlist": ["127.0.0.1"],
        "capture_slots": SLOTS,
        "capture_timeout": 30.0,
        "capture_queue_timeout": 5.0,
        "capture_challenge_wait": 0.5,
    }
    if request.param == "sqlite":
        yield _runtime(Settings(**base))
        return
    with postgres_schema() as url:
        settings = Settings(
            **base, database_url=url, redis_url=REDIS_URL, redis_prefix=f"nt-{uuid.uuid4().hex}"
        )
        yield _runtime(settings)


def _runtime(settings: Settings) -> Runtime:
    built = build_runtime(settings)
    migrate.upgrade(built.engine)
    return built


@pytest.fixture(scope="module")
def client(runtime: Runtime) -> Iterator[TestClient]:
    # Leaving the block runs the app's shutdown, which closes the engine and its pool.
    with TestClient(create_app(runtime), raise_server_exceptions=False) as running:
        yield running
    runtime.close()


@pytest.fixture
def tenant(runtime: Runtime) -> Tenant:
    return make_tenant(runtime, "pro")


# -- helpers ----------------------------------------------------------------------------


def engine_of(runtime: Runtime) -> PlaywrightCaptureEngine:
    return cast(PlaywrightCaptureEngine, runtime.webcaptures.engine())


def blocked_link(client: TestClient, tenant: Tenant, url: str) -> str:
    """The path of the assisted-capture link a blocked capture of ``url`` answers with."""
    response = client.post("/api/v1/certificates", json={"url": url}, headers=tenant.auth)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "bot_protection_blocked"
    assert body["assistedCaptureUrl"].startswith("http://testserver/assist/")
    return str(urlsplit(body["assistedCaptureUrl"]).path)


def insert_grant(runtime: Runtime, tenant: Tenant, url: str, expires_at: datetime) -> str:
    """A link as the API would hand it out, with an expiry of the test's choosing."""
    key_id = runtime.accounts.authenticate(tenant.key).key_id
    token = secrets.token_urlsafe(32)
    with runtime.sessions.begin() as session:
        CaptureRepository(session).add_grant(
            AssistedCaptureGrant(
                token_hash=hashlib.sha256(token.encode()).hexdigest(),
                account_id=tenant.account_id,
                mode="live",
                key_id=key_id,
                url=url,
                protection="cloudflare",
                created_at=datetime.now(UTC),
                expires_at=expires_at,
            )
        )
    return f"/assist/{token}"


def receive(ws: Any) -> Message:
    message = cast(Message, ws.receive())
    if message["type"] == "websocket.close":
        raise WebSocketDisconnect(code=message.get("code", 1000), reason=message.get("reason"))
    return message


def next_json(ws: Any) -> Message:
    """The next JSON message, acknowledging the frames before it."""
    while True:
        message = receive(ws)
        if message.get("bytes") is not None:
            ws.send_json({"type": "ack"})
            continue
        return cast(Message, json.loads(message["text"]))


def next_frame(ws: Any) -> bytes:
    message = receive(ws)
    assert message.get("bytes") is not None, message
    ws.send_json({"type": "ack"})
    return cast(bytes, message["bytes"])


def closing_code(ws: Any) -> int:
    """Reads to the end of the conversation; the close code the server sent."""
    with pytest.raises(WebSocketDisconnect) as closed:
        while True:
            receive(ws)
    return closed.value.code


def synced(ws: Any) -> None:
    """Commands run in order: once a deliberate error comes back, all before it are done."""
    ws.send_json({"type": "sync"})
    answer = next_json(ws)
    assert answer["type"] == "error" and answer["error"] == "invalid_message", answer


def certify_when_cleared(ws: Any) -> Message:
    """The page navigates after the input that clears it; certify once it has."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        ws.send_json({"type": "certify"})
        answer = next_json(ws)
        if answer["type"] == "certified":
            return answer
        assert answer["error"] == "bot_protection_blocked", answer
        time.sleep(0.1)
    raise AssertionError("the challenge never cleared")


def eventually(condition: Callable[[], bool], within: float = DEADLINE) -> None:
    wait_for(condition, "the condition", timeout=within)


def assert_jpeg(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        assert image.format == "JPEG"
        assert image.size == (VIEWPORT["width"], VIEWPORT["height"])


# -- tests ------------------------------------------------------------------------------


def test_a_person_clears_the_challenge_and_certifies(
    client: TestClient, runtime: Runtime, site: LocalSite, tenant: Tenant
) -> None:
    url = site.url("/assisted/challenge")
    path = blocked_link(client, tenant, url)

    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    assert url in page.text
    assert runtime.settings.organisation in page.text
    assert "Cloudflare challenge" in page.text
    assert 'id="screen"' in page.text and 'id="certify"' in page.text
    policy = page.headers["content-security-policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy)
    assert nonce is not None and f'<script nonce="{nonce.group(1)}">' in page.text

    engine = engine_of(runtime)
    assert isinstance(engine, AssistingCaptureEngine)
    assert engine.pool.idle == SLOTS
    with client.websocket_connect(f"{path}/ws") as ws:
        ready = next_json(ws)
        assert ready["type"] == "ready"
        assert ready["url"] == url and ready["protection"] == "cloudflare"
        assert ready["viewport"] == VIEWPORT and ready["reattached"] is False
        assert engine.pool.idle == SLOTS - 1
        token = path.rsplit("/", 1)[1]
        session_id = runtime.webcaptures.assisted_session_id(token)
        assert session_id is not None
        assert isinstance(engine.assisted_session(session_id), LiveBrowser)
        assert_jpeg(next_frame(ws))

        ws.send_json({"type": "click", "x": VERIFY_BUTTON[0], "y": VERIFY_BUTTON[1]})
        certified = certify_when_cleared(ws)
        assert closing_code(ws) == 1000

    assert certified["certificateId"].startswith("WC-")
    assert certified["assisted"] is True and certified["url"] == url
    assert certified["finalUrl"] == site.url("/assisted/cleared")
    rid = certified["recordingId"]
    assert certified["links"]["self"] == f"/api/v1/certificates/{rid}"
    assert certified["links"]["verify"] == f"/cert/{certified['certificateId']}"
    # The browser and its slot are gone with the certification.
    assert engine.pool.idle == SLOTS
    assert runtime.webcaptures.assisted_session_id(token) is None

    meta = client.get(f"/api/v1/certificates/{rid}", headers=tenant.auth)
    assert meta.status_code == 200
    assert meta.json()["assisted"] is True
    assert meta.json()["certificateId"] == certified["certificateId"]
    assert meta.json()["finalUrl"] == site.url("/assisted/cleared")

    # The link works once.
    again = client.get(path)
    assert again.status_code == 410 and "already used" in again.text
    with client.websocket_connect(f"{path}/ws") as ws:
        refused = next_json(ws)
        assert refused == {
            "type": "error",
            "error": "assist_link_used",
            "message": "This assisted-capture link was already used.",
        }
        assert closing_code(ws) == 4410

    # The certificate is the link's account's alone.
    other = make_tenant(runtime, "pro")
    assert client.get(f"/api/v1/certificates/{rid}", headers=other.auth).status_code == 404
    listed = client.get("/api/v1/certificates", headers=other.auth).json()
    assert listed["data"] == []


def test_reconnecting_returns_to_the_same_browser_and_bad_input_is_answered(
    client: TestClient, runtime: Runtime, site: LocalSite, tenant: Tenant
) -> None:
    path = blocked_link(client, tenant, site.url("/assisted/challenge"))
    token = path.rsplit("/", 1)[1]
    engine = engine_of(runtime)

    with client.websocket_connect(f"{path}/ws") as first:
        assert next_json(first)["reattached"] is False
        session_id = runtime.webcaptures.assisted_session_id(token)
        first.send_json({"type": "click", "x": ANSWER_FIELD[0], "y": ANSWER_FIELD[1]})
        first.send_json({"type": "type", "text": "hum"})

        bad: list[tuple[str, str]] = [
            ("not json", "invalid_message"),
            ("[1, 2]", "invalid_message"),
            ('{"type": "click", "x": NaN, "y": 1}', "invalid_message"),
            (json.dumps({"type": "click", "x": "1", "y": 1}), "invalid_message"),
            (json.dumps({"type": "click", "x": True, "y": 1}), "invalid_message"),
            (json.dumps({"type": "type", "text": 5}), "invalid_message"),
            (json.dumps({"type": "fly"}), "invalid_message"),
            (json.dumps({"type": "x", "pad": "y" * 9000}), "invalid_message"),
            (json.dumps({"type": "click", "x": 5000, "y": 10}), "invalid_input"),
            (json.dumps({"type": "press", "key": "NoSuchKey"}), "invalid_input"),
            (json.dumps({"type": "scroll", "dx": 0, "dy": 10**7}), "invalid_input"),
            (json.dumps({"type": "type", "text": ""}), "invalid_input"),
        ]
        for text, code in bad:
            first.send_text(text)
            answer = next_json(first)
            assert answer["type"] == "error" and answer["error"] == code, (text, answer)
            assert answer["message"]
        first.send_bytes(b"\xff\xd8")
        assert next_json(first)["error"] == "invalid_message"
        synced(first)

    # Gone without certifying: the browser stays for the link.
    assert runtime.webcaptures.assisted_session_id(token) == session_id
    assert engine.pool.idle == SLOTS - 1

    with client.websocket_connect(f"{path}/ws") as second:
        ready = next_json(second)
        assert ready["reattached"] is True
        # A still page sends no new frames; the last one is shown again.
        assert_jpeg(next_frame(second))
        assert runtime.webcaptures.assisted_session_id(token) == session_id

        # Opened in another window: that one takes over, this one is told.
        with client.websocket_connect(f"{path}/ws") as third:
            assert next_json(third)["reattached"] is True
            replaced = next_json(second)
            assert replaced["type"] == "error" and replaced["error"] == "assist_viewer_replaced"
            assert closing_code(second) == 4409

            # The field still holds "hum" from the first connection: "an" completes it.
            third.send_json({"type": "type", "text": "an"})
            third.send_json({"type": "press", "key": "Enter"})
            certified = certify_when_cleared(third)
            assert closing_code(third) == 1000

    assert certified["finalUrl"] == site.url("/assisted/cleared")
    assert engine.pool.idle == SLOTS


def test_the_browser_closes_when_the_link_expires(
    client: TestClient, runtime: Runtime, site: LocalSite, tenant: Tenant
) -> None:
    engine = engine_of(runtime)
    expires = datetime.now(UTC) + timedelta(seconds=3)
    path = insert_grant(runtime, tenant, site.url("/assisted/challenge"), expires)
    with client.websocket_connect(f"{path}/ws") as ws:
        assert next_json(ws)["type"] == "ready"
        assert engine.pool.idle == SLOTS - 1
        expired = next_json(ws)
        assert datetime.now(UTC) >= expires
        assert expired["type"] == "error" and expired["error"] == "assist_link_expired"
        assert closing_code(ws) == 4410
    # The viewer hears of the end first; the browser context then closes, and its slot
    # comes back.
    eventually(lambda: engine.pool.idle == SLOTS)
    assert runtime.webcaptures.assisted_session_id(path.rsplit("/", 1)[1]) is None
    assert client.get(path).status_code == 410


def test_expired_unknown_and_withdrawn_links_are_refused(
    client: TestClient, runtime: Runtime, site: LocalSite, tenant: Tenant
) -> None:
    url = site.url("/assisted/challenge")
    expired = insert_grant(runtime, tenant, url, datetime.now(UTC) - timedelta(seconds=1))
    page = client.get(expired)
    assert page.status_code == 410
    assert page.headers["content-type"].startswith("text/html")
    assert "expired" in page.text and url not in page.text
    with client.websocket_connect(f"{expired}/ws") as ws:
        assert next_json(ws)["error"] == "assist_link_expired"
        assert closing_code(ws) == 4410

    unknown = f"/assist/{secrets.token_urlsafe(32)}"
    assert client.get(unknown).status_code == 404
    assert "Unknown link" in client.get(unknown).text
    with client.websocket_connect(f"{unknown}/ws") as ws:
        assert next_json(ws)["error"] == "assist_link_unknown"
        assert closing_code(ws) == 4404

    # Revoking the key that obtained a link withdraws the link.
    holder = make_tenant(runtime, "pro")
    live = insert_grant(runtime, holder, url, datetime.now(UTC) + timedelta(minutes=5))
    assert client.get(live).status_code == 200
    runtime.accounts.revoke_key(runtime.accounts.authenticate(holder.key).key_id)
    assert client.get(live).status_code == 410
    with client.websocket_connect(f"{live}/ws") as ws:
        assert next_json(ws)["error"] == "assist_link_revoked"
        assert closing_code(ws) == 4410
    assert engine_of(runtime).pool.idle == SLOTS


def test_a_page_on_another_origin_cannot_open_the_socket(
    client: TestClient, runtime: Runtime, site: LocalSite, tenant: Tenant
) -> None:
    path = insert_grant(
        runtime, tenant, site.url("/assisted/challenge"), datetime.now(UTC) + timedelta(minutes=5)
    )
    foreign = {"origin": "https://evil.example"}
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect(f"{path}/ws", headers=foreign),
    ):
        pass
    assert refused.value.code == 1008
    # Its own origin is let in (and then told the link is unknown).
    unknown = f"/assist/{secrets.token_urlsafe(32)}"
    with client.websocket_connect(f"{unknown}/ws", headers={"origin": "http://testserver"}) as ws:
        assert next_json(ws)["error"] == "assist_link_unknown"
        assert closing_code(ws) == 4404


# -- the page itself, in a browser --------------------------------------------------------


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Runtime]:
    """The app on a real loopback port, so a browser can open the page."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    runtime = _runtime(
        Settings(
            data_dir=tmp_path / "data",
            base_url=f"http://127.0.0.1:{port}",
            ots_calendars=[],
            embedded_workers=False,
            egress_allowlist=["127.0.0.1"],
            capture_slots=1,
            capture_timeout=30.0,
            capture_challenge_wait=0.5,
        )
    )
    server = uvicorn.Server(
        uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    eventually(lambda: server.started)
    yield runtime
    server.should_exit = True
    thread.join(timeout=60)
    runtime.close()


def test_the_page_shows_the_live_browser_and_forwards_clicks_and_keys(
    served: Runtime, site: LocalSite
) -> None:
    base = served.settings.base_url
    tenant = make_tenant(served, "pro")
    response = httpx.post(
        f"{base}/api/v1/certificates",
        json={"url": site.url("/assisted/challenge")},
        headers=tenant.auth,
        timeout=60,
    )
    assert response.status_code == 422, response.text
    link = response.json()["assistedCaptureUrl"]

    with sync_playwright() as playwright:
        person = playwright.chromium.launch(
            executable_path=str(served.settings.capture_chromium_path), args=browser_args()
        )
        try:
            # Smaller than the remote viewport: the click must be scaled back to it.
            page = person.new_page(viewport={"width": 900, "height": 1000})
            refused: list[str] = []
            page.on("console", lambda message: refused.append(message.text))
            page.goto(link)
            # Playwright's assertions give up after 5 s unless told otherwise.
            page.set_default_timeout(DEADLINE * 1000)
            expect.set_options(timeout=DEADLINE * 1000)
            expect(page.locator("#status")).to_have_text(re.compile("^Live"))
            expect(page.locator("#certify")).to_be_enabled()
            screen = page.locator("#screen")
            # The first frame is on the canvas: its pixels are no longer all blank.
            eventually(lambda: _painted(screen.screenshot()))

            box = screen.bounding_box()
            assert box is not None and box["width"] < VIEWPORT["width"]
            scale = box["width"] / VIEWPORT["width"]
            page.mouse.click(box["x"] + ANSWER_FIELD[0] * scale, box["y"] + ANSWER_FIELD[1] * scale)
            # The click gave the canvas the keyboard: keys go to the remote answer field.
            expect(screen).to_be_focused()
            page.keyboard.type("human")
            page.keyboard.press("Enter")
            # Certify once the remote page has moved on (the canvas shows it).
            deadline = time.monotonic() + DEADLINE
            while time.monotonic() < deadline:
                page.click("#certify")
                expect(page.locator("#status")).not_to_have_text(re.compile("^Certifying"))
                if page.locator("#status").text_content() == "Certified.":
                    break
                time.sleep(0.1)
            result = page.locator("#result")
            expect(result).to_contain_text("Certificate WC-")
            verify = result.locator("a").get_attribute("href")
            assert verify is not None and verify.startswith("/cert/WC-")
            # Nothing the page does is refused by its own security policy.
            assert not [text for text in refused if "Content Security Policy" in text]
        finally:
            person.close()

    listed = httpx.get(f"{base}/api/v1/certificates", headers=tenant.auth).json()["data"]
    assert [(item["assisted"], item["finalUrl"]) for item in listed] == [
        (True, site.url("/assisted/cleared"))
    ]


def _painted(png: bytes) -> bool:
    with Image.open(io.BytesIO(png)) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    # The empty canvas is one flat colour (and its border); a frame brings text and a button.
    return colours is None or len(colours) > 8
