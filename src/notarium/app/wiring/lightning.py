"""The Lightning backend an operator configured, built from the settings."""

from __future__ import annotations

from pathlib import Path

from notarium.adapters.lightning.dev import DevLightningNode
from notarium.adapters.lightning.lnd_rest import LndConfigurationError, LndRestBackend
from notarium.adapters.lightning.ports import LightningBackend
from notarium.app.settings import Settings
from notarium.core.clock import Clock

DEV_STATE_DIR = "lightning-dev"


def build_lightning(settings: Settings, *, clock: Clock | None = None) -> LightningBackend:
    """Nothing is contacted here: LND is first reached by the first call."""
    if settings.lightning_backend == "lnd":
        return build_lnd(settings)
    return build_dev_node(settings, clock=clock)


def dev_state_dir(settings: Settings) -> Path:
    return settings.data_dir / DEV_STATE_DIR


def build_dev_node(settings: Settings, *, clock: Clock | None = None) -> DevLightningNode:
    return DevLightningNode(
        settings.keys_dir,
        dev_state_dir(settings),
        currency=settings.lightning_dev_currency,
        clock=clock,
    )


def build_lnd(settings: Settings) -> LndRestBackend:
    if not settings.lnd_rest_url:
        raise LndConfigurationError(
            "NOTARIUM_LIGHTNING_BACKEND=lnd needs NOTARIUM_LND_REST_URL "
            "(for example https://127.0.0.1:8080)"
        )
    return LndRestBackend.from_files(
        settings.lnd_rest_url,
        macaroon_path=settings.lnd_macaroon_path,
        tls_cert_path=settings.lnd_tls_cert_path,
        timeout=settings.lnd_timeout,
    )
