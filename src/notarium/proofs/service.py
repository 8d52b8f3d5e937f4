"""Assembles a record's proof bundle from what the records service stores."""

from __future__ import annotations

from typing import Any

from notarium.proofs.bundle import RecordFacts, build_bundle, format_created_at
from notarium.proofs.signing import RecordSigner
from notarium.records.service import RecordService
from notarium.records.values import Owner, RecordView


class ProofService:
    def __init__(self, records: RecordService, tsa_chain_pem: bytes, signer: RecordSigner) -> None:
        self.records = records
        self.tsa_chain_pem = tsa_chain_pem
        self.signer = signer

    def bundle(self, owner: Owner, record_id: str) -> tuple[RecordView, dict[str, Any]]:
        view, token = self.records.token(owner, record_id)
        facts = RecordFacts(
            id=view.id,
            certificate_id=view.certificate_id,
            sha256=view.sha256,
            filename=view.filename,
            file_size_bytes=view.file_size_bytes,
            file_type=view.file_type,
            created_at=format_created_at(view.created_at),
        )
        bundle = build_bundle(
            facts, token_der=token, tsa_chain_pem=self.tsa_chain_pem, signer=self.signer
        )
        return view, bundle
