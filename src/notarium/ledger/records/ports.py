"""What the records service needs from outside: something that signs time-stamp tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class IssuedTokenLike(Protocol):
    @property
    def der(self) -> bytes: ...

    @property
    def gen_time(self) -> datetime: ...


class TokenIssuer(Protocol):
    def issue(
        self,
        *,
        digest: bytes,
        hash_algorithm: str = "sha256",
        serial: int,
        nonce: int | None = None,
        include_certs: bool = True,
        policy_oid: str | None = None,
    ) -> IssuedTokenLike: ...
