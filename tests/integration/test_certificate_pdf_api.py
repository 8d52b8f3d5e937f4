"""GET .../certificate.pdf in the timestamps and certificates families: the sealed
certificate of a record, validated by pyhanko and pdfsig, carrying the record's own
proof bundle, and issued again as the record moves through its states."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pyhanko.pdf_utils.reader import PdfFileReader
from test_anchoring_end_to_end import World, make_world

from conftest import Tenant, make_tenant
from notarium.app.runtime import Runtime
from notarium.app.settings import Settings
from notarium.ledger.anchoring.service import AnchoringService
from notarium.ledger.anchoring.simulated import FakeAnchor, SimulatedAnchor
from notarium.verify import verify_proof
from unit.certificate_pdf.support import (
    flip_byte_in_content,
    pdf_text,
    reachable_pki,
    runtime_with_reachable_pki,
)
from unit.sealing.support import Validators, assert_pdfsig_valid, is_document_timestamp


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    with runtime_with_reachable_pki(settings) as made:
        yield made


def stamp(client: TestClient, tenant: Tenant, content: bytes, name: str = "minutes.txt") -> dict:
    response = client.post(
        "/api/v1/timestamps",
        headers=tenant.auth,
        json={
            "sha256_hash": hashlib.sha256(content).hexdigest(),
            "filename": name,
            "file_size_bytes": len(content),
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def attachments(pdf: bytes) -> dict[str, bytes]:
    from notarium.formats.pdf import read_attachments

    return read_attachments(PdfFileReader(BytesIO(pdf)))


def test_timestamp_certificate_reads_validates_and_carries_the_proof(
    client: TestClient, tenant: Tenant, runtime: Runtime, tmp_path: Path
) -> None:
    content = b"board minutes, 13 April"
    record = stamp(client, tenant, content)
    url = f"/api/v1/timestamps/{record['id']}/certificate.pdf"
    response = client.get(url, headers=tenant.auth)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    cid = record["certificate_id"]
    assert response.headers["content-disposition"] == (
        f'attachment; filename="{cid}.certificate.pdf"'
    )
    pdf = response.content

    text = pdf_text(pdf, tmp_path)
    base = runtime.settings.base_url
    for expected in (cid, record["sha256_hash"], f"{base}/cert/{cid}", "minutes.txt"):
        assert expected in text, expected
    assert "Status: Time-stamped, awaiting anchoring" in text

    files = attachments(pdf)
    proof = client.get(f"/api/v1/timestamps/{record['id']}/proof", headers=tenant.auth)
    assert files[f"{cid}.proof.json"] == proof.content
    tsr = client.get(f"/api/v1/timestamps/{record['id']}/tsr", headers=tenant.auth)
    assert files[f"{cid}.tsr"] == tsr.content
    report = verify_proof(
        files[f"{cid}.proof.json"],
        sha256=hashlib.sha256(content).hexdigest(),
        trust_roots=[runtime.keystore.ca_certificate()],
        service_public_keys=[runtime.record_signer.public_key_raw],
    )
    assert report.ok and report.certificate_id == cid

    validators = Validators(tmp_path, runtime.keystore.path("ca.cert.pem").read_bytes())
    checked = validators.pyhanko(pdf)
    assert checked.returncode == 0 and "INTACT:TRUSTED" in checked.output, checked.output
    assert_pdfsig_valid(validators.pdfsig(pdf), expected_seals=1)
    tampered = flip_byte_in_content(pdf)
    assert "INTACT:TRUSTED" not in validators.pyhanko(tampered).output
    (signature,) = validators.pdfsig(tampered)
    assert signature["Signature Validation"] != "Signature is Valid."

    # Unchanged facts: the same sealed file, not a new one per request.
    assert client.get(url, headers=tenant.auth).content == pdf


def test_certificates_family_serves_the_same_certificate_by_either_id(
    client: TestClient, tenant: Tenant, runtime: Runtime, tmp_path: Path
) -> None:
    created = client.post(
        "/v1/certificates",
        headers=tenant.auth,
        json={"sha256Hash": "ab" * 32, "fileName": "deed.pdf", "fileSize": 10},
    ).json()
    by_id = client.get(
        f"/v1/certificates/{created['certificateId']}/certificate.pdf", headers=tenant.auth
    )
    assert by_id.status_code == 200 and by_id.headers["content-type"] == "application/pdf"
    by_public_id = client.get(
        f"/v1/certificates/{created['publicId']}/certificate.pdf", headers=tenant.auth
    )
    assert by_public_id.content == by_id.content
    text = pdf_text(by_id.content, tmp_path)
    assert "Hash certificate" in text and created["publicId"] in text and "ab" * 32 in text
    assert f"{created['publicId']}.proof.json" in attachments(by_id.content)


def test_another_accounts_record_is_not_found_in_either_family(
    client: TestClient, tenant: Tenant, runtime: Runtime
) -> None:
    record = stamp(client, tenant, b"private matter")
    other = make_tenant(runtime)
    response = client.get(f"/api/v1/timestamps/{record['id']}/certificate.pdf", headers=other.auth)
    assert response.status_code == 404
    assert set(response.json()["error"]) == {"code", "message", "request_id"}
    family = client.get(f"/v1/certificates/{record['id']}/certificate.pdf", headers=other.auth)
    assert family.status_code == 404
    assert family.json()["error"]["code"] == "certificate_not_found"
    assert "requestId" in family.json()["error"]


def test_authentication_scope_and_malformed_ids(
    client: TestClient, tenant: Tenant, runtime: Runtime
) -> None:
    record = stamp(client, tenant, b"scoped")
    url = f"/api/v1/timestamps/{record['id']}/certificate.pdf"
    assert client.get(url).status_code == 401
    assert client.get("/v1/certificates/x/certificate.pdf").json()["error"]["code"] == (
        "missing_api_key"
    )
    writer_only = runtime.accounts.create_key(tenant.account_id, scopes=["timestamps:write"])
    refused = client.get(url, headers={"Authorization": f"Bearer {writer_only.secret}"})
    assert refused.status_code == 403
    malformed = client.get("/api/v1/timestamps/not-a-uuid/certificate.pdf", headers=tenant.auth)
    assert malformed.status_code == 400 and malformed.json()["error"]["code"] == "INVALID_ID"


def test_test_mode_certificate_says_so(
    client: TestClient, tenant: Tenant, runtime: Runtime, tmp_path: Path
) -> None:
    key = runtime.accounts.create_key(tenant.account_id, mode="test").secret
    auth = {"Authorization": f"Bearer {key}"}
    record = stamp(client, Tenant(tenant.account_id, key), b"sandbox")
    # Test-mode records take the simulated anchor; the service runs them only when some
    # live anchor is configured, which these settings leave out.
    anchoring = AnchoringService(
        runtime.sessions,
        runtime.clock,
        [FakeAnchor("fake:live", anchor_kind="rfc3161")],
        runtime.settings.model_copy(update={"ots_upgrade_interval": 0.0}).anchoring(),
        test_anchors=[SimulatedAnchor()],
    )
    anchoring.run_batcher(force=True)
    anchoring.progress_anchors()
    anchoring.progress_anchors()
    pdf = client.get(f"/api/v1/timestamps/{record['id']}/certificate.pdf", headers=auth).content
    text = pdf_text(pdf, tmp_path)
    assert "Status: Confirmed (test mode)" in text and "Simulated anchor" in text


@pytest.fixture
def world(settings: Settings, tmp_path: Path) -> Iterator[World]:
    with (
        reachable_pki(settings) as pki,
        make_world(settings.model_copy(update={"base_url": pki.base_url}), tmp_path) as made,
    ):
        yield made


def test_certificate_is_issued_again_as_the_record_moves_through_its_states(
    world: World, tmp_path: Path
) -> None:
    content = b"the lifecycle test"
    digest = hashlib.sha256(content).hexdigest()
    response = world.client.post(
        "/api/v1/timestamps",
        headers=world.tenant.auth,
        json={"sha256_hash": digest, "filename": "lifecycle.txt", "file_size_bytes": 18},
    )
    record = response.json()
    url = f"/api/v1/timestamps/{record['id']}/certificate.pdf"
    cid = record["certificate_id"]

    def certificate() -> tuple[bytes, str]:
        got = world.client.get(url, headers=world.tenant.auth)
        assert got.status_code == 200, got.text
        return got.content, pdf_text(got.content, tmp_path)

    pending, pending_text = certificate()
    assert "awaiting anchoring" in pending_text and f"{cid}.ots" not in attachments(pending)

    world.settle()
    anchoring, anchoring_text = certificate()
    assert anchoring != pending
    assert "Status: Time-stamped, anchoring in progress" in anchoring_text
    assert "Submitted, awaiting confirmation" in anchoring_text
    assert f"{cid}.ots" in attachments(anchoring)

    world.mine()
    confirmed, confirmed_text = certificate()
    assert confirmed not in (pending, anchoring)
    assert certificate()[0] == confirmed
    body = world.client.get(f"/api/v1/timestamps/{record['id']}", headers=world.tenant.auth)
    assert body.json()["status"] == "confirmed"
    assert "Status: Confirmed" in confirmed_text
    assert body.json()["blockchain_tx"] in confirmed_text
    assert f"Bitcoin block {body.json()['bitcoin_block']:,}" in confirmed_text
    assert "block time" in confirmed_text and "Inclusion" in confirmed_text

    files = attachments(confirmed)
    report = verify_proof(
        files[f"{cid}.proof.json"],
        sha256=digest,
        trust_roots=world.roots,  # type: ignore[arg-type]
        service_public_keys=[world.runtime.record_signer.public_key_raw],
        headers=world.headers(),
    )
    assert report.anchored and report.log_included
    ots = world.client.get(f"/api/v1/timestamps/{record['id']}/ots", headers=world.tenant.auth)
    assert files[f"{cid}.ots"] == ots.content

    cached = sorted((world.runtime.settings.data_dir / "certificates").iterdir())
    assert [p.name.split(".")[0] for p in cached] == [record["id"]]

    validators = Validators(tmp_path, world.runtime.keystore.path("ca.cert.pem").read_bytes())
    checked = validators.pyhanko(confirmed)
    assert checked.returncode == 0 and "INTACT:TRUSTED" in checked.output, checked.output
    signatures = validators.pdfsig(confirmed)
    assert not any(is_document_timestamp(s) for s in signatures)
    assert_pdfsig_valid(signatures, expected_seals=1)
    assert json.loads(files[f"{cid}.proof.json"])["record"]["certificate_id"] == cid
