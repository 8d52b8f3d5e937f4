"""The hash certificates request model validates as well as documents: each field's
problem carries that field's code, before pydantic's own checks could answer."""

from __future__ import annotations

from typing import Any

import pytest

from notarium.core.errors import ValidationError
from notarium.core.hashing.sha256 import normalize_sha256_hex
from notarium.http.families.hash_certificates.schemas import CertificateCreate

DIGEST = "AB" * 32
VALID: dict[str, Any] = {"sha256Hash": DIGEST, "fileName": "contract.pdf", "fileSize": 0}


def test_a_valid_body_becomes_the_record_to_create() -> None:
    body = {**VALID, "fileType": "application/pdf", "metadata": {"ref": 7}, "extra": 1}
    new = CertificateCreate.model_validate(body).new_record()
    assert normalize_sha256_hex(new.sha256) == new.sha256 == DIGEST.lower()
    assert (new.filename, new.file_size_bytes, new.file_type) == (
        "contract.pdf",
        0,
        body["fileType"],
    )
    assert new.metadata == {"ref": 7} and new.public_metadata is False
    assert new.channel == "certificates" and new.distinct_by_metadata


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"sha256Hash": None}, "INVALID_SHA256_HASH"),
        ({"sha256Hash": "0x" + "a" * 62}, "INVALID_SHA256_HASH"),
        ({"fileName": None}, "INVALID_FILE_NAME"),
        ({"fileName": "  "}, "INVALID_FILE_NAME"),
        ({"fileName": "a\x07b"}, "INVALID_FILE_NAME"),
        ({"fileName": "n" * 1025}, "INVALID_FILE_NAME"),
        ({"fileSize": None}, "INVALID_FILE_SIZE"),
        ({"fileSize": True}, "INVALID_FILE_SIZE"),
        ({"fileSize": 1.0}, "INVALID_FILE_SIZE"),
        ({"fileSize": -1}, "INVALID_FILE_SIZE"),
        ({"fileSize": 2**53}, "INVALID_FILE_SIZE"),
        ({"fileType": 5}, "INVALID_FILE_TYPE"),
        ({"fileType": "t" * 256}, "INVALID_FILE_TYPE"),
        ({"metadataPublic": "yes"}, "INVALID_METADATA"),
        ({"metadata": []}, "INVALID_METADATA"),
        ({"metadata": {"k": "v" * 9000}}, "METADATA_TOO_LARGE"),
    ],
)
def test_each_field_reports_its_own_code(change: dict[str, Any], code: str) -> None:
    body = {key: value for key, value in {**VALID, **change}.items() if value is not None}
    with pytest.raises(ValidationError) as raised:
        CertificateCreate.model_validate(body)
    assert raised.value.code == code


def test_fields_are_checked_in_the_documents_order() -> None:
    with pytest.raises(ValidationError) as raised:
        CertificateCreate.model_validate({"fileName": "", "fileSize": -1})
    assert raised.value.code == "INVALID_SHA256_HASH"
    with pytest.raises(ValidationError) as raised:
        CertificateCreate.model_validate({"sha256Hash": DIGEST, "fileSize": -1})
    assert raised.value.code == "INVALID_FILE_NAME"
