"""The one Protocol every anchor implements, and the value it hands back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from notarium.core.errors import TimestampingError


class AnchorUnavailable(TimestampingError):
    """The anchor could not be reached or answered nonsense; the caller retries later."""

    code = "OTS_PROVIDER_ERROR"


@dataclass(frozen=True)
class AnchorState:
    payload: bytes
    """Anchor-specific state, opaque to the caller and stored as-is."""
    complete: bool
    """Nothing more to wait for."""
    bitcoin_txid: str | None = None
    bitcoin_height: int | None = None
    bitcoin_block_time: datetime | None = None


@runtime_checkable
class Anchor(Protocol):
    @property
    def name(self) -> str:
        """Stable identifier, e.g. ``ots:https://alice.btc.calendar.opentimestamps.org``."""
        ...

    @property
    def kind(self) -> str:
        """``ots``, ``bitcoin`` or ``rfc3161``."""
        ...

    def submit(self, root: bytes) -> AnchorState:
        """Hand the 32-byte batch root over; one attempt."""
        ...

    def upgrade(self, root: bytes, state: AnchorState) -> AnchorState:
        """Poll once for progress; the same state when nothing is new."""
        ...
