from __future__ import annotations

import base64
import json
from pathlib import Path

from click.testing import CliRunner, Result

from notarium.cli.main import cli
from notarium.formats.evidence.package import EvidencePackage

from .conftest import Pki, edit_zip


def verify(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, ["verify", *map(str, args)], catch_exceptions=False)


def test_verify_accepts_a_good_package(package: EvidencePackage, pki: Pki, tmp_path: Path) -> None:
    path = tmp_path / package.filename
    path.write_bytes(package.zip_bytes)

    result = verify(path)
    assert result.exit_code == 0, result.output
    assert "PASSED   manifest-signature:" in result.output
    assert "PASSED   wacz-signature:" in result.output
    assert "ABSENT   proof:" in result.output
    assert "the CA shipped inside the package was trusted" in result.output
    assert f"manifest sha256 {package.manifest_sha256}" in result.output

    key = base64.b64encode(pki.signer.public_key_raw).decode()
    pinned = verify(path, "--trust", pki.keys_dir / "ca.cert.pem", "--service-key", key, "--json")
    assert pinned.exit_code == 0, pinned.output
    report = json.loads(pinned.output)
    assert report["ok"] is True and report["trust"] == "given"
    assert report["final_url"] == "https://www.example.test/article?id=7"


def test_verify_names_the_failed_check_and_exits_1(
    package: EvidencePackage, tmp_path: Path
) -> None:
    path = tmp_path / "evidence.zip"
    path.write_bytes(edit_zip(package.zip_bytes, "screenshot.png", lambda d: d + b"\x00"))

    result = verify(path)
    assert result.exit_code == 1
    assert "FAILED   artifact screenshot.png:" in result.output
    assert result.output.rstrip().endswith("FAILED: artifact screenshot.png")

    as_json = verify(path, "--json")
    assert as_json.exit_code == 1
    report = json.loads(as_json.output)
    assert report["ok"] is False
    assert [c["name"] for c in report["checks"] if c["status"] == "failed"] == [
        "artifact screenshot.png"
    ]


def test_a_file_without_proof_must_be_an_evidence_package(tmp_path: Path) -> None:
    path = tmp_path / "contract.pdf"
    path.write_bytes(b"%PDF-1.7")
    result = verify(path)
    assert result.exit_code != 0
    assert "is not an evidence package; give a PROOF" in result.output


def test_a_proof_still_needs_trust(tmp_path: Path) -> None:
    document, proof = tmp_path / "contract.pdf", tmp_path / "contract.proof.json"
    document.write_bytes(b"%PDF-1.7")
    proof.write_text("{}")
    result = verify(document, proof)
    assert result.exit_code != 0
    assert "--trust is required" in result.output
