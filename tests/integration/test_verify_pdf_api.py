"""POST /api/v1/verify/pdf: anyone may upload a sealed PDF or a certificate PDF and learn
whether each signature holds, when it was time-stamped, and which public record the file
belongs to."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import Tenant
from notarium.app.runtime import Runtime
from notarium.app.settings import Settings
from unit.certificate_pdf.support import (
    alter_signature_timestamp,
    encrypted_pdf,
    flip_byte_in_content,
    runtime_with_reachable_pki,
)
from unit.sealing.support import Validators, make_pdf

URL = "/api/v1/verify/pdf"


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    with runtime_with_reachable_pki(settings) as made:
        yield made


def check(client: TestClient, pdf: bytes, name: str = "upload.pdf") -> Any:
    # No Authorization header: the route is public.
    return client.post(URL, files={"file": (name, pdf, "application/pdf")})


def seal(client: TestClient, tenant: Tenant, pdf: bytes, **fields: str) -> Any:
    response = client.post(
        "/api/v1/seal",
        headers=tenant.auth,
        files={"file": ("contract.pdf", pdf, "application/pdf")},
        data=fields,
    )
    assert response.status_code == 200, response.text
    return response


def stamp(client: TestClient, tenant: Tenant, content: bytes) -> dict[str, Any]:
    response = client.post(
        "/api/v1/timestamps",
        headers=tenant.auth,
        json={
            "sha256_hash": hashlib.sha256(content).hexdigest(),
            "filename": "private-name.txt",
            "file_size_bytes": len(content),
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_sealed_pdf_is_trusted_time_stamped_and_found_by_its_hash(
    client: TestClient, tenant: Tenant, runtime: Runtime
) -> None:
    sealed = seal(client, tenant, make_pdf(), reason="Approved")
    response = check(client, sealed.content)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sha256_hash"] == hashlib.sha256(sealed.content).hexdigest()
    assert body["size_bytes"] == len(sealed.content)
    assert body["signed"] and body["valid"]
    (signature,) = body["signatures"]
    assert signature["intact"] and signature["valid"] and signature["trusted"]
    assert not signature["document_timestamp"]
    assert signature["timestamped"] and signature["timestamp_trusted"]
    assert signature["timestamp_time"].endswith("Z")
    assert signature["coverage"] == "entire_file"
    assert signature["modification_level"] == "none"
    assert "Seal" in signature["signer_subject"] and signature["problem"] is None
    (record,) = body["records"]
    assert record["match"] == "document_hash"
    assert record["certificate_id"] == sealed.headers["x-notarium-certificate-id"]
    assert record["status"] == "pending" and record["filename"] is None
    base = runtime.settings.base_url
    assert record["certificate_url"] == f"{base}/cert/{record['certificate_id']}"
    # Public facts only: nothing names the account or the record's internal id.
    text = response.text
    assert tenant.account_id not in text
    assert sealed.headers["x-notarium-record-id"] not in text


def test_b_lta_seal_reports_the_document_time_stamp(
    client: TestClient, tenant: Tenant, runtime: Runtime
) -> None:
    sealed = seal(client, tenant, make_pdf(), level="B-LTA").content
    body = check(client, sealed).json()
    assert [s["document_timestamp"] for s in body["signatures"]] == [False, True]
    assert body["valid"], body
    assert body["signatures"][1]["timestamp_time"] is not None


def test_certificate_pdf_names_its_record_through_the_embedded_proof(
    client: TestClient, tenant: Tenant, runtime: Runtime
) -> None:
    record = stamp(client, tenant, b"the certificate check")
    certificate = client.get(
        f"/api/v1/timestamps/{record['id']}/certificate.pdf", headers=tenant.auth
    ).content
    body = check(client, certificate).json()
    assert body["valid"] and len(body["signatures"]) == 1
    (match,) = body["records"]
    assert match["match"] == "embedded_proof"
    assert match["certificate_id"] == record["certificate_id"]
    assert match["sha256_hash"] == record["sha256_hash"]
    # The owner never made the file name public.
    assert match["filename"] is None and "private-name" not in str(body)


def test_tampered_certificate_fails_and_names_no_record(
    client: TestClient, tenant: Tenant, runtime: Runtime
) -> None:
    record = stamp(client, tenant, b"to be tampered with")
    certificate = client.get(
        f"/api/v1/timestamps/{record['id']}/certificate.pdf", headers=tenant.auth
    ).content
    response = check(client, flip_byte_in_content(certificate))
    assert response.status_code == 200
    body = response.json()
    (signature,) = body["signatures"]
    assert not signature["intact"] and not body["valid"]
    assert signature["problem"] == "the signed bytes were changed"
    assert body["records"] == []
    assert "does not hold" in body["summary"]


def test_test_mode_records_are_not_found(
    client: TestClient, tenant: Tenant, runtime: Runtime
) -> None:
    key = runtime.accounts.create_key(tenant.account_id, mode="test").secret
    sealed = seal(client, Tenant(tenant.account_id, key), make_pdf()).content
    body = check(client, sealed).json()
    assert body["valid"] and body["records"] == []


def test_unsigned_pdf_is_answered_with_no_signatures(client: TestClient) -> None:
    response = check(client, make_pdf())
    assert response.status_code == 200
    body = response.json()
    assert body["signed"] is False and body["valid"] is False
    assert body["signatures"] == [] and body["records"] == []
    assert body["summary"] == "The document carries no signature."


@pytest.mark.parametrize(
    ("files", "code", "status"),
    [
        ({"file": ("a.pdf", b"", "application/pdf")}, "PDF_EMPTY", 400),
        ({"file": ("a.pdf", b"GIF89a, not a pdf", "application/pdf")}, "NOT_A_PDF", 415),
        ({"file": ("a.pdf", b"%PDF-1.7\n garbage", "application/pdf")}, "PDF_MALFORMED", 400),
        ({"other": ("a.pdf", b"%PDF-1.7", "application/pdf")}, "FILE_COUNT", 400),
        ({"file": ("a.pdf", encrypted_pdf(), "application/pdf")}, "PDF_ENCRYPTED", 400),
    ],
)
def test_bad_uploads(client: TestClient, files: dict[str, Any], code: str, status: int) -> None:
    response = client.post(URL, files=files)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert set(response.json()["error"]) == {"code", "message", "request_id"}


def test_second_file_not_multipart_and_oversize(client: TestClient) -> None:
    pdf = make_pdf()
    two = client.post(
        URL,
        files=[
            ("file", ("a.pdf", pdf, "application/pdf")),
            ("file", ("b.pdf", pdf, "application/pdf")),
        ],
    )
    assert two.status_code == 400 and two.json()["error"]["code"] == "FILE_COUNT"
    raw = client.post(URL, content=pdf, headers={"Content-Type": "application/pdf"})
    assert raw.status_code == 400 and raw.json()["error"]["code"] == "INVALID_UPLOAD"
    big = b"%PDF-1.7\n" + b"0" * (10 * 1024 * 1024)
    too_large = check(client, big)
    assert too_large.status_code == 413
    assert too_large.json()["error"]["code"] == "PDF_TOO_LARGE"
    far_too_large = check(client, big + b"0" * (1024 * 1024))
    assert far_too_large.status_code == 413
    assert far_too_large.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_checks_are_rate_limited_per_address(client: TestClient) -> None:
    statuses = [check(client, b"not a pdf").status_code for _ in range(21)]
    assert statuses[:20] == [415] * 20
    assert statuses[20] == 429


def test_altered_signature_time_stamp_is_never_valid(
    client: TestClient, tenant: Tenant, runtime: Runtime, tmp_path: Path
) -> None:
    """A B-T seal whose time-stamp token was altered (genTime moved, token re-encoded)
    keeps an intact seal signature, but its time is no longer attested: not valid, and
    the report says the time-stamp is what failed. pyHanko's own validator agrees."""
    sealed = seal(client, tenant, make_pdf(), level="B-T").content
    tampered = alter_signature_timestamp(sealed)
    body = check(client, tampered).json()
    assert body["signed"] and body["valid"] is False, body
    (signature,) = body["signatures"]
    assert signature["intact"] and signature["valid"] and signature["trusted"]
    stamp_report = signature["timestamp"]
    assert stamp_report is not None and not stamp_report["intact"], stamp_report
    assert "altered" in stamp_report["reason"] and "time-stamp" in signature["problem"]
    assert signature["timestamp_trusted"] is False
    assert "time-stamp" in body["summary"]
    # The untouched seal reads valid with a sound time-stamp, so the verdict above is
    # about the token alone.
    untouched = check(client, sealed).json()
    assert untouched["valid"] is True
    assert untouched["signatures"][0]["timestamp"]["reason"] is None

    validators = Validators(tmp_path, runtime.keystore.path("ca.cert.pem").read_bytes())
    assert "INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>" in validators.pyhanko(sealed).output
    rejected = validators.pyhanko(tampered)
    assert rejected.returncode != 0 and "TIMESTAMP_TOKEN<INVALID>" in rejected.output, (
        rejected.output
    )
    # poppler's pdfsig checks the CMS signature and the signer's certificate only, never a
    # signature time-stamp token: it still calls this seal valid, which is why the verdict
    # rests on the token check above.
    (seen,) = validators.pdfsig(tampered)
    assert seen["Signature Validation"] == "Signature is Valid."
    assert not any("stamp" in key.lower() for key in seen), seen
