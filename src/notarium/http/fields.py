"""Request fields every family reads the same way: file names, sizes and media types,
one control-character rule (``notarium.text.CONTROL``: C0, DEL and C1), and the one
name a download is offered under. Each parser takes the error to raise, so every
family keeps its own code for the same rule::

    name = fields.filename(payload.get("fileName"), field="fileName",
                           error=lambda message: InvalidField(message, code="INVALID_FILE_NAME"))

``json_model`` reads a JSON body strictly and validates it with a pydantic model whose
validators raise notarium ``ValidationError`` subclasses; pydantic lets those through
unchanged, so they reach the family's error table like any domain error."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TypeVar

import pydantic

from notarium.core.errors import ValidationError
from notarium.core.text import has_control
from notarium.http.formats import InvalidJson, parse_json_object

__all__ = [
    "MAX_FILENAME",
    "MAX_JSON_INTEGER",
    "MAX_MEDIA_TYPE",
    "filename",
    "has_control",
    "json_model",
    "media_type",
    "safe_download_name",
    "size",
]

MAX_FILENAME = 1024
MAX_MEDIA_TYPE = 255
MAX_JSON_INTEGER = 2**53 - 1  # the largest integer every JSON client reads exactly

#: Builds the exception a parser raises from its message.
ErrorFactory = Callable[[str], Exception]

Model = TypeVar("Model", bound=pydantic.BaseModel)

# A download name keeps letters, digits, dot, underscore, space and hyphen.
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def filename(
    value: object,
    *,
    error: ErrorFactory,
    field: str = "filename",
    max_length: int = MAX_FILENAME,
    allow_empty: bool = False,
) -> str:
    """A stored file name: a string of at most ``max_length`` characters without control
    characters, not blank unless ``allow_empty``."""
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise error(f"`{field}` must be a non-empty string.")
    if len(value) > max_length or has_control(value):
        raise error(
            f"`{field}` must be at most {max_length} characters without control characters."
        )
    return value


def size(
    value: object,
    *,
    error: ErrorFactory,
    field: str = "file_size_bytes",
    minimum: int = 1,
    maximum: int = MAX_JSON_INTEGER,
) -> int:
    """A byte count: an integer (not a boolean) from ``minimum`` to ``maximum``."""
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= maximum:
        kind = "a positive" if minimum >= 1 else "a non-negative"
        raise error(f"`{field}` must be {kind} integer.")
    return value


def media_type(
    value: object,
    *,
    error: ErrorFactory,
    field: str = "file_type",
    max_length: int = MAX_MEDIA_TYPE,
) -> str | None:
    """An optional media type as the client declared it: None, or a string of at most
    ``max_length`` characters without control characters."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_length or has_control(value):
        raise error(f"`{field}` must be a string of at most {max_length} characters.")
    return value


def safe_download_name(name: str | None, *, fallback: str, max_length: int = 150) -> str:
    """A name safe to hand to a signer or a file system: the last path segment, every
    run of other characters than letters, digits, ``._ -`` replaced by ``_``, no
    leading or trailing dots, spaces or underscores; ``fallback`` when nothing is left."""
    last = (name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    cleaned = _UNSAFE.sub("_", last).strip(" ._")
    return cleaned[:max_length] or fallback


def json_model(
    model: type[Model],
    body: bytes,
    *,
    content_type: str,
    code: str = "INVALID_JSON",
    field_codes: Mapping[str, str] | None = None,
    invalid: ErrorFactory | None = None,
) -> Model:
    """``body`` as ``model``: JSON sent as ``application/json``, strict
    (``formats.parse_json_object``: UTF-8, no NaN, an object, storable strings), then
    ``model.model_validate``. A pydantic failure that is not a notarium error (a
    missing field, a wrong type the model's own validators did not catch) becomes
    ``invalid(message)``, by default a ``ValidationError`` with ``code``."""
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise InvalidJson(
            "Send the payload as JSON with `Content-Type: application/json`.", code=code
        )
    payload = parse_json_object(body, code=code, field_codes=field_codes)
    try:
        return model.model_validate(payload)
    except pydantic.ValidationError as exc:
        details = exc.errors()
        where = ".".join(str(part) for part in details[0]["loc"]) if details else ""
        message = f"`{where}`: {details[0]['msg']}" if where else "Invalid request."
        raise (invalid or (lambda text: ValidationError(text, code=code)))(message) from None
