"""The service's Ed25519 key for Standard Webhooks' ``v1a`` signatures.

A key of its own, not the one that signs manifests and log checkpoints: it can then be
replaced (receivers re-read the published public key) without touching any proof.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from notarium.adapters.pki.files import publish_new
from notarium.core.errors import NotariumError

WEBHOOK_KEY: Final = "webhook-ed25519.key.pem"


class WebhookKeyError(NotariumError):
    code = "WEBHOOK_KEY_INVALID"


def load_or_create(keys_dir: Path) -> ed25519.Ed25519PrivateKey:
    """The key in ``keys_dir``, created (0600, never replaced) on first use."""
    path = Path(keys_dir) / WEBHOOK_KEY
    if not path.exists():
        pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # A concurrent starter may win; everyone then loads the file that landed.
        publish_new(path, pem, 0o600)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), None)
    except (OSError, ValueError, TypeError) as exc:
        raise WebhookKeyError(f"cannot load the webhook signing key {path}: {exc}") from exc
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise WebhookKeyError(f"{path} is not an Ed25519 private key")
    return key
