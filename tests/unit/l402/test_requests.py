"""Reading the four actions from a body, with the document's error codes, and the
digest that binds a token to one request."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest

from notarium.core.errors import ValidationError
from notarium.http.families.l402.schemas import parse_request
from notarium.products.l402.requests import (
    FileTimestamp,
    HashTimestamp,
    Notifications,
    StatusRequest,
    UpdateRequest,
    VerifyRequest,
    request_digest,
)

HASH = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_hash_timestamp() -> None:
    parsed = parse_request(
        {"action": "l402_timestamp", "hash": HASH.upper(), "webhook_url": "https://x.example/h"}
    )
    assert parsed == HashTimestamp(HASH, Notifications("https://x.example/h", None))


def test_file_timestamp_is_hashed_here_and_keeps_only_the_name() -> None:
    data = b"%PDF-1.4\n"
    encoded = base64.b64encode(data).decode()
    parsed = parse_request(
        {
            "action": "l402_timestamp",
            "file_data": encoded[:4] + "\n" + encoded[4:],
            "filename": "C:\\Users\\me\\document.pdf",
        }
    )
    assert isinstance(parsed, FileTimestamp)
    assert parsed.data == data and parsed.filename == "document.pdf"
    assert parsed.sha256 == hashlib.sha256(data).hexdigest()


def test_free_actions_and_updates() -> None:
    assert parse_request({"action": "l402_timestamp_verify", "hash": HASH}) == VerifyRequest(HASH)
    assert parse_request({"action": "l402_timestamp_status", "timestamp_id": "ln-abc"}) == (
        StatusRequest("LN-ABC", None)
    )
    assert parse_request({"action": "l402_timestamp_status", "hash": HASH}) == StatusRequest(
        None, HASH
    )
    update = parse_request(
        {"action": "l402_timestamp_update", "timestamp_id": "LN-1", "webhook_url": ""}
    )
    assert update == UpdateRequest("LN-1", True, None, False, None)


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({}, "invalid_action"),
        ({"action": "l402_stamp"}, "invalid_action"),
        ({"action": ["l402_timestamp"]}, "invalid_action"),
        ({"action": "l402_timestamp"}, "missing_hash"),
        ({"action": "l402_timestamp", "hash": ""}, "missing_hash"),
        ({"action": "l402_timestamp", "hash": "e3b0c442"}, "invalid_hash"),
        ({"action": "l402_timestamp", "hash": "g" * 64}, "invalid_hash"),
        ({"action": "l402_timestamp", "hash": 12}, "invalid_hash"),
        ({"action": "l402_timestamp_verify"}, "missing_hash"),
        ({"action": "l402_timestamp_verify", "hash": " " + HASH}, "invalid_hash"),
        ({"action": "l402_timestamp_status"}, "missing_hash"),
        ({"action": "l402_timestamp_status", "hash": "x"}, "invalid_hash"),
        ({"action": "l402_timestamp_status", "timestamp_id": 5}, "invalid_timestamp_id"),
        (
            {"action": "l402_timestamp", "file_data": "%%%", "filename": "a.pdf"},
            "invalid_file_data",
        ),
        ({"action": "l402_timestamp", "file_data": 5, "filename": "a.pdf"}, "invalid_file_data"),
        ({"action": "l402_timestamp", "file_data": "QUJD"}, "missing_filename"),
        ({"action": "l402_timestamp", "file_data": "QUJD", "filename": "dir/"}, "invalid_filename"),
        ({"action": "l402_timestamp", "file_data": "QUJD", "hash": HASH}, "invalid_request"),
        ({"action": "l402_timestamp", "hash": HASH, "webhook_url": 3}, "invalid_webhook_url"),
        (
            {"action": "l402_timestamp", "hash": HASH, "notification_email": "a\nb"},
            "invalid_notification_email",
        ),
        ({"action": "l402_timestamp_update", "webhook_url": "x"}, "missing_timestamp_id"),
        ({"action": "l402_timestamp_update", "timestamp_id": "LN-1"}, "nothing_to_update"),
    ],
)
def test_errors(payload: dict[str, Any], code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_request(payload)
    assert caught.value.code == code


def test_the_digest_covers_everything_that_changes_the_outcome() -> None:
    base = HashTimestamp(HASH, Notifications())
    variants = [
        HashTimestamp("0" * 64, Notifications()),
        HashTimestamp(HASH, Notifications("https://x.example/h", None)),
        HashTimestamp(HASH, Notifications(None, "a@b.example")),
        FileTimestamp(b"x", "a.txt", HASH, Notifications()),
        FileTimestamp(b"x", "b.txt", HASH, Notifications()),
        UpdateRequest("LN-1", True, None, False, None),
        UpdateRequest("LN-1", False, None, True, None),
        UpdateRequest("LN-2", True, None, False, None),
        UpdateRequest("LN-1", True, "https://x.example/h", False, None),
    ]
    digests = {request_digest(v) for v in [base, *variants]}
    assert len(digests) == len(variants) + 1
    assert request_digest(base) == request_digest(HashTimestamp(HASH, Notifications()))
    # The file's bytes enter through their hash, not their size in memory.
    assert request_digest(FileTimestamp(b"x", "a.txt", HASH, Notifications())) == request_digest(
        FileTimestamp(b"y", "a.txt", HASH, Notifications())
    )
