"""The L402 identifier: aperture's version 0 layout, byte for byte."""

from __future__ import annotations

import struct

import pytest

from notarium.products.l402.errors import InvalidToken
from notarium.products.l402.identifier import SIZE, Identifier, decode_identifier, encode_identifier

PAYMENT_HASH = bytes.fromhex("163102a9c88fa4ec9ac9937b6f070bc3e27249a81ad7a05f398ac5d7d16f7bea")
TOKEN_ID = bytes.fromhex("fed74b3ef24820f440601eff5bfb42bef4d615c4948cec8aca3cb15bd23f1013")


def test_layout_is_version_hash_token_id_big_endian() -> None:
    raw = encode_identifier(Identifier(PAYMENT_HASH, TOKEN_ID))
    assert len(raw) == SIZE == 66
    assert raw[:2] == b"\x00\x00"
    assert raw[2:34] == PAYMENT_HASH and raw[34:] == TOKEN_ID
    decoded = decode_identifier(raw)
    assert decoded == Identifier(PAYMENT_HASH, TOKEN_ID)
    assert decoded.token_hex == TOKEN_ID.hex() and decoded.payment_hash_hex == PAYMENT_HASH.hex()


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00",
        struct.pack(">H", 1) + PAYMENT_HASH + TOKEN_ID,
        # Little-endian version 1 reads as version 256 big-endian: refused, not misread.
        struct.pack("<H", 1) + PAYMENT_HASH + TOKEN_ID,
        b"\x00\x00" + PAYMENT_HASH,
        b"\x00\x00" + PAYMENT_HASH + TOKEN_ID + b"\x00",
    ],
)
def test_anything_else_is_refused(raw: bytes) -> None:
    with pytest.raises(InvalidToken):
        decode_identifier(raw)


def test_sizes_are_enforced_when_minting() -> None:
    with pytest.raises(ValueError):
        Identifier(PAYMENT_HASH[:31], TOKEN_ID)
