"""Download names go through ``Content-Disposition`` intact: each header is read back by
two parsers that share no code with the writer (the standard library's e-mail parser,
which implements RFC 2231 continuations and charsets, and Werkzeug's RFC 6266 parser)."""

from __future__ import annotations

import email
import email.utils

import pytest
from werkzeug.http import parse_options_header

from notarium.http.disposition import attachment

NAMES = [
    "msa-v3.pdf",
    "minutes v2.pdf",
    "Contract (final) (2).pdf",
    'the "signed" copy.pdf',
    "50% off.pdf",
    "Vertrag für Müller.pdf",
    "契約書 (署名済み).pdf",
    "naïve café ☕.pdf",
    "semi;colon, comma=equals.pdf",
    "apostrophe's.pdf",
]


def _stdlib_filename(header: str) -> str:
    """The standard library decodes each parameter; RFC 6266 section 4.3's rule (prefer
    ``filename*`` when both are present) is applied here, as the e-mail parser predates it."""
    message = email.message_from_string(f"Content-Disposition: {header}\n\n")
    params = message.get_params(header="content-disposition") or []
    values = [value for key, value in params if key == "filename"]
    extended = [v for v in values if isinstance(v, tuple)]
    plain = [v for v in values if isinstance(v, str)]
    assert len(extended) <= 1 and len(plain) == 1
    return email.utils.collapse_rfc2231_value(extended[0] if extended else plain[0])


def _werkzeug_filename(header: str) -> str:
    disposition, options = parse_options_header(header)
    assert disposition == "attachment"
    return options["filename"]


@pytest.mark.parametrize("name", NAMES)
def test_every_parser_reads_back_the_exact_name(name: str) -> None:
    header = attachment(name)
    assert header.isascii()
    assert _stdlib_filename(header) == name
    assert _werkzeug_filename(header) == name


@pytest.mark.parametrize("name", NAMES)
def test_the_plain_fallback_is_a_safe_quoted_ascii_string(name: str) -> None:
    """Agents that ignore ``filename*`` read a quoted ASCII name with no escapes."""
    header = attachment(name)
    fallback = header.split("; filename*=")[0]
    _, options = parse_options_header(fallback)
    plain = options["filename"]
    assert fallback == f'attachment; filename="{plain}"'
    assert plain.isascii() and not set(plain) & set('"\\%')
    assert len(plain) == len(name)
    assert ("filename*=" in header) == (plain != name)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a\r\nSet-Cookie: x=1.pdf", "aSet-Cookie: x=1.pdf"),
        ("tab\there\x85.pdf", "tabhere.pdf"),
        ("../../etc/passwd", ".._.._etc_passwd"),
        # A path separator on some systems and an escape inside a quoted-string.
        ("back\\slash.pdf", "back_slash.pdf"),
        ("\x00\x01", "download"),
        ("...", "download"),
    ],
)
def test_controls_and_separators_never_reach_the_header(name: str, expected: str) -> None:
    header = attachment(name)
    assert "\r" not in header and "\n" not in header
    assert _stdlib_filename(header) == expected
    assert _werkzeug_filename(header) == expected


def test_token_form_is_bare_only_for_token_names() -> None:
    """The seal document shows ``filename=sample.pdf`` unquoted; anything else is quoted."""
    assert attachment("sample.pdf", token_form=True) == "attachment; filename=sample.pdf"
    spaced = attachment("my sample.pdf", token_form=True)
    assert spaced == 'attachment; filename="my sample.pdf"'
    accented = attachment("résumé.pdf", token_form=True)
    assert _werkzeug_filename(accented) == _stdlib_filename(accented) == "résumé.pdf"
