"""RFC 8785 (JSON Canonicalization Scheme) for the JSON subset proofs use.

Signatures are computed over these bytes, so any two implementations must agree on
them exactly. Floats are refused outright: JCS serialises numbers as ECMAScript
does, which is easy to get subtly wrong, and no proof field needs a fraction.
Integers are limited to the range an IEEE 754 double holds exactly, because JCS
(and every JavaScript verifier) reads numbers as doubles.
"""

from __future__ import annotations

from collections.abc import Mapping

from notarium.formats.errors import CanonicalizationError

MAX_SAFE_INTEGER = 2**53 - 1

_SHORT_ESCAPES = {
    0x08: "\\b",
    0x09: "\\t",
    0x0A: "\\n",
    0x0C: "\\f",
    0x0D: "\\r",
    0x22: '\\"',
    0x5C: "\\\\",
}


def _escape_string(value: str) -> str:
    # ECMAScript JSON.stringify: only '"', '\\' and C0 controls are escaped; all
    # other characters, including U+007F and U+2028, are emitted as themselves.
    out = ['"']
    for ch in value:
        cp = ord(ch)
        short = _SHORT_ESCAPES.get(cp)
        if short is not None:
            out.append(short)
        elif cp < 0x20:
            out.append(f"\\u{cp:04x}")
        elif 0xD800 <= cp <= 0xDFFF:
            raise CanonicalizationError(
                f"string contains a lone surrogate U+{cp:04X}, which is not valid Unicode"
            )
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _utf16_key(key: str) -> bytes:
    # Big-endian UTF-16 compares bytewise exactly as its code units compare
    # numerically, which is the order JCS prescribes.
    return key.encode("utf-16-be", "surrogatepass")


def _serialise(value: object, out: list[str], path: str) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise CanonicalizationError(
                f"integer at {path} is outside ±(2^53-1) and cannot be represented exactly"
            )
        out.append(str(int(value)))
    elif isinstance(value, float):
        raise CanonicalizationError(
            f"float at {path} is not supported in canonical JSON; use an integer or string"
        )
    elif isinstance(value, str):
        out.append(_escape_string(value))
    elif isinstance(value, Mapping):
        for key in value:
            if not isinstance(key, str):
                raise CanonicalizationError(
                    f"object key at {path} must be a string, got {type(key).__name__}"
                )
        out.append("{")
        for i, key in enumerate(sorted(value, key=_utf16_key)):
            if i:
                out.append(",")
            out.append(_escape_string(key))
            out.append(":")
            _serialise(value[key], out, f"{path}.{key}")
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _serialise(item, out, f"{path}[{i}]")
        out.append("]")
    else:
        raise CanonicalizationError(
            f"value at {path} has unsupported type {type(value).__name__}; "
            "only dict, list, str, int, bool and None are allowed"
        )


def canonical_json(value: object) -> bytes:
    """Serialise ``value`` as RFC 8785 canonical JSON, UTF-8 encoded."""
    out: list[str] = []
    _serialise(value, out, "$")
    return "".join(out).encode("utf-8")
