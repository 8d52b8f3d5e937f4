"""The L402 service as the settings describe it, from the parts the runtime built."""

from __future__ import annotations

from pathlib import Path

from notarium.adapters.lightning.ports import LightningBackend
from notarium.adapters.pki.secretbox import SecretBox
from notarium.adapters.scanning.ports import MalwareScanner
from notarium.adapters.store.db import SessionFactory
from notarium.app.settings import Settings
from notarium.app.wiring.scanning import build_scanner
from notarium.core.clock import Clock
from notarium.ledger.accounts.service import AccountService
from notarium.ledger.anchoring.bitcoin_rpc import BitcoinRpc
from notarium.ledger.records.service import RecordService
from notarium.notify.mail.ports import Mailer
from notarium.notify.mail.smtp import SmtpMailer
from notarium.products.l402.bitcoin import ChainTip, NodeChainTip, NodeFeeRate, UnknownTip
from notarium.products.l402.files import FileIntake
from notarium.products.l402.notifications import MailOutbox
from notarium.products.l402.pricing import FeeRateSource, FixedFeeRate, PriceList, Pricer
from notarium.products.l402.service import L402Service

FILES_DIR = "l402-files"


def build_l402(
    settings: Settings,
    *,
    sessions: SessionFactory,
    clock: Clock,
    records: RecordService,
    accounts: AccountService,
    lightning: LightningBackend,
    box: SecretBox,
    mailer: Mailer | None = None,
    scanner: MalwareScanner | None = None,
    fee_rate: FeeRateSource | None = None,
    tip: ChainTip | None = None,
) -> L402Service:
    """The optional arguments replace what the settings would build (tests pass fakes)."""
    rpc = BitcoinRpc(settings.bitcoin_rpc_url) if settings.bitcoin_rpc_url else None
    if fee_rate is None:
        fee_rate = (
            NodeFeeRate(
                rpc,
                conf_target=settings.l402_fee_conf_target,
                fallback=settings.l402_fee_rate,
            )
            if rpc is not None
            else FixedFeeRate(settings.l402_fee_rate)
        )
    if tip is None:
        tip = NodeChainTip(rpc) if rpc is not None else UnknownTip()
    if mailer is None and settings.smtp_url:
        mailer = SmtpMailer(settings.smtp_url)
    store_dir: Path | None = settings.data_dir / FILES_DIR if settings.l402_store_files else None
    return L402Service(
        sessions,
        clock,
        records=records,
        accounts=accounts,
        lightning=lightning,
        box=box,
        pricer=Pricer(
            PriceList(
                organisation=settings.organisation,
                service_sats=settings.l402_service_fee_sats,
                file_sats=settings.l402_file_fee_sats,
                update_sats=settings.l402_update_fee_sats,
                vbytes=settings.l402_network_vbytes,
            ),
            fee_rate,
        ),
        intake=FileIntake(
            scanner if scanner is not None else build_scanner(settings),
            require_scan=settings.l402_require_scan,
            store_dir=store_dir,
        ),
        tip=tip,
        webhook_policy=settings.webhooks(),
        mail=MailOutbox(sessions, clock, mailer),
        config=settings.l402(),
        op_return_prefix=settings.bitcoin_op_return_prefix,
    )
