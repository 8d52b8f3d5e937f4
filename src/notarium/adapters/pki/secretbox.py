"""Secrets the service must be able to use again (webhook signing secrets), sealed at rest
with AES-256-GCM under a key kept beside the other keys (mode 0600). Unlike API keys,
which are only ever compared and so are stored hashed, these must sign."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from notarium.adapters.pki.files import publish_new
from notarium.core.errors import ConfigurationError

KEY_FILE = "secrets.key"
NONCE_SIZE = 12


class SecretBoxError(ConfigurationError):
    code = "SECRET_UNREADABLE"


class SecretBox:
    def __init__(self, keys_dir: Path) -> None:
        self._path = Path(keys_dir) / KEY_FILE
        self._aead: AESGCM | None = None

    def _key(self) -> AESGCM:
        if self._aead is None:
            if not self._path.exists():
                self._path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                # If another process wins the race, its key is the one everyone uses.
                publish_new(self._path, AESGCM.generate_key(bit_length=256), 0o600)
            self._aead = AESGCM(self._path.read_bytes())
        return self._aead

    def seal(self, secret: str, *, context: bytes) -> bytes:
        """``context`` (e.g. the endpoint id) is authenticated, so a sealed secret moved to
        another row no longer opens."""
        nonce = os.urandom(NONCE_SIZE)
        return nonce + self._key().encrypt(nonce, secret.encode(), context)

    def open(self, sealed: bytes, *, context: bytes) -> str:
        try:
            return self._key().decrypt(sealed[:NONCE_SIZE], sealed[NONCE_SIZE:], context).decode()
        except (InvalidTag, ValueError) as exc:
            raise SecretBoxError("a sealed secret does not open with this server's key") from exc
