"""The built-in TSA over HTTP, judged by `openssl ts -verify`."""

from __future__ import annotations

import hashlib
from pathlib import Path

import openssl
import pytest
from fastapi.testclient import TestClient

from conftest import Tenant
from notarium.app.runtime import Runtime

TSQ = {"Content-Type": "application/timestamp-query"}


@pytest.fixture
def material(tmp_path: Path, runtime: Runtime, client: TestClient) -> dict[str, Path]:
    data = tmp_path / "contract.txt"
    data.write_bytes(b"the parties agree\n" * 100)
    chain = tmp_path / "chain.pem"
    response = client.get("/tsa/certchain")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/pem-certificate-chain")
    chain.write_bytes(response.content)
    ca = tmp_path / "ca.pem"
    ca.write_bytes(runtime.keystore.path("ca.cert.pem").read_bytes())
    return {"data": data, "chain": chain, "ca": ca, "dir": tmp_path}


@pytest.mark.parametrize("algorithm", ["-sha256", "-sha384", "-sha512"])
def test_openssl_query_round_trip(
    client: TestClient, material: dict[str, Path], algorithm: str
) -> None:
    request = openssl.query(material["data"], algorithm, "-cert")
    response = client.post("/tsa", content=request, headers=TSQ)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/timestamp-reply"
    reply = material["dir"] / "reply.tsr"
    reply.write_bytes(response.content)
    ok, output = openssl.verify(reply, material["ca"], "-data", material["data"])
    assert ok, output
    query_file = material["dir"] / "q.tsq"
    query_file.write_bytes(request)
    ok, output = openssl.verify(reply, material["ca"], "-queryfile", query_file)
    assert ok, output


def test_without_cert_req_the_chain_must_be_supplied(
    client: TestClient, material: dict[str, Path]
) -> None:
    request = openssl.query(material["data"], "-sha256")
    reply = material["dir"] / "reply.tsr"
    reply.write_bytes(client.post("/tsa", content=request, headers=TSQ).content)
    ok, _ = openssl.verify(reply, material["ca"], "-data", material["data"])
    assert not ok
    ok, output = openssl.verify(
        reply, material["ca"], "-data", material["data"], "-untrusted", material["chain"]
    )
    assert ok, output


def test_serials_increase_across_http_and_records(
    client: TestClient, material: dict[str, Path], tenant: Tenant
) -> None:
    serials = []
    for i in range(3):
        request = openssl.query(material["data"], "-sha256", "-cert")
        reply = material["dir"] / f"r{i}.tsr"
        reply.write_bytes(client.post("/tsa", content=request, headers=TSQ).content)
        text = openssl.reply_text(reply)
        line = next(x for x in text.splitlines() if x.startswith("Serial number:"))
        serials.append(int(line.split(":", 1)[1].strip(), 16))
        created = client.post(
            "/api/v1/timestamps",
            headers=tenant.auth,
            json={
                "sha256_hash": hashlib.sha256(bytes([i])).hexdigest(),
                "filename": "a",
                "file_size_bytes": 1,
            },
        )
        assert created.status_code == 201
    assert serials == sorted(serials) and len(set(serials)) == 3
    assert serials[1] - serials[0] == 2  # a record's token took the serial in between


def test_sha1_is_rejected_with_bad_alg(client: TestClient, material: dict[str, Path]) -> None:
    request = openssl.query(material["data"], "-sha1", "-cert")
    reply = material["dir"] / "sha1.tsr"
    reply.write_bytes(client.post("/tsa", content=request, headers=TSQ).content)
    text = openssl.reply_text(reply)
    assert "Status: Rejected" in text
    assert "unrecognized or unsupported algorithm identifier" in text


def test_garbage_der_gets_a_rejection_not_an_error(
    client: TestClient, material: dict[str, Path]
) -> None:
    response = client.post("/tsa", content=b"\x30\x82\xff\xffgarbage", headers=TSQ)
    assert response.status_code == 200
    reply = material["dir"] / "garbage.tsr"
    reply.write_bytes(response.content)
    text = openssl.reply_text(reply)
    assert "Status: Rejected" in text
    assert "the data submitted has the wrong format" in text


def test_wrong_media_type(client: TestClient) -> None:
    response = client.post("/tsa", content=b"x", headers={"Content-Type": "text/plain"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


def test_oversized_query(client: TestClient) -> None:
    response = client.post("/tsa", content=b"\x30" * 70_000, headers=TSQ)
    assert response.status_code == 413


def test_every_record_token_verifies(
    client: TestClient, tenant: Tenant, material: dict[str, Path]
) -> None:
    digests = [hashlib.sha256(f"doc {i}".encode()).hexdigest() for i in range(4)]
    for digest in digests:
        created = client.post(
            "/api/v1/timestamps",
            headers=tenant.auth,
            json={"sha256_hash": digest, "filename": "doc.txt", "file_size_bytes": 5},
        )
        record_id = created.json()["id"]
        response = client.get(f"/api/v1/timestamps/{record_id}/tsr", headers=tenant.auth)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/timestamp-reply"
        reply = material["dir"] / f"{record_id}.tsr"
        reply.write_bytes(response.content)
        ok, output = openssl.verify(reply, material["ca"], "-digest", digest)
        assert ok, output
        wrong = hashlib.sha256(b"another").hexdigest()
        ok, _ = openssl.verify(reply, material["ca"], "-digest", wrong)
        assert not ok
