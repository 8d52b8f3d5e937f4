"""How a certificate puts record facts into words a reader without the API understands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from notarium.products.certificate_pdf.facts import AnchorFact, CertificateFacts


@dataclass(frozen=True)
class StatusText:
    headline: str
    explanation: str
    tone: str
    """``good``, ``progress`` or ``bad``: the colour of the status band."""


def status_text(facts: CertificateFacts) -> StatusText:
    org = facts.organisation
    if facts.status == "confirmed":
        if facts.test_mode:
            return StatusText(
                "Confirmed (test mode)",
                "Time-stamped, and its batch completed the simulated anchoring of test mode. "
                "Test records are not anchored to any public ledger.",
                "good",
            )
        return StatusText(
            "Confirmed",
            f"The file's SHA-256 hash carries an RFC 3161 time-stamp by {org}, and the batch "
            "holding it is anchored to the public ledgers listed below: the proof no longer "
            f"depends on trusting {org}.",
            "good",
        )
    if facts.status == "anchoring":
        return StatusText(
            "Time-stamped, anchoring in progress",
            f"The file's SHA-256 hash carries an RFC 3161 time-stamp by {org}. Its batch has "
            "been submitted to the anchors below; a Bitcoin confirmation usually takes a few "
            "hours, after which this certificate is issued again with the final proof.",
            "progress",
        )
    if facts.status == "failed":
        return StatusText(
            "Time-stamped, anchoring failed",
            f"The RFC 3161 time-stamp by {org} stands on its own, but anchoring the batch "
            "holding this record to a public ledger failed.",
            "bad",
        )
    return StatusText(
        "Time-stamped, awaiting anchoring",
        f"The file's SHA-256 hash carries an RFC 3161 time-stamp by {org}. It joins the next "
        "batch anchored to public ledgers; this certificate is issued again as that happens.",
        "progress",
    )


_KINDS = {
    "ots": "OpenTimestamps calendar",
    "bitcoin": "Bitcoin transaction (OP_RETURN)",
    "rfc3161": "External time-stamp authority",
    "simulated": "Simulated anchor (test mode)",
}

_STATES = {
    "submitting": "being submitted",
    "waiting": "submitted, awaiting confirmation",
    "complete": "complete",
    "failed": "failed",
}


def anchor_kind(anchor: AnchorFact) -> str:
    return _KINDS.get(anchor.kind, anchor.kind)


def anchor_place(anchor: AnchorFact) -> str | None:
    """What publicly identifies the anchor, or None. A calendar's URL is public (every
    ``.ots`` file names it); an external authority is named by its certificate; a
    Bitcoin anchor by its transaction and block alone, never by the operator's node,
    whose address is internal."""
    if anchor.kind == "ots":
        return anchor.name.removeprefix(f"{anchor.kind}:")
    if anchor.kind == "rfc3161":
        return anchor.authority
    return None


def anchor_state(anchor: AnchorFact) -> str:
    if anchor.state == "complete" and anchor.bitcoin_height is not None:
        return "confirmed in the Bitcoin blockchain"
    if anchor.state == "complete" and anchor.kind == "rfc3161":
        return "time-stamp token issued"
    return _STATES.get(anchor.state, anchor.state)


def utc(instant: datetime, *, millis: bool = False) -> str:
    moment = instant.astimezone(UTC)
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    if millis:
        text += f".{moment.microsecond // 1000:03d}"
    return text + " UTC"


def byte_count(size: int) -> str:
    if size < 1000:
        return f"{size:,} bytes"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1000
        if value < 1000 or unit == "TB":
            return f"{size:,} bytes ({value:.1f} {unit})"
    raise AssertionError("unreachable")
