"""Webhook signatures, for the sender and for receivers written in Python.

Every delivery carries three independent signatures over the same raw body:

* the Standard Webhooks headers ``webhook-id``, ``webhook-timestamp`` and
  ``webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>``, where
  ``key`` is the *decoded* secret (the bytes after ``whsec_``), as every Standard Webhooks
  library computes it. It binds the id and timestamp, so replays are detectable, and
  during a secret rotation it lists one signature per secret, separated by spaces.
* ``X-Provelio-Signature: <hex HMAC-SHA256(key, body)>`` (and the same value under
  ``X-Notarium-Signature``), where ``key`` is the secret *text exactly as shown to the
  user*, ``whsec_`` prefix included, UTF-8 encoded. That is what the certificates
  document's receivers do (``crypto.createHmac('sha256', SECRET)`` in Express,
  ``hmac.new(SECRET.encode(), ...)`` in Flask), so they work unmodified. It binds neither
  id nor time and carries a single value, so during a rotation it is keyed with the
  newest secret only.
* with the service's Ed25519 key, a ``v1a,<base64 Ed25519 signature>`` entry in
  ``webhook-signature`` over the same ``{id}.{timestamp}.{body}``: Standard Webhooks'
  asymmetric scheme, checkable with the published public key (``whpk_`` + base64 of its
  32 raw bytes) by anyone, without holding a secret that could also forge deliveries.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets as _random
import time
from collections.abc import Mapping, Sequence

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from notarium.core.errors import ValidationError

SECRET_PREFIX = "whsec_"  # noqa: S105 - a format prefix, not a credential
SECRET_BYTES = 32

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
BODY_SIGNATURE_HEADER = "X-Notarium-Signature"
DOCUMENT_SIGNATURE_HEADER = "X-Provelio-Signature"
"""The certificates document's name for the body signature; both names carry one value."""

SIGNATURE_VERSION = "v1"
ASYMMETRIC_VERSION = "v1a"
PUBLIC_KEY_PREFIX = "whpk_"
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


def public_key_text(key: ed25519.Ed25519PublicKey) -> str:
    """``whpk_`` and standard base64 of the key's 32 raw bytes, as Standard Webhooks
    writes asymmetric public keys."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return PUBLIC_KEY_PREFIX + base64.b64encode(raw).decode("ascii")


def asymmetric_signature(
    key: ed25519.Ed25519PrivateKey, *, msg_id: str, timestamp: int, body: bytes
) -> str:
    """One ``v1a,<base64>`` entry of ``webhook-signature``: Ed25519 over the same content
    as ``v1``."""
    signature = key.sign(_signed_content(msg_id, timestamp, body))
    return f"{ASYMMETRIC_VERSION},{base64.b64encode(signature).decode('ascii')}"


def sign(
    secret_or_secrets: str | Sequence[str],
    *,
    msg_id: str,
    timestamp: int,
    body: bytes,
    signing_key: ed25519.Ed25519PrivateKey | None = None,
) -> dict[str, str]:
    """The signature headers of one delivery.

    ``secret_or_secrets`` is the endpoint's secret, or during a rotation its secrets
    *newest first*: ``webhook-signature`` then lists one signature per secret in that
    order, and the body signature headers use the first. With ``signing_key`` a ``v1a``
    entry follows the ``v1`` ones.
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
    if signing_key is not None:
        signatures.append(
            asymmetric_signature(signing_key, msg_id=msg_id, timestamp=timestamp, body=body)
        )
    hex_digest = body_signature(keys[0], body)
    return {
        ID_HEADER: msg_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: " ".join(signatures),
        DOCUMENT_SIGNATURE_HEADER: hex_digest,
        BODY_SIGNATURE_HEADER: hex_digest,
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
    rotation); entries of other versions (``v1a``) are ignored. ``X-Provelio-Signature``
    and ``X-Notarium-Signature`` are checked when present and the receiver's secret
    produced the *first* ``v1`` signature, which is the one the sender keys them with. A
    receiver still holding an older secret during a rotation cannot check them, and need
    not: the ``v1`` signature that matched already covers the body.
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

    if not matches[0]:
        return
    computed = body_signature(secret, body).encode("ascii")
    for name in (DOCUMENT_SIGNATURE_HEADER, BODY_SIGNATURE_HEADER):
        provided = lowered.get(name.lower())
        if provided is not None and not hmac.compare_digest(
            provided.strip().lower().encode("utf-8"), computed
        ):
            raise WebhookVerificationError(
                f"{name} does not match this secret over the received body"
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
