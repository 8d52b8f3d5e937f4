"""Assembles a record's proofs (bundle, .ots file) from what the records service stores."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from notarium.core.errors import NotFoundError
from notarium.formats.bundle import build_bundle
from notarium.formats.merkle import LeafProof, ots_ops, proof_from_json, proof_to_json
from notarium.formats.ots import build_detached, inspect_detached
from notarium.formats.rfc3161.external import external_chain
from notarium.formats.signing import RecordSigner
from notarium.ledger.records.facts import facts_of
from notarium.ledger.records.service import RecordService
from notarium.ledger.records.values import AnchorEvidence, Owner, RecordEvidence, RecordView
from notarium.ledger.transparency_log import TransparencyLog


class OtsNotFound(NotFoundError):
    code = "OTS_NOT_FOUND"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _leaf(evidence: RecordEvidence) -> LeafProof | None:
    if evidence.merkle_path is None or evidence.batch_root is None:
        return None
    return proof_from_json(evidence.merkle_path)


def _calendar_payloads(anchors: tuple[AnchorEvidence, ...]) -> list[bytes]:
    return [a.payload for a in anchors if a.kind == "ots" and a.payload]


class ProofService:
    def __init__(
        self,
        records: RecordService,
        tsa_chain_pem: bytes,
        signer: RecordSigner,
        log: TransparencyLog | None = None,
        *,
        external_tsa_roots: Sequence[x509.Certificate] = (),
    ) -> None:
        self.records = records
        self.external_tsa_roots = tuple(external_tsa_roots)
        self.tsa_chain_pem = tsa_chain_pem
        self.signer = signer
        self.log = log

    def ots_file(self, owner: Owner, record_id: str) -> tuple[RecordView, bytes]:
        """The record's standard ``.ots`` file: its digest, the batch path, and every
        calendar's timestamp, ending in pending or Bitcoin attestations."""
        evidence = self.records.evidence(owner, record_id)
        leaf = _leaf(evidence)
        payloads = _calendar_payloads(evidence.anchors)
        if leaf is None or not payloads:
            raise OtsNotFound("No OpenTimestamps proof is available for this timestamp yet.")
        return evidence.view, build_detached(leaf.digest, ots_ops(leaf), payloads)

    def bundle(self, owner: Owner, record_id: str) -> tuple[RecordView, dict[str, Any]]:
        evidence = self.records.evidence(owner, record_id)
        merkle, anchors = self._anchoring_sections(evidence)
        bundle = build_bundle(
            facts_of(evidence.view),
            token_der=evidence.token,
            tsa_chain_pem=self.tsa_chain_pem,
            signer=self.signer,
            merkle=merkle,
            anchors=anchors,
            log=self._log_section(evidence),
        )
        return evidence.view, bundle

    def _log_section(self, evidence: RecordEvidence) -> dict[str, Any] | None:
        if self.log is None or evidence.log_index is None:
            return None
        proof = self.log.tlog_proof(evidence.log_index)
        return {"tlog_proof": proof} if proof is not None else None

    def _anchoring_sections(
        self, evidence: RecordEvidence
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        leaf = _leaf(evidence)
        if leaf is None or evidence.batch_root is None:
            return None, []
        merkle = {"root": evidence.batch_root.hex(), "leaf": proof_to_json(leaf)}
        anchors: list[dict[str, Any]] = []
        payloads = _calendar_payloads(evidence.anchors)
        # A bundle carries only what a verifier can check: once a calendar has a Bitcoin
        # attestation, calendars still pending (bare URLs, nothing to verify) are left out.
        attested = [p for p in payloads if inspect_detached_root(p, leaf).bitcoin]
        if attested or payloads:
            ots = build_detached(leaf.digest, ots_ops(leaf), attested or payloads)
            anchors.append({"kind": "ots", "ots": _b64(ots)})
        for anchor in evidence.anchors:
            if anchor.state != "complete" or anchor.payload is None:
                continue
            if anchor.kind == "bitcoin":
                stored = json.loads(anchor.payload)
                anchors.append(
                    {"kind": "bitcoin", "prefix": stored["prefix"], "proof": stored["proof"]}
                )
            elif anchor.kind == "rfc3161":
                anchors.append(
                    {
                        "kind": "rfc3161",
                        "subject": "record" if anchor.per_record else "root",
                        "token": _b64(anchor.payload),
                        # The external authority's path up to its root travels with the
                        # token, so a verifier who does not trust that root can still
                        # see the token is intact (and report it as unchecked).
                        "chain": [
                            cert.public_bytes(Encoding.PEM).decode("ascii")
                            for cert in external_chain(anchor.payload, self.external_tsa_roots)
                        ],
                    }
                )
        # Without a checkable anchor (a test-mode record's simulated one, say) the batch
        # path proves nothing on its own, so the bundle leaves both out.
        return (merkle, anchors) if anchors else (None, [])


def inspect_detached_root(payload: bytes, leaf: LeafProof) -> Any:
    """What one calendar's timestamp holds, seen through this record's path."""
    return inspect_detached(build_detached(leaf.digest, ots_ops(leaf), [payload]))
