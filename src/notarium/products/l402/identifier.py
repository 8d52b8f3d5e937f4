"""The L402 macaroon identifier (version 0): ``uint16 version ‖ 32-byte payment hash ‖
32-byte token id``, big-endian, as aperture encodes it. The payment hash ties the
macaroon to one invoice; the token id names the root key that signed it."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from notarium.products.l402.errors import InvalidToken

VERSION = 0
HASH_SIZE = 32
TOKEN_ID_SIZE = 32
SIZE = 2 + HASH_SIZE + TOKEN_ID_SIZE


@dataclass(frozen=True)
class Identifier:
    payment_hash: bytes
    token_id: bytes
    version: int = VERSION

    def __post_init__(self) -> None:
        if len(self.payment_hash) != HASH_SIZE or len(self.token_id) != TOKEN_ID_SIZE:
            raise ValueError("an L402 identifier holds a 32-byte payment hash and token id")

    @property
    def token_hex(self) -> str:
        return self.token_id.hex()

    @property
    def payment_hash_hex(self) -> str:
        return self.payment_hash.hex()


def encode_identifier(identifier: Identifier) -> bytes:
    return struct.pack(">H", identifier.version) + identifier.payment_hash + identifier.token_id


def decode_identifier(raw: bytes) -> Identifier:
    """Raises :class:`InvalidToken` for anything but a well-formed version 0 identifier."""
    if len(raw) < 2:
        raise InvalidToken("The macaroon's identifier is not an L402 identifier.")
    (version,) = struct.unpack(">H", raw[:2])
    if version != VERSION:
        raise InvalidToken(f"L402 identifier version {version} is not supported (only 0).")
    if len(raw) != SIZE:
        raise InvalidToken(
            f"A version 0 L402 identifier is {SIZE} bytes; this one is {len(raw)} bytes."
        )
    return Identifier(payment_hash=raw[2 : 2 + HASH_SIZE], token_id=raw[2 + HASH_SIZE :])
