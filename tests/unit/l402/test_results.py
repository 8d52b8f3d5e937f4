"""A paid result kept with its token reads back as the same result, also from the form
tokens redeemed before results were values kept (the whole answer)."""

from __future__ import annotations

import pytest

from notarium.products.l402.results import (
    FileFacts,
    PaidResult,
    TimestampIssued,
    UpdateApplied,
    restored,
    storable,
)

HASH = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize(
    "result",
    [
        TimestampIssued("LN-1", HASH, "queued"),
        TimestampIssued(
            "LN-2", HASH, "queued", FileFacts("a.pdf", 9, "application/pdf", True), "whsec_x"
        ),
        UpdateApplied("LN-3", {"webhook_url": None, "notification_email": "a@b.example"}),
        UpdateApplied("LN-4", {"webhook_url": "https://h.example/x"}, "whsec_y"),
    ],
)
def test_a_kept_result_reads_back_the_same(result: PaidResult) -> None:
    assert restored(storable(result)) == result


def test_answers_kept_whole_read_back_as_results() -> None:
    timestamp = {
        "success": True,
        "timestamp_id": "LN-5",
        "hash": HASH,
        "status": "queued",
        "file": {"filename": "a.png", "size": 3, "mime": "image/png", "stored": False},
        "message": "File hashed and queued for Bitcoin blockchain anchoring.",
        "webhook_secret": "whsec_z",
    }
    assert restored(timestamp) == TimestampIssued(
        "LN-5", HASH, "queued", FileFacts("a.png", 3, "image/png", False), "whsec_z"
    )
    update = {
        "success": True,
        "timestamp_id": "LN-6",
        "updated": {"notification_email": None},
        "message": "Notification settings updated.",
    }
    assert restored(update) == UpdateApplied("LN-6", {"notification_email": None})
