"""Minting and checking macaroons: the version 2 binary format read back by hand, the
signature recomputed as libmacaroons and Go's macaroon.v2 compute it, and every
tampering refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

import pytest
from pymacaroons import Macaroon
from pymacaroons.serializers import BinarySerializer

from notarium.products.l402 import macaroons
from notarium.products.l402.caveats import Caveat, Grant
from notarium.products.l402.errors import InvalidToken
from notarium.products.l402.identifier import Identifier, encode_identifier

ROOT = bytes(range(32))
IDENT = Identifier(hashlib.sha256(b"preimage").digest(), bytes(32 * [7]))
GRANT = Grant("notarium", "l402_timestamp", 1_900_000_000, "ab" * 32)


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7


def read_v2(raw: bytes) -> tuple[bytes, list[bytes], bytes]:
    """Identifier, first-party caveat ids and signature of a version 2 binary macaroon,
    per the format's specification (field types: 1 location, 2 identifier, 4 vid,
    6 signature; 0 ends a section)."""
    assert raw[0] == 2
    at = 1
    sections: list[dict[int, bytes]] = []
    current: dict[int, bytes] = {}
    while True:
        kind, at = _varint(raw, at)
        if kind == 0:
            if not current:
                break
            sections.append(current)
            current = {}
            continue
        size, at = _varint(raw, at)
        current[kind] = raw[at : at + size]
        at += size
    kind, at = _varint(raw, at)
    assert kind == 6
    size, at = _varint(raw, at)
    signature = raw[at : at + size]
    assert at + size == len(raw)
    header, *caveats = sections
    assert all(4 not in c for c in caveats)  # first-party only
    return header[2], [c[2] for c in caveats], signature


def hmac_chain(root_key: bytes, identifier: bytes, caveats: list[bytes]) -> bytes:
    key = hmac.new(b"macaroons-key-generator", root_key, hashlib.sha256).digest()
    signature = hmac.new(key, identifier, hashlib.sha256).digest()
    for caveat in caveats:
        signature = hmac.new(signature, caveat, hashlib.sha256).digest()
    return signature


def test_minted_macaroon_is_the_standard_format_with_the_standard_signature() -> None:
    raw = macaroons.mint(ROOT, IDENT, GRANT.caveats(), "notarium.example")
    identifier, caveats, signature = read_v2(raw)
    assert identifier == encode_identifier(IDENT)
    assert caveats == [c.encode().encode() for c in GRANT.caveats()]
    assert caveats[0] == b"services=notarium:0"
    assert caveats[1] == b"notarium_capabilities=l402_timestamp"
    assert caveats[2] == b"notarium_valid_until=1900000000"
    assert caveats[3] == b"notarium_request_digest=" + b"ab" * 32
    assert signature == hmac_chain(ROOT, identifier, caveats)


def test_round_trip_through_standard_and_url_safe_base64() -> None:
    raw = macaroons.mint(ROOT, IDENT, GRANT.caveats(), "notarium.example")
    text = macaroons.encode(raw)
    assert text == base64.b64encode(raw).decode()
    url_safe = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    for form in (text, text.rstrip("="), url_safe):
        parsed = macaroons.parse(macaroons.decode(form))
        assert parsed.identifier == IDENT
        assert parsed.caveats == tuple(GRANT.caveats())
        macaroons.check_signature(parsed, ROOT)


def _tampered(raw: bytes, old: bytes, new: bytes) -> bytes:
    assert raw.count(old) == 1 and len(old) == len(new)
    return raw.replace(old, new)


def test_a_changed_caveat_breaks_the_signature() -> None:
    raw = macaroons.mint(ROOT, IDENT, GRANT.caveats(), "notarium.example")
    forged = _tampered(raw, b"ab" * 32, b"cd" * 32)
    parsed = macaroons.parse(forged)
    assert parsed.caveats[3] == Caveat("notarium_request_digest", "cd" * 32)
    with pytest.raises(InvalidToken):
        macaroons.check_signature(parsed, ROOT)


def test_a_changed_signature_or_root_key_is_refused() -> None:
    raw = macaroons.mint(ROOT, IDENT, GRANT.caveats(), "notarium.example")
    *_, signature = read_v2(raw)
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    with pytest.raises(InvalidToken):
        macaroons.check_signature(macaroons.parse(_tampered(raw, signature, flipped)), ROOT)
    with pytest.raises(InvalidToken):
        macaroons.check_signature(macaroons.parse(raw), secrets.token_bytes(32))


def test_a_caveat_appended_by_the_holder_keeps_the_chain_valid() -> None:
    raw = macaroons.mint(ROOT, IDENT, GRANT.caveats(), "notarium.example")
    held = BinarySerializer().deserialize_raw(raw)
    held.add_first_party_caveat("notarium_valid_until=1800000000")
    parsed = macaroons.parse(BinarySerializer().serialize_raw(held))
    macaroons.check_signature(parsed, ROOT)
    assert parsed.caveats[-1] == Caveat("notarium_valid_until", "1800000000")


def test_third_party_caveats_and_garbage_are_refused() -> None:
    third = Macaroon(location="x", identifier=encode_identifier(IDENT), key=ROOT, version=2)
    third.add_third_party_caveat("https://auth.example", "caveat key", "caveat id")
    with pytest.raises(InvalidToken, match="Third-party"):
        macaroons.parse(BinarySerializer().serialize_raw(third))
    for junk in (b"", b"\x02", b"not a macaroon at all", secrets.token_bytes(200)):
        with pytest.raises(InvalidToken):
            macaroons.parse(junk)
    for text in ("", "***", "a" * (macaroons.MAX_ENCODED + 1), "abc=def"):
        with pytest.raises(InvalidToken):
            macaroons.decode(text)


def test_an_identifier_that_is_not_l402_is_refused() -> None:
    other = Macaroon(location="x", identifier=b"user-42", key=ROOT, version=2)
    with pytest.raises(InvalidToken, match="identifier"):
        macaroons.parse(BinarySerializer().serialize_raw(other))
