"""The document's status names and confirmation counts."""

from __future__ import annotations

from notarium.ledger.records.values import STATUSES
from notarium.products.l402.status import confirmations, public_status


def test_every_pipeline_status_has_a_document_name() -> None:
    assert [public_status(s) for s in STATUSES] == ["queued", "broadcasted", "confirmed", "failed"]


def test_confirmations() -> None:
    assert confirmations("queued", None, 100) == 0
    assert confirmations("broadcasted", None, 100) == 0
    assert confirmations("confirmed", 939_157, 939_159) == 3
    # Without a known height, the attested block itself is the one confirmation.
    assert confirmations("confirmed", 939_157, None) == 1
    # Confirmed by time-stamp authorities alone: no block holds it.
    assert confirmations("confirmed", None, 939_159) == 0
    # A tip read just before the block arrived still counts the block itself.
    assert confirmations("confirmed", 939_157, 939_156) == 1
