"""The web capture API, route by route and error by error, with a scripted capture
engine: what the browser does is tested in the capture engine's own tests; here the
evidence, the record, the allowance and the envelope are real."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from conftest import Tenant, make_tenant
from fakes.capture_engine import ScriptedEngine, with_scripted_captures
from notarium.app.runtime import Runtime
from notarium.http.app import create_app
from notarium.ledger.accounts.plans import PLANS
from notarium.ledger.records.values import Owner
from notarium.products.web_capture.browser.errors import (
    BotProtectionBlocked,
    CaptureFailed,
    ServiceBusy,
)
from notarium.verify.evidence import verify_evidence_package
from unit.evidence.captures import sample_capture

URL = "https://news.example.test/report"

# The resolver is a stand-in and the engine is scripted: no test here sends a packet.
NAMES = {
    "news.example.test": "127.0.0.1",
    "public.example.test": "93.184.215.14",
    "intranet.example.test": "10.1.2.3",
}


@pytest.fixture
def engine() -> ScriptedEngine:
    return ScriptedEngine(default=lambda url: sample_capture(requested_url=url))


@pytest.fixture
def capture_runtime(runtime: Runtime, engine: ScriptedEngine) -> Runtime:
    return with_scripted_captures(runtime, engine, names=NAMES)


@pytest.fixture
def api(capture_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(capture_runtime), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def pro(capture_runtime: Runtime) -> Tenant:
    return make_tenant(capture_runtime, "pro")


def post(api: TestClient, tenant: Tenant, body: object) -> object:
    return api.post("/api/v1/certificates", json=body, headers=tenant.auth)


def error_of(response: object) -> str:
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) >= {"error", "message", "requestId"}
    return str(body["error"])


def test_create_get_list_download_and_evidence(
    api: TestClient, pro: Tenant, capture_runtime: Runtime, tmp_path: object
) -> None:
    created = api.post("/api/v1/certificates", json={"url": URL}, headers=pro.auth)
    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) == {"certificateId", "recordingId", "url", "finalUrl", "status", "links"}
    assert body["url"] == URL
    assert body["finalUrl"] == sample_capture().final_url
    assert body["status"] == "ready"
    assert body["certificateId"].startswith("WC-")
    rid = body["recordingId"]
    assert body["links"]["self"] == f"/api/v1/certificates/{rid}"
    assert body["links"]["certificate"] == f"/api/v1/certificates/{rid}/download"

    meta = api.get(body["links"]["self"], headers=pro.auth)
    assert meta.status_code == 200
    assert meta.json()["type"] == "webcapture"
    assert meta.json()["certificateId"] == body["certificateId"]
    assert meta.json()["createdAt"].endswith("Z")

    listed = api.get("/api/v1/certificates", headers=pro.auth).json()
    assert [item["recordingId"] for item in listed["data"]] == [rid]

    # The record underneath is the manifest's hash, with its own RFC 3161 token.
    record = capture_runtime.records.get_by_public_id(
        Owner(pro.account_id, "live"), body["certificateId"]
    )
    assert record.channel == "capture"

    redirect = api.get(body["links"]["certificate"], headers=pro.auth, follow_redirects=False)
    assert redirect.status_code == 302
    location = redirect.headers["location"]
    assert "signature=" in location and "expires=" in location
    pdf = api.get(location.replace("http://testserver", ""))
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")

    evidence = api.get(f"/api/v1/certificates/{rid}/evidence", headers=pro.auth)
    assert evidence.status_code == 200
    assert evidence.headers["content-type"] == "application/zip"
    names = set(zipfile.ZipFile(io.BytesIO(evidence.content)).namelist())
    assert {"manifest.json", "capture.wacz", "proof.json", "certificate.pdf"} <= names
    manifest = zipfile.ZipFile(io.BytesIO(evidence.content)).read("manifest.json")
    assert hashlib.sha256(manifest).hexdigest() == record.sha256
    report = verify_evidence_package(evidence.content)
    assert report.ok, report.failed


def test_signed_links_cannot_be_altered_or_reused_after_expiry(
    api: TestClient, pro: Tenant, capture_runtime: Runtime
) -> None:
    rid = post(api, pro, {"url": URL}).json()["recordingId"]  # type: ignore[attr-defined]
    location = (
        api.get(f"/api/v1/certificates/{rid}/download", headers=pro.auth, follow_redirects=False)
        .headers["location"]
        .replace("http://testserver", "")
    )
    swapped = location.replace("certificate.pdf", "evidence.zip")
    assert api.get(swapped).status_code == 404
    bare = location.split("?")[0]
    assert api.get(bare).status_code == 404
    expires = int(location.split("expires=")[1].split("&")[0])
    extended = location.replace(f"expires={expires}", f"expires={expires + 3600}")
    assert api.get(extended).status_code == 404


def test_other_accounts_see_nothing(api: TestClient, pro: Tenant, capture_runtime: Runtime) -> None:
    rid = post(api, pro, {"url": URL}).json()["recordingId"]  # type: ignore[attr-defined]
    other = make_tenant(capture_runtime, "pro")
    for path in ("", "/download", "/evidence"):
        response = api.get(f"/api/v1/certificates/{rid}{path}", headers=other.auth)
        assert response.status_code == 404
        assert error_of(response) == "not_found"
    assert api.get("/api/v1/certificates", headers=other.auth).json()["data"] == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "invalid_url"),
        ({"url": ""}, "invalid_url"),
        ({"url": 42}, "invalid_url"),
        ({"url": "not a url"}, "invalid_url"),
        ({"url": "ftp://news.example.test/x"}, "invalid_url"),
        ({"url": "http://public.example.test/x"}, "invalid_url"),  # http outside the allowlist
        ({"url": "https://intranet.example.test/"}, "invalid_url"),  # private address
        ({"url": "https://127.0.0.2/"}, "invalid_url"),  # loopback outside the allowlist
        ({"url": "https://user:pw@news.example.test/"}, "invalid_url"),
    ],
)
def test_invalid_urls(
    api: TestClient, pro: Tenant, engine: ScriptedEngine, body: object, code: str
) -> None:
    response = post(api, pro, body)
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert error_of(response) == code
    assert engine.urls == []


def test_http_is_admitted_only_for_allowlisted_hosts(
    api: TestClient, pro: Tenant, engine: ScriptedEngine
) -> None:
    response = post(api, pro, {"url": "http://127.0.0.1:8080/page"})
    assert response.status_code == 201  # type: ignore[attr-defined]
    assert engine.urls == ["http://127.0.0.1:8080/page"]


def test_invalid_json_and_payload_too_large(api: TestClient, pro: Tenant) -> None:
    headers = {**pro.auth, "Content-Type": "application/json"}
    bad = api.post("/api/v1/certificates", content=b"{nope", headers=headers)
    assert bad.status_code == 400 and error_of(bad) == "invalid_json"
    array = api.post("/api/v1/certificates", content=b"[]", headers=headers)
    assert array.status_code == 400 and error_of(array) == "invalid_json"
    text = api.post("/api/v1/certificates", content=b"url", headers={**pro.auth})
    assert text.status_code == 400 and error_of(text) == "invalid_json"
    big = json.dumps({"url": URL, "pad": "x" * 70_000}).encode()
    too_large = api.post("/api/v1/certificates", content=big, headers=headers)
    assert too_large.status_code == 413 and error_of(too_large) == "payload_too_large"


def test_authentication_plan_and_scope(api: TestClient, capture_runtime: Runtime) -> None:
    missing = api.post("/api/v1/certificates", json={"url": URL})
    assert missing.status_code == 401 and error_of(missing) == "invalid_api_key"
    wrong = api.post(
        "/api/v1/certificates", json={"url": URL}, headers={"Authorization": "Bearer ntk_live_x"}
    )
    assert wrong.status_code == 401 and error_of(wrong) == "invalid_api_key"

    free = make_tenant(capture_runtime, "free")
    response = post(api, free, {"url": URL})
    assert response.status_code == 402 and error_of(response) == "api_access_required"  # type: ignore[attr-defined]

    starter = make_tenant(capture_runtime, "starter")
    response = post(api, starter, {"url": URL})
    assert response.status_code == 403 and error_of(response) == "subscription_required"  # type: ignore[attr-defined]

    account = make_tenant(capture_runtime, "pro")
    issued = capture_runtime.accounts.create_key(
        account.account_id, mode="live", scopes=["certificates:read"]
    )
    reader = Tenant(account.account_id, issued.secret)
    response = post(api, reader, {"url": URL})
    assert response.status_code == 403 and error_of(response) == "insufficient_scope"  # type: ignore[attr-defined]


def test_daily_quota_is_spent_only_by_certificates(
    api: TestClient,
    capture_runtime: Runtime,
    engine: ScriptedEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    limit = 3
    monkeypatch.setitem(PLANS, "pro", dataclasses.replace(PLANS["pro"], daily_captures=limit))
    tenant = make_tenant(capture_runtime, "pro")
    engine.outcomes = [CaptureFailed("unreachable"), BotProtectionBlocked("x", kind="cloudflare")]
    assert post(api, tenant, {"url": URL}).status_code == 502  # type: ignore[attr-defined]
    assert post(api, tenant, {"url": URL}).status_code == 422  # type: ignore[attr-defined]
    for index in range(limit):
        engine.outcomes = [sample_capture(title=f"page {index}", dom_html=f"<p>{index}</p>")]
        assert post(api, tenant, {"url": URL}).status_code == 201  # type: ignore[attr-defined]
    refused = post(api, tenant, {"url": URL})
    assert refused.status_code == 429  # type: ignore[attr-defined]
    assert error_of(refused) == "quota_exceeded"
    assert 0 < int(refused.headers["Retry-After"]) <= 86_400  # type: ignore[attr-defined]


def test_capture_errors(api: TestClient, pro: Tenant, engine: ScriptedEngine) -> None:
    engine.outcomes = [CaptureFailed("the host did not answer")]
    failed = post(api, pro, {"url": URL})
    assert failed.status_code == 502 and error_of(failed) == "capture_failed"  # type: ignore[attr-defined]

    engine.outcomes = [ServiceBusy("every slot is taken")]
    busy = post(api, pro, {"url": URL})
    assert busy.status_code == 429 and error_of(busy) == "service_busy"  # type: ignore[attr-defined]
    assert busy.headers["Retry-After"] == "30"  # type: ignore[attr-defined]

    engine.outcomes = [sample_capture(exchanges=(), har=b"")]
    empty = post(api, pro, {"url": URL})
    assert empty.status_code == 502 and error_of(empty) == "certification_failed"  # type: ignore[attr-defined]

    # An unknown host is a page that cannot be loaded, not a malformed request.
    unknown = post(api, pro, {"url": "https://nowhere.example.test/"})
    assert unknown.status_code == 502 and error_of(unknown) == "capture_failed"  # type: ignore[attr-defined]


def test_bot_protection_answers_with_an_assisted_capture_link(
    api: TestClient, pro: Tenant, engine: ScriptedEngine, capture_runtime: Runtime
) -> None:
    engine.outcomes = [BotProtectionBlocked("challenge", kind="cloudflare")]
    blocked = post(api, pro, {"url": URL})
    assert blocked.status_code == 422  # type: ignore[attr-defined]
    body = blocked.json()  # type: ignore[attr-defined]
    assert body["error"] == "bot_protection_blocked"
    assert body["protection"] == "cloudflare"
    assert body["assistedCaptureUrl"].startswith("http://testserver/assist/")
    token = body["assistedCaptureUrl"].rsplit("/", 1)[1]
    grant = capture_runtime.webcaptures.open_grant(token)
    assert grant.account_id == pro.account_id and grant.url == URL


def test_rate_limit(api: TestClient, pro: Tenant) -> None:
    statuses = []
    for _ in range(31):
        response = post(api, pro, {"url": "ftp://x"})
        statuses.append(response.status_code)  # type: ignore[attr-defined]
    assert statuses[:30] == [400] * 30
    assert statuses[30] == 429
    assert error_of(response) == "rate_limited"
    assert int(response.headers["Retry-After"]) > 0  # type: ignore[attr-defined]


def test_close_releases_the_engine(capture_runtime: Runtime, engine: ScriptedEngine) -> None:
    service = capture_runtime.webcaptures
    assert service.engine() is engine
    asyncio.run(service.close())
    assert service._engine is None


@contextlib.contextmanager
def selects_on(engine: Engine) -> Iterator[list[str]]:
    """Every SELECT that reads a table, as sent to the database while the block runs."""
    seen: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        text = " ".join(statement.split()).lower()
        if text.startswith("select") and " from " in text:
            seen.append(text)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_the_list_and_a_read_cost_one_query_whatever_the_page_size(
    api: TestClient, pro: Tenant, capture_runtime: Runtime
) -> None:
    for index in range(3):
        assert post(api, pro, {"url": f"{URL}/{index}"}).status_code == 201  # type: ignore[attr-defined]
    owner = Owner(pro.account_id, "live")
    service = capture_runtime.webcaptures

    with selects_on(capture_runtime.engine) as paged:
        views = service.page(owner, before=None, limit=10)
    assert len(views) == 3 and len(paged) == 1, paged
    statuses = {v.record_id: capture_runtime.records.get(owner, v.record_id).status for v in views}
    assert {v.record_id: v.record_status for v in views} == statuses

    with selects_on(capture_runtime.engine) as read:
        view = service.get(owner, views[0].recording_id)
    assert len(read) == 1, read
    assert view.record_status == statuses[view.record_id]

    # Through the API: the records table is read once for the whole page, not per item.
    with selects_on(capture_runtime.engine) as listed:
        body = api.get("/api/v1/certificates", headers=pro.auth).json()
    assert [item["recordStatus"] for item in body["data"]] == [v.record_status for v in views]
    assert len([s for s in listed if " records " in f"{s} "]) == 1, listed
