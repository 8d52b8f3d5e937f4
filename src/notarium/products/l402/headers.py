"""The L402 HTTP headers.

Challenge (sent): ``WWW-Authenticate: L402 version="0", token="<base64 macaroon>",
macaroon="<same>", invoice="<BOLT11>"``. ``token`` is the current name; ``macaroon`` is
what aperture and clients written against the bLIP read, so both are sent. When
reading a challenge, the ``LSAT`` scheme and either name are accepted.

Credential (read): ``Authorization: L402 <base64 macaroon>:<hex preimage>``, or the
same under the former ``LSAT`` scheme (whose first draft sent the preimage in base64,
also accepted), or as ``token=``/``macaroon=`` and ``preimage=`` parameters. Other
schemes (a Bearer key sent by habit) are not L402 credentials and are ignored.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass

from notarium.products.l402 import macaroons
from notarium.products.l402.errors import InvalidAuthorization, InvalidCredential

SCHEMES = ("l402", "lsat")
PREIMAGE_SIZE = 32
_PARAM = re.compile(r'([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"([^"]*)"|([^\s,"]+))')
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_PARAMS_FORM = re.compile(r"(token|macaroon|preimage)\s*=", re.IGNORECASE)


@dataclass(frozen=True)
class Credential:
    macaroon: bytes
    """The macaroon's binary serialization."""
    preimage: bytes


@dataclass(frozen=True)
class Challenge:
    scheme: str
    token: str
    invoice: str
    version: str | None = None


def challenge_header(token: str, invoice: str) -> str:
    return f'L402 version="0", token="{token}", macaroon="{token}", invoice="{invoice}"'


def _params(text: str) -> dict[str, str]:
    return {m.group(1).lower(): m.group(2) or m.group(3) or "" for m in _PARAM.finditer(text)}


def parse_challenge(value: str) -> Challenge:
    """The token and invoice of an L402 (or LSAT) challenge."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() not in SCHEMES:
        raise ValueError(f"not an L402 challenge: {value[:60]!r}")
    params = _params(rest)
    token = params.get("token") or params.get("macaroon")
    invoice = params.get("invoice")
    if not token or not invoice:
        raise ValueError("an L402 challenge names a token (or macaroon) and an invoice")
    return Challenge(scheme.upper(), token, invoice, params.get("version"))


def _preimage(text: str) -> bytes:
    text = text.strip()
    if _HEX64.match(text):
        return bytes.fromhex(text)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != PREIMAGE_SIZE:
        raise InvalidAuthorization("The preimage must be 32 bytes in hex (64 characters).")
    return raw


def _credential(rest: str) -> Credential:
    rest = rest.strip()
    # A serialized macaroon starts "Ag" (version 2) or "MDA" (version 1), never with a
    # parameter name, so the two forms cannot be confused.
    if _PARAMS_FORM.match(rest):
        params = _params(rest)
        token = params.get("token") or params.get("macaroon") or ""
        preimage = params.get("preimage", "")
    else:
        token, sep, preimage = rest.rpartition(":")
        if not sep:
            raise InvalidAuthorization(
                "The L402 credential must be `<base64 macaroon>:<hex preimage>`."
            )
    if "," in token:
        raise InvalidAuthorization("Send exactly one macaroon with the preimage.")
    if not token or not preimage:
        raise InvalidAuthorization(
            "The L402 credential must be `<base64 macaroon>:<hex preimage>`."
        )
    return Credential(macaroons.decode(token.strip()), _preimage(preimage))


def parse_authorization(values: Iterable[str]) -> Credential | None:
    """The L402 credential among ``Authorization`` header values, ``None`` without one.

    Clients that predate the rename send the same credential twice (``LSAT`` then
    ``L402``), so the first well-formed one wins and a malformed one is reported only
    when no other is usable.
    """
    failure: InvalidCredential | None = None
    for value in values:
        scheme, _, rest = value.strip().partition(" ")
        if scheme.lower() not in SCHEMES:
            continue
        try:
            return _credential(rest)
        except InvalidCredential as error:
            failure = failure or error
    if failure is not None:
        raise failure
    return None
