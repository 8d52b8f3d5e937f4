"""Sealing a document and entering the sealed file into the pipeline like any record."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import IO, TYPE_CHECKING

from notarium.core.clock import Clock
from notarium.ledger.accounts.plans import Plan
from notarium.ledger.records.service import RecordService
from notarium.ledger.records.values import NewRecord, Owner, RecordView
from notarium.ledger.tsa.stamper import TimeStamper
from notarium.products.pdf_seal.material import SealMaterial, load_ca
from notarium.products.pdf_seal.revocation import build_crl

if TYPE_CHECKING:
    from notarium.products.pdf_seal.sealer import RevocationInfo, Sealer, SealLevel, VisibleStamp


@dataclass(frozen=True)
class SealedDocument:
    pdf: bytes
    record: RecordView


class SealService:
    def __init__(
        self,
        material: SealMaterial,
        keys_dir: Path,
        stamper: TimeStamper,
        records: RecordService,
        clock: Clock,
        organisation: str,
    ) -> None:
        self._ca = load_ca(keys_dir)
        self.records = records
        self.clock = clock
        self._material = material
        self._stamper = stamper
        self._organisation = organisation

    @cached_property
    def sealer(self) -> Sealer:
        # pyHanko loads with the first seal, not with every process that wires this up.
        from notarium.products.pdf_seal.sealer import PyHankoTimeStamper, Sealer

        return Sealer(
            self._material,
            PyHankoTimeStamper(self._stamper),
            organisation=self._organisation,
            # Validation data for B-LT/B-LTA comes from here, in process, rather than by
            # the server fetching its own /pki routes.
            revocation=self.revocation_info,
        )

    def crl(self) -> bytes:
        now = self.clock.now()
        # A CRL number that grows with time: no state to keep, and never reused.
        return build_crl(self._ca, now=now, crl_number=int(now.timestamp()))

    def revocation_info(self) -> RevocationInfo:
        from notarium.products.pdf_seal.sealer import RevocationInfo

        return RevocationInfo(crls=(self.crl(),))

    async def seal(
        self,
        owner: Owner,
        plan: Plan,
        pdf: bytes | IO[bytes],
        *,
        filename: str,
        reason: str | None,
        level: SealLevel,
        visible: VisibleStamp | None,
    ) -> SealedDocument:
        # pyHanko's work, hashing megabytes and the record's commit all block: done on one
        # worker thread, they hold up neither the event loop nor each other's hand-offs.
        return await asyncio.to_thread(
            self._seal_and_record,
            owner,
            plan,
            pdf,
            filename=filename,
            reason=reason,
            level=level,
            visible=visible,
        )

    def _seal_and_record(
        self,
        owner: Owner,
        plan: Plan,
        pdf: bytes | IO[bytes],
        *,
        filename: str,
        reason: str | None,
        level: SealLevel,
        visible: VisibleStamp | None,
    ) -> SealedDocument:
        sealed = self.sealer.seal(pdf, reason=reason, level=level, visible=visible)
        record = NewRecord(
            sha256=hashlib.sha256(sealed).hexdigest(),
            filename=filename,
            file_size_bytes=len(sealed),
            file_type="application/pdf",
            channel="seal",
        )
        return SealedDocument(sealed, self.records.create(owner, plan, record))
