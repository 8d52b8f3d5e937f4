"""Records made through the timestamps API reach `confirmed` through the real anchor
clients talking to protocol fakes (two calendars, bitcoind, OpenSSL as an external TSA)
that share one fake chain; their proofs verify offline and fail on any flipped byte."""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from bitcoin.core import CBlockHeader
from cryptography.hazmat.primitives.serialization import Encoding
from fastapi.testclient import TestClient
from opentimestamps.core.notary import BitcoinBlockHeaderAttestation
from opentimestamps.core.serialize import BytesDeserializationContext
from opentimestamps.core.timestamp import DetachedTimestampFile

from conftest import Tenant, make_tenant
from fakes.bitcoind import FakeBitcoind
from fakes.calendar import FakeCalendar
from fakes.chain import FakeChain
from fakes.openssl_tsa import OpenSslTsa
from notarium.adapters.store import migrate
from notarium.app.runtime import Runtime, build_runtime
from notarium.app.settings import Settings
from notarium.core.errors import ProofVerificationError
from notarium.formats.tlog.tree import verify_consistency
from notarium.http.app import create_app
from notarium.ledger.records.values import Owner
from notarium.verify import BlockHeaders, verify_proof


@dataclass
class World:
    chain: FakeChain
    calendars: list[FakeCalendar]
    node: FakeBitcoind
    tsa: OpenSslTsa
    runtime: Runtime
    client: TestClient
    tenant: Tenant
    roots: list[object]

    def settle(self) -> None:
        """Every background job, once, as the worker would."""
        self.runtime.translog.integrate()
        self.runtime.anchoring.run_batcher(force=True)
        self.runtime.anchoring.progress_anchors()

    def mine(self) -> None:
        for calendar in self.calendars:
            calendar.stamp_pending()
        self.node.mine()
        self.runtime.anchoring.progress_anchors()
        self.runtime.translog.integrate()

    def headers(self) -> BlockHeaders:
        def by_height(height: int) -> bytes | None:
            return self.chain.header(height) if 0 <= height <= self.chain.tip else None

        return BlockHeaders(by_height=by_height)


@pytest.fixture
def world(settings: Settings, tmp_path: Path) -> Iterator[World]:
    with make_world(settings, tmp_path) as made:
        yield made


@contextmanager
def make_world(settings: Settings, tmp_path: Path, **overrides: object) -> Iterator[World]:
    chain = FakeChain()
    with (
        FakeCalendar(chain) as one,
        FakeCalendar(chain) as two,
        FakeBitcoind(chain) as node,
        OpenSslTsa() as tsa,
    ):
        trust = tmp_path / "external-tsa-roots.pem"
        trust.write_bytes(tsa.ca_certificate.public_bytes(Encoding.PEM))
        configured = settings.model_copy(
            update={
                "ots_calendars": [one.url, two.url],
                "ots_min_calendars": 2,
                "ots_upgrade_interval": 0.0,
                "bitcoin_rpc_url": node.rpc_url,
                "external_tsa_urls": [tsa.url],
                "external_tsa_trust": trust,
                **overrides,
            }
        )
        runtime = build_runtime(configured)
        migrate.upgrade(runtime.engine)
        with TestClient(create_app(runtime)) as client:
            yield World(
                chain,
                [one, two],
                node,
                tsa,
                runtime,
                client,
                make_tenant(runtime),
                [runtime.keystore.ca_certificate(), tsa.ca_certificate],
            )
        runtime.close()


def create(world: World, content: bytes) -> dict[str, object]:
    response = world.client.post(
        "/api/v1/timestamps",
        headers=world.tenant.auth,
        json={
            "sha256_hash": hashlib.sha256(content).hexdigest(),
            "filename": "minutes v2.pdf",
            "file_size_bytes": len(content),
        },
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_records_reach_confirmed_and_every_proof_verifies(world: World) -> None:
    contents = [f"document {i}".encode() for i in range(3)]
    ids = [str(create(world, c)["id"]) for c in contents]
    auth = world.tenant.auth

    world.settle()
    first = world.client.get(f"/api/v1/timestamps/{ids[0]}", headers=auth).json()
    # Anchoring underway, which the timestamps document still calls pending.
    owner = Owner(world.tenant.account_id, "live")
    assert world.runtime.records.get(owner, ids[0]).status == "anchoring"
    assert first["status"] == "pending"
    pending_ots = world.client.get(f"/api/v1/timestamps/{ids[0]}/ots", headers=auth)
    assert pending_ots.status_code == 200

    world.mine()
    for record_id, content in zip(ids, contents, strict=True):
        body = world.client.get(f"/api/v1/timestamps/{record_id}", headers=auth).json()
        assert body["status"] == "confirmed"
        assert body["bitcoin_block"] is not None and len(body["blockchain_tx"]) == 64
        assert body["confirmed_at"] is not None

        ots = world.client.get(f"/api/v1/timestamps/{record_id}/ots", headers=auth)
        assert ots.status_code == 200
        assert ots.headers["content-type"] == "application/octet-stream"
        assert ots.headers["content-disposition"] == 'attachment; filename="minutes v2.pdf.ots"'
        _check_with_opentimestamps(ots.content, hashlib.sha256(content).digest(), world.chain)

        proof = world.client.get(f"/api/v1/timestamps/{record_id}/proof", headers=auth)
        report = verify_proof(
            proof.content,
            sha256=hashlib.sha256(content).hexdigest(),
            trust_roots=world.roots,  # type: ignore[arg-type]
            service_public_keys=[world.runtime.record_signer.public_key_raw],
            headers=world.headers(),
        )
        assert report.anchored and report.log_included
        details = {check.name: check.detail for check in report.checks}
        assert "OpenTimestamps: Bitcoin block" in details["anchors"]
        assert "Bitcoin OP_RETURN in block" in details["anchors"]
        assert "RFC 3161 token over the root" in details["anchors"]

    confirmed = world.client.get("/api/v1/timestamps?status=confirmed", headers=auth).json()
    assert confirmed["total_count"] == 3


def _check_with_opentimestamps(data: bytes, digest: bytes, chain: FakeChain) -> None:
    detached = DetachedTimestampFile.deserialize(BytesDeserializationContext(data))
    assert detached.file_digest == digest
    attested = [
        (msg, attestation)
        for msg, attestation in detached.timestamp.all_attestations()
        if isinstance(attestation, BitcoinBlockHeaderAttestation)
    ]
    assert attested
    for msg, attestation in attested:
        header = CBlockHeader.deserialize(chain.header(attestation.height))
        assert attestation.verify_against_blockheader(msg, header) == header.nTime


def test_any_flipped_byte_fails_verification(world: World) -> None:
    content = b"the flipped-byte test"
    record_id = create(world, content)["id"]
    world.settle()
    world.mine()
    data = world.client.get(
        f"/api/v1/timestamps/{record_id}/proof", headers=world.tenant.auth
    ).content
    digest = hashlib.sha256(content).hexdigest()
    options = {
        "sha256": digest,
        "trust_roots": world.roots,
        "service_public_keys": [world.runtime.record_signer.public_key_raw],
        "headers": world.headers(),
    }
    verify_proof(data, **options)  # type: ignore[arg-type]
    rng = random.Random(20261121)
    samples = int(os.environ.get("NOTARIUM_FLIP_SAMPLES", "400"))
    positions = rng.sample(range(len(data)), min(len(data), samples))
    for position in positions:
        replacement = rng.choice([b for b in range(256) if b != data[position]])
        flipped = data[:position] + bytes([replacement]) + data[position + 1 :]
        with pytest.raises(ProofVerificationError):
            verify_proof(flipped, **options)  # type: ignore[arg-type]
            pytest.fail(
                f"flipping byte {position} ({data[position : position + 1]!r} -> "
                f"{bytes([replacement])!r}) went unnoticed: "
                f"{data[max(0, position - 40) : position + 40]!r}"
            )


def test_transparency_log_routes(world: World) -> None:
    ids = [str(create(world, f"log {i}".encode())["id"]) for i in range(3)]
    world.runtime.translog.integrate()
    first = world.client.get("/log/checkpoint").text
    for i in range(3, 6):
        create(world, f"log {i}".encode())
    world.runtime.translog.integrate()
    latest = world.client.get("/log/checkpoint")
    assert latest.status_code == 200 and latest.headers["content-type"].startswith("text/plain")
    origin, size, root_b64 = latest.text.split("\n")[:3]
    assert origin == world.runtime.settings.log_origin and size == "6"
    key = world.client.get("/log/key").text.strip()
    assert key.startswith(origin + "+")

    import base64

    old_root = base64.b64decode(first.split("\n")[2])
    consistency = world.client.get("/log/proof/consistency?from=3&to=6").json()
    assert verify_consistency(
        3,
        6,
        old_root,
        base64.b64decode(root_b64),
        [base64.b64decode(h) for h in consistency["hashes"]],
    )
    tlog = world.client.get(f"/api/v1/timestamps/{ids[1]}/tlog-proof", headers=world.tenant.auth)
    assert tlog.status_code == 200 and tlog.text.startswith("c2sp.org/tlog-proof@v1\n")
    inclusion = world.client.get("/log/proof/inclusion?index=1&size=6").json()
    assert len(inclusion["hashes"]) >= 1
    bad = world.client.get("/log/proof/inclusion?index=9&size=6")
    assert bad.status_code == 400
    assert world.client.get("/log/checkpoint/3").text == first


def test_external_tsa_per_record(settings: Settings, tmp_path: Path) -> None:
    with make_world(settings, tmp_path, external_tsa_mode="record") as world:
        contents = [b"first deed", b"second deed"]
        ids = [str(create(world, c)["id"]) for c in contents]
        world.settle()
        world.mine()
        for record_id, content in zip(ids, contents, strict=True):
            data = world.client.get(
                f"/api/v1/timestamps/{record_id}/proof", headers=world.tenant.auth
            ).content
            report = verify_proof(
                data,
                sha256=hashlib.sha256(content).hexdigest(),
                trust_roots=world.roots,  # type: ignore[arg-type]
                headers=world.headers(),
            )
            details = {check.name: check.detail for check in report.checks}
            assert details["anchors"].count("RFC 3161 token over the record") == 1
        assert len(world.tsa.queries) == 2  # one token per record, none for the root


def _cli_verify(world: World, tmp_path: Path, proof: bytes, *extra: str) -> dict[str, object]:
    import json

    from click.testing import CliRunner

    from notarium.cli.main import cli

    proof_path = tmp_path / "record.proof.json"
    proof_path.write_bytes(proof)
    ca = world.runtime.settings.keys_dir / "ca.cert.pem"
    args = ["verify", str(tmp_path / "deed.txt"), str(proof_path), "--trust", str(ca), "--json"]
    result = CliRunner().invoke(cli, [*args, *extra])
    assert result.exit_code == 0, result.output
    report: dict[str, object] = json.loads(result.output)
    assert report["ok"] is True
    return report


def _statuses(report: dict[str, object]) -> dict[str, str]:
    return {a["kind"]: a["status"] for a in report["anchors"]}  # type: ignore[attr-defined, index]


def test_one_record_verifies_at_every_stage_with_only_the_notary_ca(
    world: World, tmp_path: Path
) -> None:
    """The documented command with the notary's CA alone must say OK from the moment a
    record exists until it is anchored everywhere: gaining evidence never fails a proof."""
    content = b"a deed that grows its evidence"
    (tmp_path / "deed.txt").write_bytes(content)
    record_id = create(world, content)["id"]
    url = f"/api/v1/timestamps/{record_id}/proof"

    def proof() -> bytes:
        response = world.client.get(url, headers=world.tenant.auth)
        assert response.status_code == 200, response.text
        return response.content

    created = _cli_verify(world, tmp_path, proof())
    assert _statuses(created) == {}

    world.runtime.translog.integrate()
    logged = _cli_verify(world, tmp_path, proof())
    checks = {c["name"]: c["status"] for c in logged["checks"]}  # type: ignore[attr-defined, index]
    assert checks["log"] == "passed" and checks["anchors"] == "absent"

    world.runtime.anchoring.run_batcher(force=True)
    world.runtime.anchoring.progress_anchors()
    batched = _cli_verify(world, tmp_path, proof())
    assert _statuses(batched) == {"ots": "pending", "rfc3161": "unchecked"}

    world.mine()
    anchored_proof = proof()
    anchored = _cli_verify(world, tmp_path, anchored_proof)
    assert _statuses(anchored) == {
        "ots": "unchecked",
        "bitcoin": "unchecked",
        "rfc3161": "unchecked",
    }
    checks = {c["name"]: c["status"] for c in anchored["checks"]}  # type: ignore[attr-defined, index]
    assert checks["anchors"] == "pending"

    external_root = tmp_path / "external-root.pem"
    external_root.write_bytes(world.tsa.ca_certificate.public_bytes(Encoding.PEM))
    headers = [
        arg
        for height in range(1, world.chain.tip + 1)
        for arg in ("--block-header", world.chain.header(height).hex())
    ]
    everything = _cli_verify(
        world, tmp_path, anchored_proof, "--trust", str(external_root), *headers
    )
    assert _statuses(everything) == {
        "ots": "verified",
        "bitcoin": "verified",
        "rfc3161": "verified",
    }


def test_an_altered_external_token_still_fails_without_its_root(
    world: World, tmp_path: Path
) -> None:
    """Unchecked is for intact evidence only: a token whose signature no longer matches
    fails even when its root is not among the trusted ones."""
    import base64
    import json

    from notarium.formats.canonical import canonical_json
    from notarium.formats.signing import Ed25519RecordSigner

    content = b"a deed whose external token is altered"
    record_id = create(world, content)["id"]
    world.settle()
    bundle = json.loads(
        world.client.get(f"/api/v1/timestamps/{record_id}/proof", headers=world.tenant.auth).content
    )
    anchor = next(a for a in bundle["anchors"] if a["kind"] == "rfc3161")
    token = bytearray(base64.b64decode(anchor["token"]))
    token[-10] ^= 0x01  # inside the signature value
    anchor["token"] = base64.b64encode(bytes(token)).decode()
    signer: Ed25519RecordSigner = world.runtime.record_signer
    unsealed = {key: value for key, value in bundle.items() if key != "seal"}
    bundle["seal"]["value"] = base64.b64encode(signer.sign(canonical_json(unsealed))).decode()
    with pytest.raises(ProofVerificationError) as raised:
        verify_proof(
            canonical_json(bundle),
            sha256=hashlib.sha256(content).hexdigest(),
            trust_roots=[world.runtime.keystore.ca_certificate()],
        )
    assert raised.value.code == "PROOF_TOKEN_SIGNATURE_INVALID"


def test_certificate_names_anchors_by_public_identifiers_only(world: World, tmp_path: Path) -> None:
    """The operator's Bitcoin node and TSA addresses are internal: the certificate names
    the transaction and block, and the external authority by its certificate."""
    from urllib.parse import urlsplit

    from unit.certificate_pdf.support import pdf_text

    content = b"a deed with a printed certificate"
    record_id = create(world, content)["id"]
    world.settle()
    world.mine()
    auth = world.tenant.auth
    body = world.client.get(f"/api/v1/timestamps/{record_id}", headers=auth).json()
    assert body["status"] == "confirmed"
    pdf = world.client.get(f"/api/v1/timestamps/{record_id}/certificate.pdf", headers=auth)
    assert pdf.status_code == 200
    text = pdf_text(pdf.content, tmp_path)
    flat = "".join(text.split())
    for internal in (world.node.rpc_url, world.tsa.url):
        parts = urlsplit(internal)
        assert f"{parts.hostname}:{parts.port}" not in flat, internal
    assert body["blockchain_tx"] in flat
    assert "Bitcoinblock" in flat
    assert "CN=FakeTSA" in flat
    assert "OpenTimestamps" in flat
