from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from notarium.formats.canonical import canonical_json
from notarium.formats.evidence.package import EvidencePackage

from .captures import FINAL_URL, REQUESTED_URL, USER_AGENT
from .checks import openssl_manifest_signature, openssl_manifest_token, run
from .conftest import CAPTURE_ID, Pki, extract


@pytest.fixture(scope="module")
def unpacked(package: EvidencePackage, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return extract(package.zip_bytes, tmp_path_factory.mktemp("unpacked"))


def test_manifest_is_canonical_and_lists_every_artifact(package: EvidencePackage) -> None:
    manifest = json.loads(package.manifest)
    assert canonical_json(manifest) == package.manifest
    assert package.manifest_sha256 == hashlib.sha256(package.manifest).hexdigest()
    assert manifest["format"] == "notarium-evidence" and manifest["version"] == 1
    assert manifest["capture_id"] == CAPTURE_ID
    files = {
        "capture.wacz": package.wacz,
        "capture.har": package.har,
        "screenshot.png": package.screenshot_png,
        "dom.html": package.dom_html,
    }
    assert [a["path"] for a in manifest["artifacts"]] == list(files)
    for artifact in manifest["artifacts"]:
        data = files[artifact["path"]]
        assert artifact["sha256"] == hashlib.sha256(data).hexdigest()
        assert artifact["bytes"] == len(data)
    assert [a["media_type"] for a in manifest["artifacts"]] == [
        "application/wacz",
        "application/json",
        "image/png",
        "text/html; charset=utf-8",
    ]


def test_manifest_states_the_capture_facts(package: EvidencePackage, pki: Pki) -> None:
    manifest = json.loads(package.manifest)
    capture = manifest["capture"]
    assert capture["requested_url"] == REQUESTED_URL
    assert capture["final_url"] == FINAL_URL
    assert capture["title"] == "Quarterly report — Example"
    assert capture["started"] == "2026-11-21T09:30:00.125Z"
    assert capture["finished"] == "2026-11-21T09:30:03.375Z"
    assert capture["viewport"] == {"width": 1280, "height": 800}
    assert capture["user_agent"] == USER_AGENT
    assert capture["browser_version"] == "131.0.6778.85"
    assert capture["redirects"] == [{"url": REQUESTED_URL, "status": 301, "location": FINAL_URL}]
    assert capture["server_ips"] == ["127.0.0.1", "127.0.0.2"]
    assert capture["tls"] == {
        "protocol": "TLS 1.3",
        "cipher": "AES_128_GCM",
        "subject_name": "www.example.test",
        "issuer": "Example Test CA",
        "valid_from": "2026-09-01T00:00:00.000Z",
        "valid_to": "2026-12-01T00:00:00.000Z",
    }
    assert capture["consent_dismissed"] == ["OneTrust"]
    assert capture["assisted"] is False
    assert capture["blocked_requests"] == ["https://tracker.internal.test/pixel"]
    assert capture["exchange_count"] == 4
    assert capture["final_status"] == 200
    assert capture["page_loaded"] is True
    # Durations are whole milliseconds: canonical JSON carries no fractions.
    assert capture["timings"] == [
        {"step": "navigation", "milliseconds": 182},
        {"step": "scroll", "milliseconds": 1250},
        {"step": "screenshot", "milliseconds": 96},
    ]

    assert manifest["wacz"]["path"] == "capture.wacz"
    assert manifest["wacz"]["warc"]["path"] == "archive/data.warc.gz"
    assert manifest["signature"] == {
        "algorithm": "ed25519",
        "key_name": "notary.example.test",
        "key_id": pki.signer.key_id,
        "public_key": base64.b64encode(pki.signer.public_key_raw).decode(),
    }


def test_openssl_verifies_the_manifest_signature(unpacked: Path) -> None:
    ok = openssl_manifest_signature(unpacked)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "Signature Verified Successfully" in ok.stdout


def test_openssl_verifies_the_manifest_token(unpacked: Path) -> None:
    ok = openssl_manifest_token(unpacked)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "Verification: OK" in ok.stdout


def test_openssl_refuses_an_edited_manifest(unpacked: Path, tmp_path: Path) -> None:
    edited = unpacked.joinpath("manifest.json").read_bytes().replace(b"Quarterly", b"Annual")
    (tmp_path / "manifest.json").write_bytes(edited)
    keys = unpacked / "keys"
    signature = run(
        "openssl",
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        keys / "ed25519.pub.pem",
        "-rawin",
        "-in",
        tmp_path / "manifest.json",
        "-sigfile",
        unpacked / "manifest.sig",
    )
    assert signature.returncode != 0
    assert "Signature Verification Failure" in signature.stdout + signature.stderr
    token = run(
        "openssl",
        "ts",
        "-verify",
        "-data",
        tmp_path / "manifest.json",
        "-in",
        unpacked / "manifest.tsr",
        "-CAfile",
        keys / "ca.cert.pem",
        "-untrusted",
        keys / "tsa-chain.pem",
    )
    assert token.returncode != 0
    assert "message imprint mismatch" in token.stdout + token.stderr
