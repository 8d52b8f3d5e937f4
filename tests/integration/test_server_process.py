"""The real server process: the document's curl and fetch examples with only the base URL
and key changed, the command-line client, and a SIGKILL in the middle of creates."""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import openssl
import pytest
from server import Server, server_env

from backends import postgres_available, postgres_schema

pytestmark = pytest.mark.slow

DOC_HASH = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=pytest.mark.skipif(not postgres_available(), reason="PostgreSQL not reachable"),
        ),
    ]
)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    data_dir = tmp_path / "data"
    if request.param == "sqlite":
        srv = Server(data_dir, server_env(data_dir, NOTARIUM_BASE_URL="http://127.0.0.1"))
        srv.start()
        yield srv
        srv.stop()
        return
    with postgres_schema() as url:
        srv = Server(data_dir, server_env(data_dir, NOTARIUM_DATABASE_URL=url))
        srv.cli("db", "upgrade")
        srv.start()
        yield srv
        srv.stop()


def test_first_serve_prints_a_working_key(server: Server) -> None:
    assert server.api_key.startswith("ntk_live_")
    response = httpx.get(
        f"{server.url}/api/v1/me", headers={"Authorization": f"Bearer {server.api_key}"}
    )
    assert response.status_code == 200 and response.json()["account_name"] == "default"


def test_document_curl_example(server: Server) -> None:
    # Verbatim from the document, with the base URL and key swapped.
    command = f"""curl --silent --show-error --request POST \\
  --url {server.url}/api/v1/timestamps \\
  --header 'Authorization: Bearer {server.api_key}' \\
  --header 'Content-Type: application/json' \\
  --header 'Idempotency-Key: contract-msa-v3-2026-04-13' \\
  --data '{{
    "sha256_hash": "{DOC_HASH}",
    "filename": "msa-v3.pdf",
    "file_size_bytes": 248331,
    "file_type": "application/pdf"
  }}'"""
    first = json.loads(
        subprocess.run(
            ["bash", "-c", command], capture_output=True, text=True, check=True, timeout=60
        ).stdout
    )
    again = json.loads(
        subprocess.run(
            ["bash", "-c", command], capture_output=True, text=True, check=True, timeout=60
        ).stdout
    )
    assert first["sha256_hash"] == DOC_HASH and first["status"] == "pending"
    assert again == first


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_document_fetch_examples(server: Server, tmp_path: Path) -> None:
    script = tmp_path / "example.mjs"
    script.write_text(f"""
const response = await fetch('{server.url}/api/v1/timestamps', {{
  method: 'POST',
  headers: {{
    Authorization: 'Bearer ' + process.env.NEXT_PUBLIC_PROOFD_API_KEY,
    'Content-Type': 'application/json',
    'Idempotency-Key': crypto.randomUUID(),
  }},
  body: JSON.stringify({{
    sha256_hash: '{DOC_HASH}',
    filename: 'msa-v3.pdf',
    file_size_bytes: 248331,
    file_type: 'application/pdf',
  }}),
}})

const payload = await response.json()
if (!response.ok) throw new Error(payload.error.message)

console.log(payload.id, payload.certificate_url)

{{
const response = await fetch('{server.url}/api/v1/timestamps?status=pending&limit=10', {{
  headers: {{
    Authorization: 'Bearer ' + process.env.PROOFD_API_KEY,
  }},
}})

const payload = await response.json()
if (!response.ok) throw new Error(payload.error.message)

for (const timestamp of payload.data) {{
  console.log(timestamp.id, timestamp.status, timestamp.ots_url)
}}
}}
""")
    env = {
        "NEXT_PUBLIC_PROOFD_API_KEY": server.api_key,
        "PROOFD_API_KEY": server.api_key,
        "PATH": "/usr/bin:/bin:/usr/local/bin",
    }
    result = subprocess.run(
        ["node", str(script)], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    record_id, certificate_url = lines[0].split()
    assert uuid.UUID(record_id)
    assert "/cert/TS-" in certificate_url
    assert lines[1] == f"{record_id} pending /api/v1/timestamps/{record_id}/ots"


def test_stamp_proof_verify(server: Server, tmp_path: Path) -> None:
    document = tmp_path / "contract.pdf"
    document.write_bytes(b"%PDF-1.7\n" + b"clause\n" * 5000)
    env_args = ["--server", server.url, "--api-key", server.api_key]
    stamped = server.cli("stamp", *env_args, "--json", str(document))
    created = json.loads(stamped.stdout.strip().splitlines()[0])
    assert created["sha256_hash"] == hashlib.sha256(document.read_bytes()).hexdigest()
    # Stamping again replays the original answer through the derived Idempotency-Key.
    again = json.loads(server.cli("stamp", *env_args, "--json", str(document)).stdout)
    assert again["id"] == created["id"]

    proof = tmp_path / "contract.proof.json"
    server.cli("proof", created["id"], "-o", str(proof), *env_args)
    ca = server.data_dir / "keys" / "ca.cert.pem"
    ok = server.cli("verify", str(document), str(proof), "--trust", str(ca))
    assert "OK" in ok.stdout

    forged = tmp_path / "forged.pdf"
    forged.write_bytes(document.read_bytes() + b"x")
    failed = server.cli("verify", str(forged), str(proof), "--trust", str(ca), check=False)
    assert failed.returncode != 0 and "FAILED" in failed.stderr

    other_ca = tmp_path / "other-ca.pem"
    from notarium.adapters.pki.keystore import KeyStore

    stranger = KeyStore(tmp_path / "stranger")
    stranger.ensure()
    other_ca.write_bytes(stranger.path("ca.cert.pem").read_bytes())
    failed = server.cli("verify", str(document), str(proof), "--trust", str(other_ca), check=False)
    assert failed.returncode != 0 and "FAILED" in failed.stderr


def test_sigkill_during_creates_leaves_no_record_without_token(
    server: Server, tmp_path: Path
) -> None:
    headers = {"Authorization": f"Bearer {server.api_key}"}

    def post(i: int) -> int:
        try:
            response = httpx.post(
                f"{server.url}/api/v1/timestamps",
                headers=headers,
                timeout=10,
                json={
                    "sha256_hash": hashlib.sha256(f"k{i}".encode()).hexdigest(),
                    "filename": f"f{i}",
                    "file_size_bytes": i + 1,
                },
            )
            return response.status_code
        except httpx.HTTPError:
            return 0

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(post, i) for i in range(25)]
        # Kill once some creates have landed and others are in flight.
        for done, _ in enumerate(concurrent.futures.as_completed(futures)):
            if done == 8:
                server.kill()
                break
    statuses = [f.result() for f in futures]
    assert 201 in statuses

    server.start()
    listing = httpx.get(f"{server.url}/api/v1/timestamps?limit=50", headers=headers).json()
    assert listing["total_count"] >= statuses.count(201)
    chain = tmp_path / "chain.pem"
    chain.write_bytes(httpx.get(f"{server.url}/tsa/certchain").content)
    ca = server.data_dir / "keys" / "ca.cert.pem"
    for record in listing["data"]:
        reply = tmp_path / f"{record['id']}.tsr"
        response = httpx.get(f"{server.url}{record['tsr_url']}", headers=headers)
        assert response.status_code == 200
        reply.write_bytes(response.content)
        ok, output = openssl.verify(reply, ca, "-digest", record["sha256_hash"])
        assert ok, output
