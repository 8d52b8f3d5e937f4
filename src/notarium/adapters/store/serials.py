"""Serial numbers for stand-alone ``/tsa`` requests, drawn from the same table as the
records' tokens so that every token the authority ever signs has a distinct serial."""

from __future__ import annotations

from notarium.adapters.store.db import SessionFactory
from notarium.adapters.store.repositories import TsaIssuanceRepository
from notarium.core.clock import Clock


class DatabaseSerialSource:
    def __init__(self, sessions: SessionFactory, clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    def next_serial(self) -> int:
        # The imprint is not known here; the row records the issuance itself.
        with self.sessions.begin() as session:
            return TsaIssuanceRepository(session).allocate(
                issued_at=self.clock.now(), hash_algorithm="rfc3161", digest_hex=""
            )
