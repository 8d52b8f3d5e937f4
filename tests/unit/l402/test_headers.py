"""The L402 headers: the challenge sent, and every credential form clients send."""

from __future__ import annotations

import base64
import hashlib

import pytest

from notarium.products.l402 import macaroons
from notarium.products.l402.caveats import Grant
from notarium.products.l402.errors import InvalidAuthorization, InvalidToken
from notarium.products.l402.headers import challenge_header, parse_authorization, parse_challenge
from notarium.products.l402.identifier import Identifier

PREIMAGE = bytes(range(32))
RAW = macaroons.mint(
    b"k" * 32,
    Identifier(hashlib.sha256(PREIMAGE).digest(), b"t" * 32),
    Grant("notarium", "l402_timestamp", 1_900_000_000, "ab" * 32).caveats(),
    "notarium",
)
MAC = macaroons.encode(RAW)
INVOICE = "lnbcrt250u1pexample"


def test_challenge_carries_version_token_and_the_older_macaroon_name() -> None:
    header = challenge_header(MAC, INVOICE)
    assert header == f'L402 version="0", token="{MAC}", macaroon="{MAC}", invoice="{INVOICE}"'
    parsed = parse_challenge(header)
    assert (parsed.scheme, parsed.version, parsed.token, parsed.invoice) == (
        "L402",
        "0",
        MAC,
        INVOICE,
    )


@pytest.mark.parametrize(
    "header",
    [
        f'LSAT macaroon="{MAC}", invoice="{INVOICE}"',
        f'L402 macaroon="{MAC}", invoice="{INVOICE}"',
        f'l402 invoice="{INVOICE}", token="{MAC}"',
    ],
)
def test_older_challenge_forms_are_read(header: str) -> None:
    parsed = parse_challenge(header)
    assert parsed.token == MAC and parsed.invoice == INVOICE


def test_a_challenge_of_another_scheme_is_not_l402() -> None:
    with pytest.raises(ValueError):
        parse_challenge('Bearer realm="x"')
    with pytest.raises(ValueError):
        parse_challenge(f'L402 invoice="{INVOICE}"')


@pytest.mark.parametrize(
    "value",
    [
        f"L402 {MAC}:{PREIMAGE.hex()}",
        f"LSAT {MAC}:{PREIMAGE.hex()}",
        f"l402 {MAC.rstrip('=')}:{PREIMAGE.hex().upper()}",
        f"LSAT {MAC}:{base64.b64encode(PREIMAGE).decode()}",
        f"L402 {base64.urlsafe_b64encode(RAW).decode()}:{PREIMAGE.hex()}",
        f'L402 macaroon="{MAC}", preimage="{PREIMAGE.hex()}"',
        f'L402 token="{MAC}", preimage="{PREIMAGE.hex()}"',
        f'LSAT preimage="{PREIMAGE.hex()}", macaroon="{MAC}"',
    ],
)
def test_credential_forms(value: str) -> None:
    credential = parse_authorization([value])
    assert credential is not None
    assert credential.macaroon == RAW and credential.preimage == PREIMAGE


def test_other_schemes_are_ignored_and_the_first_good_l402_value_wins() -> None:
    assert parse_authorization([]) is None
    assert parse_authorization(["Bearer ntk_live_abc"]) is None
    credential = parse_authorization(
        ["Bearer ntk_live_abc", "LSAT garbage", f"L402 {MAC}:{PREIMAGE.hex()}"]
    )
    assert credential is not None and credential.preimage == PREIMAGE


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("L402", InvalidAuthorization),
        (f"L402 {MAC}", InvalidAuthorization),
        (f"L402 {MAC}:", InvalidAuthorization),
        (f"L402 {MAC}:abcd", InvalidAuthorization),
        (f"L402 {MAC}:{'zz' * 32}", InvalidAuthorization),
        (f"L402 {MAC},{MAC}:{PREIMAGE.hex()}", InvalidAuthorization),
        (f"L402 !!!:{PREIMAGE.hex()}", InvalidToken),
    ],
)
def test_malformed_credentials_are_reported(value: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_authorization([value])
