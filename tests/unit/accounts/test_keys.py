"""API key format: prefix, base62 body, CRC32 checksum a scanner can check offline."""

from __future__ import annotations

import re
import zlib

from hypothesis import given
from hypothesis import strategies as st

from notarium.accounts.keys import ALPHABET, generate_key, hash_key, parse_mode


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
