from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from notarium.adapters.pki.generate import generate_ca
from notarium.core.clock import SystemClock
from notarium.formats.bundle import RecordFacts, build_bundle
from notarium.formats.canonical import canonical_json
from notarium.formats.evidence.package import EvidencePackage
from notarium.formats.rfc3161.reply import granted_response
from notarium.formats.signing import Ed25519RecordSigner
from notarium.ledger.tsa.stamper import InProcessStamper
from notarium.products.web_capture.evidence.service import EvidenceService
from notarium.verify.evidence import (
    EvidenceReport,
    report_json,
    report_lines,
    verify_evidence_package,
)

from .captures import sample_capture
from .conftest import CAPTURE_ID, Pki, edit_zip, rezip, signer_for, zip_entries

ALL_CHECKS = [
    "package",
    "manifest",
    "artifact capture.wacz",
    "artifact capture.har",
    "artifact screenshot.png",
    "artifact dom.html",
    "manifest-signature",
    "manifest-timestamp",
    "wacz-contents",
    "wacz-signature",
    "proof",
]


def proof_for(sha256: str, pki: Pki, timestamper: InProcessStamper, signer: Any = None) -> bytes:
    bundle = build_bundle(
        RecordFacts(
            id="0d5c3b1e-8a7f-4f61-b2d4-6c1e9a0f3b27",
            certificate_id="WC-7K2M9QXD",
            sha256=sha256,
            filename="manifest.json",
            file_size_bytes=1234,
            file_type="application/json",
            created_at="2026-11-21T09:31:06.000Z",
        ),
        token_der=timestamper.timestamp(bytes.fromhex(sha256)),
        tsa_chain_pem=pki.keystore.tsa_chain_pem(),
        signer=signer or pki.signer,
    )
    return canonical_json(bundle)


def failed(report: EvidenceReport) -> set[str]:
    return {check.name for check in report.failed}


def test_a_good_package_passes_every_check(package: EvidencePackage, pki: Pki) -> None:
    report = verify_evidence_package(package.zip_bytes)
    assert report.ok, report_lines(report)
    assert [c.name for c in report.checks] == ALL_CHECKS
    assert {c.status for c in report.checks[:-1]} == {"passed"}
    assert report.check("proof").status == "absent"
    assert report.trust == "packaged"
    assert report.manifest_sha256 == package.manifest_sha256
    assert report.capture["final_url"] == sample_capture().final_url

    pinned = verify_evidence_package(
        package.zip_bytes,
        trust_roots=[pki.keystore.ca_certificate()],
        service_public_keys=[pki.signer.public_key_raw],
    )
    assert pinned.ok and pinned.trust == "given"
    assert "(key id" in pinned.check("manifest-signature").detail
    assert "pinned)" in pinned.check("manifest-signature").detail


def test_the_record_proof_inside_is_checked(
    package: EvidencePackage, pki: Pki, timestamper: InProcessStamper
) -> None:
    finished = package.with_files(
        proof_json=proof_for(package.manifest_sha256, pki, timestamper),
        certificate_pdf=b"%PDF-1.7 sealed elsewhere",
    )
    report = verify_evidence_package(finished.zip_bytes)
    assert report.ok, report_lines(report)
    assert report.check("proof").status == "passed"
    assert "WC-7K2M9QXD" in report.check("proof").detail
    assert report.check("certificate-pdf").status == "skipped"


def test_a_proof_of_another_hash_fails(
    package: EvidencePackage, pki: Pki, timestamper: InProcessStamper
) -> None:
    other = hashlib.sha256(b"another manifest").hexdigest()
    report = verify_evidence_package(
        package.with_files(proof_json=proof_for(other, pki, timestamper)).zip_bytes
    )
    assert failed(report) == {"proof"}
    assert "hash" in report.check("proof").detail


def test_a_proof_by_another_key_fails(
    package: EvidencePackage, pki: Pki, timestamper: InProcessStamper
) -> None:
    stranger = Ed25519RecordSigner(Ed25519PrivateKey.generate(), "notary.example.test")
    proof = proof_for(package.manifest_sha256, pki, timestamper, signer=stranger)
    report = verify_evidence_package(package.with_files(proof_json=proof).zip_bytes)
    assert failed(report) == {"proof"}


def _flip_last(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0x01])


def _retitle_manifest(data: bytes) -> bytes:
    manifest = json.loads(data)
    manifest["capture"]["title"] = "Something else"
    return canonical_json(manifest)


def _other_token(timestamper: InProcessStamper) -> Callable[[bytes], bytes]:
    return lambda _: granted_response(timestamper.timestamp(hashlib.sha256(b"x").digest()))


def _edit_wacz(name: str, change: Callable[[bytes], bytes]) -> Callable[[bytes], bytes]:
    return lambda wacz: edit_zip(wacz, name, change)


def _resign_digest(data: bytes) -> bytes:
    digest = json.loads(data)
    digest["signedData"]["signature"] = digest["signedData"]["signature"][::-1]
    return json.dumps(digest).encode()


@pytest.mark.parametrize(
    ("entry", "change", "expected"),
    [
        ("capture.har", lambda d: d.replace(b"Quarterly", b"Annually"), {"artifact capture.har"}),
        ("screenshot.png", _flip_last, {"artifact screenshot.png"}),
        ("dom.html", lambda d: d.replace(b"4 %", b"9 %"), {"artifact dom.html"}),
        (
            "capture.wacz",
            _edit_wacz("archive/data.warc.gz", _flip_last),
            {"artifact capture.wacz", "wacz-contents"},
        ),
        (
            "capture.wacz",
            _edit_wacz("datapackage-digest.json", lambda d: d.replace(b"sha256:", b"sha256:0", 1)),
            {"artifact capture.wacz", "wacz-contents"},
        ),
        (
            "capture.wacz",
            _edit_wacz("datapackage-digest.json", _resign_digest),
            {"artifact capture.wacz", "wacz-signature"},
        ),
        ("manifest.json", _retitle_manifest, {"manifest-signature", "manifest-timestamp"}),
        ("manifest.sig", _flip_last, {"manifest-signature"}),
        ("manifest.tsr", _flip_last, {"manifest-timestamp"}),
        (
            "keys/ed25519.pub.pem",
            lambda d: d.replace(b"MCowBQYDK2VwAyEA", b"MCowBQYDK2VwAyEB"),
            {"manifest-signature"},
        ),
    ],
    ids=[
        "har",
        "screenshot",
        "dom",
        "warc-in-wacz",
        "wacz-digest",
        "wacz-signature",
        "manifest",
        "signature",
        "token",
        "public-key",
    ],
)
def test_each_tampering_fails_the_check_that_covers_it(
    package: EvidencePackage, entry: str, change: Callable[[bytes], bytes], expected: set[str]
) -> None:
    report = verify_evidence_package(edit_zip(package.zip_bytes, entry, change))
    assert failed(report) == expected, report_lines(report)
    assert not report.ok
    assert report_lines(report)[-1] == "FAILED: " + ", ".join(
        c.name for c in report.checks if c.name in expected
    )


def test_a_token_over_another_digest_fails(
    package: EvidencePackage, timestamper: InProcessStamper
) -> None:
    forged = edit_zip(package.zip_bytes, "manifest.tsr", _other_token(timestamper))
    report = verify_evidence_package(forged)
    assert failed(report) == {"manifest-timestamp"}
    assert "another digest" in report.check("manifest-timestamp").detail


def test_a_bad_wacz_signature_alone_is_named(pki: Pki, timestamper: InProcessStamper) -> None:
    # A package the service itself signed, but whose WACZ signature covers another hash:
    # only the WACZ signature check can tell.
    real = signer_for(pki, timestamper)

    def wrong(digest_hash: str, created: str) -> dict[str, Any]:
        return real("sha256:" + "00" * 32, created) | {"hash": digest_hash}

    service = EvidenceService(
        signer=pki.signer,
        timestamper=timestamper,
        wacz_signer=wrong,
        ca_certificate=pki.keystore.ca_certificate(),
        tsa_chain_pem=pki.keystore.tsa_chain_pem(),
        clock=SystemClock(),
    )
    report = verify_evidence_package(service.build(sample_capture(), CAPTURE_ID).zip_bytes)
    assert failed(report) == {"wacz-signature"}
    assert "is not a signature of signedData.hash" in report.check("wacz-signature").detail


def test_pinning_another_key_fails_the_signature(package: EvidencePackage) -> None:
    report = verify_evidence_package(package.zip_bytes, service_public_keys=[b"\x01" * 32])
    assert failed(report) == {"manifest-signature"}
    assert "pinned" in report.check("manifest-signature").detail


def test_another_trust_root_fails_every_certificate_check(package: EvidencePackage) -> None:
    stranger = generate_ca(now=datetime.now(UTC), organisation="Stranger")
    report = verify_evidence_package(package.zip_bytes, trust_roots=[stranger.certificate])
    assert failed(report) == {"manifest-timestamp", "wacz-signature"}


def test_a_manifest_that_is_not_canonical_stops_the_checks(package: EvidencePackage) -> None:
    pretty = edit_zip(
        package.zip_bytes, "manifest.json", lambda d: json.dumps(json.loads(d), indent=1).encode()
    )
    report = verify_evidence_package(pretty)
    assert failed(report) == {"manifest"}
    assert "canonical" in report.check("manifest").detail
    assert {c.status for c in report.checks[2:]} == {"skipped"}


def test_an_unlisted_artifact_in_the_manifest_fails(package: EvidencePackage) -> None:
    def drop_har(data: bytes) -> bytes:
        manifest = json.loads(data)
        manifest["artifacts"] = manifest["artifacts"][:1]
        return canonical_json(manifest)

    report = verify_evidence_package(edit_zip(package.zip_bytes, "manifest.json", drop_har))
    assert failed(report) == {"manifest"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda e: e.pop("capture.har"), "missing capture.har"),
        (lambda e: e.update({"extra.exe": b"MZ"}), "unexpected extra.exe"),
    ],
)
def test_missing_or_extra_files_fail_the_package(
    package: EvidencePackage, change: Callable[[dict[str, bytes]], object], message: str
) -> None:
    entries = zip_entries(package.zip_bytes)
    change(entries)
    report = verify_evidence_package(rezip(entries))
    assert failed(report) == {"package"}
    assert message in report.check("package").detail
    assert len(report.checks) == 1


def test_not_a_zip_is_a_failed_package_check() -> None:
    report = verify_evidence_package(b"%PDF-1.7 not a zip")
    assert not report.ok
    assert report.checks[0].name == "package"
    assert "not a ZIP" in report.checks[0].detail


def test_json_report(package: EvidencePackage) -> None:
    out = report_json(verify_evidence_package(package.zip_bytes))
    assert out["ok"] is True
    assert out["kind"] == "evidence-package"
    assert out["manifest_sha256"] == package.manifest_sha256
    assert [c["name"] for c in out["checks"]] == ALL_CHECKS
    assert json.loads(json.dumps(out)) == out
