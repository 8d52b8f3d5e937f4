"""The service's record-signing key.

Key ids follow the C2SP signed-note convention (first four bytes of
SHA-256(name || "\\n" || 0x01 || public key)) so that the same Ed25519 key can later
sign transparency-log checkpoints and be recognised by the same id in both places.
"""

from __future__ import annotations

import hashlib
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from notarium.core.errors import ValidationError

ED25519_SIGNATURE_TYPE = 0x01
ED25519_PUBLIC_KEY_SIZE = 32
ED25519_SIGNATURE_SIZE = 64


class InvalidKeyNameError(ValidationError):
    code = "INVALID_KEY_NAME"


class RecordSigner(Protocol):
    """Anything that can sign proof records; an HSM-backed signer fits as well."""

    @property
    def key_id(self) -> str:
        """C2SP signed-note key id, 8 lowercase hex characters."""
        ...

    @property
    def name(self) -> str:
        """Signed-note key name, e.g. ``notary.example.org``."""
        ...

    @property
    def public_key_raw(self) -> bytes:
        """The raw 32-byte Ed25519 public key."""
        ...

    def sign(self, data: bytes) -> bytes:
        """Return a 64-byte Ed25519 signature over ``data``."""
        ...


def validate_key_name(name: str) -> None:
    """Reject names a signed note cannot carry (C2SP: non-empty, no spaces or '+')."""
    if not name:
        raise InvalidKeyNameError("signing key name must not be empty")
    if any(ch.isspace() for ch in name) or "+" in name:
        raise InvalidKeyNameError(f"signing key name {name!r} must not contain whitespace or '+'")


def signed_note_key_id(name: str, public_key_raw: bytes) -> str:
    """C2SP signed-note key id of an Ed25519 key, as 8 lowercase hex characters."""
    material = name.encode("utf-8") + b"\n" + bytes([ED25519_SIGNATURE_TYPE]) + public_key_raw
    return hashlib.sha256(material).digest()[:4].hex()


class Ed25519RecordSigner:
    """A ``RecordSigner`` holding an Ed25519 private key in process memory."""

    def __init__(self, private_key: Ed25519PrivateKey, name: str) -> None:
        validate_key_name(name)
        self._private_key = private_key
        self._name = name
        self._public_key_raw = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self._key_id = signed_note_key_id(name, self._public_key_raw)

    @property
    def key_id(self) -> str:
        return self._key_id

    @property
    def name(self) -> str:
        return self._name

    @property
    def public_key_raw(self) -> bytes:
        return self._public_key_raw

    def sign(self, data: bytes) -> bytes:
        return self._private_key.sign(data)

    def __repr__(self) -> str:
        return f"Ed25519RecordSigner(name={self._name!r}, key_id={self._key_id!r})"


def verify_ed25519(public_key_raw: bytes, signature: bytes, data: bytes) -> bool:
    """True if ``signature`` is a valid Ed25519 signature of ``data`` by the key."""
    if len(public_key_raw) != ED25519_PUBLIC_KEY_SIZE or len(signature) != ED25519_SIGNATURE_SIZE:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key_raw).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True
