"""Queries over web captures, their evidence files and assisted-capture grants."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from notarium.adapters.store.models import AssistedCaptureGrant, CaptureArtifact, Record, WebCapture


class CaptureRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def insert(self, capture: WebCapture, artifacts: Sequence[CaptureArtifact]) -> None:
        self.session.add(capture)
        # The artifacts reference the capture row, which must exist first on PostgreSQL.
        self.session.flush()
        self.session.add_all(artifacts)

    def owned(
        self, account_id: str, mode: str, capture_id: str
    ) -> tuple[WebCapture, str, str] | None:
        """The capture, its record's public certificate id and its record's status."""
        row = self.session.execute(
            select(WebCapture, Record.certificate_id, Record.status)
            .join(Record, Record.id == WebCapture.record_id)
            .where(
                WebCapture.id == capture_id,
                WebCapture.account_id == account_id,
                WebCapture.mode == mode,
            )
        ).first()
        return None if row is None else (row[0], row[1], row[2])

    def get(self, capture_id: str) -> WebCapture | None:
        return self.session.get(WebCapture, capture_id)

    def page(
        self, account_id: str, mode: str, *, before: datetime | None, limit: int
    ) -> list[tuple[WebCapture, str, str]]:
        """One query for the whole page, the records' ids and statuses joined in."""
        query = (
            select(WebCapture, Record.certificate_id, Record.status)
            .join(Record, Record.id == WebCapture.record_id)
            .where(WebCapture.account_id == account_id, WebCapture.mode == mode)
        )
        if before is not None:
            query = query.where(WebCapture.created_at < before)
        query = query.order_by(WebCapture.created_at.desc(), WebCapture.id.desc()).limit(limit)
        return [(row[0], row[1], row[2]) for row in self.session.execute(query)]

    def artifact(self, capture_id: str, name: str) -> CaptureArtifact | None:
        return self.session.get(CaptureArtifact, (capture_id, name))

    def artifacts(self, capture_id: str) -> list[CaptureArtifact]:
        return list(
            self.session.scalars(
                select(CaptureArtifact)
                .where(CaptureArtifact.capture_id == capture_id)
                .order_by(CaptureArtifact.name)
            )
        )

    def add_grant(self, grant: AssistedCaptureGrant) -> None:
        self.session.add(grant)

    def grant(self, token_hash: str, *, lock: bool = False) -> AssistedCaptureGrant | None:
        query = select(AssistedCaptureGrant).where(AssistedCaptureGrant.token_hash == token_hash)
        if lock:
            query = query.with_for_update()
        return self.session.scalars(query).first()
