"""Wiring for the runtime."""

from __future__ import annotations

from datetime import timedelta

from notarium.adapters.egress.policy import EgressPolicy
from notarium.adapters.pki.keystore import KeyStore
from notarium.adapters.store.db import SessionFactory
from notarium.app.settings import Settings
from notarium.core.clock import Clock
from notarium.formats.signing import Ed25519RecordSigner
from notarium.ledger.records.service import RecordService
from notarium.ledger.tsa.stamper import TimeStamper
from notarium.products.web_capture.browser.ports import CaptureEngine
from notarium.products.web_capture.coverage import CoverageChecker
from notarium.products.web_capture.evidence.service import build_evidence_service
from notarium.products.web_capture.links import LinkSigner
from notarium.products.web_capture.packaging import EvidencePackager
from notarium.products.web_capture.service import WebCaptureService


def build_links(settings: Settings, clock: Clock) -> LinkSigner:
    return LinkSigner(
        settings.keys_dir, clock, lifetime=timedelta(seconds=settings.download_link_lifetime)
    )


def build_webcaptures(
    settings: Settings,
    *,
    clock: Clock,
    sessions: SessionFactory,
    read_sessions: SessionFactory,
    records: RecordService,
    keystore: KeyStore,
    stamper: TimeStamper,
    signer: Ed25519RecordSigner,
) -> WebCaptureService:
    policy = EgressPolicy(settings.egress_allowlist)

    def engine() -> CaptureEngine:
        # Playwright loads with the first capture, not with every server process.
        from notarium.products.web_capture.browser.browser_pool import BrowserPool
        from notarium.products.web_capture.browser.engine import PlaywrightCaptureEngine

        return PlaywrightCaptureEngine(
            BrowserPool(settings.capture_pool()), policy, settings.capture(), owns_pool=True
        )

    return WebCaptureService(
        sessions,
        read_sessions,
        records,
        engine,
        EvidencePackager(
            build_evidence_service(
                keystore,
                timestamper=stamper,
                signer=signer,
                base_url=settings.base_url,
                organisation=settings.organisation,
                clock=clock,
            )
        ),
        policy,
        clock,
        coverage=CoverageChecker(policy, clock),
        base_url=settings.base_url,
        assist_lifetime=timedelta(seconds=settings.capture_assisted_ttl),
    )
