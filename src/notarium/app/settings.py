"""Configuration from ``NOTARIUM_*`` environment variables, built once and passed down."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# The slices' types are imported when a slice is taken: reading the settings must not load
# the database layer or the browser engine.
if TYPE_CHECKING:
    from notarium.adapters.store.db import DatabaseOptions
    from notarium.ledger.anchoring.policy import AnchorPolicy
    from notarium.ledger.tsa.stamper import TsaOptions
    from notarium.notify.webhooks.service import WebhookPolicy
    from notarium.products.l402.service import L402Config
    from notarium.products.web_capture.browser.options import CaptureOptions, PoolOptions

PUBLIC_CALENDARS = (
    "https://a.pool.opentimestamps.org",
    "https://b.pool.opentimestamps.org",
    "https://a.pool.eternitywall.com",
    "https://ots.btc.catallaxy.com",
)
# A web origin as browsers send it (no path, no trailing slash), or * for any.
_ORIGIN = re.compile(
    r"\*|https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?"
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NOTARIUM_", extra="ignore")

    data_dir: Path = Path("./var")
    database_url: str | None = None
    redis_url: str | None = None
    base_url: str = "http://127.0.0.1:8000"
    batch_interval: float = 60.0
    egress_allowlist: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Anchoring. The public OpenTimestamps calendars by default; an empty list disables
    # them. With no anchor configured at all, records stay `pending`.
    ots_calendars: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(PUBLIC_CALENDARS)
    )
    ots_min_calendars: int = 2
    ots_upgrade_interval: float = 600.0
    bitcoin_rpc_url: str | None = None
    bitcoin_op_return_prefix: str = "NTRM"
    bitcoin_confirmations: int = 1
    external_tsa_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    external_tsa_trust: Path | None = None
    external_tsa_mode: Literal["batch", "record"] = "batch"
    # Test-mode records: anchored to these calendars if any, else to the built-in
    # simulated anchor (unless it is switched off, when they stay pending).
    test_ots_calendars: Annotated[list[str], NoDecode] = Field(default_factory=list)
    test_simulated_anchor: bool = True

    webhook_timeout: float = 15.0
    webhook_disable_after: int = 50
    # Live-mode webhook URLs must be https; operators testing against local receivers
    # switch this off together with NOTARIUM_EGRESS_ALLOWLIST.
    webhook_https_only: bool = True
    smtp_url: str | None = None
    jwt_max_lifetime: int = 3600
    jwt_leeway: int = 30
    anchor_retry_limit: int = 12
    anchor_retry_base: float = 5.0
    anchor_retry_max: float = 3600.0
    anchor_lease_seconds: float = 120.0
    max_batch_size: int = 100_000
    embedded_workers: bool = True
    worker_poll_interval: float = 1.0

    # Web captures: a warm pool of system Chromium browsers, one capture per slot at a
    # time. NOTARIUM_EGRESS_ALLOWLIST also admits plain-http capture URLs on its hosts.
    capture_slots: int = 2
    capture_queue_timeout: float = 30.0
    capture_timeout: float = 60.0
    capture_viewport_width: int = 1280
    capture_viewport_height: int = 800
    capture_user_agent: str | None = None
    capture_locale: str = "en-US"
    capture_challenge_wait: float = 5.0
    capture_assisted_ttl: float = 600.0
    capture_chromium_path: Path = Path("/usr/bin/chromium")
    # Seconds a pre-signed certificate or evidence download link stays valid.
    download_link_lifetime: int = 600

    # Uploads. `unix:///run/clamav/clamd.ctl` or `tcp://127.0.0.1:3310`; unset, uploads
    # are not scanned (the scanner's name says so).
    clamd_address: str | None = None
    clamd_timeout: float = 30.0
    upload_max_bytes: int = 10 * 1024 * 1024

    # A UUID-derived OID (X.667) so no registered arc is borrowed; operators set their own.
    tsa_policy_oid: str = "2.25.40862002418761283865128035908318153351"
    tsa_accuracy_ms: int = 1000
    organisation: str = "notarium"
    # Name of the Ed25519 key in signed notes and proof bundles; defaults to the host of
    # the base URL, which is what a verifier would recognise the operator by.
    key_name: str | None = None
    http_workers: int = 1
    redis_prefix: str = "notarium"

    # Reverse proxies (addresses or CIDR networks) whose X-Forwarded-For is believed for
    # per-IP limits. Empty: the socket peer is the client, whatever headers it sends.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)

    admin_key: str | None = None
    max_body_bytes: int = 64 * 1024
    # Origins whose web pages may call the API (CORS); empty: no CORS headers at all.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    cors_max_age: int = Field(default=600, ge=0, le=86_400)
    rate_limits_enabled: bool = True
    idempotency_lease_seconds: int = 60
    sqlite_synchronous: str = "FULL"

    # Pay-per-request timestamps over L402 (POST /api/l402). A timestamp costs the service
    # fee plus a network fee: the fee rate (sat/vB; the Bitcoin node's estimatesmartfee
    # when NOTARIUM_BITCOIN_RPC_URL is set) times the vbytes charged per request, rounded
    # up to hundreds of sats; file mode adds the file fee.
    l402_service_name: str = "notarium"
    l402_account: str = "l402"
    l402_service_fee_sats: int = 20_000
    l402_file_fee_sats: int = 5_000
    l402_update_fee_sats: int = 10
    l402_fee_rate: float = 15.0
    l402_fee_conf_target: int = 6
    l402_network_vbytes: int = 333
    l402_invoice_expiry: int = 600
    l402_token_lifetime: int = 86_400
    l402_check_settlement: bool = True
    l402_require_scan: bool = True
    l402_store_files: bool = False
    l402_explorer_url: str = "https://mempool.space/tx/"

    # Lightning (L402 payments). `dev`: the built-in single-machine development node,
    # settled with `notarium dev pay`; `lnd`: an LND node over its REST API.
    lightning_backend: Literal["dev", "lnd"] = "dev"
    # BOLT11 currency of the development node's invoices (`bcrt`: regtest, `lnbcrt...`).
    lightning_dev_currency: Literal["bcrt", "tb", "tbs", "bc"] = "bcrt"
    lnd_rest_url: str | None = None
    lnd_macaroon_path: Path | None = None
    lnd_tls_cert_path: Path | None = None
    lnd_timeout: float = 10.0

    @field_validator(
        "egress_allowlist",
        "ots_calendars",
        "external_tsa_urls",
        "test_ots_calendars",
        "trusted_proxies",
        mode="before",
    )
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        import ipaddress

        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or CIDR network") from None
        return value

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list):
            origins = [o.rstrip("/") if isinstance(o, str) else o for o in value]
            for origin in origins:
                if not isinstance(origin, str) or not _ORIGIN.fullmatch(origin):
                    raise ValueError(
                        f"{origin!r} is not an origin: scheme://host[:port], or * for any"
                    )
            return origins
        return value

    @field_validator("organisation")
    @classmethod
    def _fits_a_certificate(cls, value: str) -> str:
        # It becomes the O attribute of the CA, TSA and seal certificates, which X.509
        # bounds at 64 (UTF-8 bytes, as cryptography counts them).
        if not value.strip() or len(value.encode()) > 64:
            raise ValueError("organisation must be 1 to 64 bytes of UTF-8 text")
        return value

    @property
    def effective_key_name(self) -> str:
        if self.key_name:
            return self.key_name
        from urllib.parse import urlsplit

        return urlsplit(self.base_url).netloc or "notarium"

    @property
    def log_origin(self) -> str:
        """The transparency log's C2SP origin line: the operator's host and a path."""
        return f"{self.effective_key_name}/log"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'notarium.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    # -- slices: each domain is handed its own part of the catalogue ------------------

    def database(self) -> DatabaseOptions:
        from notarium.adapters.store.db import DatabaseOptions

        return DatabaseOptions(
            url=self.effective_database_url,
            data_dir=self.data_dir,
            sqlite_synchronous=self.sqlite_synchronous,
        )

    def capture(self) -> CaptureOptions:
        from notarium.products.web_capture.browser.options import CaptureOptions

        return CaptureOptions(
            timeout=self.capture_timeout,
            viewport=(self.capture_viewport_width, self.capture_viewport_height),
            user_agent=self.capture_user_agent,
            locale=self.capture_locale,
            challenge_wait=self.capture_challenge_wait,
            assisted_ttl=self.capture_assisted_ttl,
        )

    def capture_pool(self) -> PoolOptions:
        from notarium.products.web_capture.browser.options import PoolOptions

        return PoolOptions(
            slots=self.capture_slots,
            queue_timeout=self.capture_queue_timeout,
            executable_path=self.capture_chromium_path,
        )

    def anchoring(self) -> AnchorPolicy:
        from notarium.ledger.anchoring.policy import AnchorPolicy

        return AnchorPolicy(
            batch_interval=self.batch_interval,
            upgrade_interval=self.ots_upgrade_interval,
            retry_limit=self.anchor_retry_limit,
            retry_base=self.anchor_retry_base,
            retry_max=self.anchor_retry_max,
            lease_seconds=self.anchor_lease_seconds,
            min_calendars=self.ots_min_calendars,
            max_batch_size=self.max_batch_size,
            per_record_kinds=frozenset({"rfc3161"} if self.external_tsa_mode == "record" else ()),
        )

    def webhooks(self) -> WebhookPolicy:
        from notarium.notify.webhooks.service import WebhookPolicy

        return WebhookPolicy(
            timeout=self.webhook_timeout,
            disable_after=self.webhook_disable_after,
            https_only_live=self.webhook_https_only,
        )

    def tsa(self) -> TsaOptions:
        from notarium.ledger.tsa.stamper import TsaOptions

        return TsaOptions(policy_oid=self.tsa_policy_oid, accuracy_ms=self.tsa_accuracy_ms)

    def l402(self) -> L402Config:
        from urllib.parse import urlsplit

        from notarium.products.l402.service import L402Config

        return L402Config(
            service=self.l402_service_name,
            location=urlsplit(self.base_url).netloc or self.l402_service_name,
            account_name=self.l402_account,
            organisation=self.organisation,
            invoice_expiry=self.l402_invoice_expiry,
            token_lifetime=self.l402_token_lifetime,
            check_settlement=self.l402_check_settlement,
            explorer_url=self.l402_explorer_url,
        )
