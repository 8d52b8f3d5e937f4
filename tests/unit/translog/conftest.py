from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from notarium.formats.signing import Ed25519RecordSigner

VECTORS = Path(__file__).resolve().parents[2] / "vectors"
ORIGIN = "notary.example/log"


def load_vectors(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return data


def go_private_key(private_key_text: str) -> tuple[str, Ed25519PrivateKey]:
    """Name and key of golang.org/x/mod/sumdb/note private key text."""
    prefix_private, prefix_key, name, _key_id, encoded = private_key_text.split("+", 4)
    assert (prefix_private, prefix_key) == ("PRIVATE", "KEY")
    material = base64.b64decode(encoded)
    assert material[0] == 0x01 and len(material) == 33
    return name, Ed25519PrivateKey.from_private_bytes(material[1:])


def go_note_signer(private_key_text: str) -> Ed25519RecordSigner:
    name, key = go_private_key(private_key_text)
    return Ed25519RecordSigner(key, name)


@pytest.fixture(scope="session")
def signer() -> Ed25519RecordSigner:
    return Ed25519RecordSigner(Ed25519PrivateKey.generate(), ORIGIN)


@pytest.fixture(scope="session")
def other_signer() -> Ed25519RecordSigner:
    return Ed25519RecordSigner(Ed25519PrivateKey.generate(), "witness.example/w1")
