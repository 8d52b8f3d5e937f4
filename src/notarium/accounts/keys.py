"""API key format: ``ntk_<mode>_<body><checksum>``.

The body is 32 base62 characters from the OS CSPRNG (about 190 bits). The last six
characters are the CRC32 of everything before them in base62, so a secret scanner can
tell a real key from a look-alike offline. Only the SHA-256 of the whole key is stored:
the body's entropy makes a slow hash pointless and a fast lookup index possible."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import zlib
from dataclasses import dataclass
from typing import Literal

Mode = Literal["live", "test"]

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BODY_LENGTH = 32
CHECKSUM_LENGTH = 6
PREFIXES: dict[Mode, str] = {"live": "ntk_live_", "test": "ntk_test_"}


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, remainder = divmod(number, 62)
        digits.append(ALPHABET[remainder])
    return "".join(reversed(digits))


def _checksum(text: str) -> str:
    return _base62(zlib.crc32(text.encode("ascii")), CHECKSUM_LENGTH)


@dataclass(frozen=True)
class GeneratedKey:
    secret: str
    mode: Mode

    @property
    def digest(self) -> str:
        return hash_key(self.secret)

    @property
    def hint(self) -> str:
        return self.secret[: len(PREFIXES[self.mode]) + 4] + "…" + self.secret[-4:]


def generate_key(mode: Mode) -> GeneratedKey:
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    stem = PREFIXES[mode] + body
    return GeneratedKey(secret=stem + _checksum(stem), mode=mode)


def parse_mode(secret: str) -> Mode | None:
    """The key's mode if it is well formed with a valid checksum, else None."""
    matches = [(m, p) for m, p in PREFIXES.items() if secret.startswith(p)]
    if not matches:
        return None
    mode, prefix = matches[0]
    if len(secret) != len(prefix) + BODY_LENGTH + CHECKSUM_LENGTH:
        return None
    stem, check = secret[:-CHECKSUM_LENGTH], secret[-CHECKSUM_LENGTH:]
    if any(ch not in ALPHABET for ch in secret[len(prefix) :]):
        return None
    if not hmac.compare_digest(check, _checksum(stem)):
        return None
    return mode


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
