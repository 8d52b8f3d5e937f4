"""The proof bundle served by the API verifies offline against the published CA, and
fails on a different file."""

from __future__ import annotations

import hashlib

import pytest
from fastapi.testclient import TestClient

from conftest import Tenant
from notarium.app.runtime import Runtime
from notarium.core.errors import ProofVerificationError
from notarium.verify.bundle import verify_bundle


def test_bundle_verifies(client: TestClient, tenant: Tenant, runtime: Runtime) -> None:
    content = b"minutes of the annual meeting"
    digest = hashlib.sha256(content).hexdigest()
    created = client.post(
        "/api/v1/timestamps",
        headers=tenant.auth,
        json={"sha256_hash": digest, "filename": "minutes.txt", "file_size_bytes": len(content)},
    )
    record_id = created.json()["id"]
    response = client.get(f"/api/v1/timestamps/{record_id}/proof", headers=tenant.auth)
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    bundle = response.json()
    public_key = runtime.record_signer.public_key_raw
    report = verify_bundle(
        bundle,
        sha256=digest,
        trust_roots=[runtime.keystore.ca_certificate()],
        service_public_keys=[public_key],
    )
    assert report.ok and report.record_id == record_id
    assert report.certificate_id == created.json()["certificate_id"]
    with pytest.raises(ProofVerificationError):
        verify_bundle(
            bundle,
            sha256=hashlib.sha256(b"forged").hexdigest(),
            trust_roots=[runtime.keystore.ca_certificate()],
        )
