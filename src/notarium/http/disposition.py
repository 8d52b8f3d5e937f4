"""``Content-Disposition`` for every download, as RFC 6266 writes it.

The name a client stored (spaces, parentheses, quotes, any script) comes back as it was:
``filename*`` (RFC 8187, UTF-8, percent-encoded) carries it exactly whenever the plain
``filename`` cannot, and the plain one is a quoted ASCII fallback for agents that read only
that. The fallback avoids what RFC 6266 appendix D warns about: no backslash escapes, no
``%``, no non-ASCII."""

from __future__ import annotations

import re
from urllib.parse import quote

from notarium.core.text import CONTROL

MAX_NAME = 200
# Path separators name directories on the receiving side. (Controls, the one rule of
# `core.text.CONTROL`, would end or corrupt the header.)
_SEPARATORS = re.compile(r"[/\\]")
# What the quoted fallback may carry unchanged: printable ASCII but `"`, `\` and `%`.
_FALLBACK_UNSAFE = re.compile(r'[^\x20-\x7e]|["\\%]')
# RFC 9110 `token` characters: such a name may go unquoted.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# RFC 8187 attr-char: everything else in `filename*` is percent-encoded.
_ATTR_SAFE = "!#$&+.^_`|~-"


def clean_filename(name: str, fallback: str) -> str:
    """The name with controls dropped and path separators replaced, at most ``MAX_NAME``
    characters; ``fallback`` when nothing usable is left."""
    cleaned = _SEPARATORS.sub("_", CONTROL.sub("", name)).strip()[:MAX_NAME]
    return cleaned if cleaned.strip(".") else fallback


def attachment(filename: str, *, fallback: str = "download", token_form: bool = False) -> str:
    """The header value that offers ``filename`` as a download.

    ``token_form`` leaves a name made only of token characters unquoted
    (``filename=sample.pdf``), which RFC 6266 allows and the seal document shows."""
    name = clean_filename(filename, fallback)
    if token_form and _TOKEN.fullmatch(name) and "%" not in name:
        return f"attachment; filename={name}"
    ascii_name = _FALLBACK_UNSAFE.sub("_", name)
    value = f'attachment; filename="{ascii_name}"'
    if ascii_name != name:
        value += f"; filename*=UTF-8''{quote(name, safe=_ATTR_SAFE)}"
    return value
