"""The certificate PDF service, built from the settings and the services it draws on."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from notarium.adapters.pki.keystore import KeyStore
from notarium.app.settings import Settings
from notarium.core.clock import Clock
from notarium.ledger.proofs import ProofService
from notarium.ledger.records.service import RecordService
from notarium.ledger.transparency_log import TransparencyLog
from notarium.products.certificate_pdf.builder import CertificateBuilder
from notarium.products.certificate_pdf.cache import PdfCache
from notarium.products.certificate_pdf.service import CertificatePdfService
from notarium.products.pdf_seal.service import SealService

if TYPE_CHECKING:
    from notarium.verify.pdf import PdfVerifier


def build_certificate_pdfs(
    settings: Settings,
    *,
    clock: Clock,
    keystore: KeyStore,
    records: RecordService,
    proofs: ProofService,
    log: TransparencyLog,
    seal: SealService,
) -> CertificatePdfService:
    # Made on first use: pyHanko and reportlab load with the first PDF, not at start-up.
    @cache
    def verifier() -> PdfVerifier:
        from notarium.verify.pdf import PdfVerifier

        # The CA's own CRL, built in process: checking an upload never needs the network.
        return PdfVerifier(keystore.ca_certificate(), lambda: [seal.crl()])

    return CertificatePdfService(
        records,
        proofs,
        log,
        CertificateBuilder(
            lambda: seal.sealer, clock, chain_url=f"{settings.base_url}/tsa/certchain"
        ),
        verifier,
        PdfCache(settings.data_dir / "certificates"),
        base_url=settings.base_url,
        organisation=settings.organisation,
        log_origin=settings.log_origin,
    )
