"""Pre-signed, expiring download links.

A link names one artifact of one capture and an expiry, and carries an HMAC over both
under a key kept beside the other keys, so any server of a deployment can check it
without a database round trip, and nobody can extend or redirect it to another file.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from notarium.adapters.pki.files import publish_new
from notarium.core.clock import Clock
from notarium.core.errors import NotFoundError, PermissionDeniedError

KEY_FILE = "download-links.key"


class LinkExpired(PermissionDeniedError):
    code = "link_expired"


class LinkInvalid(NotFoundError):
    """A forged or altered link looks exactly like a missing file: nothing to learn."""

    code = "not_found"


@dataclass(frozen=True)
class SignedLink:
    path: str
    expires_at: datetime

    @property
    def query(self) -> str:
        return self.path.partition("?")[2]


class LinkSigner:
    def __init__(self, keys_dir: Path, clock: Clock, *, lifetime: timedelta) -> None:
        self._path = Path(keys_dir) / KEY_FILE
        self._clock = clock
        self._lifetime = lifetime
        self._secret: bytes | None = None

    def _key(self) -> bytes:
        if self._secret is None:
            if not self._path.exists():
                # If another process wins the race, its key is the one everyone uses.
                publish_new(self._path, secrets.token_bytes(32), 0o600)
            self._secret = self._path.read_bytes()
        return self._secret

    def _mac(self, resource: str, expires: int) -> str:
        message = f"{resource}\n{expires}".encode()
        digest = hmac.new(self._key(), message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def sign(self, resource: str) -> SignedLink:
        """``resource`` is the path the link serves, e.g. ``/files/captures/<id>/x.pdf``."""
        expires_at = self._clock.now() + self._lifetime
        expires = int(expires_at.timestamp())
        query = urlencode({"expires": expires, "signature": self._mac(resource, expires)})
        return SignedLink(f"{resource}?{query}", expires_at)

    def check(self, resource: str, expires: str | None, signature: str | None) -> None:
        if not expires or not signature or not expires.isdigit():
            raise LinkInvalid("This download link is incomplete.")
        expected = self._mac(resource, int(expires))
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise LinkInvalid("This download link is not valid.")
        if int(expires) < self._clock.now().timestamp():
            raise LinkExpired("This download link has expired; ask the API for a new one.")
