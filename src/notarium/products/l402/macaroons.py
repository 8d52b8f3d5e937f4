"""Minting, encoding and checking notarium's L402 macaroons with pymacaroons.

The wire form is the version 2 binary macaroon in standard base64, as aperture and
other L402 servers send it (pymacaroons' own ``serialize()`` is URL-safe base64 without
padding); both alphabets, with or without padding, are accepted when reading. The
root key is derived as libmacaroons and Go's ``macaroon.v2`` derive it, so a macaroon
minted here is read by their tools too.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from pymacaroons import MACAROON_V2, Macaroon, Verifier
from pymacaroons.exceptions import MacaroonException
from pymacaroons.serializers import BinarySerializer

from notarium.products.l402.caveats import Caveat, decode_caveat
from notarium.products.l402.errors import InvalidToken
from notarium.products.l402.identifier import Identifier, decode_identifier, encode_identifier

MAX_ENCODED = 8192
"""No macaroon minted here comes near this; longer ones are refused before decoding."""
_BASE64 = re.compile(r"^[A-Za-z0-9+/_-]+={0,2}$")


@dataclass(frozen=True)
class ParsedMacaroon:
    """A macaroon read from a client, not yet checked against its root key."""

    macaroon: Macaroon
    identifier: Identifier
    caveats: tuple[Caveat, ...]


def mint(root_key: bytes, identifier: Identifier, caveats: list[Caveat], location: str) -> bytes:
    """The macaroon's binary (version 2) serialization."""
    macaroon = Macaroon(
        location=location,
        identifier=encode_identifier(identifier),
        key=root_key,
        version=MACAROON_V2,
    )
    for caveat in caveats:
        macaroon.add_first_party_caveat(caveat.encode())
    raw: bytes = BinarySerializer().serialize_raw(macaroon)
    return raw


def encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def decode(text: str) -> bytes:
    """Standard or URL-safe base64, padded or not."""
    if not text or len(text) > MAX_ENCODED or not _BASE64.match(text):
        raise InvalidToken("The macaroon is not base64.")
    body = text.rstrip("=").replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidToken("The macaroon is not base64.") from None


def parse(raw: bytes) -> ParsedMacaroon:
    try:
        macaroon = BinarySerializer().deserialize_raw(raw)
        identifier_bytes = bytes(macaroon.identifier_bytes)
        first_party = all(c.first_party() for c in macaroon.caveats)
        texts = [bytes(c.caveat_id_bytes).decode("utf-8") for c in macaroon.caveats]
    except Exception:
        # pymacaroons raises assorted unrelated types (IndexError, ValueError,
        # UnicodeDecodeError, its own) on malformed input; all mean the same here.
        raise InvalidToken("The macaroon cannot be decoded.") from None
    if not first_party:
        raise InvalidToken("Third-party caveats are not accepted here.")
    identifier = decode_identifier(identifier_bytes)
    caveats = tuple(c for c in (decode_caveat(t) for t in texts) if c is not None)
    return ParsedMacaroon(macaroon, identifier, caveats)


def check_signature(parsed: ParsedMacaroon, root_key: bytes) -> None:
    """Recompute the HMAC chain from ``root_key``; caveats are judged separately (see
    :mod:`notarium.products.l402.caveats`), so every first-party caveat is let through here."""
    verifier = Verifier()
    verifier.satisfy_general(lambda _predicate: True)
    try:
        verifier.verify(parsed.macaroon, root_key)
    except (MacaroonException, ValueError, TypeError):
        raise InvalidToken("The macaroon's signature does not check out.") from None
