"""The document's status names for the pipeline's, and confirmation counts.

``queued``: received and time-stamped, waiting for the next batch. ``broadcasted``: in
a sealed batch whose Merkle root has gone to the anchors (calendars, the node's wallet),
awaiting a block. ``confirmed``: a Bitcoin block attests it. ``failed`` (which the
document does not name) when every anchor gave up.
"""

from __future__ import annotations

PUBLIC_STATUS = {
    "pending": "queued",
    "anchoring": "broadcasted",
    "confirmed": "confirmed",
    "failed": "failed",
}


def public_status(pipeline_status: str) -> str:
    return PUBLIC_STATUS.get(pipeline_status, pipeline_status)


def confirmations(status: str, block_height: int | None, tip: int | None) -> int:
    """0 before confirmation; once confirmed, the depth of the attested block below the
    best known height ``tip`` (the block itself counts one, also when ``tip`` is
    unknown). 0 too for a record no Bitcoin block holds (time-stamp authorities only)."""
    if status != "confirmed" or block_height is None:
        return 0
    # A tip read a moment before the block arrived must not report fewer than one.
    return max(1, (tip or block_height) - block_height + 1)
