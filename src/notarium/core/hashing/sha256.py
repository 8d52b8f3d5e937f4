"""SHA-256 helpers shared by every layer that names a document by its hash."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

from notarium.core.errors import ValidationError

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")

DEFAULT_CHUNK_SIZE = 1 << 20


class InvalidSha256Error(ValidationError):
    """A value that was meant to be a SHA-256 digest in hex is not one."""

    code = "INVALID_SHA256_HASH"


def sha256_bytes(data: bytes | bytearray | memoryview) -> str:
    """Lowercase hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(
    path: str | Path,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Callable[[int], None] | None = None,
) -> str:
    """Lowercase hex SHA-256 of a file, read in chunks so memory stays flat.

    ``progress`` receives the cumulative number of bytes hashed after every chunk,
    which is what a progress bar needs without keeping its own running total.
    """
    if chunk_size <= 0:
        raise ValueError("chunk_size must be positive")
    digest = hashlib.sha256()
    done = 0
    buffer = bytearray(chunk_size)
    view = memoryview(buffer)
    with open(path, "rb") as handle:
        while True:
            n = handle.readinto(buffer)
            if not n:
                break
            digest.update(view[:n])
            done += n
            if progress is not None:
                progress(done)
    return digest.hexdigest()


def normalize_sha256_hex(value: object) -> str:
    """Return ``value`` as 64 lowercase hex characters, or raise ``InvalidSha256Error``.

    Deliberately strict: surrounding whitespace, ``0x`` prefixes and non-strings are
    rejected rather than repaired, so that a hash typed by hand is never silently
    reinterpreted.
    """
    if not isinstance(value, str):
        raise InvalidSha256Error(
            f"SHA-256 hash must be a string of 64 hex characters, got {type(value).__name__}"
        )
    if _HEX64.fullmatch(value) is None:
        detail = "" if len(value) == 64 else f", got {len(value)} characters"
        raise InvalidSha256Error(
            f"SHA-256 hash must be exactly 64 hex characters (0-9, a-f){detail}"
        )
    return value.lower()
