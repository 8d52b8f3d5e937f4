"""The L402 service as the settings describe it, from a runtime's parts."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from notarium.adapters.lightning.ports import LightningBackend
from notarium.adapters.pki.secretbox import SecretBox
from notarium.adapters.scanning.ports import MalwareScanner
from notarium.app.runtime import Runtime
from notarium.app.wiring.scanning import build_scanner
from notarium.core.clock import Clock
from notarium.formats.uploads.check import check_upload
from notarium.ledger.anchoring.bitcoin_rpc import BitcoinRpc
from notarium.notify.mail.ports import Mailer
from notarium.notify.mail.smtp import SmtpMailer
from notarium.notify.webhooks.service import WebhookPolicy
from notarium.products.l402.bitcoin import ChainTip, NodeChainTip, NodeFeeRate, UnknownTip
from notarium.products.l402.files import FileIntake, FileTypeCheck
from notarium.products.l402.notifications import MailOutbox
from notarium.products.l402.pricing import FeeRateSource, FixedFeeRate, PriceList, Pricer
from notarium.products.l402.service import L402Config, L402Service

FILES_DIR = "l402-files"


def check_file_type(data: bytes, filename: str) -> str:
    return check_upload(data, filename).mime


def build_l402(
    runtime: Runtime,
    *,
    mailer: Mailer | None = None,
    scanner: MalwareScanner | None = None,
    check_type: FileTypeCheck = check_file_type,
    fee_rate: FeeRateSource | None = None,
    tip: ChainTip | None = None,
    lightning: LightningBackend | None = None,
    clock: Clock | None = None,
) -> L402Service:
    """Keyword arguments replace what the settings would build (tests pass fakes)."""
    settings = runtime.settings
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
    clock = clock or runtime.clock
    store_dir: Path | None = settings.data_dir / FILES_DIR if settings.l402_store_files else None
    return L402Service(
        runtime.sessions,
        clock,
        records=runtime.records,
        accounts=runtime.accounts,
        lightning=lightning or runtime.lightning,
        box=SecretBox(settings.keys_dir),
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
            check_type,
            scanner if scanner is not None else build_scanner(settings),
            require_scan=settings.l402_require_scan,
            store_dir=store_dir,
        ),
        tip=tip,
        webhook_policy=WebhookPolicy(
            timeout=settings.webhook_timeout,
            disable_after=settings.webhook_disable_after,
            https_only_live=settings.webhook_https_only,
        ),
        mail=MailOutbox(runtime.sessions, clock, mailer),
        config=L402Config(
            service=settings.l402_service_name,
            location=urlsplit(settings.base_url).netloc or settings.l402_service_name,
            account_name=settings.l402_account,
            organisation=settings.organisation,
            invoice_expiry=settings.l402_invoice_expiry,
            token_lifetime=settings.l402_token_lifetime,
            check_settlement=settings.l402_check_settlement,
            explorer_url=settings.l402_explorer_url,
        ),
        op_return_prefix=settings.bitcoin_op_return_prefix,
    )
