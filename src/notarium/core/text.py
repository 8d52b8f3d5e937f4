"""What text a client may send: the checks every route family applies to names, types
and other strings before they are stored, echoed or printed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

#: C0 controls, DEL and the C1 controls (U+0080 to U+009F). C1 characters are as
#: invisible as C0 ones and some terminals and log viewers act on them (U+009B is a
#: one-character CSI), so a file name carrying either is refused alike.
CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]")

#: What no database column can hold: NUL (PostgreSQL text and jsonb refuse it) and an
#: unpaired UTF-16 surrogate, which JSON's ``\ud800`` escape yields but which has no
#: UTF-8 encoding at all.
_UNSTORABLE: Final = re.compile(r"[\x00\ud800-\udfff]")


# A path into a JSON value, innermost step last: (parent trail, this step).
_Trail = tuple[object, str] | None


def has_control(text: str) -> bool:
    return CONTROL.search(text) is not None


def unstorable_character(text: str) -> str | None:
    """``"NUL"`` or ``"an unpaired surrogate"`` when ``text`` holds one, else None."""
    match = _UNSTORABLE.search(text)
    if match is None:
        return None
    return "NUL" if match.group() == "\x00" else "an unpaired surrogate"


@dataclass(frozen=True)
class Unstorable:
    """Where a decoded JSON value holds NUL or an unpaired surrogate."""

    path: str
    """Like ``metadata.tags[2]``; ``(a key)`` appended when the key itself holds it."""
    what: str
    """``NUL`` or ``an unpaired surrogate``."""
    field: str | None
    """The top-level field it is under; None when it is in a top-level key."""


def first_unstorable(value: object) -> Unstorable | None:
    """The first string of a decoded JSON value (keys included) holding NUL or an
    unpaired surrogate; None when every string is storable. Iterative, so deep nesting
    cannot exhaust the stack, and the path is spelled out only for the string found."""
    stack: list[tuple[_Trail, str | None, object]] = [(None, None, value)]
    while stack:
        trail, field, item = stack.pop()
        if isinstance(item, str):
            what = unstorable_character(item)
            if what is not None:
                return Unstorable(_spell(trail), what, field)
        elif isinstance(item, dict):
            for key, child in item.items():
                step: _Trail = (trail, f".{_shown(key)}" if isinstance(key, str) else f".{key}")
                if isinstance(key, str) and (what := unstorable_character(key)) is not None:
                    return Unstorable(_spell(step) + " (a key)", what, field)
                stack.append((step, field if trail is not None else str(key), child))
        elif isinstance(item, list):
            stack.extend(((trail, f"[{i}]"), field, child) for i, child in enumerate(item))
    return None


def _spell(trail: object) -> str:
    parts: list[str] = []
    while isinstance(trail, tuple):
        trail, segment = trail
        parts.append(str(segment))
    return "".join(reversed(parts)).lstrip(".") or "the body"


def _shown(key: str) -> str:
    """A key as an error message may quote it: short, and with what cannot be encoded
    escaped (the message itself goes out as UTF-8 JSON)."""
    short = key if len(key) <= 64 else key[:64] + "..."
    return short.encode("utf-8", "backslashreplace").decode().replace("\x00", "\\x00")
