"""The worked example in docs/proof-format.md must stay a valid, checkable bundle."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from notarium.hashing import sha256_bytes
from notarium.proofs import Ed25519RecordSigner, canonical_json, verify_bundle

from .conftest import DOCUMENT

DOC = Path(__file__).resolve().parents[3] / "docs" / "proof-format.md"


def _example_section() -> str:
    if not DOC.exists():
        pytest.skip("docs/proof-format.md is not present")
    text = DOC.read_text(encoding="utf-8")
    return text[text.index("## 10. Worked example") : text.index("## 11.")]


def _blocks(section: str) -> list[tuple[str, str]]:
    return re.findall(r"```(\w*)\n(.*?)\n```", section, flags=re.DOTALL)


@pytest.fixture(scope="module")
def example() -> dict[str, Any]:
    lang, body = _blocks(_example_section())[0]
    assert lang == "json"
    bundle: dict[str, Any] = json.loads(body)
    return bundle


@pytest.fixture(scope="module")
def example_signer() -> Ed25519RecordSigner:
    return Ed25519RecordSigner(
        Ed25519PrivateKey.from_private_bytes(bytes(range(32))), "notary.example.org"
    )


def test_documented_bundle_verifies(
    example: dict[str, Any], example_signer: Ed25519RecordSigner
) -> None:
    root = x509.load_pem_x509_certificate(example["rfc3161"]["chain"][-1].encode())
    report = verify_bundle(
        example,
        sha256=sha256_bytes(DOCUMENT),
        trust_roots=[root],
        service_public_keys=[example_signer.public_key_raw],
    )
    assert {c.name: c.detail for c in report.checks if c.status == "absent"} == {
        "merkle": "not yet anchored",
        "anchors": "not yet anchored",
        "log": "not yet anchored",
    }


def test_documented_canonical_record_and_signature(
    example: dict[str, Any], example_signer: Ed25519RecordSigner
) -> None:
    canonical_blocks = [body for lang, body in _blocks(_example_section()) if lang == ""]
    canonical = canonical_json(example["record"])
    assert canonical_blocks[0].encode("utf-8") == canonical
    assert f"({len(canonical)} bytes;" in _example_section()
    # Ed25519 is deterministic, so the documented signature is reproducible.
    assert (
        base64.b64encode(example_signer.sign(canonical)).decode() == (example["signature"]["value"])
    )
    assert example["signature"]["key_id"] == example_signer.key_id == "47192693"
