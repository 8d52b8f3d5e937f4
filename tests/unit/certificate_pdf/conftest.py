"""Fixtures for the certificate PDF tests: the sealing tests' CA, local CRL/OCSP server,
sealer and validators, plus one notarised document with its real proof bundle."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from notarium.adapters.pki.keystore import KeyStore
from notarium.core.clock import SystemClock
from notarium.formats.bundle import RecordFacts, build_bundle, format_created_at
from notarium.formats.canonical import canonical_json
from notarium.formats.rfc3161.reply import granted_response
from notarium.formats.rfc3161.token import parse_timestamp_token
from notarium.formats.signing import Ed25519RecordSigner
from notarium.ledger.tsa.authority import TimeStampAuthority
from notarium.products.certificate_pdf import Attachment, CertificateBuilder, CertificateFacts
from notarium.products.pdf_seal.sealer import Sealer
from unit.sealing import conftest as sealing

# The sealing tests' fixtures, registered here under the same names.
ORGANISATION = sealing.ORGANISATION
keystore = sealing.keystore
ca = sealing.ca
pki_server = sealing.pki_server
material = sealing.material
authority = sealing.authority
sealer = sealing.sealer
validators = sealing.validators

CONTENT = b"Minutes of the annual meeting, approved unanimously.\n"
VERIFY_URL = "https://notary.example.com/cert/TS-7K2M9QXD"


@dataclass(frozen=True)
class Notarised:
    facts: CertificateFacts
    bundle: bytes
    token: bytes

    @property
    def attachments(self) -> list[Attachment]:
        cid = self.facts.certificate_id
        return [
            Attachment(f"{cid}.proof.json", self.bundle, "application/json", "Proof bundle"),
            Attachment(
                f"{cid}.tsr",
                granted_response(self.token),
                "application/timestamp-reply",
                "RFC 3161 time-stamp response",
            ),
        ]


@pytest.fixture(scope="session")
def signer(keystore: KeyStore) -> Ed25519RecordSigner:
    return Ed25519RecordSigner(keystore.ed25519_private_key(), "notary.example.com")


@pytest.fixture(scope="session")
def notarised(
    keystore: KeyStore, authority: TimeStampAuthority, signer: Ed25519RecordSigner
) -> Notarised:
    digest = hashlib.sha256(CONTENT).hexdigest()
    token = authority.issue(digest=bytes.fromhex(digest), serial=4242).der
    created = datetime.now(UTC)
    record_id = str(uuid.uuid4())
    bundle = build_bundle(
        RecordFacts(
            id=record_id,
            certificate_id="TS-7K2M9QXD",
            sha256=digest,
            filename="minutes.txt",
            file_size_bytes=len(CONTENT),
            file_type="text/plain",
            created_at=format_created_at(created),
        ),
        token_der=token,
        tsa_chain_pem=keystore.tsa_chain_pem(),
        signer=signer,
    )
    facts = CertificateFacts(
        title="Timestamp certificate",
        certificate_id="TS-7K2M9QXD",
        record_id=record_id,
        sha256=digest,
        created_at=created,
        token_time=parse_timestamp_token(token).gen_time,
        tsa_serial=4242,
        status="pending",
        verify_url=VERIFY_URL,
        organisation=ORGANISATION,
        filename="minutes.txt",
        file_size_bytes=len(CONTENT),
        file_type="text/plain",
    )
    return Notarised(facts, canonical_json(bundle), token)


@pytest.fixture(scope="session")
def builder(sealer: Sealer) -> CertificateBuilder:
    return CertificateBuilder(
        sealer, SystemClock(), chain_url="https://notary.example.com/tsa/certchain"
    )
