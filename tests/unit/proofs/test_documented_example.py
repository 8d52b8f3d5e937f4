"""The worked example in docs/proof-format.md must stay a valid, checkable proof, and
what the document says about it must stay true: the file's size and hash, the canonical
record, the reproducible signatures, and the output of `notarium verify` shown there."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from notarium.cli.main import cli
from notarium.core.hashing import sha256_bytes
from notarium.formats.canonical import canonical_json
from notarium.formats.signing import Ed25519RecordSigner
from notarium.formats.tlog.note import verifier_key_text
from notarium.verify import BlockHeaders, verify_proof

from .conftest import DOCUMENT

DOC = Path(__file__).resolve().parents[3] / "docs" / "proof-format.md"


def _example_section() -> str:
    text = DOC.read_text(encoding="utf-8")
    return text[text.index("## 17. Worked example") : text.index("## 18.")]


def _blocks(lang: str) -> list[str]:
    return [
        body
        for found, body in re.findall(r"```(\w*)\n(.*?)\n```", _example_section(), re.DOTALL)
        if found == lang
    ]


@pytest.fixture(scope="module")
def example() -> dict[str, Any]:
    bundle: dict[str, Any] = json.loads(_blocks("json")[0])
    return bundle


@pytest.fixture(scope="module")
def proof_file(example: dict[str, Any]) -> bytes:
    return canonical_json(example)


@pytest.fixture(scope="module")
def example_signer() -> Ed25519RecordSigner:
    return Ed25519RecordSigner(
        Ed25519PrivateKey.from_private_bytes(bytes(range(32))), "notary.example.org"
    )


@pytest.fixture(scope="module")
def headers() -> dict[int, bytes]:
    table = next(
        block for block in _blocks("text") if re.fullmatch(r"(\d+ [0-9a-f]{160}\n?)+", block)
    )
    pairs = (line.split(" ") for line in table.splitlines())
    return {int(height): bytes.fromhex(header) for height, header in pairs}


@pytest.fixture(scope="module")
def trust_roots(example: dict[str, Any]) -> list[x509.Certificate]:
    notary_ca = x509.load_pem_x509_certificate(example["rfc3161"]["chain"][-1].encode())
    external = x509.load_pem_x509_certificate(_blocks("pem")[0].encode())
    return [notary_ca, external]


def test_documented_size_and_hash_of_the_file(proof_file: bytes) -> None:
    section = _example_section()
    assert f"{len(proof_file)} bytes with SHA-256 `{sha256_bytes(proof_file)}`" in section


def test_documented_proof_verifies_fully_against_trusted_headers(
    proof_file: bytes,
    example_signer: Ed25519RecordSigner,
    headers: dict[int, bytes],
    trust_roots: list[x509.Certificate],
) -> None:
    report = verify_proof(
        proof_file,
        sha256=sha256_bytes(DOCUMENT),
        trust_roots=trust_roots,
        service_public_keys=[example_signer.public_key_raw],
        headers=BlockHeaders(by_height=headers.get),
    )
    assert report.anchored and report.log_included
    statuses = {check.name: check.status for check in report.checks}
    assert set(statuses.values()) == {"passed"}
    anchors = next(check.detail for check in report.checks if check.name == "anchors")
    assert "OpenTimestamps: Bitcoin block" in anchors
    assert "(header checked against the node)" in anchors
    assert "RFC 3161 token over the root at " in anchors


def test_documented_proof_without_its_external_root_reports_that_anchor_unchecked(
    proof_file: bytes, trust_roots: list[x509.Certificate], headers: dict[int, bytes]
) -> None:
    report = verify_proof(
        proof_file,
        sha256=sha256_bytes(DOCUMENT),
        trust_roots=trust_roots[:1],
        headers=BlockHeaders(by_height=headers.get),
    )
    assert report.ok and report.anchored
    statuses = {anchor.kind: anchor.status for anchor in report.anchors}
    assert statuses == {"ots": "verified", "bitcoin": "verified", "rfc3161": "unchecked"}
    external = next(anchor for anchor in report.anchors if anchor.kind == "rfc3161")
    assert "CN=Fake Root CA" in external.detail and "not among the trusted roots" in external.detail


def test_documented_canonical_record_and_signatures(
    example: dict[str, Any], example_signer: Ed25519RecordSigner
) -> None:
    canonical = canonical_json(example["record"])
    assert _blocks("")[0].encode("utf-8") == canonical
    assert f"({len(canonical)} bytes;" in _example_section()
    # Ed25519 is deterministic, so the documented signature and seal are reproducible.
    signature = base64.b64encode(example_signer.sign(canonical)).decode()
    assert signature == example["signature"]["value"]
    assert example["signature"]["key_id"] == example_signer.key_id == "47192693"
    unsealed = {key: value for key, value in example.items() if key != "seal"}
    seal = base64.b64encode(example_signer.sign(canonical_json(unsealed))).decode()
    assert seal == example["seal"]["value"]


def test_documented_merkle_steps_and_log_key(example: dict[str, Any]) -> None:
    steps = next(block for block in _blocks("text") if block.startswith("SHA-256(digest"))
    values = [line.rsplit("= ", 1)[1] for line in steps.splitlines()]
    leaf = example["merkle"]["leaf"]
    current = hashlib.sha256(bytes.fromhex(leaf["digest"] + leaf["nonce"])).digest()
    assert values[0] == current.hex()
    for step, value in zip(leaf["path"], values[1:], strict=True):
        sibling = bytes.fromhex(step["sibling"])
        pair = sibling + current if step["side"] == "left" else current + sibling
        current = hashlib.sha256(pair).digest()
        assert value == current.hex()
    assert current.hex() == example["merkle"]["root"]
    origin = example["log"]["tlog_proof"].split("\n\n", 1)[1].split("\n", 1)[0]
    public_key = base64.b64decode(example["signature"]["public_key"])
    assert verifier_key_text(origin, public_key) in _blocks("text")


def test_documented_cli_run(
    proof_file: bytes, example: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    console = _blocks("console")[0]
    lines = console.splitlines()
    end = next(i for i, line in enumerate(lines) if not line.endswith("\\"))
    command = " ".join(line.rstrip("\\").strip() for line in lines[: end + 1])
    expected = "\n".join(lines[end + 1 :]) + "\n"
    args = shlex.split(command)
    assert args[:3] == ["$", "notarium", "verify"]
    (tmp_path / "contract.pdf").write_bytes(DOCUMENT)
    (tmp_path / "proof.json").write_bytes(proof_file)
    (tmp_path / "notary-ca.pem").write_text(example["rfc3161"]["chain"][-1])
    (tmp_path / "external-tsa-root.pem").write_text(_blocks("pem")[0] + "\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, args[2:])
    assert result.exit_code == 0, result.output
    assert result.output == expected
