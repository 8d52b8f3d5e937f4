"""Hashing helpers: streaming SHA-256 and strict hex normalisation."""

from notarium.core.hashing.sha256 import (
    DEFAULT_CHUNK_SIZE,
    InvalidSha256Error,
    normalize_sha256_hex,
    sha256_bytes,
    sha256_file,
)

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "InvalidSha256Error",
    "normalize_sha256_hex",
    "sha256_bytes",
    "sha256_file",
]
