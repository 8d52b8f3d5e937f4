"""The hash timestamps API, against the contract in hash-timestamps-api.txt."""

from __future__ import annotations

import hashlib
import json
import re
import uuid

import pytest
from fastapi.testclient import TestClient

from conftest import Tenant, make_tenant
from notarium.adapters.store.models import UsageCounter
from notarium.app.runtime import Runtime

DOC_HASH = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
RESOURCE_KEYS = {
    "id",
    "certificate_id",
    "sha256_hash",
    "filename",
    "file_size_bytes",
    "file_type",
    "status",
    "blockchain_tx",
    "bitcoin_block",
    "confirmed_at",
    "created_at",
    "thumbnail_url",
    "branding_snapshot",
    "certificate_url",
    "verify_url",
    "ots_url",
}
ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def body(sha: str = DOC_HASH, **extra: object) -> dict[str, object]:
    payload: dict[str, object] = {
        "sha256_hash": sha,
        "filename": "msa-v3.pdf",
        "file_size_bytes": 248331,
        "file_type": "application/pdf",
    }
    payload.update(extra)
    return payload


def sha(n: int | str) -> str:
    return hashlib.sha256(str(n).encode()).hexdigest()


def create(
    client: TestClient, tenant: Tenant, payload: dict[str, object] | None = None, **headers: str
) -> object:
    return client.post(
        "/api/v1/timestamps", json=payload or body(), headers={**tenant.auth, **headers}
    )


def error_code(response: object) -> str:
    data = response.json()  # type: ignore[attr-defined]
    assert set(data) == {"error"}
    assert set(data["error"]) == {"code", "message", "request_id"}
    assert data["error"]["request_id"] == response.headers["x-request-id"]  # type: ignore[attr-defined]
    assert data["error"]["message"]
    return str(data["error"]["code"])


def test_create_returns_canonical_resource(client: TestClient, tenant: Tenant) -> None:
    response = create(client, tenant, **{"Idempotency-Key": "contract-msa-v3-2026-04-13"})
    assert response.status_code == 201
    data = response.json()
    assert set(data) >= RESOURCE_KEYS
    assert uuid.UUID(data["id"]).version == 4
    assert re.fullmatch(r"TS-[0-9A-Z]{8}", data["certificate_id"])
    assert data["sha256_hash"] == DOC_HASH
    assert (data["filename"], data["file_size_bytes"], data["file_type"]) == (
        "msa-v3.pdf",
        248331,
        "application/pdf",
    )
    assert data["status"] == "pending"
    assert data["blockchain_tx"] is None and data["bitcoin_block"] is None
    assert data["confirmed_at"] is None
    assert ISO_MS.match(data["created_at"])
    assert data["certificate_url"] == f"http://testserver/cert/{data['certificate_id']}"
    assert data["verify_url"] == f"http://testserver/verify/{DOC_HASH}"
    assert data["ots_url"] == f"/api/v1/timestamps/{data['id']}/ots"
    assert response.headers["x-request-id"].startswith("req_")


def test_uppercase_hash_is_normalised(client: TestClient, tenant: Tenant) -> None:
    response = create(client, tenant, body(DOC_HASH.upper()))
    assert response.status_code == 201
    assert response.json()["sha256_hash"] == DOC_HASH


def test_get_and_list(client: TestClient, tenant: Tenant) -> None:
    ids = [create(client, tenant, body(sha(i))).json()["id"] for i in range(5)]
    one = client.get(f"/api/v1/timestamps/{ids[2]}", headers=tenant.auth)
    assert one.status_code == 200 and one.json()["id"] == ids[2]

    listing = client.get("/api/v1/timestamps", headers=tenant.auth).json()
    assert listing["total_count"] == 5
    assert [r["id"] for r in listing["data"]] == list(reversed(ids))
    assert listing["next_cursor"] is None


def test_cursor_pagination_walks_every_record_once(client: TestClient, tenant: Tenant) -> None:
    ids = {create(client, tenant, body(sha(i))).json()["id"] for i in range(7)}
    seen: list[str] = []
    url = "/api/v1/timestamps?limit=3"
    while True:
        page = client.get(url, headers=tenant.auth).json()
        assert page["total_count"] == 7
        assert len(page["data"]) <= 3
        seen += [r["id"] for r in page["data"]]
        if page["next_cursor"] is None:
            break
        url = f"/api/v1/timestamps?limit=3&before={page['next_cursor']}"
    assert len(seen) == 7 and set(seen) == ids


def test_limit_is_capped_at_50(client: TestClient, tenant: Tenant, runtime: Runtime) -> None:
    # Seeded through the service: 52 creates would exceed the 30/min create limit.
    from notarium.ledger.accounts.plans import plan_named
    from notarium.ledger.records.values import NewRecord, Owner

    owner = Owner(tenant.account_id, "live")
    for i in range(52):
        runtime.records.create(owner, plan_named("pro"), NewRecord(sha(i), "f.txt", 1))
    page = client.get("/api/v1/timestamps?limit=500", headers=tenant.auth).json()
    assert len(page["data"]) == 50 and page["total_count"] == 52 and page["next_cursor"]


def test_status_filter(client: TestClient, tenant: Tenant, runtime: Runtime) -> None:
    first = create(client, tenant, body(sha(1))).json()["id"]
    create(client, tenant, body(sha(2)))
    from notarium.adapters.store.models import Record

    with runtime.sessions.begin() as session:
        row = session.get(Record, first)
        assert row is not None
        row.status = "confirmed"
    confirmed = client.get("/api/v1/timestamps?status=confirmed", headers=tenant.auth).json()
    pending = client.get("/api/v1/timestamps?status=pending", headers=tenant.auth).json()
    failed = client.get("/api/v1/timestamps?status=failed", headers=tenant.auth).json()
    assert [r["id"] for r in confirmed["data"]] == [first]
    assert confirmed["total_count"] == 1
    assert pending["total_count"] == 1 and pending["data"][0]["id"] != first
    assert failed["total_count"] == 0 and failed["data"] == []


def test_anchoring_reads_as_pending(client: TestClient, tenant: Tenant, runtime: Runtime) -> None:
    """The document's vocabulary is pending | confirmed | failed: a record whose batch is
    being anchored is still pending to its clients, in every view and filter."""
    anchoring = create(client, tenant, body(sha(1))).json()["id"]
    pending = create(client, tenant, body(sha(2))).json()["id"]
    from notarium.adapters.store.models import Record

    with runtime.sessions.begin() as session:
        row = session.get(Record, anchoring)
        assert row is not None
        row.status = "anchoring"
    one = client.get(f"/api/v1/timestamps/{anchoring}", headers=tenant.auth).json()
    assert one["status"] == "pending"
    listed = client.get("/api/v1/timestamps", headers=tenant.auth).json()
    assert {r["id"]: r["status"] for r in listed["data"]} == {
        anchoring: "pending",
        pending: "pending",
    }
    queue = client.get("/api/v1/timestamps?status=pending", headers=tenant.auth).json()
    assert {r["id"] for r in queue["data"]} == {anchoring, pending}
    assert queue["total_count"] == 2
    refused = client.get("/api/v1/timestamps?status=anchoring", headers=tenant.auth)
    assert refused.status_code == 400 and error_code(refused) == "INVALID_STATUS"
    schema = client.get("/openapi.json").json()
    resource = schema["components"]["schemas"]["TimestampResource"]["properties"]["status"]
    assert resource["enum"] == ["pending", "confirmed", "failed"]
    listing = schema["paths"]["/api/v1/timestamps"]["get"]["parameters"]
    (status,) = [p for p in listing if p["name"] == "status"]
    assert status["schema"]["enum"] == ["all", "pending", "confirmed", "failed"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("status=done", "INVALID_STATUS"),
        ("limit=0", "INVALID_LIMIT"),
        ("limit=-3", "INVALID_LIMIT"),
        ("limit=ten", "INVALID_LIMIT"),
        ("before=yesterday", "INVALID_CURSOR"),
        ("before=2026-13-45T00:00:00Z", "INVALID_CURSOR"),
    ],
)
def test_list_query_errors(client: TestClient, tenant: Tenant, query: str, code: str) -> None:
    response = client.get(f"/api/v1/timestamps?{query}", headers=tenant.auth)
    assert response.status_code == 400
    assert error_code(response) == code


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (body("xyz"), "INVALID_SHA256_HASH"),
        (body(DOC_HASH[:-1]), "INVALID_SHA256_HASH"),
        (body(DOC_HASH + "0"), "INVALID_SHA256_HASH"),
        (body("g" * 64), "INVALID_SHA256_HASH"),
        (body(12345), "INVALID_SHA256_HASH"),
        ({k: v for k, v in body().items() if k != "sha256_hash"}, "INVALID_SHA256_HASH"),
        (body(filename=""), "INVALID_FILENAME"),
        (body(filename="   "), "INVALID_FILENAME"),
        (body(filename=None), "INVALID_FILENAME"),
        (body(filename=["a"]), "INVALID_FILENAME"),
        (body(filename="a\x00b"), "INVALID_FILENAME"),
        (body(filename="x" * 1025), "INVALID_FILENAME"),
        ({k: v for k, v in body().items() if k != "filename"}, "INVALID_FILENAME"),
        (body(file_size_bytes=0), "INVALID_FILE_SIZE"),
        (body(file_size_bytes=-1), "INVALID_FILE_SIZE"),
        (body(file_size_bytes=1.5), "INVALID_FILE_SIZE"),
        (body(file_size_bytes="12"), "INVALID_FILE_SIZE"),
        (body(file_size_bytes=True), "INVALID_FILE_SIZE"),
        (body(file_size_bytes=2**53), "INVALID_FILE_SIZE"),
        ({k: v for k, v in body().items() if k != "file_size_bytes"}, "INVALID_FILE_SIZE"),
        (body(file_type=7), "INVALID_FILE_TYPE"),
        (body(file_type={"a": 1}), "INVALID_FILE_TYPE"),
        (body(file_type="a" * 256), "INVALID_FILE_TYPE"),
    ],
)
def test_create_field_errors(
    client: TestClient, tenant: Tenant, runtime: Runtime, payload: dict[str, object], code: str
) -> None:
    response = create(client, tenant, payload)
    assert response.status_code == 400
    assert error_code(response) == code
    assert client.get("/api/v1/timestamps", headers=tenant.auth).json()["total_count"] == 0


def test_file_type_may_be_omitted_or_null(client: TestClient, tenant: Tenant) -> None:
    payload = body(sha(1))
    del payload["file_type"]
    assert create(client, tenant, payload).json()["file_type"] is None
    assert create(client, tenant, body(sha(2), file_type=None)).status_code == 201


@pytest.mark.parametrize(
    "raw",
    [b"{", b"[]", b'"text"', b"null", b'{"sha256_hash": NaN}', b"\xff\xfe", b"", b"[" * 5000],
)
def test_invalid_json(client: TestClient, tenant: Tenant, raw: bytes) -> None:
    response = client.post(
        "/api/v1/timestamps",
        content=raw,
        headers={**tenant.auth, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert error_code(response) == "INVALID_JSON"


def test_wrong_content_type_is_invalid_json(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        "/api/v1/timestamps",
        content=json.dumps(body()),
        headers={**tenant.auth, "Content-Type": "text/plain"},
    )
    assert response.status_code == 400
    assert error_code(response) == "INVALID_JSON"


def test_oversized_body_is_413(client: TestClient, tenant: Tenant) -> None:
    response = create(client, tenant, body(filename="a" * 70_000))
    assert response.status_code == 413
    assert error_code(response) == "PAYLOAD_TOO_LARGE"


def test_oversized_chunked_body_is_413(client: TestClient, tenant: Tenant) -> None:
    def chunks() -> object:
        for _ in range(20):
            yield b"x" * 8192

    response = client.post(
        "/api/v1/timestamps",
        content=chunks(),
        headers={**tenant.auth, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert error_code(response) == "PAYLOAD_TOO_LARGE"


def test_authentication_errors(client: TestClient, tenant: Tenant, runtime: Runtime) -> None:
    missing = client.get("/api/v1/timestamps")
    assert missing.status_code == 401 and error_code(missing) == "AUTHENTICATION_REQUIRED"
    basic = client.get("/api/v1/timestamps", headers={"Authorization": "Basic abc"})
    assert basic.status_code == 401 and error_code(basic) == "AUTHENTICATION_REQUIRED"
    garbage = client.get("/api/v1/timestamps", headers={"Authorization": "Bearer nope"})
    assert garbage.status_code == 401 and error_code(garbage) == "INVALID_API_KEY"
    # Well formed with a valid checksum, but never issued.
    from notarium.ledger.accounts.keys import generate_key

    unknown = generate_key("live").secret
    response = client.get("/api/v1/timestamps", headers={"Authorization": f"Bearer {unknown}"})
    assert response.status_code == 401 and error_code(response) == "INVALID_API_KEY"
    # One flipped character breaks the checksum.
    flipped = tenant.key[:-1] + ("A" if tenant.key[-1] != "A" else "B")
    response = client.get("/api/v1/timestamps", headers={"Authorization": f"Bearer {flipped}"})
    assert response.status_code == 401 and error_code(response) == "INVALID_API_KEY"


def test_rotation_revokes_previous_key_at_once(
    client: TestClient, tenant: Tenant, runtime: Runtime
) -> None:
    assert client.get("/api/v1/timestamps", headers=tenant.auth).status_code == 200
    new = runtime.accounts.rotate_key(tenant.account_id).secret
    old = client.get("/api/v1/timestamps", headers=tenant.auth)
    assert old.status_code == 401 and error_code(old) == "INVALID_API_KEY"
    fresh = client.get("/api/v1/timestamps", headers={"Authorization": f"Bearer {new}"})
    assert fresh.status_code == 200


def test_free_plan_is_not_entitled(client: TestClient, runtime: Runtime) -> None:
    free = make_tenant(runtime, plan="free")
    response = create(client, free)
    assert response.status_code == 403 and error_code(response) == "PLAN_NOT_ENTITLED"


def test_missing_scope_is_refused(client: TestClient, tenant: Tenant, runtime: Runtime) -> None:
    read_only = runtime.accounts.create_key(tenant.account_id, scopes=["timestamps:read"]).secret
    response = client.post(
        "/api/v1/timestamps", json=body(), headers={"Authorization": f"Bearer {read_only}"}
    )
    assert response.status_code == 403 and error_code(response) == "INSUFFICIENT_SCOPE"
    assert (
        client.get(
            "/api/v1/timestamps", headers={"Authorization": f"Bearer {read_only}"}
        ).status_code
        == 200
    )


def test_duplicate_hash_is_409_per_owner(
    client: TestClient, tenant: Tenant, runtime: Runtime
) -> None:
    first = create(client, tenant)
    again = create(client, tenant, body(filename="other.pdf"))
    assert again.status_code == 409 and error_code(again) == "DUPLICATE_TIMESTAMP"
    assert first.json()["id"] in again.json()["error"]["message"]
    other = make_tenant(runtime)
    assert create(client, other).status_code == 201


def test_other_accounts_records_are_not_found(
    client: TestClient, tenant: Tenant, runtime: Runtime
) -> None:
    record_id = create(client, tenant).json()["id"]
    other = make_tenant(runtime)
    for suffix in ("", "/ots", "/tsr", "/proof"):
        response = client.get(f"/api/v1/timestamps/{record_id}{suffix}", headers=other.auth)
        assert response.status_code == 404, suffix
        assert error_code(response) == "TIMESTAMP_NOT_FOUND"
    assert client.get("/api/v1/timestamps", headers=other.auth).json()["total_count"] == 0
    unknown = client.get(f"/api/v1/timestamps/{uuid.uuid4()}", headers=tenant.auth)
    assert unknown.status_code == 404 and error_code(unknown) == "TIMESTAMP_NOT_FOUND"


def test_invalid_id(client: TestClient, tenant: Tenant) -> None:
    for suffix in ("", "/ots", "/tsr", "/proof"):
        response = client.get(f"/api/v1/timestamps/not-a-uuid{suffix}", headers=tenant.auth)
        assert response.status_code == 400 and error_code(response) == "INVALID_ID"


def test_ots_not_found_until_anchored(client: TestClient, tenant: Tenant) -> None:
    record_id = create(client, tenant).json()["id"]
    response = client.get(f"/api/v1/timestamps/{record_id}/ots", headers=tenant.auth)
    assert response.status_code == 404 and error_code(response) == "OTS_NOT_FOUND"


def test_test_mode_keys_see_only_test_records(
    client: TestClient, tenant: Tenant, runtime: Runtime
) -> None:
    test_key = runtime.accounts.create_key(tenant.account_id, mode="test").secret
    test_auth = {"Authorization": f"Bearer {test_key}"}
    live_id = create(client, tenant).json()["id"]
    # The same hash is a separate record in test mode: the duplicate rule is per mode.
    test_resp = client.post("/api/v1/timestamps", json=body(), headers=test_auth)
    assert test_resp.status_code == 201
    assert client.get(f"/api/v1/timestamps/{live_id}", headers=test_auth).status_code == 404
    assert (
        client.get(f"/api/v1/timestamps/{test_resp.json()['id']}", headers=tenant.auth).status_code
        == 404
    )
    assert runtime.records.usage(tenant.account_id) == 1


class TestIdempotency:
    def test_replay_returns_original_response(self, client: TestClient, tenant: Tenant) -> None:
        first = create(client, tenant, **{"Idempotency-Key": "job-1"})
        second = create(client, tenant, **{"Idempotency-Key": "job-1"})
        assert first.status_code == second.status_code == 201
        assert first.json() == second.json()
        assert second.headers["idempotent-replayed"] == "true"
        assert client.get("/api/v1/timestamps", headers=tenant.auth).json()["total_count"] == 1

    def test_replay_returns_stored_error(self, client: TestClient, tenant: Tenant) -> None:
        create(client, tenant)
        first = create(client, tenant, **{"Idempotency-Key": "dup"})
        second = create(client, tenant, **{"Idempotency-Key": "dup"})
        assert first.status_code == second.status_code == 409
        assert first.json() == second.json()

    def test_mismatch(self, client: TestClient, tenant: Tenant) -> None:
        create(client, tenant, **{"Idempotency-Key": "job-2"})
        other = create(client, tenant, body(sha("other")), **{"Idempotency-Key": "job-2"})
        assert other.status_code == 422 and error_code(other) == "IDEMPOTENCY_MISMATCH"

    @pytest.mark.parametrize("key", ["", " ", "k" * 201])
    def test_invalid_key(self, client: TestClient, tenant: Tenant, key: str) -> None:
        response = create(client, tenant, **{"Idempotency-Key": key})
        assert response.status_code == 400 and error_code(response) == "INVALID_IDEMPOTENCY_KEY"

    def test_key_of_200_characters_is_accepted(self, client: TestClient, tenant: Tenant) -> None:
        assert create(client, tenant, **{"Idempotency-Key": "k" * 200}).status_code == 201

    def test_in_progress(self, client: TestClient, tenant: Tenant, runtime: Runtime) -> None:
        payload = json.dumps(body()).encode()
        claim = runtime.idempotency.claim(
            tenant.account_id, "timestamps.create:live", "busy", hashlib.sha256(payload).hexdigest()
        )
        response = client.post(
            "/api/v1/timestamps",
            content=payload,
            headers={**tenant.auth, "Content-Type": "application/json", "Idempotency-Key": "busy"},
        )
        assert response.status_code == 409 and error_code(response) == "IDEMPOTENCY_IN_PROGRESS"
        runtime.idempotency.release(claim)  # type: ignore[arg-type]
        retry = client.post(
            "/api/v1/timestamps",
            content=payload,
            headers={**tenant.auth, "Content-Type": "application/json", "Idempotency-Key": "busy"},
        )
        assert retry.status_code == 201

    def test_keys_are_per_account(
        self, client: TestClient, tenant: Tenant, runtime: Runtime
    ) -> None:
        other = make_tenant(runtime)
        a = create(client, tenant, **{"Idempotency-Key": "shared"})
        b = create(client, other, **{"Idempotency-Key": "shared"})
        assert a.status_code == b.status_code == 201
        assert a.json()["id"] != b.json()["id"]


def test_monthly_quota(client: TestClient, tenant: Tenant, runtime: Runtime) -> None:
    from notarium.ledger.records.service import quota_period

    assert create(client, tenant, body(sha(0))).status_code == 201
    period = quota_period(runtime.clock.now())
    with runtime.sessions.begin() as session:
        counter = session.get(UsageCounter, (tenant.account_id, period))
        assert counter is not None and counter.used == 1
        counter.used = 5_000  # the pro plan's allowance
    response = create(client, tenant, body(sha(1)))
    assert response.status_code == 429 and error_code(response) == "MONTHLY_LIMIT_REACHED"
    assert int(response.headers["retry-after"]) > 0
    assert client.get("/api/v1/timestamps", headers=tenant.auth).json()["total_count"] == 1


def test_rate_limit_headers_and_create_limit(client: TestClient, tenant: Tenant) -> None:
    statuses = []
    for i in range(31):
        response = create(client, tenant, body(sha(i)))
        statuses.append(response.status_code)
        assert response.headers["x-ratelimit-limit"]
        assert response.headers["x-ratelimit-remaining"]
        assert response.headers["x-ratelimit-reset"]
    assert statuses[:30] == [201] * 30
    limited = create(client, tenant, body(sha(99)))
    assert limited.status_code == 429 and error_code(limited) == "RATE_LIMITED"
    assert 0 < int(limited.headers["retry-after"]) <= 60
    assert limited.headers["x-ratelimit-remaining"] == "0"
    # Reads have their own, larger bucket.
    assert client.get("/api/v1/timestamps", headers=tenant.auth).status_code == 200


def test_general_limit_is_120_per_key(client: TestClient, tenant: Tenant) -> None:
    codes = [client.get("/api/v1/me", headers=tenant.auth).status_code for _ in range(121)]
    assert codes[:120] == [200] * 120 and codes[120] == 429


def test_unexpected_failure_is_500_envelope_with_request_id(
    client: TestClient, tenant: Tenant, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_args: object, **_kwargs: object) -> object:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(runtime.records, "page", explode)
    response = client.get("/api/v1/timestamps", headers=tenant.auth)
    assert response.status_code == 500
    assert error_code(response) == "INTERNAL_ERROR"
    assert "disk on fire" not in response.text


def test_signing_failure_leaves_no_record(
    client: TestClient, tenant: Tenant, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**_kwargs: object) -> object:
        raise RuntimeError("HSM unplugged")

    monkeypatch.setattr(runtime.records.issuer, "issue", broken)
    response = create(client, tenant, **{"Idempotency-Key": "retry-me"})
    assert response.status_code == 500
    monkeypatch.undo()
    assert client.get("/api/v1/timestamps", headers=tenant.auth).json()["total_count"] == 0
    # The failed attempt released its key, so the retry runs.
    assert create(client, tenant, **{"Idempotency-Key": "retry-me"}).status_code == 201


def test_unknown_route_uses_envelope(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and error_code(response) == "NOT_FOUND"
