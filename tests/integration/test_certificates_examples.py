"""The certificates document's curl, JavaScript and Python examples against a real server,
with only the base URL and the key changed."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from server import Server, server_env

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(tmp_path / "data", server_env(tmp_path / "data"))
    srv.start()
    yield srv
    srv.stop()


def test_curl_examples(server: Server) -> None:
    create = f"""curl -s -X POST {server.url}/v1/certificates \\
-H "Authorization: Bearer {server.api_key}" \\
-H "Content-Type: application/json" \\
-d '{{
"sha256Hash": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
"fileName": "document.pdf",
"fileSize": 2048576,
"metadata": {{ "customerId": "cust_abc123", "orderId": "ord_xyz789" }}
}}'"""
    created = json.loads(
        subprocess.run(
            ["bash", "-c", create], capture_output=True, text=True, check=True, timeout=60
        ).stdout
    )
    assert created["metadata"] == {"customerId": "cust_abc123", "orderId": "ord_xyz789"}
    # The metadata section's example: the same hash, for another end-customer's order.
    second = f"""curl -s -X POST {server.url}/v1/certificates \\
-H "Authorization: Bearer {server.api_key}" \\
-H "Content-Type: application/json" \\
-d '{{
"sha256Hash": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
"fileName": "contract.pdf",
"fileSize": 204800,
"metadata": {{
"customerId": "cust_abc123",
"orderId": "ord_xyz789",
"region": "eu-west"
}}
}}'"""
    routed = json.loads(
        subprocess.run(
            ["bash", "-c", second], capture_output=True, text=True, check=True, timeout=60
        ).stdout
    )
    assert routed["metadata"]["region"] == "eu-west", routed
    assert routed["certificateId"] != created["certificateId"]
    verify = f"curl -s {server.url}/v1/verify/{created['publicId']}"
    verified = json.loads(
        subprocess.run(
            ["bash", "-c", verify], capture_output=True, text=True, check=True, timeout=60
        ).stdout
    )
    assert verified["verified"] is True


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_javascript_example(server: Server, tmp_path: Path) -> None:
    script = tmp_path / "example.mjs"
    # The document's code verbatim but for API_KEY and BASE; the browser's File comes from
    # node's own File class.
    script.write_text(f"""
const API_KEY = '{server.api_key}'
const BASE = '{server.url}/v1'
// Hash a file in the browser
async function hashFile(file) {{
const buffer = await file.arrayBuffer()
const hash = await crypto.subtle.digest('SHA-256', buffer)
return Array.from(new Uint8Array(hash))
.map(b => b.toString(16).padStart(2, '0')).join('')
}}
// Create a certificate
async function createCertificate(file) {{
const sha256Hash = await hashFile(file)
const res = await fetch(`${{BASE}}/certificates`, {{
method: 'POST',
headers: {{
'Authorization': `Bearer ${{API_KEY}}`,
'Content-Type': 'application/json',
}},
body: JSON.stringify({{
sha256Hash,
fileName: file.name,
fileSize: file.size,
fileType: file.type,
}}),
}})
return res.json()
}}
const file = new File(['signed agreement'], 'agreement.pdf', {{ type: 'application/pdf' }})
console.log(JSON.stringify(await createCertificate(file)))
""")
    result = subprocess.run(
        ["node", str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    import hashlib

    assert created["sha256Hash"] == hashlib.sha256(b"signed agreement").hexdigest()
    assert created["fileName"] == "agreement.pdf" and created["fileType"] == "application/pdf"


def test_python_example(server: Server, tmp_path: Path) -> None:
    document = tmp_path / "report.pdf"
    document.write_bytes(b"%PDF-1.4 quarterly report\n")
    script = tmp_path / "example.py"
    script.write_text(f'''import hashlib
import os
import requests
API_KEY = "{server.api_key}"
BASE = "{server.url}/v1"
def hash_file(path: str) -> str:
    sha256 = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(8192), b""):
            sha256.update(chunk)
    return sha256.hexdigest()
def create_certificate(path: str):
    file_hash = hash_file(path)
    resp = requests.post(
        f"{{BASE}}/certificates",
        headers={{"Authorization": f"Bearer {{API_KEY}}"}},
        json={{
            "sha256Hash": file_hash,
            "fileName": path.split("/")[-1],
            "fileSize": os.path.getsize(path),
        }},
    )
    return resp.json()
import json, sys
print(json.dumps(create_certificate(sys.argv[1])))
''')
    import sys

    result = subprocess.run(
        [sys.executable, str(script), str(document)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert created["fileName"] == "report.pdf" and created["fileSize"] == document.stat().st_size


def test_webhook_curl_example(server: Server) -> None:
    command = f"""curl -s -X POST {server.url}/v1/webhooks \\
-H "Authorization: Bearer {server.api_key}" \\
-H "Content-Type: application/json" \\
-d '{{
"url": "https://yourapp.com/webhooks/provelio",
"events": ["certificate.confirmed", "certificate.failed"],
"mode": "live"
}}'"""
    created = json.loads(
        subprocess.run(
            ["bash", "-c", command], capture_output=True, text=True, check=True, timeout=60
        ).stdout
    )
    assert created["secret"].startswith("whsec_")
    assert created["events"] == ["certificate.confirmed", "certificate.failed"]
    patch = f"""curl -s -X PATCH {server.url}/v1/webhooks/{created["id"]} \\
-H "Authorization: Bearer {server.api_key}" -H "Content-Type: application/json" \\
-d '{{ "active": true }}'"""
    patched = json.loads(
        subprocess.run(
            ["bash", "-c", patch], capture_output=True, text=True, check=True, timeout=60
        ).stdout
    )
    assert patched["active"] is True
