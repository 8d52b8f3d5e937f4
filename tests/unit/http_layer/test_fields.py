"""The shared field parsers: one control-character rule (C0, DEL and C1), the seed
documents' size floors as a parameter, one download-name rule, strict JSON models."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, field_validator

from notarium.core.errors import ValidationError
from notarium.http import fields
from notarium.http.formats import InvalidJson


class Refused(ValidationError):
    code = "REFUSED"


def refuse(message: str) -> Exception:
    return Refused(message)


@pytest.mark.parametrize("name", ["a\x00b", "tab\there", "del\x7f", "csi\x9b2J", "nel\x85"])
def test_a_name_with_any_control_character_is_refused(name: str) -> None:
    with pytest.raises(Refused, match="control characters"):
        fields.filename(name, error=refuse)


def test_names_within_the_limit_pass_unchanged() -> None:
    assert fields.filename("Vertrag für Müller (2).pdf", error=refuse) == (
        "Vertrag für Müller (2).pdf"
    )
    assert fields.filename("x" * 1024, error=refuse) == "x" * 1024
    with pytest.raises(Refused):
        fields.filename("x" * 1025, error=refuse)


@pytest.mark.parametrize("value", [None, 3, "", "   "])
def test_a_missing_or_blank_name_is_refused_unless_allowed(value: object) -> None:
    with pytest.raises(Refused, match="non-empty"):
        fields.filename(value, error=refuse, field="fileName")
    if isinstance(value, str):
        assert fields.filename(value, error=refuse, allow_empty=True) == value


def test_size_floor_is_the_documents_choice() -> None:
    assert fields.size(1, error=refuse) == 1
    assert fields.size(0, error=refuse, minimum=0) == 0
    with pytest.raises(Refused, match="positive"):
        fields.size(0, error=refuse)
    with pytest.raises(Refused, match="non-negative"):
        fields.size(-1, error=refuse, minimum=0)


@pytest.mark.parametrize("value", [True, 1.0, "1", 2**53])
def test_size_is_a_json_safe_integer(value: object) -> None:
    with pytest.raises(Refused):
        fields.size(value, error=refuse)


def test_media_type_is_optional_text() -> None:
    assert fields.media_type(None, error=refuse) is None
    assert fields.media_type("application/pdf", error=refuse) == "application/pdf"
    for bad in ("a" * 256, "text/\x9bplain", 7):
        with pytest.raises(Refused):
            fields.media_type(bad, error=refuse)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("C:\\Users\\me\\report final.pdf", "report final.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..", "sealed.pdf"),
        (None, "sealed.pdf"),
        ("Vertrag für Müller.pdf", "Vertrag f_r M_ller.pdf"),
        ("a\r\nb.pdf", "a_b.pdf"),
    ],
)
def test_download_name(given: str | None, expected: str) -> None:
    assert fields.safe_download_name(given, fallback="sealed.pdf") == expected


def test_download_name_is_capped() -> None:
    assert len(fields.safe_download_name("x" * 400 + ".pdf", fallback="f")) == 150


class Item(BaseModel):
    name: str
    size: int

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: object) -> str:
        return fields.filename(value, error=refuse, field="name")


def test_json_model_validates_with_notarium_errors() -> None:
    item = fields.json_model(Item, b'{"name": "a.pdf", "size": 3}', content_type="application/json")
    assert item == Item(name="a.pdf", size=3)
    # The model's own validator raises the family's error, untouched by pydantic.
    with pytest.raises(Refused):
        fields.json_model(Item, b'{"name": "a\\u0085", "size": 3}', content_type="application/json")


def test_json_model_refuses_other_failures_with_the_families_code() -> None:
    with pytest.raises(ValidationError, match="size") as caught:
        fields.json_model(
            Item, b'{"name": "a.pdf", "size": "x"}', content_type="application/json", code="BAD"
        )
    assert caught.value.code == "BAD"
    with pytest.raises(InvalidJson):
        fields.json_model(Item, b'{"name": "a.pdf"}', content_type="text/plain")
    with pytest.raises(InvalidJson):
        fields.json_model(Item, b"[1]", content_type="application/json; charset=utf-8")
