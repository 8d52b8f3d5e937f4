"""Wiring: builds every service once from the settings, for the server and the CLI alike."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from notarium.adapters.datadir import ensure_data_dir
from notarium.adapters.egress.policy import EgressPolicy
from notarium.adapters.lightning.ports import LightningBackend
from notarium.adapters.pki.keystore import KeyStore
from notarium.adapters.pki.secretbox import SecretBox
from notarium.adapters.store.db import SessionFactory, make_engine, make_session_factory
from notarium.adapters.store.serials import DatabaseSerialSource
from notarium.app.settings import Settings
from notarium.app.wiring.anchoring import build_anchors, build_test_anchors, external_tsa_roots
from notarium.app.wiring.certificate_pdf import build_certificate_pdfs
from notarium.app.wiring.l402 import build_l402
from notarium.app.wiring.lightning import build_lightning
from notarium.app.wiring.web_capture import build_links, build_webcaptures
from notarium.core.clock import Clock, SystemClock
from notarium.formats.signing import Ed25519RecordSigner
from notarium.ledger.accounts.jwt_auth import TokenPolicy
from notarium.ledger.accounts.service import AccountService
from notarium.ledger.anchoring.service import AnchoringService
from notarium.ledger.events import Fanout
from notarium.ledger.idempotency.service import IdempotencyService
from notarium.ledger.proofs import ProofService
from notarium.ledger.records.service import RecordService
from notarium.ledger.transparency_log import TransparencyLog
from notarium.ledger.tsa.authority import TimeStampAuthority
from notarium.ledger.tsa.file_signer import FileTokenSigner
from notarium.ledger.tsa.stamper import InProcessStamper
from notarium.notify.mail.smtp import SmtpMailer
from notarium.notify.webhooks.delivery import HttpxWebhookSender
from notarium.notify.webhooks.keys import load_or_create as load_or_create_webhook_key
from notarium.notify.webhooks.outbox import OutboxSink
from notarium.notify.webhooks.service import WebhookService
from notarium.products.certificate_pdf.service import CertificatePdfService
from notarium.products.l402.notifications import L402Notifier
from notarium.products.l402.service import L402Service
from notarium.products.pdf_seal.material import ensure_seal_material
from notarium.products.pdf_seal.service import SealService
from notarium.products.web_capture.downloads import CaptureDownloads
from notarium.products.web_capture.links import LinkSigner
from notarium.products.web_capture.service import WebCaptureService


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    clock: Clock
    engine: Engine
    sessions: SessionFactory
    keystore: KeyStore
    box: SecretBox
    tsa: TimeStampAuthority
    stamper: InProcessStamper
    record_signer: Ed25519RecordSigner
    accounts: AccountService
    records: RecordService
    idempotency: IdempotencyService
    proofs: ProofService
    anchoring: AnchoringService
    translog: TransparencyLog
    webhooks: WebhookService
    seal: SealService
    certificate_pdfs: CertificatePdfService
    webcaptures: WebCaptureService
    capture_downloads: CaptureDownloads
    links: LinkSigner
    lightning: LightningBackend
    l402: L402Service

    def close(self) -> None:
        self.webhooks.close()
        self.lightning.close()
        self.engine.dispose()


def build_runtime(settings: Settings, *, clock: Clock | None = None) -> Runtime:
    clock = clock or SystemClock()
    ensure_data_dir(settings.data_dir)
    keystore = KeyStore(settings.keys_dir, settings.organisation, clock=clock)
    keystore.ensure()
    engine = make_engine(settings.database())
    sessions = make_session_factory(engine)
    read_sessions = make_session_factory(engine, read_only=True)
    tsa_options = settings.tsa()
    tsa = TimeStampAuthority(
        FileTokenSigner.from_files(*keystore.tsa_key_paths()),
        policy_oid=tsa_options.policy_oid,
        accuracy_ms=tsa_options.accuracy_ms,
        clock=clock,
    )
    # One serial source for every token drawn outside a record's own transaction.
    stamper = InProcessStamper(tsa, DatabaseSerialSource(sessions, clock))
    record_signer = Ed25519RecordSigner(keystore.ed25519_private_key(), settings.effective_key_name)
    events = Fanout(
        [
            OutboxSink(clock),
            # L402 timestamps announce their status changes to their own webhook and e-mail.
            L402Notifier(
                clock, explorer_url=settings.l402_explorer_url, organisation=settings.organisation
            ),
        ]
    )
    records = RecordService(sessions, tsa, clock, read_sessions=read_sessions, events=events)
    translog = TransparencyLog(
        sessions,
        read_sessions,
        clock,
        Ed25519RecordSigner(keystore.ed25519_private_key(), settings.log_origin),
    )
    box = SecretBox(settings.keys_dir)
    webhooks = WebhookService(
        sessions,
        clock,
        box,
        HttpxWebhookSender(
            EgressPolicy(settings.egress_allowlist), timeout=settings.webhook_timeout
        ),
        settings.webhooks(),
        notify=SmtpMailer(settings.smtp_url).send if settings.smtp_url else None,
        signing_key=load_or_create_webhook_key(settings.keys_dir),
    )
    seal = SealService(
        ensure_seal_material(
            settings.keys_dir,
            organisation=settings.organisation,
            base_url=settings.base_url,
            clock=clock,
        ),
        settings.keys_dir,
        stamper,
        records,
        clock,
        settings.organisation,
    )
    proofs = ProofService(
        records,
        keystore.tsa_chain_pem(),
        record_signer,
        translog,
        external_tsa_roots=external_tsa_roots(settings) if settings.external_tsa_urls else (),
    )
    certificate_pdfs = build_certificate_pdfs(
        settings,
        clock=clock,
        keystore=keystore,
        records=records,
        proofs=proofs,
        log=translog,
        seal=seal,
    )
    webcaptures = build_webcaptures(
        settings,
        clock=clock,
        sessions=sessions,
        read_sessions=read_sessions,
        records=records,
        keystore=keystore,
        stamper=stamper,
        signer=record_signer,
    )
    lightning = build_lightning(settings, clock=clock)
    accounts = AccountService(
        sessions,
        clock,
        read_sessions=read_sessions,
        box=box,
        token_policy=TokenPolicy(
            max_lifetime=settings.jwt_max_lifetime, leeway=settings.jwt_leeway
        ),
    )
    return Runtime(
        settings=settings,
        clock=clock,
        engine=engine,
        sessions=sessions,
        keystore=keystore,
        box=box,
        tsa=tsa,
        stamper=stamper,
        record_signer=record_signer,
        accounts=accounts,
        records=records,
        idempotency=IdempotencyService(sessions, clock, settings.idempotency_lease_seconds),
        proofs=proofs,
        translog=translog,
        webhooks=webhooks,
        seal=seal,
        certificate_pdfs=certificate_pdfs,
        webcaptures=webcaptures,
        capture_downloads=CaptureDownloads(webcaptures, proofs, certificate_pdfs),
        links=build_links(settings, clock),
        lightning=lightning,
        anchoring=AnchoringService(
            sessions,
            clock,
            build_anchors(settings),
            settings.anchoring(),
            test_anchors=build_test_anchors(settings),
            events=events,
        ),
        l402=build_l402(
            settings,
            sessions=sessions,
            clock=clock,
            records=records,
            accounts=accounts,
            lightning=lightning,
            box=box,
        ),
    )
