"""Bounds on the metadata a caller attaches to a record: echoed in every response and
webhook, so it must stay small and plain."""

from __future__ import annotations

import json
from typing import Any

from notarium.core.errors import ValidationError

MAX_BYTES = 8 * 1024
MAX_DEPTH = 5
MAX_KEYS = 64
MAX_KEY_LENGTH = 128


class InvalidMetadata(ValidationError):
    code = "INVALID_METADATA"


class MetadataTooLarge(ValidationError):
    code = "METADATA_TOO_LARGE"


def check_metadata(value: object) -> dict[str, Any] | None:
    """The metadata unchanged if acceptable: an object of string keys to JSON values, at
    most 8 KiB as compact JSON, nested at most 5 deep, at most 64 keys per object."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidMetadata("`metadata` must be a JSON object of string keys.")
    _walk(value, 1)
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_BYTES:
        raise MetadataTooLarge(
            f"`metadata` is {size} bytes as JSON; at most {MAX_BYTES} are accepted."
        )
    return value


def _walk(value: object, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise MetadataTooLarge(f"`metadata` is nested deeper than {MAX_DEPTH} levels.")
    if isinstance(value, dict):
        if len(value) > MAX_KEYS:
            raise MetadataTooLarge(f"`metadata` objects may have at most {MAX_KEYS} keys.")
        for key, item in value.items():
            if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
                raise InvalidMetadata(
                    f"`metadata` keys must be strings of 1 to {MAX_KEY_LENGTH} characters."
                )
            _walk(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _walk(item, depth + 1)
    elif value is not None and not isinstance(value, str | int | float | bool):
        raise InvalidMetadata("`metadata` values must be JSON values.")
