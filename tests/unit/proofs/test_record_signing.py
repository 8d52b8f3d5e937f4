from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from notarium.core.errors import ValidationError
from notarium.formats.signing import (
    Ed25519RecordSigner,
    RecordSigner,
    signed_note_key_id,
    verify_ed25519,
)


@pytest.mark.parametrize(
    "vkey",
    [
        # Published C2SP signed-note / golang.org/x/mod/sumdb/note verifier keys.
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8",
    ],
)
def test_key_id_matches_published_signed_note_keys(vkey: str) -> None:
    name, key_hash, encoded = vkey.split("+", 2)
    raw = base64.b64decode(encoded)
    assert raw[0] == 0x01
    assert signed_note_key_id(name, raw[1:]) == key_hash


def test_signer_exposes_signed_note_identity() -> None:
    key = Ed25519PrivateKey.generate()
    signer: RecordSigner = Ed25519RecordSigner(key, "notary.example.org")
    assert signer.name == "notary.example.org"
    assert len(signer.public_key_raw) == 32
    assert signer.key_id == signed_note_key_id("notary.example.org", signer.public_key_raw)
    assert len(signer.key_id) == 8 and signer.key_id == signer.key_id.lower()


def test_sign_then_verify() -> None:
    signer = Ed25519RecordSigner(Ed25519PrivateKey.generate(), "n")
    signature = signer.sign(b"record bytes")
    assert len(signature) == 64
    assert verify_ed25519(signer.public_key_raw, signature, b"record bytes")
    assert not verify_ed25519(signer.public_key_raw, signature, b"record bytez")
    other = Ed25519RecordSigner(Ed25519PrivateKey.generate(), "n")
    assert not verify_ed25519(other.public_key_raw, signature, b"record bytes")


@pytest.mark.parametrize(
    ("public_key", "signature"),
    [(b"\x00" * 31, b"\x00" * 64), (b"\x00" * 32, b"\x00" * 63), (b"", b"")],
)
def test_verify_rejects_wrong_lengths(public_key: bytes, signature: bytes) -> None:
    assert not verify_ed25519(public_key, signature, b"data")


def test_repr_does_not_show_the_private_key() -> None:
    signer = Ed25519RecordSigner(Ed25519PrivateKey.generate(), "notary.test")
    assert "notary.test" in repr(signer)
    assert "private" not in repr(signer).lower()


@pytest.mark.parametrize("name", ["", "has space", "plus+sign", "tab\there"])
def test_key_names_a_signed_note_cannot_carry_are_rejected(name: str) -> None:
    with pytest.raises(ValidationError, match="signing key name"):
        Ed25519RecordSigner(Ed25519PrivateKey.generate(), name)
