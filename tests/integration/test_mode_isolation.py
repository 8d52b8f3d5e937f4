"""Test mode and live mode are two worlds: a key of one mode never sees or changes the
other mode's records, captures, seals or webhook endpoints, and finds them "not found"
(404, never 403, which would confirm that they exist). The mode comes from the key, never
from the body. One test per route family, each run in both directions."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from receivers import Receiver

from conftest import Tenant, make_tenant
from fakes.capture_engine import ScriptedEngine, with_scripted_captures
from notarium.adapters.store import migrate
from notarium.app.runtime import Runtime, build_runtime
from notarium.app.settings import Settings
from notarium.http.app import create_app
from unit.evidence.captures import sample_capture
from unit.sealing.support import make_pdf

MODES = ("live", "test")


@dataclass(frozen=True)
class Keys:
    account_id: str
    live: dict[str, str]
    test: dict[str, str]

    def of(self, mode: str) -> dict[str, str]:
        return self.live if mode == "live" else self.test

    def other(self, mode: str) -> dict[str, str]:
        return self.test if mode == "live" else self.live


def keys_for(runtime: Runtime, tenant: Tenant) -> Keys:
    test_key = runtime.accounts.create_key(tenant.account_id, mode="test").secret
    return Keys(tenant.account_id, tenant.auth, {"Authorization": f"Bearer {test_key}"})


@pytest.fixture
def keys(runtime: Runtime, tenant: Tenant) -> Keys:
    return keys_for(runtime, tenant)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize("mode", MODES)
def test_timestamps(client: TestClient, keys: Keys, mode: str) -> None:
    owner, stranger = keys.of(mode), keys.other(mode)
    created = client.post(
        "/api/v1/timestamps",
        headers={**owner, "Idempotency-Key": "same-key-in-both-modes"},
        json={"sha256_hash": _sha(f"ts {mode}"), "filename": "a.txt", "file_size_bytes": 1},
    )
    assert created.status_code == 201, created.text
    record_id = created.json()["id"]
    for suffix in ("", "/ots", "/tsr", "/proof", "/tlog-proof", "/certificate.pdf"):
        assert client.get(f"/api/v1/timestamps/{record_id}{suffix}", headers=owner).status_code in (
            200,
            202,
            404,
        )
        response = client.get(f"/api/v1/timestamps/{record_id}{suffix}", headers=stranger)
        assert response.status_code == 404, (suffix, response.text)
    assert client.get(f"/api/v1/timestamps/{record_id}", headers=owner).status_code == 200
    listed = client.get("/api/v1/timestamps", headers=stranger).json()
    assert record_id not in json.dumps(listed)
    assert record_id in json.dumps(client.get("/api/v1/timestamps", headers=owner).json())
    # The same Idempotency-Key under the other mode is another request, not a replay.
    replay = client.post(
        "/api/v1/timestamps",
        headers={**stranger, "Idempotency-Key": "same-key-in-both-modes"},
        json={"sha256_hash": _sha(f"ts {mode}"), "filename": "a.txt", "file_size_bytes": 1},
    )
    assert replay.status_code == 201 and replay.json()["id"] != record_id
    assert "Idempotent-Replayed" not in replay.headers


@pytest.mark.parametrize("mode", MODES)
def test_hash_certificates(client: TestClient, keys: Keys, mode: str) -> None:
    owner, stranger = keys.of(mode), keys.other(mode)
    digest = _sha(f"cert {mode}")
    created = client.post(
        "/v1/certificates",
        headers=owner,
        json={"sha256Hash": digest, "fileName": "a.pdf", "fileSize": 1, "metadataPublic": True},
    ).json()
    assert created["testMode"] is (mode == "test")
    for key in (created["certificateId"], created["publicId"]):
        for suffix in ("", "/proof", "/ots", "/certificate.pdf"):
            response = client.get(f"/v1/certificates/{key}{suffix}", headers=stranger)
            assert response.status_code == 404, (key, suffix)
            assert response.json()["error"]["code"] == "certificate_not_found"
        assert client.get(f"/v1/certificates/{key}", headers=owner).status_code == 200
    assert client.get("/v1/certificates", headers=stranger).json()["data"] == []
    assert len(client.get("/v1/certificates", headers=owner).json()["data"]) == 1
    # Verification is public and shows live certificates only.
    public = client.get(f"/v1/verify/{created['publicId']}")
    assert public.status_code == (200 if mode == "live" else 404)
    by_hash = client.get(f"/v1/verify/{digest}")
    assert by_hash.status_code == (200 if mode == "live" else 404)


@pytest.fixture
def local(settings: Settings) -> Iterator[tuple[Runtime, TestClient, Keys]]:
    configured = settings.model_copy(
        update={"egress_allowlist": ["127.0.0.1"], "webhook_https_only": False}
    )
    runtime = build_runtime(configured)
    migrate.upgrade(runtime.engine)
    with TestClient(create_app(runtime)) as client:
        yield runtime, client, keys_for(runtime, make_tenant(runtime))
    runtime.close()


@pytest.mark.parametrize("mode", MODES)
def test_webhook_endpoints(local: tuple[Runtime, TestClient, Keys], mode: str) -> None:
    runtime, client, keys = local
    owner, stranger = keys.of(mode), keys.other(mode)
    other_mode = "test" if mode == "live" else "live"
    events = ["certificate.created"]
    with Receiver() as mine, Receiver() as theirs:
        # `mode` in the body may only repeat the key's mode.
        refused = client.post(
            "/v1/webhooks",
            headers=owner,
            json={"url": mine.url, "events": events, "mode": other_mode},
        )
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == "invalid_webhook"
        assert client.get("/v1/webhooks", headers=owner).json()["data"] == []
        hook = client.post("/v1/webhooks", headers=owner, json={"url": mine.url, "events": events})
        assert hook.status_code == 201 and hook.json()["mode"] == mode
        hook_id = hook.json()["id"]
        other_hook = client.post(
            "/v1/webhooks", headers=stranger, json={"url": theirs.url, "events": events}
        ).json()
        assert other_hook["mode"] == other_mode

        client.post(
            "/v1/certificates",
            headers=owner,
            json={"sha256Hash": _sha(f"hook {mode}"), "fileName": "a", "fileSize": 1},
        )
        runtime.webhooks.deliver_due()
        (delivered,) = [json.loads(r.body) for r in mine.received]
        assert delivered["data"]["testMode"] is (mode == "test")
        assert theirs.received == []

        listed = client.get("/v1/webhooks", headers=stranger).json()["data"]
        assert [h["id"] for h in listed] == [other_hook["id"]]
        deliveries = client.get(f"/v1/webhooks/{hook_id}/deliveries", headers=owner).json()
        delivery_id = deliveries["data"][0]["id"]
        for method, path, body in (
            ("GET", f"/v1/webhooks/{hook_id}", None),
            ("PATCH", f"/v1/webhooks/{hook_id}", {"active": False}),
            ("POST", f"/v1/webhooks/{hook_id}/rotate-secret", None),
            ("GET", f"/v1/webhooks/{hook_id}/deliveries", None),
            ("POST", f"/v1/webhooks/{hook_id}/deliveries/{delivery_id}/redeliver", None),
            ("DELETE", f"/v1/webhooks/{hook_id}", None),
        ):
            response = client.request(method, path, headers=stranger, json=body)
            assert response.status_code == 404, (method, path)
            assert response.json()["error"]["code"] == "webhook_not_found"
        unchanged = client.get(f"/v1/webhooks/{hook_id}", headers=owner).json()
        assert unchanged["active"] is True and unchanged["updatedAt"] == hook.json()["updatedAt"]


@pytest.fixture
def capture_client(runtime: Runtime) -> Iterator[TestClient]:
    engine = ScriptedEngine(default=lambda url: sample_capture(requested_url=url))
    scripted = with_scripted_captures(runtime, engine, names={"news.example.test": "127.0.0.1"})
    with TestClient(create_app(scripted), raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize("mode", MODES)
def test_web_captures(capture_client: TestClient, keys: Keys, mode: str) -> None:
    owner, stranger = keys.of(mode), keys.other(mode)
    created = capture_client.post(
        "/api/v1/certificates", headers=owner, json={"url": "https://news.example.test/a"}
    )
    assert created.status_code == 201, created.text
    rid = created.json()["recordingId"]
    for suffix in ("", "/download", "/evidence"):
        response = capture_client.get(
            f"/api/v1/certificates/{rid}{suffix}", headers=stranger, follow_redirects=False
        )
        assert response.status_code == 404, suffix
        assert response.json()["error"] == "not_found"
        mine = capture_client.get(
            f"/api/v1/certificates/{rid}{suffix}", headers=owner, follow_redirects=False
        )
        assert mine.status_code in (200, 302), suffix
    assert capture_client.get("/api/v1/certificates", headers=stranger).json()["data"] == []
    listed = capture_client.get("/api/v1/certificates", headers=owner).json()["data"]
    assert [c["recordingId"] for c in listed] == [rid]


@pytest.mark.parametrize("mode", MODES)
def test_seals(client: TestClient, keys: Keys, mode: str) -> None:
    owner, stranger = keys.of(mode), keys.other(mode)
    sealed = client.post(
        "/api/v1/seal",
        headers=owner,
        files={"file": ("contract.pdf", make_pdf(), "application/pdf")},
    )
    assert sealed.status_code == 200, sealed.text
    record_id = sealed.headers["X-Notarium-Record-Id"]
    mine = client.get(f"/v1/certificates/{record_id}", headers=owner)
    assert mine.status_code == 200 and mine.json()["testMode"] is (mode == "test")
    assert client.get(f"/api/v1/timestamps/{record_id}", headers=owner).status_code == 200
    assert client.get(f"/api/v1/timestamps/{record_id}", headers=stranger).status_code == 404
    assert client.get(f"/v1/certificates/{record_id}", headers=stranger).status_code == 404
    proof = client.get(f"/api/v1/timestamps/{record_id}/proof", headers=stranger)
    assert proof.status_code == 404


def test_admin_needs_a_live_key(client: TestClient, runtime: Runtime) -> None:
    account, issued = runtime.accounts.create_account("operator", "pro")
    admin_test = runtime.accounts.create_key(account.id, mode="test", scopes=["admin"]).secret
    admin_live = runtime.accounts.create_key(account.id, mode="live", scopes=["admin"]).secret
    victim = make_tenant(runtime)
    # A test key must not issue itself live keys, which would open every live record.
    refused = client.post(
        f"/admin/v1/accounts/{victim.account_id}/keys",
        headers={"Authorization": f"Bearer {admin_test}"},
        json={"mode": "live"},
    )
    assert refused.status_code == 403
    assert "live" in refused.json()["error"]["message"]
    listed = client.get(
        f"/admin/v1/accounts/{victim.account_id}/keys",
        headers={"Authorization": f"Bearer {admin_test}"},
    )
    assert listed.status_code == 403
    allowed = client.get(
        f"/admin/v1/accounts/{victim.account_id}/keys",
        headers={"Authorization": f"Bearer {admin_live}"},
    )
    assert allowed.status_code == 200
    assert issued.secret not in allowed.text
