"""API key format: prefix, base62 body, CRC32 checksum a scanner can check offline."""

from __future__ import annotations

import re
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notarium.ledger.accounts.keys import (
    ALPHABET,
    InvalidKeyPrefix,
    Mode,
    generate_key,
    hash_key,
    parse_mode,
    prefix_of,
)


def test_format_and_checksum() -> None:
    for mode in ("live", "test"):
        key = generate_key(mode)  # type: ignore[arg-type]
        assert re.fullmatch(rf"ntk_{mode}_[0-9A-Za-z]{{38}}", key.secret)
        stem, check = key.secret[:-6], key.secret[-6:]
        value = 0
        for ch in check:
            value = value * 62 + ALPHABET.index(ch)
        assert value == zlib.crc32(stem.encode())
        assert parse_mode(key.secret) == mode
        assert key.digest == hash_key(key.secret) and len(key.digest) == 64
        assert key.secret not in key.hint and key.hint.startswith(f"ntk_{mode}_")


def test_keys_are_distinct() -> None:
    assert len({generate_key("live").secret for _ in range(1000)}) == 1000


@given(st.integers(min_value=9, max_value=46), st.sampled_from(ALPHABET))
def test_any_single_substitution_is_detected(position: int, replacement: str) -> None:
    secret = generate_key("live").secret
    if secret[position] == replacement:
        return
    altered = secret[:position] + replacement + secret[position + 1 :]
    assert parse_mode(altered) is None


def test_malformed_keys() -> None:
    good = generate_key("test").secret
    for bad in [
        "",
        "ntk_live_",
        good[:-1],
        good + "A",
        good.replace("ntk_test_", "ntk_prod_"),
        good[:20] + "!" + good[21:],
        "Bearer " + good,
    ]:
        assert parse_mode(bad) is None


@pytest.mark.parametrize(
    ("prefix", "mode", "expected_prefix", "expected_mode"),
    [
        (None, None, "ntk_live_", "live"),
        (None, "test", "ntk_test_", "test"),
        ("proofd", None, "proofd_live_", "live"),
        ("prv", "test", "prv_test_", "test"),
        ("prv_test_", None, "prv_test_", "test"),
        ("prv_live", "live", "prv_live_", "live"),
        ("ip_live_", None, "ip_live_", "live"),
    ],
)
def test_branded_prefixes(
    prefix: str | None, mode: Mode | None, expected_prefix: str, expected_mode: str
) -> None:
    key = generate_key(mode, prefix)
    assert re.fullmatch(rf"{expected_prefix}[0-9A-Za-z]{{38}}", key.secret)
    assert key.mode == expected_mode and parse_mode(key.secret) == expected_mode
    assert key.hint.startswith(expected_prefix) and key.secret not in key.hint
    assert prefix_of(key.hint) == expected_prefix
    # The checksum covers the prefix: a key cannot be re-branded or change its mode.
    body = key.secret[len(expected_prefix) :]
    for other in ("ntk_live_", "ntk_test_", "prv_live_", "prv_test_", "proofd_live_"):
        if other != expected_prefix:
            assert parse_mode(other + body) is None


@pytest.mark.parametrize(
    ("prefix", "mode"),
    [
        ("", None),
        ("PRV", None),
        ("1prv", None),
        ("prv-live-", None),
        ("prv_prod_", None),
        ("a" * 17, None),
        ("prv_test_", "live"),
        ("prv_live_", "test"),
        ("prv live", None),
    ],
)
def test_invalid_prefixes_are_refused(prefix: str, mode: Mode | None) -> None:
    with pytest.raises(InvalidKeyPrefix):
        generate_key(mode, prefix)
