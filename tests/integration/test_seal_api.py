"""POST /api/v1/seal: PAdES seals over HTTP, with API keys (seal scope) and with JWTs."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest
from fastapi.testclient import TestClient
from server import Server, server_env

from conftest import Tenant
from notarium.app.runtime import Runtime
from unit.sealing.support import make_pdf

PYHANKO = str(Path(sys.executable).with_name("pyhanko"))


def validate(pdf: bytes, ca: Path, tmp_path: Path, *, online: bool = False) -> str:
    """pyHanko's own validator. In-process tests have no reachable base URL, so there it
    checks integrity, trust and time-stamps without fetching revocation information; the
    process test lets it fetch the CRL from the running server."""
    sealed = tmp_path / "sealed.pdf"
    sealed.write_bytes(pdf)
    offline = [] if online else ["--no-revocation-check"]
    result = subprocess.run(
        [PYHANKO, "sign", "validate", *offline, "--trust", str(ca), "--trust-replace", str(sealed)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def upload(client: TestClient, headers: dict[str, str], pdf: bytes, **fields: str) -> object:
    return client.post(
        "/api/v1/seal",
        headers=headers,
        files={"file": ("contract.pdf", pdf, "application/pdf")},
        data=fields,
    )


@pytest.mark.parametrize("level", ["B-T", "B-LT", "B-LTA"])
def test_seal_validates_and_enters_the_pipeline(
    client: TestClient, tenant: Tenant, runtime: Runtime, tmp_path: Path, level: str
) -> None:
    response = upload(client, tenant.auth, make_pdf(), reason="Approved by the board", level=level)
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    sealed = response.content  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/pdf"  # type: ignore[attr-defined]
    assert response.headers["content-disposition"] == (  # type: ignore[attr-defined]
        "attachment; filename=contract.pdf"
    )
    output = validate(sealed, runtime.keystore.path("ca.cert.pem"), tmp_path)
    assert "INTACT" in output and "TRUSTED" in output
    record_id = response.headers["x-notarium-record-id"]  # type: ignore[attr-defined]
    record = client.get(f"/api/v1/timestamps/{record_id}", headers=tenant.auth).json()
    assert record["sha256_hash"] == hashlib.sha256(sealed).hexdigest()


@pytest.mark.parametrize(
    ("files", "expected", "status"),
    [
        ({"file": ("a.pdf", b"", "application/pdf")}, "PDF_EMPTY", 400),
        ({"file": ("a.pdf", b"hello, not a pdf", "application/pdf")}, "NOT_A_PDF", 415),
        ({"file": ("a.pdf", b"%PDF-1.7\n garbage", "application/pdf")}, "PDF_MALFORMED", 400),
        ({"other": ("a.pdf", b"%PDF-1.7", "application/pdf")}, "FILE_COUNT", 400),
    ],
)
def test_bad_uploads(
    client: TestClient, tenant: Tenant, files: dict[str, object], expected: str, status: int
) -> None:
    response = client.post("/api/v1/seal", headers=tenant.auth, files=files)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == expected


def test_two_files_and_oversize_and_scope(
    client: TestClient, tenant: Tenant, runtime: Runtime
) -> None:
    pdf = make_pdf()
    two = client.post(
        "/api/v1/seal",
        headers=tenant.auth,
        files=[
            ("file", ("a.pdf", pdf, "application/pdf")),
            ("file", ("b.pdf", pdf, "application/pdf")),
        ],
    )
    assert two.status_code == 400 and two.json()["error"]["code"] == "FILE_COUNT"
    big = client.post(
        "/api/v1/seal",
        headers=tenant.auth,
        files={"file": ("big.pdf", b"%PDF-1.7\n" + b"0" * (11 * 1024 * 1024), "application/pdf")},
    )
    assert big.status_code == 413
    no_seal = runtime.accounts.create_key(tenant.account_id, scopes=["timestamps:read"])
    refused = upload(client, {"Authorization": f"Bearer {no_seal.secret}"}, pdf)
    assert refused.status_code == 403  # type: ignore[attr-defined]
    not_multipart = client.post("/api/v1/seal", headers=tenant.auth, content=pdf)
    assert not_multipart.status_code == 400


def test_already_signed_pdf_is_sealed_incrementally(
    client: TestClient, tenant: Tenant, runtime: Runtime, tmp_path: Path
) -> None:
    first = upload(client, tenant.auth, make_pdf()).content  # type: ignore[attr-defined]
    second = upload(client, tenant.auth, first)
    assert second.status_code == 200  # type: ignore[attr-defined]
    sealed = second.content  # type: ignore[attr-defined]
    assert sealed.startswith(first)  # an incremental update keeps every earlier byte
    output = validate(sealed, runtime.keystore.path("ca.cert.pem"), tmp_path)
    assert output.count("INTACT") >= 2


@pytest.mark.slow
def test_document_curl_example_with_a_jwt(tmp_path: Path) -> None:
    server = Server(tmp_path / "data", server_env(tmp_path / "data"))
    # The seal certificate names this server's /pki routes, so validators can reach them.
    server.env["NOTARIUM_BASE_URL"] = server.url
    server.start()
    try:
        issued = server.cli("credentials", "create", "--account", "default", "--json")
        import json

        credentials = json.loads(issued.stdout)
        now = int(time.time())
        token = jwt.encode(
            {"iat": now, "nbf": now, "exp": now + 60},
            credentials["secret"],
            algorithm="HS256",
            headers={"kid": credentials["key_id"]},
        )
        sample = tmp_path / "sample.pdf"
        sample.write_bytes(make_pdf())
        out = tmp_path / "out.pdf"
        command = [
            "curl",
            "-s",
            "-D",
            str(tmp_path / "headers.txt"),
            "-o",
            str(out),
            "-X",
            "POST",
            f"{server.url}/api/v1/seal",
            "-H",
            f"Authorization: Bearer {token}",
            "-H",
            "content-type: multipart/form-data",
            "-F",
            f"file=@{sample}",
            "-F",
            'reason="Signed by at 2023-01-01 00:00:00"',
        ]
        subprocess.run(command, check=True, timeout=120)
        headers = (tmp_path / "headers.txt").read_text().lower()
        assert "content-type: application/pdf" in headers
        assert "content-disposition: attachment; filename=sample.pdf" in headers
        output = validate(
            out.read_bytes(), server.data_dir / "keys" / "ca.cert.pem", tmp_path, online=True
        )
        assert "INTACT:TRUSTED" in output
    finally:
        server.stop()
