"""Webhook signatures, for the sender and for receivers written in Python.

Every delivery carries two independent signatures over the same raw body:

* the Standard Webhooks headers ``webhook-id``, ``webhook-timestamp`` and
  ``webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>``, where
  ``key`` is the *decoded* secret (the bytes after ``whsec_``), as every Standard Webhooks
  library computes it. It binds the id and timestamp, so replays are detectable, and
  during a secret rotation it lists one signature per secret, separated by spaces.
* ``X-Notarium-Signature: <hex HMAC-SHA256(key, body)>``, where ``key`` is the secret
  *text exactly as shown to the user*, ``whsec_`` prefix included, UTF-8 encoded. That is
  what the widely copied receivers do (``crypto.createHmac('sha256', SECRET)`` in Node,
  ``hmac.new(SECRET.encode(), ...)`` in Python), so they work unmodified once they read
  this header name. It binds neither id nor time and carries a single value, so during a
  rotation it is keyed with the newest secret only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets as _random
import time
from collections.abc import Mapping, Sequence

from notarium.errors import ValidationError

SECRET_PREFIX = "whsec_"  # noqa: S105 - a format prefix, not a credential
SECRET_BYTES = 32

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
BODY_SIGNATURE_HEADER = "X-Notarium-Signature"

SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE = 300
"""Seconds of clock skew a receiver accepts, in either direction."""


class WebhookVerificationError(ValidationError):
    """A delivery's headers or signatures do not check out against the receiver's secret."""

    code = "WEBHOOK_SIGNATURE_INVALID"


def new_secret() -> str:
    """A fresh endpoint secret: ``whsec_`` and standard base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(_random.token_bytes(SECRET_BYTES)).decode("ascii")


def secret_bytes(secret: str) -> bytes:
    """The HMAC key of the Standard Webhooks scheme: the secret's base64 part, decoded.

    The ``whsec_`` prefix is optional, as in the reference libraries, so a secret pasted
    without it still works.
    """
    if not isinstance(secret, str):
        raise ValidationError("a webhook secret must be a string")
    encoded = secret.removeprefix(SECRET_PREFIX)
    if not encoded:
        raise ValidationError(f"the webhook secret is empty after the {SECRET_PREFIX!r} prefix")
    try:
        key = base64.b64decode(encoded.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise ValidationError(
            f"a webhook secret must be {SECRET_PREFIX!r} followed by standard base64 "
            f"(A-Z, a-z, 0-9, '+', '/', '=' padding): {exc}"
        ) from exc
    if not key:
        raise ValidationError("the webhook secret decodes to no bytes")
    return key


def standard_signature(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<base64>`` entry of ``webhook-signature`` for ``secret``."""
    mac = hmac.new(secret_bytes(secret), _signed_content(msg_id, timestamp, body), "sha256")
    return f"{SIGNATURE_VERSION},{base64.b64encode(mac.digest()).decode('ascii')}"


def body_signature(secret: str, body: bytes) -> str:
    """``X-Notarium-Signature``: lowercase hex HMAC-SHA256 of the raw body, keyed with the
    secret text itself, the way the document's Node and Flask receivers compute it."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def sign(
    secret_or_secrets: str | Sequence[str], *, msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The signature headers of one delivery.

    ``secret_or_secrets`` is the endpoint's secret, or during a rotation its secrets
    *newest first*: ``webhook-signature`` then lists one signature per secret in that
    order, and ``X-Notarium-Signature`` uses the first.
    """
    keys = [secret_or_secrets] if isinstance(secret_or_secrets, str) else list(secret_or_secrets)
    if not keys:
        raise ValidationError("at least one webhook secret is needed to sign a delivery")
    _check_msg_id(msg_id)
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise ValidationError(f"the webhook timestamp must be unix seconds, not {timestamp!r}")
    signatures = [
        standard_signature(key, msg_id=msg_id, timestamp=timestamp, body=body) for key in keys
    ]
    return {
        ID_HEADER: msg_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: " ".join(signatures),
        BODY_SIGNATURE_HEADER: body_signature(keys[0], body),
    }


def verify(
    *,
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    tolerance: int = DEFAULT_TOLERANCE,
    now: int | None = None,
) -> None:
    """Check a received delivery; raise :class:`WebhookVerificationError` if it fails.

    ``body`` must be the raw bytes as received, before any JSON parsing. Any of the
    space-separated ``v1`` signatures may match (the sender lists one per secret during a
    rotation); entries of other versions are ignored. ``X-Notarium-Signature`` is checked
    when present and the receiver's secret produced the *first* ``v1`` signature, which is
    the one the sender keys that header with. A receiver still holding an older secret
    during a rotation cannot check it, and need not: the ``v1`` signature that matched
    already covers the body.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    msg_id = _required(lowered, ID_HEADER)
    raw_timestamp = _required(lowered, TIMESTAMP_HEADER)
    raw_signatures = _required(lowered, SIGNATURE_HEADER)

    if not (raw_timestamp.isascii() and raw_timestamp.isdigit()):
        raise WebhookVerificationError(
            f"{TIMESTAMP_HEADER} must be unix seconds, not {raw_timestamp[:40]!r}"
        )
    timestamp = int(raw_timestamp)
    current = int(time.time()) if now is None else now
    if timestamp < current - tolerance:
        raise WebhookVerificationError(
            f"{TIMESTAMP_HEADER} is {current - timestamp} s old, more than the "
            f"{tolerance} s tolerated"
        )
    if timestamp > current + tolerance:
        raise WebhookVerificationError(
            f"{TIMESTAMP_HEADER} is {timestamp - current} s in the future, more than the "
            f"{tolerance} s tolerated"
        )

    try:
        key = secret_bytes(secret)
    except ValidationError as exc:
        raise WebhookVerificationError(exc.message) from exc
    expected = hmac.new(
        key, _signed_content(msg_id, timestamp, body, raw_timestamp=raw_timestamp), "sha256"
    ).digest()
    candidates = [
        entry.partition(",")[2]
        for entry in raw_signatures.split()
        if entry.partition(",")[0] == SIGNATURE_VERSION
    ]
    if not candidates:
        raise WebhookVerificationError(f"{SIGNATURE_HEADER} holds no {SIGNATURE_VERSION} signature")
    # Compare every candidate, not just until the first match, so timing does not reveal
    # which position matched.
    matches = [hmac.compare_digest(_b64(candidate), expected) for candidate in candidates]
    if not any(matches):
        raise WebhookVerificationError(
            f"no {SIGNATURE_VERSION} signature in {SIGNATURE_HEADER} matches this secret "
            "over the received id, timestamp and body"
        )

    provided = lowered.get(BODY_SIGNATURE_HEADER.lower())
    if provided is not None and matches[0]:
        computed = body_signature(secret, body).encode("ascii")
        if not hmac.compare_digest(provided.strip().lower().encode("utf-8"), computed):
            raise WebhookVerificationError(
                f"{BODY_SIGNATURE_HEADER} does not match this secret over the received body"
            )


def _signed_content(
    msg_id: str, timestamp: int, body: bytes, *, raw_timestamp: str | None = None
) -> bytes:
    # A receiver signs the timestamp text it received, so a zero-padded value cannot
    # verify as a different number than the sender signed.
    stamp = str(timestamp) if raw_timestamp is None else raw_timestamp
    return f"{msg_id}.{stamp}.".encode() + body


def _b64(value: str) -> bytes:
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        return b""


def _required(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None or not value.strip():
        raise WebhookVerificationError(f"the {name} header is missing")
    return value.strip()


def _check_msg_id(msg_id: str) -> None:
    # The id is a header value and part of the signed content: keep it to visible ASCII
    # so it survives proxies unchanged and cannot split headers.
    if not msg_id or not all("!" <= char <= "~" for char in msg_id):
        raise ValidationError(
            f"a webhook message id must be non-empty visible ASCII, not {msg_id!r}"
        )
