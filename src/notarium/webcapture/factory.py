"""Wiring for the runtime."""

from __future__ import annotations

from datetime import timedelta

from notarium.capture.ports import CaptureEngine
from notarium.clock import Clock
from notarium.config import Settings
from notarium.egress.policy import EgressPolicy
from notarium.evidence.service import build_evidence_service
from notarium.pki.keystore import KeyStore
from notarium.proofs.signing import Ed25519RecordSigner
from notarium.records.service import RecordService
from notarium.store.db import SessionFactory
from notarium.tsa.authority import TimeStampAuthority
from notarium.tsa.ports import SerialSource
from notarium.webcapture.coverage import CoverageChecker
from notarium.webcapture.evidence import EvidencePackager
from notarium.webcapture.links import LinkSigner
from notarium.webcapture.service import WebCaptureService


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
    authority: TimeStampAuthority,
    serials: SerialSource,
    signer: Ed25519RecordSigner,
) -> WebCaptureService:
    policy = EgressPolicy(settings.egress_allowlist)

    def engine() -> CaptureEngine:
        # Playwright loads with the first capture, not with every server process.
        from notarium.capture.engine import PlaywrightCaptureEngine

        return PlaywrightCaptureEngine.from_settings(settings)

    return WebCaptureService(
        sessions,
        read_sessions,
        records,
        engine,
        EvidencePackager(
            build_evidence_service(
                keystore,
                authority=authority,
                serials=serials,
                signer=signer,
                base_url=settings.base_url,
                organisation=settings.organisation,
                clock=clock,
            )
        ),
        policy,
        clock,
        coverage=CoverageChecker(policy, clock),
        assist_lifetime=timedelta(seconds=settings.capture_assisted_ttl),
    )
