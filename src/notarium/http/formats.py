"""Wire formatting shared by the route families."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from notarium.core.errors import ValidationError
from notarium.core.text import first_unstorable
from notarium.core.timefmt import iso_micros as iso_micros
from notarium.core.timefmt import iso_millis as iso_millis
from notarium.core.timefmt import parse_iso8601 as parse_iso8601


class InvalidJson(ValidationError):
    code = "INVALID_JSON"


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def parse_json_object(
    body: bytes, *, code: str = "INVALID_JSON", field_codes: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Strict JSON: UTF-8, no NaN/Infinity, an object at the top, and no string (key or
    value) that holds NUL or an unpaired surrogate: neither can be stored or encoded
    again, so they are refused here, once, for every field of every family. The error
    carries ``field_codes[field]`` when it is inside a top-level field the family has
    its own code for (a NUL in ``filename`` is that field's error), ``code`` otherwise."""
    try:
        value = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InvalidJson(f"The request body is not valid JSON: {exc}", code=code) from None
    if not isinstance(value, dict):
        raise InvalidJson("The request body must be a JSON object.", code=code)
    found = first_unstorable(value)
    if found is not None:
        field_code = (field_codes or {}).get(found.field or "")
        raise InvalidJson(
            f"The request body is not acceptable: {found.path} holds {found.what}.",
            code=field_code or code,
        )
    return value
