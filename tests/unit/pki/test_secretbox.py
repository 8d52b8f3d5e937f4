"""Sealed secrets: round trip, bound to their context, key file 0600 and reused."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from notarium.adapters.pki.secretbox import SecretBox, SecretBoxError


def test_round_trip_and_context(tmp_path: Path) -> None:
    box = SecretBox(tmp_path / "keys")
    sealed = box.seal("whsec_abc", context=b"endpoint-1")
    assert b"whsec_abc" not in sealed
    assert SecretBox(tmp_path / "keys").open(sealed, context=b"endpoint-1") == "whsec_abc"
    with pytest.raises(SecretBoxError):
        box.open(sealed, context=b"endpoint-2")
    with pytest.raises(SecretBoxError):
        box.open(sealed[:-1] + bytes([sealed[-1] ^ 1]), context=b"endpoint-1")
    assert stat.S_IMODE((tmp_path / "keys" / "secrets.key").stat().st_mode) == 0o600


def test_another_key_cannot_open(tmp_path: Path) -> None:
    sealed = SecretBox(tmp_path / "a").seal("s", context=b"c")
    with pytest.raises(SecretBoxError):
        SecretBox(tmp_path / "b").open(sealed, context=b"c")
