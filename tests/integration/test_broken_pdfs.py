"""Structurally broken PDFs (tests/fakes/broken_pdfs.py) sent to the seal and to the
public check: each is a 400 with the upload's own code in the standard envelope, never
a 500, and nothing is sealed or recorded."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from conftest import Tenant
from fakes.broken_pdfs import corpus, valid
from notarium.adapters.store.models import Record
from notarium.app.runtime import Runtime
from notarium.app.settings import Settings
from unit.certificate_pdf.support import encrypted_pdf

ROUTES = ("/api/v1/seal", "/api/v1/verify/pdf")
CODES = {"PDF_MALFORMED", "PDF_ENCRYPTED"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"rate_limits_enabled": False})


def _post(client: TestClient, tenant: Tenant, route: str, pdf: bytes) -> object:
    return client.post(
        route, headers=tenant.auth, files={"file": ("broken.pdf", pdf, "application/pdf")}
    )


def test_the_corpus_is_large_and_every_entry_is_distinct() -> None:
    documents = corpus()
    assert len(documents) >= 16
    assert len(set(documents.values())) == len(documents)
    assert all(pdf.startswith(b"%PDF-") for pdf in documents.values())


def test_the_unbroken_document_is_sealed_and_checked(client: TestClient, tenant: Tenant) -> None:
    # The corpus departs from a document the service accepts, so each refusal below is
    # about what its entry broke.
    sealed = _post(client, tenant, ROUTES[0], valid())
    assert sealed.status_code == 200, sealed.text  # type: ignore[attr-defined]
    checked = _post(client, tenant, ROUTES[1], sealed.content)  # type: ignore[attr-defined]
    assert checked.status_code == 200, checked.text  # type: ignore[attr-defined]
    assert checked.json()["signed"] is True  # type: ignore[attr-defined]


def test_broken_pdfs_are_refused_on_both_routes(
    client: TestClient, tenant: Tenant, runtime: Runtime
) -> None:
    documents = {**corpus(), "encrypted-with-a-password": encrypted_pdf()}
    failures = []
    for name, pdf in documents.items():
        for route in ROUTES:
            response = _post(client, tenant, route, pdf)
            status = response.status_code  # type: ignore[attr-defined]
            body = response.json()  # type: ignore[attr-defined]
            error = body.get("error") if isinstance(body, dict) else None
            if status != 400 or not isinstance(error, dict) or error.get("code") not in CODES:
                failures.append((name, route, status, body))
                continue
            assert set(error) == {"code", "message", "request_id"}
    assert failures == []
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Record)) == 0
