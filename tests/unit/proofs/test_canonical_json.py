from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notarium.core.errors import ValidationError
from notarium.formats.canonical import canonical_json
from notarium.formats.errors import CanonicalizationError

# RFC 8785 §3.2.2, without the "numbers" member: notarium refuses floats.
RFC8785_STRINGS_INPUT = r"""{
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}"""
RFC8785_STRINGS_OUTPUT = r"""{"literals":[null,true,false],"string":"€$\u000f\nA'B\"\\\\\"/"}"""

# RFC 8785 §3.2.3: property sorting by UTF-16 code units.
RFC8785_SORTING_INPUT = r"""{
  "\u20ac": "Euro Sign",
  "\r": "Carriage Return",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "1": "One",
  "\ud83d\ude00": "Emoji: Grinning Face",
  "\u0080": "Control",
  "\u00f6": "Latin Small Letter O With Diaeresis"
}"""
# The bytes RFC 8785 §3.2.3 lists for the canonical form.
RFC8785_SORTING_OUTPUT_HEX = """
7b 22 5c 72 22 3a 22 43 61 72 72 69 61 67 65 20 52 65 74 75 72 6e 22 2c 22 31 22 3a 22 4f
6e 65 22 2c 22 c2 80 22 3a 22 43 6f 6e 74 72 6f 6c 22 2c 22 c3 b6 22 3a 22 4c 61 74 69 6e
20 53 6d 61 6c 6c 20 4c 65 74 74 65 72 20 4f 20 57 69 74 68 20 44 69 61 65 72 65 73 69 73
22 2c 22 e2 82 ac 22 3a 22 45 75 72 6f 20 53 69 67 6e 22 2c 22 f0 9f 98 80 22 3a 22 45 6d
6f 6a 69 3a 20 47 72 69 6e 6e 69 6e 67 20 46 61 63 65 22 2c 22 ef ac b3 22 3a 22 48 65 62
72 65 77 20 4c 65 74 74 65 72 20 44 61 6c 65 74 20 57 69 74 68 20 44 61 67 65 73 68 22 7d
"""


def test_rfc8785_string_escaping_and_literals() -> None:
    assert canonical_json(json.loads(RFC8785_STRINGS_INPUT)) == RFC8785_STRINGS_OUTPUT.encode()


def test_rfc8785_key_sorting_by_utf16_code_units() -> None:
    expected = bytes.fromhex(RFC8785_SORTING_OUTPUT_HEX)
    assert canonical_json(json.loads(RFC8785_SORTING_INPUT)) == expected


def test_rfc8785_numbers_example_is_refused_because_it_has_floats() -> None:
    with pytest.raises(CanonicalizationError, match=r"float at \$\.numbers\[0\]"):
        canonical_json({"numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 1e-27]})


def test_control_characters_and_separators() -> None:
    value = "\x00\x07\x08\t\n\x0b\x0c\r\x1f\x7f\u2028\u2029"
    assert canonical_json(value) == (
        b'"\\u0000\\u0007\\b\\t\\n\\u000b\\f\\r\\u001f\x7f\xe2\x80\xa8\xe2\x80\xa9"'
    )


def test_nested_structures_have_no_whitespace() -> None:
    value = {"b": [1, {"z": None, "a": []}, {}], "a": {"y": True, "x": -0}, "": ""}
    assert canonical_json(value) == b'{"":"","a":{"x":0,"y":true},"b":[1,{"a":[],"z":null},{}]}'


def test_tuples_serialise_as_arrays() -> None:
    assert canonical_json({"a": (1, "2")}) == b'{"a":[1,"2"]}'


def test_integer_limits() -> None:
    assert canonical_json(2**53 - 1) == b"9007199254740991"
    assert canonical_json(-(2**53 - 1)) == b"-9007199254740991"
    with pytest.raises(CanonicalizationError, match="cannot be represented exactly"):
        canonical_json({"n": 2**53})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1.5, "float at \\$"),
        (float("nan"), "float"),
        ({"a": b"bytes"}, "unsupported type bytes"),
        ([{1, 2}], "unsupported type set"),
        ({1: "x"}, "object key at \\$ must be a string"),
        ("\ud800", "lone surrogate U\\+D800"),
        ({"\udfff": 1}, "lone surrogate"),
    ],
)
def test_unsupported_values_are_rejected(value: Any, message: str) -> None:
    with pytest.raises(CanonicalizationError, match=message) as info:
        canonical_json(value)
    assert isinstance(info.value, ValidationError)


_bmp_text = st.text(st.characters(max_codepoint=0xD7FF))
_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(_bmp_text, children, max_size=4)
    ),
    max_leaves=20,
)


@given(_json_values)
def test_matches_sorted_compact_json_when_code_point_and_utf16_order_agree(value: Any) -> None:
    # Below U+D800 code-point order equals UTF-16 order, so Python's own sorted,
    # compact, non-ASCII-escaping output must be byte-identical.
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical_json(value) == expected.encode("utf-8")


@given(_json_values)
def test_round_trips_through_a_json_parser(value: Any) -> None:
    assert json.loads(canonical_json(value)) == value


@given(st.dictionaries(st.text(), st.integers(0, 9), min_size=2, max_size=6))
def test_keys_are_ordered_by_utf16_code_units(value: dict[str, int]) -> None:
    parsed = json.loads(canonical_json(value))
    keys = list(parsed)
    assert keys == sorted(value, key=lambda k: k.encode("utf-16-be"))
