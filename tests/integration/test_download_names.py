"""Download names survive ``Content-Disposition``: what the client uploaded comes back,
read by an RFC 6266 parser the service does not use (Werkzeug's)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from werkzeug.http import parse_options_header

from conftest import Tenant
from unit.sealing.support import make_pdf


def _filename(header: str) -> str:
    disposition, options = parse_options_header(header)
    assert disposition == "attachment"
    return options["filename"]


@pytest.mark.parametrize(
    ("sent", "received"),
    [
        ("sample.pdf", "sample.pdf"),
        ("Board minutes (final) v2.pdf", "Board minutes (final) v2.pdf"),
        ("Contrat signé – Müller.pdf", "Contrat signé – Müller.pdf"),
        ("議事録.pdf", "議事録.pdf"),
        ("C:\\Users\\ana\\50% draft.pdf", "50% draft.pdf"),
    ],
)
def test_sealed_pdf_keeps_its_name(
    client: TestClient, tenant: Tenant, sent: str, received: str
) -> None:
    response = client.post(
        "/api/v1/seal",
        headers=tenant.auth,
        files={"file": (sent, make_pdf(), "application/pdf")},
    )
    assert response.status_code == 200, response.text
    assert _filename(response.headers["content-disposition"]) == received


def test_record_downloads_are_named_by_certificate(client: TestClient, tenant: Tenant) -> None:
    created = client.post(
        "/api/v1/timestamps",
        headers=tenant.auth,
        json={"sha256_hash": "ab" * 32, "filename": "a (b) c.pdf", "file_size_bytes": 3},
    ).json()
    cid = created["certificate_id"]
    for suffix, name in [
        ("tsr", f"{cid}.tsr"),
        ("proof", f"{cid}.proof.json"),
        ("certificate.pdf", f"{cid}.certificate.pdf"),
    ]:
        response = client.get(f"/api/v1/timestamps/{created['id']}/{suffix}", headers=tenant.auth)
        assert response.status_code == 200, response.text
        assert response.headers["content-disposition"] == f'attachment; filename="{name}"'
        assert _filename(response.headers["content-disposition"]) == name
