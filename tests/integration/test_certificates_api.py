"""The hash certificates API against hash-certificates-webhooks-api.txt."""

from __future__ import annotations

import base64
import hashlib

import pytest
import yaml
from fastapi.testclient import TestClient

from conftest import Tenant, make_tenant
from notarium.app.runtime import Runtime

EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
METADATA = {"customerId": "cust_abc123", "orderId": "ord_xyz789", "region": "eu-west"}


def body(sha: str = EMPTY, **extra: object) -> dict[str, object]:
    payload: dict[str, object] = {
        "sha256Hash": sha,
        "fileName": "contract.pdf",
        "fileSize": 204800,
        "metadata": METADATA,
    }
    payload.update(extra)
    return payload


def code(response: object) -> str:
    data = response.json()  # type: ignore[attr-defined]
    assert set(data) == {"error"} and set(data["error"]) == {"code", "message", "requestId"}
    assert data["error"]["requestId"] == response.headers["x-request-id"]  # type: ignore[attr-defined]
    return str(data["error"]["code"])


def test_create_get_list_echo_metadata(client: TestClient, tenant: Tenant) -> None:
    created = client.post("/v1/certificates", json=body(), headers=tenant.auth)
    assert created.status_code == 201
    cert = created.json()
    assert cert["sha256Hash"] == EMPTY and cert["fileName"] == "contract.pdf"
    assert cert["fileSize"] == 204800 and cert["metadata"] == METADATA
    assert cert["status"] == "created" and cert["testMode"] is False
    assert cert["publicId"].startswith("HC-")
    for key in (cert["certificateId"], cert["publicId"], cert["publicId"].lower()):
        fetched = client.get(f"/v1/certificates/{key}", headers=tenant.auth)
        assert fetched.status_code == 200 and fetched.json() == cert
    listing = client.get("/v1/certificates", headers=tenant.auth).json()
    assert listing["data"] == [cert] and listing["hasMore"] is False


def test_cursor_pages(client: TestClient, tenant: Tenant) -> None:
    made = [
        client.post(
            "/v1/certificates",
            headers=tenant.auth,
            json=body(hashlib.sha256(bytes([i])).hexdigest()),
        ).json()["certificateId"]
        for i in range(5)
    ]
    seen: list[str] = []
    url = "/v1/certificates?limit=2"
    while url:
        page = client.get(url, headers=tenant.auth).json()
        seen += [c["certificateId"] for c in page["data"]]
        url = f"/v1/certificates?limit=2&cursor={page['nextCursor']}" if page["hasMore"] else ""
    assert seen == list(reversed(made))
    bad = client.get("/v1/certificates?cursor=!!", headers=tenant.auth)
    assert bad.status_code == 400 and code(bad) == "invalid_cursor"


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (body("nope"), "invalid_hash"),
        (body(fileName=""), "invalid_file_name"),
        (body(fileSize=-1), "invalid_file_size"),
        (body(fileSize="big"), "invalid_file_size"),
        (body(fileType=5), "invalid_file_type"),
        (body(metadata=[1, 2]), "invalid_metadata"),
        (body(metadata={"": 1}), "invalid_metadata"),
        (body(metadata={"k": "v" * 9000}), "metadata_too_large"),
        (body(metadata={"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}), "metadata_too_large"),
        (body(metadata={f"k{i}": i for i in range(65)}), "metadata_too_large"),
        (body(metadataPublic="yes"), "invalid_metadata"),
    ],
)
def test_bad_input(
    client: TestClient, tenant: Tenant, payload: dict[str, object], expected: str
) -> None:
    response = client.post("/v1/certificates", json=payload, headers=tenant.auth)
    assert response.status_code == 400 and code(response) == expected


def test_auth_and_scope(client: TestClient, tenant: Tenant, runtime: Runtime) -> None:
    missing = client.post("/v1/certificates", json=body())
    assert missing.status_code == 401 and code(missing) == "missing_api_key"
    read_only = runtime.accounts.create_key(tenant.account_id, scopes=["certificates:read"])
    refused = client.post(
        "/v1/certificates", json=body(), headers={"Authorization": f"Bearer {read_only.secret}"}
    )
    assert refused.status_code == 403 and code(refused) == "insufficient_scope"


def test_same_record_as_timestamps(client: TestClient, tenant: Tenant) -> None:
    ts = client.post(
        "/api/v1/timestamps",
        headers=tenant.auth,
        json={"sha256_hash": EMPTY, "filename": "a.pdf", "file_size_bytes": 1},
    )
    assert ts.status_code == 201
    # The same hash without metadata is the same record; with metadata, another one.
    duplicate = client.post("/v1/certificates", json=body(metadata=None), headers=tenant.auth)
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "duplicate_certificate"
    assert duplicate.json()["error"]["publicId"] == ts.json()["certificate_id"]
    found = client.get(f"/v1/verify/{EMPTY}").json()
    assert found["verified"] and found["certificates"][0]["publicId"] == ts.json()["certificate_id"]
    other = hashlib.sha256(b"cert first").hexdigest()
    cert = client.post("/v1/certificates", json=body(other), headers=tenant.auth).json()
    page = client.get(f"/verify/{other}", headers={"Accept": "application/json"}).json()
    assert page["records"][0]["certificate_id"] == cert["publicId"]


def test_the_documents_two_examples_certify_one_hash_for_two_customers(
    client: TestClient, tenant: Tenant
) -> None:
    first = client.post(
        "/v1/certificates",
        headers=tenant.auth,
        json={
            "sha256Hash": EMPTY,
            "fileName": "document.pdf",
            "fileSize": 2048576,
            "metadata": {"customerId": "cust_abc123", "orderId": "ord_xyz789"},
        },
    )
    second = client.post("/v1/certificates", headers=tenant.auth, json=body())
    assert (first.status_code, second.status_code) == (201, 201), second.text
    assert first.json()["certificateId"] != second.json()["certificateId"]
    assert second.json()["metadata"] == METADATA
    assert first.json()["metadata"] == {"customerId": "cust_abc123", "orderId": "ord_xyz789"}
    listed = client.get("/v1/certificates", headers=tenant.auth).json()["data"]
    assert len(listed) == 2 and {c["sha256Hash"] for c in listed} == {EMPTY}
    assert len(client.get(f"/v1/verify/{EMPTY}").json()["certificates"]) == 2


def test_an_identical_repeat_is_409_naming_the_existing_certificate(
    client: TestClient, tenant: Tenant, runtime: Runtime
) -> None:
    created = client.post("/v1/certificates", json=body(), headers=tenant.auth).json()
    # Key order and spacing do not make metadata different.
    reordered = dict(reversed(list(METADATA.items())))
    for repeat in (body(), body(metadata=reordered), body(fileName="renamed.pdf")):
        response = client.post("/v1/certificates", json=repeat, headers=tenant.auth)
        assert response.status_code == 409
        error = response.json()["error"]
        assert error["code"] == "duplicate_certificate"
        assert error["certificateId"] == created["certificateId"]
        assert error["publicId"] == created["publicId"]
        assert created["certificateId"] in error["message"]
        assert error["requestId"] == response.headers["x-request-id"]
    # Without metadata too: `{}` is one value, and repeating it is a duplicate.
    bare = client.post("/v1/certificates", json=body(metadata=None), headers=tenant.auth)
    assert bare.status_code == 201 and bare.json()["metadata"] == {}
    again = client.post("/v1/certificates", json=body(metadata=None), headers=tenant.auth)
    assert again.status_code == 409
    assert again.json()["error"]["certificateId"] == bare.json()["certificateId"]
    # Another mode or another account is not a repeat.
    test_key = runtime.accounts.create_key(tenant.account_id, mode="test").secret
    in_test = client.post(
        "/v1/certificates", json=body(), headers={"Authorization": f"Bearer {test_key}"}
    )
    assert in_test.status_code == 201 and in_test.json()["testMode"] is True
    other = make_tenant(runtime)
    assert client.post("/v1/certificates", json=body(), headers=other.auth).status_code == 201


def test_metadata_is_never_null(client: TestClient, tenant: Tenant) -> None:
    digest = hashlib.sha256(b"no metadata").hexdigest()
    created = client.post(
        "/v1/certificates",
        json={"sha256Hash": digest, "fileName": "a.pdf", "fileSize": 1, "metadataPublic": True},
        headers=tenant.auth,
    )
    assert created.status_code == 201 and created.json()["metadata"] == {}
    fetched = client.get(f"/v1/certificates/{created.json()['certificateId']}", headers=tenant.auth)
    assert fetched.json()["metadata"] == {}
    listed = client.get("/v1/certificates", headers=tenant.auth).json()["data"]
    assert [c["metadata"] for c in listed] == [{}]
    (public,) = client.get(f"/v1/verify/{digest}").json()["certificates"]
    assert public["metadata"] == {}


def test_verify_is_public_and_private_by_default(client: TestClient, tenant: Tenant) -> None:
    cert = client.post("/v1/certificates", json=body(), headers=tenant.auth).json()
    by_id = client.get(f"/v1/verify/{cert['publicId']}")
    assert by_id.status_code == 200
    result = by_id.json()
    assert result["verified"] is True and result["sha256Hash"] == EMPTY
    (public,) = result["certificates"]
    assert "metadata" not in public and "fileName" not in public
    assert tenant.account_id not in by_id.text and "cust_abc123" not in by_id.text
    assert base64.b64decode(public["timestampToken"])[:1] == b"\x30"
    unknown = client.get("/v1/verify/HC-00000000")
    assert unknown.status_code == 404 and unknown.json()["verified"] is False


def test_metadata_public_when_marked(client: TestClient, tenant: Tenant) -> None:
    digest = hashlib.sha256(b"public one").hexdigest()
    client.post("/v1/certificates", json=body(digest, metadataPublic=True), headers=tenant.auth)
    public = client.get(f"/v1/verify/{digest}").json()["certificates"][0]
    assert public["metadata"] == METADATA and public["fileName"] == "contract.pdf"


def test_test_keys_and_live_keys_are_separate(
    client: TestClient, tenant: Tenant, runtime: Runtime
) -> None:
    test_key = runtime.accounts.create_key(tenant.account_id, mode="test").secret
    test_auth = {"Authorization": f"Bearer {test_key}"}
    test_cert = client.post("/v1/certificates", json=body(), headers=test_auth).json()
    assert test_cert["testMode"] is True
    live_cert = client.post("/v1/certificates", json=body(), headers=tenant.auth).json()
    assert live_cert["testMode"] is False
    assert (
        client.get(
            f"/v1/certificates/{test_cert['certificateId']}", headers=tenant.auth
        ).status_code
        == 404
    )
    assert (
        client.get(f"/v1/certificates/{live_cert['certificateId']}", headers=test_auth).status_code
        == 404
    )
    assert [
        c["testMode"] for c in client.get("/v1/certificates", headers=test_auth).json()["data"]
    ] == [True]
    assert runtime.records.usage(tenant.account_id) == 1  # the test one is not billed


def test_other_accounts_see_nothing(client: TestClient, tenant: Tenant, runtime: Runtime) -> None:
    cert = client.post("/v1/certificates", json=body(), headers=tenant.auth).json()
    other = make_tenant(runtime)
    for key in (cert["certificateId"], cert["publicId"]):
        response = client.get(f"/v1/certificates/{key}", headers=other.auth)
        assert response.status_code == 404 and code(response) == "certificate_not_found"


def test_rate_limits(client: TestClient, tenant: Tenant) -> None:
    statuses = [
        client.post(
            "/v1/certificates",
            headers=tenant.auth,
            json=body(hashlib.sha256(bytes([i])).hexdigest()),
        ).status_code
        for i in range(31)
    ]
    assert statuses[:30] == [201] * 30 and statuses[30] == 429
    verifies = [client.get(f"/v1/verify/{EMPTY}").status_code for _ in range(31)]
    assert 429 not in verifies[:30] and verifies[30] == 429


def test_openapi_yaml(client: TestClient) -> None:
    response = client.get("/v1/openapi.yaml")
    assert response.status_code == 200
    document = yaml.safe_load(response.text)
    assert document["openapi"].startswith("3.1")
    assert "/v1/certificates" in document["paths"] and "/v1/verify/{key}" in document["paths"]
