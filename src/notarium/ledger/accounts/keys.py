"""API key format: ``<brand>_<mode>_<body><checksum>``, ``ntk_live_…`` by default.

The brand is ``ntk`` unless the operator issues a key under another one, so that a
client moving from a service whose document names its own prefix (``proofd_live_``,
``prv_test_``, ``ip_live_``) keeps a key of the shape its code and secret scanners
expect. The mode is always the part after the brand.

The body is 32 base62 characters from the OS CSPRNG (about 190 bits). The last six
characters are the CRC32 of everything before them in base62, so a secret scanner can
tell a real key from a look-alike offline. Only the SHA-256 of the whole key is stored:
the body's entropy makes a slow hash pointless and a fast lookup index possible."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import zlib
from dataclasses import dataclass
from typing import Literal, cast

from notarium.core.errors import ValidationError

Mode = Literal["live", "test"]

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BODY_LENGTH = 32
CHECKSUM_LENGTH = 6
DEFAULT_BRAND = "ntk"
BRAND = re.compile(r"[a-z][a-z0-9]{0,15}")
_TAIL = BODY_LENGTH + CHECKSUM_LENGTH
_KEY = re.compile(rf"(?P<brand>{BRAND.pattern})_(?P<mode>live|test)_[0-9A-Za-z]{{{_TAIL}}}")
_PREFIX = re.compile(rf"(?P<brand>{BRAND.pattern})(?:_(?P<mode>live|test))?_?")


class InvalidKeyPrefix(ValidationError):
    code = "INVALID_KEY_PREFIX"


def key_prefix(prefix: str | None, mode: Mode | None) -> tuple[str, Mode]:
    """The full prefix and mode of a key to issue. ``prefix`` is a brand (``prv``) or a
    brand with its mode (``prv_test_``); a mode written in it decides when ``mode`` is
    None and must agree with ``mode`` otherwise."""
    match = _PREFIX.fullmatch(DEFAULT_BRAND if prefix is None else prefix)
    if match is None:
        raise InvalidKeyPrefix(
            "a key prefix is 1 to 16 lowercase letters or digits, starting with a letter, "
            "optionally followed by _live_ or _test_ (e.g. prv or prv_live_)"
        )
    written = cast(Mode | None, match["mode"])
    if written is not None and mode is not None and written != mode:
        raise InvalidKeyPrefix(f"the prefix says {written} but a {mode} key was asked for")
    chosen: Mode = written or mode or "live"
    return f"{match['brand']}_{chosen}_", chosen


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
    prefix: str

    @property
    def digest(self) -> str:
        return hash_key(self.secret)

    @property
    def hint(self) -> str:
        return self.secret[: len(self.prefix) + 4] + "…" + self.secret[-4:]


def generate_key(mode: Mode | None, prefix: str | None = None) -> GeneratedKey:
    """A new key; ``prefix`` and ``mode`` as :func:`key_prefix` reads them."""
    full, chosen = key_prefix(prefix, mode)
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    stem = full + body
    return GeneratedKey(secret=stem + _checksum(stem), mode=chosen, prefix=full)


def parse_mode(secret: str) -> Mode | None:
    """The key's mode if it is well formed with a valid checksum, else None."""
    match = _KEY.fullmatch(secret)
    if match is None:
        return None
    stem, check = secret[:-CHECKSUM_LENGTH], secret[-CHECKSUM_LENGTH:]
    if not hmac.compare_digest(check, _checksum(stem)):
        return None
    return cast(Mode, match["mode"])


def prefix_of(hint: str) -> str | None:
    """The prefix a key's stored hint starts with, so a rotation can keep it."""
    match = re.match(rf"({BRAND.pattern}_(?:live|test)_)", hint)
    return match[1] if match else None


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
